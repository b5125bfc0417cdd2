"""Which county maps a report shows, from its snapshot: coverage and achievement of county targets.

Pure: the snapshot's `by_county` rows (the results API's rows by org unit) in, SVG data URIs out.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports import maps
from reports.charts import data_uri, snapshot_period
from reports.format import figure, in_millions, table_unit
from reports.i18n import N_, _, localised

# Coverage indicators mapped when they have county figures, in this order (the sector's headline
# coverage figures: older persons, social health insurance, persons with severe disabilities).
COVERAGE_MAPS = ("SA03", "HI02", "SA06")
MIN_COUNTIES = 2  # a map of fewer counties with a figure tells nothing a sentence would not
MAP_WIDTH, LOCATOR_WIDTH = 240, 96  # points
UNIT_WORDS = {"number": N_("Number"), "KES": N_("Kenya shillings (KES)"),
              "KES m": N_("Millions of Kenya shillings (KES m)"), "days": N_("Days")}
# A county's rank in English ("12th"); a language may word all four alike ("nafasi ya 12")
ORDINALS = {1: N_("%(num)sst"), 2: N_("%(num)snd"), 3: N_("%(num)srd"), 0: N_("%(num)sth")}


@dataclass
class CountyMap:
    code: str
    title: str
    uri: str  # data:image/svg+xml;base64,… (an <img> with alt text)
    alt: str


def _unit_label(info: dict, millions: bool) -> str:
    if info["unit"] == "percent":
        return _("Per cent (%)")
    key = "KES m" if millions else info["unit"]  # table_unit's words are translated already: look up the unit
    return _(UNIT_WORDS[key]) if key in UNIT_WORDS else table_unit(info["unit"], info["measure"], millions).capitalize()


def _alt(title: str, classes: list[maps.MapClass], missing: int, no_data: str) -> str:
    parts = [f"{c.label}: {maps.counties_counted(c.count)}" for c in reversed(classes)]
    if missing:
        parts.append(f"{no_data}: {missing}")
    return _("Map of Kenya's counties: %(title)s.", title=title) + " " + "; ".join(parts) + "."


def _map(code: str, title: str, values: dict[str, float | None], unit: str, fmt, note: str,
         no_data: str, map_width: float = MAP_WIDTH) -> CountyMap:
    svg = maps.choropleth(values, title=title, unit=unit, fmt=fmt, width=510, map_width=map_width, note=note,
                          no_data=no_data)
    return CountyMap(code, title, data_uri(svg), _alt(title, maps.classify(values, fmt), _missing(values, fmt), no_data))


def coverage_map(snapshot: dict, code: str, rows: list[dict], map_width: float = MAP_WIDTH,
                 highlight: str | None = None) -> CountyMap | None:
    """The indicator's county figures this quarter, or None when fewer than MIN_COUNTIES have one."""
    drawn = coverage_svg(snapshot["indicators"][code], code, snapshot_period(snapshot), rows, snapshot["counties"],
                         map_width=map_width, highlight=highlight)
    return CountyMap(code, drawn[0], data_uri(drawn[1]), drawn[2]) if drawn else None


def coverage_svg(info: dict, code: str, period_label: str, rows: list[dict], counties: dict[str, str], *,
                 map_width: float = MAP_WIDTH, highlight: str | None = None,
                 width: float = 510) -> tuple[str, str, str] | None:
    """(title, SVG, alt text) of an indicator's approved county figures (the results API's rows by org
    unit; `info` its catalogue entry: name, measure, unit), or None when fewer than MIN_COUNTIES have one.
    The reports print it as an image; the dashboard's indicator page inlines the SVG (a `map_width` as
    wide as the `width`: the legend goes under the map, so it reads on a phone)."""
    values = {r["org_unit"]: r.get("actual") for r in rows if r["indicator"] == code and r["org_unit"] in counties}
    if sum(v is not None for v in values.values()) < MIN_COUNTIES:
        return None
    millions = in_millions(info["measure"], info["unit"], values.values())
    suffix = "%" if info["unit"] == "percent" else ""

    def fmt(value: float) -> str:
        return figure(value, info["measure"], info["unit"], millions) + suffix

    title = _("%(code)s %(name)s, by county, %(period)s", code=code, name=info["name"], period=period_label)
    note = _("Approved figures of the quarter.")
    if highlight:
        note = in_context(values, highlight, counties.get(highlight, highlight), fmt) + " " + note
    svg = maps.choropleth(values, title=title, unit=_unit_label(info, millions), fmt=fmt, width=width,
                          map_width=map_width, note=note, highlight=highlight, stacked=map_width > width / 2)
    return title, svg, _alt(title, maps.classify(values, fmt), _missing(values, fmt), _(maps.NO_DATA))


def _missing(values: dict[str, float | None], fmt) -> int:
    classes = maps.classify(values, fmt)
    return sum(1 for c, _, _ in maps.counties() if maps.class_of(values.get(c), classes) is None)


def in_context(values: dict[str, float | None], code: str, name: str, fmt) -> str:
    """ "Kisumu: 79.2%, 12th of 47 counties with a figure (highest first)." """
    known = sorted((v for v in values.values() if v is not None), reverse=True)
    mine = values.get(code)
    if mine is None:
        return _("%(name)s: no approved figure this quarter.", name=name)
    rank = known.index(mine) + 1
    return _("%(name)s: %(value)s, %(rank)s of %(counted)s with a figure (highest first).", name=name,
             value=fmt(mine), rank=_ordinal(rank), counted=maps.counties_counted(len(known)))


def _ordinal(n: int) -> str:
    """ "12th" (English), as the report's language words a rank."""
    suffix = 0 if 10 <= n % 100 <= 20 else n % 10 if n % 10 in ORDINALS else 0
    return _(ORDINALS[suffix], num=localised(f"{n:,}"))


def achievement_map(snapshot: dict, code: str, rows: list[dict]) -> CountyMap | None:
    """Achievement of the county targets, or None when fewer than MIN_COUNTIES have one."""
    info = snapshot["indicators"][code]
    values = {r["org_unit"]: r.get("achievement") for r in rows if r["indicator"] == code}
    if sum(v is not None for v in values.values()) < MIN_COUNTIES:
        return None
    title = _("%(code)s %(name)s: achievement of the county targets, %(period)s", code=code, name=info["name"],
              period=snapshot_period(snapshot))
    note = _("Actual ÷ county target in the plan; counties without a county target or figure are hatched.")
    return _map(code, title, values, _("Per cent of the county target achieved (%)"),
                lambda v: localised(f"{v:,.0f}%"), note, no_data=_("No county target or figure"))


def county_maps(snapshot: dict, limit: int, map_width: float = MAP_WIDTH,
                highlight: str | None = None) -> list[CountyMap]:
    """Up to `limit` maps: the coverage indicators, then achievement of county targets where the plans set them.

    `map_width` (points) is the map's; the legend takes the rest of the 510 pt (180 mm) width.
    `highlight` (a county profile's county) is outlined, with its figure and rank under the legend.
    """
    rows = [r for r in snapshot.get("by_county") or [] if r["org_unit"] in snapshot["counties"]]
    made: list[CountyMap] = []
    for code in COVERAGE_MAPS:
        if code in snapshot["indicators"] and len(made) < limit:
            found = coverage_map(snapshot, code, rows, map_width, highlight)
            made += [found] if found else []
    with_targets = sorted({r["indicator"] for r in rows if r.get("achievement") is not None})
    for code in with_targets:
        if len(made) < limit:
            found = achievement_map(snapshot, code, rows)
            made += [found] if found else []
    return made


def locator_uri(code: str, name: str | None = None, *, width: float = LOCATOR_WIDTH, caption: bool = True) -> str:
    """The county within Kenya, as a data URI ("" for an org unit that is not a county).

    Without `caption` only the credit is printed under the map (the page's heading names the county).
    """
    if code not in {c for c, _, _ in maps.counties()}:
        return ""
    text = (_("%(name)s County within Kenya", name=name) if name else None) if caption else ""
    return data_uri(maps.locator(code, width=width, caption=text))
