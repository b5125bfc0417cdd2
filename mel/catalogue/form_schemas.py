"""marshmallow schemas of the form and programme administration API (/api/v1/forms, /api/v1/programmes)."""

from __future__ import annotations

import marshmallow as ma

from mel.catalogue.form_admin import FORM_FREQUENCIES, MAX_WINDOW_DAYS, REASON_LENGTH

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
    indicator = ma.fields.Function(lambda item: item.indicator.code)
    required = ma.fields.Boolean(attribute="is_required")


class FormSchema(ma.Schema):
    """A programme's reporting form: indicators, org units, frequency and window."""

    uid = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    programme = ma.fields.Function(lambda f: f.programme.code)
    frequency = ma.fields.String()
    opens_days = ma.fields.Integer(metadata={"description": "The window opens this many days after the quarter ends"})
    due_days = ma.fields.Integer(metadata={"description": "Returns are late after this many days"})
    closes_days = ma.fields.Integer(metadata={"description": "The window closes this many days after the quarter"})
    indicators = ma.fields.List(ma.fields.Nested(FormItemSchema), attribute="items")
    org_units = ma.fields.Function(lambda f: [u.code for u in f.org_units])
    window_exceptions = ma.fields.List(ma.fields.Nested(WindowExceptionSchema))


class FormWindowArgs(ma.Schema):
    """A change of a form's frequency and window (fields left out keep their value)."""

    frequency = ma.fields.String(validate=ma.validate.OneOf(FORM_FREQUENCIES))
    opens_days = ma.fields.Integer(**_DAYS)
    due_days = ma.fields.Integer(**_DAYS)
    closes_days = ma.fields.Integer(**_DAYS)
    reason = _REASON


class WindowExceptionArgs(ma.Schema):
    org_unit = ma.fields.String(required=True, metadata={"description": "Org unit code, e.g. 042"})
    period = ma.fields.String(required=True, metadata={"description": "Quarter, e.g. 2026Q4"})
    closes_on = ma.fields.Date(required=True, metadata={"description": "New closing date, e.g. 2027-01-30"})
    reason = _REASON


class RemovalArgs(ma.Schema):
    reason = _REASON
