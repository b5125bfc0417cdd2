"""The one rule that picks a cell's target: own plan, its county targets added, the programmes' targets."""

from __future__ import annotations

import pytest

from indicators.targets import SECTOR, Indicator, Plan, Reporting, Span, choose

PATHS = {"KE": "/KE/", "023": "/KE/023/", "042": "/KE/042/", "047": "/KE/047/"}
REPORTING = Reporting(
    carries={"OPCT": frozenset({"SA02", "SA10", "SA15", "SA11"}), "CTOVC": frozenset({"SA10", "SA15", "SA11", "SA01"}),
             "HSNP": frozenset({"SA07", "SA10"}), "OPCT_ONLY": frozenset()},
    units={"OPCT": frozenset({"023", "042", "047"}), "CTOVC": frozenset({"023", "042", "047"}),
           "HSNP": frozenset({"023", "047"})},
    paths=PATHS)
PROGRAMMES = ["CTOVC", "HSNP", "OPCT"]
COUNT = Indicator("SA10", "amount", "sum", True)
STOCK = Indicator("SA02", "count", "last", True)
RATIO = Indicator("SA11", "ratio", "sum", True)
NOT_ADDITIVE = Indicator("SA01", "count", "last", False)
HSNP_ONLY = Indicator("SA07", "count", "sum", True)
EXITS = Indicator("SA15", "count", "sum", True)
Q = Span(("2025Q1",))
FY = Span(("2024Q3", "2024Q4", "2025Q1", "2025Q2"), "2024July")
YTD = Span(("2024Q3", "2024Q4", "2025Q1"))


def plan(scope, version=1, baselines=None, **targets):
    """targets as INDICATOR__UNIT__PERIOD=value."""
    parsed = {tuple(key.split("__")): float(value) for key, value in targets.items()}
    return Plan(scope, version, parsed, baselines or {})


PLANS = {
    SECTOR: plan(SECTOR, 1, {"SA10": (900.0, "2024Q2")}, SA10__KE__2025Q1=1000),
    "OPCT": plan("OPCT", 2, {"SA02": (500.0, "2024Q2"), "SA15": (80.0, "2024Q2"), "SA10": (400.0, "2024Q2")},
                 SA02__KE__2025Q1=600, SA02__KE__2024Q4=580, SA10__KE__2025Q1=450, SA15__KE__2025Q1=90,
                 SA11__KE__2025Q1=95, SA10__023__2025Q1=40, **{"SA10__KE__2024Q3": 440, "SA10__KE__2024Q4": 445,
                                                             "SA10__KE__2024July": 1800}),
    "CTOVC": plan("CTOVC", 1, {"SA15": (50.0, "2024Q2")}, SA10__KE__2025Q1=300, SA15__KE__2025Q1=60,
                  SA11__KE__2025Q1=90, SA01__KE__2025Q1=10),
    "HSNP": plan("HSNP", 1, {"SA07": (100.0, "2024Q2")}, SA07__023__2025Q1=70, SA07__047__2025Q1=50,
                 SA07__023__2024July=280),
}


def pick(indicator, scope, unit="KE", span=Q, plans=PLANS):
    return choose(indicator, scope, unit, span, plans, REPORTING, PROGRAMMES)


def test_a_programme_cell_takes_its_own_plan_with_the_national_baseline():
    choice = pick(STOCK, "OPCT")
    assert (choice.value, choice.baseline, choice.baseline_period) == (600, 500, "2024Q2")
    assert choice.source == "OPCT PMP v2" and choice.plan == "OPCT" and choice.version == 2


def test_a_baseline_is_used_only_at_the_org_unit_of_its_plan():
    county = pick(COUNT, "OPCT", "023")
    assert county.value == 40 and county.baseline is None


def test_the_sector_plan_comes_first():
    choice = pick(COUNT, SECTOR)
    assert (choice.value, choice.baseline, choice.source) == (1000, 900, "SECTOR PMP v1")


def test_a_sector_cell_reported_by_one_programme_takes_that_programmes_target():
    # SA02 (older persons paid): the OPCT report said 74%, the sector report "No target".
    choice = pick(STOCK, SECTOR)
    assert (choice.value, choice.baseline) == (600, 500)
    assert choice.source == "OPCT PMP v2, the only programme reporting it"
    assert pick(STOCK, SECTOR).value == pick(STOCK, "OPCT").value


def test_a_sector_cell_adds_programme_targets_of_an_additive_count_when_all_have_one():
    choice = pick(EXITS, SECTOR)
    assert choice.value == 90 + 60
    assert choice.baseline == 80 + 50 and choice.baseline_period == "2024Q2"
    assert choice.source == "sum of programme targets: CTOVC v1, OPCT v2"


def test_programme_targets_are_not_added_when_one_is_missing_or_for_ratios_or_overlapping_counts():
    missing = pick(EXITS, SECTOR, span=Span(("2024Q4",)))
    assert missing.value is None and "have no target" in missing.note
    ratio = pick(RATIO, SECTOR)
    assert ratio.value is None and "a percentage" in ratio.note
    overlapping = choose(NOT_ADDITIVE, SECTOR, "KE", Q, PLANS, Reporting(
        carries={"OPCT": frozenset({"SA01"}), "CTOVC": frozenset({"SA01"})}, units=REPORTING.units, paths=PATHS),
        PROGRAMMES)
    assert overlapping.value is None and "not added across programmes" in overlapping.note


def test_county_targets_add_up_to_the_programmes_national_target():
    # HSNP sets county targets only; Kenya's HSNP figure gets their sum.
    national = pick(HSNP_ONLY, "HSNP")
    assert national.value == 70 + 50 and national.source == "sum of county targets, HSNP PMP v1"
    assert national.baseline is None
    # …and the sector cell, which only HSNP reports, the same target.
    assert pick(HSNP_ONLY, SECTOR).value == 120
    # A county's sector cell takes the county's HSNP target (Turkana SA07 in the county profile).
    assert pick(HSNP_ONLY, SECTOR, "023").value == 70 == pick(HSNP_ONLY, "HSNP", "023").value


def test_a_missing_county_target_leaves_the_sum_undefined():
    plans = {**PLANS, "HSNP": plan("HSNP", 1, SA07__023__2025Q1=70)}
    assert pick(HSNP_ONLY, "HSNP", plans=plans).value is None


@pytest.mark.parametrize(("span", "expected"), [(FY, 1800), (YTD, 440 + 445 + 450), (Span(("2024Q3",)), 440)])
def test_spans_take_the_year_target_or_add_the_quarters_of_a_flow(span, expected):
    assert pick(COUNT, "OPCT", span=span).value == expected


def test_a_stock_year_to_date_takes_its_last_quarters_target():
    assert pick(STOCK, "OPCT", span=Span(("2024Q3", "2024Q4"))).value == 580


def test_a_year_to_date_with_a_quarter_without_target_has_none():
    assert pick(COUNT, "OPCT", span=Span(("2024Q2", "2024Q3"))).value is None


def test_a_list_of_programmes_has_no_plan_of_its_own():
    choice = pick(EXITS, ["CTOVC", "OPCT"])
    assert choice.value == 150 and choice.source.startswith("sum of programme targets")
    assert pick(STOCK, ["CTOVC", "OPCT"]).value == 600  # only OPCT carries SA02


def test_a_programme_without_a_target_says_so():
    assert "sets no target" in pick(STOCK, "OPCT", span=Span(("2026Q1",))).note
    assert "no CTOVC PMP" in pick(STOCK, "CTOVC", plans={"OPCT": PLANS["OPCT"]}).note


WARD_PATHS = {**PATHS, "SC238": "/KE/042/SC238/", "W1186": "/KE/042/SC238/W1186/", "W1187": "/KE/042/SC238/W1187/",
              "SC280": "/KE/047/SC280/", "W1401": "/KE/047/SC280/W1401/"}


@pytest.mark.parametrize("units", [{"042", "047"}, {"W1186", "W1187", "W1401"}, {"042", "W1401"}, {"SC238", "047"}])
def test_county_targets_add_up_to_kenya_whether_the_counties_or_their_wards_report(units):
    reporting = Reporting(carries={"HSNP": frozenset({"SA07"})}, units={"HSNP": frozenset(units)}, paths=WARD_PATHS)
    plans = {"HSNP": plan("HSNP", 1, SA07__042__2025Q1=30, SA07__047__2025Q1=50)}
    assert reporting.under("KE", "HSNP") == ["042", "047"]
    choice = choose(HSNP_ONLY, "HSNP", "KE", Q, plans, reporting, ["HSNP"])
    assert choice.value == 80 and choice.source == "sum of county targets, HSNP PMP v1"
    county = choose(HSNP_ONLY, "HSNP", "042", Q, plans, reporting, ["HSNP"])
    assert county.value == 30 and county.source == "HSNP PMP v1"  # the county's own target, not its wards'


def test_a_county_without_targets_of_its_own_adds_its_sub_counties():
    reporting = Reporting(carries={"HSNP": frozenset({"SA07"})}, units={"HSNP": frozenset({"W1186", "W1187"})},
                          paths=WARD_PATHS)
    assert reporting.under("042", "HSNP") == ["SC238"] and reporting.under("W1186", "HSNP") == []
    plans = {"HSNP": plan("HSNP", 1, SA07__SC238__2025Q1=12)}
    assert choose(HSNP_ONLY, "HSNP", "042", Q, plans, reporting, ["HSNP"]).value == 12
