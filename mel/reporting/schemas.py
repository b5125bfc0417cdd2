"""Marshmallow schemas of the reporting API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma

from mel.converters import PeriodField
from mel.reporting.models import REPORT_KINDS


class ReportRequestSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(REPORT_KINDS))
    period = PeriodField("quarter", required=True, metadata={"description": "The quarter, e.g. 2025Q3"})
    programme = ma.fields.String(load_default=None, metadata={"description": "Programme code (programme report)"})
    org_unit = ma.fields.String(load_default=None, metadata={"description": "County code or name (county profile)"})
    accessible = ma.fields.Boolean(load_default=False, metadata={"description": "Tagged PDF/UA-1"})


class ReportRunSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    period = ma.fields.String()
    programme = ma.fields.String()
    org_unit = ma.fields.String()
    accessible = ma.fields.Boolean()
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
    pdf = ma.fields.String(metadata={"description": "Where to download the PDF"})
    position = ma.fields.Integer(allow_none=True, metadata={"description": "While queued: its place in the "
                                                            "render queue (1 renders next)"})
    waiting = ma.fields.Integer(allow_none=True, metadata={"description": "While queued: runs waiting in all"})
