"""The API answers as HTTP says: 401 without credentials, `Allow` on 405, no 500 on a NUL
character or a number too large for the database, and nothing authenticated kept by a cache."""

from __future__ import annotations

import pytest

from mel.accounts.operations import create_token
from tests.helpers import csrf_token, login

WRITES = [
    ("put", "/api/v1/returns/OPCT/042/2025Q3"),
    ("post", "/api/v1/returns/OPCT/042/2025Q3/submit"),
    ("post", "/api/v1/returns:import"),
    ("post", "/api/v1/reports"),
    ("put", "/api/v1/plans/sector/2025July"),
]


@pytest.fixture
def token(session):
    return {"Authorization": f"Bearer {create_token(session, 'secretariat@demo.test').token}"}


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_write_without_credentials_is_401_not_a_csrf_failure(client, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401 and response.is_json, response.get_data(as_text=True)[:300]
    assert response.json["error"] == "unauthorized" and "API token" in response.json["message"]


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_write_with_a_cookie_but_no_sign_in_is_401(client, method, path):
    # The sign-in page leaves a session cookie (its CSRF token) behind; nobody is signed in.
    assert client.get("/login").status_code == 200
    assert any(cookie.key == "session" for cookie in client._cookies.values())
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_a_write_from_a_signed_in_browser_still_needs_its_csrf_token(client, session):
    login(client, "secretariat@demo.test")
    response = client.post("/api/v1/reports", json={})
    assert response.status_code == 400 and response.json["error"] == "csrf_failed"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("delete", "/api/v1/indicators", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("post", "/api/v1/indicators/SA01", {"GET", "HEAD", "OPTIONS", "PUT"}),
    ("put", "/login", {"GET", "HEAD", "OPTIONS", "POST"}),
])
def test_405_names_the_methods_allowed(client, token, method, path, allowed):
    response = getattr(client, method)(path, headers=token)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


@pytest.mark.parametrize("path", [
    "/api/v1/indicators?q=a%00b", "/api/v1/org-units?q=%00", "/api/v1/results?indicator=SA01%00&period=2025Q2",
    "/api/v1/review-queue?period=2025Q2&programme=OP%00CT", "/api/v1/indicators/SA%0001",
])
def test_a_nul_character_in_an_address_is_refused_by_name(client, token, path):
    response = client.get(path, headers=token)
    assert response.status_code == 422 and "NUL character" in response.json["message"]


def test_a_nul_character_in_a_body_or_a_form_is_refused_by_name(client, session, token):
    put = client.put("/api/v1/returns/OPCT/042/2025Q3", headers=token,
                     data='{"version": 0, "narrative": "a\\u0000b", "values": []}', content_type="application/json")
    assert put.status_code == 422 and "NUL character" in put.json["message"]
    page = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "email": "a\x00@demo.test",
                                       "password": "x"})
    assert page.status_code == 422 and "NUL character" in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/reports/99999999999999999999", "/api/v1/reports/9223372036854775808",
                                  "/api/v1/plans/sector/2025July/versions/99999999999999999999"])
def test_a_number_too_large_for_the_database_is_not_a_server_error(client, token, path):
    response = client.get(path, headers=token)
    assert response.status_code in (404, 422) and response.is_json


def test_a_version_too_large_for_the_database_is_refused(client, token):
    response = client.put("/api/v1/returns/OPCT/042/2025Q3", headers=token,
                          json={"version": 10**30, "values": []})
    assert response.status_code == 422 and response.is_json


def test_authenticated_answers_are_never_cached(client, session, token):
    assert client.get("/api/v1/indicators", headers=token).headers["Cache-Control"] == "no-store"
    login(client, "viewer@demo.test")
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"
    assert client.get("/static/css/mel.css").headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("period", ["1900Q3", "1900July", "2999Q4", "2999"])
def test_a_period_at_the_edge_of_the_calendar_is_refused_by_name_not_a_server_error(client, token, period):
    for path in (f"/api/v1/results?period={period}", f"/api/v1/review-queue?period={period}",
                 f"/api/v1/returns/OPCT/042/{period}"):
        response = client.get(path, headers=token)
        assert response.status_code in (404, 422) and response.is_json, (path, response.status_code)
        if response.status_code == 422:
            assert period in response.json["message"] or "period" in response.json["message"]
