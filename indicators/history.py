"""Warnings worth explaining: a figure far from its own history, a flow that does not move, a
county's share of the national figure jumping, a return that repeats another county's.

A warning asks an officer for an explanation and a reviewer for a judgement, so each one must
be material as well as unusual. A figure far from its history by the robust modified z-score
0.6745·(x − median)/MAD (as DHIS2's outlier detection) is flagged only when the change is also
material by the indicator's thresholds (`Thresholds`, carried in the catalogue, with defaults
per measure): for counts and amounts a minimum relative *and* absolute change, for percentages
a minimum change in percentage points. Seasonal indicators compare a quarter with the same
quarter of earlier years.

Frames use validation's VALUE_KEY columns plus `number` (and optional location columns);
`component` is `value`, `numerator`, `denominator`, or `ratio` for the computed N ÷ D × factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from indicators.display import round_half_up
from indicators.messages import N_, Joined, Message, Words, message, text
from indicators.periods import PeriodError, parse_period
from indicators.validation import (
    NO_NAMES,
    VALUE_KEY,
    IndicatorSpec,
    Issue,
    Names,
    _issue,
    fmt,
    indicator_totals,
    place_words,
)

SERIES_KEY = [k for k in VALUE_KEY if k != "period"]
KINDS = ("outlier", "change", "unchanged", "share", "copied")


@dataclass(frozen=True)
class Thresholds:
    """How large a change must be before a figure far from its history is worth a warning."""

    min_change: float  # |x − usual| at least this share of the usual level (0.25 = 25%)
    min_absolute: float  # |x − usual| at least this much, in the indicator's unit
    min_points: float  # percentages: |x − usual| at least this many percentage points
    seasonal: bool = False  # compare with the same quarter of earlier years


# Defaults per measure, when the catalogue leaves an indicator's thresholds empty. A quarter's
# count moves by a few percent with payroll cleaning and late payments; a third (the WHO Data
# Quality Review's default for consistency over time, ±33%) and at least 50 people (or KES
# 100,000) is a change a reviewer would ask about. Percentages move by a point or two with the
# denominator; 5 points is a change in what the programme achieves.
DEFAULTS: dict[str, Thresholds] = {
    "count": Thresholds(0.33, 50.0, 0.0),
    "amount": Thresholds(0.33, 100_000.0, 0.0),
    "ratio": Thresholds(0.33, 0.0, 5.0),
}
# A flow repeated exactly is worth a question only when it is large: small counts repeat by chance.
UNCHANGED_FACTOR = 10  # × the indicator's minimum absolute change (500 people, KES 1,000,000)
NONE = Thresholds(0.0, 0.0, 0.0)


def thresholds_of(spec: IndicatorSpec) -> Thresholds:
    """The indicator's thresholds: the catalogue's where set, else the measure's default."""
    base = DEFAULTS.get(spec.measure, DEFAULTS["count"])
    return Thresholds(
        base.min_change if spec.min_change is None else float(spec.min_change),
        base.min_absolute if spec.min_absolute is None else float(spec.min_absolute),
        base.min_points if spec.min_points is None else float(spec.min_points),
        bool(spec.seasonal),
    )


def thresholds_in_words(spec: IndicatorSpec, settings: HistorySettings | None = None) -> str:
    """When a figure of this indicator gets a history warning, for the reference sheet: English text that
    remembers its message (indicators/messages.py), said in the page's language where it is shown."""
    settings = settings or HistorySettings()
    th = thresholds_of(spec)
    unit = "KES " if spec.measure == "amount" else ""
    size: Words
    if is_percentage(spec):
        size = message(N_("moves by at least %(points)s percentage points (and by more than chance allows with its "
                          "denominator)"), points=f"{th.min_points:g}")
    elif th.min_absolute:
        size = message(N_("changes by at least %(change)s and by at least %(absolute)s"),
                       change=f"{th.min_change:.0%}", absolute=f"{unit}{th.min_absolute:,.0f}")
    else:
        size = message(N_("changes by at least %(change)s"), change=f"{th.min_change:.0%}")
    against = (Message(N_("the same quarter of earlier years")) if th.seasonal
               else message(N_("its last %(count)s quarters"), count=settings.window))
    words: Words = message(
        N_("A figure is flagged when it is far from %(against)s (robust z-score above %(z)s; with fewer than "
           "%(points)s points, a change beyond ±%(band)s) and it %(size)s."),
        against=against, z=f"{settings.z_threshold:g}", points=settings.min_history, band=f"{settings.band:.0%}",
        size=size)
    if spec.time_aggregation == "sum" and spec.measure != "ratio":
        words = Joined(" ", (words, message(
            N_("A figure of %(amount)s or more that is the same three quarters running is flagged too."),
            amount=f"{unit}{max(th.min_absolute * UNCHANGED_FACTOR, 1):,.0f}")))
    return text(words)


def is_percentage(spec: IndicatorSpec | None) -> bool:
    return spec is not None and spec.measure == "ratio" and spec.factor == 100


@dataclass(frozen=True)
class HistorySettings:
    """The checks' settings that are not per indicator (config.py: MEL_HISTORY_*)."""

    z_threshold: float = 3.5  # robust z-score beyond which a figure is far from its history
    band: float = 0.5  # with less than `min_history` points: change from the previous point
    min_history: int = 4
    window: int = 8  # points of history compared (quarters; years for seasonal indicators)
    share_points: float = 3.0  # a county's share of the national figure moving by more points
    share_min_units: int = 5  # counties that reported both quarters, for the share check
    copy_min_figures: int = 3  # identical figures (of at least copy_min_value) that make a copy
    copy_min_value: float = 100.0
    material: bool = True  # apply the indicators' thresholds (False: the z-score or band alone)
    merge_cells: bool = True  # one warning for the cells of one figure that are flagged together
    seasonal: bool = True
    unchanged: bool = True
    share: bool = True
    copies: bool = True

    @classmethod
    def unfiltered(cls, z_threshold: float = 3.5, band: float = 0.5) -> HistorySettings:
        """The checks as they were before thresholds: robust z-score (or the band) alone, no
        seasonal comparison and none of the newer kinds. `bench/warnings.py` prints both."""
        return cls(z_threshold=z_threshold, band=band, material=False, merge_cells=False, seasonal=False,
                   unchanged=False, share=False, copies=False)


# --------------------------------------------------------------------------- frames


def ratio_frame(frame: pd.DataFrame, specs: Mapping[str, IndicatorSpec]) -> pd.DataFrame:
    """Numerator/denominator pairs as one `ratio` figure per option (N ÷ D × factor).

    Only complete pairs with a positive denominator give a ratio: half a pair is refused by
    `ratio_issues` (a located error), so the history checks have nothing to say about it.
    The ratio keeps the numerator's location (file, sheet, row, column).
    """
    empty = pd.DataFrame(columns=[*VALUE_KEY, "number"])
    keys = ["programme", "org_unit", "period", "indicator", "option"]
    located = [c for c in ("file", "sheet", "row", "column") if c in frame]
    numbers = frame["number"].to_numpy(dtype="float64", na_value=np.nan).tolist()
    wide: dict[tuple, dict[str, float]] = {}  # the pivot's "first" of each part, over plain dicts
    where: dict[tuple, list[tuple]] = {}
    seen = set()
    for *key, component, number, place in zip(*(frame[k].tolist() for k in keys), frame["component"].tolist(),
                                              numbers, zip(*(frame[c].tolist() for c in located), strict=True) if located
                                              else [()] * len(numbers), strict=True):
        if component not in ("numerator", "denominator") or number != number:
            continue
        seen.add(component)
        wide.setdefault(tuple(key), {}).setdefault(component, number)
        if component == "numerator":
            where.setdefault(tuple(key), []).append(place)
    if len(seen) < 2:
        return empty
    records = []
    for address in sorted(wide):
        numerator, denominator = wide[address].get("numerator", np.nan), wide[address].get("denominator", np.nan)
        if numerator != numerator or denominator != denominator or not denominator > 0:
            continue
        factor = (specs[address[3]].factor if address[3] in specs else None) or 1
        record = (*address, numerator / denominator * float(factor), denominator, "ratio")
        records.extend([(*record, *place) for place in where[address]] if located else [record])
    if not records:
        return empty
    return pd.DataFrame(records, columns=[*keys, "number", "denominator", "component", *located])


def _slot(period: str, seasonal: bool) -> int:
    """The quarter of the year for seasonal series (0 for the others): history is compared within a slot."""
    if not seasonal:
        return 0
    try:
        return parse_period(period).fy_quarter or 0
    except PeriodError:
        return 0


def _material(change: pd.Series, usual: pd.Series, rows: pd.DataFrame,
              settings: HistorySettings | None = None) -> pd.Series:
    """True where |change| passes the row's thresholds (columns th_change, th_absolute, th_points,
    pct); a percentage must also move by more than two binomial standard errors of a share with
    its usual denominator (`usual_denominator`, when known)."""
    size = change.abs()
    relative = (size >= rows["th_change"] * usual.abs()) & (size >= rows["th_absolute"])
    points = size >= rows["th_points"]
    if (settings is None or settings.material) and "usual_denominator" in rows:
        p = (usual / 100).clip(0, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            noise = 200 * np.sqrt(p * (1 - p) / rows["usual_denominator"].astype(float))
        points &= ~(size <= noise.fillna(0))
    return points.where(rows["pct"], relative)


def _with_thresholds(frame: pd.DataFrame, specs: Mapping[str, IndicatorSpec],
                     settings: HistorySettings) -> pd.DataFrame:
    chosen = {code: (thresholds_of(spec) if settings.material else replace(NONE, seasonal=spec.seasonal))
              for code, spec in specs.items()}
    # Lists, not Series.map: a return's check has a few dozen rows, where pandas' fixed cost dominated.
    codes, components = frame["indicator"].tolist(), frame["component"].tolist()
    none = Thresholds(0.0, 0.0, 0.0)
    rows = [chosen.get(c, none) for c in codes]
    return frame.assign(
        th_change=np.array([float(t.min_change) for t in rows], dtype="float64"),
        th_absolute=np.array([float(t.min_absolute) for t in rows], dtype="float64"),
        th_points=np.array([float(t.min_points) for t in rows], dtype="float64"),
        pct=np.array([k == "ratio" and is_percentage(specs.get(c)) for c, k in zip(codes, components, strict=True)],
                     dtype=bool),
        whole=np.array([k in ("numerator", "denominator") or (k == "value" and c in specs
                                                             and specs[c].measure == "count")
                        for c, k in zip(codes, components, strict=True)], dtype=bool),
        seasonal=np.array([bool(settings.seasonal and c in chosen and chosen[c].seasonal) for c in codes], dtype=bool),
    )


# --------------------------------------------------------------------------- far from history


def history_issues(current: pd.DataFrame, history: pd.DataFrame, specs: Mapping[str, IndicatorSpec],
                   settings: HistorySettings = HistorySettings(), names: Names = NO_NAMES) -> list[Issue]:
    """Warn when a figure is far from its own history *and* the change is material.

    With at least `min_history` points among the last `window`: the robust modified z-score
    against the median. With fewer: the change from the previous point beyond ±`band`. Either
    way the change must pass the indicator's thresholds (`Thresholds`); for a percentage also
    the chance variation of a share over its denominator (two binomial standard errors), so a
    county with nine grievances is not flagged because one more was resolved in time.

    A seasonal indicator (`Thresholds.seasonal`) is compared with the same quarter of earlier
    years instead of the quarters just before: its wave quarter with earlier waves, its quiet
    quarters with earlier quiet ones, so a wave is not a warning and a missing wave is.
    """
    if current.empty or history.empty:
        return []
    now = _with_thresholds(current[current["number"].notna()], specs, settings)
    if now.empty:
        return []
    now = now.assign(slot=[_slot(p, s) for p, s in zip(now["period"], now["seasonal"], strict=True)])
    past = history[history["number"].notna()]
    issues = []
    # One warning per figure of a return, not per cell: the cells of one indicator that move
    # together (an enrolment drive moves every sex and age group) are one thing to explain.
    group = ["programme", "org_unit", "period", "indicator", "component", "kind"]
    grouped: dict[tuple, list[dict]] = {}
    for flagged_row in _flagged(now, past, settings):
        grouped.setdefault(tuple(flagged_row[k] for k in group), []).append(flagged_row)
    for rows in grouped.values():
        if len(rows) == 1 or not settings.merge_cells:
            for row in rows:
                words = _far_words(row) if row["kind"] == "outlier" else _jump_words(row, settings)
                issues.append(_issue("warning", row["kind"], words, row, names))
            continue
        first = {k: v for k, v in rows[0].items() if k not in ("option", "file", "sheet", "row", "column")}
        listed: Words = Joined("; ", tuple(
            message(N_("%(option)s %(value)s (usually %(usual)s)"),
                    option=names.option(r["indicator"], r["option"]) or r["option"],
                    value=_value(r["number"], bool(r["pct"]), bool(r["whole"])),
                    usual=_value(r["median"] if r["kind"] == "outlier" else r["previous"], bool(r["pct"]),
                                 bool(r["whole"])))
            for r in rows[:4]))
        if len(rows) > 4:
            listed = message(N_("%(listed)s and %(count)s more"), listed=listed, count=len(rows) - 4)
        issues.append(_issue(
            "warning", rows[0]["kind"],
            message(N_("%(count)s of its disaggregated figures are far from their usual levels: %(listed)s. "
                       "%(action)s"), count=len(rows), listed=listed, action=ACTION),
            first, names))
    return issues


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _material_one(change: float, usual: float, row: dict, settings: HistorySettings) -> bool:
    """`_material` for one row (a dict with th_change, th_absolute, th_points, pct and, for
    ratios, usual_denominator)."""
    size = abs(change)
    if not row["pct"]:
        return size >= row["th_change"] * abs(usual) and size >= row["th_absolute"]
    points = size >= row["th_points"]
    if settings.material and "usual_denominator" in row:
        p = min(max(usual / 100, 0.0), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            noise = float(200 * np.sqrt(np.float64(p * (1 - p)) / np.float64(row["usual_denominator"])))
        points = points and not (size <= (noise if noise == noise else 0.0))
    return points


def _flagged(now: pd.DataFrame, past: pd.DataFrame, settings: HistorySettings) -> list[dict]:
    """The rows of `now` far from their history within their slot, with `kind` outlier/change:
    all outliers first, then the changes, each in the order of `now`.

    Over plain lists: a return's check has a few dozen figures and a few hundred points of
    history, where pandas' fixed cost per merge and group-by dominated (bench/return_cpu.py).
    """
    if now.empty or past.empty:
        return []
    has_denominator = "denominator" in past
    numbers = past["number"].to_numpy(dtype="float64", na_value=np.nan).tolist()
    denominators = (past["denominator"].to_numpy(dtype="float64", na_value=np.nan).tolist() if has_denominator
                    else [np.nan] * len(numbers))
    points: dict[tuple, list[tuple[str, float, float]]] = {}
    for *key, period, number, denominator in zip(*(past[k].tolist() for k in SERIES_KEY), past["period"].tolist(),
                                                 numbers, denominators, strict=True):
        points.setdefault(tuple(key), []).append((period, number, denominator))
    slots: dict[str, int] = {}
    outliers, changes = [], []
    for row in now.to_dict("records"):
        series = points.get(tuple(row[k] for k in SERIES_KEY))
        if not series:
            continue
        slot = row["slot"]
        kept = sorted((point for point in series if point[0] < row["period"]
                       and (slot == 0 or slots.setdefault(point[0], _slot(point[0], True)) == slot)),
                      key=lambda point: point[0])[-settings.window:]
        if not kept:
            continue
        values = [number for _, number, _ in kept]
        median = _median(values)
        deviations = [abs(value - median) for value in values]
        stats = {"n": len(values), "median": median, "previous": values[-1]}
        if has_denominator:
            usual = [d for _, _, d in kept if d == d]
            stats["usual_denominator"] = _median(usual) if usual else np.nan
        stats["mad"], stats["mean_ad"] = _median(deviations), math.fsum(deviations) / len(deviations)
        joined = {**{k: v for k, v in row.items() if k != "usual_denominator"}, **stats}
        x, previous = joined["number"], stats["previous"]
        mad = stats["mad"]
        spread = mad if mad > 0 else (np.nan if settings.material else 1.253314 * stats["mean_ad"] / 0.6745)
        if spread > 0:
            z = 0.6745 * (x - median) / spread
        else:
            z = np.inf if x != median else 0.0
        enough = stats["n"] >= settings.min_history
        if enough:
            if abs(z) > settings.z_threshold and _material_one(x - median, median, joined, settings):
                outliers.append({**joined, "kind": "outlier"})
        elif (((previous > 0 and abs((x - previous) / previous) > settings.band) or (previous == 0 and x > 0))
              and _material_one(x - previous, previous, joined, settings)):
            changes.append({**joined, "kind": "change"})
    return outliers + changes


def _change_words(now: float, usual: float, pct: bool) -> Words | str:
    if pct:
        return message(N_("%(points)s points"), points=f"{now - usual:+.1f}")
    if usual:
        return f"{(now - usual) / abs(usual) * 100:+.0f}%"
    return message(N_("%(amount)s more"), amount=fmt(now - usual))


def _value(number: float, pct: bool, whole: bool = False) -> str:
    """A figure or its usual level as people read it: a share with one decimal, a count whole."""
    if pct:
        return f"{number:.1f}%"
    return fmt(round_half_up(number)) if whole else fmt(number)


def _far_words(row: dict) -> Words:
    pct = bool(row["pct"])
    usual = message(N_("the same quarter of the last %(count)s years") if row["seasonal"]
                    else N_("the last %(count)s quarters"), count=int(row["n"]))
    whole = bool(row.get("whole", False))
    return message(N_("%(value)s is far from its usual level (median %(median)s over %(usual)s; %(change)s). "
                      "%(action)s"), value=_value(row["number"], pct, whole), median=_value(row["median"], pct, whole),
                   usual=usual, change=_change_words(row["number"], row["median"], pct), action=ACTION)


def _jump_words(row: dict, settings: HistorySettings) -> Words:
    pct = bool(row["pct"])
    whole = bool(row.get("whole", False))
    previous = row["previous"]
    when = Message(N_("the same quarter last year") if row["seasonal"] else N_("the last quarter reported"))
    if previous:
        what = message(N_("%(value)s changed %(change)s from %(when)s (%(previous)s)"),
                       value=_value(row["number"], pct, whole), change=_change_words(row["number"], previous, pct),
                       when=when, previous=_value(previous, pct, whole))
    else:
        what = message(N_("%(value)s follows 0 in %(when)s"), value=_value(row["number"], pct, whole), when=when)
    return message(N_("%(what)s, more than ±%(band)s. %(action)s"), what=what, band=f"{settings.band:.0%}",
                   action=ACTION)


ACTION = Message(N_("If it is a typing slip, correct it; if it is right, explain what happened "
                    "(for example payroll cleaning, a new enrolment wave or a drought scale-up)."))


# --------------------------------------------------------------------------- flows that do not move


def unchanged_rows(current: pd.DataFrame, history: pd.DataFrame,
                   specs: Mapping[str, IndicatorSpec]) -> pd.DataFrame:
    """The rows of `current` that are a flow (new in each quarter: payments, enrolments,
    grievances) equal to the last two quarters' figures of the same series.

    Only figures of at least UNCHANGED_FACTOR × the indicator's minimum absolute change: small
    counts repeat by chance, a large flow repeated exactly is usually last quarter's carried over.
    The warning (`unchanged_issues`) and the data-quality page both use this rule.
    """
    values = current[(current["component"] == "value") & current["number"].notna()]
    flows = {code for code, spec in specs.items() if spec.time_aggregation == "sum" and spec.measure != "ratio"}
    values = values[values["indicator"].isin(flows)]
    if values.empty or history.empty:
        return values.iloc[0:0]
    minimum = values["indicator"].map(lambda c: max(thresholds_of(specs[c]).min_absolute * UNCHANGED_FACTOR, 1.0))
    values = values[values["number"] >= minimum]
    if values.empty:
        return values
    known = history[history["number"].notna()]
    past: dict[tuple, float] = {}
    for *key, number in zip(*(known[k].tolist() for k in [*SERIES_KEY, "period"]),
                            known["number"].to_numpy(dtype="float64", na_value=np.nan).tolist(), strict=True):
        past.setdefault(tuple(key), number)  # the first of any repeated figure
    keep = []
    for *key, period_id, number in zip(*(values[k].tolist() for k in SERIES_KEY), values["period"].tolist(),
                                       values["number"].tolist(), strict=True):
        try:
            period = parse_period(period_id)
        except PeriodError:
            keep.append(False)
            continue
        before = [past.get((*key, period.shift(-n).id)) for n in (1, 2)]
        keep.append(all(b is not None and b == number for b in before))
    return values[np.array(keep, dtype=bool)]


def unchanged_issues(current: pd.DataFrame, history: pd.DataFrame, specs: Mapping[str, IndicatorSpec],
                     names: Names = NO_NAMES) -> list[Issue]:
    """A warning for each flow unchanged for three quarters (`unchanged_rows`)."""
    return [_issue("warning", "unchanged",
                   message(N_("%(value)s is the same as in each of the last two quarters. A flow (new in each "
                              "quarter) rarely repeats exactly: check the figure was not carried over from last "
                              "quarter's return, and explain it if it is right."), value=fmt(row["number"])),
                   row, names)
            for row in unchanged_rows(current, history, specs).to_dict("records")]


# --------------------------------------------------------------------------- peers: share and copies


def share_issues(current: pd.DataFrame, peers: pd.DataFrame, specs: Mapping[str, IndicatorSpec],
                 settings: HistorySettings = HistorySettings(), names: Names = NO_NAMES) -> list[Issue]:
    """A county's share of the national figure moving by more than `share_points` points.

    `current` holds the returns being checked; `peers` the figures of every unit of the same
    programmes in the current and previous quarters (this unit's previous quarter included).
    Shares are taken among the units that reported both quarters, so a quarter still coming in
    compares like with like. Counts and amounts only (by the indicator total); the change must
    also pass the indicator's thresholds.
    """
    if current.empty or peers.empty:
        return []
    now = indicator_totals(current[current["component"] == "value"])
    if now.empty:
        return []
    others = indicator_totals(peers[peers["component"] == "value"])
    issues = []
    for row in now.to_dict("records"):
        spec = specs.get(row["indicator"])
        if spec is None or spec.measure == "ratio" or not row["number"]:
            continue
        try:
            before_period = parse_period(row["period"]).shift(-1).id
        except PeriodError:
            continue
        same = others[(others["programme"] == row["programme"]) & (others["indicator"] == row["indicator"])]
        then = same[same["period"] == before_period].set_index("org_unit")["number"]
        later = same[(same["period"] == row["period"]) & (same["org_unit"] != row["org_unit"])]
        later = later.set_index("org_unit")["number"]
        if row["org_unit"] not in then.index:
            continue
        units = [u for u in later.index if u in then.index]
        if len(units) + 1 < settings.share_min_units:
            continue
        mine_then = float(then[row["org_unit"]])
        total_then = mine_then + float(then[units].sum())
        total_now = row["number"] + float(later[units].sum())
        if total_then <= 0 or total_now <= 0:
            continue
        share_now, share_then = row["number"] / total_now * 100, mine_then / total_then * 100
        moved = share_now - share_then
        th = thresholds_of(spec) if settings.material else NONE
        if abs(moved) < settings.share_points:
            continue
        if settings.material and (abs(moved) < th.min_change * share_then
                                  or abs(row["number"] - mine_then) < th.min_absolute):
            continue
        issues.append(_issue(
            "warning", "share",
            message(N_("%(unit)s's share of the national figure moved from %(then)s last quarter to %(now)s "
                       "(%(moved)s points), among the %(units)s units that reported both quarters (%(before)s → "
                       "%(after)s). Check the figure; if it is right, explain why it changed so much more than "
                       "elsewhere."), unit=names.org_unit_words(row["org_unit"]), then=f"{share_then:.1f}%",
                    now=f"{share_now:.1f}%", moved=f"{moved:+.1f}", units=len(units) + 1, before=fmt(mine_then),
                    after=fmt(row["number"])), {**row, "component": "value", "option": "total"}
            if spec.has_total else {**row, "component": "value"}, names))
    return issues


def copy_issues(current: pd.DataFrame, peers: pd.DataFrame, settings: HistorySettings = HistorySettings(),
                names: Names = NO_NAMES) -> list[Issue]:
    """A return whose figures repeat another unit's return for the same quarter.

    At least `copy_min_figures` figures of `copy_min_value` or more, and 80% of those both
    returns hold, identical: a file sent for the wrong county, or a copied template.
    """
    if current.empty or peers.empty:
        return []
    mine = current[current["number"].notna() & (current["number"] >= settings.copy_min_value)
                   & current["component"].isin(["value", "numerator", "denominator"])]
    if mine.empty:
        return []
    figure = ["programme", "period", "indicator", "component", "option"]
    theirs = peers[peers["number"].notna()].rename(columns={"org_unit": "peer", "number": "peer_number"})
    pairs = mine.merge(theirs[figure + ["peer", "peer_number"]], on=figure)
    pairs = pairs[pairs["peer"] != pairs["org_unit"]]
    if pairs.empty:
        return []
    pairs["same"] = (pairs["number"] - pairs["peer_number"]).abs() < 1e-9
    counts = pairs.groupby(["programme", "org_unit", "period", "peer"])["same"].agg(["sum", "size"]).reset_index()
    copied = counts[(counts["sum"] >= settings.copy_min_figures) & (counts["sum"] >= 0.8 * counts["size"])]
    issues = []
    for row in copied.to_dict("records"):
        location = {"programme": row["programme"], "org_unit": row["org_unit"], "period": row["period"],
                    "copied_from": row["peer"]}
        where = place_words({"org_unit": row["org_unit"], "period": row["period"]}, names)
        issues.append(Issue(
            "warning", "copied",
            text(Joined(": ", (where, message(
                N_("%(same)s of this return's %(size)s figures are identical to %(peer)s's return for the same "
                   "quarter. Check that the file is this county's and was not copied from another; correct the "
                   "figures, or explain."), same=int(row["sum"]), size=int(row["size"]),
                peer=names.org_unit_words(row["peer"]))))), location))
    return issues


# --------------------------------------------------------------------------- all of them


def _with_current(history: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """History as the figures will stand: a file's earlier quarters count as history for its
    later ones, and a figure being replaced is compared in its new value."""
    if current.empty:
        return history
    mine = current[[*VALUE_KEY, "number"]]
    if history.empty:
        return mine.reset_index(drop=True)
    replaced = set(zip(*(mine[k].tolist() for k in VALUE_KEY), strict=True))
    kept = history[np.array([key not in replaced for key in zip(*(history[k].tolist() for k in VALUE_KEY),
                                                                  strict=True)], dtype=bool)]
    kept = kept[[*VALUE_KEY, "number"]]
    return pd.concat([kept, mine], ignore_index=True)



def figure_warnings(current: pd.DataFrame, history: pd.DataFrame, specs: Mapping[str, IndicatorSpec],
                    settings: HistorySettings = HistorySettings(), names: Names = NO_NAMES,
                    peers: pd.DataFrame | None = None) -> list[Issue]:
    """Every warning a return's figures get from their history and their peers.

    `current`: the returns' figures (value/numerator/denominator rows, with locations);
    `history`: the same series in earlier periods (`settings.window` quarters, or years for
    seasonal indicators); `peers`: other units' figures of the same programmes in the current
    and previous quarters (for the share and copy checks; None skips them).
    """
    history = _with_current(history, current)
    values_now = current[current["component"] == "value"]
    values_past = history[history["component"] == "value"]
    issues = history_issues(values_now, values_past, specs, settings, names)
    issues += history_issues(ratio_frame(current, specs), ratio_frame(history, specs), specs, settings, names)
    if settings.unchanged:
        issues += unchanged_issues(current, history, specs, names)
    if peers is not None and not peers.empty:
        if settings.share:
            around = pd.concat([history, peers], ignore_index=True).drop_duplicates(subset=VALUE_KEY)
            issues += share_issues(current, around, specs, settings, names)
        if settings.copies:
            issues += copy_issues(current, peers, settings, names)
    return issues
