"""Marshmallow schemas of the reporting API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma

from mel.converters import PeriodField
from mel.reporting.models import REPORT_KINDS, REPORT_LANGUAGES
from reports.story import ACTION_SCOPES, ACTION_STATUSES


class ReportRequestSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(REPORT_KINDS))
    period = PeriodField("quarter", required=True, metadata={"description": "The quarter, e.g. 2025Q3"})
    programme = ma.fields.String(load_default=None, metadata={"description": "Programme code (programme report)"})
    org_unit = ma.fields.String(load_default=None, metadata={"description": "County code or name (county profile)"})
    accessible = ma.fields.Boolean(load_default=False, metadata={"description": "Tagged PDF/UA-1"})
    language = ma.fields.String(load_default="en", validate=ma.validate.OneOf(REPORT_LANGUAGES), metadata={
        "description": "en (English) or sw (Kiswahili). Both languages "
                       "of one quarter may be generated and published"})


class ReportRunSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    period = ma.fields.String()
    programme = ma.fields.String()
    org_unit = ma.fields.String()
    accessible = ma.fields.Boolean()
    language = ma.fields.String(metadata={"description": "en (English) or sw (Kiswahili)"})
    trigger = ma.fields.String()
    state = ma.fields.String(metadata={"description": "queued, running, done, failed or stopped"})
    progress = ma.fields.Integer(metadata={"description": "Percent"})
    stage = ma.fields.String()
    error = ma.fields.String(allow_none=True)
    requested_by = ma.fields.String()
    requested_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)
    duration_ms = ma.fields.Integer()
    page_count = ma.fields.Integer()
    sha256 = ma.fields.String(allow_none=True, metadata={"description": "SHA-256 of the PDF"})
    file_size = ma.fields.Integer()
    data_as_of = ma.fields.String(allow_none=True)
    snapshot_sha256 = ma.fields.String(allow_none=True, metadata={"description": "SHA-256 of the figures used"})
    source_run_id = ma.fields.Integer(allow_none=True)
    published_at = ma.fields.String(allow_none=True)
    is_draft = ma.fields.Boolean()
    publish_state = ma.fields.String(allow_none=True, metadata={"description": (
        "Publishing: null (not asked), queued, running (progress and stage follow it), done, failed "
        "(publish_error says why; the draft is unchanged) or stopped (its worker went quiet); failed "
        "and stopped may be asked again")})
    publish_error = ma.fields.String(allow_none=True)
    publish_requested_by = ma.fields.String(allow_none=True)
    publish_requested_at = ma.fields.String(allow_none=True)
    pdf = ma.fields.String(metadata={"description": "Where to download the PDF"})
    position = ma.fields.Integer(allow_none=True, metadata={"description": "While queued: its place in the "
                                                            "render queue (1 renders next)"})
    waiting = ma.fields.Integer(allow_none=True, metadata={"description": "While queued: runs waiting in all"})


class RecommendationSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(max=2000))
    owner = ma.fields.String(load_default="", validate=ma.validate.Length(max=200),
                             metadata={"description": "Who is to act (an agency, a working group, a person)"})
    due = PeriodField("quarter", load_default=None, allow_none=True, metadata={"description": "Due quarter, e.g. 2025Q4"})


class CommentarySchema(ma.Schema):
    key_messages = ma.fields.List(ma.fields.String(), load_default=list,
                                  metadata={"description": "The report's key messages, in order (empty: generated)"})
    pillars = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), load_default=dict,
                             metadata={"description": "A paragraph per pillar code"})
    variance = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), load_default=dict,
                              metadata={"description": "A note per indicator code, printed next to its figure"})
    recommendations = ma.fields.List(ma.fields.Nested(RecommendationSchema), load_default=list,
                                     metadata={"description": "Become open actions when the report is published"})


class CommentaryBodySchema(CommentarySchema):
    run_id = ma.fields.Integer()
    state = ma.fields.String()
    snapshot_sha256 = ma.fields.String(allow_none=True)
    is_saved = ma.fields.Boolean(metadata={"description": "False: the key messages are the generated ones"})
    generated = ma.fields.List(ma.fields.String(), metadata={"description": "Key messages generated from the figures"})
    updated_at = ma.fields.String(allow_none=True)
    updated_by = ma.fields.String(allow_none=True)
    recommendations = ma.fields.List(ma.fields.Dict())


ACTION_STATUS_NAMES = tuple(ACTION_STATUSES)  # one vocabulary: reports/story.py
ACTION_SCOPE_NAMES = ACTION_SCOPES


class ActionSchema(ma.Schema):
    id = ma.fields.Integer()
    text = ma.fields.String()
    owner = ma.fields.String()
    due = ma.fields.String(allow_none=True)
    due_label = ma.fields.String()
    status = ma.fields.String(metadata={"description": "open, in_progress, done or dropped"})
    status_label = ma.fields.String()
    scope = ma.fields.String(metadata={"description": "sector, programme or county"})
    scope_code = ma.fields.String(metadata={"description": "KE, a programme code or a county code"})
    raised_period = ma.fields.String()
    raised_run_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.String(allow_none=True)
    updated_at = ma.fields.String(allow_none=True)
    updated_by = ma.fields.String()


class ActionCreateSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))
    owner = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    due = PeriodField("quarter", load_default=None, allow_none=True)
    status = ma.fields.String(load_default="open", validate=ma.validate.OneOf(ACTION_STATUS_NAMES))
    scope = ma.fields.String(load_default="sector", validate=ma.validate.OneOf(ACTION_SCOPE_NAMES))
    scope_code = ma.fields.String(load_default="KE")
    raised_period = PeriodField("quarter", required=True, metadata={"description": "The quarter whose report raised it"})


class ActionUpdateSchema(ma.Schema):
    text = ma.fields.String(validate=ma.validate.Length(min=1, max=2000))
    owner = ma.fields.String(validate=ma.validate.Length(max=200))
    due = PeriodField("quarter", allow_none=True)
    status = ma.fields.String(validate=ma.validate.OneOf(ACTION_STATUS_NAMES))


class ActionQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(ACTION_STATUS_NAMES))
    scope = ma.fields.String(validate=ma.validate.OneOf(ACTION_SCOPE_NAMES))
    scope_code = ma.fields.String()
    period = PeriodField("quarter", metadata={"description": "Raised by the report of this quarter"})
    overdue_at = PeriodField("quarter", metadata={"description": "Open or in progress and due by this quarter"})
