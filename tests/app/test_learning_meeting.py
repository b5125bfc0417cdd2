"""An evidence item's TWG meeting (`evidence_item.meeting_id`): set, changed and cleared by the form and the
API through one rule (mel/learning/operations.py `_meeting`), audited before and after, refused by name when
no meeting has the id (nothing stored), and shown both ways: the item's page links to its meeting, the
meeting's page, printable minutes and API body list the items (not withdrawn) that record it or came from it."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mel.accounts.models import AuditEvent
from mel.learning.models import EvidenceItem
from mel.meetings.models import Meeting
from tests.app.test_i18n import visible_text
from tests.app.test_learning import KEEPER, audit_actions, counts, form, headers
from tests.helpers import csrf_token, login

MISSING = 999999


def demo_meetings(session) -> list[Meeting]:
    """The demo's meetings, the latest first (two past reviews and a planned one)."""
    found = list(session.scalars(select(Meeting).order_by(Meeting.held_on.desc(), Meeting.id.desc())))
    assert len(found) >= 2
    return found


def updates(session, item_id: int) -> list[dict]:
    return [e.details for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "evidence.updated", AuditEvent.object == f"evidence {item_id}").order_by(AuditEvent.id))]


def audit_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent))


def selected(page: str) -> str | None:
    """The value of the meeting select's chosen option, if any."""
    select_html = page[page.index('<select id="meeting_id"'):]
    select_html = select_html[:select_html.index("</select>")]
    found = re.search(r'<option value="(\d*)" selected>', select_html)
    return found.group(1) if found else None


# --------------------------------------------------------------------------- the web form


@pytest.mark.parametrize("email", [KEEPER, "secretariat@demo.test"])
def test_the_form_sets_changes_and_clears_an_items_meeting(client, session, email):
    latest, earlier = demo_meetings(session)[:2]
    login(client, email)
    page = client.get("/learning/evidence/new").get_data(as_text=True)
    offered = page[page.index('<select id="meeting_id"'):]
    offered = offered[:offered.index("</select>")]
    values = re.findall(r'<option value="(\d*)"', offered)
    assert values[0] == "" and values[1:] == [str(m.id) for m in demo_meetings(session)]  # none, then latest first
    assert f"{latest.title}</option>" in offered and selected(page) is None

    sent = client.post("/learning/evidence/new", data=form(client, kind="twg_record", title="Record MTGMARK",
                                                            meeting_id=str(earlier.id)))
    assert sent.status_code == 302, visible_text(sent.get_data(as_text=True))[:600]
    item = session.scalar(select(EvidenceItem).where(EvidenceItem.title == "Record MTGMARK"))
    assert item.meeting_id == earlier.id
    created = session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.created",
                                                      AuditEvent.object == f"evidence {item.id}"))
    assert created.details["after"]["meeting_id"] == earlier.id

    shown = client.get(f"/learning/evidence/{item.id}").get_data(as_text=True)
    assert f'<a href="/meetings/{earlier.id}">{earlier.title}</a>' in shown
    for path in (f"/meetings/{earlier.id}", f"/meetings/{earlier.id}/minutes"):
        assert f'<a href="/learning/evidence/{item.id}">Record MTGMARK</a>' in client.get(path).get_data(as_text=True)
    link = f'<a href="/learning/evidence/{item.id}">Record MTGMARK</a>'
    assert link not in client.get(f"/meetings/{latest.id}").get_data(as_text=True)

    edit = f"/learning/evidence/{item.id}/edit"
    assert selected(client.get(edit).get_data(as_text=True)) == str(earlier.id)
    token = csrf_token(client, edit)
    changed = client.post(edit, data={**form(client, kind="twg_record", title="Record MTGMARK",
                                             meeting_id=str(latest.id)), "csrf_token": token})
    assert changed.status_code == 302
    session.expire_all()
    assert session.get(EvidenceItem, item.id).meeting_id == latest.id
    assert link in client.get(f"/meetings/{latest.id}").get_data(as_text=True)
    assert link not in client.get(f"/meetings/{earlier.id}").get_data(as_text=True)

    cleared = client.post(edit, data={**form(client, kind="twg_record", title="Record MTGMARK", meeting_id=""),
                                      "csrf_token": token})
    assert cleared.status_code == 302
    session.expire_all()
    assert session.get(EvidenceItem, item.id).meeting_id is None
    assert updates(session, item.id) == [{"before": {"meeting_id": earlier.id}, "after": {"meeting_id": latest.id}},
                                         {"before": {"meeting_id": latest.id}, "after": {"meeting_id": None}}]
    assert "TWG meeting</dt>" not in client.get(f"/learning/evidence/{item.id}").get_data(as_text=True)


def test_a_refused_form_keeps_the_meeting_chosen_and_stores_nothing(client, session):
    meeting = demo_meetings(session)[1]
    login(client, KEEPER)
    before, audited = counts(session), audit_rows(session)
    refused = client.post("/learning/evidence/new", data=form(client, title="  ", meeting_id=str(meeting.id)))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="title-error"' in page
    assert selected(page) == str(meeting.id)
    for typed, words in ((str(MISSING), f"meeting_id: no TWG meeting has the id {MISSING}."),
                         ("99999999999999999999", "meeting_id: no TWG meeting has the id 99999999999999999999."),
                         ("two", "meeting_id: &#39;two&#39; is not a meeting&#39;s id (a whole number).")):
        unknown = client.post("/learning/evidence/new", data=form(client, title="Unknown meeting", meeting_id=typed))
        text = unknown.get_data(as_text=True)
        assert unknown.status_code == 422 and 'id="meeting_id-error"' in text and words in text, typed
        assert 'value="Unknown meeting"' in text  # what was typed stays
    assert counts(session) == before and audit_rows(session) == audited


def test_a_meetings_page_offers_its_record_to_those_who_keep_the_register(client, session):
    meeting = demo_meetings(session)[0]
    login(client, KEEPER)
    add = f"/learning/evidence/new?kind=twg_record&amp;meeting_id={meeting.id}"
    assert add in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    page = client.get(add.replace("&amp;", "&")).get_data(as_text=True)
    assert selected(page) == str(meeting.id) and '<option value="twg_record" selected>' in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "officer.opct@demo.test")
    assert "/learning/evidence/new?" not in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)


def test_the_meeting_pages_list_its_evidence_in_kiswahili(client, session):
    meeting = demo_meetings(session)[1]
    auth = headers(session, KEEPER)
    client.post("/api/v1/evidence", json={"kind": "twg_record", "title": "SWMARK record", "meeting_id": meeting.id},
                headers=auth)
    login(client, KEEPER)
    client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": csrf_token(client, "/")})
    page = visible_text(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    assert "Katika daftari la ushahidi: SWMARK record" in page
    assert "Ongeza kumbukumbu zake kwenye daftari la ushahidi" in page
    minutes = visible_text(client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True))
    assert "Katika daftari la ushahidi" in minutes and "In the evidence register" not in minutes
    form_page = visible_text(client.get("/learning/evidence/new").get_data(as_text=True))
    assert "Mkutano wa Kikundi Kazi" in form_page and "ushahidi uliotokana na mkutano; si lazima" in form_page
    refused = client.post("/learning/evidence/new", data=form(client, title="SW", meeting_id=str(MISSING)))
    assert f"meeting_id: hakuna mkutano wa Kikundi Kazi wenye kitambulisho {MISSING}." in visible_text(
        refused.get_data(as_text=True))


# --------------------------------------------------------------------------- the API


def test_the_api_sets_changes_and_clears_the_meeting_and_the_meeting_lists_its_items(client, session):
    latest, earlier = demo_meetings(session)[:2]
    auth = headers(session, KEEPER)
    made = client.post("/api/v1/evidence", json={"kind": "twg_record", "title": "API record",
                                                 "meeting_id": earlier.id}, headers=auth)
    assert made.status_code == 201, made.get_json()
    item = made.get_json()
    assert item["meeting_id"] == earlier.id
    other = client.post("/api/v1/evidence", json={"kind": "study", "title": "Study the meeting asked for",
                                                  "meeting_id": earlier.id, "published_on": "2025-09-01"},
                        headers=auth).get_json()
    body = client.get(f"/api/v1/meetings/{earlier.id}", headers=auth).get_json()
    assert body["evidence"] == [{"id": other["id"], "title": "Study the meeting asked for", "kind": "study"},
                                {"id": item["id"], "title": "API record", "kind": "twg_record"}]
    listed = {m["id"]: m for m in client.get("/api/v1/meetings", headers=auth).get_json()}
    assert [e["id"] for e in listed[earlier.id]["evidence"]] == [other["id"], item["id"]]
    assert item["id"] not in [e["id"] for e in listed[latest.id]["evidence"]]

    moved = client.patch(f"/api/v1/evidence/{item['id']}", json={"meeting_id": latest.id}, headers=auth)
    assert moved.status_code == 200 and moved.get_json()["meeting_id"] == latest.id
    untouched = client.patch(f"/api/v1/evidence/{item['id']}", json={"agency": "SPS"}, headers=auth).get_json()
    assert untouched["meeting_id"] == latest.id  # a field not sent stays as it is
    cleared = client.patch(f"/api/v1/evidence/{item['id']}", json={"meeting_id": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.get_json()["meeting_id"] is None
    assert [d for d in updates(session, item["id"]) if "meeting_id" in d["after"]] == [
        {"before": {"meeting_id": earlier.id}, "after": {"meeting_id": latest.id}},
        {"before": {"meeting_id": latest.id}, "after": {"meeting_id": None}}]
    assert [e["id"] for e in client.get(f"/api/v1/meetings/{earlier.id}", headers=auth).get_json()["evidence"]] == [
        other["id"]]

    client.post(f"/api/v1/evidence/{other['id']}/withdraw", json={"reason": "Superseded."}, headers=auth)
    assert client.get(f"/api/v1/meetings/{earlier.id}", headers=auth).get_json()["evidence"] == []
    login(client, "viewer@demo.test")
    assert "Study the meeting asked for" not in client.get(f"/meetings/{earlier.id}").get_data(as_text=True)
    assert "Study the meeting asked for" not in client.get(f"/meetings/{earlier.id}/minutes").get_data(as_text=True)


def test_an_unknown_meeting_is_refused_naming_the_field_and_the_id_and_nothing_is_stored(client, session):
    meeting = demo_meetings(session)[0]
    auth = headers(session, KEEPER)
    item = client.post("/api/v1/evidence", json={"kind": "twg_record", "title": "Kept as it was",
                                                 "meeting_id": meeting.id}, headers=auth).get_json()
    before, audited = counts(session), audit_rows(session)
    refused = client.post("/api/v1/evidence", json={"kind": "twg_record", "title": "Nowhere", "meeting_id": MISSING},
                          headers=auth)
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["details"] == [{"message": f"meeting_id: no TWG meeting has the id {MISSING}.",
                                "location": {"field": "meeting_id"}}]
    changed = client.patch(f"/api/v1/evidence/{item['id']}", json={"meeting_id": MISSING, "title": "Changed"},
                           headers=auth)
    assert changed.status_code == 422 and str(MISSING) in changed.get_data(as_text=True)
    for wrong in (2**40, -1, "two", str(meeting.id), True, 1.5, float(meeting.id)):
        answer = client.post("/api/v1/evidence", json={"kind": "study", "title": "Wrong", "meeting_id": wrong},
                             headers=auth)
        assert answer.status_code == 422, wrong
        assert "meeting_id" in {d["location"].get("field") for d in answer.get_json()["details"]}, wrong
    assert counts(session) == before and audit_rows(session) == audited
    session.expire_all()
    kept = session.get(EvidenceItem, item["id"])
    assert (kept.title, kept.meeting_id) == ("Kept as it was", meeting.id)
    assert audit_actions(session, f"evidence {item['id']}") == ["evidence.created"]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(choice=st.one_of(st.sampled_from(["latest", "earlier", None, MISSING, 0, -3, 2**31, 2**63]),
                        st.integers(), st.text(max_size=12), st.booleans(), st.floats(allow_nan=False)))
def test_any_meeting_id_is_stored_as_sent_or_refused_by_name(client, session, choice):
    meetings = {"latest": demo_meetings(session)[0].id, "earlier": demo_meetings(session)[1].id}
    sent = meetings.get(choice, choice) if isinstance(choice, str) else choice
    auth = headers(session, KEEPER)
    before = counts(session)
    answer = client.post("/api/v1/evidence", json={"kind": "twg_record", "title": "Any meeting", "meeting_id": sent},
                         headers=auth)
    assert answer.status_code in (201, 422), (sent, answer.status_code, answer.get_data(as_text=True)[:300])
    body = answer.get_json()
    if answer.status_code == 201:
        assert sent in meetings.values() or sent is None, sent
        assert body["meeting_id"] == sent
        return
    assert sent not in meetings.values() or not isinstance(sent, int) or isinstance(sent, bool), sent
    assert {d["location"].get("field") for d in body["details"]} == {"meeting_id"}, body
    assert counts(session) == before


def test_the_openapi_document_states_the_meeting_both_ways(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name in ("EvidenceCreate", "EvidenceUpdate"):
        field = schemas[name]["properties"]["meeting_id"]
        assert field["type"] == ["integer", "null"] or field.get("nullable"), field
        assert "/api/v1/meetings" in field["description"]
    evidence = schemas["Meeting"]["properties"]["evidence"]
    assert evidence["type"] == "array" and "not withdrawn" in evidence["description"]


@pytest.mark.parametrize("value", [1.5, [1], {"id": 1}, True, False, "\uff11", "1e3", "-1", 0, MISSING, 2**80])
def test_the_one_rule_refuses_what_is_no_meetings_id_whoever_calls_it(session, value):
    from mel.errors import ValidationFailed
    from mel.learning import operations

    with pytest.raises(ValidationFailed) as refused:
        operations.validate_item(session, {"kind": "twg_record", "title": "Rule", "meeting_id": value})
    assert [d.location for d in refused.value.details] == [{"field": "meeting_id"}]


def test_the_one_rule_takes_a_meetings_id_as_text_or_number(session):
    from mel.learning import operations

    meeting = demo_meetings(session)[0]
    for value in (meeting.id, str(meeting.id), f" {meeting.id} "):
        assert operations._item_values(session, {"meeting_id": value}, ["meeting_id"]) == {"meeting_id": meeting.id}
    for value in (None, "", "  "):
        assert operations._item_values(session, {"meeting_id": value}, ["meeting_id"]) == {"meeting_id": None}
