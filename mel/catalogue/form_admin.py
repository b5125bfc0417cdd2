"""Writes of the secretariat's form administration: a form's window and frequency, window exceptions
(one org unit's later closing date for one period). Its indicators and org units from a quarter on are
in form_contents.py, programmes in programme_admin.py.

Every write validates everything first and raises `ValidationFailed` with each problem located by
its field, so nothing is saved on error; it then flushes (never commits), records the change in the
audit with what was before and after and why, and makes the catalogue be read again. The web pages
(form_views.py) and the API (form_api.py) only parse their input and render the result.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.periods import PeriodError, PeriodType, parse_period
from mel.accounts import audit
from mel.accounts.models import User
from mel.catalogue.lookup import forget_catalogue
from mel.catalogue.models import OrgUnit, Programme, ReportingForm, WindowException
from mel.catalogue.operations import admin_object
from mel.catalogue.queries import CATALOGUE_FORM_LOADERS, name_key
from mel.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from mel.scopes import can_administer

FORM_FREQUENCIES = ("quarterly",)  # returns are kept per quarter (reporting_form.frequency_quarterly)
MAX_WINDOW_DAYS = 366  # a window past a year after the quarter would overlap the next year's returns
MAX_EXCEPTION_DAYS = 366  # an exception closes at most a year after the quarter ends
REASON_LENGTH = 500
PROGRAMME_LEVELS = ("national", "county")
CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def require_admin(user: User, what: str) -> None:
    """Refuse (403) anyone but the secretariat: only they keep the catalogue."""
    if not can_administer(user):
        raise Forbidden(f"Only the secretariat {what}.")


def form_of(session: Session, programme_code: str) -> ReportingForm:
    """The reporting form of a programme (by code or UID), with its items, org units and exceptions."""
    form = session.scalar(
        select(ReportingForm).join(ReportingForm.programme)
        .where((Programme.code == programme_code) | (Programme.uid == programme_code))
        .options(selectinload(ReportingForm.programme), *CATALOGUE_FORM_LOADERS)
    )
    if form is None:
        if session.scalar(select(Programme.id).where(Programme.code == programme_code)) is None:
            raise NotFound(f"Programme {programme_code!r} is not known.")
        raise NotFound(f"Programme {programme_code!r} has no reporting form.")
    return form


def checked_reason(value, problems: list[ErrorDetail]) -> str:
    """The reason of an administrative change (kept in the audit): required, at most REASON_LENGTH characters."""
    text = str(value or "").strip()
    if not text:
        problems.append(ErrorDetail("reason: say why you make this change (it is kept in the audit).",
                                    {"field": "reason"}))
    elif len(text) > REASON_LENGTH:
        problems.append(ErrorDetail(f"reason: at most {REASON_LENGTH} characters ({len(text)} given).",
                                    {"field": "reason"}))
    return text


def _whole_number(name: str, value, low: int, high: int, problems: list[ErrorDetail]) -> int | None:
    text = str(value if value is not None else "").strip()
    try:
        number = int(text)
    except ValueError:
        problems.append(ErrorDetail(f"{name}: {text!r} is not a whole number of days.", {"field": name, "value": text}))
        return None
    if not low <= number <= high:
        problems.append(ErrorDetail(f"{name}: {number} days is outside {low}–{high}.", {"field": name, "value": text}))
        return None
    return number


# --------------------------------------------------------------------------- window and frequency


def form_settings(form: ReportingForm) -> dict:
    """The form's window and frequency, as the audit keeps them."""
    return {"frequency": form.frequency, "opens_days": form.opens_days, "due_days": form.due_days,
            "closes_days": form.closes_days}


def save_window(session: Session, user: User, programme_code: str, values: dict) -> ReportingForm:
    """Change a form's frequency and window days (opens, due, closes after the quarter ends), with a reason.

    The window applies to every period's returns that are still open; a return already submitted
    keeps whether it was late (stored when it was submitted).
    """
    require_admin(user, "changes reporting forms")
    form = form_of(session, programme_code)
    problems: list[ErrorDetail] = []
    frequency = str(values.get("frequency") or form.frequency).strip()
    if frequency not in FORM_FREQUENCIES:
        problems.append(ErrorDetail(f"frequency: {frequency!r} is not possible: returns are kept per quarter, "
                                    "so a form is quarterly.", {"field": "frequency", "value": frequency}))
    days = {name: _whole_number(name, values.get(name, getattr(form, name)), 0, MAX_WINDOW_DAYS, problems)
            for name in ("opens_days", "due_days", "closes_days")}
    if None not in days.values() and not days["opens_days"] <= days["due_days"] <= days["closes_days"]:
        problems.append(ErrorDetail(
            f"due_days: the window must open, fall due and close in that order (opens {days['opens_days']}, "
            f"due {days['due_days']}, closes {days['closes_days']} days after the quarter).", {"field": "due_days"}))
    reason = checked_reason(values.get("reason"), problems)
    if problems:
        raise ValidationFailed(f"The window of {form.code} was not saved.", problems)
    before = form_settings(form)
    after = {"frequency": frequency, **days}
    if after == before:
        raise Conflict(f"Nothing changes on {form.code}: the form already has this window and frequency.")
    for name, value in after.items():
        setattr(form, name, value)
    session.flush()
    audit.record(session, "catalogue.form_changed", actor=user, object=admin_object("reporting form", form.code),
                 details={"reason": reason, "before": before, "after": after})
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
        problems.append(ErrorDetail("org_unit: choose the org unit whose return closes later.", {"field": "org_unit"}))
        return None
    wanted = {text, text.upper(), name_key(text)}
    if text.isdigit() and len(text) <= 3:
        wanted.add(f"{int(text):03d}")
    asked = form.org_units_in(period.id) if period is not None else [row.org_unit for row in form.units]
    for unit in asked:
        if wanted & {unit.code, unit.uid, name_key(unit.name), (unit.iso_code or "").upper()}:
            return unit
    known = session.scalar(select(OrgUnit.name).where(OrgUnit.code.in_(wanted)))
    when = f" for {period.label}" if period is not None else ""
    where = f"{known} is not on the {form.code} form{when}" if known else f"{text!r} is not a known org unit"
    problems.append(ErrorDetail(f"org_unit: {where}.", {"field": "org_unit", "value": text}))
    return None


def _quarter(raw, problems: list[ErrorDetail]):
    text = str(raw or "").strip()
    try:
        period = parse_period(text)
    except (PeriodError, ValueError) as exc:
        problems.append(ErrorDetail(f"period: {text!r} is not a period ({exc}).", {"field": "period", "value": text}))
        return None
    if period.type is not PeriodType.QUARTER:
        problems.append(ErrorDetail(f"period: {text!r} is not a quarter: use the form 2026Q4.",
                                    {"field": "period", "value": text}))
        return None
    return period


def _closing_date(raw, problems: list[ErrorDetail]) -> date | None:
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(ErrorDetail(f"closes_on: {text!r} is not a date: use the form 2027-01-30.",
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
        regular = period.end + timedelta(days=form.closes_days)
        latest = period.end + timedelta(days=MAX_EXCEPTION_DAYS)
        if closes_on <= regular:
            problems.append(ErrorDetail(
                f"closes_on: {closes_on:%d %B %Y} is not after the form's own closing date for {period.label} "
                f"({regular:%d %B %Y}); an exception lets a return be sent later.",
                {"field": "closes_on", "value": closes_on.isoformat()}))
        elif closes_on > latest:
            problems.append(ErrorDetail(
                f"closes_on: {closes_on:%d %B %Y} is more than {MAX_EXCEPTION_DAYS} days after {period.label} "
                f"ended (latest {latest:%d %B %Y}).", {"field": "closes_on", "value": closes_on.isoformat()}))
    if problems:
        raise ValidationFailed(f"The window exception on {form.code} was not saved.", problems)
    assert unit is not None and period is not None and closes_on is not None
    for granted in form.window_exceptions:
        if granted.org_unit_id == unit.id and granted.period == period.id:
            raise Conflict(f"{unit.name} already has an exception for {period.label} (closes on "
                           f"{granted.closes_on:%d %B %Y}); remove it first to give another date.")
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
        raise NotFound(f"The {form.code} form has no window exception {exception_id}.")
    problems: list[ErrorDetail] = []
    text = checked_reason(reason, problems)
    if problems:
        raise ValidationFailed(f"The window exception on {form.code} was not removed.", problems)
    before = exception_settings(granted)
    form.window_exceptions.remove(granted)  # delete-orphan: the row goes
    session.flush()
    audit.record(session, "catalogue.window_exception_removed", actor=user,
                 object=admin_object("reporting form", form.code),
                 details={"reason": text, "before": before, "after": {}})
    forget_catalogue(session)
    return granted
