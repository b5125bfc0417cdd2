"""How computed figures are rounded and worded for people: once, at display, in one place.

The data layer keeps every figure unrounded (the API returns it so); the web pages, the reports
and the exports print it through these functions, so a figure reads the same everywhere.

- Percentages (completeness, timeliness, a ratio's value) round half up: 172 of 251 returns is
  68.53% and prints as 69%, never 68% (rounding 68.5 again would give 68).
- Achievement is truncated to a whole percent: 99.9% of target prints as 99%, and 89.9% prints
  as 89%, so the printed figure never reaches 100% or a status band that the figure did not.
- A change of a percentage is shown in percentage points (69.4% → 96.2% is "+26.8 pts"); a
  change of a count or an amount as a relative change ("+38.5%").
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeGuard

DASH = "–"


def round_half_up(value: float, places: int = 0) -> float:
    """`value` rounded half away from zero at `places` decimals (68.5 → 69, not Python's 68).

    Binary noise is cleared first (57 / 200 * 100 is 28.499999999999996 in floating point, a
    true 28.5), so a share that is exactly half-way rounds up as on paper.
    """
    cleared = Decimal(repr(float(value))).quantize(Decimal("1e-9"))
    return float(cleared.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _known(value: float | None) -> TypeGuard[float]:
    """Whether there is a figure to print (neither None nor NaN)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def percent(value: float | None, places: int = 0) -> str:
    """A percentage such as completeness or timeliness: 68.53 → "69%"."""
    if not _known(value):
        return DASH
    return f"{round_half_up(value, places):,.{places}f}%"


def achievement(value: float | None) -> str:
    """Achievement against target, truncated to a whole percent: 99.9 → "99%", 100 → "100%"."""
    if not _known(value):
        return DASH
    whole = math.floor(round(value, 6))  # 94.99999999999997 is 95 in float noise, not 94
    if value < 100 <= whole:
        whole = 99  # a missed target never prints as reached
    return f"{whole:,d}%"


def change(current: float | None, earlier: float | None, measure: str) -> str:
    """The change from `earlier` to `current`: points for ratios, relative for counts and amounts."""
    if not _known(current) or not _known(earlier):
        return DASH
    if measure == "ratio":
        points = round_half_up(current - earlier, 1)
        return f"{points:+.1f} pts" if points else "±0.0 pts"
    if earlier == 0:
        return DASH
    relative = round_half_up((current - earlier) / abs(earlier) * 100, 1)
    return f"{relative:+.1f}%" if relative else "±0.0%"


def returns_coverage(received: int | None, expected: int | None) -> str:
    """ "1 of 251 returns" when a figure rests on fewer returns than expected; "" when complete."""
    if not expected or received is None or received >= expected:
        return ""
    return f"{received:,} of {expected:,} returns"
