"""Marshmallow schemas of the plans API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma

from mel.converters import Key, PeriodField


class TargetSchema(ma.Schema):
    org_unit = ma.fields.String(required=True, metadata={"description": "KE for national, or a county code"})
    period = ma.fields.String(required=True, metadata={"description": "A quarter of the year (2025Q3) or the year (2025July)"})
    value = ma.fields.Raw(required=True, metadata={"description": "A non-negative number (95 for 95%)"})


class LineSchema(ma.Schema):
    indicator = ma.fields.String(required=True)
    baseline_value = ma.fields.Raw(allow_none=True, load_default=None)
    baseline_period = ma.fields.String(load_default="")
    collection_method = ma.fields.String(load_default="")
    frequency = ma.fields.String(load_default="")
    responsible = ma.fields.String(load_default="")
    notes = ma.fields.String(load_default="")
    targets = ma.fields.List(ma.fields.Nested(TargetSchema), load_default=list)


class PmpPutSchema(ma.Schema):
    version = Key(required=True, metadata={"description": "The current version you read (0 for a new plan)"})
    reason = ma.fields.String(required=True, metadata={"description": "Why this revision (kept with the version)"})
    lines = ma.fields.List(ma.fields.Nested(LineSchema), required=True)


class PmpQuerySchema(ma.Schema):
    fy = PeriodField("financial_year", metadata={"description": "Financial year, e.g. 2024July"})
    scope = ma.fields.String(metadata={"description": "Programme code or SECTOR"})


class VersionQuerySchema(ma.Schema):
    version = Key(metadata={"description": "An older version to read (default: current)"})


class TargetQuerySchema(ma.Schema):
    indicator = ma.fields.String()
    programme = ma.fields.String(metadata={"description": "Programme code or SECTOR"})
    org_unit = ma.fields.String()
    period = PeriodField("quarter_or_financial_year", metadata={"description": "A quarter or a financial year"})


class WorkPlanPutSchema(ma.Schema):
    title = ma.fields.String(load_default="")


class ActivitySchema(ma.Schema):
    title = ma.fields.String(required=True)
    working_group = ma.fields.String(required=True, metadata={"description": "policy, finance, shock, standards or merl"})
    lead_agency = ma.fields.String(required=True)
    partners = ma.fields.String(load_default="")
    budget_kes = ma.fields.Raw(load_default="0")
    funding_source = ma.fields.String(load_default="")
    planned_quarters = ma.fields.String(load_default="", metadata={"description": "Comma-separated, e.g. 2025Q3,2025Q4"})
    results_node = ma.fields.String(load_default="")
    indicators = ma.fields.String(load_default="", metadata={"description": "Comma-separated codes"})


class ProgressSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "not_started, on_track, delayed, completed, dropped"})
    percent_complete = ma.fields.Raw(required=True)
    spend_to_date = ma.fields.Raw(required=True, metadata={"description": "KES"})
    note = ma.fields.String(load_default="")
    version = Key(metadata={"description": "The version you read; a stale one gets 409"})
