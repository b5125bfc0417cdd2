"""Data-quality checks across reporting units: outliers between counties (figures that do not
change are `indicators/history.py`'s, shared with the warnings)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cross_unit_outliers(frame: pd.DataFrame, *, z_threshold: float = 3.5, min_units: int = 5,
                        min_difference: float = 5.0) -> pd.DataFrame:
    """Rows whose `metric` is far from the other units' (robust modified z-score per group).

    `frame` has columns group (e.g. programme + indicator), org_unit and metric (a rate, or a
    quarter-on-quarter growth where no denominator exists). Groups with fewer than
    `min_units` units are skipped, and so are differences from the median below
    `min_difference` (percentage points), which a tight spread would otherwise magnify.
    """
    if "metric" not in frame:  # nothing to compare (no figures in the period)
        return frame.assign(z=[], median=[]) if frame.empty else frame.iloc[0:0].assign(metric=[], z=[], median=[])
    frame = frame.dropna(subset=["metric"])
    if frame.empty:
        return frame.assign(z=[])
    grouped = frame.groupby("group")["metric"]
    counts = grouped.transform("size")
    median = grouped.transform("median")
    mad = (frame["metric"] - median).abs().groupby(frame["group"]).transform("median")
    spread = mad.where(mad > 0, (frame["metric"] - median).abs().groupby(frame["group"]).transform("mean") * 1.253314 / 0.6745)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = 0.6745 * (frame["metric"] - median) / spread
    material = (frame["metric"] - median).abs() >= min_difference
    flagged = frame.assign(z=z, median=median)[(counts >= min_units) & (z.abs() > z_threshold) & spread.gt(0) & material]
    return flagged.sort_values("z", key=lambda s: -s.abs())
