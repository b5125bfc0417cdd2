"""Whatever a form or an API client sends about TWG meetings and actions: a stored record or a 422 that
names the field at fault, the stored data unchanged; never a server error (hypothesis)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mel.accounts.operations import create_token
from mel.meetings.models import Meeting, MeetingAction
from tests.helpers import csrf_token, login

FIELDS = {"title", "held_on", "venue", "status", "period", "agenda", "attendees", "decisions", "minutes", "owner",
          "due_on", "text", "progress", "decision", "returns", "indicators", "recommendations", "evidence", "meeting"}
SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

texts = st.one_of(st.text(max_size=40), st.sampled_from(["", " ", "\n", "x" * 301, "2025-02-30", "OPCT/042/2025Q2",
                                                         "SA01", "reviewer@demo.test", "0", "-1", "99999999999"]))
dates = st.one_of(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat), texts)
anything = st.one_of(texts, st.integers(), st.none(), st.booleans(), st.lists(texts, max_size=3))
attendee = st.fixed_dictionaries({}, optional={"user": st.one_of(texts, st.none()), "name": texts,
                                               "organisation": texts, "present": st.booleans()})
decision = st.fixed_dictionaries({"text": texts}, optional={"number": st.one_of(st.integers(-3, 120), st.none())})
meeting_body = st.fixed_dictionaries({}, optional={
    "title": texts, "held_on": dates, "venue": texts, "status": st.sampled_from(["planned", "held", "nope", ""]),
    "period": st.one_of(texts, st.sampled_from(["2025Q2", "2025Q9", "2025July"]), st.none()),
    "agenda": st.one_of(st.lists(texts, max_size=4), anything), "attendees": st.one_of(st.lists(attendee, max_size=3),
                                                                                     anything),
    "decisions": st.one_of(st.lists(decision, max_size=3), anything), "minutes": st.one_of(texts, anything)})
return_link = st.fixed_dictionaries({"programme": st.sampled_from(["OPCT", "NOPE", "", "hsnp"]),
                                     "org_unit": st.sampled_from(["042", "Kisumu", "999", "KE"]),
                                     "period": st.sampled_from(["2025Q2", "2025Q9", "2031Q1", "x"])})
action_body = st.fixed_dictionaries({}, optional={
    "text": texts, "owner": st.one_of(texts, st.sampled_from(["officer.opct@demo.test", "nobody@example.org"])),
    "due_on": dates, "status": st.sampled_from(["open", "in_progress", "done", "dropped", "closed"]),
    "progress": texts, "decision": st.one_of(st.integers(-2, 5), st.none(), texts),
    "returns": st.one_of(st.lists(return_link, max_size=2), anything),
    "indicators": st.one_of(st.lists(st.sampled_from(["SA01", "sa11", "XX99", ""]), max_size=3), anything),
    "recommendations": st.one_of(st.lists(st.integers(-1, 3), max_size=2), anything),
    "evidence": st.one_of(st.lists(st.integers(-1, 3), max_size=2), anything)})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _refused_for_a_reason(body: dict) -> bool:
    """A refusal names the fields at fault (or the NUL character, refused for every request first)."""
    if "NUL character" in body["message"]:
        return True
    named = _fields_named(body)
    return bool(named) and "" not in named and named <= FIELDS


def _fields_named(body: dict) -> set[str]:
    """The fields the error's details locate (a nested list's field by its first part)."""
    return {str(d.get("location", {}).get("field", "")).split(".")[0] for d in body.get("details", [])}


@SETTINGS
@given(payload=meeting_body)
def test_any_meeting_payload_is_stored_or_refused_naming_a_field(payload, client, session):
    headers = {"Authorization": f"Bearer {create_token(session, 'reviewer@demo.test', name='fuzz').token}"}
    before = _count(session, Meeting)
    response = client.post("/api/v1/meetings", json=payload, headers=headers)
    assert response.status_code in (201, 422), (payload, response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    if response.status_code == 422:
        assert _count(session, Meeting) == before
        assert _refused_for_a_reason(body), body
    else:
        stored = session.get(Meeting, body["id"])
        assert stored.title == " ".join(payload["title"].split()) and stored.held_on.isoformat() == payload["held_on"]
        assert _count(session, Meeting) == before + 1


@SETTINGS
@given(payload=action_body)
def test_any_change_to_an_action_is_made_or_refused_and_nothing_changes_on_refusal(payload, client, session):
    # The demo's action to circulate the annual review (its text may be changed by an earlier example).
    action = session.scalars(select(MeetingAction).order_by(MeetingAction.id)).all()[3]
    headers = {"Authorization": f"Bearer {create_token(session, 'secretariat@demo.test', name='fuzz').token}"}
    before = client.get(f"/api/v1/meeting-actions/{action.id}", headers=headers).get_json()
    response = client.patch(f"/api/v1/meeting-actions/{action.id}", json=payload, headers=headers)
    assert response.status_code in (200, 422), (payload, response.status_code, response.get_data(as_text=True)[:300])
    after = client.get(f"/api/v1/meeting-actions/{action.id}", headers=headers).get_json()
    if response.status_code == 422:
        assert after == before and _refused_for_a_reason(response.get_json())
    else:
        assert after == response.get_json()
        if "status" in payload:
            assert after["status"] == payload["status"]


form_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(title=st.one_of(form_text, st.just("")), held_on=st.one_of(form_text, st.just("2025-10-02")),
       period=st.one_of(form_text, st.sampled_from(["", "2025Q2"])), agenda=form_text,
       names=st.lists(form_text, max_size=3), numbers=st.lists(st.sampled_from(["", "1", "7", "x"]), max_size=3),
       decisions=st.lists(form_text, max_size=3), present=st.sampled_from(["present", "apologies", "", "maybe"]))
def test_any_meeting_form_is_saved_or_shown_again_with_the_problem(title, held_on, period, agenda, names, numbers,
                                                                   decisions, present, app, session):
    client = app.test_client()
    assert login(client, "secretariat@demo.test").status_code == 302
    before = _count(session, Meeting)
    response = client.post("/meetings/new", data={
        "csrf_token": csrf_token(client, "/meetings/new"), "title": title, "held_on": held_on, "status": "held",
        "period": period, "agenda": agenda, "att_user": [""] * len(names), "att_name": names,
        "att_org": ["Org"] * len(names), "att_present": [present] * len(names),
        "decision_number": numbers[: len(decisions)] + [""] * (len(decisions) - len(numbers)),
        "decision_text": decisions, "minutes": agenda})
    assert response.status_code in (302, 422), response.get_data(as_text=True)[:300]
    if response.status_code == 422:
        assert _count(session, Meeting) == before and 'role="alert"' in response.get_data(as_text=True)
    else:
        assert _count(session, Meeting) == before + 1
