"""marshmallow schemas of the form and programme administration API (/api/v1/forms, /api/v1/programmes)."""

from __future__ import annotations

import marshmallow as ma

from mel import clock
from mel.catalogue.form_admin import (
    FORM_FREQUENCIES,
    MAX_WINDOW_DAYS,
    PROGRAMME_LEVELS,
    REASON_LENGTH,
    window_versions,
)
from mel.catalogue.form_contents import contents_at, versions

_DAYS = {"validate": ma.validate.Range(0, MAX_WINDOW_DAYS)}
_REASON = ma.fields.String(required=True, validate=ma.validate.Length(1, REASON_LENGTH),
                           metadata={"description": "Why the change is made (kept in the audit)"})


class WindowExceptionSchema(ma.Schema):
    id = ma.fields.Integer()
    org_unit = ma.fields.Function(lambda g: g.org_unit.code, metadata={"description": "Org unit code"})
    org_unit_name = ma.fields.Function(lambda g: g.org_unit.name)
    period = ma.fields.String(metadata={"description": "Quarter, e.g. 2026Q4"})
    closes_on = ma.fields.Date(metadata={"description": "The org unit's return of the period closes after this day"})
    reason = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()


class FormItemSchema(ma.Schema):
    indicator = ma.fields.String(metadata={"description": "Indicator code"})
    required = ma.fields.Boolean(metadata={"description": "Whether its cells must be filled before submission"})


class FormVersionSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", attribute="from", allow_none=True,
                             metadata={"description": "First quarter of the stretch (null: since the beginning)"})
    until = ma.fields.String(allow_none=True,
                             metadata={"description": "The stretch ends before this quarter (null: open-ended)"})
    indicators = ma.fields.List(ma.fields.Nested(FormItemSchema))
    org_units = ma.fields.List(ma.fields.String())


class FormWindowSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", attribute="from", allow_none=True,
                             metadata={"description": "First quarter of the stretch (null: since the beginning)"})
    until = ma.fields.String(allow_none=True,
                             metadata={"description": "The stretch ends before this quarter (null: open-ended)"})
    frequency = ma.fields.String(metadata={"description": "quarterly (a return per quarter) or monthly (one per month)"})
    opens_days = ma.fields.Integer(metadata={"description": "The window opens this many days after the period (quarter "
                                                            "or month) ends"})
    due_days = ma.fields.Integer(metadata={"description": "Returns are late after this many days"})
    closes_days = ma.fields.Integer(metadata={"description": "The window closes this many days after the period"})


def _now(form, part: str):
    return contents_at(form, clock.reporting_quarter().id)[part]


def _days_now(form, index: int) -> int:
    return form.window_days_in(clock.reporting_quarter().id)[index]


class FormSchema(ma.Schema):
    """A programme's reporting form: indicators, org units and window days (in the quarter being reported,
    and every stretch of quarters in `versions` and `windows`), frequency."""

    uid = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    programme = ma.fields.Function(lambda f: f.programme.code)
    frequency = ma.fields.Function(lambda f: f.frequency_in(clock.reporting_quarter().id), metadata={
        "description": "quarterly or monthly, in the quarter being reported (`windows` gives it by stretch of quarters)"})
    opens_days = ma.fields.Function(lambda f: _days_now(f, 0), metadata={
        "type": "integer", "description": "In the quarter being reported, the window opens this many days after it ends"})
    due_days = ma.fields.Function(lambda f: _days_now(f, 1), metadata={
        "type": "integer", "description": "In the quarter being reported, returns are late after this many days"})
    closes_days = ma.fields.Function(lambda f: _days_now(f, 2), metadata={
        "type": "integer", "description": "In the quarter being reported, the window closes this many days after it"})
    quarter = ma.fields.Function(lambda f: clock.reporting_quarter().id, metadata={
        "description": "The quarter being reported, which indicators, org_units and the window days show"})
    indicators = ma.fields.Function(lambda f: _now(f, "indicators"),
                                    metadata={"description": "[{indicator, required}] in form order"})
    org_units = ma.fields.Function(lambda f: _now(f, "org_units"), metadata={"description": "Org unit codes"})
    versions = ma.fields.Function(lambda f: FormVersionSchema(many=True).dump(versions(f)),
                                  metadata={"description": "The form's content by stretch of quarters, oldest first"})
    windows = ma.fields.Function(lambda f: FormWindowSchema(many=True).dump(window_versions(f)),
                                 metadata={"description": "The form's window days by stretch of quarters, oldest first"})
    window_exceptions = ma.fields.List(ma.fields.Nested(WindowExceptionSchema))


class FormItemArgs(ma.Schema):
    indicator = ma.fields.String(required=True, metadata={"description": "Indicator code, e.g. SA01"})
    required = ma.fields.Boolean(load_default=True, metadata={"description": "Cells required (default true)"})


_FROM = ma.fields.String(metadata={"description": "Quarter the change applies from, e.g. 2026Q4: not before the quarter "
                                                  "being reported; earlier quarters keep their form"})
_UNITS = ma.fields.List(ma.fields.String(), metadata={"description": "Org unit codes, e.g. [\"042\", \"001\"]"})


class FormWindowArgs(ma.Schema):
    """A change of a form from a quarter on: its frequency and window days, and/or its indicators and org
    units (fields left out keep their value). A window alone applies from the quarter being reported
    when from_period is left out."""

    frequency = ma.fields.String(validate=ma.validate.OneOf(FORM_FREQUENCIES))
    opens_days = ma.fields.Integer(**_DAYS)
    due_days = ma.fields.Integer(**_DAYS)
    closes_days = ma.fields.Integer(**_DAYS)
    from_period = _FROM
    indicators = ma.fields.List(ma.fields.Nested(FormItemArgs),
                                metadata={"description": "The form's indicators in order, from from_period on"})
    org_units = _UNITS
    reason = _REASON


_SW_NAME = ma.fields.String(metadata={"description": "The name in Kiswahili (programme names such as Inua Jamii "
                                                   "stay as they are); empty: not translated"})
_SW_NOTES = ma.fields.String(metadata={"description": "The notes in Kiswahili; empty: not translated"})


class ProgrammeCreateArgs(ma.Schema):
    """A new programme; its reporting form asks returns of `org_units` from `from_period` on."""

    code = ma.fields.String(required=True, metadata={"description": "A–Z, digits, - and _; at most 20"})
    name = ma.fields.String(required=True)
    pillar = ma.fields.String(required=True, metadata={"description": "Pillar code, e.g. social_assistance"})
    agency = ma.fields.String(required=True)
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(PROGRAMME_LEVELS),
                             metadata={"description": "national, or county (county-funded)"})
    notes = ma.fields.String()
    name_sw = _SW_NAME
    notes_sw = _SW_NOTES
    org_units = ma.fields.List(ma.fields.String(), required=True,
                               metadata={"description": "Where it operates: org unit codes"})
    from_period = ma.fields.String(required=True, metadata=_FROM.metadata)
    reason = _REASON


class ProgrammeChangeArgs(ma.Schema):
    """A change of a programme (fields left out keep their value); org_units apply from from_period on."""

    name = ma.fields.String()
    pillar = ma.fields.String()
    agency = ma.fields.String()
    level = ma.fields.String(validate=ma.validate.OneOf(PROGRAMME_LEVELS))
    notes = ma.fields.String()
    name_sw = _SW_NAME
    notes_sw = _SW_NOTES
    org_units = _UNITS
    from_period = _FROM
    reason = _REASON


class WindowExceptionArgs(ma.Schema):
    org_unit = ma.fields.String(required=True, metadata={"description": "Org unit code, e.g. 042"})
    period = ma.fields.String(required=True, metadata={"description": "Quarter, e.g. 2026Q4"})
    closes_on = ma.fields.Date(required=True, metadata={"description": "New closing date, e.g. 2027-01-30"})
    reason = _REASON


class RemovalArgs(ma.Schema):
    reason = _REASON
