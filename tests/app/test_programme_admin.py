"""The secretariat creates and changes programmes, and changes what a programme's form asks for (its
indicators and org units) from a stated quarter on: earlier quarters keep the form their returns were
made with; closed history is never rewritten; figures already sent are never orphaned; every change is
audited with before and after. The clock stands on 5 October 2025: the quarter reported is 2025Q3,
the demo history runs to 2025Q2."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from indicators.figures import ingest_frame, ingest_row
from mel.accounts.models import AuditEvent
from mel.accounts.operations import create_token
from mel.catalogue import form_contents, programme_admin
from mel.catalogue.form_admin import add_window_exception
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Programme, ReportingForm
from mel.catalogue.operations import seed_catalogue
from mel.catalogue.queries import forms as all_forms
from mel.catalogue.queries import programme as find_programme
from mel.errors import Forbidden, NotFound, ValidationFailed
from mel.reporting.snapshot import gather
from mel.returns import checks
from mel.returns import operations as returns
from mel.returns.models import Return
from mel.review import operations as review
from mel.review.queries import expected_returns
from tests.app.returns_helpers import IN_WINDOW, rows_like, send, user
from tests.helpers import csrf_token, login

SECRETARIAT = "secretariat@demo.test"
NEW_PROGRAMME = {"code": "KSMCT", "name": "Kisumu County Cash Transfer", "pillar": "social_assistance",
                 "agency": "County Government of Kisumu", "level": "county", "org_units": ["042", "37"],
                 "from_period": "2025Q4", "notes": "Funded by the county assembly.",
                 "reason": "The county started its own scheme in October 2025"}


@pytest.fixture(autouse=True)
def reporting_2025q3():
    with time_machine.travel(IN_WINDOW, tick=False):
        yield


@pytest.fixture
def secretariat(client):
    login(client, SECRETARIAT)
    return client


@pytest.fixture
def api(session):
    return {"Authorization": f"Bearer {create_token(session, SECRETARIAT, name='programmes').token}"}


def _form(session, code: str) -> ReportingForm:
    return next(f for f in all_forms(session, code))


def _audits(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/catalogue/programmes/new"), **data})


def _opct_items(session, quarter: str) -> list[dict]:
    return form_contents.contents_at(_form(session, "OPCT"), quarter)["indicators"]


# --------------------------------------------------------------------------- programmes


def test_a_new_programme_gets_its_form_from_the_stated_quarter_and_the_audit_keeps_it(session, secretariat):
    page = secretariat.get("/catalogue/programmes/new")
    assert page.status_code == 200 and 'name="from_period"' in page.get_data(as_text=True)
    response = _post(secretariat, "/catalogue/programmes/new", NEW_PROGRAMME)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert response.headers["Location"].endswith("/catalogue/programmes/KSMCT/form#contents")
    page = secretariat.get("/catalogue/programmes/KSMCT/form?quarter=2025Q4").get_data(as_text=True)
    assert "The form by quarters" in page and "asks for 0 indicators of 2 org units" in page
    form = _form(session, "KSMCT")
    assert form.code == "KSMCT-QR" and form.name == "Kisumu County Cash Transfer – quarterly return"
    assert (form.opens_days, form.due_days, form.closes_days) == (0, 15, 45)
    # No return is asked before the stated quarter: closed quarters' completeness does not move.
    assert form.org_units_in("2025Q3") == [] and form.items_in("2025Q4") == []
    assert [u.code for u in form.org_units_in("2025Q4")] == ["037", "042"]
    assert [u.code for u in form.org_units_in("2026July")] == ["037", "042"]
    catalogue = load_catalogue(session)
    assert "KSMCT" in catalogue.programmes
    expected_q3 = expected_returns(session, catalogue, "2025Q3")
    expected_q4 = expected_returns(session, catalogue, "2025Q4")
    assert "KSMCT" not in set(expected_q3["programme"])
    assert sorted(expected_q4.loc[expected_q4["programme"] == "KSMCT", "org_unit"]) == ["037", "042"]
    created = _audits(session, "catalogue.programme_created")[-1]
    assert created.object == "programme KSMCT" and created.actor == SECRETARIAT
    assert created.details["before"] == {} and created.details["reason"] == NEW_PROGRAMME["reason"]
    assert created.details["after"]["level"] == "county" and created.details["after"]["from_period"] == "2025Q4"
    assert created.details["after"]["org_units"] == ["037", "042"]
    contents = _audits(session, "catalogue.form_contents_changed")[-1]
    assert contents.object == "reporting form KSMCT-QR"
    assert contents.details["before"] == {"indicators": [], "org_units": []}
    assert contents.details["after"] == {"indicators": [], "org_units": ["037", "042"]}
    assert [u.code for u in find_programme(session, "KSMCT").org_units] == ["037", "042"]  # where it operates
    # The seed leaves it as the administrator made it.
    summary = seed_catalogue(session)
    assert not summary.changed, summary.describe()
    assert [u.code for u in _form(session, "KSMCT").org_units_in("2025Q4")] == ["037", "042"]
    assert _form(session, "KSMCT").org_units_in("2025Q3") == []


def test_the_api_creates_and_changes_a_programme(session, client, api):
    created = client.post("/api/v1/programmes", headers=api, json=NEW_PROGRAMME)
    assert created.status_code == 201, created.json
    assert created.json["code"] == "KSMCT" and created.json["org_units"] == ["037", "042"]
    assert created.json["pillar"]["code"] == "social_assistance" and created.json["level"] == "county"
    form = client.get("/api/v1/forms/KSMCT", headers=api).json
    assert form["code"] == "KSMCT-QR" and form["indicators"] == [] and form["quarter"] == "2025Q3"
    assert form["org_units"] == []  # the quarter being reported is before the stated one
    assert form["versions"] == [{"from": "2025Q4", "until": None, "indicators": [], "org_units": ["037", "042"]}]
    changed = client.put("/api/v1/programmes/KSMCT", headers=api, json={
        "name": "Kisumu Cash Transfer", "org_units": ["042"], "from_period": "2026Q1", "reason": "Migori left"})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Kisumu Cash Transfer" and changed.json["org_units"] == ["042"]
    form = _form(session, "KSMCT")
    assert form.name == "Kisumu Cash Transfer – quarterly return"
    assert [u.code for u in form.org_units_in("2025Q4")] == ["037", "042"]
    assert [u.code for u in form.org_units_in("2026Q1")] == ["042"]
    event = _audits(session, "catalogue.programme_changed")[-1]
    assert event.details["before"]["name"] == "Kisumu County Cash Transfer"
    assert event.details["after"]["name"] == "Kisumu Cash Transfer"
    assert event.details["before"]["org_units"] == ["037", "042"] and event.details["after"]["org_units"] == ["042"]
    assert event.details["from_period"] == "2026Q1" and event.details["reason"] == "Migori left"
    again = client.put("/api/v1/programmes/KSMCT", headers=api, json={"name": "Kisumu Cash Transfer", "reason": "x"})
    assert again.status_code == 409


GOOD = {**NEW_PROGRAMME}
FIELD_ERRORS = [
    ({"code": ""}, "code", "required"),
    ({"code": "OPCT"}, "code", "already exists"),
    ({"code": "KS MCT!"}, "code", "A–Z"),
    ({"code": "K" * 21}, "code", "at most 20"),
    ({"name": ""}, "name", "required"),
    ({"name": "n" * 201}, "name", "at most 200"),
    ({"pillar": "housing"}, "pillar", "is not a pillar"),
    ({"pillar": ""}, "pillar", "choose one of"),
    ({"agency": " "}, "agency", "required"),
    ({"notes": "n" * 2001}, "notes", "at most 2000"),
    ({"level": "regional"}, "level", "national or county"),
    ({"org_units": []}, "org_units", "at least one"),
    ({"org_units": ["999"]}, "org_units[0]", "'999' is not an org unit"),
    ({"org_units": ["042", "KE"]}, "org_units[1]", "county-funded programme reports for counties"),
    ({"from_period": ""}, "from_period", "from which quarter"),
    ({"from_period": "2025Q9"}, "from_period", "is not a period"),
    ({"from_period": "2025July"}, "from_period", "is not a quarter"),
    ({"from_period": "2025Q2"}, "from_period", "before FY2025/26 Q1"),
    ({"from_period": "2030Q1"}, "from_period", "quarters ahead"),
    ({"reason": ""}, "reason", "say why"),
    ({"reason": "r" * 501}, "reason", "at most 500"),
]


@pytest.mark.parametrize(("change", "field", "words"), FIELD_ERRORS)
def test_each_field_error_is_located_and_nothing_is_created(session, change, field, words):
    before = session.scalar(select(func.count()).select_from(Programme))
    with pytest.raises(ValidationFailed) as refused:
        programme_admin.create_programme(session, user(session, SECRETARIAT), {**GOOD, **change})
    located = [d for d in refused.value.details if d.location.get("field") == field]
    assert located and words in located[0].message, [d.message for d in refused.value.details]
    assert len(refused.value.details) == 1, [d.message for d in refused.value.details]
    assert session.scalar(select(func.count()).select_from(Programme)) == before
    assert not _audits(session, "catalogue.programme_created")


@pytest.mark.parametrize(("change", "field", "words"), FIELD_ERRORS)
def test_the_api_and_the_page_locate_the_same_errors(session, secretariat, api, change, field, words):
    """The API's schema checks some fields first (level, reason's length) in its own words, located alike."""
    response = secretariat.post("/api/v1/programmes", headers=api, json={**GOOD, **change})
    assert response.status_code == 422
    assert any(d.get("location", {}).get("field") == field for d in response.json["details"]), response.json
    page = _post(secretariat, "/catalogue/programmes/new", {**GOOD, **change})
    assert page.status_code == 422 and words in page.get_data(as_text=True).replace("&#39;", "'")
    assert session.scalar(select(Programme.id).where(Programme.code == "KSMCT")) is None


def test_a_programme_edit_refuses_a_new_code_and_a_county_level_at_the_national_unit(session):
    actor = user(session, SECRETARIAT)
    with pytest.raises(ValidationFailed) as refused:
        programme_admin.update_programme(session, actor, "SPS", {"code": "SPX", "level": "county", "reason": "x"})
    fields = {d.location["field"] for d in refused.value.details}
    assert fields == {"code", "level"}
    with pytest.raises(NotFound):
        programme_admin.update_programme(session, actor, "NOPE", {"name": "x", "reason": "x"})


def test_the_programme_edit_page_changes_fields_and_where_it_operates_from_a_quarter(session, secretariat):
    page = secretariat.get("/catalogue/programmes/HSNP/edit")
    assert page.status_code == 200 and "Hunger Safety Net Programme" in page.get_data(as_text=True)
    hsnp = _form(session, "HSNP")
    units = [u.code for u in hsnp.org_units_in("2025Q3")]
    response = _post(secretariat, "/catalogue/programmes/HSNP/edit", {
        "name": "Hunger Safety Net Programme", "pillar": "social_assistance", "agency": "NDMA",
        "level": "national", "notes": "", "org_units": [*units, "042"], "from_period": "2025Q4",
        "reason": "HSNP extends to Kisumu"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    hsnp = _form(session, "HSNP")
    assert "042" not in {u.code for u in hsnp.org_units_in("2025Q3")}
    assert "042" in {u.code for u in hsnp.org_units_in("2025Q4")}
    catalogue = load_catalogue(session)
    with pytest.raises(NotFound, match="does not report for Kisumu"):
        returns.find_return(session, catalogue, "HSNP", "042", "2025Q3")
    assert returns.find_return(session, catalogue, "HSNP", "042", "2025Q4").record is None
    assert session.scalar(select(Programme).where(Programme.code == "HSNP")).agency == "NDMA"
    detail = secretariat.get("/programmes/HSNP").get_data(as_text=True)
    assert "Edit the programme" in detail and "NDMA" in detail


@pytest.mark.parametrize("email", ["reviewer@demo.test", "officer.opct@demo.test", "viewer@demo.test"])
def test_only_the_secretariat_administers_programmes_and_forms(session, email):
    person = user(session, email)
    calls = [lambda: programme_admin.create_programme(session, person, GOOD),
             lambda: programme_admin.update_programme(session, person, "OPCT", {"name": "x", "reason": "x"}),
             lambda: form_contents.save_contents(session, person, "OPCT", {"from_period": "2025Q4",
                                                                           "org_units": ["042"], "reason": "x"})]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert session.scalar(select(Programme.id).where(Programme.code == "KSMCT")) is None


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(max_size=25), unit=st.text(max_size=12), quarter=st.text(max_size=12),
       name=st.text(max_size=30))
def test_free_form_input_is_refused_in_words_or_stored_whole(session, code, unit, quarter, name):
    actor = user(session, SECRETARIAT)
    before = session.scalar(select(func.count()).select_from(Programme))
    nested = session.begin_nested()
    try:
        created = programme_admin.create_programme(session, actor, {
            **GOOD, "code": code, "name": name, "org_units": [unit], "from_period": quarter})
    except ValidationFailed as refused:
        assert refused.details and all(d.location.get("field") for d in refused.details)
        assert session.scalar(select(func.count()).select_from(Programme)) == before
    else:
        assert created.code == code.strip().upper() and created.org_units
    finally:
        nested.rollback()


# --------------------------------------------------------------------------- a form's indicators and org units


def test_a_form_change_cannot_reach_back_before_the_quarter_being_reported(session, client, api):
    before = _opct_items(session, "2025Q2")
    response = client.put("/api/v1/forms/OPCT", headers=api, json={
        "from_period": "2025Q2", "indicators": [{"indicator": "SA01"}], "reason": "Shorter form"})
    assert response.status_code == 422
    detail = response.json["details"][0]
    assert detail["location"] == {"field": "from_period", "value": "2025Q2"}
    assert "before FY2025/26 Q1 (Jul–Sep 2025), the quarter being reported now" in detail["message"]
    assert _opct_items(session, "2025Q2") == before and not _audits(session, "catalogue.form_contents_changed")


@pytest.mark.parametrize(("indicators", "field", "words"), [
    ([{"indicator": "SA99"}], "indicators[0]", "'SA99' is not an indicator"),
    ([{"indicator": "SA01"}, {"indicator": "sa01"}], "indicators[1]", "on the list twice"),
    ([{"indicator": ""}], "indicators[0]", "code is empty"),
])
def test_each_indicator_error_is_located(session, client, api, indicators, field, words):
    response = client.put("/api/v1/forms/OPCT", headers=api, json={
        "from_period": "2025Q4", "indicators": indicators, "reason": "x"})
    assert response.status_code == 422
    assert any(d["location"]["field"] == field and words in d["message"] for d in response.json["details"])


def test_taking_off_an_indicator_or_unit_with_figures_is_refused_naming_the_returns(session, client, api):
    result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"]))
    assert not result.errors, result.errors[:3]
    kept = [item for item in _opct_items(session, "2025Q3") if item["indicator"] != "SA01"]
    response = client.put("/api/v1/forms/OPCT", headers=api, json={
        "from_period": "2025Q3", "indicators": kept, "reason": "SA01 moves to the MIS push"})
    assert response.status_code == 422
    message = response.json["details"][0]["message"]
    assert "SA01 cannot come off the form from FY2025/26 Q1" in message and "OPCT 042 2025Q3" in message
    assert response.json["details"][0]["location"] == {"field": "indicators", "indicator": "SA01"}
    units = [u.code for u in _form(session, "OPCT").org_units_in("2025Q3") if u.code != "042"]
    response = client.put("/api/v1/forms/OPCT", headers=api, json={
        "from_period": "2025Q3", "org_units": units, "reason": "Kisumu reports through the county scheme"})
    assert response.status_code == 422 and "042 cannot come off" in response.json["details"][0]["message"]
    assert "SA01" in {i["indicator"] for i in _opct_items(session, "2025Q3")}
    # From the next quarter on, no return holds them yet: the change is taken.
    response = client.put("/api/v1/forms/OPCT", headers=api, json={
        "from_period": "2025Q4", "indicators": kept, "reason": "SA01 moves to the MIS push"})
    assert response.status_code == 200, response.json
    assert "SA01" in {i["indicator"] for i in _opct_items(session, "2025Q3")}
    assert "SA01" not in {i["indicator"] for i in _opct_items(session, "2025Q4")}
    assert response.json["versions"][-1]["from"] == "2025Q4"


def test_order_and_required_change_from_a_quarter_and_the_audit_has_both_sides(session, secretariat):
    page = secretariat.get("/catalogue/programmes/OPCT/form?quarter=2025Q3")
    assert page.status_code == 200 and 'id="contents"' in page.get_data(as_text=True)
    before = _opct_items(session, "2025Q3")
    codes = [item["indicator"] for item in before]
    chosen = [codes[1], codes[0], *codes[2:]]
    data = {"indicator": chosen, "required": chosen[1:], "org_units": [u.code for u in
                                                                     _form(session, "OPCT").org_units_in("2025Q3")],
            "from_period": "2025Q4", "reason": "The payroll figure first"}
    data.update({f"order.{code}": str(n + 1) for n, code in enumerate(chosen)})
    response = secretariat.post("/catalogue/programmes/OPCT/form/contents",
                                data={"csrf_token": csrf_token(secretariat, "/catalogue/programmes/OPCT/form"), **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    after = _opct_items(session, "2025Q4")
    assert [i["indicator"] for i in after] == chosen
    assert [i["required"] for i in after] == [False] + [True] * (len(chosen) - 1)
    assert _opct_items(session, "2025Q3") == before
    event = _audits(session, "catalogue.form_contents_changed")[-1]
    assert event.object == "reporting form OPCT-QR" and event.details["from_period"] == "2025Q4"
    assert event.details["before"]["indicators"] == before and event.details["after"]["indicators"] == after
    # A required cell left empty blocks only the quarters that require it.
    catalogue = load_catalogue(session)
    q3 = Return(programme_id=catalogue.programmes["OPCT"].id, org_unit_id=catalogue.org_units["042"].id,
                period="2025Q3", form_id=catalogue.forms[catalogue.programmes["OPCT"].id].id)
    q4 = Return(programme_id=q3.programme_id, org_unit_id=q3.org_unit_id, period="2025Q4", form_id=q3.form_id)
    assert chosen[0] in set(checks.required_frame(q3, catalogue)["indicator"])
    assert chosen[0] not in set(checks.required_frame(q4, catalogue)["indicator"])
    # A typing slip in an order number is named, nothing saved.
    data["order." + chosen[0]] = "first"
    refused = secretariat.post("/catalogue/programmes/OPCT/form/contents",
                               data={"csrf_token": csrf_token(secretariat, "/catalogue/programmes/OPCT/form"), **data})
    assert refused.status_code == 422 and "is not a number" in refused.get_data(as_text=True)


def test_a_change_stated_again_replaces_the_later_one_and_undoing_it_leaves_one_stretch(session):
    actor = user(session, SECRETARIAT)
    original = _opct_items(session, "2025Q3")
    form_contents.save_contents(session, actor, "OPCT", {"from_period": "2026Q1", "reason": "x",
                                                         "indicators": original[:3]})
    form_contents.save_contents(session, actor, "OPCT", {"from_period": "2025Q4", "reason": "y",
                                                         "indicators": original[:5]})
    assert len(_opct_items(session, "2026Q3")) == 5  # the 2026Q1 change was replaced
    form_contents.save_contents(session, actor, "OPCT", {"from_period": "2025Q4", "reason": "undo",
                                                         "indicators": original})
    assert [v["from"] for v in form_contents.versions(_form(session, "OPCT"))] == [None]
    assert _opct_items(session, "2027Q1") == original


def test_an_exception_needs_the_unit_on_the_form_in_its_quarter(session):
    actor = user(session, SECRETARIAT)
    hsnp = [u.code for u in _form(session, "HSNP").org_units_in("2025Q3")]
    form_contents.save_contents(session, actor, "HSNP", {"from_period": "2025Q4", "org_units": [*hsnp, "042"],
                                                         "reason": "HSNP extends to Kisumu"})
    with pytest.raises(ValidationFailed) as refused:
        add_window_exception(session, actor, "HSNP", {"org_unit": "042", "period": "2025Q3",
                                                      "closes_on": "2025-12-30", "reason": "Floods"})
    assert refused.value.details[0].message == "org_unit: Kisumu is not on the HSNP-QR form for FY2025/26 Q1 (Jul–Sep 2025)."
    granted = add_window_exception(session, actor, "HSNP", {"org_unit": "042", "period": "2025Q4",
                                                            "closes_on": "2026-03-30", "reason": "Floods"})
    assert granted.org_unit.code == "042"


# --------------------------------------------------------------------------- the end-to-end check


def _new_indicator(app) -> str:
    """SA91, created as the secretariat creates it: a browser's POST of the indicator editor's page."""
    browser = app.test_client()
    assert login(browser, SECRETARIAT).status_code == 302
    response = browser.post("/catalogue/indicators/new", data={
        "code": "SA91", "name": "Number of beneficiaries reached by the county helpdesk",
        "short_name": "Helpdesk contacts", "definition": "Beneficiaries whose query the county helpdesk closed.",
        "rationale": "", "pillar": "social_assistance", "level": "output", "unit": "number", "measure": "count",
        "factor": "", "numerator": "", "denominator": "", "calculation": "Summed across counties.",
        "time_aggregation": "sum", "is_additive_across_programmes": "true", "disaggregation": "none",
        "direction": "increase", "frequency": "quarterly", "data_source": "Helpdesk log",
        "collection_method": "Log", "means_of_verification": "Log", "responsible_agency": "SDSPSCA",
        "limitations": "", "basis": "new", "reason": "The helpdesk opened in July",
        "csrf_token": csrf_token(browser, "/catalogue/indicators/new")})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert response.headers["Location"].endswith("/indicators/SA91"), response.headers["Location"]
    page = browser.get("/indicators/SA91").get_data(as_text=True)
    assert "SA91 created (version 1)" in page and "reached by the county helpdesk" in page
    return "SA91"


def test_a_new_indicator_appears_in_the_form_grid_template_results_and_report_from_its_quarter(app, session, client,
                                                                                             api):
    code = _new_indicator(app)
    items = _opct_items(session, "2025Q3")
    response = client.put("/api/v1/forms/OPCT", headers=api, json={
        "from_period": "2025Q3", "indicators": [*items, {"indicator": code, "required": True}],
        "reason": "Helpdesk contacts are reported from this quarter"})
    assert response.status_code == 200, response.json
    assert response.json["indicators"][-1] == {"indicator": code, "required": True}
    # The officer's grid and Excel template of the quarter ask for it; a return of 2025Q2 does not.
    login(client, "officer.opct@demo.test")
    officer = client
    grid = officer.get("/returns/OPCT/042/2025Q3").get_data(as_text=True)
    assert code in grid
    assert code not in officer.get("/returns/OPCT/042/2025Q2").get_data(as_text=True)
    for period, asked in (("2025Q3", True), ("2025Q2", False)):
        workbook = openpyxl.load_workbook(io.BytesIO(officer.get(f"/programmes/OPCT/template.xlsx?period={period}").data))
        cells = {str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value}
        assert (code in cells) is asked, period
    # Its figures are taken for 2025Q3 and refused for 2025Q2, where the form did not ask for it.
    rows = rows_like(session, "OPCT", ["042"])
    extra = ingest_frame([ingest_row(code, "default", "042", "2025Q3", "130", file="test.csv", row=999, column="E")])
    result = send(session, "officer.opct@demo.test", pd.concat([rows, extra], ignore_index=True))
    assert not result.errors, [e.message for e in result.errors[:3]]
    earlier = send(session, "officer.opct@demo.test", extra.assign(period="2025Q2"))
    assert [e.code for e in earlier.errors] == ["not_on_form"] and "for FY2024/25 Q4" in earlier.errors[0].message
    catalogue = load_catalogue(session)
    record = session.scalar(select(Return).where(Return.programme_id == catalogue.programmes["OPCT"].id,
                                                 Return.org_unit_id == catalogue.org_units["042"].id,
                                                 Return.period == "2025Q3"))
    returns.submit(session, user(session, "officer.opct@demo.test"), record, now=IN_WINDOW, catalogue=catalogue)
    review.approve(session, catalogue, user(session, "reviewer@demo.test"), record,
                   now=datetime(2025, 10, 6, tzinfo=UTC))
    results = client.get(f"/api/v1/results?period=2025Q3&indicator={code}&programme=OPCT&org_unit=KE",
                         headers=api)
    assert results.status_code == 200, results.json
    assert [row["actual"] for row in results.json if row["indicator"] == code] == [130]
    report = gather(session, load_catalogue(session), kind="programme", period="2025Q3", programme="OPCT",
                    generated_at=datetime(2025, 10, 20, tzinfo=UTC))
    assert code in report["carried"] and code in {row["indicator"] for row in report["results"]}
    assert "OPCT" in report["indicators"][code]["reported_by"]
    earlier_report = gather(session, load_catalogue(session), kind="programme", period="2025Q2", programme="OPCT",
                            generated_at=datetime(2025, 10, 20, tzinfo=UTC))
    assert code not in earlier_report["carried"]
