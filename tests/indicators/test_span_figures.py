"""Figures settled ahead of time (span_figures) compile exactly as the values they came from: for every
run of quarters of a year, Kenya or by county, by programme, flows and stocks (some months or quarters
missing, a unit's latest period before the span's end), ratios, totals given beside parts, ward and
county returns, monthly and quarterly periods, and a stock whose components stopped at different periods."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.compile import (
    VALUE_COLUMNS,
    Rule,
    compile_span,
    span_figures,
    spans_of,
    stored_periods,
)

RULES = {"FLOW": Rule("FLOW", "count", None, "sum", True, "increase"),
         "STOCK": Rule("STOCK", "count", None, "last", True, "increase"),
         "RATE": Rule("RATE", "ratio", 100, "sum", True, "increase"),
         "SHARE": Rule("SHARE", "ratio", 100, "last", True, "increase"),
         "NONADD": Rule("NONADD", "count", None, "sum", False, "increase")}
COMPONENTS = {"FLOW": ("value",), "STOCK": ("value",), "RATE": ("numerator", "denominator"),
              "SHARE": ("numerator", "denominator"), "NONADD": ("value",)}
YEAR = ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
GRAIN = {"W1": "042", "W2": "042", "W3": "001", "042": "042", "001": "001", "030": "030", "KE": "KE"}
UNITS = list(GRAIN)
PERIODS = stored_periods(YEAR)  # the months of each quarter and the quarter itself


def settled_frame(figures: pd.DataFrame, first: str, last: str, by_unit: bool) -> pd.DataFrame:
    """What results read back for a span: each indicator's flow or stock by its rule, per programme (and grain)."""
    rows = figures[(figures["first"] == first) & (figures["last"] == last)].copy()
    stock = rows["indicator"].map(lambda code: RULES[code].time_aggregation == "last")
    rows["value"] = rows["stock"].where(stock, rows["flow"])
    rows = rows[rows["value"].notna()]
    keys = ["indicator", "component", "programme", *(["org_unit"] if by_unit else [])]
    out = rows.groupby(keys, as_index=False)["value"].sum()
    if not by_unit:
        out["org_unit"] = "KE"
    return out.assign(option="total", period=last)[VALUE_COLUMNS]


value_rows = st.lists(st.tuples(st.sampled_from(sorted(COMPONENTS)), st.sampled_from(("P1", "P2")),
                                st.sampled_from(UNITS), st.sampled_from(PERIODS),
                                st.sampled_from(("total", "male", "female")), st.integers(0, 1_000),
                                st.booleans()), max_size=60)


@settings(max_examples=150, deadline=None)
@given(rows=value_rows, span=st.sampled_from(spans_of(YEAR)), by=st.sampled_from(([], ["org_unit"], ["programme"])))
def test_settled_figures_compile_as_the_values_do(rows, span, by):
    seen, records = set(), []
    for indicator, programme, unit, period, option, value, second in rows:
        for component in COMPONENTS[indicator][:2 if second else 1]:  # a ratio may lack its denominator
            key = (indicator, component, option, programme, unit, period)
            if key not in seen:  # one stored value per cell, as the database's unique key has it
                seen.add(key)
                records.append({"indicator": indicator, "component": component, "option": option,
                                "programme": programme, "org_unit": unit, "period": period, "value": float(value)})
    values = pd.DataFrame(records, columns=VALUE_COLUMNS)
    quarters = YEAR[YEAR.index(span[0]):YEAR.index(span[1]) + 1]
    rollup = {unit: county for unit, county in GRAIN.items() if unit != county}
    direct = compile_span(values, RULES, quarters, by=by, rollup=rollup if by == ["org_unit"] else None)
    figures = span_figures(values, YEAR, GRAIN)
    settled = compile_span(settled_frame(figures, *span, by_unit=by == ["org_unit"]), RULES, quarters, by=by)
    keys = ["indicator", *by]
    pd.testing.assert_frame_equal(direct.sort_values(keys).reset_index(drop=True),
                                  settled.sort_values(keys).reset_index(drop=True), check_dtype=False)


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": i, "component": c, "option": "total", "programme": "P1", "org_unit": u,
                          "period": p, "value": float(v)} for i, c, u, p, v in rows], columns=VALUE_COLUMNS)


def test_every_run_of_consecutive_quarters_is_settled():
    assert spans_of(YEAR) == [("2025Q3", "2025Q3"), ("2025Q3", "2025Q4"), ("2025Q3", "2026Q1"),
                              ("2025Q3", "2026Q2"), ("2025Q4", "2025Q4"), ("2025Q4", "2026Q1"),
                              ("2025Q4", "2026Q2"), ("2026Q1", "2026Q1"), ("2026Q1", "2026Q2"),
                              ("2026Q2", "2026Q2")]


def test_a_stock_keeps_each_units_latest_period_and_a_flow_adds_them_all():
    values = frame([("STOCK", "value", "W1", "202507", 10), ("STOCK", "value", "W1", "202511", 30),
                    ("STOCK", "value", "W2", "202508", 5), ("FLOW", "value", "W1", "202507", 4),
                    ("FLOW", "value", "W2", "202510", 6)])
    figures = span_figures(values, YEAR, GRAIN).set_index(["first", "last", "indicator"])
    assert figures.loc[("2025Q3", "2025Q4", "STOCK"), ["flow", "stock"]].tolist() == [45, 35]  # W1 Nov, W2 Aug
    assert figures.loc[("2025Q3", "2025Q3", "STOCK"), ["flow", "stock"]].tolist() == [15, 15]
    assert figures.loc[("2025Q4", "2025Q4", "STOCK"), ["flow", "stock"]].tolist() == [30, 30]  # W2 had none
    assert figures.loc[("2025Q3", "2026Q2", "FLOW"), ["flow", "stock"]].tolist() == [10, 10]  # one period each
    assert set(figures.reset_index()["org_unit"]) == {"042"}  # both wards kept under Kisumu


def test_a_component_missing_from_the_latest_period_is_no_figure_not_a_zero():
    values = frame([("SHARE", "numerator", "042", "2025Q3", 40), ("SHARE", "denominator", "042", "2025Q3", 80),
                    ("SHARE", "numerator", "042", "2025Q4", 50)])  # the denominator stopped a quarter early
    figures = span_figures(values, YEAR, GRAIN)
    half = figures[(figures["first"] == "2025Q3") & (figures["last"] == "2025Q4")].set_index("component")
    assert half.loc["numerator", "stock"] == 50 and pd.isna(half.loc["denominator", "stock"])
    direct = compile_span(values, RULES, ["2025Q3", "2025Q4"])
    settled = compile_span(settled_frame(figures, "2025Q3", "2025Q4", False), RULES, ["2025Q3", "2025Q4"])
    assert pd.isna(direct["actual"].iloc[0]) and pd.isna(settled["actual"].iloc[0])


def test_no_values_settle_to_no_rows():
    assert span_figures(frame([]), YEAR, GRAIN).empty
