"""Compilation rules on a hand-computed scenario, plus properties that must always hold."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.compile import Rule, achievement, compile_span, trend

RULES = {
    "SA10": Rule("SA10", "amount", None, "sum", True, "increase"),
    "SA02": Rule("SA02", "count", None, "last", True, "increase"),
    "SA01": Rule("SA01", "count", None, "last", False, "increase"),
    "SA11": Rule("SA11", "ratio", 100, "sum", True, "increase"),
    "SPX12": Rule("SPX12", "ratio", 1, "sum", True, "decrease"),
}
FY = ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]


def rows(*records):
    return pd.DataFrame([dict(zip(["indicator", "component", "option", "programme", "org_unit", "period", "value"],
                                  r, strict=True)) for r in records])


SCENARIO = rows(
    # SA11: ratio of sums (19/110 = 17.27%), never the mean of ratios (50%).
    ("SA11", "numerator", "default", "OPCT", "001", "2024Q3", 9.0),
    ("SA11", "denominator", "default", "OPCT", "001", "2024Q3", 10.0),
    ("SA11", "numerator", "default", "OPCT", "002", "2024Q3", 10.0),
    ("SA11", "denominator", "default", "OPCT", "002", "2024Q3", 100.0),
    # SA02, a stock: each county's latest reported quarter (001 did not report 2025Q2).
    *[("SA02", "value", "total", "OPCT", "001", p, v) for p, v in zip(FY[:3], (100.0, 110.0, 120.0), strict=True)],
    *[("SA02", "value", "total", "OPCT", "002", p, v) for p, v in zip(FY, (50.0, 60.0, 70.0, 80.0), strict=True)],
    # SA10, a flow: quarters add up.
    *[("SA10", "value", "default", "OPCT", "001", p, 1000.0) for p in FY],
    *[("SA10", "value", "default", "OPCT", "002", p, 500.0) for p in FY[:3]],
    # SA01 cannot be added across programmes.
    ("SA01", "value", "total", "OPCT", "001", "2024Q3", 100.0),
    ("SA01", "value", "total", "CTOVC", "001", "2024Q3", 40.0),
    # SPX12 average days, a decrease indicator: 400 days over 20 grievances = 20 days.
    ("SPX12", "numerator", "default", "OPCT", "001", "2024Q3", 300.0),
    ("SPX12", "denominator", "default", "OPCT", "001", "2024Q3", 10.0),
    ("SPX12", "numerator", "default", "OPCT", "002", "2024Q3", 100.0),
    ("SPX12", "denominator", "default", "OPCT", "002", "2024Q3", 10.0),
)


def actual(frame, indicator, **keys):
    match = frame[frame["indicator"] == indicator]
    for key, value in keys.items():
        match = match[match[key] == value]
    assert len(match) == 1, match
    return match.iloc[0]


def test_ratio_of_sums_not_mean_of_ratios():
    result = compile_span(SCENARIO, RULES, ["2024Q3"])
    row = actual(result, "SA11")
    assert (row["numerator"], row["denominator"]) == (19.0, 110.0)
    assert row["actual"] == pytest.approx(19 / 110 * 100)  # 17.27 %, not 50 %


def test_stock_financial_year_is_each_units_last_quarter():
    assert actual(compile_span(SCENARIO, RULES, FY), "SA02")["actual"] == 120 + 80
    assert actual(compile_span(SCENARIO, RULES, FY[:3]), "SA02")["actual"] == 120 + 70  # year to date, Q3


def test_flow_financial_year_and_year_to_date_add_quarters():
    assert actual(compile_span(SCENARIO, RULES, FY), "SA10")["actual"] == 4 * 1000 + 3 * 500
    assert actual(compile_span(SCENARIO, RULES, FY[:2]), "SA10")["actual"] == 2 * 1000 + 2 * 500


def test_non_additive_indicator_is_not_summed_across_programmes():
    overall = actual(compile_span(SCENARIO, RULES, ["2024Q3"]), "SA01")
    assert math.isnan(overall["actual"]) and "not added across programmes" in overall["note"]
    per_programme = compile_span(SCENARIO, RULES, ["2024Q3"], by=["programme"])
    assert actual(per_programme, "SA01", programme="OPCT")["actual"] == 100
    assert actual(per_programme, "SA01", programme="CTOVC")["actual"] == 40


def test_decrease_achievement_uses_the_baseline_when_there_is_one():
    result = compile_span(SCENARIO, RULES, ["2024Q3"])
    row = result[result["indicator"] == "SPX12"].assign(target=15.0, baseline=25.0)
    assert row.iloc[0]["actual"] == 20
    with_baseline = achievement(RULES, row).iloc[0]
    assert (with_baseline["achievement"], with_baseline["achievement_method"]) == (50.0, "progress from baseline to target")
    assert with_baseline["status"] == "off_track"
    without = achievement(RULES, row.assign(baseline=float("nan"))).iloc[0]
    assert (without["achievement"], without["achievement_method"], without["status"]) == (75.0, "target ÷ actual", "needs_attention")


def test_increase_achievement_status_and_not_reported():
    frame = pd.DataFrame({"indicator": ["SA10", "SA10", "SA10"], "actual": [95.0, 60.0, float("nan")],
                          "target": [100.0, 100.0, 100.0]})
    result = achievement(RULES, frame)
    assert list(result["achievement"].fillna(-1)) == [95.0, 60.0, -1]
    assert list(result["status"]) == ["on_track", "off_track", "not_reported"]


def test_option_breakdown_and_totals():
    values = rows(("SA02", "value", "F", "OPCT", "002", "2024Q3", 30.0),
                  ("SA02", "value", "M", "OPCT", "002", "2024Q3", 20.0),
                  ("SA02", "value", "total", "OPCT", "001", "2024Q3", 100.0))
    assert actual(compile_span(values, RULES, ["2024Q3"]), "SA02")["actual"] == 150
    by_option = compile_span(values, RULES, ["2024Q3"], option_breakdown=True)
    assert list(by_option.sort_values("option")["actual"]) == [30.0, 20.0]


def test_trend_against_an_earlier_span():
    now = compile_span(SCENARIO, RULES, ["2025Q1"])
    before = compile_span(SCENARIO, RULES, ["2024Q4"])
    joined = trend(RULES, now, before, ["indicator"])
    assert actual(joined, "SA02")["previous_trend"] == "improving"
    assert actual(joined, "SA10")["previous_trend"] == "stable"


values_strategy = st.lists(
    st.tuples(st.sampled_from(["SA10", "SA02", "SA11"]), st.sampled_from(["001", "002", "003"]),
              st.sampled_from(FY), st.integers(0, 10_000), st.integers(1, 10_000)),
    min_size=1, max_size=40, unique_by=lambda t: t[:3])


def as_values(records):
    out = []
    for indicator, unit, period, a, b in records:
        if indicator == "SA11":
            out += [(indicator, "numerator", "default", "OPCT", unit, period, float(min(a, b))),
                    (indicator, "denominator", "default", "OPCT", unit, period, float(b))]
        else:
            out.append((indicator, "value", "default", "OPCT", unit, period, float(a)))
    return rows(*out)


@settings(max_examples=60, deadline=None)
@given(values_strategy)
def test_county_results_add_up_to_the_national_result(records):
    values = as_values(records)
    national = compile_span(values, RULES, FY)
    counties = compile_span(values, RULES, FY, by=["org_unit"])
    for indicator in national["indicator"]:
        summed = counties[counties["indicator"] == indicator]
        row = actual(national, indicator)
        if RULES[indicator].measure == "ratio":
            assert summed["numerator"].sum() == pytest.approx(row["numerator"])
            assert summed["denominator"].sum() == pytest.approx(row["denominator"])
        else:
            assert summed["actual"].sum() == pytest.approx(row["actual"])


@settings(max_examples=60, deadline=None)
@given(values_strategy, st.randoms(use_true_random=False))
def test_permuting_input_rows_changes_nothing(records, rng):
    values = as_values(records)
    shuffled = values.sample(frac=1, random_state=rng.randint(0, 10_000)).reset_index(drop=True)
    pd.testing.assert_frame_equal(compile_span(values, RULES, FY, by=["org_unit"]),
                                  compile_span(shuffled, RULES, FY, by=["org_unit"]))


mixed_strategy = st.lists(
    st.tuples(st.sampled_from(sorted(RULES)), st.sampled_from(["OPCT", "CTOVC"]), st.sampled_from(["001", "002"]),
              st.sampled_from(FY), st.sampled_from(["total", "female", "male"]), st.integers(0, 10_000),
              st.integers(1, 10_000)),
    min_size=0, max_size=40, unique_by=lambda t: t[:5])


def mixed_values(records):
    out = []
    for indicator, programme, unit, period, option, a, b in records:
        if RULES[indicator].measure == "ratio":
            out += [(indicator, "numerator", option, programme, unit, period, float(min(a, b))),
                    (indicator, "denominator", option, programme, unit, period, float(b))]
        else:
            out.append((indicator, "value", option, programme, unit, period, float(a)))
    return rows(*out) if out else pd.DataFrame(columns=["indicator", "component", "option", "programme", "org_unit",
                                                         "period", "value"])


@settings(max_examples=80, deadline=None)
@given(mixed_strategy, st.sampled_from([[], ["org_unit"], ["programme"]]), st.booleans(),
       st.permutations(FY))
def test_by_period_is_each_period_compiled_as_its_own_span(records, rest, options, periods):
    """A breakdown by period gives, period after period in the order asked, exactly what compiling each
    period alone gives: totals over parts, stocks, ratios, the not-added rule and options included."""
    values = mixed_values(records)
    together = compile_span(values, RULES, periods, by=[*rest, "period"], option_breakdown=options)
    assert together.columns[-1] == "period"
    assert list(dict.fromkeys(together["period"])) == [p for p in periods if p in set(together["period"])]
    for period in periods:
        alone = compile_span(values, RULES, [period], by=rest, option_breakdown=options)
        mine = together[together["period"] == period].drop(columns="period").reset_index(drop=True)
        assert sorted(mine.columns) == sorted(alone.columns)
        if alone.empty:
            assert mine.empty
            continue
        pd.testing.assert_frame_equal(mine[list(alone.columns)], alone.reset_index(drop=True), check_dtype=False)
