"""The published report's county map for the web: a light inline SVG, its legend and its table.

The report's own map (reports/county_maps.py) is an image with its title, legend and notes drawn in;
the page draws the same counties, classes and colours (reports/maps.py), with fewer points, and
writes the legend and a table of every county's figure as HTML text: translatable, readable on a
phone, and the map's text alternative.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from reports import maps
from reports.county_maps import COVERAGE_MAPS, CountyMap
from reports.format import figure, in_millions, table_unit

WIDTH = 300  # SVG user units; the page scales it
TOLERANCE = 0.5  # Douglas–Peucker tolerance on that width: about 20 KB of paths for 47 counties


@dataclass(frozen=True)
class LegendEntry:
    colour: str  # a fill, or "" for counties without a figure (hatched)
    label: str
    count: int


@dataclass(frozen=True)
class CountyRow:
    code: str
    name: str
    text: str  # the figure as the report prints it, "" without one


@dataclass(frozen=True)
class PublicMap:
    code: str
    title: str  # the report's map title ("SA03 Coverage of …, by county, FY2024/25 Q4 (Apr–Jun 2025)")
    unit: str  # the reports' table unit ("%", "KES m", "KES", "number", "days"): the page words it
    svg: Markup
    legend: tuple[LegendEntry, ...]
    rows: tuple[CountyRow, ...]


def county_map(snapshot: dict, printed: list[CountyMap]) -> PublicMap | None:
    """The first coverage map the published report printed (`printed`: the model's maps), or None."""
    chosen = next((m for m in printed[:1] if m.code in COVERAGE_MAPS), None)
    if chosen is None:
        return None
    code = chosen.code
    info = snapshot["indicators"][code]
    counties = snapshot["counties"]
    values = {r["org_unit"]: r.get("actual") for r in snapshot.get("by_county") or []
              if r["indicator"] == code and r["org_unit"] in counties}
    millions = in_millions(info["measure"], info["unit"], values.values())
    suffix = "%" if info["unit"] == "percent" else ""

    def fmt(value: float) -> str:  # as reports/county_maps.py prints the map's figures
        return figure(value, info["measure"], info["unit"], millions) + suffix

    classes = maps.classify(values, fmt)
    names = {c: name for c, name, _ in maps.counties()}
    shown = {c: maps.class_of(values.get(c), classes) for c in names}
    legend = [LegendEntry(c.colour, c.label, c.count) for c in reversed(classes)]
    missing = sum(1 for found in shown.values() if found is None)
    if missing:
        legend.append(LegendEntry("", "", missing))
    rows = tuple(CountyRow(c, counties.get(c, names[c]), fmt(values[c]) if shown[c] else "") for c in sorted(names))
    return PublicMap(code, chosen.title, table_unit(info["unit"], info["measure"], millions), _svg(shown, rows), tuple(legend), rows)


def _svg(shown: dict[str, maps.MapClass | None], rows: tuple[CountyRow, ...]) -> Markup:
    """The counties as paths filled by class (hatched without a figure), each titled with its figure."""
    text = {r.code: f"{r.name}: {r.text or '–'}" for r in rows}
    height = maps.map_size(WIDTH)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" class="county-map" '
             f'role="img" aria-labelledby="map-title" focusable="false"><defs>{maps.HATCH}</defs>'
             f'<g stroke="{maps.BORDER}" stroke-width="0.4" stroke-linejoin="round">']
    for code, _, data in maps._paths(WIDTH, TOLERANCE):  # noqa: SLF001 (the reports' simplified outlines)
        found = shown.get(code)
        fill = found.colour if found else "url(#nodata)"
        parts.append(f'<path fill="{fill}" d="{data}"><title>{escape(text.get(code, code))}</title></path>')
    parts.append("</g></svg>")
    return Markup("".join(parts))
