"""MERL TWG meetings and their actions (issue 21 item 4): recording a meeting on the web and through
the API, its decisions and actions with their links, who may change what, the action list, the
printable minutes, the audit of every change and "Your TWG actions" on each home page.

The demo (loaded by the suite's fixture for 5 October 2025) has two past reviews and a planned one;
the dates below are that calendar's."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from mel.accounts.models import AuditEvent, User
from mel.catalogue.lookup import load_catalogue
from mel.meetings import links, operations
from mel.meetings.models import Decision, Meeting, MeetingAction
from mel.reporting.actions import ReportAction
from tests.app.test_i18n import visible_text
from tests.helpers import csrf_token, login

DAY = datetime(2025, 10, 6, 9, 0, tzinfo=UTC)  # a Monday after the demo's due dates of September
SECRETARIAT, REVIEWER, VIEWER = "secretariat@demo.test", "reviewer@demo.test", "viewer@demo.test"
OPCT, KISUMU, HSNP = "officer.opct@demo.test", "officer.kisumu@demo.test", "officer.hsnp@demo.test"


@pytest.fixture(autouse=True)
def _on_the_day():
    with time_machine.travel(DAY, tick=False):
        yield


@pytest.fixture
def signed_in(app, session):
    """A new client signed in as the e-mail given (one browser per person)."""

    def open_as(email: str):
        client = app.test_client()
        assert login(client, email).status_code == 302
        return client

    return open_as


def user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def text_of(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


def post(client, path: str, data: dict, form: str | None = None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form or path)})


def demo_meeting(session, ending: str = "Apr–Jun 2025") -> Meeting:
    return session.scalar(select(Meeting).where(Meeting.title.like(f"%{ending}")))


def demo_action(session, words: str) -> MeetingAction:
    return session.scalar(select(MeetingAction).where(MeetingAction.text.like(f"{words}%")))


def token(session, email: str) -> dict:
    from mel.accounts.operations import create_token

    return {"Authorization": f"Bearer {create_token(session, email, name='meetings test').token}"}


def audits(session, action: str, obj: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object == obj)
                                .order_by(AuditEvent.id)))


def meeting_form(**changes) -> dict:
    form = {"title": "MERL TWG special meeting on payment delays", "held_on": "2025-10-02", "venue": "Online",
            "status": "held", "period": "2025Q2",
            "agenda": "Opening\nPayment delays in OPCT\n\nAny other business",
            "att_user": ["", "", ""], "att_name": ["Wanjiru Mwangi", "James Odhiambo", ""],
            "att_org": ["UNICEF Kenya", "World Bank", ""], "att_present": ["present", "apologies", "present"],
            "decision_number": ["", "", ""], "decision_text": ["Payments are tracked weekly until December.",
                                                               "", "The OPCT desk reports back in November."],
            "minutes": "The meeting discussed the delays.\nMembers agreed the decisions below."}
    form.update(changes)
    return form


# --------------------------------------------------------------------------- recording a meeting


def test_the_secretariat_records_a_meeting_with_agenda_attendance_decisions_and_minutes(client, session):
    login(client, SECRETARIAT)
    reviewer = user(session, REVIEWER)
    form = meeting_form(att_user=[str(reviewer.id), "", "", ""], att_name=["", "Wanjiru Mwangi", "James Odhiambo", ""],
                        att_org=["", "UNICEF Kenya", "World Bank", ""],
                        att_present=["present", "present", "apologies", "present"])
    response = post(client, "/meetings/new", form)
    assert response.status_code == 302, text_of(response)[:600]
    meeting = session.scalar(select(Meeting).where(Meeting.title == form["title"]))
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}")
    assert meeting.held_on == date(2025, 10, 2) and meeting.status == "held" and meeting.period == "2025Q2"
    assert meeting.agenda == ["Opening", "Payment delays in OPCT", "Any other business"]  # the empty line dropped
    page = text_of(client.get(f"/meetings/{meeting.id}"))
    assert "02 October 2025" in page and "Reviewed FY2024/25 Q4 (Apr–Jun 2025)" in page
    assert "Present (2) David Kiprono Wanjiru Mwangi (UNICEF Kenya)" in page
    assert "Apologies (1) James Odhiambo (World Bank)" in page
    assert "1. Payments are tracked weekly until December. 2. The OPCT desk reports back in November." in page
    assert "The meeting discussed the delays." in page
    event = audits(session, "meeting.created", f"meeting {meeting.id}")[0]
    assert event.actor == SECRETARIAT and event.details["after"]["decisions"][1].startswith("2. The OPCT desk")
    assert "reviewer@demo.test" in event.details["after"]["attendees"][0]


def test_a_meeting_that_does_not_say_what_or_when_is_refused_naming_the_fields(client, session):
    login(client, REVIEWER)
    before = session.scalar(select(func.count()).select_from(Meeting))
    response = post(client, "/meetings/new", meeting_form(title="  ", held_on="2025-13-40", period="2025Q7",
                                                          status="held"), form="/meetings/new")
    assert response.status_code == 422
    page = text_of(response)
    assert "3 problems" in page and "title: it is empty; write it." in page
    assert "held_on: '2025-13-40' is not a date: write it as YYYY-MM-DD" in page and "period:" in page
    assert 'value="Wanjiru Mwangi"' in response.get_data(as_text=True)  # what was typed is kept
    assert session.scalar(select(func.count()).select_from(Meeting)) == before


def test_decisions_are_renumbered_in_order_and_keep_their_actions(client, session):
    meeting = demo_meeting(session)
    follows = demo_action(session, "Circulate the draft annual sector review")  # follows decision 2
    second = session.get(Decision, follows.decision_id)
    assert second.number == 2
    login(client, SECRETARIAT)
    form = {"title": meeting.title, "held_on": meeting.held_on.isoformat(), "venue": meeting.venue,
            "status": meeting.status, "period": meeting.period, "agenda": "\n".join(meeting.agenda),
            "minutes": meeting.minutes, "att_user": [], "att_name": [], "att_org": [], "att_present": [],
            # Decision 1 is removed (after moving its actions), 2 and 3 change places, a new one comes last.
            "decision_number": ["3", "2", ""], "decision_text": ["Train the county officers.",
                                                                 "Circulate the draft annual review.", "A new one."]}
    for action in session.scalars(select(MeetingAction).where(MeetingAction.decision_id == session.scalar(
            select(Decision.id).where(Decision.meeting_id == meeting.id, Decision.number == 1)))):
        action.decision_id = None
    session.flush()
    response = post(client, f"/meetings/{meeting.id}/edit", form)
    assert response.status_code == 302, text_of(response)[:500]
    session.expire_all()
    numbers = {d.number: d.text for d in session.scalars(select(Decision).where(Decision.meeting_id == meeting.id))}
    assert numbers == {1: "Train the county officers.", 2: "Circulate the draft annual review.", 3: "A new one."}
    assert session.get(MeetingAction, follows.id).decision_id == second.id and session.get(Decision, second.id).number == 2
    change = audits(session, "meeting.updated", f"meeting {meeting.id}")[-1]
    assert set(change.details["after"]) == {"decisions", "attendees"}  # the attendance form was sent empty


def test_a_decision_an_action_follows_cannot_be_removed(client, session):
    meeting = demo_meeting(session)
    before = [(d.number, d.text) for d in session.scalars(select(Decision).where(Decision.meeting_id == meeting.id)
                                                          .order_by(Decision.number))]
    response = client.patch(f"/api/v1/meetings/{meeting.id}", json={"decisions": [{"number": 1, "text": "Only one."}]},
                            headers=token(session, REVIEWER))
    assert response.status_code == 422
    body = response.get_json()
    assert body["details"][0]["location"] == {"field": "decisions"}
    assert "decision 2 cannot be removed: action" in body["message"]
    session.expire_all()
    assert [(d.number, d.text) for d in session.scalars(select(Decision).where(Decision.meeting_id == meeting.id)
                                                        .order_by(Decision.number))] == before


# --------------------------------------------------------------------------- actions


def test_the_twg_adds_an_action_linked_to_a_return_indicators_a_recommendation_and_evidence(client, session, signed_in):
    from mel.learning.models import EvidenceItem

    meeting = demo_meeting(session)
    recommendation = ReportAction(text="Publish a payment calendar each quarter.", owner="SDSPSCA", status="open",
                                  scope="programme", scope_code="OPCT", raised_period="2025Q2")
    evidence = EvidenceItem(kind="study", title="Payment timeliness study (test)", withdrawn_reason="")
    session.add_all([recommendation, evidence])
    session.flush()
    kisumu = user(session, KISUMU)
    login(client, REVIEWER)
    form = {"text": "Agree a payment calendar with the payment service providers.", "owner": str(kisumu.id),
            "due_on": "2025-11-30", "status": "open", "decision": "3", "progress": "",
            "returns": "OPCT/042/2025Q2\nCOUNTY Kisumu 2025Q2", "indicators": "sa11, SA12",
            "recommendations": [str(recommendation.id)], "evidence": [str(evidence.id)]}
    response = post(client, f"/meetings/{meeting.id}/actions", form, form=f"/meetings/{meeting.id}")
    assert response.status_code == 302, text_of(response)[:600]
    action = session.scalar(select(MeetingAction).where(MeetingAction.text.like("Agree a payment calendar%")))
    assert action.owner_id == kisumu.id and action.due_on == date(2025, 11, 30)
    assert session.get(Decision, action.decision_id).number == 3
    found = links.read(session, [action.id])[action.id]
    assert {(r.programme.code, r.org_unit.code, r.period) for r in found.returns} == {
        ("OPCT", "042", "2025Q2"), ("COUNTY", "042", "2025Q2")}
    assert [i.code for i in found.indicators] == ["SA11", "SA12"]
    assert [r.id for r in found.recommendations] == [recommendation.id] and [e.id for e in found.evidence] == [evidence.id]
    page = text_of(client.get(f"/meetings/actions/{action.id}"))
    assert "Return: COUNTY · Kisumu · FY24/25 Q4 Return: OPCT · Kisumu · FY24/25 Q4" in page
    assert 'href="/indicators/SA11"' in client.get(f"/meetings/actions/{action.id}").get_data(as_text=True)
    assert f"Report recommendation {recommendation.id}: Publish a payment calendar" in page
    assert "Evidence: Payment timeliness study (test)" in page and "decision 3" in page
    created = audits(session, "meeting_action.created", f"meeting_action {action.id}")[0]
    assert created.details["after"]["returns"] == ["COUNTY/042/2025Q2", "OPCT/042/2025Q2"]
    assert created.details["after"]["owner"] == KISUMU
    # An officer of another programme reads the action, but not the words of the OPCT recommendation,
    # and sees the returns named without a way into them.
    other = signed_in(HSNP).get(f"/meetings/actions/{action.id}").get_data(as_text=True)
    assert "outside your programmes and counties" in other and "Publish a payment calendar" not in other
    assert "/returns/OPCT/042/2025Q2" not in other and "OPCT · Kisumu" in html.unescape(other)


def test_an_action_with_bad_links_is_refused_naming_each_and_nothing_is_stored(client, session):
    meeting = demo_meeting(session)
    before = session.scalar(select(func.count()).select_from(MeetingAction))
    response = client.post("/api/v1/meeting-actions", headers=token(session, SECRETARIAT), json={
        "meeting": meeting.id, "text": "Act.", "owner": "nobody@example.org", "due_on": "2025-11-30", "decision": 9,
        "returns": [{"programme": "OPCT", "org_unit": "042", "period": "2031Q1"},
                    {"programme": "NOPE", "org_unit": "042", "period": "2025Q2"}],
        "indicators": ["XX99"], "recommendations": [99999], "evidence": [99999]})
    assert response.status_code == 422
    fields = [d["location"]["field"] for d in response.get_json()["details"]]
    assert fields == ["owner", "decision", "returns", "returns", "indicators", "recommendations", "evidence"]
    message = response.get_json()["message"]
    assert "owner: no active account 'nobody@example.org'." in message
    assert "no OPCT return for Kisumu in 2031Q1 has been started yet" in message
    assert "indicators: there is no indicator 'XX99'." in message and "the meeting has no decision 9" in message
    assert session.scalar(select(func.count()).select_from(MeetingAction)) == before


def test_the_owner_updates_status_and_progress_only_and_other_officers_may_not(client, session, signed_in):
    action = demo_action(session, "Explain the drop in OPCT payments")
    login(client, OPCT)
    page = client.get(f"/meetings/actions/{action.id}").get_data(as_text=True)
    assert "Update your action" in page and 'name="text"' not in page  # the owner's form: status and progress
    response = post(client, f"/meetings/actions/{action.id}", {"status": "in_progress",
                                                               "progress": "Narrative drafted; payroll data checked."})
    assert response.status_code == 302
    session.expire_all()
    assert action.status == "in_progress" and action.progress == "Narrative drafted; payroll data checked."
    change = audits(session, "meeting_action.updated", f"meeting_action {action.id}")[-1]
    assert change.actor == OPCT and change.details["before"] == {"status": "open", "progress": ""}
    # Through the API the owner may not move the due date, nor reword the action.
    owner = token(session, OPCT)
    refused = client.patch(f"/api/v1/meeting-actions/{action.id}", json={"due_on": "2026-03-31", "status": "open"},
                           headers=owner)
    assert refused.status_code == 403 and "As the action's owner you may update its status" in refused.get_json()["message"]
    done = client.patch(f"/api/v1/meeting-actions/{action.id}", json={"status": "done"}, headers=owner)
    assert done.status_code == 200 and done.get_json()["done_on"] == "2025-10-06" and not done.get_json()["overdue"]
    # Another officer (the Kisumu officer, who owns a different action) and the viewer are refused.
    for email in (KISUMU, VIEWER):
        client = signed_in(email)
        assert 'name="progress"' not in client.get(f"/meetings/actions/{action.id}").get_data(as_text=True)
        assert post(client, f"/meetings/actions/{action.id}", {"status": "dropped"},
                    form=f"/meetings/actions/{action.id}").status_code == 403
        assert client.patch(f"/api/v1/meeting-actions/{action.id}", json={"status": "dropped"},
                            headers=token(session, email)).status_code == 403
    session.expire_all()
    assert action.status == "done" and action.done_on == date(2025, 10, 6)


def test_reopening_a_done_action_clears_its_done_date(session):
    action = demo_action(session, "Test the revised ratio-indicator checks")
    assert action.done_on is not None
    operations.update_action(session, load_catalogue(session), user(session, SECRETARIAT), action,
                             {"status": "open"}, today=date(2025, 10, 6))
    assert action.status == "open" and action.done_on is None


def test_officers_and_viewers_read_but_do_not_record(session, signed_in):
    meeting = demo_meeting(session)
    for email in (OPCT, HSNP, VIEWER):
        client = signed_in(email)
        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert "Circulate the draft annual sector review report" in page
        assert "Add an action" not in page and "/edit" not in page
        assert client.get("/meetings/new").status_code == 403
        assert post(client, f"/meetings/{meeting.id}/actions", {"text": "x"}, form=f"/meetings/{meeting.id}").status_code == 403
        refused = client.post("/api/v1/meetings", json={"title": "Mine", "held_on": "2025-10-01"},
                              headers=token(session, email))
        assert refused.status_code == 403 and "Only the secretariat and the MERL TWG" in refused.get_json()["message"]


# --------------------------------------------------------------------------- lists and the minutes


def test_the_meeting_list_shows_upcoming_and_past_with_open_and_overdue_counts(client, session):
    login(client, VIEWER)
    page = text_of(client.get("/meetings/"))
    upcoming, past = page.split("Past meetings")
    assert "MERL TWG quarterly review of Jul–Sep 2025" in upcoming and "18 November 2025" in upcoming
    assert "review of Apr–Jun 2025" in past and "review of Jan–Mar 2025" in past
    assert "3 open of 5 2 overdue" in past  # August: SA11 and the annual review overdue, the training not yet due
    assert "1 open of 2 1 overdue" in past


def test_the_action_list_filters_by_owner_status_overdue_and_meeting(client, session):
    login(client, SECRETARIAT)
    secretariat = user(session, SECRETARIAT)
    everything = text_of(client.get("/meetings/actions"))
    assert "7 actions" in everything
    # Open ones first, the longest overdue first: the NICHE evaluation (31 July), SA11 (15 September), ...
    order = [everything.index(words) for words in ("Share the final NICHE", "Explain the drop in OPCT",
                                                   "Circulate the draft annual", "Train Kisumu county",
                                                   "Confirm the HSNP drought")]
    assert order == sorted(order)
    assert "67 days overdue" in everything and "21 days overdue" in everything
    overdue = text_of(client.get("/meetings/actions?overdue=1"))
    assert "3 actions" in overdue and "Train Kisumu county" not in overdue
    mine = text_of(client.get("/meetings/actions?owner=me"))
    assert "2 actions" in mine and "Circulate the draft annual" in mine
    assert text_of(client.get(f"/meetings/actions?owner={secretariat.id}&status=in_progress")).count("days overdue") == 1
    meeting = demo_meeting(session, "Jan–Mar 2025")
    assert "2 actions" in text_of(client.get(f"/meetings/actions?meeting={meeting.id}"))
    dropped = text_of(client.get("/meetings/actions?status=dropped"))
    assert "1 action" in dropped and "Request county population projections" in dropped
    # Filters that make no sense are ignored, never an error.
    assert client.get("/meetings/actions?owner=x&meeting=99999999999&status=nope&overdue=maybe").status_code == 200
    api = client.get("/api/v1/meeting-actions", query_string={"owner": OPCT, "overdue": "true"},
                     headers=token(session, VIEWER)).get_json()
    assert [a["text"][:25] for a in api] == ["Explain the drop in OPCT "] and api[0]["days_overdue"] == 21


def test_the_minutes_print_the_whole_record(client, session):
    meeting = demo_meeting(session)
    login(client, VIEWER)
    response = client.get(f"/meetings/{meeting.id}/minutes")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="minutes-doc"' in page and "css/meetings.css" in page
    assert "<nav" not in page  # a document: no menu, no sign-out
    words = text_of(response)
    assert "Present: Grace Achieng; David Kiprono; OPCT M&E desk (SDSPSCA); Peter Otieno; Mary Njeri; " \
           "Wanjiru Mwangi (UNICEF Kenya)" in words
    assert "Apologies: HSNP M&E desk (NDMA); James Odhiambo (World Bank)" in words
    assert "3. County M&E officers are trained on the MEL service" in words
    assert "Explain the drop in OPCT payments" in words and "Chair" in words and "Secretary" in words


# --------------------------------------------------------------------------- the API


def test_the_api_records_changes_and_reads_a_meeting_and_its_actions(client, session):
    headers = token(session, SECRETARIAT)
    created = client.post("/api/v1/meetings", headers=headers, json={
        "title": "Extraordinary TWG meeting", "held_on": "2025-10-20", "status": "planned", "period": "2025Q3",
        "agenda": ["Data quality of HSNP returns"],
        "attendees": [{"user": "Reviewer@Demo.Test"}, {"name": "Amina Hassan", "organisation": "WFP", "present": False}],
        "decisions": [{"text": "Review the HSNP returns again."}]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/meetings/{body['id']}")
    assert body["attendees"] == [
        {"user": REVIEWER, "name": "David Kiprono", "organisation": "", "present": True},
        {"user": None, "name": "Amina Hassan", "organisation": "WFP", "present": False}]
    assert body["decisions"] == [{"number": 1, "text": "Review the HSNP returns again."}] and body["actions"] == []
    action = client.post("/api/v1/meeting-actions", headers=headers, json={
        "meeting": body["id"], "text": "Check the HSNP Turkana return.", "owner": HSNP, "due_on": "2025-10-31",
        "decision": 1, "returns": [{"programme": "HSNP", "org_unit": "Turkana", "period": "2025Q2"}],
        "indicators": ["SA07"]})
    assert action.status_code == 201, action.get_json()
    row = action.get_json()
    assert row["owner"] == HSNP and row["decision"] == 1 and row["indicators"] == ["SA07"]
    assert row["returns"][0]["org_unit"] == "023" and row["status"] == "open" and row["overdue"] is False
    changed = client.patch(f"/api/v1/meetings/{body['id']}", json={"status": "held", "minutes": "Held online."},
                           headers=headers)
    assert changed.status_code == 200 and changed.get_json()["status"] == "held"
    assert [a["id"] for a in changed.get_json()["actions"]] == [row["id"]]
    event = audits(session, "meeting.updated", f"meeting {body['id']}")[0]
    assert event.details["before"] == {"status": "planned", "minutes": "0 characters"}
    assert event.details["after"] == {"status": "held", "minutes": "12 characters"}
    # Sending the same again changes nothing and audits nothing.
    client.patch(f"/api/v1/meetings/{body['id']}", json={"status": "held"}, headers=headers)
    assert len(audits(session, "meeting.updated", f"meeting {body['id']}")) == 1
    listed = client.get("/api/v1/meetings", query_string={"since": "2025-10-01", "status": "held"},
                        headers=headers).get_json()
    assert [m["title"] for m in listed] == ["Extraordinary TWG meeting"]
    assert client.get("/api/v1/meetings/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/meeting-actions/999999", headers=headers).get_json()["error"] == "not_found"


def test_the_api_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/meetings"]) >= {"get", "post"}
    assert set(paths["/api/v1/meetings/{meeting_id}"]) >= {"get", "patch"}
    assert set(paths["/api/v1/meeting-actions"]) >= {"get", "post"}
    assert set(paths["/api/v1/meeting-actions/{action_id}"]) >= {"get", "patch"}
    assert "delete" not in paths["/api/v1/meetings/{meeting_id}"]  # nothing is lost
    schemas = document["components"]["schemas"]
    assert {"owner", "due_on", "status", "returns", "recommendations", "evidence"} <= set(
        schemas["MeetingActionCreate"]["properties"])


# --------------------------------------------------------------------------- the home page


def test_each_owner_finds_their_open_actions_on_the_home_page_overdue_first(client, session, signed_in):
    login(client, SECRETARIAT)
    page = client.get("/").get_data(as_text=True)
    section = text_of_section(page, "your-twg-actions")
    assert "Your TWG actions" in section
    first, second = section.index("Share the final NICHE"), section.index("Circulate the draft annual")
    assert first < second and "67 days overdue" in section and "6 days overdue" in section
    assert "31 July 2025" in section and "(in progress)" in section
    action = demo_action(session, "Share the final NICHE")
    assert f'href="/meetings/actions/{action.id}"' in page and 'href="/meetings/actions?owner=me"' in page
    # The Kisumu officer's action is not due yet: listed without "overdue".
    kisumu = text_of_section(signed_in(KISUMU).get("/").get_data(as_text=True), "your-twg-actions")
    assert "Train Kisumu county M&E officers" in kisumu and "31 October 2025" in kisumu and "overdue" not in kisumu
    # Done and dropped actions are not listed: the HSNP desk's and the reviewer's are all closed.
    for email in (HSNP, REVIEWER):
        assert 'id="your-twg-actions"' not in signed_in(email).get("/").get_data(as_text=True)


def test_a_viewer_who_owns_an_action_sees_it_at_home(client, session):
    viewer = user(session, VIEWER)
    meeting = demo_meeting(session)
    operations.create_action(session, load_catalogue(session), user(session, SECRETARIAT), meeting, {
        "text": "Send the partners' comments on the annual review.", "owner": viewer.email, "due_on": "2025-10-01"})
    login(client, VIEWER)
    section = text_of_section(client.get("/").get_data(as_text=True), "your-twg-actions")
    assert "Send the partners' comments" in section and "5 days overdue" in section


def text_of_section(page: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, flags=re.S)
    assert match, f"no section {section_id}"
    return html.unescape(visible_text(match.group(0)))


# --------------------------------------------------------------------------- Kiswahili


def test_a_refused_meeting_is_explained_in_kiswahili_on_the_page_and_in_english_by_the_api(client, session):
    login(client, SECRETARIAT)
    client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": csrf_token(client, "/")})
    response = post(client, "/meetings/new", meeting_form(title="", held_on="jana"), form="/meetings/new")
    assert response.status_code == 422
    page = text_of(response)
    assert "title: ni tupu; iandike." in page and "held_on: 'jana' si tarehe" in page
    assert "it is empty; write it." not in page and "Rekodi mkutano" in page
    api = client.post("/api/v1/meetings", json={"title": " ", "held_on": "2025-10-01"},
                      headers=token(session, SECRETARIAT))
    assert api.get_json()["message"] == "title: it is empty; write it."


def test_a_meetings_record_in_the_evidence_register_is_linked_from_the_meeting(client, session):
    from mel.learning.models import EvidenceItem

    meeting = demo_meeting(session)
    record = EvidenceItem(kind="twg_record", title="Minutes of the FY2024/25 Q4 review (test)", withdrawn_reason="",
                          meeting_id=meeting.id)
    gone = EvidenceItem(kind="twg_record", title="An earlier draft of the minutes (test)", withdrawn_reason="Replaced.",
                        meeting_id=meeting.id, withdrawn_at=datetime(2025, 9, 1, tzinfo=UTC))
    session.add_all([record, gone])
    session.flush()
    login(client, OPCT)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'/evidence/{record.id}">Minutes of the FY2024/25 Q4 review (test)</a>' in page
    assert "An earlier draft of the minutes" not in page


def test_the_meeting_pages_in_kiswahili(client, session):
    meeting = demo_meeting(session)
    action = demo_action(session, "Explain the drop in OPCT payments")
    login(client, OPCT)
    client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": csrf_token(client, "/")})
    english = ("Past meetings", "Attendance", "Decisions", "Your TWG actions", "days overdue", "Update your action",
               "Progress note", "Quarter reviewed", "Overdue only", "Apologies", "Minutes")
    for path, swahili in (("/meetings/", ("Mikutano iliyopita", "Robo iliyopitiwa", "zimepita muda")),
                          (f"/meetings/{meeting.id}", ("Mahudhurio", "Maamuzi", "Waliotoa udhuru (2)",
                                                       "imepita muda kwa siku 21", "Kumbukumbu za mkutano")),
                          (f"/meetings/{meeting.id}/minutes", ("Waliohudhuria:", "Mwenyekiti", "Katibu")),
                          ("/meetings/actions?overdue=1", ("Hatua za Kikundi Kazi", "Zilizopita muda pekee")),
                          (f"/meetings/actions/{action.id}", ("Sasisha hatua yako", "Maelezo ya maendeleo")),
                          ("/", ("Hatua zako za Kikundi Kazi", "Hatua zako zote za Kikundi Kazi"))):
        page = text_of(client.get(path))
        for words in swahili:
            assert words in page, (path, words)
        for words in english:
            assert words not in page, (path, words)


def test_the_demo_meeting_record_is_in_the_register_linked_to_its_meeting_and_dated_after_it(client, session):
    from mel.demo import DemoCalendar
    from mel.learning.demo import load_learning
    from mel.learning.models import EvidenceItem
    from mel.meetings.demo import RECORD_TITLE, link_record

    load_learning(session)  # the live demo's register (the tests' history has none), then its link to a meeting
    assert link_record(session, DemoCalendar(date(2025, 10, 5)))
    session.commit()
    record = session.scalar(select(EvidenceItem).where(EvidenceItem.title == RECORD_TITLE))
    meeting = session.get(Meeting, record.meeting_id)
    assert meeting is not None and meeting.status == "held" and record.kind == "twg_record"
    assert record.published_on == meeting.held_on + timedelta(days=7)  # its record, a week after it
    login(client, "viewer@demo.test")
    assert f'href="/meetings/{meeting.id}"' in client.get(f"/learning/evidence/{record.id}").get_data(as_text=True)
    assert f'href="/learning/evidence/{record.id}"' in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
