"""JSON API of MERL TWG meetings and their actions: the same operations as the pages, audited alike.

Nothing is deleted: a meeting is changed (its status may be `cancelled`), an action is `done` or
`dropped`. Everyone signed in reads; the secretariat and the TWG's reviewers write; an action's
owner updates its status and progress.
"""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from sqlalchemy import func, select

from indicators.messages import N_, message, text
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.api import api_blueprint
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.errors import ValidationFailed
from mel.meetings import operations, present, queries
from mel.meetings.schemas import (
    MeetingActionCreateSchema,
    MeetingActionQuerySchema,
    MeetingActionSchema,
    MeetingActionUpdateSchema,
    MeetingCreateSchema,
    MeetingQuerySchema,
    MeetingSchema,
    MeetingWriteSchema,
)

blp = api_blueprint("meetings_api", __name__, "MERL TWG meetings: agenda, attendance, decisions and actions "
                    "(owner, due date, status), linked to returns, indicators, report recommendations and evidence.")


def _meeting_body(meeting_id: int) -> dict:
    session = db.session
    meeting = operations.get_meeting(session, meeting_id)
    return present.meeting_body(session, load_catalogue(session), authenticated_user(), meeting, clock.today())


def _action_body(action_id: int) -> dict:
    session = db.session
    action = operations.get_action(session, action_id)
    return present.action_rows(session, load_catalogue(session), authenticated_user(), [action], clock.today())[0]


def _attendees(rows: list[dict]) -> list[dict]:
    return [{"user": row.get("user"), "name": row.get("name", ""), "organisation": row.get("organisation", ""),
             "present": row.get("present", True)} for row in rows]


def _meeting_input(args: dict) -> dict:
    raw = dict(args)
    if "attendees" in raw:
        raw["attendees"] = _attendees(raw["attendees"])
    return raw


@blp.route("/meetings")
class Meetings(MethodView):
    @blp.arguments(MeetingQuerySchema, location="query")
    @blp.response(200, MeetingSchema(many=True))
    def get(self, args):
        """TWG meetings, the latest first, each with its decisions and actions."""
        session = db.session
        found = queries.meetings(session, **args)
        return [_meeting_body(m.id) for m in found]

    @blp.arguments(MeetingCreateSchema)
    @blp.response(201, MeetingSchema)
    @blp.alt_response(422, description="Refused; `details` name every field at fault; nothing stored")
    def post(self, args):
        """Record a meeting (secretariat, TWG reviewers)."""
        meeting = operations.create_meeting(db.session, authenticated_user(), _meeting_input(args))
        return _meeting_body(meeting.id), 201, {"Location": url_for("meetings_api.MeetingOne", meeting_id=meeting.id)}


@blp.route("/meetings/<int:meeting_id>")
class MeetingOne(MethodView):
    @blp.response(200, MeetingSchema)
    def get(self, meeting_id: int):
        """One meeting: agenda, attendance, decisions, minutes and actions."""
        return _meeting_body(meeting_id)

    @blp.arguments(MeetingWriteSchema)
    @blp.response(200, MeetingSchema)
    @blp.alt_response(422, description="Refused; `details` name every field at fault; nothing changed")
    def patch(self, args, meeting_id: int):
        """Change the fields given (secretariat, TWG reviewers). Lists (agenda, attendees, decisions) are
        replaced whole; a decision keeps its actions when it is sent with its number."""
        session = db.session
        meeting = operations.get_meeting(session, meeting_id)
        operations.update_meeting(session, authenticated_user(), meeting, _meeting_input(args))
        return _meeting_body(meeting.id)


def _owner_id(email: str) -> int:
    found = db.session.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))
    if found is None:
        raise ValidationFailed(text(message(N_("owner: there is no account %(account)s."), account=repr(email))))
    return found


@blp.route("/meeting-actions")
class MeetingActions(MethodView):
    @blp.arguments(MeetingActionQuerySchema, location="query")
    @blp.response(200, MeetingActionSchema(many=True))
    def get(self, args):
        """Actions, open ones first (the longest overdue first), filtered by owner, status, overdue, meeting."""
        session = db.session
        found = queries.actions(session, clock.today(), owner_id=_owner_id(args["owner"]) if args.get("owner") else None,
                                status=args.get("status"), overdue=bool(args.get("overdue")),
                                meeting_id=args.get("meeting"))
        return present.action_rows(session, load_catalogue(session), authenticated_user(), found, clock.today())

    @blp.arguments(MeetingActionCreateSchema)
    @blp.response(201, MeetingActionSchema)
    @blp.alt_response(422, description="Refused; `details` name every field at fault; nothing stored")
    def post(self, args):
        """Add an action to a meeting (secretariat, TWG reviewers)."""
        session = db.session
        raw = dict(args)
        meeting = operations.get_meeting(session, raw.pop("meeting"))
        action = operations.create_action(session, load_catalogue(session), authenticated_user(), meeting, raw)
        return _action_body(action.id), 201, {"Location": url_for("meetings_api.MeetingActionOne",
                                                                  action_id=action.id)}


@blp.route("/meeting-actions/<int:action_id>")
class MeetingActionOne(MethodView):
    @blp.response(200, MeetingActionSchema)
    def get(self, action_id: int):
        """One action with its links."""
        return _action_body(action_id)

    @blp.arguments(MeetingActionUpdateSchema)
    @blp.response(200, MeetingActionSchema)
    @blp.alt_response(422, description="Refused; `details` name every field at fault; nothing changed")
    def patch(self, args, action_id: int):
        """Change an action: anything (secretariat, TWG reviewers), or its status and progress (its owner).
        Links (returns, indicators, recommendations, evidence) are replaced whole when given."""
        session = db.session
        action = operations.get_action(session, action_id)
        operations.update_action(session, load_catalogue(session), authenticated_user(), action, dict(args))
        return _action_body(action.id)
