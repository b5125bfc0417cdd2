"""Sign-in, sessions held on the server, throttling, CSRF, roles and API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from mel.accounts import operations
from mel.accounts.models import ApiToken, LoginSession, SignInAttempt, User
from mel.db import utcnow
from mel.errors import ValidationFailed
from tests.helpers import csrf_token, login


def test_passwords_are_stored_hashed(session):
    user = session.scalar(select(User).where(User.email == "reviewer@demo.test"))
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert "demo-password" not in user.password_hash


def test_sign_in_lands_on_the_role_home_page(client):
    response = login(client, "secretariat@demo.test")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Secretariat" in page and "Catalogue" in page


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client):
    response = login(client, "secretariat@demo.test", "not the password")
    assert response.status_code == 401
    assert "e-mail or password is not correct" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_account_gets_the_same_message(client):
    response = login(client, "nobody@demo.test", "whatever-password")
    assert response.status_code == 401
    assert "e-mail or password is not correct" in response.get_data(as_text=True)


def test_five_failures_slow_the_account_down_for_seconds_not_lock_it(client, session):
    """No lockout: after five failures the next check waits the back-off (2 s), then the owner gets in."""
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(5):
            assert login(client, "viewer@demo.test", "wrong-password-123").status_code == 401
        refused = login(client, "viewer@demo.test")
        assert refused.status_code == 401
        assert "e-mail or password is not correct" in refused.get_data(as_text=True)
        clock.shift(timedelta(seconds=2.5))
        assert login(client, "viewer@demo.test").status_code == 302
    outcomes = session.scalars(
        select(SignInAttempt.outcome).where(SignInAttempt.email == "viewer@demo.test").order_by(SignInAttempt.id)
    ).all()
    assert outcomes == ["failure"] * 5 + ["throttled", "success"]


def test_sign_out_revokes_the_session_on_the_server(client, session):
    login(client, "reviewer@demo.test")
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session")
    token = csrf_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    # Replaying the old cookie must not bring the session back.
    client.set_cookie("session", cookie.value)
    assert client.get("/").status_code == 302
    record = session.scalars(select(LoginSession).order_by(LoginSession.id.desc())).first()
    assert record.revoked_at is not None


def test_idle_sessions_expire(client, session):
    login(client, "reviewer@demo.test")
    record = session.scalars(select(LoginSession).order_by(LoginSession.id.desc())).first()
    record.last_seen_at = utcnow() - timedelta(minutes=31)
    session.flush()
    assert client.get("/").status_code == 302


def test_forms_without_a_csrf_token_are_refused(client):
    response = client.post("/login", data={"email": "reviewer@demo.test", "password": "x"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_next_parameter_cannot_redirect_off_site(client):
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "reviewer@demo.test", "password": "demo-password-2025", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_next_parameter_keeps_a_local_path(client):
    token = csrf_token(client)
    response = client.post(
        "/login?next=/indicators",
        data={"email": "reviewer@demo.test", "password": "demo-password-2025", "csrf_token": token},
    )
    assert response.headers["Location"] == "/indicators"


def test_security_headers_are_set(client):
    response = client.get("/login")
    assert "object-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_officers_need_a_scope_and_passwords_a_length(session):
    with pytest.raises(ValidationFailed, match="officer needs"):
        operations.create_user(session, "a@b.test", "officer", password="long-enough-password")
    with pytest.raises(ValidationFailed, match="at least 12"):
        operations.create_user(session, "a@b.test", "viewer", password="short")
    with pytest.raises(ValidationFailed, match="Unknown programme"):
        operations.create_user(session, "a@b.test", "officer", password="long-enough-password",
                               programme_codes=["NOPE"], org_unit_codes=["042"])
    with pytest.raises(ValidationFailed, match="already exists"):
        operations.create_user(session, "Reviewer@demo.test", "viewer", password="long-enough-password")


def test_api_tokens_are_stored_hashed_and_can_be_revoked(client, session):
    issued = operations.create_token(session, "viewer@demo.test", name="test")
    record = session.get(ApiToken, issued.record.id)
    assert issued.token.startswith("mel_") and issued.token not in record.token_hash
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get("/api/v1/programmes", headers=headers).status_code == 200
    operations.revoke_token(session, record.id)
    response = client.get("/api/v1/programmes", headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_expired_tokens_are_refused(client, session):
    issued = operations.create_token(session, "viewer@demo.test", days=1)
    issued.record.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    response = client.get("/api/v1/programmes", headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 401


def test_a_request_with_an_authorization_header_ignores_the_session_cookie(client):
    login(client, "secretariat@demo.test")
    assert client.get("/api/v1/programmes").status_code == 200  # the browser session works
    response = client.get("/api/v1/programmes", headers={"Authorization": "Bearer mel_forged"})
    assert response.status_code == 401
