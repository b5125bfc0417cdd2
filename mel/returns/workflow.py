"""Return states, the submission window, and who may move a return from one state to another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from indicators.messages import N_, Joined, Message, Words, message, period_label, text
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
# English, marked for the catalogue: each message says them in the reader's language.
STATE_WORDS = {
    "draft": N_("a draft"), "submitted": N_("submitted and waiting for review"),
    "returned": N_("returned to the officer"), "approved": N_("approved (locked)"),
    "reopened": N_("reopened by the secretariat"),
}
STATE_NAMES = {"draft": N_("draft"), "submitted": N_("submitted"), "returned": N_("returned"),
               "approved": N_("approved"), "reopened": N_("reopened")}  # a state as a word: "made it approved"
ROLE_NAMES = {"officer": N_("officer"), "reviewer": N_("reviewer"), "secretariat": N_("secretariat"),
              "viewer": N_("viewer")}  # a role code as the transitions name it ("Only officer users …")
# Who a role is, in the plural (ROLE_LABELS' words and an "s": "MERL TWG reviewers cannot submit returns.").
ROLE_PLURALS = {"officer": N_("M&E officers"), "reviewer": N_("MERL TWG reviewers"),
                "secretariat": N_("Secretariats"), "viewer": N_("Viewers")}
# A date as the window's messages write it ("14 November 2025"): the month's name is translated.
MONTH_NAMES = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
               N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


def _word(words: dict[str, str], code: str) -> Message | str:
    """A code's words as a message, or the code itself when it has none."""
    return Message(words[code]) if code in words else code


def date_words(day: date) -> Joined:
    """`{day:%d %B %Y}` as a message: "14 November 2025", "14 Novemba 2025"."""
    return Joined(" ", (f"{day:%d}", Message(MONTH_NAMES[day.month - 1]), str(day.year)))


@dataclass(frozen=True)
class Window:
    """When a period's returns may be sent: opens, due (late after it) and closes.

    `exception` is set when one org unit's return closes later than the form says (a window
    exception, DHIS2's lock exception): "for Kisumu by exception: <reason>" (the English text of a
    message, said in the page's language by `mel.i18n.said`; the reason as the secretariat wrote it).
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

        from mel.i18n import day, said

        state = self.state(today)
        if state == "not_open":
            return gettext("opens on %(date)s", date=day(self.opens))
        if state == "open":
            days = (self.due - today).days
            return gettext("due today") if days == 0 else ngettext("due in %(num)s day", "due in %(num)s days", days)
        extra = f" {said(self.exception)}" if self.exception else ""
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
                              text(message(N_("for %(org_unit)s by exception: %(reason)s"),
                                           org_unit=granted.org_unit.name, reason=granted.reason)))
    return Window(opens, due, closes)


def window_problem(form: ReportingForm, period: str, user: User, today: date,
                   org_unit_id: int | None = None) -> str | None:
    """Why this user may not send figures for the period on `today` (a Nairobi date: clock.today), or None.

    With `org_unit_id`, the org unit's window exception (a later closing date) applies. The reason is
    English text that remembers its message (indicators/messages.py): pages say it in their language."""
    window = window_for(form, period, org_unit_id)
    label = period_label(parse_period(period))
    if today < window.opens:
        return text(message(N_("the window for %(period)s opens on %(date)s; figures cannot be sent before."),
                            period=label, date=date_words(window.opens)))
    if today > window.closes and not can_administer(user):
        return text(message(N_("the window for %(period)s closed on %(date)s%(exception)s; only the secretariat "
                               "can accept figures now."), period=label, date=date_words(window.closes),
                            exception=Joined(" ", ("", window.exception)) if window.exception else ""))
    return None


NOT_EDITABLE_HINTS = {"submitted": N_("ask a reviewer to return it if it needs a correction"),
                      "approved": N_("the secretariat can reopen it with a reason")}


def not_editable_message(record: Return, label: Words | str) -> str:
    """Why a return cannot be changed (English text that remembers its message); `label` names it."""
    what = _word(STATE_WORDS, record.state)
    if record.state in NOT_EDITABLE_HINTS:
        return text(message(N_("the return for %(label)s is %(state)s; it cannot be changed (%(hint)s)."),
                            label=label, state=what, hint=Message(NOT_EDITABLE_HINTS[record.state])))
    return text(message(N_("the return for %(label)s is %(state)s; it cannot be changed."), label=label, state=what))


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
        raise Conflict(text(message(N_("A return that is %(state)s cannot become %(new_state)s."),
                                    state=_word(STATE_WORDS, record.state), new_state=_word(STATE_NAMES, to_state))))
    if user.role not in allowed:
        roles = [_word(ROLE_NAMES, role) for role in allowed]
        who = message(N_("%(first)s or %(second)s"), first=roles[0], second=roles[1]) if len(roles) == 2 else roles[0]
        raise Forbidden(text(message(N_("Only %(roles)s users can make a %(state)s return %(new_state)s."), roles=who,
                                     state=_word(STATE_NAMES, record.state), new_state=_word(STATE_NAMES, to_state))))
    if to_state in ("reopened", "returned") and not reason.strip():
        raise ValidationFailed(text(message(N_("Give a reason to make the return reopened.") if to_state == "reopened"
                                            else N_("Give a reason to make the return returned."))))
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
        raise Conflict(text(message(N_("Someone else changed this return a moment ago; reload it and try again."))))
    event = ReturnEvent(return_id=record.id, from_state=from_state, to_state=to_state,
                        reason=reason.strip(), reason_codes=reason_codes, channel=channel,
                        user_id=user.id, at=now)
    session.add(event)
    session.flush()
    session.refresh(record)
    return event


def is_editable(record: Return | None) -> bool:
    return record is None or record.state in EDITABLE_STATES
