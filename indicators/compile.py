"""Compile data values into the figures the sector publishes (pure pandas, no database).

The rules (DESIGN.md, step 5):
- across org units and programmes, counts and amounts add; ratios add numerators and
  denominators separately and then divide (× factor) — never an average of percentages;
- over time, `sum` indicators add their quarters; `last` indicators take, for each reporting
  unit, the latest quarter it reported in the span (then add across units); a monthly form's
  months count as the periods of their quarter, in the same way;
- an indicator not additive across programmes is not summed across programmes: the result is
  empty and says why;
- achievement: increase → actual ÷ target; decrease → progress from the baseline toward the
  target when the baseline lies above the target, else target ÷ actual; at least 100% exactly
  when the target is met; with a status band and a trend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from indicators.figures import ratios
from indicators.messages import N_
from indicators.periods import PeriodType, parse_period

DIMENSIONS = ("org_unit", "programme", "period", "option")
NOT_ADDED_NOTE = N_("not added across programmes: the same people can be in several")  # said where shown
VALUE_COLUMNS = ["indicator", "component", "option", "programme", "org_unit", "period", "value"]


@dataclass(frozen=True)
class Rule:
    """How an indicator compiles."""

    code: str
    measure: str  # count | amount | ratio
    factor: int | None
    time_aggregation: str  # sum | last
    additive: bool  # may be added across programmes
    direction: str  # increase | decrease


@dataclass(frozen=True)
class Thresholds:
    """Achievement (percent) at or above which a figure is on track, or needs attention."""

    on_track: float = 90.0
    needs_attention: float = 70.0


def _totals(values: pd.DataFrame) -> pd.DataFrame:
    """One figure per unit and period: the `total` option if given, else the sum of the parts."""
    keys = ["indicator", "component", "programme", "org_unit", "period"]
    is_total = values["option"] == "total"
    if is_total.all():
        return values  # already one figure per unit and period (e.g. pre-aggregated by the database)
    parts = values[~is_total].groupby(keys, sort=False)["value"].sum()
    totals = values[is_total].set_index(keys)["value"]
    return totals.combine_first(parts).rename("value").reset_index().assign(option="total")


def stored_periods(periods: Sequence[str]) -> list[str]:
    """The periods figures of a span of quarters are stored under, oldest first: each quarter's three
    months (the returns of a monthly form), then the quarter itself (a quarterly form's)."""
    out: list[str] = []
    for period in periods:
        parsed = parse_period(period)
        if parsed.type is PeriodType.QUARTER:
            out += [month.id for month in parsed.months()]
        out.append(period)
    return out


def _latest(frame: pd.DataFrame, rules: dict[str, Rule], order: dict[str, int], by_span: bool = False) -> pd.DataFrame:
    """Keep, for `last` indicators, each unit's latest reported period in the span (in each `span` with by_span)."""
    if len(order) == 1 or frame.empty:
        return frame  # one period: it is every unit's latest
    stock = frame["indicator"].map(lambda code: rules[code].time_aggregation == "last")
    flows, stocks = frame[~stock], frame[stock]
    if stocks.empty:
        return frame
    return pd.concat([flows, _at_latest(stocks, order, by_span)], ignore_index=True)


def _at_latest(frame: pd.DataFrame, order: dict[str, int], by_span: bool = False) -> pd.DataFrame:
    """The rows of each reporting unit's latest period (per indicator, option and programme) in `order`."""
    unit = ["indicator", "option", "programme", "org_unit", *(["span"] if by_span else [])]
    rank = frame["period"].map(order)
    latest = rank.groupby([frame[c] for c in unit]).transform("max")
    return frame[rank == latest]


SPAN_FIGURE_COLUMNS = ["first", "last", "indicator", "component", "programme", "org_unit", "flow", "stock"]


def spans_of(quarters: Sequence[str]) -> list[tuple[str, str]]:
    """Every run of consecutive quarters of `quarters` (oldest first), as (first, last)."""
    return [(quarters[i], quarters[j]) for i in range(len(quarters)) for j in range(i, len(quarters))]


def span_figures(values: pd.DataFrame, quarters: Sequence[str], grain: Mapping[Any, Any]) -> pd.DataFrame:
    """What compile_span adds up for each run of consecutive `quarters`, settled ahead of time.

    For every span (spans_of), each reporting unit's figure is settled by the rules above (its
    `total` option or the sum of its parts; a monthly form's months inside their quarter) and added
    up per indicator, component, programme and `grain` unit (the unit a reporting unit's figures are
    kept under, e.g. its county), both ways time can add: `flow`, every period's figure added, and
    `stock`, each unit's latest period's only (NaN where no unit's latest period has the component).
    Which of the two an indicator uses is decided when the figures are read, by its rule then, so
    that compile_span over these rows (period the span's last, option `total`) gives what it gives
    over the values themselves. Columns: SPAN_FIGURE_COLUMNS.
    """
    if values.empty:
        return pd.DataFrame(columns=SPAN_FIGURE_COLUMNS)
    settled = _totals(values)
    settled = settled.assign(grain=settled["org_unit"].map(lambda code: grain.get(code, code)))
    keys = ["indicator", "component", "programme", "grain"]
    out = []
    for first, last in spans_of(quarters):
        span = list(quarters[quarters.index(first):quarters.index(last) + 1])
        order = {p: i for i, p in enumerate(stored_periods(span))}
        frame = settled[settled["period"].isin(order)]
        if frame.empty:
            continue
        flow = frame.groupby(keys, sort=False)["value"].sum().rename("flow")
        stock = _at_latest(frame, order).groupby(keys, sort=False)["value"].sum().rename("stock")
        both = pd.concat([flow, stock], axis=1).reset_index()
        out.append(both.assign(first=first, last=last))
    if not out:
        return pd.DataFrame(columns=SPAN_FIGURE_COLUMNS)
    return pd.concat(out, ignore_index=True).rename(columns={"grain": "org_unit"})[SPAN_FIGURE_COLUMNS]


def compile_span(values: pd.DataFrame, rules: dict[str, Rule], periods: Sequence[str], *,
                 by: Sequence[str] = (), option_breakdown: bool = False,
                 rollup: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Actual, numerator and denominator per indicator (× `by` dimensions) over a span of periods.

    `values` has VALUE_COLUMNS (value as float), already limited to the org units and
    programmes in scope. `periods` lists the quarters of the span, oldest first; a monthly form's
    figures (stored under months) compile into their quarter: flows add the months, stocks take each
    unit's latest month (stored_periods gives the order). `rollup` maps
    reporting units deeper than the rows' org units (wards) to the unit their figures are shown
    under (their county): each reporting unit's figure is settled first (its total, a stock's
    latest period), then added up under that unit by the same rules as any other units.
    """
    by = [d for d in by if d in DIMENSIONS and d != "option"]
    if "period" in by and not periods:
        return _empty(by)
    order = {p: i for i, p in enumerate(stored_periods(periods))}
    frame = values[values["period"].isin(order) & values["indicator"].isin(rules)]
    if option_breakdown:
        frame = frame[frame["option"] != "total"]
    else:
        frame = _totals(frame) if not frame.empty else frame.assign(option=[])
    if "period" in by:
        # By period, each quarter is a span of its own: every unit's figure is its latest in it (a
        # monthly form's last month for a stock, its months added for a flow). The rows come period by
        # period (in the order of `periods`), the period column last.
        spans = {stored: period for period in periods for stored in stored_periods([period])}
        frame = _latest(frame.assign(span=frame["period"].map(spans)), rules, order, by_span=True)
        frame = frame.assign(period=frame["span"]).drop(columns="span")
        result = _compiled(_rolled_up(frame, rollup), rules, ["period", *[d for d in by if d != "period"]],
                           option_breakdown)
        result = result.iloc[result["period"].map(order).argsort(kind="stable")].reset_index(drop=True)
        return result[[c for c in result.columns if c != "period"] + ["period"]]
    return _compiled(_rolled_up(_latest(frame, rules, order), rollup), rules, by, option_breakdown)


def _rolled_up(frame: pd.DataFrame, rollup: Mapping[str, str] | None) -> pd.DataFrame:
    """Each reporting unit's rows under the unit they are shown under (units not in `rollup` stay)."""
    if not rollup or frame.empty:
        return frame
    return frame.assign(org_unit=frame["org_unit"].map(lambda code: rollup.get(code, code)))


def _compiled(frame: pd.DataFrame, rules: dict[str, Rule], by: Sequence[str], option_breakdown: bool) -> pd.DataFrame:
    """Add up one span's figures per indicator (× `by`): numerators and denominators apart, then divided."""
    keys = ["indicator", "option", *by]
    summed = frame.groupby([*keys, "component"], sort=True)["value"].sum().unstack("component")
    for column in ("value", "numerator", "denominator"):
        if column not in summed:
            summed[column] = np.nan
    programmes = frame.groupby(keys, sort=True)["programme"].nunique()
    result = summed.join(programmes.rename("programmes")).reset_index()
    result = result.rename(columns={"value": "actual"})
    factors = result["indicator"].map(lambda c: rules[c].factor or 1).astype(float)
    is_ratio = result["indicator"].map(lambda c: rules[c].measure == "ratio")
    result["actual"] = result["actual"].where(~is_ratio, ratios(result["numerator"], result["denominator"], factors))
    blocked = result["indicator"].map(lambda c: not rules[c].additive) & (result["programmes"] > 1)
    result["note"] = np.where(blocked, NOT_ADDED_NOTE, "")
    for column in ("actual", "numerator", "denominator"):
        result.loc[blocked, column] = np.nan
    if not option_breakdown:
        result = result.drop(columns="option")
    return result.drop(columns="programmes")


def _empty(by: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=["indicator", *by, "actual", "numerator", "denominator", "note"])


STATUS_ORDER = ("on_track", "needs_attention", "off_track", "no_target", "not_added", "not_reported")
STATUS_LABELS: dict[str, str] = {"on_track": "On track", "needs_attention": "Needs attention",
                                 "off_track": "Off track", "no_target": "No target",
                                 "not_added": "Not added", "not_reported": "Not reported"}
STATUS_MEANINGS: dict[str, str] = {
    "on_track": "the figure reached the on-track share of its target or more",
    "needs_attention": "the figure reached the needs-attention share of its target, but not the on-track share",
    "off_track": "the figure is below the needs-attention share of its target",
    "no_target": "there is a figure but no target applies to it",
    "not_added": "the programmes' figures were not added because the same people can be in several",
    "not_reported": "no approved figure for the period",
}


def score(direction: str, actual: float | None, target: float | None,
          baseline: float | None = None) -> tuple[float | None, str]:
    """Achievement (percent, unrounded) of an actual against its target, and the method used.

    increase: actual ÷ target. decrease: progress from the baseline toward the target when the
    baseline lies above the target (the plan promises a fall), else target ÷ actual. The result
    is at least 100 exactly when the target is met (increase: actual ≥ target; decrease:
    actual ≤ target) and below 100 when it is missed. Where the formula would divide by zero
    (a zero target to rise to, a zero actual to fall to) the target is met: 100. The division
    comes first: x / x is exactly 1 in floating point, so a figure equal to its target is 100.
    """
    if actual is None or target is None or actual != actual or target != target:
        return None, ""
    if direction == "increase":
        if target > 0:
            return actual / target * 100, "actual ÷ target"
        return (100.0 if actual >= target else 0.0), "actual ÷ target (target is zero)"
    if baseline is not None and baseline == baseline and baseline > target:
        return (baseline - actual) / (baseline - target) * 100, "progress from baseline to target"
    if actual > 0:
        return target / actual * 100, "target ÷ actual"
    return (100.0 if actual <= target else 0.0), "target ÷ actual (actual is zero)"


def status_of(achieved: float | None, has_actual: bool, thresholds: Thresholds, *, not_added: bool = False) -> str:
    """The status band of one figure (DESIGN.md step 5; thresholds from configuration)."""
    if not_added:
        return "not_added"
    if not has_actual:
        return "not_reported"
    if achieved is None:
        return "no_target"
    if achieved >= thresholds.on_track:
        return "on_track"
    if achieved >= thresholds.needs_attention:
        return "needs_attention"
    return "off_track"


def achievement(rules: dict[str, Rule], frame: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """Add achievement (percent, unrounded), the method used and the status band to rows with actual/target/baseline."""
    frame = frame.copy()
    columns = {name: (frame[name].astype(float).tolist() if name in frame else [np.nan] * len(frame))
               for name in ("actual", "target", "baseline")}
    notes = frame["note"].fillna("").tolist() if "note" in frame else [""] * len(frame)
    values, methods, statuses = [], [], []
    for code, actual, target, baseline, note in zip(frame["indicator"], columns["actual"], columns["target"],
                                                    columns["baseline"], notes, strict=True):
        achieved, method = score(rules[code].direction, actual, target, baseline)
        values.append(np.nan if achieved is None else achieved)
        methods.append(method)
        statuses.append(status_of(achieved, actual == actual, thresholds,
                                  not_added=note == NOT_ADDED_NOTE and actual != actual))
    frame["achievement"] = pd.Series(values, index=frame.index, dtype=float)
    frame["achievement_method"] = methods
    frame["status"] = statuses
    return frame


def trend(rules: dict[str, Rule], current: pd.DataFrame, previous: pd.DataFrame, keys: Sequence[str],
          column: str = "previous") -> pd.DataFrame:
    """Join an earlier span's actual and say whether the change is an improvement."""
    earlier = previous[[*keys, "actual"]].rename(columns={"actual": column})
    merged = current.merge(earlier, on=list(keys), how="left")
    change = merged["actual"] - merged[column]
    up = merged["indicator"].map(lambda c: rules[c].direction == "increase")
    better = np.where(up, change > 0, change < 0)
    merged[f"{column}_trend"] = np.select(
        [merged[column].isna() | merged["actual"].isna(), change == 0, better], ["", "stable", "improving"],
        default="worsening")
    return merged
