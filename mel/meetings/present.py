"""Meetings and actions as plain values for the pages and the API: links resolved, read rights applied.

An action's linked returns and report recommendations are named to every reader, but a return is
linked to (and a recommendation's words shown) only where the reader may read it (mel/scopes.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.learning import queries as evidence_queries
from mel.meetings import links
from mel.meetings.models import Meeting, MeetingAction
from mel.meetings.words import ACTION_STATUS_LABELS, MEETING_STATUS_LABELS
from mel.reporting import actions as report_actions
from mel.scopes import can_access, sees_approved_returns_only


def _reads_return(user: User, record) -> bool:
    if not can_access(user, record.programme_id, record.org_unit):
        return False
    return not sees_approved_returns_only(user) or record.state == "approved"


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def emails(session: Session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.email)).all())


def action_rows(session: Session, catalogue: Catalogue, user: User, found: list[MeetingAction], today: date,
                emails_by_id: dict[int, str] | None = None) -> list[dict]:
    """Each action as a dict (its meeting and owner loaded), with its links."""
    linked = links.read(session, [a.id for a in found])
    emails_by_id = emails_by_id if emails_by_id is not None else emails(session)
    return [action_row(catalogue, user, a, linked[a.id], today, emails_by_id) for a in found]


def action_row(catalogue: Catalogue, user: User, action: MeetingAction, found: links.Links, today: date,
               emails_by_id: dict[int, str]) -> dict:
    overdue = action.is_overdue(today)
    meeting = action.meeting
    return {
        "id": action.id, "uid": action.uid, "meeting_id": action.meeting_id, "meeting_title": meeting.title,
        "meeting_held_on": meeting.held_on, "text": action.text, "owner_id": action.owner_id,
        "owner": action.owner.email, "owner_name": action.owner.display_name, "due_on": action.due_on,
        "status": action.status, "status_label": ACTION_STATUS_LABELS[action.status], "progress": action.progress,
        "done_on": action.done_on, "is_open": action.is_open, "overdue": overdue,
        "days_overdue": (today - action.due_on).days if overdue else 0,
        "decision": action.decision.number if action.decision_id and action.decision else None,
        "returns": [{"id": r.id, "programme": r.programme.code, "org_unit": r.org_unit.code,
                     "org_unit_name": r.org_unit.name, "period": r.period, "readable": _reads_return(user, r)}
                    for r in found.returns],
        "indicators": [{"code": i.code, "name": i.name} for i in found.indicators],
        "recommendations": [_recommendation(catalogue, user, r) for r in found.recommendations],
        "evidence": [{"id": e.id, "title": e.title, "withdrawn": e.withdrawn_at is not None} for e in found.evidence],
        "last_reminded_on": action.last_reminded_on, "created_at": _aware(action.created_at),
        "updated_at": _aware(action.updated_at), "updated_by": emails_by_id.get(action.updated_by_id or 0, "system"),
    }


def _recommendation(catalogue: Catalogue, user: User, recommendation) -> dict:
    """A linked report recommendation: its words only where the reader's scope covers it."""
    readable = report_actions.readable(user, catalogue, recommendation)
    return {"id": recommendation.id, "readable": readable, "text": recommendation.text if readable else "",
            "status": recommendation.status, "raised_period": recommendation.raised_period}


def meeting_body(session: Session, catalogue: Catalogue, user: User, meeting: Meeting, today: date) -> dict:
    """A meeting loaded by queries.load_meeting, with its actions as rows."""
    emails_by_id = emails(session)
    return {
        "id": meeting.id, "uid": meeting.uid, "title": meeting.title, "held_on": meeting.held_on,
        "venue": meeting.venue, "status": meeting.status, "status_label": MEETING_STATUS_LABELS[meeting.status],
        "period": meeting.period, "agenda": list(meeting.agenda or []), "minutes": meeting.minutes,
        "attendees": [{"user": a.user.email if a.user else None, "user_id": a.user_id,
                       "name": a.user.display_name if a.user else a.name, "organisation": a.organisation
                       or (a.user.agency if a.user else ""), "typed_organisation": a.organisation,
                       "present": a.present} for a in meeting.attendees],
        "decisions": [{"number": d.number, "text": d.text} for d in meeting.decisions],
        "actions": action_rows(session, catalogue, user, list(meeting.actions), today, emails_by_id),
        "evidence": [{"id": e.id, "title": e.title, "kind": e.kind}
                     for e in evidence_queries.for_meeting(session, meeting.id)],
        "created_at": _aware(meeting.created_at), "updated_at": _aware(meeting.updated_at),
        "updated_by": emails_by_id.get(meeting.updated_by_id or 0, "system"),
    }
