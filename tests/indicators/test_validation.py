"""Validation rules on plain frames: types, ratios, totals, rules as data, history, completeness."""

from __future__ import annotations

import pandas as pd
import pytest

from indicators.expressions import Expression, ExpressionError
from indicators.validation import (
    VALUE_KEY,
    IndicatorSpec,
    Rule,
    duplicate_issues,
    missing_issues,
    parse_numbers,
    ratio_issues,
    rule_issues,
    total_issues,
    value_issues,
)

SPECS = {
    "SA01": IndicatorSpec("SA01", "count", None, ("F", "M"), has_total=True),
    "SA10": IndicatorSpec("SA10", "amount", None, ("default",)),
    "SA12": IndicatorSpec("SA12", "ratio", 100, ("default",)),
    "SPX12": IndicatorSpec("SPX12", "ratio", 1, ("default",)),
    "SA14": IndicatorSpec("SA14", "count", None, ("default",)),
    "SA15": IndicatorSpec("SA15", "count", None, ("default",)),
}


def frame(rows: list[tuple], **extra) -> pd.DataFrame:
    """Rows of (indicator, component, option, value) for OPCT / 042 / 2025Q3."""
    records = []
    for index, (indicator, component, option, value) in enumerate(rows, start=2):
        records.append({"programme": "OPCT", "org_unit": "042", "period": "2025Q3",
                        "indicator": indicator, "component": component, "option": option,
                        "value": value, "file": "opct.xlsx", "sheet": "Data", "row": index,
                        "column": "I", **extra})
    return pd.DataFrame(records)


def parsed(rows):
    f = frame(rows)
    return parse_numbers(f, f["indicator"].map(lambda c: SPECS[c].measure))


@pytest.mark.parametrize(
    "raw, code, words",
    [("abc", "not_a_number", "'abc' is not a number"),
     ("1,234", "thousands_separator", "Type 1234."),
     ("12%", "percent_sign", "numerator (SA01.N)"),
     ("-5", "negative", "-5 is negative"),
     ("3.5", "not_whole", "3.5 is not a whole number, but this figure is a count"),
     ("1e30", "too_large", "larger than any figure")],
)
def test_bad_cells_are_named_with_their_place(raw, code, words):
    issues = value_issues(parsed([("SA01", "value", "F", raw)]))
    assert len(issues) == 1
    issue = issues[0]
    assert issue.code == code and issue.is_error
    assert words in issue.message
    assert issue.message.startswith("opct.xlsx Data!I2 — org unit 042, FY2025/26 Q1 — SA01, F: ")
    assert issue.location["cell"] == "Data!I2" and issue.location["period"] == "2025Q3"


def test_good_numbers_parse_and_empty_cells_are_not_errors():
    result = parsed([("SA01", "value", "F", " 1200 "), ("SA10", "value", "default", "2500000.50"),
                     ("SA01", "value", "M", ""), ("SA10", "value", "default", "10.125")])
    assert list(result["number"].iloc[:3].fillna(-1)) == [1200, 2500000.5, -1]
    assert list(result["problem"]) == ["", "", "", "too_many_decimals"]
    assert [i.code for i in value_issues(result)] == ["too_many_decimals"]


def test_duplicates_with_different_values_are_refused():
    f = frame([("SA01", "value", "F", "10"), ("SA01", "value", "F", "10"), ("SA01", "value", "F", "12")])
    issues = duplicate_issues(f)
    assert len(issues) == 1
    assert "Data!I4" in issues[0].message and "row 2" in issues[0].message


def test_ratio_pairs():
    result = parsed([("SA12", "numerator", "default", "120"), ("SA12", "denominator", "default", "100"),
                     ("SPX12", "numerator", "default", "2400"), ("SPX12", "denominator", "default", "100")])
    issues = ratio_issues(result, SPECS)
    # A percentage cannot exceed 100%; average days (factor 1) may.
    assert [i.code for i in issues] == ["numerator_above_denominator"]
    assert "SA12.N" in issues[0].message and "Data!I2" in issues[0].message
    zero = parsed([("SA12", "numerator", "default", "5"), ("SA12", "denominator", "default", "0")])
    assert [i.code for i in ratio_issues(zero, SPECS)] == ["zero_denominator"]
    half = parsed([("SA12", "numerator", "default", "5")])
    assert [i.code for i in ratio_issues(half, SPECS)] == ["incomplete_ratio"]
    zero_zero = parsed([("SA12", "numerator", "default", "0"), ("SA12", "denominator", "default", "0")])
    assert ratio_issues(zero_zero, SPECS) == []


def test_disaggregated_values_add_up_to_the_total():
    ok = parsed([("SA01", "value", "F", "60"), ("SA01", "value", "M", "40"), ("SA01", "value", "total", "100")])
    assert total_issues(ok, SPECS) == []
    bad = parsed([("SA01", "value", "F", "60"), ("SA01", "value", "M", "41"), ("SA01", "value", "total", "100")])
    issues = total_issues(bad, SPECS)
    assert len(issues) == 1 and "add up to 101" in issues[0].message and "Data!I4" in issues[0].message
    partial = parsed([("SA01", "value", "F", "120"), ("SA01", "value", "total", "100")])
    assert "already exceed 120" in total_issues(partial, SPECS)[0].message
    partial_ok = parsed([("SA01", "value", "F", "60"), ("SA01", "value", "total", "100")])
    assert total_issues(partial_ok, SPECS) == []


def rule(text_left, op, text_right, **kw):
    return Rule("R1", "Net enrolment within payroll", Expression.parse(text_left), op,
                Expression.parse(text_right), **kw)


def test_rules_as_data_over_indicator_totals():
    values = parsed([("SA14", "value", "default", "500"), ("SA15", "value", "default", "100"),
                     ("SA01", "value", "F", "200"), ("SA01", "value", "M", "150")])
    issues = rule_issues(values, [rule("SA14 - SA15", "<=", "SA01", severity="warning")])
    assert len(issues) == 1 and issues[0].severity == "warning"
    assert "SA14 - SA15 is 400 and SA01 is 350, but the first should be at most the second" in issues[0].message
    assert rule_issues(values, [rule("SA14 - SA15", "<=", "SA01 * 2")]) == []


def test_missing_value_strategies():
    values = parsed([("SA14", "value", "default", "500")])
    skip = rule("SA14 - SA15", "<=", "SA01")
    assert rule_issues(values, [skip]) == []
    never = rule("SA14 - SA15", "<=", "SA01", missing_strategy="never_skip")
    assert len(rule_issues(values, [never])) == 1
    all_missing = rule("SA15", "<=", "SA01", missing_strategy="skip_if_all_missing")
    assert rule_issues(values, [all_missing]) == []


def test_expressions_accept_only_arithmetic_over_codes():
    assert [r.name for r in Expression.parse("SA12.N / SA12.D * 100").references()] == ["SA12.N", "SA12.D"]
    for bad in ("__import__('os')", "SA01.X", "sa01 + 1", "SA01 +", "open", "SA01 if 1 else 2", ""):
        with pytest.raises(ExpressionError):
            Expression.parse(bad)


def test_missing_required_values_are_listed():
    values = parsed([("SA01", "value", "F", "10")])
    required = pd.DataFrame([dict(zip(VALUE_KEY, ("OPCT", "042", "2025Q3", "SA01", "value", o), strict=True))
                             for o in ("F", "M")])
    issues = missing_issues(values, required)
    assert len(issues) == 1 and "SA01, M: this figure is required but empty" in issues[0].message
