"""The secretariat changes a person's role and scope (web and /api/v1/users): with a reason, audited
before and after, effective at the person's next request, and never leaving the service without a
secretariat. The API also lists, invites, deactivates and reactivates."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from mel.accounts import self_service
from mel.accounts.models import AuditEvent, User
from mel.accounts.operations import create_token, create_user
from mel.errors import Conflict
from tests.helpers import csrf_token, login

PASSWORD = "a long officer passphrase 7731"
EMAIL = "moving.officer@example.test"


@pytest.fixture
def officer(session):
    user = create_user(session, EMAIL, "officer", name="Moving Officer", password=PASSWORD,
                       programme_codes=["OPCT"], org_unit_codes=["042"])
    session.flush()
    return user


def bearer(session, email: str = "secretariat@demo.test") -> dict:
    return {"Authorization": f"Bearer {create_token(session, email).token}"}


def change(client, user_id: int, **fields):
    path = f"/admin/users/{user_id}/access"
    data = {"csrf_token": csrf_token(client, path), **fields}
    return client.post(path, data=data)


def changes(session, email: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "user.role_changed",
                                                         AuditEvent.object == email).order_by(AuditEvent.id)))


def test_the_form_shows_the_current_access(client, session, officer):
    login(client, "secretariat@demo.test")
    page = client.get(f"/admin/users/{officer.id}/access").get_data(as_text=True)
    assert "Role and scope of Moving Officer" in page
    assert '<option selected value="OPCT">' in page and '<option selected value="042">' in page


def test_a_scope_change_is_audited_and_takes_effect_at_the_next_request(app, client, session, officer):
    theirs = app.test_client()
    assert login(theirs, EMAIL, PASSWORD).status_code == 302
    kisumu, nairobi = "/returns/OPCT/042/2025Q2", "/returns/OPCT/047/2025Q2"
    assert theirs.get(kisumu).status_code == 200 and theirs.get(nairobi).status_code in (403, 404)
    login(client, "secretariat@demo.test")
    done = change(client, officer.id, name="Moving Officer", role="officer", agency="SDSPSCA",
                  programmes=["OPCT"], org_units=["047"], reason="Moved to the Nairobi office")
    assert done.status_code == 302
    (event,) = changes(session, EMAIL)
    assert event.actor == "secretariat@demo.test" and event.details["reason"] == "Moved to the Nairobi office"
    assert event.details["before"]["org_units"] == ["042"] and event.details["after"]["org_units"] == ["047"]
    assert event.details["after"]["agency"] == "SDSPSCA"
    # The same session, next request: the new scope.
    assert theirs.get(nairobi).status_code == 200 and theirs.get(kisumu).status_code in (403, 404)


@pytest.mark.parametrize(("fields", "says"), [
    ({"role": "officer", "programmes": [], "org_units": ["042"]}, "an officer needs at least one programme"),
    ({"role": "officer", "programmes": ["OPCT"], "org_units": []}, "an officer needs at least one programme"),
    ({"role": "officer", "programmes": ["NOPE"], "org_units": ["042"]}, "valid choice"),
    ({"role": "boss", "programmes": ["OPCT"], "org_units": ["042"]}, "valid choice"),
    ({"role": "officer", "programmes": ["OPCT"], "org_units": ["042"], "reason": " "}, "Say why"),
    ({"role": "officer", "programmes": ["OPCT"], "org_units": ["042"]}, "Nothing changes"),
])
def test_refusals_name_what_is_wrong_and_change_nothing(client, session, officer, fields, says):
    login(client, "secretariat@demo.test")
    refused = change(client, officer.id, **{"name": "Moving Officer", "reason": "Because.", **fields})
    assert refused.status_code == 422 and says in refused.get_data(as_text=True)
    session.expire_all()
    user = session.get(User, officer.id)
    assert user.role == "officer" and changes(session, EMAIL) == []


def test_no_one_changes_their_own_role_and_the_last_secretariat_stays(client, session):
    boss = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    login(client, "secretariat@demo.test")
    own = change(client, boss.id, name=boss.name, role="viewer", reason="Testing.")
    assert own.status_code == 422 and "your own role" in own.get_data(as_text=True)
    other = create_user(session, "deputy@example.test", "secretariat", name="Deputy", password=PASSWORD)
    session.flush()
    # With two secretariat members, the other can be made a reviewer; then the last one cannot be.
    assert change(client, other.id, name="Deputy", role="reviewer", reason="Joins the TWG.").status_code == 302
    # Every other secretariat account deactivated: the demo secretariat is the only active one.
    session.execute(User.__table__.update().where(User.email.notin_(["secretariat@demo.test"]),
                                                  User.role == "secretariat").values(is_active=False))
    with pytest.raises(Conflict, match="last active member of the secretariat"):
        self_service.change_access(session, boss.id, actor=None, reason="Leaving.", role="viewer")


def test_only_the_secretariat_changes_access(client, session, officer):
    for email in ("reviewer@demo.test", "viewer@demo.test", "officer.opct@demo.test"):
        login(client, email)
        assert client.get(f"/admin/users/{officer.id}/access").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})


# --------------------------------------------------------------------------- /api/v1/users


def test_the_api_lists_invites_changes_and_deactivates(client, session, officer):
    headers = bearer(session)
    listed = client.get("/api/v1/users", headers=headers)
    assert listed.status_code == 200
    mine = next(u for u in listed.get_json() if u["email"] == EMAIL)
    assert mine["programmes"] == ["OPCT"] and mine["org_units"] == ["042"] and mine["state"] == "active"

    invited = client.post("/api/v1/users", headers=headers, json={
        "email": "New.Viewer@Example.test", "name": "New Viewer", "role": "viewer"})
    assert invited.status_code == 201 and invited.get_json()["state"] == "invited"
    assert invited.headers["Location"].endswith(f"/api/v1/users/{invited.get_json()['id']}")
    again = client.post("/api/v1/users", headers=headers, json={
        "email": "new.viewer@example.test", "name": "New Viewer", "role": "viewer"})
    assert again.status_code == 422 and "already exists" in again.get_json()["message"]

    moved = client.patch(f"/api/v1/users/{officer.id}", headers=headers,
                         json={"reason": "Covers two counties", "org_units": ["042", "Nairobi"]})
    assert moved.status_code == 200 and moved.get_json()["org_units"] == ["042", "047"]
    promoted = client.patch(f"/api/v1/users/{officer.id}", headers=headers,
                            json={"reason": "Joins the TWG", "role": "reviewer", "programmes": [], "org_units": []})
    assert promoted.status_code == 200 and promoted.get_json()["role"] == "reviewer"
    off = client.patch(f"/api/v1/users/{officer.id}", headers=headers, json={"reason": "Left", "active": False})
    assert off.status_code == 200 and off.get_json()["state"] == "deactivated"
    assert [e.details["after"]["role"] for e in changes(session, EMAIL)] == ["officer", "reviewer"]


@pytest.mark.parametrize("body", [
    {}, {"reason": "x"}, {"role": "officer"}, {"reason": "", "role": "viewer"}, {"reason": "x", "role": "king"},
    {"reason": "x", "programmes": "OPCT"}, {"reason": "x", "active": "maybe"}, {"reason": "x", "org_units": ["Atlantis"]},
    {"reason": "x", "programmes": ["NOPE"]}, [], "text", {"reason": "x" * 501, "role": "viewer"},
])
def test_malformed_changes_are_refused_with_the_field(client, session, officer, body):
    answer = client.patch(f"/api/v1/users/{officer.id}", headers=bearer(session), json=body)
    assert answer.status_code in (400, 404, 422), answer.get_data(as_text=True)
    assert answer.get_json()["message"]
    session.expire_all()
    assert session.get(User, officer.id).role == "officer" and changes(session, EMAIL) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["email", "name", "role", "programmes", "org_units", "x"]),
                            st.one_of(st.text(max_size=30), st.lists(st.text(max_size=8), max_size=3),
                                      st.integers(), st.none()), max_size=5))
def test_no_invite_payload_gives_a_server_error(client, session, body):
    answer = client.post("/api/v1/users", headers=bearer(session), json=body)
    assert answer.status_code in (201, 400, 409, 422), answer.get_data(as_text=True)


def test_others_cannot_use_the_people_api(client, session, officer):
    for email in ("reviewer@demo.test", "viewer@demo.test", "officer.opct@demo.test"):
        headers = bearer(session, email)
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        assert client.patch(f"/api/v1/users/{officer.id}", headers=headers,
                            json={"reason": "x", "role": "secretariat"}).status_code == 403


# --------------------------------------------------------------------------- the audit of changes


def test_the_audit_shows_before_and_after_per_object_and_as_csv(client, session, officer):
    import csv
    import io

    login(client, "secretariat@demo.test")
    assert change(client, officer.id, name="Moving Officer", role="officer", agency="",
                  programmes=["OPCT"], org_units=["042", "047"], reason="Covers Nairobi too").status_code == 302
    page = client.get("/admin/audit", query_string={"object": EMAIL}).get_data(as_text=True)
    assert "Role or scope changed" in page and "Why: Covers Nairobi too" in page
    assert "<td>org units</td><td>042</td><td>042, 047</td>" in page
    assert re.search(r'href="/admin/audit\?object=moving\.officer(@|%40)example\.test"', page)  # all about them
    other = client.get("/admin/audit", query_string={"object": "nobody@nowhere.test"}).get_data(as_text=True)
    assert "No events match these filters" in other

    exported = client.get("/admin/audit.csv", query_string={"action": "user.role_changed", "object": EMAIL})
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["actor"] == "secretariat@demo.test" and rows[0]["object"] == EMAIL
    assert rows[0]["reason"] == "Covers Nairobi too" and "org_units: 042 → 042, 047" in rows[0]["changes"]


@pytest.mark.parametrize("query", [{"from": "yesterday"}, {"to": "2026-13-45"}, {"from": "\x00"},
                                   {"page": "-3"}, {"action": "nope"}, {"object": "x" * 5000}])
def test_odd_audit_filters_never_break_the_page(client, session, query):
    login(client, "secretariat@demo.test")
    assert client.get("/admin/audit", query_string=query).status_code in (200, 422)
    assert client.get("/admin/audit.csv", query_string=query).status_code in (200, 422)


def test_the_date_filters_select_the_span(client, session, officer):
    login(client, "secretariat@demo.test")
    change(client, officer.id, name="Moving Officer", role="officer", agency="", programmes=["OPCT"],
           org_units=["047"], reason="Moved")
    today = client.get("/admin/audit", query_string={"action": "user.role_changed", "from": "2000-01-01"})
    assert "Why: Moved" in today.get_data(as_text=True)
    before = client.get("/admin/audit", query_string={"action": "user.role_changed", "to": "2000-01-01"})
    assert "Why: Moved" not in before.get_data(as_text=True)
