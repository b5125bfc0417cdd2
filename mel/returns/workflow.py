"""Return states, the submission window, and who may move a return from one state to another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from indicators.periods import parse_period
from mel import clock
from mel.accounts.models import User
from mel.catalogue.models import ReportingForm
from mel.db import utcnow
from mel.errors import Conflict, Forbidden, ValidationFailed
from mel.returns.models import EDITABLE_STATES, Return, ReturnEvent
from mel.scopes import can_administer

TRANSITIONS = {
    ("draft", "submitted"): ("officer", "secretariat"),
    ("returned", "submitted"): ("officer", "secretariat"),
    ("reopened", "submitted"): ("officer", "secretariat"),
    ("submitted", "approved"): ("reviewer", "secretariat"),
    ("submitted", "returned"): ("reviewer", "secretariat"),
    ("approved", "reopened"): ("secretariat",),
}
STATE_WORDS = {
    "draft": "a draft", "submitted": "submitted and waiting for review",
    "returned": "returned to the officer", "approved": "approved (locked)",
    "reopened": "reopened by the secretariat",
}


@dataclass(frozen=True)
class Window:
    """When a period's returns may be sent: opens, due (late after it) and closes.

    `exception` is set when one org unit's return closes later than the form says (a window
    exception, DHIS2's lock exception): "for Kisumu by exception: <reason>".
    """

    opens: date
    due: date
    closes: date
    exception: str = ""

    def describe(self) -> str:
        return (f"opens {self.opens:%d %b %Y}, due {self.due:%d %b %Y}, "
                f"closes {self.closes:%d %b %Y}" + (f" {self.exception}" if self.exception else ""))

    def state(self, today: date) -> str:
        """`not_open`, `open` (up to the due date), `late` (after it, until it closes) or `closed`."""
        if today < self.opens:
            return "not_open"
        if today <= self.due:
            return "open"
        return "late" if today <= self.closes else "closed"

    def words(self, today: date) -> str:
        """The window as an officer reads it on `today`: "due in 3 days", "late", "closed on …"."""
        from flask_babel import gettext, ngettext

        from mel.i18n import day

        state = self.state(today)
        if state == "not_open":
            return gettext("opens on %(date)s", date=day(self.opens))
        if state == "open":
            days = (self.due - today).days
            return gettext("due today") if days == 0 else ngettext("due in %(num)s day", "due in %(num)s days", days)
        extra = f" {self.exception}" if self.exception else ""
        if state == "late":
            return gettext("late: was due on %(due)s; closes on %(closes)s", due=day(self.due),
                           closes=day(self.closes)) + extra
        return gettext("closed on %(date)s", date=day(self.closes)) + extra


def window_for(form: ReportingForm, period: str, org_unit_id: int | None = None) -> Window:
    """The period's window on this form, with the days stated for that quarter (`window_days_in`: a
    change from a later quarter on leaves it as it was); for one org unit, with its window exception
    if it has one. The form's `windows` (and, for an org unit, `window_exceptions`) must be loaded,
    as the catalogue's forms are (queries.CATALOGUE_FORM_LOADERS)."""
    end = parse_period(period).end
    opens_days, due_days, closes_days = form.window_days_in(period)
    opens, due = end + timedelta(days=opens_days), end + timedelta(days=due_days)
    closes = end + timedelta(days=closes_days)
    if org_unit_id is not None:
        for granted in form.window_exceptions:
            if granted.org_unit_id == org_unit_id and granted.period == period:
                return Window(opens, due, granted.closes_on,
                              f"for {granted.org_unit.name} by exception: {granted.reason}")
    return Window(opens, due, closes)


def window_problem(form: ReportingForm, period: str, user: User, today: date,
                   org_unit_id: int | None = None) -> str | None:
    """Why this user may not send figures for the period on `today` (a Nairobi date: clock.today), or None.

    With `org_unit_id`, the org unit's window exception (a later closing date) applies."""
    window = window_for(form, period, org_unit_id)
    label = parse_period(period).label
    if today < window.opens:
        return f"the window for {label} opens on {window.opens:%d %B %Y}; figures cannot be sent before."
    if today > window.closes and not can_administer(user):
        closed = f"closed on {window.closes:%d %B %Y}" + (f" {window.exception}" if window.exception else "")
        return f"the window for {label} {closed}; only the secretariat can accept figures now."
    return None


def not_editable_message(record: Return, label: str) -> str:
    what = STATE_WORDS.get(record.state, record.state)
    hint = {
        "submitted": "ask a reviewer to return it if it needs a correction",
        "approved": "the secretariat can reopen it with a reason",
    }.get(record.state, "")
    return f"the return for {label} is {what}; it cannot be changed" + (f" ({hint})." if hint else ".")


def move(
    session: Session,
    record: Return,
    to_state: str,
    user: User,
    *,
    reason: str = "",
    reason_codes: str = "",
    channel: str = "web",
    now: datetime | None = None,
) -> ReturnEvent:
    """Change a return's state if the transition and the user's role allow it; record the event."""
    allowed = TRANSITIONS.get((record.state, to_state))
    if allowed is None:
        raise Conflict(f"A return that is {STATE_WORDS.get(record.state, record.state)} cannot become {to_state}.")
    if user.role not in allowed:
        raise Forbidden(f"Only {' or '.join(allowed)} users can make a {record.state} return {to_state}.")
    if to_state in ("reopened", "returned") and not reason.strip():
        raise ValidationFailed(f"Give a reason to make the return {to_state}.")
    now = now or utcnow()
    from_state, version = record.state, record.version
    values: dict = {"state": to_state, "version": Return.version + 1, "updated_at": now}
    if to_state == "submitted":
        form = session.scalar(select(ReportingForm).where(ReportingForm.id == record.form_id)
                              .options(selectinload(ReportingForm.windows)))
        form_due = window_for(form, record.period).due
        values |= {"submitted_at": now, "submitted_by_id": user.id,
                   "is_late": clock.today(now) > form_due}
    if to_state == "approved":
        values |= {"approved_at": now, "approved_by_id": user.id}
    result = session.execute(
        update(Return).where(Return.id == record.id, Return.version == version,
                             Return.state == from_state).values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("Someone else changed this return a moment ago; reload it and try again.")
    event = ReturnEvent(return_id=record.id, from_state=from_state, to_state=to_state,
                        reason=reason.strip(), reason_codes=reason_codes, channel=channel,
                        user_id=user.id, at=now)
    session.add(event)
    session.flush()
    session.refresh(record)
    return event


def is_editable(record: Return | None) -> bool:
    return record is None or record.state in EDITABLE_STATES
