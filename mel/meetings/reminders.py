"""The scheduler's reminder of overdue TWG actions (mel/scheduler/jobs.py `remind_overdue_actions`).

Each morning every owner of an open action (open or in progress) past its due date gets one notice,
e-mailed in their language, listing all their overdue actions with links. At most one a day: the
notice's dedupe key holds the owner and the day, and each action remembers the day it was last
reminded (`last_reminded_on`), so running the job again the same day sends nothing. Done, dropped
and not-yet-due actions are never reminded; accounts that are not active are not written to.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from flask_babel import gettext, ngettext
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from mel import clock
from mel.accounts import audit
from mel.accounts.models import User
from mel.i18n import day
from mel.meetings.models import MeetingAction
from mel.meetings.queries import OPEN
from mel.review.models import Notification
from mel.review.notify import _store

SHORT = 140  # characters of an action's text in the e-mail


def _dedupe(owner_id: int, today: date) -> str:
    return f"twg-overdue:{owner_id}:{today.isoformat()}"


def _short(words: str) -> str:
    words = " ".join(words.split())
    return words if len(words) <= SHORT else words[: SHORT - 1].rstrip() + "…"


def _subject(count: int):
    def words() -> str:
        if count == 1:
            return gettext("A MERL TWG action of yours is overdue")
        return gettext("%(count)s MERL TWG actions of yours are overdue", count=count)
    return words


def _body(actions: list[MeetingAction], today: date, base: str):
    def words() -> str:
        lines = [gettext("These actions agreed at MERL TWG meetings are past their due date. Update their status "
                         "and progress in the MEL service, or tell the secretariat if they no longer apply:")]
        for action in actions:
            late = (today - action.due_on).days
            overdue = ngettext("%(count)s day overdue", "%(count)s days overdue", late, count=late)
            lines.append(gettext("- %(action)s (due %(date)s, %(overdue)s; %(meeting)s)", action=_short(action.text),
                                 date=day(action.due_on), overdue=overdue, meeting=action.meeting.title)
                         + f" — {base}/meetings/actions/{action.id}")
        return "\n".join(lines)
    return words


def remind_overdue(session: Session, config: dict, now: datetime) -> str:
    """E-mail each owner of overdue open actions, once a day at most; a line on what was done."""
    today = clock.today(now, config)
    due = list(session.scalars(
        select(MeetingAction).join(User, User.id == MeetingAction.owner_id)
        .where(MeetingAction.status.in_(OPEN), MeetingAction.due_on < today, User.is_active.is_(True),
               or_(MeetingAction.last_reminded_on.is_(None), MeetingAction.last_reminded_on < today))
        .options(selectinload(MeetingAction.meeting), selectinload(MeetingAction.owner))
        .order_by(MeetingAction.due_on, MeetingAction.id)))
    by_owner: dict[int, list[MeetingAction]] = defaultdict(list)
    for action in due:
        by_owner[action.owner_id].append(action)
    base = config.get("BASE_URL", "").rstrip("/")
    told = reminded = 0
    for owner_id, actions in by_owner.items():
        owner = actions[0].owner
        if session.scalar(select(Notification.id).where(Notification.user_id == owner_id,
                                                        Notification.dedupe_key == _dedupe(owner_id, today))):
            continue  # told today already; an action that fell due since waits for tomorrow
        _store(session, [owner], kind="twg_overdue", subject=_subject(len(actions)), body=_body(actions, today, base),
               link=f"/meetings/actions?owner={owner_id}&overdue=1", dedupe=_dedupe(owner_id, today))
        for action in actions:
            action.last_reminded_on = today
            audit.record(session, "meeting_action.reminded", object=f"meeting_action {action.id}",
                         details={"owner": owner.email, "due_on": action.due_on.isoformat(),
                                  "days_overdue": (today - action.due_on).days}, remote_addr="")
        told += 1
        reminded += len(actions)
    session.flush()
    return f"{today.isoformat()}: {told} owner(s) reminded of {reminded} overdue TWG action(s)"
