"""Read API of the catalogue: org units, programmes, indicators, periods."""

from __future__ import annotations

from flask.views import MethodView

from indicators.periods import PeriodError, PeriodType, financial_year_of, parse_period
from mel import clock
from mel.api import api_blueprint
from mel.catalogue import queries
from mel.catalogue.schemas import (
    IndicatorQuerySchema,
    IndicatorSchema,
    OrgUnitQuerySchema,
    OrgUnitSchema,
    PeriodQuerySchema,
    PeriodSchema,
    ProgrammeSchema,
)
from mel.db import db
from mel.errors import ValidationFailed

blp = api_blueprint("catalogue_api", __name__, "The sector catalogue: org units, programmes, indicators, periods.")


@blp.route("/org-units")
class OrgUnits(MethodView):
    @blp.arguments(OrgUnitQuerySchema, location="query")
    @blp.response(200, OrgUnitSchema(many=True))
    def get(self, args):
        """Org units (Kenya, the 47 counties and, once loaded, sub-counties and wards), filterable by level or parent."""
        return queries.org_units(db.session, level=args.get("level"), parent=args.get("parent"))


@blp.route("/programmes")
class Programmes(MethodView):
    @blp.response(200, ProgrammeSchema(many=True))
    def get(self):
        """Programmes with their pillar, agency and the org units where they operate."""
        return queries.programmes(db.session)


@blp.route("/programmes/<code>")
class ProgrammeItem(MethodView):
    @blp.response(200, ProgrammeSchema)
    def get(self, code):
        """One programme by code or UID."""
        return queries.programme(db.session, code)


@blp.route("/indicators")
class Indicators(MethodView):
    @blp.arguments(IndicatorQuerySchema, location="query")
    @blp.response(200, IndicatorSchema(many=True))
    def get(self, args):
        """Indicators with their reference-sheet fields; filter by pillar, measure, level, programme."""
        return queries.indicators(
            db.session,
            pillar=args.get("pillar"),
            measure=args.get("measure"),
            level=args.get("level"),
            programme_code=args.get("programme"),
            search=args.get("q"),
        )


@blp.route("/indicators/<code>")
class IndicatorItem(MethodView):
    @blp.response(200, IndicatorSchema)
    def get(self, code):
        """One indicator (its reference sheet) by code or UID."""
        return queries.indicator(db.session, code)


@blp.route("/periods")
class Periods(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, PeriodSchema(many=True))
    def get(self, args):
        """Periods of a financial year (quarters by default), with their Kenyan labels."""
        fy = parse_period(args["fy"]) if args.get("fy") else financial_year_of(clock.today())
        if fy.type is not PeriodType.FINANCIAL_YEAR:
            raise ValidationFailed(f"fy={fy.id!r} is not a financial year: use the form 2025July.")
        kind = PeriodType(args["type"])
        try:
            if kind is PeriodType.QUARTER:
                return fy.quarters()
            if kind is PeriodType.MONTH:
                return fy.months()
            if kind is PeriodType.FINANCIAL_YEAR:
                return [fy]
            return [parse_period(str(fy.year)), parse_period(str(fy.year + 1))]
        except PeriodError as exc:
            raise ValidationFailed(str(exc)) from None
