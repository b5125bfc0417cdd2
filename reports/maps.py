"""County maps of Kenya as SVG: a classed choropleth with its legend, and a locator map.

Drawn from reports/data/kenya-counties.geojson (OpenStreetMap data, ODbL: every map prints
"© OpenStreetMap contributors"). Each county is one <path> keyed by its code (`001`…`047`).
The SVG is sized in points (one user unit = 1 pt) so its text prints at the size given, never
below 8 pt, in the body font of the reports.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

from reports.i18n import N_, _, localised, ngettext

GEOJSON = Path(__file__).resolve().parent / "data" / "kenya-counties.geojson"
CREDIT = N_("© OpenStreetMap contributors")  # printed in the report's language, as the ODbL allows
FONT = "DejaVu Sans, Verdana, sans-serif"  # the body font of the reports
CHAR_WIDTH = 0.6  # DejaVu Sans' average glyph width as a share of its size
TEXT, LEGEND_TEXT, CREDIT_TEXT = 9.5, 8.5, 8.0
# ColorBrewer YlGnBu (sequential, colour-blind safe, lightness falls class by class, so it also
# reads in greyscale), as ColorBrewer picks it for 1 to 5 classes.
PALETTES: dict[int, tuple[str, ...]] = {
    1: ("#41b6c4",),
    2: ("#a1dab4", "#225ea8"),
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
}
MAX_CLASSES = 5
BORDER = "#6f6f6f"
HIGHLIGHT = "#b3261e"  # the outline of the county a county profile is about
NO_DATA = N_("No data")
HATCH = ('<pattern id="nodata" patternUnits="userSpaceOnUse" width="4" height="4">'
         '<rect width="4" height="4" fill="#ffffff"/>'
         '<path d="M-1,1 l2,-2 M0,4 l4,-4 M3,5 l2,-2" stroke="#7a7a7a" stroke-width="0.8"/></pattern>')


@dataclass(frozen=True)
class MapClass:
    """One legend entry: the values from `low` to `high` (both held by a county), drawn in `colour`."""

    low: float
    high: float
    colour: str
    label: str
    count: int


@lru_cache(maxsize=1)
def counties() -> tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...]:
    """(code, name, outer ring as (lon, lat) pairs) of the 47 counties, in code order."""
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    found = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        for polygon in polygons:  # one polygon each today; a county in parts gets one path per part
            ring = tuple((float(x), float(y)) for x, y in polygon[0])
            found.append((feature["properties"]["code"], feature["properties"]["name"], ring))
    return tuple(sorted(found, key=lambda item: item[0]))


@lru_cache(maxsize=1)
def _bounds() -> tuple[float, float, float, float, float]:
    lons = [x for _, _, ring in counties() for x, _ in ring]
    lats = [y for _, _, ring in counties() for _, y in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    return west, east, south, north, math.cos(math.radians((south + north) / 2))


def map_size(width: float) -> float:
    """The height of a map `width` points wide (equirectangular, x scaled by cos of the mid latitude)."""
    west, east, south, north, squeeze = _bounds()
    return width * (north - south) / ((east - west) * squeeze)


def _simplify(points: Sequence[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas–Peucker: drop the points closer than `tolerance` to the line their neighbours keep."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        far, farthest = -1.0, first
        for i in range(first + 1, last):
            px, py = points[i]
            gap = abs(dy * (px - ax) - dx * (py - ay)) / length if length else math.hypot(px - ax, py - ay)
            if gap > far:
                far, farthest = gap, i
        if far > tolerance:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


@lru_cache(maxsize=8)
def _paths(width: float, tolerance: float) -> tuple[tuple[str, str, str], ...]:
    """(code, name, SVG path data) of every county on a map `width` points wide, simplified."""
    west, east, _, north, squeeze = _bounds()
    scale = width / ((east - west) * squeeze)
    drawn = []
    for code, name, ring in counties():
        points = [((x - west) * squeeze * scale, (north - y) * scale) for x, y in ring]
        # split the closed ring at its farthest point from the start, so both halves simplify well
        start = points[0]
        split = max(range(len(points)), key=lambda i: math.hypot(points[i][0] - start[0], points[i][1] - start[1]))
        kept = _simplify(points[:split + 1], tolerance)[:-1] + _simplify(points[split:], tolerance)
        if len(kept) < 4:  # a county smaller than the tolerance still shows as its own shape
            kept = points
        data = "M" + " ".join(f"{x:.1f},{y:.1f}" for x, y in kept[:-1]) + "Z"
        drawn.append((code, name, data))
    return tuple(drawn)


def _extent(code: str, width: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """(min x, max x), (min y, max y) of a county on a map `width` points wide."""
    west, east, _, north, squeeze = _bounds()
    scale = width / ((east - west) * squeeze)
    ring = next(r for c, _, r in counties() if c == code)
    xs = [(x - west) * squeeze * scale for x, _ in ring]
    ys = [(north - y) * scale for _, y in ring]
    return (min(xs), max(xs)), (min(ys), max(ys))


def _whole(value: float) -> str:
    return localised(f"{value:,.0f}")


def counties_counted(count: int) -> str:
    """ "1 county", "12 counties", in the report's language."""
    return ngettext("%(num)s county", "%(num)s counties", count)


def county_of(name: str) -> str:
    """ "Kisumu County", in the report's language."""
    return _("%(name)s County", name=name)


def classify(values: Mapping[str, float | None], fmt: Callable[[float], str] = _whole,
             classes: int = MAX_CLASSES) -> list[MapClass]:
    """Quantile classes (at most `classes`, fewer when fewer distinct values), labelled by their range.

    Every break is a value a county holds, so no class is empty and tied values share a class.
    """
    known = sorted(v for v in values.values() if v is not None and math.isfinite(v))
    if not known:
        return []
    distinct = sorted(set(known))
    uppers: list[float] = []
    if len(distinct) <= classes:  # few values: one class each
        uppers = distinct
    for i in range(1, classes + 1) if not uppers else ():
        upper = known[max(0, math.ceil(i * len(known) / classes) - 1)]
        if not uppers or upper > uppers[-1]:
            uppers.append(upper)
    palette = PALETTES[len(uppers)]
    made, lower_index = [], 0
    for n, upper in enumerate(uppers):
        members = [v for v in known[lower_index:] if v <= upper]
        lower_index += len(members)
        low, high = members[0], members[-1]
        label = fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)} – {fmt(high)}"
        made.append(MapClass(low, high, palette[n], label, len(members)))
    return made


def class_of(value: float | None, classes: Sequence[MapClass]) -> MapClass | None:
    if value is None or not math.isfinite(value):
        return None
    return next((c for c in classes if value <= c.high), classes[-1] if classes else None)


def _wrap(text: str, size: float, room: float) -> list[str]:
    """Words in lines no wider than `room` (a word longer than the room keeps a line of its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and (len(lines[-1]) + 1 + len(word)) * CHAR_WIDTH * size <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _text(x: float, y: float, content: str, size: float, *, weight: str = "", fill: str = "#1a1a1a") -> str:
    bold = ' font-weight="bold"' if weight else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" fill="{fill}"{bold}>{escape(content)}</text>'


def _open(width: float, height: float, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}pt" height="{height:.1f}pt" '
            f'viewBox="0 0 {width:g} {height:.1f}" role="img" aria-label="{escape(title)}" '
            f'font-family="{FONT}"><title>{escape(title)}</title>')


def _county_paths(width: float, tolerance: float, dx: float, dy: float,
                  fill: Callable[[str], str], tip: Callable[[str, str], str], stroke: float) -> str:
    """Every county's <path>, keyed by its code, with its name and figure as its title."""
    parts = [f'<g transform="translate({dx:g},{dy:g})" stroke="{BORDER}" stroke-width="{stroke:g}" '
             'stroke-linejoin="round">']
    for code, name, data in _paths(width, tolerance):
        parts.append(f'<path id="county-{code}" class="county" data-code="{code}" fill="{fill(code)}" '
                     f'd="{data}"><title>{escape(tip(code, name))}</title></path>')
    parts.append("</g>")
    return "".join(parts)


def choropleth(values: Mapping[str, float | None], *, title: str, unit: str,
               fmt: Callable[[float], str] = _whole, width: float = 500,
               map_width: float = 250, note: str = "", tolerance: float = 0.3,
               no_data: str | None = None, highlight: str | None = None, stacked: bool = False) -> str:
    """A county choropleth: title, map on the left, classed legend (with `unit`) on the right
    (`stacked`: under the map, for a narrow screen).

    `values` maps county codes to figures (None or absent: no data, hatched). `fmt` prints a
    value as the tables do. `note` is a line under the legend (what the figure is, its source).
    `highlight` (a county code) outlines that county and names it in the legend. `no_data` names the
    hatched counties ("No data" in the report's language by default).
    """
    no_data = _(NO_DATA) if no_data is None else no_data
    classes = classify(values, fmt)
    names = {code: name for code, name, _ in counties()}
    title_lines = _wrap(title, TEXT, width - 4)
    top = 4 + len(title_lines) * TEXT * 1.25 + 4
    map_height = map_size(map_width)
    legend_x = 2 if stacked else map_width + 16
    room = width - legend_x - 2
    parts = [f"<defs>{HATCH}</defs>"]
    parts += [_text(2, 4 + (n + 1) * TEXT * 1.25 - 2.5, line, TEXT, weight="bold")
              for n, line in enumerate(title_lines)]

    def fill(code: str) -> str:
        found = class_of(values.get(code), classes)
        return found.colour if found else "url(#nodata)"

    def tip(code: str, name: str) -> str:
        value = values.get(code)
        return f"{name} ({code}): " + (fmt(value) if value is not None and class_of(value, classes) else no_data.lower())

    parts.append(_county_paths(map_width, tolerance, 2, top, fill, tip, 0.35))
    outline = next((data for code, _, data in _paths(map_width, tolerance) if code == highlight), "")
    if outline:
        parts.append(f'<path class="highlight" transform="translate(2,{top:g})" fill="none" stroke="{HIGHLIGHT}" '
                     f'stroke-width="1.8" stroke-linejoin="round" d="{outline}"/>')
    y = top + (map_height + 10 if stacked else 4)
    for line in _wrap(unit, LEGEND_TEXT, room):
        parts.append(_text(legend_x, y + LEGEND_TEXT, line, LEGEND_TEXT, weight="bold"))
        y += LEGEND_TEXT * 1.3
    y += 3
    missing = sum(1 for code in names if class_of(values.get(code), classes) is None)
    entries = [(c.colour, c.label, c.count) for c in reversed(classes)]  # highest first, as the map reads
    if missing:
        entries.append(("url(#nodata)", no_data, missing))
    for colour, label, count in entries:
        parts.append(f'<rect class="key" x="{legend_x:.1f}" y="{y:.1f}" width="16" height="11" fill="{colour}" '
                     f'stroke="{BORDER}" stroke-width="0.35"/>')
        words = _wrap(f"{label} ({counties_counted(count)})", LEGEND_TEXT, room - 22)
        for n, line in enumerate(words):
            parts.append(_text(legend_x + 22, y + 8.5 + n * LEGEND_TEXT * 1.25, line, LEGEND_TEXT))
        y += max(15.0, len(words) * LEGEND_TEXT * 1.25 + 4)
    if outline and highlight:
        parts.append(f'<rect x="{legend_x:.1f}" y="{y:.1f}" width="16" height="11" fill="none" stroke="{HIGHLIGHT}" '
                     'stroke-width="1.8"/>')
        words = _wrap(county_of(names[highlight]), LEGEND_TEXT, room - 22)
        for n, line in enumerate(words):
            parts.append(_text(legend_x + 22, y + 8.5 + n * LEGEND_TEXT * 1.25, line, LEGEND_TEXT, weight="bold"))
        y += max(15.0, len(words) * LEGEND_TEXT * 1.25 + 4)
    if classes:
        y += 2
        for line in _wrap(_("Classes hold about the same number of counties (quantiles)."), CREDIT_TEXT, room):
            parts.append(_text(legend_x, y + CREDIT_TEXT, line, CREDIT_TEXT, fill="#444"))
            y += CREDIT_TEXT * 1.3
    if note:
        y += 4
        for line in _wrap(note, CREDIT_TEXT, room):
            parts.append(_text(legend_x, y + CREDIT_TEXT, line, CREDIT_TEXT, fill="#444"))
            y += CREDIT_TEXT * 1.3
    credit_lines = _wrap(_(CREDIT), CREDIT_TEXT, room)
    bottom = y + 4 + len(credit_lines) * CREDIT_TEXT * 1.3 if stacked else top + map_height
    for n, line in enumerate(credit_lines):
        parts.append(_text(legend_x, bottom - (len(credit_lines) - 1 - n) * CREDIT_TEXT * 1.3, line,
                           CREDIT_TEXT, fill="#444"))
    return _open(width, max(top + map_height, bottom) + 4, title) + "".join(parts) + "</svg>"


def locator(code: str, *, width: float = 90, caption: str | None = None, tolerance: float = 0.9,
            colour: str = "#0b4f3a") -> str:
    """Kenya's counties in light grey with one county (`code`) filled dark, the credit under it."""
    names = {c: name for c, name, _ in counties()}
    if code not in names:
        raise ValueError(f"locator: {code!r} is not a county code (001…047)")
    within = _("%(name)s County within Kenya", name=names[code])
    caption = caption if caption is not None else within
    caption_lines = _wrap(caption, LEGEND_TEXT, width - 2)
    credit_lines = _wrap(_(CREDIT), CREDIT_TEXT, width - 2)
    map_height = map_size(width - 4)
    height = 2 + map_height + 4 + len(caption_lines) * LEGEND_TEXT * 1.25 + len(credit_lines) * CREDIT_TEXT * 1.25 + 2
    parts = [_open(width, height, caption or within)]
    # the other 46 counties as one shape (a path each would cost every report page its drawing time)
    drawn = _paths(width - 4, tolerance)
    others = "".join(data for c, _, data in drawn if c != code)
    mine = next(data for c, _, data in drawn if c == code)
    parts.append(f'<g transform="translate(2,2)" stroke="{BORDER}" stroke-width="0.3" stroke-linejoin="round">'
                 f'<path class="others" fill="#e4e4e4" d="{others}"/>'
                 f'<path class="county" data-code="{code}" fill="{colour}" d="{mine}"/></g>')
    # a county too small to find at this size (Nairobi, Mombasa, Vihiga) gets a ring around it
    xs, ys = _extent(code, width - 4)
    if max(xs[1] - xs[0], ys[1] - ys[0]) < 6:
        parts.append(f'<circle cx="{2 + sum(xs) / 2:.1f}" cy="{2 + sum(ys) / 2:.1f}" r="5.5" fill="none" '
                     f'stroke="{colour}" stroke-width="1"/>')
    y = 2 + map_height + 4
    for line in caption_lines:
        y += LEGEND_TEXT * 1.25
        parts.append(_text(2, y - 2, line, LEGEND_TEXT, weight="bold"))
    for line in credit_lines:
        y += CREDIT_TEXT * 1.25
        parts.append(_text(2, y - 2, line, CREDIT_TEXT, fill="#444"))
    return "".join(parts) + "</svg>"
