"""Marshmallow schemas of the evidence register and learning agenda API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma

from mel.converters import Key
from mel.learning.models import EVIDENCE_KINDS, QUESTION_STATUSES

KINDS = "evaluation, study, policy_brief, twg_record or other"
CODES = {"description": "Codes; the item is linked to exactly these (an empty list removes every link)"}


class EvidenceFileSchema(ma.Schema):
    name = ma.fields.String(metadata={"description": "The file name offered on download"})
    size = ma.fields.Integer(metadata={"description": "Bytes"})
    pages = ma.fields.Integer(allow_none=True)
    sha256 = ma.fields.String()
    url = ma.fields.String(metadata={"description": "Where to download it (GET, application/pdf)"})


class EvidenceItemSchema(ma.Schema):
    id = ma.fields.Integer()
    uid = ma.fields.String()
    kind = ma.fields.String(metadata={"description": KINDS})
    kind_label = ma.fields.String()
    title = ma.fields.String()
    authors = ma.fields.String()
    agency = ma.fields.String()
    published_on = ma.fields.String(allow_none=True, metadata={"description": "ISO date, e.g. 2024-06-30"})
    year = ma.fields.Integer(allow_none=True)
    link = ma.fields.String(metadata={"description": "An http or https address, or empty"})
    file = ma.fields.Nested(EvidenceFileSchema, allow_none=True)
    key_findings = ma.fields.String()
    key_findings_sw = ma.fields.String(metadata={"description": "The key findings in Kiswahili (empty: not "
                                                                "translated; Kiswahili pages and reports show "
                                                                "the English, marked)"})
    indicators = ma.fields.List(ma.fields.String(), metadata={"description": "Indicator codes"})
    nodes = ma.fields.List(ma.fields.String(), metadata={"description": "Results-framework node codes"})
    questions = ma.fields.List(ma.fields.String(), metadata={"description": "Learning question codes"})
    meeting_id = ma.fields.Integer(allow_none=True, metadata={"description": "The TWG meeting it records or came "
                                                                             "from (/api/v1/meetings/<id>), or null"})
    withdrawn = ma.fields.Boolean()
    withdrawn_at = ma.fields.String(allow_none=True)
    withdrawn_reason = ma.fields.String()
    created_at = ma.fields.String(allow_none=True)
    created_by = ma.fields.String()
    updated_at = ma.fields.String(allow_none=True)
    updated_by = ma.fields.String()
    page = ma.fields.String(metadata={"description": "The item's web page"})


class _EvidenceFields(ma.Schema):
    authors = ma.fields.String(metadata={"description": "People who wrote it"})
    agency = ma.fields.String(metadata={"description": "The agency or organisation that published or commissioned it"})
    published_on = ma.fields.String(allow_none=True, metadata={"description": "ISO date, e.g. 2024-06-30 (empty: "
                                                                              "unknown)"})
    link = ma.fields.String(metadata={"description": "An http or https address, or empty"})
    key_findings = ma.fields.String()
    key_findings_sw = ma.fields.String(allow_none=True)
    indicators = ma.fields.List(ma.fields.String(), metadata=CODES)
    nodes = ma.fields.List(ma.fields.String(), metadata=CODES)
    questions = ma.fields.List(ma.fields.String(), metadata=CODES)
    meeting_id = Key(strict=True, allow_none=True, metadata={
        "description": "The id of the TWG meeting it records or came from (/api/v1/meetings); null: none. An id "
                       "that is no meeting's is refused (422)"})


class EvidenceCreateSchema(_EvidenceFields):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(EVIDENCE_KINDS),
                            metadata={"description": KINDS})
    title = ma.fields.String(required=True)


class EvidenceUpdateSchema(_EvidenceFields):
    kind = ma.fields.String(validate=ma.validate.OneOf(EVIDENCE_KINDS), metadata={"description": KINDS})
    title = ma.fields.String()


class WithdrawSchema(ma.Schema):
    reason = ma.fields.String(required=True, metadata={"description": "Why it is withdrawn (kept with it)"})


class EvidenceQuerySchema(ma.Schema):
    q = ma.fields.String(metadata={"description": "Words to find in the title, authors, agency or findings "
                                                  "(every word must appear)"})
    kind = ma.fields.String(validate=ma.validate.OneOf(EVIDENCE_KINDS), metadata={"description": KINDS})
    indicator = ma.fields.String(metadata={"description": "Linked to this indicator (code)"})
    node = ma.fields.String(metadata={"description": "Linked to this results-framework node (code)"})
    question = ma.fields.String(metadata={"description": "Speaks to this learning question (code)"})
    year = ma.fields.Integer(validate=ma.validate.Range(1900, 2100), metadata={"description": "Published this year"})
    withdrawn = ma.fields.Boolean(load_default=False, metadata={"description": "Include withdrawn items"})
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=100, validate=ma.validate.Range(1, 500))


class EvidenceFileUploadSchema(ma.Schema):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                                  "description": "A PDF (MEL_EVIDENCE_MAX_BYTES, 20 MB by default)"})


class QuestionSchema(ma.Schema):
    id = ma.fields.Integer()
    uid = ma.fields.String()
    code = ma.fields.String()
    question = ma.fields.String()
    question_sw = ma.fields.String()
    why = ma.fields.String()
    status = ma.fields.String(metadata={"description": "open, answered or retired"})
    answer = ma.fields.String(metadata={"description": "What the evidence says so far"})
    nodes = ma.fields.List(ma.fields.String(), metadata={"description": "Results-framework node codes"})
    evidence = ma.fields.List(ma.fields.Integer(), metadata={"description": "Ids of the evidence items (not "
                                                                            "withdrawn) that speak to it"})
    created_at = ma.fields.String(allow_none=True)
    updated_at = ma.fields.String(allow_none=True)
    page = ma.fields.String()


class _QuestionFields(ma.Schema):
    code = ma.fields.String(metadata={"description": "e.g. LQ07 (empty: the next LQnn)"})
    question_sw = ma.fields.String(allow_none=True)
    why = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(QUESTION_STATUSES))
    answer = ma.fields.String()
    nodes = ma.fields.List(ma.fields.String(), metadata=CODES)


class QuestionCreateSchema(_QuestionFields):
    question = ma.fields.String(required=True)


class QuestionUpdateSchema(_QuestionFields):
    question = ma.fields.String()


class QuestionQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(QUESTION_STATUSES))
