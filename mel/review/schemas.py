"""Marshmallow schemas of the review API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma

from mel.converters import PeriodField
from mel.review.models import RETURN_REASONS


class PeriodArgs(ma.Schema):
    period = PeriodField("quarter", required=True, metadata={"description": "A quarter, e.g. 2025Q3"})
    programme = ma.fields.String()
    org_unit = ma.fields.String()
    pillar = ma.fields.String()
    state = ma.fields.String(metadata={"description": "draft, submitted, returned, approved, reopened or not_started"})


class CompletenessArgs(ma.Schema):
    period = PeriodField("quarter", required=True, metadata={"description": "A quarter, e.g. 2025Q3"})
    by = ma.fields.String(load_default="programme", validate=ma.validate.OneOf(["programme", "org_unit", "pillar"]))


class ReturnArgs(ma.Schema):
    reasons = ma.fields.List(ma.fields.String(), required=True, metadata={"description": ", ".join(RETURN_REASONS)})
    text = ma.fields.String(required=True)


class ReasonArgs(ma.Schema):
    reason = ma.fields.String(required=True)


class QueryPost(ma.Schema):
    indicator = ma.fields.String(required=True, metadata={"description": "Figure code, e.g. SA14 or SA12.N"})
    option = ma.fields.String(load_default="default")
    text = ma.fields.String(required=True)


class AnswerPost(ma.Schema):
    text = ma.fields.String(required=True)
    corrected_value = ma.fields.Raw(load_default=None, metadata={"description": "The corrected figure, if any"})
    close = ma.fields.Boolean(load_default=False, metadata={"description": "Reviewer: close the query"})
