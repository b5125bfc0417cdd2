"""Forms at ward level: a form asks returns of wards (or sub-counties) instead of a county, never of both;
the level changes only from the first quarter of a financial year; a county's and Kenya's figures are
its wards' figures compiled by the same rules as a county-level form's (a property test over generated
figures), by org unit Kenya's rows are still counties, and completeness counts the wards' returns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from mel.catalogue.form_contents import save_contents
from mel.catalogue.lookup import read_catalogue
from mel.catalogue.models import OrgUnit, Programme, ReportingForm
from mel.catalogue.org_tree import seed_org_tree
from mel.catalogue.programme_admin import create_programme
from mel.errors import ValidationFailed
from mel.results import summary
from mel.results.queries import resolve_query, results
from mel.returns.models import DataValue, Return
from mel.review.queries import expected_returns
from tests.app.returns_helpers import user

NOW = datetime(2025, 10, 5, 9, 0, tzinfo=UTC)  # 2025Q3 is being reported
COUNTIES = ("042", "001")  # Kisumu (35 wards), Mombasa (30 wards)
FLOW, STOCK, RATIO = "SA08", "HI03", "SA11"  # count added over quarters; count taking the latest; a percentage
QUARTERS = ("2025Q3", "2025Q4", "2026Q1", "2026Q2")  # FY2025/26


def _programme(session, code: str, units: list[str]) -> Programme:
    secretariat = user(session, "secretariat@demo.test")
    with time_machine.travel(NOW, tick=False):
        create_programme(session, secretariat, {
            "code": code, "name": f"Test programme {code}", "pillar": "social_assistance", "agency": "SPS",
            "level": "national", "org_units": units, "from_period": "2025Q3", "reason": "Ward-level test."})
        save_contents(session, secretariat, code, {
            "from_period": "2025Q3", "reason": "Its indicators.",
            "indicators": [{"indicator": c, "required": True} for c in (FLOW, STOCK, RATIO)]})
    return session.scalar(select(Programme).where(Programme.code == code))


@pytest.fixture
def two_levels(session):
    """WARDS asks the 65 wards of Kisumu and Mombasa, COUNTIES asks the two counties: the same indicators."""
    seed_org_tree(session, 4)
    wards = {county: [u.code for u in session.scalars(select(OrgUnit).where(
        OrgUnit.level == 4, OrgUnit.path.startswith(f"/KE/{county}/")).order_by(OrgUnit.code))] for county in COUNTIES}
    _programme(session, "WARDS", [w for county in COUNTIES for w in wards[county]])
    _programme(session, "COUNTIES", list(COUNTIES))
    session.flush()
    return wards


def _store(session, catalogue, programme: str, figures: dict[tuple[str, str], dict[str, int]]) -> None:
    """Approved returns holding `figures` ((unit, quarter) -> component code -> value), written directly
    (as drafts, submitted, then approved: an approved return's figures cannot change)."""
    prog = catalogue.programmes[programme]
    form_id = catalogue.forms[prog.id].id
    values, ids = [], []
    for (unit, quarter), components in figures.items():
        unit_id = catalogue.org_units[unit].id
        return_id = session.execute(insert(Return).values(
            programme_id=prog.id, org_unit_id=unit_id, period=quarter, form_id=form_id, state="draft",
            version=1, narrative="", is_late=False, created_at=NOW, updated_at=NOW).returning(Return.id)).scalar_one()
        ids.append(return_id)
        for name, value in components.items():
            indicator, component = name.split(".")
            values.append({"return_id": return_id, "indicator_id": catalogue.indicators[indicator].id,
                           "component": component, "option_combo_id": catalogue.combos[(indicator, "default")],
                           "programme_id": prog.id, "org_unit_id": unit_id, "period": quarter,
                           "value": Decimal(value), "comment": "", "explanation": "", "created_at": NOW,
                           "updated_at": NOW})
    if values:
        session.execute(insert(DataValue), values)
    for state in ("submitted", "approved"):
        session.execute(update(Return).where(Return.id.in_(ids)).values(state=state))
    summary.refresh(session)  # what the session's commit does: results read the settled spans (and compare)


def _figures(seed: dict, wards: dict[str, list[str]]):
    """Ward figures from the drawn ones, and each county's figure as the sum of its wards' (a county whose
    wards all reported in the quarter; a county that did not report has no ward returns either)."""
    by_ward, by_county = {}, {}
    for (county, quarter), values in seed.items():
        total: dict[str, int] = {}
        for ward, (flow, stock, numerator, extra) in zip(wards[county], values, strict=False):
            one = {f"{FLOW}.value": flow, f"{STOCK}.value": stock, f"{RATIO}.numerator": numerator,
                   f"{RATIO}.denominator": numerator + extra}
            by_ward[(ward, quarter)] = one
            for key, value in one.items():
                total[key] = total.get(key, 0) + value
        by_county[(county, quarter)] = total
    return by_ward, by_county


def _drawn(wards: dict[str, list[str]]):
    ward_values = st.tuples(st.integers(0, 10_000), st.integers(0, 50_000), st.integers(0, 500), st.integers(0, 500))
    reported = st.sets(st.tuples(st.sampled_from(COUNTIES), st.sampled_from(QUARTERS)), min_size=1)
    return reported.flatmap(lambda keys: st.fixed_dictionaries({
        key: st.lists(ward_values, min_size=len(wards[key[0]]), max_size=len(wards[key[0]])) for key in sorted(keys)}))


FIGURES = ("actual", "numerator", "denominator")


def _compiled(session, catalogue, programme: str, **query) -> dict:
    rows = results(session, catalogue, resolve_query(catalogue, indicators=[FLOW, STOCK, RATIO],
                                                     programme=programme, **query))
    return {(row["indicator"], row.get("org_unit")): tuple(row.get(name) for name in FIGURES) for row in rows}


QUERIES = [dict(period="2025Q4", org_unit="KE"), dict(period="2025July", org_unit="KE"),
           dict(period="2025July", org_unit="042"), dict(period="2026Q1", org_unit="001", ytd=True),
           dict(period="2025July", org_unit="KE", by=["org_unit"]), dict(period="2026Q2", org_unit="KE", by=["org_unit"])]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_ward_level_form_compiles_to_the_county_and_the_nation_as_a_county_level_form(session, two_levels, data):
    seed = data.draw(_drawn(two_levels))
    by_ward, by_county = _figures(seed, two_levels)
    savepoint = session.begin_nested()
    try:
        catalogue = read_catalogue(session)
        _store(session, catalogue, "WARDS", by_ward)
        _store(session, catalogue, "COUNTIES", by_county)
        for query in QUERIES:
            from_wards = _compiled(session, catalogue, "WARDS", **query)
            from_counties = _compiled(session, catalogue, "COUNTIES", **query)
            assert from_wards == from_counties, query
            if "by" in query:  # Kenya by org unit: the counties, never a ward
                assert {unit for _, unit in from_wards} <= set(COUNTIES)
    finally:
        savepoint.rollback()


def test_completeness_by_county_counts_the_wards_returns(session, two_levels):
    catalogue = read_catalogue(session)
    kisumu = two_levels["042"]
    _store(session, catalogue, "WARDS", {(ward, "2025Q3"): {f"{FLOW}.value": 10} for ward in kisumu[:20]})
    rows = results(session, catalogue, resolve_query(catalogue, indicators=[FLOW], period="2025Q3", org_unit="KE",
                                                     programme="WARDS", by=["org_unit"]))
    assert [(r["org_unit"], r["actual"], r["returns_received"], r["returns_expected"]) for r in rows] == [
        ("042", 200.0, 20, 35)]
    whole = results(session, catalogue, resolve_query(catalogue, indicators=[FLOW], period="2025Q3", org_unit="KE",
                                                      programme="WARDS"))
    assert [(r["actual"], r["returns_received"], r["returns_expected"]) for r in whole] == [(200.0, 20, 65)]
    county = results(session, catalogue, resolve_query(catalogue, indicators=[FLOW], period="2025Q3",
                                                       org_unit="042", programme="WARDS", by=["org_unit"]))
    # A county by org unit: its sub-counties (Kisumu's seven constituencies), each with its wards' returns.
    assert {r["org_unit"] for r in county} <= {f"SC{n}" for n in range(238, 245)}
    assert sum(r["actual"] for r in county) == 200.0 and sum(r["returns_received"] for r in county) == 20
    assert all(r["actual"] == 10 * r["returns_received"] <= 10 * r["returns_expected"] for r in county)
    # The county profile's returns: Kisumu's 35 wards for this programme, 20 received; Mombasa's none.
    wards = expected_returns(session, catalogue, "2025Q3", within=catalogue.org_units["042"])
    mine = wards[wards["programme"] == "WARDS"]
    assert (len(mine), int((mine["state"] == "approved").sum())) == (35, 20)
    assert set(mine["org_unit"]) == set(kisumu)
    assert set(expected_returns(session, catalogue, "2025Q3")["org_unit"]) >= set(kisumu) | set(two_levels["001"])


# --------------------------------------------------------------------------- what a form may ask


def _change(session, units: list[str], from_period: str, when=NOW):
    with time_machine.travel(when, tick=False):
        return save_contents(session, user(session, "secretariat@demo.test"), "WARDS",
                             {"from_period": from_period, "org_units": units, "reason": "Level change."})


def _problems(excinfo) -> list[str]:
    return [detail.message for detail in excinfo.value.details]


def test_a_form_asks_a_county_or_its_wards_never_both(session, two_levels):
    with pytest.raises(ValidationFailed) as refused:
        _change(session, ["042", two_levels["042"][0], "SC238"], "2026Q3")
    said = _problems(refused)
    assert any(f"({two_levels['042'][0]}) lies within Kisumu (042)" in m for m in said), said
    assert any("Kisumu East (SC238) lies within Kisumu (042), which the form also asks" in m for m in said), said
    with pytest.raises(ValidationFailed) as kenya:
        _change(session, ["KE", "001"], "2026Q3")
    assert any("lies within Kenya (KE)" in m for m in _problems(kenya))


def test_a_county_changes_level_only_from_the_first_quarter_of_a_financial_year(session, two_levels):
    with pytest.raises(ValidationFailed) as refused:
        _change(session, ["042", *two_levels["001"]], "2025Q4")
    said = _problems(refused)
    assert any("would take the place of" in m and "State 2026Q3" in m for m in said), said
    form = _change(session, ["042", *two_levels["001"]], "2026Q3")  # the next financial year: allowed
    asked = session.scalar(select(ReportingForm).where(ReportingForm.id == form.id))
    assert asked is not None
    catalogue = read_catalogue(session)
    wards_id = catalogue.programmes["WARDS"].id
    assert "042" in catalogue.form_org_units(wards_id, "2026Q3")
    assert two_levels["042"][0] in catalogue.form_org_units(wards_id, "2026Q2")
    assert two_levels["042"][0] not in catalogue.form_org_units(wards_id, "2026Q3")


def test_an_unknown_unit_names_every_kind_of_code(session, two_levels):
    with pytest.raises(ValidationFailed) as refused:
        _change(session, ["W9999"], "2026Q3")
    said = _problems(refused)
    assert any("'W9999' is not an org unit" in m and "SC001–SC290" in m and "W0001–W1450" in m for m in said), said
