"""Completeness and timeliness of reporting, computed from what was expected and what arrived."""

from __future__ import annotations

import pandas as pd

GROUPS = {"programme": ["programme"], "org_unit": ["org_unit"], "pillar": ["pillar"], "period": ["period"]}


def completeness(expected: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Aggregate expected returns into completeness, timeliness and value completeness.

    `expected` has one row per expected return with columns programme, org_unit, pillar,
    period, state ('' when nothing arrived), is_late (bool), required (cells expected) and
    filled (required cells holding a value). Completeness = submitted or approved ÷ expected;
    timeliness = submitted or approved and not late ÷ expected; value completeness =
    filled ÷ required.
    """
    if by not in GROUPS:
        raise ValueError(f"by={by!r} is not one of {', '.join(GROUPS)}")
    frame = expected.copy()
    frame["received"] = frame["state"].isin(["submitted", "approved"])
    frame["on_time"] = frame["received"] & ~frame["is_late"].astype(bool)
    grouped = frame.groupby(GROUPS[by], sort=True).agg(
        expected=("state", "size"), received=("received", "sum"), on_time=("on_time", "sum"),
        required=("required", "sum"), filled=("filled", "sum"))
    # Unrounded: rounding happens once, at display (indicators/display.py).
    grouped["completeness"] = grouped["received"] / grouped["expected"] * 100
    grouped["timeliness"] = grouped["on_time"] / grouped["expected"] * 100
    grouped["value_completeness"] = grouped["filled"] / grouped["required"].where(grouped["required"] > 0) * 100
    return grouped.reset_index()
