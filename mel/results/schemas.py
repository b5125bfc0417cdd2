"""Marshmallow schemas of the results API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma
from webargs.fields import DelimitedList

from mel.converters import PeriodField
from mel.results.queries import BY_CHOICES


class ResultsArgs(ma.Schema):
    indicator = DelimitedList(ma.fields.String(), metadata={"description": "Codes, comma-separated; default all"})
    period = PeriodField("quarter_or_financial_year", required=True,
                         metadata={"description": "A quarter (2025Q3) or a financial year (2025July)"})
    ytd = ma.fields.Boolean(load_default=False, metadata={"description": "With a quarter: its financial year up to it"})
    org_unit = ma.fields.String(load_default="KE")
    programme = ma.fields.String(load_default="ALL", metadata={"description": "A code, several comma-separated, or ALL"})
    include = ma.fields.String(validate=ma.validate.OneOf(["submitted"]),
                               metadata={"description": "submitted: also count submitted, not yet approved, figures"})
    by = DelimitedList(ma.fields.String(validate=ma.validate.OneOf(BY_CHOICES)), load_default=list)
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"]))


class IpttArgs(ma.Schema):
    fy = PeriodField("financial_year", required=True, metadata={"description": "Financial year, e.g. 2024July"})
    programme = ma.fields.String(load_default="ALL", metadata={"description": "A programme code, or ALL for the sector"})
    org_unit = ma.fields.String(load_default="KE")
    include = ma.fields.String(validate=ma.validate.OneOf(["submitted"]))
