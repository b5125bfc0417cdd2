"""GET /api/v1/results: compiled figures against targets, as JSON, CSV or Excel."""

from __future__ import annotations

import csv
import io

from flask import Response, current_app, send_file
from flask.views import MethodView

from indicators.compile import Thresholds
from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.results.queries import resolve_query, results
from mel.results.schemas import IpttArgs, ResultsArgs

blp = api_blueprint("results_api", __name__, "Results: approved figures compiled against targets.")

COLUMNS = ["indicator", "org_unit", "programme", "period", "option", "span", "actual", "numerator", "denominator",
           "target", "target_source", "target_note", "baseline", "baseline_period", "achievement",
           "achievement_method", "status", "previous", "previous_trend", "last_year", "last_year_trend",
           "completeness", "returns_received", "returns_expected", "pmp", "pmp_version", "note"]


def _csv_safe(value):
    """Text that Excel would run as a formula is prefixed with an apostrophe (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@blp.route("/results")
class Results(MethodView):
    @blp.arguments(ResultsArgs, location="query")
    @blp.response(200)
    def get(self, args):
        """Figures for indicators × period × org unit × programme (× option), with target, achievement, status, trend.

        Each row: actual, numerator, denominator; target with `target_source` (its plan, or how it
        was derived: a programme's county targets added, the only programme reporting it, the sum of
        programme targets) or `target_note` (why there is none); baseline; achievement (unrounded
        percent) and its method; status (on_track, needs_attention, off_track, no_target,
        not_added, not_reported); previous and last_year with trends; returns_received and
        returns_expected with completeness. `include=submitted` adds figures not yet approved,
        for reviewers, the secretariat and officers within their own scope (403 for others).
        """
        session = db.session
        catalogue = load_catalogue(session)
        query = resolve_query(catalogue, indicators=args.get("indicator"), period=args["period"],
                              org_unit=args["org_unit"], programme=args["programme"], ytd=args["ytd"],
                              include_submitted=args.get("include") == "submitted", by=args["by"],
                              user=authenticated_user())
        config = current_app.config
        rows = results(session, catalogue, query, Thresholds(config["STATUS_ON_TRACK"], config["STATUS_NEEDS_ATTENTION"]))
        if args["format"] == "json":
            return rows
        name = f"results_{query.span.id}_{query.org_unit.code}"
        if args["format"] == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_safe(row.get(k)) for k in COLUMNS})
            return Response(buffer.getvalue(), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "Results"
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append([_csv_safe(row.get(k)) for k in COLUMNS])
        data = io.BytesIO()
        book.save(data)
        data.seek(0)
        return send_file(data, as_attachment=True, download_name=f"{name}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@blp.route("/iptt")
class Iptt(MethodView):
    @blp.arguments(IpttArgs, location="query")
    @blp.response(200)
    def get(self, args):
        """Indicator Performance Tracking Table: baseline, per-quarter and year target / actual / % achieved.

        Targets follow the same rule as /results (each cell names its `target_source`);
        `include=submitted` follows the same permission.
        """
        from mel.results.queries import iptt

        session = db.session
        config = current_app.config
        return iptt(session, load_catalogue(session), programme=args["programme"], fiscal_year=args["fy"],
                    org_unit=args["org_unit"], include_submitted=args.get("include") == "submitted",
                    user=authenticated_user(), thresholds=Thresholds(config["STATUS_ON_TRACK"], config["STATUS_NEEDS_ATTENTION"]))
