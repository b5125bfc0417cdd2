"""The checks' dict paths against the pandas forms they replaced, on generated frames.

`ratio_issues`, `total_issues` and `rule_issues` (indicators/validation.py) run on every write
and submit of a return; they were rewritten over plain dicts for speed (bench/return_cpu.py).
The pandas forms are kept here, verbatim, and hypothesis compares the issues of both on frames
of several returns, with missing figures, zero denominators, totals and every missing-value
strategy; and the history checks (indicators/history.py, whose pandas form is kept verbatim in
history_pandas.py) on generated histories, seasonal and not, with and without thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import history
from indicators.expressions import Expression, compare
from indicators.periods import parse_period
from indicators.validation import (
    NO_NAMES,
    OPERATOR_WORDS,
    IndicatorSpec,
    Issue,
    Names,
    Rule,
    _issue,
    _locate,
    _side,
    describe,
    fmt,
    indicator_totals,
    ratio_issues,
    rule_issues,
    total_issues,
)
from tests.indicators import history_pandas

# --------------------------------------------------------------------------- the pandas forms, as they were


def old_wide_components(effective: pd.DataFrame) -> pd.DataFrame:
    keys = ["programme", "org_unit", "period", "indicator", "option"]
    ratios = effective[effective["component"].isin(["numerator", "denominator"])]
    return ratios.pivot_table(index=keys, columns="component", values="number", aggfunc="first")


def old_ratio_issues(effective: pd.DataFrame, specs: dict[str, IndicatorSpec], names: Names = NO_NAMES) -> list[Issue]:
    """Numerator ≤ denominator for percentages; denominator > 0 when the numerator is; pairs complete."""
    if effective.empty:
        return []
    wide = old_wide_components(effective)
    if wide.empty:
        return []
    for column in ("numerator", "denominator"):
        if column not in wide:
            wide[column] = np.nan
    wide = wide.reset_index()
    factors = wide["indicator"].map(lambda code: specs[code].factor if code in specs else None)
    issues = []
    half = wide["numerator"].isna() ^ wide["denominator"].isna()
    positive_over_zero = (wide["numerator"] > 0) & (wide["denominator"] == 0)
    above = (factors == 100) & (wide["numerator"] > wide["denominator"]) & (wide["denominator"] > 0)
    for row in wide[half].to_dict("records"):
        # pd.notna: a nullable (Float64) frame gives None, not NaN, for the missing part.
        given, missing = ("numerator", "denominator") if pd.notna(row["numerator"]) else ("denominator", "numerator")
        issues.append(_issue("error", "incomplete_ratio",
                             f"the {given} is given but the {missing} is empty; a percentage needs both. "
                             f"Enter the {missing} too, or clear the {given}.",
                             {**_locate(effective, row, given), "component": given}, names))
    for row in wide[positive_over_zero].to_dict("records"):
        issues.append(_issue("error", "zero_denominator",
                             f"the numerator is {fmt(row['numerator'])} but the denominator is 0, so no share "
                             f"can be computed. Enter the denominator, or 0 for both.",
                             {**_locate(effective, row, "denominator"), "component": "denominator"}, names))
    for row in wide[above].to_dict("records"):
        issues.append(_issue("error", "numerator_above_denominator",
                             f"the numerator {fmt(row['numerator'])} is larger than the denominator "
                             f"{fmt(row['denominator'])}, but a percentage cannot exceed 100%. Check whether "
                             f"the two were swapped.",
                             {**_locate(effective, row, "numerator"), "component": "numerator"}, names))
    return issues


def old_total_issues(effective: pd.DataFrame, specs: dict[str, IndicatorSpec], names: Names = NO_NAMES) -> list[Issue]:
    """Disaggregated values must add up to any total given (or stay below it if incomplete)."""
    if effective.empty:
        return []
    keys = ["programme", "org_unit", "period", "indicator", "component"]
    has_total = effective["indicator"].map(lambda code: specs[code].has_total if code in specs else False)
    frame = effective[has_total & effective["number"].notna()]
    if frame.empty:
        return []
    is_total = frame["option"] == "total"
    totals = frame[is_total].set_index(keys)["number"]
    parts = frame[~is_total].groupby(keys)["number"].agg(["sum", "count"])
    joined = parts.join(totals.rename("total"), how="inner").reset_index()
    if joined.empty:
        return []
    expected = joined["indicator"].map(lambda code: len(specs[code].options))
    complete = joined["count"] == expected
    tolerance = 0.005
    mismatch = (complete & ((joined["sum"] - joined["total"]).abs() > tolerance)) | (
        ~complete & (joined["sum"] > joined["total"] + tolerance))
    issues = []
    for row in joined[mismatch].to_dict("records"):
        located = {**_locate(effective, {**row, "option": "total"}, row["component"]),
                   "component": row["component"]}
        relation = "add up to" if row["count"] == len(specs[row["indicator"]].options) else "already exceed"
        issues.append(_issue(
            "error", "total_mismatch",
            f"the {int(row['count'])} disaggregated values {relation} {fmt(row['sum'])}, "
            f"but the total given is {fmt(row['total'])}. Correct the parts or the total.", located, names))
    return issues


def old_rule_issues(effective: pd.DataFrame, rules: Sequence[Rule], names: Names = NO_NAMES) -> list[Issue]:
    """Evaluate rules per return (programme × org unit × period) over indicator totals."""
    if effective.empty or not rules:
        return []
    totals = indicator_totals(effective)
    totals["ref"] = totals["indicator"] + "__" + totals["component"]
    wide = totals.pivot_table(index=["programme", "org_unit", "period"], columns="ref",
                              values="number", aggfunc="first")
    issues = []
    for rule in rules:
        refs = rule.references
        present = pd.DataFrame({r.column: wide[r.column].notna() if r.column in wide else False
                                for r in refs}, index=wide.index)
        if rule.missing_strategy == "never_skip":
            applies = pd.Series(True, index=wide.index)
            frame = wide.reindex(columns=[r.column for r in refs]).fillna(0.0)
        elif rule.missing_strategy == "skip_if_all_missing":
            applies = present.any(axis=1)
            frame = wide.reindex(columns=[r.column for r in refs]).fillna(0.0)
        else:
            applies = present.all(axis=1)
            frame = wide.reindex(columns=[r.column for r in refs])
        if not applies.any():
            continue
        frame = frame[applies]
        left = rule.left.evaluate(frame)
        right = rule.right.evaluate(frame)
        ok = compare(left, rule.operator, right) | left.isna() | right.isna()
        action = ("Correct the figures." if rule.severity == "error"
                  else "Correct the figures, or explain why they are right.")
        reason = f" {rule.description.strip()}" if rule.description.strip() else ""
        if reason and not reason.endswith("."):
            reason += "."
        for (programme, org_unit, period), l_value, r_value in zip(
            frame.index[~ok], left[~ok], right[~ok], strict=True
        ):
            location = {"programme": programme, "org_unit": org_unit, "period": period,
                        "rule": rule.code}
            where = describe({"org_unit": org_unit, "period": period}, names)
            issues.append(Issue(
                rule.severity, "rule",
                f"{where}: {rule.name} ({rule.code}). {_side(rule.left, names)} is {fmt(l_value)} and "
                f"{_side(rule.right, names)} is {fmt(r_value)}, but the first should be "
                f"{OPERATOR_WORDS.get(rule.operator, rule.operator)} the second "
                f"({rule.text}).{reason} {action}", location))
    return issues


SPECS = {
    "SA01": IndicatorSpec("SA01", "count", None, ("F", "M"), has_total=True),
    "SA02": IndicatorSpec("SA02", "amount", None, ("a", "b", "c"), has_total=True),
    "SA10": IndicatorSpec("SA10", "amount", None, ("default",)),
    "SA12": IndicatorSpec("SA12", "ratio", 100, ("default",)),
    "SPX12": IndicatorSpec("SPX12", "ratio", 1, ("F", "M")),
}
OPTIONS = {"SA01": ("F", "M", "total"), "SA02": ("a", "b", "c", "total"), "SA10": ("default",),
           "SA12": ("default",), "SPX12": ("F", "M")}
COMPONENTS = {"SA12": ("numerator", "denominator"), "SPX12": ("numerator", "denominator")}
FIGURES = [(indicator, component, option) for indicator in SPECS
           for component in COMPONENTS.get(indicator, ("value",)) for option in OPTIONS[indicator]]
RETURNS = [("OPCT", "042", "2025Q3"), ("OPCT", "001", "2025Q3"), ("OPCT", "042", "2025Q2"), ("CTOVC", "042", "2025Q3")]
NUMBERS = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 3.0, 5.0, 7.0, 10.0, 12.5, 0.1, 0.2, 0.3, 1e9 + 0.01]))
RULE_TEXTS = [("SA01", "<=", "SA02"), ("SA01 + SA10", ">=", "SA02 / 2"), ("SA12.N", "<=", "SA12.D"),
              ("SA10 / SA01", "<", "100"), ("SPX12.N - SPX12.D", "==", "0"), ("SA02", "!=", "SA10 * 3"),
              ("-SA01", ">", "SA12.D - SA10"), ("SA01", "==", "SA01")]
STRATEGIES = ("skip_if_any_missing", "skip_if_all_missing", "never_skip")
RULES = [Rule(f"R{i}{s[5:8]}", f"rule {i}", Expression.parse(left), op, Expression.parse(right),
              severity="error" if i % 2 else "warning", missing_strategy=s, description="why" if i % 3 else "")
         for i, (left, op, right) in enumerate(RULE_TEXTS) for s in STRATEGIES]


@st.composite
def frames(draw) -> pd.DataFrame:
    """Rows of one to four returns: each figure once at most (as after merging), with gaps and NaN
    numbers, in any order."""
    returns = draw(st.lists(st.sampled_from(RETURNS), min_size=1, max_size=4, unique=True))
    rows = []
    for programme, org_unit, period in returns:
        for indicator, component, option in draw(st.lists(st.sampled_from(FIGURES), max_size=20, unique=True)):
            number = draw(NUMBERS)
            rows.append({"programme": programme, "org_unit": org_unit, "period": period, "indicator": indicator,
                         "component": component, "option": option,
                         "number": np.nan if number is None else number, "row": len(rows) + 2})
    frame = pd.DataFrame(rows, columns=["programme", "org_unit", "period", "indicator", "component", "option",
                                        "number", "row"])
    frame["number"] = frame["number"].astype("float64")
    return frame.sample(frac=1.0, random_state=draw(st.integers(0, 1000))).reset_index(drop=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_dict_paths_give_the_issues_of_the_pandas_forms(effective: pd.DataFrame) -> None:
    # The same issues; the pandas form's order follows pivot_table's, which pandas 3 does not keep sorted
    # (M before F for an empty frame slice), while the product lists them by figure key.
    assert sorted(ratio_issues(effective, SPECS), key=repr) == sorted(old_ratio_issues(effective, SPECS), key=repr)
    assert total_issues(effective, SPECS) == old_total_issues(effective, SPECS)
    assert rule_issues(effective, RULES) == old_rule_issues(effective, RULES)


def test_the_generated_frames_reach_every_kind_of_issue() -> None:
    """The comparison above is not vacuous: a fixed frame gives every kind of issue both ways."""
    rows = [("SA01", "value", "F", 5.0), ("SA01", "value", "M", 7.0), ("SA01", "value", "total", 10.0),
            ("SA12", "numerator", "default", 9.0), ("SA12", "denominator", "default", 3.0),
            ("SPX12", "numerator", "F", 2.0), ("SPX12", "numerator", "M", 1.0), ("SPX12", "denominator", "M", 0.0),
            ("SA02", "value", "a", 1.0), ("SA02", "value", "total", 3.0), ("SA10", "value", "default", 1.0)]
    effective = pd.DataFrame([{"programme": "OPCT", "org_unit": "042", "period": "2025Q3", "indicator": i,
                               "component": c, "option": o, "number": n} for i, c, o, n in rows])
    new = ratio_issues(effective, SPECS) + total_issues(effective, SPECS) + rule_issues(effective, RULES)
    old = old_ratio_issues(effective, SPECS) + old_total_issues(effective, SPECS) + old_rule_issues(effective, RULES)
    assert new == old
    assert {"incomplete_ratio", "zero_denominator", "numerator_above_denominator", "total_mismatch",
            "rule"} <= {issue.code for issue in new}
    assert {issue.severity for issue in new if issue.code == "rule"} == {"error", "warning"}


# --------------------------------------------------------------------------- history checks

HISTORY_SPECS = {
    "SA01": IndicatorSpec("SA01", "count", None, ("F", "M"), has_total=True),
    "SA10": IndicatorSpec("SA10", "amount", None, ("default",), time_aggregation="sum"),
    "SA12": IndicatorSpec("SA12", "ratio", 100, ("default",)),
    "SPX12": IndicatorSpec("SPX12", "ratio", 1, ("default",)),
    "SA14": IndicatorSpec("SA14", "count", None, ("default",), time_aggregation="sum", seasonal=True),
    "SA13": IndicatorSpec("SA13", "amount", None, ("default",), min_change=0.05, min_absolute=50),
}
SERIES = [("SA01", "value", "F"), ("SA01", "value", "M"), ("SA01", "value", "total"), ("SA10", "value", "default"),
          ("SA12", "numerator", "default"), ("SA12", "denominator", "default"), ("SPX12", "numerator", "default"),
          ("SPX12", "denominator", "default"), ("SA14", "value", "default"), ("SA13", "value", "default")]
QUARTERS = [parse_period("2025Q3").shift(-n).id for n in range(13, -1, -1)]
LEVELS = st.sampled_from([0.0, 40.0, 50.0, 60.0, 100.0, 1000.0, 1010.0, 1500.0, 5000.0, 100000.0, 250000.5])


@st.composite
def histories(draw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A return of one or two quarters and up to 13 earlier quarters of the same series, with gaps."""
    rows_now, rows_past = [], []
    now_periods = QUARTERS[-1:] if draw(st.booleans()) else QUARTERS[-2:]
    for unit in draw(st.lists(st.sampled_from(["042", "047"]), min_size=1, max_size=2, unique=True)):
        for indicator, component, option in draw(st.lists(st.sampled_from(SERIES), min_size=1, max_size=6,
                                                           unique=True)):
            key = {"programme": "OPCT", "org_unit": unit, "indicator": indicator, "component": component,
                   "option": option}
            for period in QUARTERS[:-len(now_periods)]:
                if draw(st.integers(0, 4)):
                    rows_past.append({**key, "period": period, "number": draw(LEVELS)})
            for period in now_periods:
                rows_now.append({**key, "period": period, "number": draw(LEVELS), "row": len(rows_now) + 2,
                                 "file": "f.xlsx"})
    columns = ["programme", "org_unit", "period", "indicator", "component", "option", "number"]
    return (pd.DataFrame(rows_now, columns=[*columns, "row", "file"]), pd.DataFrame(rows_past, columns=columns))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from([history.HistorySettings(), history.HistorySettings.unfiltered(),
                                     history.HistorySettings(min_history=2, window=4, merge_cells=False)]))
def test_history_checks_give_the_warnings_of_the_pandas_form(frames, chosen) -> None:
    current, past = frames
    new = history.figure_warnings(current, past, HISTORY_SPECS, chosen)
    old = history_pandas.figure_warnings(current, past, HISTORY_SPECS, chosen)
    assert new == old
    ratios_new, ratios_old = history.ratio_frame(current, HISTORY_SPECS), history_pandas.ratio_frame(current, HISTORY_SPECS)
    assert ratios_new.to_dict("records") == ratios_old.to_dict("records")


def test_the_generated_histories_reach_every_kind_of_warning() -> None:
    """Not vacuous: a fixed history gives an outlier, a change and an unchanged flow, both ways."""
    steady = [1000.0, 1010.0, 990.0, 1005.0, 1020.0, 1000.0, 995.0, 1010.0]
    past = pd.DataFrame(
        [{"programme": "OPCT", "org_unit": "042", "period": p, "indicator": "SA01", "component": "value",
          "option": "F", "number": v} for p, v in zip(QUARTERS[-9:-1], steady, strict=True)]
        + [{"programme": "OPCT", "org_unit": "042", "period": p, "indicator": "SA13", "component": "value",
            "option": "default", "number": 1000.0} for p in QUARTERS[-2:-1]]
        + [{"programme": "OPCT", "org_unit": "042", "period": p, "indicator": "SA10", "component": "value",
            "option": "default", "number": 5_000_000.0} for p in QUARTERS[-3:-1]])
    current = pd.DataFrame([{"programme": "OPCT", "org_unit": "042", "period": QUARTERS[-1], "indicator": i,
                             "component": "value", "option": o, "number": n}
                            for i, o, n in [("SA01", "F", 3000.0), ("SA13", "default", 5000.0),
                                            ("SA10", "default", 5_000_000.0)]])
    new = history.figure_warnings(current, past, HISTORY_SPECS)
    assert new == history_pandas.figure_warnings(current, past, HISTORY_SPECS)
    assert {"outlier", "change", "unchanged"} <= {issue.code for issue in new}
