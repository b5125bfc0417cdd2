"""Validation of return values, vectorised with pandas over a whole file or payload.

Frames use one row per figure with the key columns in VALUE_KEY, a raw text `value` or a
parsed `number`, and optional location columns (file, sheet, row, column) saying where a
person typed it. Every check returns `Issue`s whose message names the place and the problem.

Messages are English templates marked with `N_` (indicators/messages.py); an issue's `message` is
their English text, and `issue.text(gettext)` says it in the reader's language, with the data in it
(codes, cell references, figures, what was typed) as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from indicators.expressions import Expression, Reference, compare_one
from indicators.figures import LOCATION_COLUMNS, figure_code, split_code
from indicators.messages import (
    N_,
    Gettext,
    Joined,
    Message,
    Words,
    message,
    period_name,
    say,
    text,
)
from indicators.periods import PeriodError, parse_period

VALUE_KEY = ["programme", "org_unit", "period", "indicator", "component", "option"]
MISSING_STRATEGIES = ("skip_if_any_missing", "skip_if_all_missing", "never_skip")
MAX_VALUE = 1e15

_NUMBER_RE = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_THOUSANDS_RE = r"^[+-]?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$"


@dataclass(frozen=True)
class Issue:
    """One problem: `error` blocks saving or submitting; `warning` needs an explanation."""

    severity: str
    code: str
    message: str
    location: dict[str, Any] = field(default_factory=dict)
    what: str = ""  # the message without its place: what is wrong and what to do

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def text(self, gettext: Gettext | None = None) -> str:
        """The message in the language of `gettext` (flask_babel's on a page); English without one."""
        return say(self.message, gettext)

    def about_the_figure(self, names: Names) -> str:
        """The message placed by the figure alone (county, quarter, indicator, option), without the
        file and cell it was typed in: how a warning is kept with the return (English text that
        remembers its message: `as_data` keeps it beside the English)."""
        if not self.what:
            return self.message
        place = {k: v for k, v in self.location.items() if k not in (*LOCATION_COLUMNS, "cell")}
        return text(Joined(": ", (place_words(place, names), self.what)))


@dataclass(frozen=True)
class IndicatorSpec:
    """What validation needs to know about an indicator."""

    code: str
    measure: str  # count | amount | ratio
    factor: int | None
    options: tuple[str, ...]  # option combos a person fills (not the total)
    has_total: bool = False
    time_aggregation: str = "last"  # sum (a flow: new in each quarter) | last | average (a stock)
    min_change: float | None = None  # history checks (indicators/history.py); None: by measure
    min_absolute: float | None = None
    min_points: float | None = None
    seasonal: bool = False

    @property
    def components(self) -> tuple[str, ...]:
        return ("numerator", "denominator") if self.measure == "ratio" else ("value",)


@dataclass(frozen=True)
class Rule:
    """A DHIS2-style rule `left operator right` with severity and a missing-value strategy."""

    code: str
    name: str
    left: Expression
    operator: str
    right: Expression
    severity: str = "error"
    importance: str = "medium"
    missing_strategy: str = "skip_if_any_missing"
    description: str = ""  # why the rule holds, in words: printed with every warning it gives

    @property
    def references(self) -> list[Reference]:
        refs = self.left.references()
        return refs + [r for r in self.right.references() if r not in refs]

    @property
    def indicators(self) -> tuple[str, ...]:
        """The indicator codes the rule names, in order: an explanation on any of their figures
        in a return explains the rule's warning for that return."""
        return tuple(dict.fromkeys(ref.indicator for ref in self.references))

    @property
    def text(self) -> str:
        return f"{self.left.text} {self.operator} {self.right.text}"


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Names:
    """What people call the codes of a location: indicators, options, org units, programmes.

    Messages name things in words and keep the codes in brackets; without names (a bare
    check in a test) the codes stand alone.
    """

    indicators: Mapping[str, str] = field(default_factory=dict)  # code -> name
    options: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (indicator, option) -> words
    org_units: Mapping[str, str] = field(default_factory=dict)  # code -> name
    programmes: Mapping[str, str] = field(default_factory=dict)  # code -> name

    def figure(self, code: str) -> str:
        """`SA12.N` → "numerator of % of credited payments withdrawn … (SA12.N)"."""
        return say(self.figure_words(code))

    def figure_words(self, code: str) -> Words | str:
        """`figure` as a message: "numerator of" translated, the indicator's name and code as they are."""
        indicator, component = split_code(code)
        name = self.indicators.get(indicator)
        if not name:
            return code
        if component in COMPONENT_OF:
            return message(COMPONENT_OF[component], name=name, code=code)
        return f"{name} ({code})" if component == "value" else f"{component} of {name} ({code})"

    def option(self, indicator: str, option: Any) -> str:
        if option in (None, "", "default"):
            return ""
        return self.options.get((indicator, str(option)), str(option))

    def org_unit(self, code: Any) -> str:
        return say(self.org_unit_words(code))

    def org_unit_words(self, code: Any) -> Words | str:
        name = self.org_units.get(str(code))
        return name if name is not None else message(N_("org unit %(code)s"), code=code)


COMPONENT_OF = {"numerator": N_("numerator of %(name)s (%(code)s)"),
                "denominator": N_("denominator of %(name)s (%(code)s)")}


NO_NAMES = Names()


def period_text(period: str) -> str:
    """`FY2025/26 Q1` for messages; the bare identifier if it does not parse."""
    return say(period_words(period))


def period_words(period: str) -> Words | str:
    """`period_text` as a message ("FY" and "Q" translated, the years and the quarter's number as they are)."""
    try:
        parsed = parse_period(period)
    except PeriodError:
        return str(period)
    return period_name(parsed)


def location_of(row: dict[str, Any]) -> dict[str, Any]:
    """The location of a figure: file/sheet/row/column when typed in a file, plus its key."""
    location: dict[str, Any] = {}
    for column in LOCATION_COLUMNS:
        value = row.get(column)
        if value is not None and value == value and value != "":
            location[column] = int(value) if column == "row" else value
    if location.get("sheet") and location.get("column") and location.get("row"):
        location["cell"] = f"{location['sheet']}!{location['column']}{location['row']}"
    for column in VALUE_KEY:
        value = row.get(column)
        if value is not None and value == value and value != "":
            location[column] = value
    if "indicator" in location:
        location["indicator"] = figure_code(location["indicator"], row.get("component", "value"))
    location.pop("component", None)
    return location


def describe(location: dict[str, Any], names: Names = NO_NAMES) -> str:
    """Human words for a location, codes in brackets:
    `opct.xlsx Data!I7 — Kisumu, FY2025/26 Q1 — Number of Inua Jamii beneficiaries paid (SA01), women 70+`."""
    return text(place_words(location, names))


def place_words(location: dict[str, Any], names: Names = NO_NAMES) -> Words:
    """`describe` as a message: its words translated, the file, cell, codes and names as they are."""
    parts: list[Any] = []
    where: list[Any] = []
    if "file" in location:
        where.append(str(location["file"]))
    if "cell" in location:
        where.append(str(location["cell"]))
    elif "row" in location:
        where.append(message(N_("row %(row)s, column %(column)s"), row=location["row"], column=location["column"])
                     if "column" in location else message(ROW, row=location["row"]))
    if where:
        parts.append(Joined(" ", tuple(where)))
    when = []
    if "org_unit" in location:
        when.append(names.org_unit_words(location["org_unit"]))
    if "period" in location:
        when.append(period_words(location["period"]))
    if when:
        parts.append(Joined(", ", tuple(when)))
    if "indicator" in location:
        code = str(location["indicator"])
        what = names.figure_words(code)
        option = names.option(split_code(code)[0], location.get("option"))
        parts.append(Joined(", ", (what, option)) if option else what)
    return Joined(" — ", tuple(parts)) if parts else Message(N_("the return"))


ROW = N_("row %(row)s")


def fmt(number: float) -> str:
    """A figure as people read it: thousands separators, cents only when there are any."""
    if number != number:
        return "–"
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.2f}"


def located(severity: str, code: str, what: Words | str, row: dict[str, Any], names: Names = NO_NAMES) -> Issue:
    """An issue about the figure of `row`: its place, a colon, then what is wrong (a message, or
    English text that stays English)."""
    location = location_of(row)
    return Issue(severity, code, text(Joined(": ", (place_words(location, names), what))), location,
                 what if isinstance(what, str) else text(what))


_issue = located  # indicators/history.py's name for it



# --------------------------------------------------------------------------- types and ranges


def parse_numbers(frame: pd.DataFrame, measures: pd.Series) -> pd.DataFrame:
    """Add `number` (float, NaN when empty or invalid) and `problem` (a code or '') columns.

    `measures` gives each row's measure (count/amount/ratio), aligned with `frame`.
    """
    raw = frame["value"].astype("string").fillna("").str.strip()
    empty = raw == ""
    is_number = raw.str.match(_NUMBER_RE)
    number = pd.to_numeric(raw.where(is_number & ~empty), errors="coerce")
    problem = pd.Series("", index=frame.index, dtype="object")
    problem[~empty & ~is_number] = "not_a_number"
    problem[~empty & raw.str.match(_THOUSANDS_RE)] = "thousands_separator"
    problem[~empty & raw.str.endswith("%")] = "percent_sign"
    valid = is_number & ~empty
    problem[valid & (number < 0)] = "negative"
    problem[valid & (number.abs() > MAX_VALUE)] = "too_large"
    whole_required = measures.isin(["count", "ratio"]).to_numpy()
    fractional = valid & (number != np.floor(number)) & whole_required & (problem == "")
    problem[fractional] = "not_whole"
    # Decide on the text: float arithmetic on large amounts would invent stray decimals.
    exponent = raw.str.contains("[eE]", regex=True)
    third_decimal = raw.str.contains(r"\.\d{2}\d*[1-9]", regex=True)
    cents = number * 100
    too_precise = valid & (measures.to_numpy() == "amount") & (problem == "") & (
        (~exponent & third_decimal) | (exponent & ((cents - cents.round()).abs() > 1e-6)))
    problem[too_precise] = "too_many_decimals"
    result = frame.copy()
    result["value"] = raw.astype(object)
    result["number"] = number.where(problem == "")
    result["problem"] = problem
    return result


# What each problem `parse_numbers` finds says (the msgids), with %(quoted)s (the text as typed, in
# quotes), %(raw)s, %(fixed)s (the text without separators), %(indicator)s and %(kind)s
# (NOT_WHOLE_KINDS). Browsers get the same words through `entry_rules` to say them as a field loses
# focus; the server stays the judge.
VALUE_TEMPLATES = {
    "thousands_separator": N_("%(quoted)s has a thousands separator, which is read as text. Type %(fixed)s."),
    "percent_sign": N_("%(quoted)s is a percentage, but percentages are computed here. Enter the numerator "
                       "(%(indicator)s.N) and the denominator (%(indicator)s.D) instead."),
    "negative": N_("%(raw)s is negative, and figures cannot be below zero. Type the figure without a minus "
                   "sign, or 0."),
    "not_whole": N_("%(raw)s is not a whole number, but this figure is %(kind)s. Type a whole number."),
    "too_many_decimals": N_("%(raw)s has more than 2 decimals; KES amounts are kept to the cent. Round it to "
                            "2 decimals."),
    "too_large": N_("%(raw)s is larger than any figure this sector reports. Check the cell for extra digits."),
    "not_a_number": N_("%(quoted)s is not a number. Type digits only, e.g. 1234 or 1234.50 (0 if there were "
                       "none)."),
}
NOT_WHOLE_KINDS = {"value": N_("a count of people or households"), "part": N_("a count (a ratio's part)")}


def _braces(template: str) -> str:
    """A `%(name)s` template with `{name}` placeholders, as the browser fills them (grid.js)."""
    return re.sub(r"%\((\w+)\)s", r"{\1}", template).replace("%%", "%")


# The templates in English with {name} placeholders (the browser's form, and str.format's).
VALUE_MESSAGES = {problem: _braces(template) for problem, template in VALUE_TEMPLATES.items()}


def _what(problem: str, raw: str, row: dict[str, Any]) -> Message:
    kind = NOT_WHOLE_KINDS["value" if row.get("component") == "value" else "part"]
    template = VALUE_TEMPLATES.get(problem, VALUE_TEMPLATES["not_a_number"])
    return message(template, quoted=repr(raw), raw=raw, fixed=raw.replace(",", "").replace(" ", ""),
                   indicator=row.get("indicator"), kind=Message(kind))


def entry_rules(gettext: Gettext | None = None) -> dict[str, Any]:
    """What a browser needs to check a typed figure as `parse_numbers` does, before it is sent:
    the patterns (JavaScript regular expressions alike), the largest figure, the messages (in the
    language of `gettext`, English without one)."""
    say_it = gettext or (lambda template: template)
    return {"number": _NUMBER_RE, "thousands": _THOUSANDS_RE, "max": MAX_VALUE,
            "messages": {problem: _braces(say_it(template)) for problem, template in VALUE_TEMPLATES.items()},
            "kinds": {kind: say_it(words) for kind, words in NOT_WHOLE_KINDS.items()},
            "whole": ["count", "ratio"], "cents": ["amount"]}


def value_issues(parsed: pd.DataFrame, names: Names = NO_NAMES) -> list[Issue]:
    """Errors for every cell `parse_numbers` could not accept."""
    problems = parsed["problem"] != ""
    if not problems.any():
        return []
    bad = parsed[problems]
    return [
        located("error", row["problem"], _what(row["problem"], row["value"], row), row, names)
        for row in bad.to_dict("records")
    ]


def duplicate_issues(frame: pd.DataFrame, names: Names = NO_NAMES) -> list[Issue]:
    """Errors for the same figure given twice with different values (same values are merged)."""
    filled = frame[frame["value"] != ""]
    keys = list(zip(*(filled[k].tolist() for k in VALUE_KEY), strict=True))
    if len(set(keys)) == len(keys):  # no figure given twice: nothing can clash
        return []
    counts = filled.groupby(VALUE_KEY, sort=False)["value"].transform("nunique")
    clashes = filled[counts > 1]
    issues = []
    for _, group in clashes.groupby(VALUE_KEY, sort=False):
        records = group.to_dict("records")
        first = records[0]
        for other in records[1:]:
            if other["value"] == first["value"]:
                continue
            row_number = first.get("row")
            other_place = message(ROW, row=row_number) if row_number == row_number and row_number \
                else Message(N_("another entry"))
            issues.append(located(
                "error", "duplicate",
                message(N_("%(value)s differs from %(first)s given for the same figure in %(place)s. Keep one "
                           "row per figure and delete the other."),
                        value=repr(other["value"]), first=repr(first["value"]), place=other_place), other, names))
    return issues


# --------------------------------------------------------------------------- consistency


def _numbers(frame: pd.DataFrame) -> np.ndarray:
    """The `number` column as float64, NaN where empty (also for nullable and object columns)."""
    return frame["number"].to_numpy(dtype="float64", na_value=np.nan)


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> Iterable[tuple]:
    """The frame's `columns` and its number, row by row, as plain tuples.

    The consistency checks run on every write and submit of one return, a frame of a few dozen
    rows, where pandas' fixed cost per operation (pivots, group-bys) dominated; plain dicts give
    the same results (tests/indicators/test_fast_checks.py compares them with the pandas forms).
    """
    return zip(*(frame[c].tolist() for c in columns), _numbers(frame).tolist(), strict=True)


def _wide_components(effective: pd.DataFrame) -> dict[tuple, dict[str, float]]:
    """Each ratio's (programme, org unit, period, indicator, option) → its first numerator and
    denominator given, in key order; keys with neither are left out."""
    wide: dict[tuple, dict[str, float]] = {}
    for *key, component, number in _rows(effective, ["programme", "org_unit", "period", "indicator", "option",
                                                     "component"]):
        if component in ("numerator", "denominator") and number == number:
            wide.setdefault(tuple(key), {}).setdefault(component, number)
    return {key: wide[key] for key in sorted(wide)}


def ratio_issues(effective: pd.DataFrame, specs: dict[str, IndicatorSpec], names: Names = NO_NAMES) -> list[Issue]:
    """Numerator ≤ denominator for percentages; denominator > 0 when the numerator is; pairs complete."""
    if effective.empty:
        return []
    keys = ("programme", "org_unit", "period", "indicator", "option")
    wide = [{**dict(zip(keys, key, strict=True)), "numerator": parts.get("numerator", np.nan),
             "denominator": parts.get("denominator", np.nan)}
            for key, parts in _wide_components(effective).items()]
    if not wide:
        return []
    issues = []
    half = [row for row in wide if (row["numerator"] != row["numerator"]) ^ (row["denominator"] != row["denominator"])]
    positive_over_zero = [row for row in wide if row["numerator"] > 0 and row["denominator"] == 0]
    above = [row for row in wide if row["indicator"] in specs and specs[row["indicator"]].factor == 100
             and row["numerator"] > row["denominator"] and row["denominator"] > 0]
    for row in half:
        given = "numerator" if row["numerator"] == row["numerator"] else "denominator"
        issues.append(located("error", "incomplete_ratio", Message(HALF_RATIO[given]),
                              {**_locate(effective, row, given), "component": given}, names))
    for row in positive_over_zero:
        issues.append(located("error", "zero_denominator",
                              message(N_("the numerator is %(numerator)s but the denominator is 0, so no share "
                                         "can be computed. Enter the denominator, or 0 for both."),
                                      numerator=fmt(row["numerator"])),
                              {**_locate(effective, row, "denominator"), "component": "denominator"}, names))
    for row in above:
        issues.append(located("error", "numerator_above_denominator",
                              message(N_("the numerator %(numerator)s is larger than the denominator "
                                         "%(denominator)s, but a percentage cannot exceed 100%%. Check whether "
                                         "the two were swapped."),
                                      numerator=fmt(row["numerator"]), denominator=fmt(row["denominator"])),
                              {**_locate(effective, row, "numerator"), "component": "numerator"}, names))
    return issues


# A ratio with one part given (the part given → what is said).
HALF_RATIO = {
    "numerator": N_("the numerator is given but the denominator is empty; a percentage needs both. Enter the "
                    "denominator too, or clear the numerator."),
    "denominator": N_("the denominator is given but the numerator is empty; a percentage needs both. Enter the "
                      "numerator too, or clear the denominator."),
}


def _locate(effective: pd.DataFrame, row: dict[str, Any], component: str) -> dict[str, Any]:
    """The typed location of one component of a key, when the file carried it."""
    match = effective[
        (effective["programme"] == row["programme"]) & (effective["org_unit"] == row["org_unit"])
        & (effective["period"] == row["period"]) & (effective["indicator"] == row["indicator"])
        & (effective["option"] == row["option"]) & (effective["component"] == component)
    ]
    base = {k: row[k] for k in ("programme", "org_unit", "period", "indicator", "option")}
    if match.empty:
        return base
    return {**match.iloc[0].to_dict(), **base}


def total_issues(effective: pd.DataFrame, specs: dict[str, IndicatorSpec], names: Names = NO_NAMES) -> list[Issue]:
    """Disaggregated values must add up to any total given (or stay below it if incomplete)."""
    if effective.empty:
        return []
    totals: dict[tuple, list[float]] = {}
    parts: dict[tuple, list[float]] = {}
    present: dict[tuple, set[str]] = {}
    for *key, option, number in _rows(effective, ["programme", "org_unit", "period", "indicator", "component",
                                                 "option"]):
        if number != number or not (key[3] in specs and specs[key[3]].has_total):
            continue
        (totals if option == "total" else parts).setdefault(tuple(key), []).append(number)
        present.setdefault(tuple(key), set()).add(option)
    issues = []
    tolerance = 0.005
    for address in sorted(parts.keys() & totals.keys()):
        programme, org_unit, period, indicator, component = address
        added, count = math.fsum(parts[address]), len(parts[address])
        # Complete: every option a person fills is there (a retired option's old figure may be there too).
        complete = set(specs[indicator].options) <= present[address]
        for total in totals[address]:
            if not ((complete and abs(added - total) > tolerance) or (not complete and added > total + tolerance)):
                continue
            row = {"programme": programme, "org_unit": org_unit, "period": period, "indicator": indicator,
                   "component": component, "sum": added, "count": count, "total": total}
            place = {**_locate(effective, {**row, "option": "total"}, component), "component": component}
            template = (N_("the %(count)s disaggregated values add up to %(sum)s, but the total given is "
                           "%(total)s. Correct the parts or the total.") if complete else
                        N_("the %(count)s disaggregated values already exceed %(sum)s, but the total given is "
                           "%(total)s. Correct the parts or the total."))
            issues.append(located("error", "total_mismatch",
                                  message(template, count=count, sum=fmt(added), total=fmt(total)), place, names))
    return issues


# --------------------------------------------------------------------------- rules as data


def indicator_totals(effective: pd.DataFrame) -> pd.DataFrame:
    """One figure per (return, indicator, component): the total if given, else the sum of parts."""
    keys = ["programme", "org_unit", "period", "indicator", "component"]
    present = effective[effective["number"].notna()]
    is_total = present["option"] == "total"
    parts = present[~is_total].groupby(keys)["number"].sum()
    totals = present[is_total].set_index(keys)["number"]
    combined = totals.combine_first(parts)
    return combined.rename("number").reset_index()


def _side(expression: Expression, names: Names) -> str:
    """An expression in words: one figure by its name, arithmetic by its codes."""
    return say(_side_words(expression, names))


def _side_words(expression: Expression, names: Names) -> Words | str:
    references = expression.references()
    if len(references) == 1 and expression.text.strip() == references[0].name:
        return names.figure_words(references[0].name)
    return expression.text


def rule_words(rule: Rule, names: Names) -> str:
    """A rule in words, its indicators by name: "New … (SA14) minus … should be at most …". English text
    that remembers its message: a page says it in its language (`say`), the API keeps the English."""
    operator = Message(OPERATOR_WORDS[rule.operator]) if rule.operator in OPERATOR_WORDS else rule.operator
    words: Words = message(N_("%(left)s should be %(operator)s %(right)s"), left=_side_words(rule.left, names),
                           operator=operator, right=_side_words(rule.right, names))
    named: dict[str, Words | str] = {}  # each figure an arithmetic side names, by its English words, once
    for side in (rule.left, rule.right):
        if _side(side, names) == side.text:
            for ref in side.references():
                figure = names.figure_words(ref.name)
                if say(figure) != ref.name:
                    named.setdefault(say(figure), figure)
    if named:
        words = message(N_("%(rule)s, where %(figures)s"), rule=words, figures=Joined("; ", tuple(named.values())))
    return text(words)


def _wide_totals(effective: pd.DataFrame) -> dict[tuple, dict[str, float]]:
    """Per return (programme, org unit, period): `INDICATOR__component` → the total if given, else
    the sum of parts (`indicator_totals` as dicts, in return order)."""
    given: dict[tuple, dict[str, float]] = {}
    parts: dict[tuple, dict[str, list[float]]] = {}
    for programme, org_unit, period, indicator, component, option, number in _rows(
            effective, ["programme", "org_unit", "period", "indicator", "component", "option"]):
        if number != number:
            continue
        key, column = (programme, org_unit, period), f"{indicator}__{component}"
        if option == "total":
            given.setdefault(key, {}).setdefault(column, number)
        else:
            parts.setdefault(key, {}).setdefault(column, []).append(number)
    return {key: {**{c: math.fsum(v) for c, v in parts.get(key, {}).items()}, **given.get(key, {})}
            for key in sorted(given.keys() | parts.keys())}


@dataclass(frozen=True)
class RuleCheck:
    """A rule over one return: `holds` True or False, or None when it was not evaluated
    (`skipped` says why: its missing-value strategy, or a side that cannot be computed)."""

    programme: str
    org_unit: str
    period: str
    left: float  # NaN when not evaluated
    right: float
    holds: bool | None
    skipped: str = ""  # "" | "missing" | "not computable"


def check_rule(rule: Rule, wide: Mapping[tuple, dict[str, float]]) -> Iterable[RuleCheck]:
    """Evaluate one rule on each return of `wide` (see `_wide_totals`): the one evaluation that
    `rule_issues` and a rule tried on history share."""
    refs = [r.column for r in rule.references]
    for (programme, org_unit, period), found in wide.items():
        present = [c in found for c in refs]
        values = found
        if rule.missing_strategy == "never_skip":
            values = {c: found.get(c, 0.0) for c in refs}
        elif rule.missing_strategy == "skip_if_all_missing":
            if not any(present):
                yield RuleCheck(programme, org_unit, period, math.nan, math.nan, None, "missing")
                continue
            values = {c: found.get(c, 0.0) for c in refs}
        elif not all(present):
            yield RuleCheck(programme, org_unit, period, math.nan, math.nan, None, "missing")
            continue
        l_value, r_value = rule.left.evaluate_one(values), rule.right.evaluate_one(values)
        if l_value != l_value or r_value != r_value:
            yield RuleCheck(programme, org_unit, period, l_value, r_value, None, "not computable")
            continue
        yield RuleCheck(programme, org_unit, period, l_value, r_value, compare_one(l_value, rule.operator, r_value))


def rule_checks(effective: pd.DataFrame, rule: Rule, returns: Iterable[tuple] = ()) -> list[RuleCheck]:
    """One rule on every return of `effective`, and on the `returns` keys (programme, org unit,
    period) with no figure in it (their figures count as missing)."""
    wide = _wide_totals(effective) if not effective.empty else {}
    for key in returns:
        wide.setdefault(tuple(key), {})
    return list(check_rule(rule, dict(sorted(wide.items()))))


def rule_issues(effective: pd.DataFrame, rules: Sequence[Rule], names: Names = NO_NAMES) -> list[Issue]:
    """Evaluate rules per return (programme × org unit × period) over indicator totals."""
    if effective.empty or not rules:
        return []
    wide = _wide_totals(effective)
    issues = []
    for rule in rules:
        action = Message(N_("Correct the figures.") if rule.severity == "error"
                         else N_("Correct the figures, or explain why they are right."))
        reason = f" {rule.description.strip()}" if rule.description.strip() else ""  # the catalogue's words
        if reason and not reason.endswith("."):
            reason += "."
        operator = Message(OPERATOR_WORDS[rule.operator]) if rule.operator in OPERATOR_WORDS else rule.operator
        for check in check_rule(rule, wide):
            if check.holds is not False:
                continue
            location = {"programme": check.programme, "org_unit": check.org_unit, "period": check.period,
                        "rule": rule.code}
            where = place_words({"org_unit": check.org_unit, "period": check.period}, names)
            what = message(N_("%(name)s (%(code)s). %(left)s is %(left_value)s and %(right)s is %(right_value)s, "
                              "but the first should be %(operator)s the second (%(rule)s).%(reason)s %(action)s"),
                           name=rule.name, code=rule.code, left=_side_words(rule.left, names), left_value=fmt(check.left),
                           right=_side_words(rule.right, names), right_value=fmt(check.right), operator=operator,
                           rule=rule.text, reason=reason, action=action)
            issues.append(Issue(rule.severity, "rule", text(Joined(": ", (where, what))), location))
    return issues


OPERATOR_WORDS = {"<=": N_("at most"), "<": N_("below"), ">=": N_("at least"), ">": N_("above"),
                  "==": N_("equal to"), "!=": N_("different from")}


# --------------------------------------------------------------------------- completeness


def missing_issues(effective: pd.DataFrame, required: pd.DataFrame, names: Names = NO_NAMES) -> list[Issue]:
    """Errors for required figures (rows of VALUE_KEY in `required`) with no value."""
    if required.empty:
        return []
    present = effective[effective["number"].notna()]
    given = set(zip(*(present[k].tolist() for k in VALUE_KEY), strict=True))
    missing = [key not in given for key in zip(*(required[k].tolist() for k in VALUE_KEY), strict=True)]
    if not any(missing):
        return []
    what = Message(N_("this figure is required but empty. Enter it (0 if there were none)."))
    return [located("error", "missing", what, row, names)
            for row in required[np.array(missing, dtype=bool)].to_dict("records")]


def summarise(issues: Iterable[Issue]) -> dict[str, int]:
    counts = {"errors": 0, "warnings": 0}
    for issue in issues:
        counts["errors" if issue.is_error else "warnings"] += 1
    return counts
