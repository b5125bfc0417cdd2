"""Writes of the secretariat's form administration: a form's frequency and window days from a stated
quarter on, window exceptions (one org unit's later closing date for one period). Its indicators and
org units from a quarter on are in form_contents.py, programmes in programme_admin.py.

A change stated from quarter Q (`stated_quarter`: not before the quarter being reported now,
`mel.clock.reporting_quarter`) leaves every quarter before Q as it was, so a past quarter's
window never reopens nor closes again.

Every write validates everything first and raises `ValidationFailed` with each problem located by
its field, so nothing is saved on error; it then flushes (never commits), records the change in the
audit with what was before and after and why, and makes the catalogue be read again. The web pages
(form_views.py) and the API (form_api.py) only parse their input and render the result.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.messages import N_, Joined, Message, Text, Words, message, period_label
from indicators.messages import text as as_text
from indicators.periods import Period, PeriodError, PeriodType, parse_period
from mel import clock
from mel.accounts import audit
from mel.accounts.models import User
from mel.catalogue.lookup import forget_catalogue
from mel.catalogue.models import (
    FORM_FREQUENCIES,
    OrgUnit,
    Programme,
    ReportingForm,
    ReportingFormWindow,
    WindowException,
)
from mel.catalogue.operations import admin_object
from mel.catalogue.queries import CATALOGUE_FORM_LOADERS, name_key
from mel.converters import is_digits
from mel.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from mel.returns.workflow import window_for
from mel.scopes import can_administer

MAX_WINDOW_DAYS = 366  # a window past a year after the quarter would overlap the next year's returns
MAX_EXCEPTION_DAYS = 366  # an exception closes at most a year after the quarter ends
REASON_LENGTH = 500
PROGRAMME_LEVELS = ("national", "county")
MAX_QUARTERS_AHEAD = 12  # a change stated further ahead than three years is almost surely a typing slip
WINDOW_DAYS = ("opens_days", "due_days", "closes_days")
CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# The refusal of `require_admin` for each `what` the catalogue's editors say, as one sentence to translate
# ("Only the secretariat " + what + "."); a `what` not listed is said inside the general sentence.
REFUSALS = {
    "changes reporting forms": N_("Only the secretariat changes reporting forms."),
    "administers reporting forms": N_("Only the secretariat administers reporting forms."),
    "grants window exceptions": N_("Only the secretariat grants window exceptions."),
    "removes window exceptions": N_("Only the secretariat removes window exceptions."),
    "creates programmes": N_("Only the secretariat creates programmes."),
    "changes programmes": N_("Only the secretariat changes programmes."),
    "edits indicators": N_("Only the secretariat edits indicators."),
    "creates indicators": N_("Only the secretariat creates indicators."),
    "changes indicators": N_("Only the secretariat changes indicators."),
    "retires indicators": N_("Only the secretariat retires indicators."),
    "reactivates indicators": N_("Only the secretariat reactivates indicators."),
    "retires and reactivates indicators": N_("Only the secretariat retires and reactivates indicators."),
    "keeps the disaggregations": N_("Only the secretariat keeps the disaggregations."),
    "edits the results framework": N_("Only the secretariat edits the results framework."),
}
MONTH_NAMES = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
               N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


def refusal(what) -> Message:
    """The words "Only the secretariat {what}." as a message (`what`: a phrase of REFUSALS, else said as it is)."""
    known = REFUSALS.get(str(what))
    if known is not None:
        return message(known)
    return message(N_("Only the secretariat %(what)s."), what=words(what))


def require_admin(user: User, what: str) -> None:
    """Refuse (403) anyone but the secretariat: only they keep the catalogue."""
    if not can_administer(user):
        raise Forbidden(as_text(refusal(what)))


def located(field: str, what: Words) -> Text:
    """A problem said after the field it is about ("from_period: ..."): the field's name stays as it is."""
    return as_text(Joined(": ", (field, what)))


def words(label) -> Words | str:
    """A label said in the page's language: a message as it is, plain text looked up in the catalogue."""
    if isinstance(label, Text):
        return label
    return label if isinstance(label, Message | Joined) else Message(str(label))


def date_words(value: date) -> Message:
    """A date as "30 January 2027" (`%d %B %Y`), its month said in the page's language."""
    return message(N_("%(day)s %(month)s %(year)s"), day=f"{value:%d}", month=Message(MONTH_NAMES[value.month - 1]),
                   year=str(value.year))


def period_error(exc: Exception):
    """What a PeriodError says (indicators/periods.py's words, kept as they are)."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)


def form_of(session: Session, programme_code: str) -> ReportingForm:
    """The reporting form of a programme (by code or UID), with its items, org units and exceptions."""
    form = session.scalar(
        select(ReportingForm).join(ReportingForm.programme)
        .where((Programme.code == programme_code) | (Programme.uid == programme_code))
        .options(selectinload(ReportingForm.programme), *CATALOGUE_FORM_LOADERS)
    )
    if form is None:
        if session.scalar(select(Programme.id).where(Programme.code == programme_code)) is None:
            raise NotFound(as_text(message(N_("Programme %(code)s is not known."), code=repr(programme_code))))
        raise NotFound(as_text(message(N_("Programme %(code)s has no reporting form."), code=repr(programme_code))))
    return form


KEPT_IN_THE_AUDIT = N_("it is kept in the audit")


def too_long(limit: int, given: int) -> Message:
    """The words of a text too long: "at most 500 characters (612 given)."."""
    return message(N_("at most %(limit)s characters (%(given)s given)."), limit=limit, given=given)


def checked_reason(value, problems: list[ErrorDetail], *, required: bool = True, label: str = "reason",
                   kept: str = KEPT_IN_THE_AUDIT) -> str:
    """The reason of an administrative change (kept in the audit): required unless said otherwise, at most
    REASON_LENGTH characters. The one check of every catalogue editor (forms, programmes, indicators,
    disaggregations); `label` and `kept` only word the message (plain text is looked up in the catalogue:
    mark it with N_ where it is written)."""
    text = str(value or "").strip()
    if required and not text:
        problems.append(ErrorDetail(as_text(Joined(": ", (words(label), message(
            N_("say why you make this change (%(kept)s)."), kept=words(kept))))), {"field": "reason"}))
    elif len(text) > REASON_LENGTH:
        problems.append(ErrorDetail(as_text(Joined(": ", (words(label), too_long(REASON_LENGTH, len(text))))),
                                    {"field": "reason"}))
    return text


def stated_quarter(raw, problems: list[ErrorDetail], today=None) -> Period | None:
    """The quarter a change applies from: a quarter, not before the one being reported now."""
    if raw is None or str(raw).strip() == "":
        problems.append(ErrorDetail(located("from_period", message(
            N_("say from which quarter on the change applies (e.g. %(quarter)s); earlier quarters keep their form."),
            quarter=clock.reporting_quarter(today).id)), {"field": "from_period"}))
        return None
    text = str(raw).strip()
    period = parsed_quarter("from_period", text, problems)
    if period is None:
        return None
    current = clock.reporting_quarter(today)
    if period.id < current.id:
        problems.append(ErrorDetail(located("from_period", message(
            N_("%(quarter)s is before %(current)s, the quarter being reported now; closed quarters keep the form "
               "their returns were made with. State %(code)s or later."),
            quarter=period_label(period), current=period_label(current), code=current.id)),
            {"field": "from_period", "value": period.id}))
        return None
    if period.id > current.shift(MAX_QUARTERS_AHEAD).id:
        problems.append(ErrorDetail(located("from_period", message(
            N_("%(quarter)s is more than %(count)s quarters ahead; state a nearer quarter."),
            quarter=period_label(period), count=MAX_QUARTERS_AHEAD)), {"field": "from_period", "value": period.id}))
        return None
    return period


def parsed_quarter(field: str, text: str, problems: list[ErrorDetail]) -> Period | None:
    """The quarter typed in `field` (2026Q4), or None with the problem located by the field."""
    try:
        period = parse_period(text)
    except (PeriodError, ValueError) as exc:
        problems.append(ErrorDetail(located(field, message(N_("%(value)s is not a period (%(reason)s)."),
                                                           value=repr(text), reason=period_error(exc))),
                                    {"field": field, "value": text}))
        return None
    if period.type is not PeriodType.QUARTER:
        problems.append(ErrorDetail(located(field, message(N_("%(value)s is not a quarter: use the form 2026Q4."),
                                                           value=repr(text))),
                                    {"field": field, "value": text}))
        return None
    return period


def _whole_number(name: str, value, low: int, high: int, problems: list[ErrorDetail]) -> int | None:
    text = str(value if value is not None else "").strip()
    try:
        number = int(text)
    except ValueError:
        problems.append(ErrorDetail(located(name, message(N_("%(value)s is not a whole number of days."),
                                                          value=repr(text))), {"field": name, "value": text}))
        return None
    if not low <= number <= high:
        problems.append(ErrorDetail(located(name, message(N_("%(number)s days is outside %(low)s–%(high)s."),
                                                          number=number, low=low, high=high)),
                                    {"field": name, "value": text}))
        return None
    return number


# --------------------------------------------------------------------------- window and frequency


def form_settings(form: ReportingForm, quarter: str) -> dict:
    """The form's frequency and its window days in a quarter, as the audit keeps them."""
    return {"frequency": form.frequency_in(quarter),
            **dict(zip(WINDOW_DAYS, form.window_days_in(quarter), strict=True))}


FREQUENCY_WORDS = {"quarterly": N_("quarterly"), "monthly": N_("monthly")}


def frequency_word(frequency: str) -> Message:
    return message(FREQUENCY_WORDS.get(frequency, frequency))


def window_versions(form: ReportingForm) -> list[dict]:
    """The form's window by stretches of quarters, oldest first: {from, until, frequency, opens_days, due_days,
    closes_days} (from None: since the beginning, the form's own days; until None: open-ended)."""
    rows = sorted(form.windows, key=lambda row: row.from_period)
    starts: list[str | None] = [None, *(row.from_period for row in rows)]
    sources: list = [form, *rows]
    return [{"from": start, "until": starts[i + 1] if i + 1 < len(starts) else None,
             "frequency": getattr(source, "frequency", None) or form.frequency,
             **{name: getattr(source, name) for name in WINDOW_DAYS}}
            for i, (start, source) in enumerate(zip(starts, sources, strict=True))]


def window_quarter(raw, problems: list[ErrorDetail]) -> Period | None:
    """The quarter a window change applies from: the one being reported now when none is given."""
    if raw is None or str(raw).strip() == "":
        return clock.reporting_quarter()
    return stated_quarter(raw, problems)


def _returns_from(session: Session, form: ReportingForm, quarter: Period) -> list[tuple[str, str]]:
    """(org unit, period) of the form's programme's returns of `quarter` or later (quarters and months)."""
    from mel.returns.models import Return

    first_month = quarter.months()[0].id
    return [(unit, period) for unit, period in session.execute(
        select(OrgUnit.code, Return.period).join(OrgUnit, OrgUnit.id == Return.org_unit_id)
        .where(Return.programme_id == form.programme_id)
        .order_by(Return.period, OrgUnit.code)).all()
            if (period >= quarter.id if "Q" in period else period >= first_month)]


def save_window(session: Session, user: User, programme_code: str, values: dict) -> ReportingForm:
    """Change a form's frequency and window days (opens, due, closes after the quarter ends) from a
    stated quarter on (`from_period`, default the quarter being reported now), with a reason.

    Quarters before keep their window, so a closed quarter stays closed; from that quarter on the
    window is the one given (a change stated for a later quarter is replaced). A return already
    submitted keeps whether it was late (stored when it was submitted).
    """
    require_admin(user, "changes reporting forms")
    form = form_of(session, programme_code)
    problems: list[ErrorDetail] = []
    quarter = window_quarter(values.get("from_period"), problems)
    current = form_settings(form, (quarter or clock.reporting_quarter()).id)
    frequency = str(values.get("frequency") or current["frequency"]).strip().lower()
    if frequency not in FORM_FREQUENCIES:
        problems.append(ErrorDetail(located("frequency", message(
            N_("%(value)s is not a form's frequency: a form asks figures quarterly or monthly."),
            value=repr(frequency))), {"field": "frequency", "value": frequency}))
    elif quarter is not None and frequency != current["frequency"]:
        first = quarter.financial_year().quarters()[0]
        if quarter != first:
            problems.append(ErrorDetail(located("frequency", message(
                N_("a form changes from %(before)s to %(after)s only from the first quarter of a financial year, so "
                   "that a year's figures are all quarterly or all monthly; %(quarter)s is not one. State %(next)s."),
                before=frequency_word(current["frequency"]), after=frequency_word(frequency),
                quarter=period_label(quarter), next=quarter.financial_year().shift(1).quarters()[0].id)),
                {"field": "frequency", "value": frequency}))
        else:
            made = _returns_from(session, form, quarter)
            if made:
                problems.append(ErrorDetail(located("frequency", message(
                    N_("%(form)s cannot turn %(after)s from %(quarter)s: %(count)s return(s) of that quarter or later "
                       "already exist (%(returns)s). State a later financial year."),
                    form=form.code, after=frequency_word(frequency), quarter=period_label(quarter), count=len(made),
                    returns=", ".join(f"{unit} {period}" for unit, period in made[:10]))),
                    {"field": "frequency", "value": frequency}))
    days = {name: _whole_number(name, values.get(name, current[name]), 0, MAX_WINDOW_DAYS, problems)
            for name in WINDOW_DAYS}
    if None not in days.values() and not days["opens_days"] <= days["due_days"] <= days["closes_days"]:
        problems.append(ErrorDetail(located("due_days", message(
            N_("the window must open, fall due and close in that order (opens %(opens)s, due %(due)s, closes "
               "%(closes)s days after the quarter)."),
            opens=days["opens_days"], due=days["due_days"], closes=days["closes_days"])), {"field": "due_days"}))
    reason = checked_reason(values.get("reason"), problems)
    if problems:
        raise ValidationFailed(as_text(message(N_("The window of %(form)s was not saved."), form=form.code)), problems)
    assert quarter is not None
    before = form_settings(form, quarter.id)
    after = {"frequency": frequency, **days}
    replaced = [v for v in window_versions(form) if v["from"] is not None and v["from"] > quarter.id]
    if after == before and not replaced:
        raise Conflict(as_text(message(N_("Nothing changes on %(form)s: from %(quarter)s on the form already has "
                                          "this window and frequency."), form=form.code, quarter=period_label(quarter))))
    for row in [row for row in form.windows if row.from_period >= quarter.id]:
        form.windows.remove(row)  # a change stated from this quarter or a later one is replaced
    session.flush()
    if form_settings(form, quarter.id) != after:
        form.windows.append(ReportingFormWindow(from_period=quarter.id, frequency=frequency, **days))
    session.flush()
    audit.record(session, "catalogue.form_changed", actor=user, object=admin_object("reporting form", form.code),
                 details={"reason": reason, "from_period": quarter.id, "before": before, "after": after,
                          "replaced": replaced})
    forget_catalogue(session)
    return form


# --------------------------------------------------------------------------- window exceptions


def exception_settings(granted: WindowException) -> dict:
    return {"org_unit": granted.org_unit.code, "period": granted.period,
            "closes_on": granted.closes_on.isoformat(), "reason": granted.reason}


def _org_unit(session: Session, raw, form: ReportingForm, period, problems: list[ErrorDetail]) -> OrgUnit | None:
    """The org unit of a window exception: one the form asks returns of in the exception's quarter
    (any quarter's when the quarter given is not one)."""
    text = str(raw or "").strip()
    if not text:
        problems.append(ErrorDetail(located("org_unit", message(N_("choose the org unit whose return closes later."))),
                                    {"field": "org_unit"}))
        return None
    wanted = {text, text.upper(), name_key(text)}
    if is_digits(text) and len(text) <= 3:
        wanted.add(f"{int(text):03d}")
    asked = form.org_units_in(period.id) if period is not None else [row.org_unit for row in form.units]
    for unit in asked:
        if wanted & {unit.code, unit.uid, name_key(unit.name), (unit.iso_code or "").upper()}:
            return unit
    known = session.scalar(select(OrgUnit.name).where(OrgUnit.code.in_(wanted)))
    if known and period is not None:
        where = message(N_("%(unit)s is not on the %(form)s form for %(quarter)s."), unit=known, form=form.code,
                        quarter=period_label(period))
    elif known:
        where = message(N_("%(unit)s is not on the %(form)s form."), unit=known, form=form.code)
    else:
        where = message(N_("%(value)s is not a known org unit."), value=repr(text))
    problems.append(ErrorDetail(located("org_unit", where), {"field": "org_unit", "value": text}))
    return None


def _quarter(raw, problems: list[ErrorDetail]):
    return parsed_quarter("period", str(raw or "").strip(), problems)


def _closing_date(raw, problems: list[ErrorDetail]) -> date | None:
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(ErrorDetail(located("closes_on", message(N_("%(value)s is not a date: use the form 2027-01-30."),
                                                                 value=repr(text))),
                                    {"field": "closes_on", "value": text}))
        return None


def add_window_exception(session: Session, user: User, programme_code: str, values: dict) -> WindowException:
    """Let one org unit's return of one quarter be sent until a later date than the form's window closes."""
    require_admin(user, "grants window exceptions")
    form = form_of(session, programme_code)
    problems: list[ErrorDetail] = []
    period = _quarter(values.get("period"), problems)
    unit = _org_unit(session, values.get("org_unit"), form, period, problems)
    closes_on = _closing_date(values.get("closes_on"), problems)
    reason = checked_reason(values.get("reason"), problems)
    if period is not None and closes_on is not None:
        regular = window_for(form, period.id).closes
        latest = period.end + timedelta(days=MAX_EXCEPTION_DAYS)
        if closes_on <= regular:
            problems.append(ErrorDetail(located("closes_on", message(
                N_("%(date)s is not after the form's own closing date for %(quarter)s (%(closes)s); an exception "
                   "lets a return be sent later."),
                date=date_words(closes_on), quarter=period_label(period), closes=date_words(regular))),
                {"field": "closes_on", "value": closes_on.isoformat()}))
        elif closes_on > latest:
            problems.append(ErrorDetail(located("closes_on", message(
                N_("%(date)s is more than %(days)s days after %(quarter)s ended (latest %(latest)s)."),
                date=date_words(closes_on), days=MAX_EXCEPTION_DAYS, quarter=period_label(period),
                latest=date_words(latest))), {"field": "closes_on", "value": closes_on.isoformat()}))
    if problems:
        raise ValidationFailed(as_text(message(N_("The window exception on %(form)s was not saved."), form=form.code)),
                               problems)
    assert unit is not None and period is not None and closes_on is not None
    for granted in form.window_exceptions:
        if granted.org_unit_id == unit.id and granted.period == period.id:
            raise Conflict(as_text(message(
                N_("%(unit)s already has an exception for %(quarter)s (closes on %(date)s); remove it first to give "
                   "another date."), unit=unit.name, quarter=period_label(period), date=date_words(granted.closes_on))))
    granted = WindowException(org_unit_id=unit.id, org_unit=unit, period=period.id, closes_on=closes_on,
                              reason=reason, created_by=user.email)
    form.window_exceptions.append(granted)
    session.flush()
    audit.record(session, "catalogue.window_exception_added", actor=user,
                 object=admin_object("reporting form", form.code),
                 details={"reason": reason, "before": {}, "after": exception_settings(granted)})
    forget_catalogue(session)
    return granted


def remove_window_exception(session: Session, user: User, programme_code: str, exception_id: int,
                            reason) -> WindowException:
    """Withdraw a window exception: the org unit's return closes with the form's window again."""
    require_admin(user, "removes window exceptions")
    form = form_of(session, programme_code)
    granted = next((g for g in form.window_exceptions if g.id == exception_id), None)
    if granted is None:
        raise NotFound(as_text(message(N_("The %(form)s form has no window exception %(id)s."), form=form.code,
                                       id=exception_id)))
    problems: list[ErrorDetail] = []
    text = checked_reason(reason, problems)
    if problems:
        raise ValidationFailed(as_text(message(N_("The window exception on %(form)s was not removed."),
                                               form=form.code)), problems)
    before = exception_settings(granted)
    form.window_exceptions.remove(granted)  # delete-orphan: the row goes
    session.flush()
    audit.record(session, "catalogue.window_exception_removed", actor=user,
                 object=admin_object("reporting form", form.code),
                 details={"reason": text, "before": before, "after": {}})
    forget_catalogue(session)
    return granted
