"""Marshmallow schemas of the TWG meetings API: requests and answers as plain values."""

from __future__ import annotations

import marshmallow as ma

from mel.converters import Key, PeriodField
from mel.learning.models import EVIDENCE_KINDS
from mel.meetings import values as limits
from mel.meetings.models import ACTION_STATUSES, MEETING_STATUSES

Length = ma.validate.Length


class AttendeeSchema(ma.Schema):
    user = ma.fields.String(allow_none=True, validate=Length(max=254),
                            metadata={"description": "An account's e-mail; or leave it out and give a name"})
    name = ma.fields.String(validate=Length(max=limits.NAME_LIMIT),
                            metadata={"description": "A person without an account"})
    organisation = ma.fields.String(validate=Length(max=limits.NAME_LIMIT))
    present = ma.fields.Boolean(load_default=True, metadata={"description": "false: sent apologies"})


class AttendeeOutSchema(AttendeeSchema):
    name = ma.fields.String(metadata={"description": "The account's name, or the name given"})


class DecisionSchema(ma.Schema):
    number = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=limits.DECISIONS), metadata={
        "description": "The decision's number now, to change it (its actions stay with it); leave it out for a new "
                       "one. Decisions are numbered again in the order given; one left out is removed (refused "
                       "while an action follows it up)"})
    text = ma.fields.String(required=True, validate=Length(max=limits.DECISION_LIMIT))


class MeetingWriteSchema(ma.Schema):
    title = ma.fields.String(validate=Length(max=limits.TITLE_LIMIT))
    held_on = ma.fields.Date(metadata={"description": "The meeting's date, 2025-08-19"})
    venue = ma.fields.String(validate=Length(max=limits.VENUE_LIMIT))
    status = ma.fields.String(validate=ma.validate.OneOf(MEETING_STATUSES))
    period = PeriodField("quarter", allow_none=True, metadata={"description": "The quarter it reviewed, 2025Q2"})
    agenda = ma.fields.List(ma.fields.String(validate=Length(max=limits.AGENDA_ITEM_LIMIT)),
                            validate=Length(max=limits.AGENDA_ITEMS), metadata={"description": "Items, in order"})
    attendees = ma.fields.List(ma.fields.Nested(AttendeeSchema), validate=Length(max=limits.ATTENDEES))
    decisions = ma.fields.List(ma.fields.Nested(DecisionSchema), validate=Length(max=limits.DECISIONS))
    minutes = ma.fields.String(validate=Length(max=limits.MINUTES_LIMIT))


class MeetingCreateSchema(MeetingWriteSchema):
    title = ma.fields.String(required=True, validate=Length(min=1, max=limits.TITLE_LIMIT))
    held_on = ma.fields.Date(required=True, metadata={"description": "The meeting's date, 2025-08-19"})


class ReturnLinkSchema(ma.Schema):
    programme = ma.fields.String(required=True, validate=Length(max=20))
    org_unit = ma.fields.String(required=True, validate=Length(max=60),
                                metadata={"description": "County code or name, or KE"})
    period = PeriodField("quarter", required=True)


class ReturnLinkOutSchema(ReturnLinkSchema):
    id = ma.fields.Integer()
    org_unit_name = ma.fields.String()


class MeetingActionWriteSchema(ma.Schema):
    text = ma.fields.String(validate=Length(max=limits.TEXT_LIMIT))
    owner = ma.fields.String(validate=Length(max=254), metadata={"description": "The owner's e-mail (an active account)"})
    due_on = ma.fields.Date()
    status = ma.fields.String(validate=ma.validate.OneOf(ACTION_STATUSES))
    progress = ma.fields.String(validate=Length(max=limits.PROGRESS_LIMIT),
                                metadata={"description": "The owner's latest note on where it stands"})
    decision = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=limits.DECISIONS),
                                 metadata={"description": "The number of the meeting's decision it follows up"})
    returns = ma.fields.List(ma.fields.Nested(ReturnLinkSchema), validate=Length(max=limits.LINKS))
    indicators = ma.fields.List(ma.fields.String(validate=Length(max=20)), validate=Length(max=limits.LINKS),
                                metadata={"description": "Indicator codes"})
    recommendations = ma.fields.List(Key(), validate=Length(max=limits.LINKS),
                                     metadata={"description": "Ids of report recommendations (/api/v1/actions)"})
    evidence = ma.fields.List(Key(), validate=Length(max=limits.LINKS), metadata={"description": "Evidence item ids"})


class MeetingActionCreateSchema(MeetingActionWriteSchema):
    meeting = Key(required=True, metadata={"description": "The meeting that agreed it"})
    text = ma.fields.String(required=True, validate=Length(min=1, max=limits.TEXT_LIMIT))
    owner = ma.fields.String(required=True, validate=Length(max=254),
                             metadata={"description": "The owner's e-mail (an active account)"})
    due_on = ma.fields.Date(required=True)


class MeetingActionUpdateSchema(MeetingActionWriteSchema):
    """The owner may send status and progress only; the secretariat and the TWG's reviewers anything."""


class RecommendationLinkSchema(ma.Schema):
    id = ma.fields.Integer()
    text = ma.fields.String(metadata={"description": "Empty when the recommendation's scope is not the reader's"})
    status = ma.fields.String()
    raised_period = ma.fields.String()


class EvidenceLinkSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    withdrawn = ma.fields.Boolean()


class MeetingActionSchema(ma.Schema):
    id = ma.fields.Integer()
    uid = ma.fields.String()
    meeting = ma.fields.Integer(attribute="meeting_id")
    meeting_title = ma.fields.String()
    text = ma.fields.String()
    owner = ma.fields.String(metadata={"description": "The owner's e-mail"})
    owner_name = ma.fields.String()
    due_on = ma.fields.Date()
    status = ma.fields.String(metadata={"description": ", ".join(ACTION_STATUSES)})
    progress = ma.fields.String()
    done_on = ma.fields.Date(allow_none=True)
    overdue = ma.fields.Boolean(metadata={"description": "Open or in progress and past its due date"})
    days_overdue = ma.fields.Integer()
    decision = ma.fields.Integer(allow_none=True)
    returns = ma.fields.List(ma.fields.Nested(ReturnLinkOutSchema))
    indicators = ma.fields.Method("_indicator_codes", metadata={"description": "Indicator codes"})
    recommendations = ma.fields.List(ma.fields.Nested(RecommendationLinkSchema))
    evidence = ma.fields.List(ma.fields.Nested(EvidenceLinkSchema))
    last_reminded_on = ma.fields.Date(allow_none=True, metadata={"description": "The scheduler's last e-mail"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    updated_by = ma.fields.String()

    def _indicator_codes(self, row: dict) -> list[str]:
        return [i["code"] for i in row["indicators"]]


class MeetingEvidenceSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "/api/v1/evidence/<id>"})
    title = ma.fields.String()
    kind = ma.fields.String(metadata={"description": ", ".join(EVIDENCE_KINDS)})


class MeetingSchema(ma.Schema):
    id = ma.fields.Integer()
    uid = ma.fields.String()
    title = ma.fields.String()
    held_on = ma.fields.Date()
    venue = ma.fields.String()
    status = ma.fields.String(metadata={"description": ", ".join(MEETING_STATUSES)})
    period = ma.fields.String(allow_none=True)
    agenda = ma.fields.List(ma.fields.String())
    attendees = ma.fields.List(ma.fields.Nested(AttendeeOutSchema))
    decisions = ma.fields.List(ma.fields.Nested(DecisionSchema))
    minutes = ma.fields.String()
    actions = ma.fields.List(ma.fields.Nested(MeetingActionSchema))
    evidence = ma.fields.List(ma.fields.Nested(MeetingEvidenceSchema), metadata={
        "description": "The evidence items (not withdrawn) that record the meeting or came from it (their "
                       "`meeting_id`), newest first"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    updated_by = ma.fields.String()


class MeetingQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(MEETING_STATUSES))
    since = ma.fields.Date(metadata={"description": "Held on or after"})
    until = ma.fields.Date(metadata={"description": "Held on or before"})


class MeetingActionQuerySchema(ma.Schema):
    owner = ma.fields.String(validate=Length(max=254), metadata={"description": "The owner's e-mail"})
    status = ma.fields.String(validate=ma.validate.OneOf(ACTION_STATUSES))
    overdue = ma.fields.Boolean(metadata={"description": "true: open or in progress and past the due date"})
    meeting = Key(metadata={"description": "The meeting's id"})
