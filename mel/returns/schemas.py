"""Marshmallow schemas of the returns API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma

from indicators.explanations import EXPLANATION_CHOICES, REASON_LABELS
from mel.converters import Key


class FigureSchema(ma.Schema):
    indicator = ma.fields.String(required=True, metadata={"description": "Code; a ratio's parts are CODE.N and CODE.D"})
    option = ma.fields.String(load_default="default", metadata={"description": "Option combo code, e.g. F_A70P"})
    value = ma.fields.Raw(required=True, allow_none=True,
                          metadata={"description": "A number (or numeric string); null or \"\" clears the figure"})
    comment = ma.fields.String(load_default="")
    explanation = ma.fields.String(load_default="", metadata={"description": (
        "Why a flagged figure is right. Text that starts with a common reason followed by a colon ("
        + "; ".join(REASON_LABELS)
        + "), e.g. \"Drought scale-up: 3,200 households added in Turbo\", is counted as that reason; "
        "any other text as Other")})


class ReturnPutSchema(ma.Schema):
    version = Key(required=True, metadata={
        "description": "The version you read (0 for a return that does not exist yet); a stale version gets 409"})
    narrative = ma.fields.String(metadata={"description": "Left as it is when not sent; \"\" clears it"})
    values = ma.fields.List(ma.fields.Nested(FigureSchema), load_default=list)
    clear_missing = ma.fields.Boolean(load_default=False, metadata={
        "description": "Delete stored figures that are not in `values` (replace the whole return)"})
    dry_run = ma.fields.Boolean(load_default=False)


class StoredFigureSchema(ma.Schema):
    indicator = ma.fields.String()
    option = ma.fields.String()
    value = ma.fields.String(allow_none=True, metadata={"description": "Exact decimal as text, e.g. 14121 or 2500000.5"})
    previous = ma.fields.String(allow_none=True, metadata={"description": "Last quarter's figure"})
    comment = ma.fields.String()


class FlagSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "outlier, change, unchanged, share, copied or rule"})
    message = ma.fields.String()
    explanation = ma.fields.String()
    explanation_code = ma.fields.String(metadata={
        "description": "The reason the explanation gives, from the start of its text: "
                       + ", ".join(code for code, _ in EXPLANATION_CHOICES) + "; empty when unexplained"})


class ReturnSchema(ma.Schema):
    programme = ma.fields.String()
    org_unit = ma.fields.String()
    org_unit_name = ma.fields.String()
    period = ma.fields.String()
    period_label = ma.fields.String()
    state = ma.fields.String(metadata={"description": "draft, submitted, returned, approved or reopened"})
    version = ma.fields.Integer()
    narrative = ma.fields.String()
    is_late = ma.fields.Boolean()
    submitted_at = ma.fields.DateTime(allow_none=True)
    window = ma.fields.Dict(metadata={"description": "opens, due, closes (ISO dates)"})
    values = ma.fields.List(ma.fields.Nested(StoredFigureSchema))
    flags = ma.fields.List(ma.fields.Nested(FlagSchema))


class IngestResultSchema(ma.Schema):
    outcome = ma.fields.String(metadata={"description": "stored, unchanged, refused or checked"})
    message = ma.fields.String()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    deleted = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    refused = ma.fields.Integer()
    batch_id = ma.fields.Integer(allow_none=True)
    returns = ma.fields.List(ma.fields.Dict())
    errors = ma.fields.List(ma.fields.Dict())
    warnings = ma.fields.List(ma.fields.Dict())


class ImportQuerySchema(ma.Schema):
    programme = ma.fields.String(metadata={"description": "Programme code (needed unless you cover one programme)"})
    dry_run = ma.fields.Boolean(load_default=False)
    submit = ma.fields.Boolean(load_default=False)
    run_async = ma.fields.Boolean(data_key="async", load_default=None, allow_none=True, metadata={
        "description": "true: import in the background whatever the size (202 + Location, as DHIS2's "
                       "async=true); false: in this request whatever the size; absent: a file over "
                       "MEL_IMPORT_INLINE_BYTES or MEL_IMPORT_INLINE_ROWS lines goes to the background"})


class ImportFileSchema(ma.Schema):
    file = ma.fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)
