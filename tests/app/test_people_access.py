"""The secretariat deactivates, reactivates and signs people out; each with its effect and its audit row."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from mel.accounts.models import AuditEvent, User
from mel.accounts.operations import create_token, create_user
from tests.helpers import csrf_token, login

PASSWORD = "a long officer passphrase 5521"
EMAIL = "leaving.officer@example.test"


@pytest.fixture
def officer(session):
    user = create_user(session, EMAIL, "officer", name="Leaving Officer", password=PASSWORD,
                       programme_codes=["OPCT"], org_unit_codes=["042"])
    session.flush()
    return user


def _audit(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object == EMAIL)))


def _post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/users"), **data})


def test_deactivation_needs_a_reason_then_ends_every_way_in(app, client, session, officer):
    token = create_token(session, EMAIL).token
    session.flush()
    theirs = app.test_client()
    assert login(theirs, EMAIL, PASSWORD).status_code == 302
    assert theirs.get("/account").status_code == 200
    login(client, "secretariat@demo.test")
    refused = _post(client, f"/admin/users/{officer.id}/deactivate", reason="  ")
    assert refused.status_code == 302 and session.get(User, officer.id).is_active
    assert "Say why" in client.get("/admin/users").get_data(as_text=True)
    assert _post(client, f"/admin/users/{officer.id}/deactivate", reason="Left the programme").status_code == 302
    session.refresh(officer)
    assert not officer.is_active
    (event,) = _audit(session, "user.deactivated")
    assert event.details == {"reason": "Left the programme", "sessions_ended": 1}
    assert event.actor == "secretariat@demo.test"
    # Their open session, their API token, their password and DHIS2 Basic auth all stop working.
    assert theirs.get("/account").status_code == 302
    assert client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    basic = base64.b64encode(f"{EMAIL}:{PASSWORD}".encode()).decode()
    assert client.get("/api/me", headers={"Authorization": f"Basic {basic}"}).status_code == 401
    assert login(app.test_client(), EMAIL, PASSWORD).status_code == 401
    # Reactivated: the password works again.
    assert _post(client, f"/admin/users/{officer.id}/reactivate", reason="Back on the programme").status_code == 302
    session.refresh(officer)
    assert officer.is_active and _audit(session, "user.reactivated")
    assert login(app.test_client(), EMAIL, PASSWORD).status_code == 302


def test_no_one_deactivates_their_own_account(client, session):
    login(client, "secretariat@demo.test")
    me = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    _post(client, f"/admin/users/{me.id}/deactivate", reason="Oops")
    session.refresh(me)
    assert me.is_active
    assert "cannot deactivate your own account" in client.get("/admin/users").get_data(as_text=True)


def test_sign_out_everywhere_ends_sessions_but_keeps_the_account(app, client, session, officer):
    phones = [app.test_client() for _ in range(2)]
    for phone in phones:
        assert login(phone, EMAIL, PASSWORD).status_code == 302
    login(client, "secretariat@demo.test")
    answer = _post(client, f"/admin/users/{officer.id}/sign-out")
    assert answer.status_code == 302
    assert "signed out of 2 sessions" in client.get("/admin/users").get_data(as_text=True)
    assert all(phone.get("/account").status_code == 302 for phone in phones)
    session.refresh(officer)
    assert officer.is_active and _audit(session, "user.signed_out")
    assert login(app.test_client(), EMAIL, PASSWORD).status_code == 302


@pytest.mark.parametrize("email", ["reviewer@demo.test", "viewer@demo.test", "officer.opct@demo.test"])
def test_only_the_secretariat_manages_access(client, session, officer, email):
    login(client, email)
    for action in ("deactivate", "reactivate", "sign-out"):
        answer = client.post(f"/admin/users/{officer.id}/{action}",
                             data={"csrf_token": csrf_token(client, "/account"), "reason": "Not mine to do."})
        assert answer.status_code == 403, action
    session.refresh(officer)
    assert officer.is_active
