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

CHART_WIDTH = 238.0  # pt: 84 mm, the column of a trend chart in the reports (three across a landscape page)
CHART_HEIGHT = 150.0
WIDE_WIDTH = 396.0  # pt: 140 mm, a chart across a portrait column
STRIP_WIDTH = 374.0  # pt: 132 mm, the status strip of a county page
RETURNS_WIDTH = 340.0  # pt: 120 mm, the returns chart (printed larger in the sector report)
AXIS_WORDS = {"number": "Number", "percent": "Per cent", "KES": "Kenya shillings (KES)", "days": "Days"}


class Charted(Protocol):
    code: str
    name: str
    target_value: float | None


def axis_caption(info: dict) -> str:
    """The value axis' caption of an indicator's chart, in words."""
    return AXIS_WORDS.get(info["unit"], info["unit"].capitalize())


def _unit(info: dict) -> str:
    return "%" if info["unit"] == "percent" else ""


def annual_points(quarters: Sequence[str], values: Sequence[float | None]) -> tuple[list[str], list[float | None]]:
    """A quarterly series of an annual indicator as one value per financial year (its latest in the year)."""
    years: dict[str, float | None] = {}
    for quarter, value in zip(quarters, values, strict=True):
        year = parse_period(quarter).financial_year().short_label
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
    return charts.line_chart(labels, values, title=title, width=width, height=CHART_HEIGHT, target=target,
                             unit=_unit(info), y_label=axis_caption(info))


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
                                             title="Returns received by the due date, by programme",
                                             width=width, max_value=100, unit="%", reference=100,
                                             reference_label="all on time", x_label="Per cent of expected returns"))
