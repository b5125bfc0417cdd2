"""The report's charts of figures over time and of returns: which chart suits an indicator, in which words.

Quarterly indicators get a line over the last eight quarters; indicators measured once a year
(catalogue frequency "annual") get one labelled point per financial year, never a line through
quarters in which nothing was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from indicators.periods import parse_period
from reports import charts
from reports.i18n import N_, _, period_label

CHART_WIDTH = 238.0  # pt: 84 mm, the column of a trend chart in the reports (three across a landscape page)
CHART_HEIGHT = 150.0
WIDE_WIDTH = 396.0  # pt: 140 mm, a chart across a portrait column
STRIP_WIDTH = 374.0  # pt: 132 mm, the status strip of a county page
RETURNS_WIDTH = 340.0  # pt: 120 mm, the returns chart (printed larger in the sector report)
AXIS_WORDS = {"number": N_("Number"), "percent": N_("Per cent"), "KES": N_("Kenya shillings (KES)"), "days": N_("Days")}


class Charted(Protocol):
    code: str
    name: str
    target_value: float | None


def axis_caption(info: dict) -> str:
    """The value axis' caption of an indicator's chart, in words (a unit the catalogue names otherwise, as it is)."""
    unit = info["unit"]
    return _(AXIS_WORDS[unit]) if unit in AXIS_WORDS else unit.capitalize()


def _unit(info: dict) -> str:
    return "%" if info["unit"] == "percent" else ""


def annual_points(quarters: Sequence[str], values: Sequence[float | None]) -> tuple[list[str], list[float | None]]:
    """A quarterly series of an annual indicator as one value per financial year (its latest in the year),
    the years labelled in the report's language."""
    years: dict[str, float | None] = {}
    for quarter, value in zip(quarters, values, strict=True):
        year = period_label(parse_period(quarter).financial_year(), short=True)
        if value is not None or year not in years:
            years[year] = value
    return list(years), list(years.values())


def trend_chart(info: dict, code: str, name: str, quarters: Sequence[str], labels: Sequence[str],
                values: Sequence[float | None], target: float | None, *, width: float = CHART_WIDTH) -> str:
    """The SVG of one indicator's figures over time, titled in words with its code as a reference."""
    title = f"{name} ({code})"
    if info.get("frequency") == "annual":
        years, points = annual_points(quarters, values)
        return charts.point_chart(years, points, title=title, width=width, height=CHART_HEIGHT, target=target,
                                  unit=_unit(info), y_label=axis_caption(info))
    return charts.line_chart(charts.period_axis(quarters, labels), values, title=title, width=width,
                             height=CHART_HEIGHT, target=target, unit=_unit(info), y_label=axis_caption(info))


def history_charts(snapshot: dict, figures: Sequence[Charted], limit: int | None = None) -> list[tuple[str, str]]:
    """(title, data URI) of the trend chart of each figure with a history, at most `limit` of them."""
    history = snapshot.get("history") or {}
    series, labels = history.get("series", {}), history.get("labels", [])
    quarters = history.get("quarters", [])
    made = []
    for item in figures:
        values = series.get(item.code)
        if not values or not any(v is not None for v in values):
            continue
        info = snapshot["indicators"][item.code]
        svg = trend_chart(info, item.code, item.name, quarters, labels, values, item.target_value)
        made.append((f"{item.name} ({item.code})", charts.data_uri(svg)))
        if limit and len(made) >= limit:
            break
    return made


def completeness_chart(returns: dict, programmes: dict, *, width: float = RETURNS_WIDTH) -> str:
    """Share of returns received by the due date, one bar per programme named in words (data URI, or "")."""
    rows = returns.get("by_programme", [])
    if not rows:
        return ""
    names = [programmes.get(r["programme"], {}).get("name", r["programme"]) for r in rows]
    return charts.data_uri(charts.hbar_chart(names, [r["timeliness"] for r in rows],
                                             title=_("Returns received by the due date, by programme"),
                                             width=width, max_value=100, unit="%", reference=100,
                                             reference_label=_("all on time"),
                                             x_label=_("Per cent of expected returns")))
