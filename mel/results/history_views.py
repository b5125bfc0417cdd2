"""An indicator's history across financial years: the web page (/dashboard/indicators/<code>/history) and
its API (/api/v1/indicators/<code>/history: JSON, CSV or Excel). The history itself is
mel/results/history.py; everyone signed in reads it (approved figures), each return's notes as
`mel.scopes.can_read_return_notes` allows.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, Response, current_app, render_template, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from indicators.compile import Thresholds
from indicators.messages import N_, message, text
from indicators.periods import parse_period
from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue.language import localised
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.versioning import lineage
from mel.db import db
from mel.errors import NotFound, ValidationFailed
from mel.i18n import language, period_words, report_catalogues, said
from mel.results.history import indicator_history
from mel.results.history_export import history_csv, history_xlsx
from reports.charts import bar_chart, line_chart
from reports.i18n import speaking

bp = Blueprint("history", __name__, url_prefix="/dashboard")
blp = api_blueprint("history_api", __name__, "An indicator's history: every quarter and financial year, targets "
                                              "and their revisions, data-quality notes and linked evidence.")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _thresholds() -> Thresholds:
    config = current_app.config
    return Thresholds(config["STATUS_ON_TRACK"], config["STATUS_NEEDS_ATTENTION"])


def _history(code: str, org_unit: str, programme: str) -> dict:
    session = db.session
    return indicator_history(session, load_catalogue(session), code, org_unit=org_unit or "KE",
                             programme=programme or "ALL", reader=authenticated_user(), thresholds=_thresholds())


def _charts(history: dict, width: int) -> tuple[str, str]:
    """The quarters' figures as a line (gaps where none was approved) and each financial year's as a bar,
    `width` wide (the page draws them for a laptop and for a phone)."""
    indicator = history["indicator"]
    unit = "%" if indicator["unit"] == "percent" else ""
    title = f"{indicator['code']} {localised(indicator, 'short_name')}"
    quarters = [q for year in history["years"] for q in year["quarters"]]
    years = history["years"]
    latest_target = next((y["year"]["target"] for y in reversed(years) if y["year"]["target"] is not None), None)
    with speaking(language(), report_catalogues()):  # the charts' own words in the page's language
        line = line_chart([period_words(parse_period(q["period"]), short=True) for q in quarters],
                          [q["actual"] for q in quarters], title=title, width=width, height=220, unit=unit)
        bars = bar_chart([_year_label(y) for y in years],
                         [y["year"]["actual"] for y in years], title=title, width=width, height=200, unit=unit,
                         target=latest_target, x_label="")
    return line, bars


def _year_label(year: dict) -> str:
    """A financial year under its bar: a year not over yet is its year to date, and says so."""
    words = period_words(parse_period(year["fiscal_year"]), short=True)
    return words if year["complete"] else _("%(year)s to date", year=words)


@bp.route("/indicators/<code>/history")
@login_required
def indicator_history_page(code: str):
    session = db.session
    catalogue = load_catalogue(session)
    try:  # the API's arguments, read by the same schema
        args = HistoryArgs(unknown=ma.EXCLUDE).load({k: v for k, v in request.args.items() if v and k != "format"})
    except ma.ValidationError:  # a malformed filter: the page does not exist
        raise NotFound(text(message(N_("This history page does not exist: check the org unit and programme in its "
                                       "address.")))) from None
    try:
        history = _history(code, args["org_unit"], args["programme"])
    except ValidationFailed as exc:  # an unknown programme: the page does not exist
        raise NotFound(said(exc.message)) from None
    charts = {}
    if history["years"]:
        for size, width in (("wide", 720), ("narrow", 360)):
            charts[size] = [Markup(svg) for svg in _charts(history, width)]
    counties = sorted((u for u in catalogue.org_units.values() if u.level <= COUNTY), key=lambda u: u.code)
    return render_template("results/indicator_history.html", history=history,
                           indicator=catalogue.indicators[history["indicator"]["code"]], charts=charts,
                           counties=counties, programmes=sorted(catalogue.programmes),
                           lineage=lineage(catalogue.indicators.values(), history["indicator"]["code"]))


class HistoryArgs(ma.Schema):
    org_unit = ma.fields.String(load_default="KE", validate=ma.validate.Length(min=1, max=40),
                                metadata={"description": "KE (national) or a county's code"})
    programme = ma.fields.String(load_default="ALL", validate=ma.validate.Length(min=1, max=200),
                                 metadata={"description": "A programme's code, several comma-separated, or ALL"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"]),
                              metadata={"description": "json, csv (one row per period, notes in columns) or xlsx "
                                                       "(that, and sheets of notes, target versions and evidence)"})


class HistoryFigureSchema(ma.Schema):
    period = ma.fields.String()
    label = ma.fields.String()
    actual = ma.fields.Float(allow_none=True)
    numerator = ma.fields.Float(allow_none=True)
    denominator = ma.fields.Float(allow_none=True)
    target = ma.fields.Float(allow_none=True)
    target_source = ma.fields.String(allow_none=True)
    target_note = ma.fields.String(allow_none=True)
    baseline = ma.fields.Float(allow_none=True)
    baseline_period = ma.fields.String(allow_none=True)
    achievement = ma.fields.Float(allow_none=True, metadata={"description": "Unrounded percent"})
    achievement_method = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    returns_received = ma.fields.Integer(allow_none=True)
    returns_expected = ma.fields.Integer(allow_none=True)
    completeness = ma.fields.Float(allow_none=True)
    pmp = ma.fields.String(allow_none=True)
    pmp_version = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)
    notes = ma.fields.Integer(metadata={"description": "How many data-quality notes concern this period"})


class HistoryPlanVersionSchema(ma.Schema):
    number = ma.fields.Integer()
    reason = ma.fields.String()
    created_at = ma.fields.String()
    created_by = ma.fields.String()
    is_current = ma.fields.Boolean()
    changed = ma.fields.Boolean(metadata={"description": "Its targets differ from the previous version's"})
    baseline = ma.fields.Float(allow_none=True)
    baseline_period = ma.fields.String(allow_none=True)
    year_target = ma.fields.Float(allow_none=True)
    quarter_targets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())


class HistoryPlanSchema(ma.Schema):
    scope = ma.fields.String()
    fiscal_year = ma.fields.String()
    title = ma.fields.String()
    current_version = ma.fields.Integer()
    versions = ma.fields.List(ma.fields.Nested(HistoryPlanVersionSchema))


class HistoryYearSchema(ma.Schema):
    fiscal_year = ma.fields.String()
    label = ma.fields.String()
    complete = ma.fields.Boolean(metadata={"description": "The year's last quarter is over (else its figure is a year to date)"})
    year = ma.fields.Nested(HistoryFigureSchema)
    quarters = ma.fields.List(ma.fields.Nested(HistoryFigureSchema))
    plans = ma.fields.List(ma.fields.Nested(HistoryPlanSchema))


class HistoryNoteSchema(ma.Schema):
    period = ma.fields.String()
    period_label = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "warning, query (a review query: its question, replies and status), returned, reopened or revised (after publication)"})
    programme = ma.fields.String()
    org_unit = ma.fields.String()
    org_unit_name = ma.fields.String()
    indicator_figure = ma.fields.String()
    option = ma.fields.String()
    text = ma.fields.String(allow_none=True)
    explanation = ma.fields.String(allow_none=True)
    reasons = ma.fields.List(ma.fields.String())
    by = ma.fields.String()
    at = ma.fields.String(allow_none=True)


class HistoryEvidenceSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    authors = ma.fields.String()
    agency = ma.fields.String()
    published_on = ma.fields.String(allow_none=True)
    link = ma.fields.String()
    key_findings = ma.fields.String()
    key_findings_sw = ma.fields.String()


class HistorySchema(ma.Schema):
    indicator = ma.fields.Dict()
    org_unit = ma.fields.String()
    org_unit_name = ma.fields.String()
    programme = ma.fields.String()
    years = ma.fields.List(ma.fields.Nested(HistoryYearSchema))
    notes = ma.fields.List(ma.fields.Nested(HistoryNoteSchema))
    evidence = ma.fields.List(ma.fields.Nested(HistoryEvidenceSchema))


@blp.route("/indicators/<code>/history")
class IndicatorHistory(MethodView):
    @blp.arguments(HistoryArgs, location="query")
    @blp.response(200, HistorySchema)
    @blp.alt_response(200, content_type="text/csv", description="format=csv")
    @blp.alt_response(200, content_type=XLSX, description="format=xlsx")
    @blp.alt_response(404, description="An unknown indicator or org unit")
    @blp.alt_response(422, description="An unknown programme or a malformed argument; `details` say which")
    def get(self, args, code: str):
        """The indicator's whole history at an org unit for a programme (or ALL): each financial year's
        quarters and year compiled as /results compiles them (approved figures), the targets of every plan
        version with their reasons, the data-quality notes (warnings and explanations, returns and reopenings
        with reasons, figures revised after publication; those of returns not yet approved only for readers of
        their query threads) and the evidence linked to it. `format=csv` gives one row per period with the
        notes in columns; `format=xlsx` that and sheets of notes, target versions and evidence."""
        history = _history(code, args["org_unit"], args["programme"])
        if args["format"] == "json":
            return history
        name = f"history_{history['indicator']['code']}_{history['org_unit']}_{history['programme'].replace(',', '-')}"
        if args["format"] == "csv":
            return Response(history_csv(history), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        return Response(history_xlsx(history), mimetype=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
