"""Marshmallow schemas of the handbook API: a request for an edition, its run, and the editions kept."""

from __future__ import annotations

import marshmallow as ma

from mel.guidelines.models import FILE_FORMATS
from mel.guidelines.operations import NOTE_LIMIT
from mel.guidelines.queries import LANGUAGES


class EditionRequestSchema(ma.Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=NOTE_LIMIT), metadata={
        "description": "Why this edition (kept with it and printed on its cover)"})
    languages = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(LANGUAGES)),
                               load_default=lambda: list(LANGUAGES), validate=ma.validate.Length(min=1), metadata={
        "description": "The languages rendered (default both: en and sw); each gets a PDF and an HTML file"})


class EditionFileSchema(ma.Schema):
    language = ma.fields.String(validate=ma.validate.OneOf(LANGUAGES))
    format = ma.fields.String(validate=ma.validate.OneOf(FILE_FORMATS))
    size = ma.fields.Integer(metadata={"description": "Bytes"})
    pages = ma.fields.Integer(allow_none=True, metadata={"description": "Pages of a PDF"})
    sha256 = ma.fields.String()
    url = ma.fields.String(metadata={"description": "Where to download it (unchanged since the edition was made)"})


class EditionSchema(ma.Schema):
    number = ma.fields.Integer()
    catalogue_version = ma.fields.String(metadata={"description": "The digest of the catalogue it was made from"})
    created_at = ma.fields.String()
    created_by = ma.fields.String()
    note = ma.fields.String()
    summary = ma.fields.String(metadata={"description": "What changed since the previous edition, in short"})
    changes = ma.fields.Dict(metadata={"description": (
        "What changed since the previous edition: previous {number, catalogue_version} (null for the first), "
        "indicators {added, retired, reactivated, removed, redefined [{code, from, to, fields}]}, forms {added, "
        "removed, changed [{code, fields, added, removed}]}, rules {added, removed, changed [{code, fields, "
        "retired}]}, texts [{key, label}]")})
    lines = ma.fields.List(ma.fields.String(), metadata={"description": "The changes in sentences, as the "
                                                                       "handbook prints them"})
    files = ma.fields.List(ma.fields.Nested(EditionFileSchema))


class EditionMadeSchema(EditionSchema):
    run_id = ma.fields.Integer(metadata={"description": "The run that made it (GET /handbook/runs/{run_id})"})


class HandbookRunSchema(ma.Schema):
    id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": (
        "queued, running (stage and progress follow it), done (edition and edition_url say what it made), "
        "failed (error says why) or stopped (no sign of it for 15 minutes: another edition may be asked for)")})
    stage = ma.fields.String(metadata={"description": "What it is doing, in English"})
    progress = ma.fields.Integer(metadata={"description": "Percent"})
    note = ma.fields.String()
    languages = ma.fields.List(ma.fields.String(), metadata={"description": "The languages asked for"})
    number = ma.fields.Integer(metadata={"description": "The number the edition will have (has, once done)"})
    catalogue_version = ma.fields.String(metadata={"description": "The catalogue version it is made from"})
    created_by = ma.fields.String()
    created_at = ma.fields.String()
    started_at = ma.fields.String(allow_none=True)
    finished_at = ma.fields.String(allow_none=True)
    error = ma.fields.String(allow_none=True, metadata={"description": "Why it failed or stopped, and what to do"})
    edition = ma.fields.Integer(allow_none=True, metadata={"description": "The edition's number, once done"})
    edition_url = ma.fields.String(allow_none=True, metadata={"description": "GET it once done"})
    url = ma.fields.String(metadata={"description": "This run (GET it until state is done, failed or stopped)"})
