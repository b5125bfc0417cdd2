"""Validation rules kept by the secretariat on the web and the API: checks with located errors, audit with
before and after, "try it" on history agreeing with the validator, the catalogue reloaded, the seed
keeping administrators' changes."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indicators.validation import rule_issues
from mel.accounts.models import AuditEvent
from mel.accounts.operations import create_token, load_user
from mel.catalogue import rule_admin
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import ValidationRule
from mel.catalogue.operations import seed_catalogue
from mel.returns import operations as return_ops
from mel.returns.checks import stored_frame
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import Return
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import csrf_token, explain_all, flat_rows

RULE = {"code": "VR90", "name": "Exits within new enrolments", "description": "A test rule.", "left": "SA15",
        "operator": "<=", "right": "SA14", "severity": "warning", "importance": "low",
        "missing_strategy": "skip_if_any_missing"}


def _token(session, email="secretariat@demo.test"):
    return {"Authorization": f"Bearer {create_token(session, email, name='rules').token}"}


def _audit(session, code):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.object == f"validation rule {code}")
                                .order_by(AuditEvent.id)))


def _rule(session, code):
    return session.scalar(select(ValidationRule).where(ValidationRule.code == code))


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/catalogue/validation-rules"), **data})


# --------------------------------------------------------------------------- web


def test_the_secretariat_creates_edits_retires_and_reactivates_a_rule_on_the_web(as_user, session):
    client = as_user("secretariat@demo.test")
    listing = client.get("/catalogue/validation-rules")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "VR01" in page and "Inua Jamii" in page  # in words, indicators by name
    response = _post(client, "/catalogue/validation-rules/new", {**RULE, "action": "save", "reason": "New check."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _rule(session, "VR90").right == "SA14"
    response = _post(client, "/catalogue/validation-rules/VR90/edit",
                     {**RULE, "right": "SA14 * 2", "severity": "error", "action": "save", "reason": "Twice."})
    assert response.status_code == 302
    assert (_rule(session, "VR90").right, _rule(session, "VR90").severity) == ("SA14 * 2", "error")
    assert _post(client, "/catalogue/validation-rules/VR90/retire", {"reason": "Not needed."}).status_code == 302
    assert _rule(session, "VR90").is_active is False
    assert _post(client, "/catalogue/validation-rules/VR90/reactivate", {"reason": "Needed."}).status_code == 302
    assert _rule(session, "VR90").is_active is True
    events = _audit(session, "VR90")
    assert [e.action for e in events] == ["catalogue.rule_created", "catalogue.rule_changed",
                                          "catalogue.rule_retired", "catalogue.rule_reactivated"]
    changed = events[1].details
    assert (changed["before"]["right"], changed["after"]["right"]) == ("SA14", "SA14 * 2")
    assert (changed["before"]["severity"], changed["after"]["severity"]) == ("warning", "error")
    assert changed["reason"] == "Twice." and events[1].actor == "secretariat@demo.test"
    assert (events[2].details["before"]["is_active"], events[2].details["after"]["is_active"]) == (True, False)
    history = client.get("/catalogue/validation-rules/VR90").get_data(as_text=True)
    assert "SA14 * 2" in history and "Twice." in history and "Not needed." in history
    assert client.get("/catalogue/validation-rules?status=retired").get_data(as_text=True).count("VR90") == 0


@pytest.mark.parametrize("query", [{"status": "nope", "severity": "<b>"}, {"status": "retired", "severity": "error"},
                                   {"status": "x" * 5000}])
def test_the_list_takes_any_filter_without_failing(as_user, query):
    response = as_user("secretariat@demo.test").get("/catalogue/validation-rules", query_string=query)
    assert response.status_code == 200 and "<b>" not in response.get_data(as_text=True).split("<main", 1)[-1]


def test_an_edit_needs_a_reason_and_saves_nothing_without_one(as_user, session):
    client = as_user("secretariat@demo.test")
    response = _post(client, "/catalogue/validation-rules/VR01/edit",
                     {**RULE, "code": "VR01", "right": "SA01 * 2", "action": "save", "reason": ""})
    assert response.status_code == 422
    assert "Reason: required." in response.get_data(as_text=True)
    assert _rule(session, "VR01").right == "SA01" and _audit(session, "VR01") == []


BAD_INPUTS = [
    ({"left": "SA99"}, "left", "Left side: unknown indicator SA99."),
    ({"right": "SA01 + XX7"}, "right", "Right side: unknown indicator XX7."),
    ({"left": "SA01 +"}, "left", "Left side:"),
    ({"left": ""}, "left", "Left side: empty."),
    ({"left": "__import__('os')"}, "left", "Left side:"),
    ({"left": "SA01.X"}, "left", "use .N (numerator) or .D (denominator)"),
    ({"left": "SA12"}, "left", "SA12 (% of credited"),  # a ratio needs .N or .D
    ({"left": "SA01.N"}, "left", "is not a ratio"),
    ({"left": "1", "right": "2"}, "left", "names no indicator"),
    ({"left": "(" * 300 + "SA01" + ")" * 300}, "left", "Left side"),
    ({"left": "SA01" + " + SA01" * 100}, "left", "at most 400 characters"),
    ({"operator": "=<"}, "operator", "Operator: “=<” is not one of"),
    ({"severity": "fatal"}, "severity", "Severity: “fatal” is not one of error, warning."),
    ({"importance": "urgent"}, "importance", "Importance: “urgent”"),
    ({"missing_strategy": "guess"}, "missing_strategy", "Missing values: “guess”"),
    ({"name": ""}, "name", "Name: give the rule a name"),
    ({"code": "VR01"}, "code", "Code: a rule VR01 already exists"),
    ({"code": "1BAD"}, "code", "must start with a letter"),
    ({"code": ""}, "code", "Code: required"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUTS)
def test_a_bad_rule_is_refused_with_a_located_message_on_the_web_and_the_api(as_user, session, change, field,
                                                                            message):
    before = session.scalar(select(func.count(ValidationRule.id)))
    client = as_user("secretariat@demo.test")
    response = _post(client, "/catalogue/validation-rules/new", {**RULE, **change, "action": "save"})
    assert response.status_code == 422
    assert html.escape(message) in response.get_data(as_text=True)
    api = client.post("/api/v1/validation-rules", json={**RULE, **change}, headers=_token(session))
    assert api.status_code == 422, api.get_data(as_text=True)
    located = [d for d in api.json.get("details", []) if d.get("location", {}).get("field") == field]
    assert located and any(message in d["message"] for d in located), api.json
    assert session.scalar(select(func.count(ValidationRule.id))) == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(left=st.text(max_size=60), right=st.text(max_size=60), operator=st.text(max_size=4))
def test_random_text_never_gives_500_and_changes_nothing(app, session, left, right, operator):
    before = session.scalar(select(func.count(ValidationRule.id)))
    with app.test_client() as client:
        response = client.post("/api/v1/validation-rules/try", headers=_headers(session),
                               json={"left": left, "right": right, "operator": operator})
        assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
        response = client.put("/api/v1/validation-rules/VR01", headers=_headers(session),
                              json={"left": left, "right": right, "operator": operator, "reason": "Fuzz."})
        assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
        if response.status_code == 422:
            assert _rule(session, "VR01").left == "SA02"
    assert session.scalar(select(func.count(ValidationRule.id))) == before


_TOKENS: dict = {}  # one token per test's session (hypothesis runs many examples in one test)


def _headers(session):
    if _TOKENS.get("session") is not session:
        _TOKENS.update(session=session, token=create_token(session, "secretariat@demo.test", name="fuzz").token)
    return {"Authorization": f"Bearer {_TOKENS['token']}"}


# --------------------------------------------------------------------------- try it


def test_try_it_lists_the_returns_that_break_a_rule_as_the_validator_says(as_user, session):
    client = as_user("secretariat@demo.test")
    # A strict rule many demo returns break: exits at most 1% of the payroll.
    strict = {**RULE, "left": "SA15", "right": "SA01 * 0.01", "action": "try"}
    response = _post(client, "/catalogue/validation-rules/new", strict)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    api = client.post("/api/v1/validation-rules/try", headers=_token(session),
                      json={k: strict[k] for k in ("left", "operator", "right", "missing_strategy")})
    assert api.status_code == 200
    trial = api.json
    assert len(trial["periods"]) == 4 and trial["broken"] > 0 and trial["evaluated"] > trial["broken"]
    assert trial["skipped_missing"] > 0  # returns of programmes that report no SA15
    assert f"{trial['broken']} would break it" in page and f"{trial['skipped_missing']} skipped" in page
    assert session.scalar(select(func.count(ValidationRule.id)).where(ValidationRule.code == "VR90")) == 0
    # The validator on each of those returns says the same.
    catalogue = load_catalogue(session)
    _, rule = rule_admin.checked({**strict, "name": "Strict"}, catalogue)
    broken = set()
    for record in session.scalars(select(Return).where(Return.period.in_(trial["periods"]),
                                                       Return.state.in_(("submitted", "approved")))):
        frame = stored_frame(session, record, catalogue)
        if rule_issues(frame, [rule], catalogue.names):
            broken.add((catalogue.programme_codes[record.programme_id], catalogue.org_unit_codes[record.org_unit_id],
                        record.period))
    assert {(b["programme"], b["org_unit"], b["period"]) for b in trial["breaches"]} == broken
    first = trial["breaches"][0]
    assert first["org_unit_name"] in page and first["left"] in page and first["state"] in ("submitted", "approved")


def test_a_rule_that_holds_everywhere_breaks_nothing(client, session):
    response = client.post("/api/v1/validation-rules/try", headers=_token(session),
                           json={"left": "SA02", "operator": "<=", "right": "SA01 * 1000"})
    assert response.status_code == 200 and response.json["broken"] == 0 and response.json["evaluated"] > 0


# --------------------------------------------------------------------------- API, catalogue, seed


def test_the_api_creates_changes_and_retires_with_the_same_audit(client, session):
    headers = _token(session)
    created = client.post("/api/v1/validation-rules", json={**RULE, "reason": "By API."}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.headers["Location"].endswith("/api/v1/validation-rules/VR90")
    assert "(SA15) should be at most" in created.json["in_words"] and "(SA14)" in created.json["in_words"]
    changed = client.put("/api/v1/validation-rules/VR90", json={"right": "SA14 + 10", "reason": "Margin."},
                         headers=headers)
    assert changed.status_code == 200 and changed.json["right"] == "SA14 + 10"
    assert client.put("/api/v1/validation-rules/VR90", json={"name": "x"}, headers=headers).status_code == 422
    retired = client.put("/api/v1/validation-rules/VR90", json={"is_active": False, "reason": "Gone."},
                         headers=headers)
    assert retired.status_code == 200 and retired.json["is_active"] is False
    listed = client.get("/api/v1/validation-rules?status=retired", headers=headers).json
    assert [r["code"] for r in listed] == ["VR90"]
    events = _audit(session, "VR90")
    assert [e.action for e in events] == ["catalogue.rule_created", "catalogue.rule_changed", "catalogue.rule_retired"]
    assert events[1].details["before"]["right"] == "SA14" and events[1].details["after"]["right"] == "SA14 + 10"
    assert client.get("/api/v1/validation-rules/NOPE", headers=headers).status_code == 404
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/validation-rules", "/api/v1/validation-rules/{code}", "/api/v1/validation-rules/try"} <= set(paths)
    assert set(paths["/api/v1/validation-rules/{code}"]) >= {"get", "put"}


def test_a_retired_rule_no_longer_fires_on_a_new_submission(session):
    officer = load_user(session, "officer.opct@demo.test")
    secretariat = load_user(session, "secretariat@demo.test")
    rows = flat_rows(session, "OPCT", "001", "2025Q3", 1000)
    rows.loc[rows["indicator"] == "SA02", "value"] = "50000"  # above SA01: VR01 (an error) refuses it
    refused = ingest(session, officer, Incoming(rows.copy(), "api"), programme="OPCT", now=IN_WINDOW)
    assert refused.outcome == "refused" and any("(VR01)" in e.message for e in refused.errors)
    rule_admin.set_active(session, secretariat, "VR01", False, "Retired in a test.")
    stored = ingest(session, officer, Incoming(rows.copy(), "api"), programme="OPCT", now=IN_WINDOW)
    assert stored.outcome == "stored", [e.message for e in stored.errors]
    record = session.get(Return, stored.returns[0].return_id)
    explain_all(session, officer, record)
    return_ops.submit(session, officer, record, now=IN_WINDOW)
    assert record.state == "submitted"


def test_another_session_reads_the_rules_again_after_a_change(app, session):
    """Each process keeps the catalogue under its token; a rule change moves the token."""
    other = Session(bind=session.connection(), autoflush=False)
    try:
        with app.app_context():
            assert "VR01" in {r.code for r in load_catalogue(other).rules}
        rule_admin.set_active(session, load_user(session, "secretariat@demo.test"), "VR01", False, "Test.")
        with app.app_context():
            assert "VR01" not in {r.code for r in load_catalogue(other).rules}
    finally:
        other.close()


def test_the_seed_keeps_an_edited_rule_and_reports_it(session):
    secretariat = load_user(session, "secretariat@demo.test")
    catalogue = load_catalogue(session)
    rule_admin.change_rule(session, catalogue, secretariat, "VR07", {"right": "SA01 * 2"}, "Households of two.")
    summary = seed_catalogue(session)
    assert _rule(session, "VR07").right == "SA01 * 2"
    assert any(line.startswith("validation rule VR07 kept: changed by secretariat@demo.test on ")
               for line in summary.kept)
    assert "validation rule VR07 kept" in summary.describe()
    # An object nobody changed is still brought back to the reference by the seed.
    _rule(session, "VR08").right = "SA01 * 3"
    session.flush()
    seed_catalogue(session)
    assert _rule(session, "VR08").right == "SA01"
