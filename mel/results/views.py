"""Dashboards: sector key figures, the IPTT by pillar, and indicator pages; filters live in the URL."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import func, select

from indicators.compile import Thresholds
from indicators.periods import PeriodError, parse_period
from mel import clock
from mel.catalogue.language import localised
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.versioning import lineage
from mel.db import db
from mel.errors import NotFound
from mel.i18n import N_, language, period_words, report_catalogues
from mel.results.queries import (
    TargetBook,
    approved_coverage,
    iptt,
    latest_quarters,
    resolve_query,
    results,
    well_covered_quarter,
)
from mel.returns.models import Return
from reports.charts import line_chart
from reports.county_maps import coverage_svg
from reports.i18n import speaking

bp = Blueprint("results", __name__, url_prefix="/dashboard")
KEY_FIGURES = ("SA10", "SA11", "SA14", "SPX10", "SPX11", "HI01", "SS02")
# Words the dashboards show from the figures' rows, marked for the catalogue and translated where shown:
# how the achievement was reckoned (indicators/compile.py `score`) and the trend against last quarter.
ACHIEVEMENT_METHODS = (N_("actual ÷ target"), N_("actual ÷ target (target is zero)"),
                       N_("progress from baseline to target"), N_("target ÷ actual"),
                       N_("target ÷ actual (actual is zero)"))
TRENDS = (N_("improving"), N_("worsening"), N_("stable"))


def _thresholds() -> Thresholds:
    config = current_app.config
    return Thresholds(config["STATUS_ON_TRACK"], config["STATUS_NEEDS_ATTENTION"])


def _latest_quarter(session) -> str:
    """The quarter the dashboards open on: the latest with enough approved returns (the report form's
    rule), so a quarter still being reported is one choice away rather than read as the result."""
    quarters = latest_quarters(session)
    chosen = well_covered_quarter(quarters, approved_coverage(session, load_catalogue(session), quarters))
    if chosen:
        return chosen
    latest = session.scalar(select(func.max(Return.period)).where(Return.state == "approved"))
    return latest or clock.reporting_quarter().previous().id


def _filters(session) -> dict:
    try:
        period = parse_period(request.args.get("period") or _latest_quarter(session)).id
    except PeriodError as exc:
        raise NotFound(exc.message) from None
    return {"period": period, "programme": (request.args.get("programme") or "ALL").upper(),
            "org_unit": request.args.get("org_unit") or "KE"}


@bp.route("/")
@login_required
def sector():
    session = db.session
    catalogue = load_catalogue(session)
    filters = _filters(session)
    query = resolve_query(catalogue, indicators=list(KEY_FIGURES), period=filters["period"],
                          org_unit=filters["org_unit"], programme=filters["programme"])
    book = TargetBook(session, catalogue)
    figures = {r["indicator"]: r for r in results(session, catalogue, query, _thresholds(), book=book)}
    fy = parse_period(filters["period"]).financial_year().id
    table = iptt(session, catalogue, programme=filters["programme"], fiscal_year=fy, org_unit=filters["org_unit"],
                 thresholds=_thresholds(), book=book)
    pillars = {}
    for line in table["lines"]:
        pillars.setdefault(line["pillar"], []).append(line)
    quarters = [parse_period(filters["period"]).shift(n).id for n in range(1, -9, -1)]
    from mel.review.views import pillar_words

    return render_template("results/sector.html", filters=filters, figures=figures, key=KEY_FIGURES,
                           catalogue=catalogue, table=table, pillars=pillars, quarters=quarters,
                           pillar_names=pillar_words(session),
                           programmes=sorted(catalogue.programmes),
                           counties=sorted((u for u in catalogue.org_units.values() if u.level <= COUNTY),
                                           key=lambda u: u.code))


@bp.route("/indicators/<code>")
@login_required
def indicator(code: str):
    session = db.session
    catalogue = load_catalogue(session)
    filters = _filters(session)
    code = code.upper()
    if code not in catalogue.indicators:
        raise NotFound(_("Indicator %(code)s is not in the catalogue.", code=repr(code)))
    period = parse_period(filters["period"])
    history_periods = [period.shift(-n).id for n in range(8, -1, -1)]
    history = resolve_query(catalogue, indicators=[code], period=period.id, org_unit=filters["org_unit"],
                            programme=filters["programme"], by=["period"])
    history.quarters = history_periods
    book = TargetBook(session, catalogue)
    series = {r["period"]: r for r in results(session, catalogue, history, _thresholds(), book=book)}
    values = [series.get(p, {}).get("actual") for p in history_periods]
    target = series.get(period.id, {}).get("target")
    with speaking(language(), report_catalogues()):  # the chart's own words in the page's language
        chart = Markup(line_chart([period_words(parse_period(p), short=True) for p in history_periods], values,
                                  title=f"{code} {localised(catalogue.indicators[code], 'short_name')}", width=720,
                                  height=220, target=target))
    by_county = results(session, catalogue, resolve_query(
        catalogue, indicators=[code], period=period.id, org_unit=filters["org_unit"], programme=filters["programme"],
        by=["org_unit"]), _thresholds(), book=book)
    by_programme = results(session, catalogue, resolve_query(
        catalogue, indicators=[code], period=period.id, org_unit=filters["org_unit"], programme="ALL",
        by=["programme"]), _thresholds(), book=book)
    names = {u.code: u.name for u in catalogue.org_units.values()}
    county_map = _county_map(session, catalogue, code, period, filters, by_county, book)
    return render_template("results/indicator.html", filters=filters, indicator=catalogue.indicators[code],
                           chart=chart, county_map=county_map, current=series.get(period.id), by_county=by_county,
                           by_programme=by_programme, names=names, history=[(p, series.get(p)) for p in history_periods],
                           lineage=lineage(catalogue.indicators.values(), code))


def _county_map(session, catalogue, code: str, period, filters: dict, by_county: list[dict], book) -> Markup | None:
    """The indicator's approved figures on a map of the counties (the reports' choropleth, inline);
    a county chosen in the filters is outlined among the others. None when fewer than two have a figure."""
    rows = by_county if filters["org_unit"] == "KE" else results(session, catalogue, resolve_query(
        catalogue, indicators=[code], period=period.id, org_unit="KE", programme=filters["programme"],
        by=["org_unit"]), _thresholds(), book=book)
    counties = {u.code: u.name for u in catalogue.org_units.values() if u.level == COUNTY}
    item = catalogue.indicators[code]
    with speaking(language(), report_catalogues()):  # the map's own words in the page's language
        drawn = coverage_svg({"name": localised(item), "measure": item.measure, "unit": item.unit}, code,
                             period_words(period), rows, counties, map_width=296, width=300,
                             highlight=filters["org_unit"] if filters["org_unit"] in counties else None)
    return Markup(drawn[1]) if drawn else None
