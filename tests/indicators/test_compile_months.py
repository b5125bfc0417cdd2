"""Monthly figures compile into quarters and years by the indicator's time aggregation: flows add
their months, stocks take each unit's latest month; the whole table of cases (flow/stock/ratio,
every month reported or some missing, one span or by period)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.compile import Rule, compile_span, stored_periods

RULES = {"FLOW": Rule("FLOW", "count", None, "sum", True, "increase"),
         "STOCK": Rule("STOCK", "count", None, "last", True, "increase"),
         "RATE": Rule("RATE", "ratio", 100, "sum", True, "increase")}
Q3_MONTHS = ("202507", "202508", "202509")
Q4_MONTHS = ("202510", "202511", "202512")


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": i, "component": c, "option": "total", "programme": "P", "org_unit": u,
                          "period": p, "value": float(v)} for i, c, u, p, v in rows],
                        columns=["indicator", "component", "option", "programme", "org_unit", "period", "value"])


def actuals(result: pd.DataFrame, *keys: str) -> dict:
    return {tuple(row[k] for k in ("indicator", *keys)): row["actual"] for row in result.to_dict("records")}


def test_stored_periods_put_each_quarters_months_before_it():
    assert stored_periods(["2025Q3", "2025Q4"]) == [*Q3_MONTHS, "2025Q3", *Q4_MONTHS, "2025Q4"]
    assert stored_periods(["202509"]) == ["202509"]


@pytest.mark.parametrize(("months", "flow", "stock"), [
    ({"202507": 10, "202508": 20, "202509": 30}, 60, 30),  # every month: the flow adds, the stock is September's
    ({"202507": 10, "202508": 20}, 30, 20),  # September missing: the stock is August's
    ({"202508": 5}, 5, 5),  # one month
    ({"202507": 10, "202509": 0}, 10, 0),  # a zero is a figure: the latest month says zero
])
def test_a_quarter_from_its_months(months, flow, stock):
    rows = [(i, "value", "042", m, v) for m, v in months.items() for i in ("FLOW", "STOCK")]
    result = compile_span(frame(rows), RULES, ["2025Q3"])
    assert actuals(result) == {("FLOW",): flow, ("STOCK",): stock}


def test_stocks_take_each_units_own_latest_month_then_add():
    rows = [("STOCK", "value", "042", "202507", 100), ("STOCK", "value", "042", "202509", 120),
            ("STOCK", "value", "001", "202508", 50)]  # Mombasa's last return is August's
    assert actuals(compile_span(frame(rows), RULES, ["2025Q3"])) == {("STOCK",): 170}
    by_unit = compile_span(frame(rows), RULES, ["2025Q3"], by=["org_unit"])
    assert actuals(by_unit, "org_unit") == {("STOCK", "001"): 50, ("STOCK", "042"): 120}


def test_a_ratio_adds_numerators_and_denominators_of_its_months():
    rows = [("RATE", "numerator", "042", "202507", 30), ("RATE", "denominator", "042", "202507", 100),
            ("RATE", "numerator", "042", "202508", 90), ("RATE", "denominator", "042", "202508", 100)]
    result = compile_span(frame(rows), RULES, ["2025Q3"]).iloc[0]
    assert (result["numerator"], result["denominator"], result["actual"]) == (120, 200, 60)


def test_by_period_each_quarter_is_its_months():
    rows = [(i, "value", "042", m, v) for i in ("FLOW", "STOCK")
            for m, v in zip(Q3_MONTHS + Q4_MONTHS, (1, 2, 3, 4, 5, 6), strict=True)]
    result = compile_span(frame(rows), RULES, ["2025Q3", "2025Q4"], by=["period"])
    assert actuals(result, "period") == {("FLOW", "2025Q3"): 6, ("FLOW", "2025Q4"): 15,
                                         ("STOCK", "2025Q3"): 3, ("STOCK", "2025Q4"): 6}
    year = compile_span(frame(rows), RULES, ["2025Q3", "2025Q4"])
    assert actuals(year) == {("FLOW",): 21, ("STOCK",): 6}


monthly = st.dictionaries(st.sampled_from(Q3_MONTHS + Q4_MONTHS), st.integers(0, 10_000), min_size=1)


@settings(max_examples=200, deadline=None)
@given(units=st.dictionaries(st.sampled_from(["001", "042", "047"]), monthly, min_size=1))
def test_months_compile_as_a_quarterly_form_with_the_same_quarters_would(units):
    """A unit's quarter from its months (flow: their sum, stock: the last one) gives the same figures as that
    unit reporting the quarter itself, for one quarter, the half year, and by period."""
    months, quarters = [], []
    for unit, figures in units.items():
        for quarter, names in (("2025Q3", Q3_MONTHS), ("2025Q4", Q4_MONTHS)):
            given_months = [m for m in names if m in figures]
            if not given_months:
                continue
            months += [(i, "value", unit, m, figures[m]) for m in given_months for i in ("FLOW", "STOCK")]
            quarters += [("FLOW", "value", unit, quarter, sum(figures[m] for m in given_months)),
                         ("STOCK", "value", unit, quarter, figures[given_months[-1]])]
    for span, by in ((["2025Q3"], []), (["2025Q4"], ["org_unit"]), (["2025Q3", "2025Q4"], []),
                     (["2025Q3", "2025Q4"], ["period"]), (["2025Q3", "2025Q4"], ["org_unit"])):
        from_months = compile_span(frame(months), RULES, span, by=by)
        from_quarters = compile_span(frame(quarters), RULES, span, by=by)
        assert actuals(from_months, *by) == actuals(from_quarters, *by), (span, by)
