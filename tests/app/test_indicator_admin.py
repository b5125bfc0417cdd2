"""The versioned indicator editor on the web and the API: every change a version with a reason, old versions
readable, reports printing the version they used, meaning-changing fields locked once figures exist, located
errors, the audit before and after, retiring with a replacement, and the seed keeping administrators' changes."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mel.accounts.models import AuditEvent
from mel.accounts.operations import create_token, load_user
from mel.catalogue import indicator_admin
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Indicator, IndicatorVersion
from mel.catalogue.operations import seed_catalogue
from mel.catalogue.versioning import add_version, sheet
from mel.errors import Conflict, Forbidden, ValidationFailed
from mel.reporting.snapshot import gather
from mel.returns.models import DataValue
from reports.model import build
from reports.render import render_html
from tests.helpers import csrf_token

NEW = {"code": "SA90", "name": "Number of caregivers trained on child protection",
       "short_name": "Caregivers trained", "definition": "Caregivers of CT-OVC households trained in the quarter.",
       "rationale": "Training is the programme's complementary service.", "pillar": "social_assistance",
       "level": "output", "unit": "number", "measure": "count", "factor": "", "numerator": "", "denominator": "",
       "calculation": "Summed across counties.", "time_aggregation": "sum", "is_additive_across_programmes": "true",
       "disaggregation": "sex", "direction": "increase", "frequency": "quarterly",
       "data_source": "CT-OVC MIS", "collection_method": "Training registers", "means_of_verification": "Registers",
       "responsible_agency": "Department of Children's Services", "limitations": "", "basis": "new"}
SECRETARIAT = "secretariat@demo.test"


def _token(session, email=SECRETARIAT):
    return {"Authorization": f"Bearer {create_token(session, email, name='indicators').token}"}


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/indicators"), **data})


def _indicator(session, code) -> Indicator:
    return session.scalar(select(Indicator).where(Indicator.code == code))


def _versions(session, code) -> list[IndicatorVersion]:
    indicator = _indicator(session, code)
    return list(session.scalars(select(IndicatorVersion).where(IndicatorVersion.indicator_id == indicator.id)
                                .order_by(IndicatorVersion.version)))


def _audit(session, code):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.object == f"indicator {code}")
                                .order_by(AuditEvent.id)))


def _figures(session, code) -> int:
    return session.scalar(select(func.count()).select_from(DataValue)
                          .where(DataValue.indicator_id == _indicator(session, code).id))


# --------------------------------------------------------------------------- versions on the web


def test_every_seeded_indicator_starts_at_version_one_with_its_sheet(session):
    for indicator in session.scalars(select(Indicator)):
        kept = _versions(session, indicator.code)
        assert [v.version for v in kept] == [indicator.version] == [1]
        assert kept[0].fields == sheet(session, indicator)


def test_the_secretariat_creates_an_indicator_then_edits_its_definition_as_version_two(as_user, session):
    client = as_user(SECRETARIAT)
    assert "New indicator" in client.get("/indicators").get_data(as_text=True)
    response = _post(client, "/catalogue/indicators/new", {**NEW, "reason": "Asked by the TWG."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    created = _indicator(session, "SA90")
    assert (created.version, created.is_active, created.factor) == (1, True, None)
    page = client.get("/indicators/SA90").get_data(as_text=True)
    assert "version 1" in page and "Edit, retire or reactivate SA90" in page
    new_definition = "Caregivers trained in the quarter, counted once each."
    response = _post(client, "/catalogue/indicators/SA90/edit",
                     {**NEW, "definition": new_definition, "reason": "Count each caregiver once."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert (_indicator(session, "SA90").version, _indicator(session, "SA90").definition) == (2, new_definition)
    kept = _versions(session, "SA90")
    assert [(v.version, v.fields["definition"], v.reason) for v in kept] == [
        (1, NEW["definition"], "Asked by the TWG."), (2, new_definition, "Count each caregiver once.")]
    assert kept[1].changed_by == SECRETARIAT
    versions = client.get("/catalogue/indicators/SA90/versions").get_data(as_text=True)
    assert "Version 2" in versions and "Version 1" in versions and "Count each caregiver once." in versions
    assert html.escape(NEW["definition"]) in versions  # the change's before and after
    first = client.get("/catalogue/indicators/SA90/versions/1")
    assert first.status_code == 200 and html.escape(NEW["definition"]) in first.get_data(as_text=True)
    assert client.get("/catalogue/indicators/SA90/versions/3").status_code == 404
    # The audit: created, then changed with the sheet before and after, the reason and the version.
    events = _audit(session, "SA90")
    assert [e.action for e in events] == ["catalogue.indicator_created", "catalogue.indicator_changed"]
    changed = events[1].details
    assert (changed["before"]["definition"], changed["after"]["definition"]) == (NEW["definition"], new_definition)
    assert changed["reason"] == "Count each caregiver once." and changed["version"] == 2
    assert events[1].actor == SECRETARIAT
    # Saving the same values again makes no version.
    assert _post(client, "/catalogue/indicators/SA90/edit",
                 {**NEW, "definition": new_definition, "reason": "Again."}).status_code == 302
    assert _indicator(session, "SA90").version == 2


def test_an_edit_needs_a_reason_and_saves_nothing_without_one(as_user, session):
    client = as_user(SECRETARIAT)
    values = indicator_admin.form_values(session, _indicator(session, "SA02"))
    response = _post(client, "/catalogue/indicators/SA02/edit", {**values, "definition": "Other.", "reason": ""})
    assert response.status_code == 422
    assert "Reason: say why" in response.get_data(as_text=True)
    assert _indicator(session, "SA02").definition != "Other." and len(_versions(session, "SA02")) == 1
    assert _audit(session, "SA02") == []


# --------------------------------------------------------------------------- meaning locked once figures exist


@pytest.mark.parametrize(("change", "field"), [({"measure": "amount", "unit": "KES"}, "measure"),
                                               ({"time_aggregation": "sum"}, "time_aggregation"),
                                               ({"disaggregation": "none"}, "disaggregation")])
def test_a_change_of_meaning_is_refused_once_figures_exist(as_user, session, change, field):
    figures = _figures(session, "SA02")
    assert figures > 0
    before = sheet(session, _indicator(session, "SA02"))
    client = as_user(SECRETARIAT)
    values = indicator_admin.form_values(session, _indicator(session, "SA02"))
    response = _post(client, "/catalogue/indicators/SA02/edit", {**values, **change, "reason": "Try."})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f"SA02 has {figures:,} figures" in page and "Create a new indicator" in page
    api = client.put("/api/v1/indicators/SA02", json={**change, "reason": "Try."}, headers=_token(session))
    assert api.status_code == 409, api.get_data(as_text=True)
    located = [d for d in api.json["details"] if d["location"]["field"] == field]
    assert located and located[0]["location"]["indicator"] == "SA02"
    assert located[0]["location"]["figures"] == figures
    assert f"SA02 has {figures:,} figures" in located[0]["message"]
    assert sheet(session, _indicator(session, "SA02")) == before and len(_versions(session, "SA02")) == 1


def test_other_fields_change_freely_with_figures(client, session):
    response = client.put("/api/v1/indicators/SA02", json={"definition": "Older persons paid in the quarter.",
                                                            "data_source": "Payroll", "reason": "Clearer."},
                          headers=_token(session))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.json["version"], response.json["definition"]) == (2, "Older persons paid in the quarter.")


def test_a_new_indicator_without_figures_may_change_its_measure(client, session):
    headers = _token(session)
    assert client.post("/api/v1/indicators", json={**NEW, "factor": None, "is_additive_across_programmes": True},
                       headers=headers).status_code == 201
    response = client.put("/api/v1/indicators/SA90", headers=headers, json={
        "measure": "ratio", "unit": "percent", "factor": 100, "numerator": "Caregivers trained",
        "denominator": "Caregivers enrolled", "reason": "A share is more telling."})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.json["measure"], response.json["factor"], response.json["version"]) == ("ratio", 100, 2)


def test_a_ratio_named_by_a_validation_rule_keeps_being_a_ratio(session):
    from mel.catalogue import rule_admin

    actor = load_user(session, SECRETARIAT)
    indicator_admin.create_indicator(session, actor, {**NEW, "measure": "ratio", "unit": "percent", "factor": "100",
                                                      "numerator": "Trained", "denominator": "Enrolled"}, "New.")
    rule_admin.create_rule(session, load_catalogue(session), actor, {
        "code": "VR91", "name": "Trained within enrolled", "left": "SA90.N", "operator": "<=", "right": "SA90.D"})
    with pytest.raises(Conflict) as refused:
        indicator_admin.change_indicator(session, actor, "SA90", {"measure": "count", "unit": "number", "factor": "",
                                                                  "numerator": "", "denominator": ""}, "Try.")
    assert refused.value.details[0].location == {"field": "measure", "indicator": "SA90", "rules": ["VR91"]}
    with pytest.raises(Conflict) as in_use:
        indicator_admin.retire_indicator(session, actor, "SA90", "Gone.")
    assert "VR91" in in_use.value.details[0].message and _indicator(session, "SA90").is_active


# --------------------------------------------------------------------------- located errors, every field

BAD_INPUTS = [
    ({"code": ""}, "code", "Code: required"),
    ({"code": "SA02"}, "code", "Code: an indicator SA02 already exists"),
    ({"code": "9AB"}, "code", "must be a capital letter"),
    ({"code": "SA-90"}, "code", "must be a capital letter"),
    ({"name": ""}, "name", "Name: required."),
    ({"name": "x" * 301}, "name", "Name: at most 300 characters (301 given)."),
    ({"short_name": ""}, "short_name", "Short name: required."),
    ({"short_name": "x" * 121}, "short_name", "Short name: at most 120 characters"),
    ({"definition": ""}, "definition", "Definition: required."),
    ({"definition": "x" * 4001}, "definition", "Definition: at most 4000 characters"),
    ({"pillar": "nope"}, "pillar", "Pillar: “nope” is not a pillar"),
    ({"level": "galactic"}, "level", "Level: “galactic” is not one of impact, outcome, output, process."),
    ({"unit": "litres"}, "unit", "Unit: “litres” is not one of number, percent, KES, days."),
    ({"measure": "average"}, "measure", "Measure: “average” is not one of count, amount, ratio."),
    ({"factor": "ten"}, "factor", "Factor: “ten” is not a whole number"),
    ({"factor": "100"}, "factor", "Factor: only a ratio has a factor"),
    ({"measure": "ratio"}, "factor", "Factor: a ratio needs a factor"),
    ({"measure": "ratio", "factor": "0", "numerator": "a", "denominator": "b"}, "factor", "Factor: 0 is outside"),
    ({"measure": "ratio", "factor": "1"}, "numerator", "Numerator: a ratio needs its numerator defined"),
    ({"measure": "ratio", "factor": "1", "numerator": "a"}, "denominator", "Denominator: a ratio needs"),
    ({"measure": "ratio", "unit": "percent", "factor": "10", "numerator": "a", "denominator": "b"}, "factor",
     "Factor: a percentage has the factor 100 (10 given)."),
    ({"numerator": "People"}, "numerator", "Numerator: only a ratio has a numerator"),
    ({"denominator": "People"}, "denominator", "Denominator: only a ratio has a denominator"),
    ({"unit": "percent"}, "unit", "Unit: a percentage is computed"),
    ({"time_aggregation": "mean"}, "time_aggregation", "Over time: “mean” is not one of sum, last."),
    ({"is_additive_across_programmes": "maybe"}, "is_additive_across_programmes", "“maybe” is not true or false"),
    ({"disaggregation": "colour"}, "disaggregation", "Disaggregation set: “colour” is not a disaggregation set"),
    ({"direction": "sideways"}, "direction", "Desired direction: “sideways” is not one of increase, decrease."),
    ({"frequency": "weekly"}, "frequency", "Frequency: “weekly” is not one of quarterly, annual."),
    ({"data_source": "x" * 4001}, "data_source", "Data source: at most 4000 characters"),
    ({"responsible_agency": "x" * 201}, "responsible_agency", "Responsible agency: at most 200 characters"),
    ({"reason": "x" * 501}, "reason", "Reason: at most 500 characters"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUTS)
def test_a_bad_indicator_is_refused_with_a_located_message_on_the_web_and_the_api(as_user, session, change,
                                                                                  field, message):
    before = session.scalar(select(func.count(Indicator.id)))
    client = as_user(SECRETARIAT)
    response = _post(client, "/catalogue/indicators/new", {**NEW, **change})
    assert response.status_code == 422
    assert html.escape(message) in response.get_data(as_text=True)
    payload = {**NEW, "factor": None, "is_additive_across_programmes": True, **change}
    api = client.post("/api/v1/indicators", json=payload, headers=_token(session))
    assert api.status_code == 422, api.get_data(as_text=True)
    located = [d for d in api.json.get("details", []) if d.get("location", {}).get("field") == field]
    if field in change and field in ("factor", "is_additive_across_programmes") and not str(change[field]).isdigit():
        assert located, api.json  # a typed field is refused by the schema first, named
    else:
        assert located and any(message in d["message"] for d in located), api.json
    assert session.scalar(select(func.count(Indicator.id))) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(indicator_admin.FIELDS),
                              st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.none()), max_size=6))
def test_random_input_never_gives_500_and_changes_nothing_when_refused(app, session, fields):
    before = sheet(session, _indicator(session, "SA07"))
    with app.test_client() as client:
        response = client.put("/api/v1/indicators/SA07", headers=_headers(session), json={**fields, "reason": "Fuzz."})
        assert response.status_code in (200, 409, 422), response.get_data(as_text=True)[:300]
        if response.status_code != 200:
            assert sheet(session, _indicator(session, "SA07")) == before
        response = client.post("/api/v1/indicators", headers=_headers(session), json={**fields, "code": "ZZ1"})
        assert response.status_code in (201, 422), response.get_data(as_text=True)[:300]
    session.rollback()


_TOKENS: dict = {}


def _headers(session):
    if _TOKENS.get("session") is not session:
        _TOKENS.update(session=session, token=create_token(session, SECRETARIAT, name="fuzz").token)
    return {"Authorization": f"Bearer {_TOKENS['token']}"}


# --------------------------------------------------------------------------- who may

@pytest.mark.parametrize("email", ["reviewer@demo.test", "officer.opct@demo.test", "viewer@demo.test"])
def test_only_the_secretariat_edits(session, email):
    user = load_user(session, email)
    for call in (lambda: indicator_admin.create_indicator(session, user, NEW, "x"),
                 lambda: indicator_admin.change_indicator(session, user, "SA02", {"name": "x"}, "x"),
                 lambda: indicator_admin.retire_indicator(session, user, "SA02", "x"),
                 lambda: indicator_admin.reactivate_indicator(session, user, "SA02", "x")):
        with pytest.raises(Forbidden):
            call()


# --------------------------------------------------------------------------- retire, replace, reactivate


def test_retiring_an_indicator_on_a_form_names_the_forms(client, session):
    response = client.put("/api/v1/indicators/SA07", json={"is_active": False, "reason": "Old."},
                          headers=_token(session))
    assert response.status_code == 409
    detail = response.json["details"][0]
    assert "HSNP-QR" in detail["message"] and "HSNP-QR" in detail["location"]["forms"]
    assert _indicator(session, "SA07").is_active is True


def test_a_retired_indicator_links_to_its_replacement_in_pages_results_and_reports(as_user, session):
    actor = load_user(session, SECRETARIAT)
    indicator_admin.create_indicator(session, actor, NEW, "New.")
    indicator_admin.create_indicator(session, actor, {**NEW, "code": "SA91", "name": "Caregivers trained (new)",
                                                      "short_name": "Caregivers trained v2"}, "New.")
    with pytest.raises(ValidationFailed) as refused:
        indicator_admin.retire_indicator(session, actor, "SA90", "Replaced.", "SA90")
    assert refused.value.details[0].location["field"] == "replaced_by"
    with pytest.raises(ValidationFailed):
        indicator_admin.retire_indicator(session, actor, "SA90", "Replaced.", "NOPE")
    client = as_user(SECRETARIAT)
    response = _post(client, "/catalogue/indicators/SA90/retire", {"reason": "Counted differently.",
                                                                   "replaced_by": "sa91"})
    assert response.status_code == 302
    retired = _indicator(session, "SA90")
    assert (retired.is_active, retired.replaced_by_id, retired.version) == (False, _indicator(session, "SA91").id, 2)
    assert _versions(session, "SA90")[-1].fields["replaced_by"] == "SA91"
    sheet_page = client.get("/indicators/SA90").get_data(as_text=True)
    assert "Retired" in sheet_page and "Replaced by" in sheet_page and "/indicators/SA91" in sheet_page
    assert "Replaces" in client.get("/indicators/SA91").get_data(as_text=True)
    results = client.get("/dashboard/indicators/SA90?period=2025Q2").get_data(as_text=True)
    assert "Replaced by" in results and "/dashboard/indicators/SA91" in results
    # A replacement must be active.
    with pytest.raises(ValidationFailed):
        indicator_admin.retire_indicator(session, actor, "SA91", "x", "SA90")
    # The report's indicator note.
    from reports.model import lineage_note

    snapshot = gather(session, load_catalogue(session), kind="sector", period="2025Q2",
                      generated_at=datetime(2025, 10, 1, tzinfo=UTC))
    assert snapshot["indicators"]["SA90"]["replaced_by"] == "SA91"
    assert snapshot["indicators"]["SA91"]["replaces"] == ["SA90"]
    assert lineage_note(snapshot["indicators"], "SA90") == "Retired; replaced by SA91 (Caregivers trained v2)."
    # Reactivating ends the link, as a new version.
    assert _post(client, "/catalogue/indicators/SA90/reactivate", {"reason": "Back."}).status_code == 302
    assert (_indicator(session, "SA90").is_active, _indicator(session, "SA90").replaced_by_id) == (True, None)
    assert [e.action for e in _audit(session, "SA90")] == [
        "catalogue.indicator_created", "catalogue.indicator_retired", "catalogue.indicator_reactivated"]
    assert _indicator(session, "SA90").version == 3


def test_the_api_creates_changes_retires_and_lists_versions(client, session):
    headers = _token(session)
    created = client.post("/api/v1/indicators", json={**NEW, "factor": None, "is_additive_across_programmes": False,
                                                      "reason": "By API."}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.headers["Location"].endswith("/api/v1/indicators/SA90")
    assert (created.json["version"], created.json["is_additive_across_programmes"]) == (1, False)
    changed = client.put("/api/v1/indicators/SA90", json={"definition": "Changed.", "reason": "Why."},
                         headers=headers)
    assert changed.status_code == 200 and changed.json["version"] == 2
    assert client.put("/api/v1/indicators/SA90", json={"definition": "x"}, headers=headers).status_code == 422
    assert client.put("/api/v1/indicators/SA90", json={"reason": "Nothing."}, headers=headers).status_code == 422
    retired = client.put("/api/v1/indicators/SA90", json={"is_active": False, "replaced_by": "SA02",
                                                           "reason": "Gone."}, headers=headers)
    assert retired.status_code == 200 and (retired.json["is_active"], retired.json["replaced_by"]) == (False, "SA02")
    assert "SA90" in client.get("/api/v1/indicators/SA02", headers=headers).json["replaces"]
    versions = client.get("/api/v1/indicators/SA90/versions", headers=headers).json
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[2]["fields"]["definition"] == NEW["definition"] and versions[1]["fields"]["definition"] == "Changed."
    assert versions[0]["changed_by"] == SECRETARIAT
    one = client.get("/api/v1/indicators/SA90/versions/1", headers=headers)
    assert one.status_code == 200 and one.json["reason"] == "By API."
    assert client.get("/api/v1/indicators/SA90/versions/9", headers=headers).status_code == 404
    # Every signed-in user reads versions, without who made them.
    viewer = client.get("/api/v1/indicators/SA90/versions", headers=_token(session, "viewer@demo.test")).json
    assert viewer[0]["changed_by"] is None and viewer[0]["fields"]["is_active"] is False
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/indicators"])
    assert {"get", "put"} <= set(paths["/api/v1/indicators/{code}"])
    assert {"/api/v1/indicators/{code}/versions", "/api/v1/indicators/{code}/versions/{number}"} <= set(paths)


# --------------------------------------------------------------------------- reports print the version they used


def test_a_report_prints_the_definition_of_the_version_it_used(session):
    actor = load_user(session, SECRETARIAT)
    catalogue = load_catalogue(session)
    when = datetime(2025, 10, 1, tzinfo=UTC)
    old = _indicator(session, "SA07").definition
    first = gather(session, catalogue, kind="programme", programme="HSNP", period="2025Q2", generated_at=when)
    stored = json.loads(json.dumps(first))  # as a run keeps it
    assert stored["indicators"]["SA07"]["version"] == 1
    new = "Households on the HSNP routine payroll paid in the quarter, counted once."
    indicator_admin.change_indicator(session, actor, "SA07", {"definition": new}, "Counted once.")
    again = render_html(build(stored, reference="Run 1"))
    assert html.escape(old.rstrip(".")) in again and html.escape(new.rstrip(".")) not in again
    assert "Reference sheet:</b> version 1." in again
    later = render_html(build(gather(session, load_catalogue(session), kind="programme", programme="HSNP",
                                     period="2025Q2", generated_at=when), reference="Run 2"))
    assert html.escape(new.rstrip(".")) in later and "Reference sheet:</b> version 2." in later


# --------------------------------------------------------------------------- the seed


def test_the_seed_keeps_an_edited_indicator_and_adds_no_version(session):
    actor = load_user(session, SECRETARIAT)
    indicator_admin.change_indicator(session, actor, "SA03", {"definition": "Edited by the secretariat."}, "Ours.")
    summary = seed_catalogue(session)
    assert _indicator(session, "SA03").definition == "Edited by the secretariat."
    assert any(line.startswith("indicator SA03 kept: changed by secretariat@demo.test") for line in summary.kept)
    assert [v.version for v in _versions(session, "SA03")] == [1, 2]
    assert not seed_catalogue(session).updated.get("indicator")


def test_a_seed_update_is_a_new_version(session):
    indicator = _indicator(session, "SA04")
    reference = indicator.definition
    indicator.definition = "An older reference text."
    add_version(session, indicator, reason="Older reference.", by="reference catalogue")
    seed_catalogue(session)
    kept = _versions(session, "SA04")
    assert [v.version for v in kept] == [1, 2, 3] and _indicator(session, "SA04").version == 3
    assert kept[-1].fields["definition"] == reference and kept[-1].changed_by == "reference catalogue"
