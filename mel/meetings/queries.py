"""Reading TWG meetings and actions: what each page and API answer loads, in one place."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from mel.accounts.models import AuditEvent, User
from mel.meetings.models import Attendee, Meeting, MeetingAction

OPEN = ("open", "in_progress")
LATEST_FIRST = (Meeting.held_on.desc(), Meeting.id.desc())


def load_meeting(session: Session, meeting_id: int) -> Meeting | None:
    """A meeting with its attendees (and their accounts), decisions and actions (and their owners)."""
    return session.scalar(select(Meeting).where(Meeting.id == meeting_id).options(
        selectinload(Meeting.attendees).selectinload(Attendee.user), selectinload(Meeting.decisions),
        selectinload(Meeting.actions).options(selectinload(MeetingAction.owner), selectinload(MeetingAction.decision),
                                              selectinload(MeetingAction.meeting))))


def load_action(session: Session, action_id: int) -> MeetingAction | None:
    """An action with its meeting, decision and owner."""
    return session.scalar(select(MeetingAction).where(MeetingAction.id == action_id).options(
        selectinload(MeetingAction.meeting), selectinload(MeetingAction.decision),
        selectinload(MeetingAction.owner)))


def meetings(session: Session, *, status: str | None = None, since: date | None = None,
             until: date | None = None) -> list[Meeting]:
    """Meetings, the latest first, with their decisions (numbers) loaded."""
    query = select(Meeting).options(selectinload(Meeting.decisions)).order_by(*LATEST_FIRST)
    if status:
        query = query.where(Meeting.status == status)
    if since:
        query = query.where(Meeting.held_on >= since)
    if until:
        query = query.where(Meeting.held_on <= until)
    return list(session.scalars(query))


def choices(session: Session) -> list:
    """Every meeting as a form offers it (id, date, title), the latest first."""
    return list(session.execute(select(Meeting.id, Meeting.held_on, Meeting.title).order_by(*LATEST_FIRST)))


def action_counts(session: Session, today: date) -> dict[int, dict[str, int]]:
    """Per meeting: its actions, the open ones (open or in progress) and the overdue ones."""
    is_open = MeetingAction.status.in_(OPEN)
    rows = session.execute(select(
        MeetingAction.meeting_id, func.count(),
        func.sum(case((is_open, 1), else_=0)),
        func.sum(case((is_open & (MeetingAction.due_on < today), 1), else_=0)),
    ).group_by(MeetingAction.meeting_id)).all()
    return {meeting_id: {"all": total, "open": int(opened or 0), "overdue": int(late or 0)}
            for meeting_id, total, opened, late in rows}


def actions(session: Session, today: date, *, owner_id: int | None = None, status: str | None = None,
            overdue: bool = False, meeting_id: int | None = None) -> list[MeetingAction]:
    """Actions with their meeting and owner: open ones first, the longest overdue first, then by due date."""
    query = select(MeetingAction).options(selectinload(MeetingAction.meeting), selectinload(MeetingAction.owner),
                                          selectinload(MeetingAction.decision))
    if owner_id is not None:
        query = query.where(MeetingAction.owner_id == owner_id)
    if status:
        query = query.where(MeetingAction.status == status)
    if overdue:
        query = query.where(MeetingAction.status.in_(OPEN), MeetingAction.due_on < today)
    if meeting_id is not None:
        query = query.where(MeetingAction.meeting_id == meeting_id)
    found = session.scalars(query.order_by(MeetingAction.due_on, MeetingAction.id))
    return sorted(found, key=lambda a: (not a.is_open, a.due_on, a.id))


def open_actions_of(session: Session, user_id: int) -> list[MeetingAction]:
    """A person's open actions (open or in progress), overdue first: the earliest due first."""
    return list(session.scalars(
        select(MeetingAction).where(MeetingAction.owner_id == user_id, MeetingAction.status.in_(OPEN))
        .options(selectinload(MeetingAction.meeting)).order_by(MeetingAction.due_on, MeetingAction.id)))


def owners(session: Session) -> list[User]:
    """Accounts that own at least one action (the action list's filter)."""
    return list(session.scalars(select(User).where(User.id.in_(select(MeetingAction.owner_id).distinct()))
                                .order_by(User.name, User.email)))


def accounts(session: Session) -> list[User]:
    """Active accounts, by name: who may attend or own an action."""
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name, User.email)))


def history(session: Session, obj: str) -> list[AuditEvent]:
    """The audit events of one meeting or action ("meeting 3", "meeting_action 7"), oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.object == obj)
                                .order_by(AuditEvent.occurred_at, AuditEvent.id)))
