"""Recording TWG meetings and their actions: check what was typed (mel/meetings/values.py), store it,
audit it.

The web pages, the API and the demo call these. Each takes plain values (texts, dates or ISO
dates, lists), refuses bad input with a ValidationFailed whose details name every field at fault
(nothing is stored then), flushes and never commits. Nothing is deleted: a meeting is changed,
an action is done or dropped. Who may do what is mel/scopes.py `can_record_meetings`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.messages import N_, message, text
from mel.accounts import audit
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.errors import Forbidden, NotFound
from mel.meetings import links
from mel.meetings.models import Attendee, Decision, Meeting, MeetingAction
from mel.meetings.queries import load_action, load_meeting
from mel.meetings.values import Problems, action_values, meeting_values
from mel.scopes import can_record_meetings

OWNER_FIELDS = frozenset({"status", "progress"})  # what an action's owner may change
RECORDERS_ONLY = N_("Only the secretariat and the MERL TWG's reviewers record meetings and their actions.")
OWNER_ONLY_STATUS = N_("As the action's owner you may update its status and progress; its text, owner, due date "
                       "and links are changed by the secretariat or the TWG's reviewers.")
NOT_YOURS = N_("Only the action's owner, the secretariat and the TWG's reviewers update an action.")


# --------------------------------------------------------------------------- meetings


def _meeting_snapshot(meeting: Meeting, names: dict[int, str]) -> dict:
    """What the audit keeps of a meeting, to show what a change altered."""
    return {
        "title": meeting.title, "held_on": meeting.held_on.isoformat() if meeting.held_on else None,
        "venue": meeting.venue, "status": meeting.status, "period": meeting.period, "agenda": list(meeting.agenda or []),
        "minutes": f"{len(meeting.minutes or ''):,} characters",
        "attendees": [f"{names.get(a.user_id or 0) or a.name}{' (' + a.organisation + ')' if a.organisation else ''}"
                      f"{'' if a.present else ' – apologies'}" for a in meeting.attendees],
        "decisions": [f"{d.number}. {d.text[:200]}" for d in sorted(meeting.decisions, key=lambda d: d.number)],
    }


def _emails(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(wanted))).all())


def _apply_decisions(session: Session, meeting: Meeting, wanted: list[dict]) -> None:
    current = {d.number: d for d in meeting.decisions}
    problems = Problems()
    for row in wanted:
        if row["number"] is not None and row["number"] not in current:
            problems.add("decisions", message(N_("the meeting has no decision %(number)s to change; leave the number "
                                                 "out for a new decision."), number=row["number"]))
    kept = {row["number"] for row in wanted if row["number"] is not None}
    dropped = [d for number, d in current.items() if number not in kept]
    if dropped and meeting.id:
        used = session.execute(select(Decision.number, MeetingAction.id).join(MeetingAction,
                                                                             MeetingAction.decision_id == Decision.id)
                               .where(Decision.id.in_([d.id for d in dropped]))).all()
        for number, action_id in used:
            problems.add("decisions", message(N_("decision %(number)s cannot be removed: action %(action)s follows it "
                                                 "up. Keep it, or link the action to another decision first."),
                                              number=number, action=action_id))
    problems.check()
    for decision in dropped:
        meeting.decisions.remove(decision)
    # Numbered again in the order given; moved out of the way first (a meeting's numbers are unique).
    for decision in current.values():
        if decision not in dropped:
            decision.number = -decision.number
    session.flush()
    for position, row in enumerate(wanted, 1):
        if row["number"] is None:
            meeting.decisions.append(Decision(number=position, text=row["text"]))
        else:
            decision = current[row["number"]]
            decision.number, decision.text = position, row["text"]
    meeting.decisions.sort(key=lambda d: d.number)


def _apply_meeting(session: Session, meeting: Meeting, values: dict) -> None:
    for name in ("title", "held_on", "venue", "status", "period", "agenda", "minutes"):
        if name in values:
            setattr(meeting, name, values[name])
    if "attendees" in values:
        meeting.attendees[:] = [Attendee(**row) for row in values["attendees"]]
    if "decisions" in values:
        _apply_decisions(session, meeting, values["decisions"])


def create_meeting(session: Session, user: User, raw: dict) -> Meeting:
    """Record a meeting (secretariat, TWG reviewers), flushed and audited."""
    if not can_record_meetings(user):
        raise Forbidden(text(message(RECORDERS_ONLY)))
    values = meeting_values(session, raw)
    meeting = Meeting(title=values["title"], held_on=values["held_on"], created_by_id=user.id,
                      updated_by_id=user.id, agenda=[], minutes="", venue="", status="planned")
    meeting.attendees, meeting.decisions, meeting.actions = [], [], []
    _apply_meeting(session, meeting, values)
    session.add(meeting)
    session.flush()
    audit.record(session, "meeting.created", actor=user, object=f"meeting {meeting.id}",
                 details={"after": _meeting_snapshot(meeting, _emails(session, (a.user_id for a in meeting.attendees)))})
    return meeting


def update_meeting(session: Session, user: User, meeting: Meeting, raw: dict) -> Meeting:
    """Change a meeting's record: the fields given (secretariat, TWG reviewers), flushed and audited.
    `meeting` is loaded with its attendees and decisions (queries.load_meeting)."""
    if not can_record_meetings(user):
        raise Forbidden(text(message(RECORDERS_ONLY)))
    values = meeting_values(session, raw, partial=True)
    names = _emails(session, [a.user_id for a in meeting.attendees]
                    + [row["user_id"] for row in values.get("attendees", [])])
    before = _meeting_snapshot(meeting, names)
    _apply_meeting(session, meeting, values)
    audit.record_changes(session, "meeting.updated", meeting, actor=user, object=f"meeting {meeting.id}",
                         before=before, after=_meeting_snapshot(meeting, names))
    return meeting


# --------------------------------------------------------------------------- actions


def _action_snapshot(session: Session, action: MeetingAction) -> dict:
    found = links.read(session, [action.id])[action.id]
    owner = session.get(User, action.owner_id)
    decision = session.get(Decision, action.decision_id) if action.decision_id else None
    return {
        "text": action.text, "owner": owner.email if owner else None, "due_on": action.due_on.isoformat(),
        "status": action.status, "progress": action.progress, "decision": decision.number if decision else None,
        "returns": [f"{r.programme.code}/{r.org_unit.code}/{r.period}" for r in found.returns],
        "indicators": [i.code for i in found.indicators],
        "recommendations": [r.id for r in found.recommendations], "evidence": [e.id for e in found.evidence],
    }


def _apply_action(session: Session, action: MeetingAction, values: dict, today: date) -> None:
    for name in ("text", "owner_id", "due_on", "progress", "decision_id"):
        if name in values:
            setattr(action, name, values[name])
    if "status" in values and values["status"] != action.status:
        action.status = values["status"]
        action.done_on = today if action.status == "done" else None
    session.flush()
    for kind in links.TABLES:
        if kind in values:
            links.replace(session, action.id, kind, values[kind])


def create_action(session: Session, catalogue: Catalogue, user: User, meeting: Meeting, raw: dict, *,
                  today: date | None = None) -> MeetingAction:
    """Add an action to a meeting (secretariat, TWG reviewers), flushed and audited."""
    from mel import clock

    if not can_record_meetings(user):
        raise Forbidden(text(message(RECORDERS_ONLY)))
    values = action_values(session, catalogue, raw, meeting_id=meeting.id)
    action = MeetingAction(meeting_id=meeting.id, text=values["text"], owner_id=values["owner_id"],
                           due_on=values["due_on"], status="open", progress="", created_by_id=user.id,
                           updated_by_id=user.id)
    session.add(action)
    session.flush()
    _apply_action(session, action, values, today or clock.today())
    audit.record(session, "meeting_action.created", actor=user, object=f"meeting_action {action.id}",
                 details={"meeting": meeting.id, "after": _action_snapshot(session, action)})
    return action


def update_action(session: Session, catalogue: Catalogue, user: User, action: MeetingAction, raw: dict, *,
                  today: date | None = None) -> MeetingAction:
    """Change an action: anything (secretariat, TWG reviewers) or its status and progress (its owner);
    flushed and audited with what changed."""
    from mel import clock

    if not can_record_meetings(user, action):
        raise Forbidden(text(message(NOT_YOURS)))
    if not can_record_meetings(user) and set(raw) - OWNER_FIELDS:
        raise Forbidden(text(message(OWNER_ONLY_STATUS)))
    values = action_values(session, catalogue, raw, meeting_id=action.meeting_id, partial=True)
    before = _action_snapshot(session, action)
    _apply_action(session, action, values, today or clock.today())
    audit.record_changes(session, "meeting_action.updated", action, actor=user, object=f"meeting_action {action.id}",
                         before=before, after=_action_snapshot(session, action), details={"meeting": action.meeting_id})
    return action


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = load_meeting(session, meeting_id)
    if meeting is None:
        raise NotFound(text(message(N_("No TWG meeting %(id)s."), id=meeting_id)))
    return meeting


def get_action(session: Session, action_id: int) -> MeetingAction:
    action = load_action(session, action_id)
    if action is None:
        raise NotFound(text(message(N_("No TWG action %(id)s."), id=action_id)))
    return action
