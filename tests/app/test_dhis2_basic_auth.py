"""DHIS2 scripts send Basic credentials with every request: checked once, then trusted for a while,
never after the password changed or the account was deactivated."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from mel.accounts.models import SignInAttempt
from mel.accounts.operations import create_user, set_password
from mel.dhis2 import auth

EMAIL = "script.opct@example.test"
PASSWORD = "a long script passphrase 7319"


def _basic(password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{EMAIL}:{password}".encode()).decode()}


def _attempts(session) -> int:
    return session.scalar(select(func.count()).select_from(SignInAttempt))


@pytest.fixture
def script_user(session, monkeypatch):
    monkeypatch.setattr(auth, "_verified", {})
    user = create_user(session, EMAIL, "officer", name="KHIS script", password=PASSWORD,
                       programme_codes=["OPCT"], org_unit_codes=["042"])
    session.flush()
    return user


def test_credentials_are_checked_once_then_trusted(client, session, script_user):
    before = _attempts(session)
    for _ in range(4):
        answer = client.get("/api/me.json?fields=username,organisationUnits[code]", headers=_basic(PASSWORD))
        assert answer.status_code == 200, answer.json
        assert answer.json["username"] == EMAIL and answer.json["organisationUnits"] == [{"code": "042"}]
    assert _attempts(session) == before + 1  # one password check and one sign-in recorded, not four


def test_a_wrong_password_is_never_trusted(client, session, script_user):
    assert client.get("/api/me", headers=_basic(PASSWORD)).status_code == 200
    before = _attempts(session)
    answer = client.get("/api/me", headers=_basic(PASSWORD + "x"))
    assert answer.status_code == 401 and answer.json["httpStatus"] == "Unauthorized"
    assert _attempts(session) == before + 1  # the failure is recorded and counts for throttling


def test_a_changed_password_ends_the_trust(client, session, script_user):
    assert client.get("/api/me", headers=_basic(PASSWORD)).status_code == 200
    set_password(session, script_user, "another long passphrase 8841")
    session.flush()
    assert client.get("/api/me", headers=_basic(PASSWORD)).status_code == 401
    assert client.get("/api/me", headers=_basic("another long passphrase 8841")).status_code == 200


def test_a_deactivated_account_is_refused_at_once(client, session, script_user):
    assert client.get("/api/me", headers=_basic(PASSWORD)).status_code == 200
    script_user.is_active = False
    session.flush()
    assert client.get("/api/me", headers=_basic(PASSWORD)).status_code == 401


def test_the_trust_runs_out(client, session, script_user):
    assert client.get("/api/me", headers=_basic(PASSWORD)).status_code == 200
    before = _attempts(session)
    for key, (user_id, password_hash, _until) in list(auth._verified.items()):
        auth._verified[key] = (user_id, password_hash, 0.0)  # VERIFIED_SECONDS have passed
    assert client.get("/api/me", headers=_basic(PASSWORD)).status_code == 200
    assert _attempts(session) == before + 1  # checked again
