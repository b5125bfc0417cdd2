"""Compile data values into the figures the sector publishes (pure pandas, no database).

The rules (DESIGN.md, step 5):
- across org units and programmes, counts and amounts add; ratios add numerators and
  denominators separately and then divide (× factor) — never an average of percentages;
- over time, `sum` indicators add their quarters; `last` indicators take, for each reporting
  unit, the latest quarter it reported in the span (then add across units);
- an indicator not additive across programmes is not summed across programmes: the result is
  empty and says why;
- achievement: increase → actual ÷ target; decrease → progress from the baseline toward the
  target when a baseline exists, else target ÷ actual; with a status band and a trend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DIMENSIONS = ("org_unit", "programme", "period", "option")
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


def _latest(frame: pd.DataFrame, rules: dict[str, Rule], order: dict[str, int]) -> pd.DataFrame:
    """Keep, for `last` indicators, each unit's latest reported period in the span."""
    if len(order) == 1:
        return frame  # one period: it is every unit's latest
    stock = frame["indicator"].map(lambda code: rules[code].time_aggregation == "last")
    flows, stocks = frame[~stock], frame[stock]
    if stocks.empty:
        return frame
    unit = ["indicator", "option", "programme", "org_unit"]
    rank = stocks["period"].map(order)
    latest = rank.groupby([stocks[c] for c in unit]).transform("max")
    return pd.concat([flows, stocks[rank == latest]], ignore_index=True)


def compile_span(values: pd.DataFrame, rules: dict[str, Rule], periods: Sequence[str], *,
                 by: Sequence[str] = (), option_breakdown: bool = False) -> pd.DataFrame:
    """Actual, numerator and denominator per indicator (× `by` dimensions) over a span of periods.

    `values` has VALUE_COLUMNS (value as float), already limited to the org units and
    programmes in scope. `periods` lists the quarters of the span, oldest first.
    """
    by = [d for d in by if d in DIMENSIONS and d != "option"]
    if "period" in by:
        frames = [compile_span(values, rules, [p], by=[d for d in by if d != "period"],
                               option_breakdown=option_breakdown).assign(period=p) for p in periods]
        return pd.concat(frames, ignore_index=True) if frames else _empty(by)
    order = {p: i for i, p in enumerate(periods)}
    frame = values[values["period"].isin(order) & values["indicator"].isin(rules)]
    if option_breakdown:
        frame = frame[frame["option"] != "total"]
    else:
        frame = _totals(frame) if not frame.empty else frame.assign(option=[])
    frame = _latest(frame, rules, order)
    keys = ["indicator", "option", *by]
    summed = frame.groupby([*keys, "component"], sort=True)["value"].sum().unstack("component")
    for column in ("value", "numerator", "denominator"):
        if column not in summed:
            summed[column] = np.nan
    programmes = frame.groupby(keys, sort=True)["programme"].nunique()
    result = summed.join(programmes.rename("programmes")).reset_index()
    result = result.rename(columns={"value": "actual"})
    factors = result["indicator"].map(lambda c: rules[c].factor or 1).astype(float)
    ratio = result["indicator"].map(lambda c: rules[c].measure == "ratio")
    with np.errstate(divide="ignore", invalid="ignore"):
        computed = result["numerator"] / result["denominator"].where(result["denominator"] > 0) * factors
    result["actual"] = result["actual"].where(~ratio, computed)
    blocked = result["indicator"].map(lambda c: not rules[c].additive) & (result["programmes"] > 1)
    result["note"] = np.where(blocked, "not added across programmes: the same people can be in several", "")
    for column in ("actual", "numerator", "denominator"):
        result.loc[blocked, column] = np.nan
    if not option_breakdown:
        result = result.drop(columns="option")
    return result.drop(columns="programmes")


def _empty(by: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=["indicator", *by, "actual", "numerator", "denominator", "note"])


def achievement(rules: dict[str, Rule], frame: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """Add achievement (percent), the method used and the status band to rows with actual/target/baseline."""
    frame = frame.copy()
    increase = frame["indicator"].map(lambda c: rules[c].direction == "increase")
    actual, target = frame["actual"].astype(float), frame["target"].astype(float)
    baseline = frame["baseline"].astype(float) if "baseline" in frame else pd.Series(np.nan, index=frame.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_up = actual / target * 100
        from_baseline = (baseline - actual) / (baseline - target) * 100
        ratio_down = target / actual * 100
    use_baseline = ~increase & baseline.notna() & (baseline != target)
    value = np.where(increase, ratio_up, np.where(use_baseline, from_baseline, ratio_down))
    frame["achievement"] = pd.Series(value, index=frame.index).replace([np.inf, -np.inf], np.nan).round(1)
    frame["achievement_method"] = np.where(
        increase, "actual ÷ target", np.where(use_baseline, "progress from baseline to target", "target ÷ actual"))
    frame.loc[target.isna() | actual.isna(), "achievement_method"] = ""
    status = np.select(
        [actual.isna(), frame["achievement"].isna(), frame["achievement"] >= thresholds.on_track,
         frame["achievement"] >= thresholds.needs_attention],
        ["not_reported", "no_target", "on_track", "needs_attention"], default="off_track")
    frame["status"] = status
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
