"""The indicator editor under /api/v1: create, change, retire or reactivate an indicator (secretariat), and
the versions of its reference sheet (every signed-in user).

The same operations as the web pages (mel/catalogue/indicator_admin.py), with the same checks and audit.
Reading an indicator or the list stays in mel/catalogue/api.py (GET on the same addresses).
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, url_for
from flask.views import MethodView

from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue import indicator_admin, queries
from mel.catalogue.form_admin import require_admin
from mel.catalogue.models import DIRECTIONS, FREQUENCIES, LEVELS, MEASURES, TIME_AGGREGATIONS
from mel.catalogue.schemas import IndicatorSchema
from mel.db import db
from mel.errors import ValidationFailed
from mel.scopes import can_administer
from mel.unit_of_work import finish

blp = api_blueprint("indicator_api", __name__,
                    "The indicator editor (secretariat): every change of a reference sheet is a version with a reason.")


def _text(limit: int, description: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=limit), metadata={"description": description}, **kwargs)


class IndicatorFieldsSchema(ma.Schema):
    """An indicator's reference-sheet fields; each is checked by the operation (located errors, as on the web)."""

    name = _text(600, "Full name")
    short_name = _text(240, "Printed in report tables")
    definition = _text(8000, "What is counted")
    rationale = _text(8000, "Why it is measured")
    pillar = _text(80, "Pillar code, e.g. social_assistance")
    level = _text(20, ", ".join(LEVELS))
    unit = _text(20, ", ".join(indicator_admin.UNITS))
    measure = _text(20, ", ".join(MEASURES) + " (locked once figures exist)")
    factor = ma.fields.Integer(allow_none=True, metadata={"description": "A ratio's factor: 100 for a percentage; "
                                                                         "null for counts and amounts"})
    numerator = _text(8000, "A ratio's numerator")
    denominator = _text(8000, "A ratio's denominator")
    calculation = _text(8000, "Calculation and aggregation, in words")
    time_aggregation = _text(20, ", ".join(TIME_AGGREGATIONS) + " (sum: a flow; last: a stock)")
    is_additive_across_programmes = ma.fields.Boolean(metadata={"description": "May be added across programmes"})
    disaggregation = _text(80, "Disaggregation set code, e.g. sex_age (locked once figures exist)")
    direction = _text(20, ", ".join(DIRECTIONS))
    frequency = _text(20, ", ".join(FREQUENCIES))
    data_source = _text(8000, "Data source")
    collection_method = _text(8000, "Collection method")
    means_of_verification = _text(8000, "Means of verification")
    responsible_agency = _text(400, "Responsible agency")
    limitations = _text(8000, "Limitations")
    basis = _text(8000, "Where the definition comes from")
    name_sw = _text(600, "Name in Kiswahili (a translation: a change of it alone adds no version; empty: not "
                         "translated, Kiswahili pages show the English name)")
    short_name_sw = _text(240, "Short name in Kiswahili")
    definition_sw = _text(8000, "Definition in Kiswahili")


class IndicatorCreateSchema(IndicatorFieldsSchema):
    code = _text(40, "New and unique: a capital letter, then capital letters or digits (e.g. SA20)", required=True)
    name = _text(600, "Full name", required=True)
    reason = _text(1000, "Why the indicator is added (kept with version 1 and in the audit)", load_default="")


class IndicatorChangeSchema(IndicatorFieldsSchema):
    reason = _text(1000, "Why (kept with the new version and in the audit)", required=True)
    is_active = ma.fields.Boolean(metadata={"description": "false retires the indicator; true reactivates it"})
    replaced_by = _text(40, "On retiring: code of the active indicator that replaces it")


class IndicatorVersionSchema(ma.Schema):
    version = ma.fields.Integer()
    fields = ma.fields.Dict(metadata={"description": "Every reference-sheet field as it stood in this version "
                                                     "(pillar, disaggregation and replaced_by by code)"})
    reason = ma.fields.String()
    changed_by = ma.fields.String(allow_none=True, metadata={"description": "Who made it (shown to the secretariat)"})
    changed_at = ma.fields.DateTime()


def _version_body(kept) -> dict:
    shown = can_administer(authenticated_user())
    return {"version": kept.version, "fields": kept.fields, "reason": kept.reason,
            "changed_by": kept.changed_by if shown else None, "changed_at": kept.changed_at}


@blp.route("/indicators")
class Indicators(MethodView):
    @blp.arguments(IndicatorCreateSchema)
    @blp.response(201, IndicatorSchema)
    def post(self, args):
        """Add an indicator with its reference sheet (version 1; audited)."""
        actor = authenticated_user()
        require_admin(actor, "creates indicators")
        session = db.session
        code = indicator_admin.create_indicator(session, actor, args, args.get("reason", "")).code
        finish(session, current_app.config)
        return (queries.indicator(session, code), 201,
                {"Location": url_for("catalogue_api.IndicatorItem", code=code)})


@blp.route("/indicators/<code>")
class IndicatorOne(MethodView):
    @blp.arguments(IndicatorChangeSchema)
    @blp.response(200, IndicatorSchema)
    def put(self, args, code):
        """Change an indicator's fields as a new version, or retire it (is_active false, optionally replaced_by)
        or reactivate it, with a reason (audited). Measure, factor, time aggregation and disaggregation cannot
        change once the indicator has figures (409, located)."""
        actor = authenticated_user()
        require_admin(actor, "changes indicators")
        session = db.session
        code = indicator_admin.find(session, code).code
        reason = args.pop("reason")
        active = args.pop("is_active", None)
        replaced_by = args.pop("replaced_by", None)
        if replaced_by and active is not False:
            raise ValidationFailed("replaced_by names the replacement of a retired indicator: send it with "
                                   "is_active false.")
        if not args and active is None:
            raise ValidationFailed("Nothing to change: send a field of the indicator, or is_active.")
        if args:
            indicator_admin.change_indicator(session, actor, code, args, reason)
        if active is False:
            indicator_admin.retire_indicator(session, actor, code, reason, replaced_by)
        elif active is True:
            indicator_admin.reactivate_indicator(session, actor, code, reason)
        finish(session, current_app.config)
        return queries.indicator(session, code)


@blp.route("/indicators/<code>/versions")
class IndicatorVersions(MethodView):
    @blp.response(200, IndicatorVersionSchema(many=True))
    def get(self, code):
        """The versions of an indicator's reference sheet, newest first."""
        return [_version_body(v) for v in indicator_admin.versions(db.session, code)]


@blp.route("/indicators/<code>/versions/<int:number>")
class IndicatorVersionOne(MethodView):
    @blp.response(200, IndicatorVersionSchema)
    def get(self, code, number):
        """One version of an indicator's reference sheet."""
        return _version_body(indicator_admin.version(db.session, code, number))
