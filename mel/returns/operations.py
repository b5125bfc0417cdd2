"""Writes on returns besides figures: submit, explain a flag, narrative. Callers commit."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from indicators.explanations import explanation_code
from indicators.messages import N_, Joined, Message, Words, message, period_label
from indicators.messages import text as message_text
from indicators.periods import parse_period
from mel import clock, periods
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue, find_org_unit, load_catalogue
from mel.catalogue.models import OrgUnit, Programme
from mel.db import utcnow
from mel.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from mel.returns import checks
from mel.returns.ingest import Incoming, IngestResult, IngestSettings, ingest
from mel.returns.models import DataValue, NarrativeChange, Return, ReturnEvent, ValueFlag
from mel.returns.workflow import (
    ROLE_PLURALS,
    is_editable,
    move,
    not_editable_message,
    window_problem,
)
from mel.scopes import ENTERING_ROLES, can_access, can_enter, sees_approved_returns_only


def import_file(session: Session, user: User, data: bytes, filename: str, *, settings: IngestSettings,
                programme: str | None = None, dry_run: bool = False, channel: str | None = None,
                on_rows=None) -> IngestResult:
    """Import an .xlsx template or a CSV of figures, all or nothing: the web upload, the API,
    `mel import` and the background import (mel/jobs.py, told the rows read by `on_rows`) alike."""
    from mel.returns.workbook import read_return_file

    rows = read_return_file(data, filename, max_bytes=settings.max_bytes, limits=settings.upload)
    if on_rows is not None:
        on_rows(len(rows))
    kind = "excel" if filename.lower().endswith(".xlsx") else "csv"
    return ingest(session, user, Incoming(rows, channel or kind, filename, data), programme=programme,
                  dry_run=dry_run, settings=settings)


def submit_imported(session: Session, user: User, result: IngestResult, *,
                    channel: str) -> tuple[list[str], list[ErrorDetail]]:
    """Submit each editable return an import stored; a refused one is undone alone (a savepoint).

    Returns the labels of the returns submitted, and the problems of those that could not be
    (each located by org unit and period, then its own details); the figures stay stored.
    """
    from mel.unit_of_work import attempt

    submitted: list[str] = []
    problems: list[ErrorDetail] = []
    for outcome in result.returns:
        record = session.get(Return, outcome.return_id) if outcome.return_id else None
        if record is None or not record.is_editable:
            continue
        try:
            with attempt(session):
                submit(session, user, record, channel=channel, catalogue=load_catalogue(session))
            outcome.state = "submitted"
            submitted.append(f"{outcome.programme} {outcome.org_unit_name} {outcome.period}")
        except (ValidationFailed, Forbidden) as exc:
            problems.append(ErrorDetail(message_text(Joined(": ", (f"{outcome.programme} {outcome.org_unit_name} "
                                                           f"{outcome.period}", exc.message))),
                                        {"org_unit": outcome.org_unit, "period": outcome.period}))
            problems.extend(exc.details[:20])
    return submitted, problems


class ReturnAddress(NamedTuple):
    """A return's address as resolved from codes people type, and the return if it exists yet."""

    programme: Programme
    org_unit: OrgUnit
    period: str
    record: Return | None


def find_return(session: Session, catalogue: Catalogue, programme: str, org_unit: str,
                period: str) -> ReturnAddress:
    """Resolve a return's address (codes as people type them); the return may not exist yet."""
    prog = catalogue.programmes.get(programme.strip().upper())
    if prog is None:
        raise NotFound(message_text(message(N_("Programme %(code)s is not known."), code=repr(programme))))
    unit = find_org_unit(catalogue, org_unit)
    if unit is None:
        raise NotFound(message_text(message(
            N_("Org unit %(org_unit)s is not known: use KE, a county code (042), a sub-county (SC238) or ward code "
               "(W1186), or a name."), org_unit=repr(org_unit))))
    asked = periods.return_period(period, catalogue.forms.get(prog.id), prog.code)  # a quarter, or a month
    if unit.code not in catalogue.form_org_units(prog.id, asked.id):
        raise NotFound(message_text(message(N_("%(programme)s does not report for %(org_unit)s in %(period)s."),
                                    programme=prog.code, org_unit=unit.name, period=period_label(asked))))
    record = session.scalar(select(Return).where(
        Return.programme_id == prog.id, Return.org_unit_id == unit.id, Return.period == asked.id))
    return ReturnAddress(prog, unit, asked.id, record)


def check_read(user: User, programme: Programme, unit) -> None:
    if not can_access(user, programme.id, unit):
        raise Forbidden(message_text(message(N_("You may not see %(programme)s returns for %(org_unit)s."),
                                     programme=programme.code, org_unit=unit.name)))


def find_readable(session: Session, catalogue: Catalogue, user: User, programme: str, org_unit: str,
                  period: str) -> ReturnAddress:
    """A return's address resolved for a reader: scope checked, viewers limited to approved returns."""
    address = find_return(session, catalogue, programme, org_unit, period)
    check_read(user, address.programme, address.org_unit)
    if sees_approved_returns_only(user) and (address.record is None or address.record.state != "approved"):
        raise Forbidden(message_text(message(N_("Viewers see approved returns only."))))
    return address


def ensure_return(session: Session, catalogue: Catalogue, programme: Programme, unit, period: str,
                  now: datetime | None = None) -> Return:
    """The return at an address, created as an empty draft if it does not exist."""
    record = session.scalar(select(Return).where(
        Return.programme_id == programme.id, Return.org_unit_id == unit.id, Return.period == period))
    if record is None:
        now = now or utcnow()
        record = Return(programme_id=programme.id, org_unit_id=unit.id, period=period,
                        form_id=catalogue.forms[programme.id].id, state="draft", version=1,
                        created_at=now, updated_at=now)
        session.add(record)
        session.flush()
    return record


# What a refused writer may not do to returns ("change", "submit"), in the words of each refusal.
CANNOT = {"change": N_("%(people)s cannot change returns."), "submit": N_("%(people)s cannot submit returns.")}
MAY_NOT = {"change": N_("You may not change %(programme)s returns for %(org_unit)s."),
           "submit": N_("You may not submit %(programme)s returns for %(org_unit)s.")}


def check_enter(user: User, programme: Programme, unit, what: str = "change") -> None:
    """Refuse (403) a user whose role or scope does not let them write this programme's returns here."""
    if user.role not in ENTERING_ROLES:
        raise Forbidden(message_text(message(CANNOT[what], people=Message(ROLE_PLURALS[user.role]))))
    if not can_enter(user, programme.id, unit):
        raise Forbidden(message_text(message(MAY_NOT[what], programme=programme.code, org_unit=unit.name)))


def return_label(programme: Programme, unit, period: str) -> Joined:
    """A return's name in messages: "OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025)", its period in words."""
    return Joined(" ", (programme.code, unit.name, period_label(parse_period(period))))


def check_writable(user: User, catalogue: Catalogue, programme: Programme, unit, period: str,
                   record: Return | None, now: datetime, what: str = "change") -> None:
    """Refuse unless this user may write this return now: role and scope (403), state, window (422).

    The rules the ingest applies to figures (`can_enter`, `is_editable`, `window_problem`), for the
    writes that are not figures: the narrative and the submission.
    """
    check_enter(user, programme, unit, what)
    label = return_label(programme, unit, period)
    if not is_editable(record):
        raise ValidationFailed(message_text(Joined(": ", (label, not_editable_message(record, label)))))
    reason = window_problem(catalogue.forms[programme.id], period, user, clock.today(now), unit.id)
    if reason:
        raise ValidationFailed(message_text(Joined(": ", (label, reason))))


NOT_YET_EXPLAINED = N_("Not yet explained: choose a reason or write one next to the warning, or correct the figure.")


def submit_summary(label: Words | str, errors: int, unexplained: int) -> Message:
    """Why a return cannot be submitted, counted: "… cannot be submitted: 1 error and 2 unexplained warnings."."""
    return message(N_("%(label)s cannot be submitted: %(errors)s and %(warnings)s."), label=label,
                   errors=message(N_("%(count)s error") if errors == 1 else N_("%(count)s errors"), count=errors),
                   warnings=message(N_("%(count)s unexplained warning") if unexplained == 1
                                    else N_("%(count)s unexplained warnings"), count=unexplained))


def submit(session: Session, user: User, record: Return, *, channel: str = "web",
           now: datetime | None = None, catalogue: Catalogue | None = None) -> ReturnEvent:
    """Submit a return: no errors, every required figure present, every warning explained."""
    catalogue = catalogue or load_catalogue(session)
    now = now or utcnow()
    unit = catalogue.org_unit_by_id[record.org_unit_id]
    programme = catalogue.programme_by_id[record.programme_id]
    check_writable(user, catalogue, programme, unit, record.period, record, now, what="submit")
    errors, unexplained = checks.submission_problems(session, record, catalogue)
    details = [ErrorDetail(e.message, e.location) for e in errors]
    details += [ErrorDetail(message_text(Joined(" ", (f.words, Message(NOT_YET_EXPLAINED)))), {"flag": f.flag_key})
                for f in unexplained]
    if details:
        raise ValidationFailed(message_text(submit_summary(return_label(programme, unit, record.period), len(errors),
                                                   len(unexplained))), details[:200])
    event = move(session, record, "submitted", user, channel=channel, now=now)
    from mel.review import notify

    notify.submitted(session, record, user)
    return event


def explain_flags(session: Session, user: User, record: Return, explanations: dict[int, str], *,
                  shown: dict[int, str] | None = None) -> int:
    """Store the officer's explanations of warnings (flag id → text), each with the code of its
    reason (indicators/explanations.py); returns how many changed.

    `shown` (flag id → flag key, as the page showed them) finds a flag that a write of figures in
    the same request stored again under a new id; a warning that write made go away is skipped.
    """
    if not is_editable(record):
        raise ValidationFailed(message_text(message(
            N_("Explanations can only be changed while the return is editable."))))
    changed = 0
    flags = {f.id: f for f in session.scalars(select(ValueFlag).where(ValueFlag.return_id == record.id))}
    by_key = {f.flag_key: f for f in flags.values()}
    shown = shown or {}
    for flag_id, text in explanations.items():
        if flag_id in shown:
            flag = by_key.get(shown[flag_id])
            if flag is None:
                continue
        else:
            flag = flags.get(flag_id)
        if flag is None:
            raise NotFound(message_text(message(N_("Flag %(flag)s does not belong to this return."), flag=flag_id)))
        text = text.strip()
        flag.explanation_code = explanation_code(text)  # also codes a flag explained before codes were kept
        if text != flag.explanation:
            flag.explanation, flag.explained_by_id = text, user.id
            changed += 1
            if flag.indicator_id and flag.option_combo_id:
                # The explanation travels with the figure it explains (exports, the report annex).
                session.execute(update(DataValue).where(
                    DataValue.return_id == record.id, DataValue.indicator_id == flag.indicator_id,
                    DataValue.option_combo_id == flag.option_combo_id,
                ).values(explanation=text).execution_options(synchronize_session=False))
    session.flush()
    return changed


def save_narrative(session: Session, user: User, catalogue: Catalogue, programme: Programme, unit,
                   period: str, narrative: str, *, channel: str = "web", expected_version: int | None = None,
                   now: datetime | None = None) -> Return | None:
    """Write a return's narrative under the rules of its figures, and audit the change.

    Role and scope are checked on every write; window and state only when the text changes (as for
    figures: sending what is stored is not a change). The return is created if it does not exist
    yet and the text is not empty. Bumps the version; returns the return (None if there is none).
    """
    narrative = narrative.strip()
    check_enter(user, programme, unit)
    record = session.scalar(select(Return).where(
        Return.programme_id == programme.id, Return.org_unit_id == unit.id, Return.period == period))
    old = (record.narrative or "") if record is not None else ""
    if narrative == old:
        return record
    now = now or utcnow()
    check_writable(user, catalogue, programme, unit, period, record, now)
    record = record or ensure_return(session, catalogue, programme, unit, period, now)
    version = expected_version if expected_version is not None else record.version
    result = session.execute(update(Return).where(Return.id == record.id, Return.version == version)
                             .values(narrative=narrative, version=Return.version + 1, updated_at=now)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(checks.conflict_message(session, record, version))
    session.refresh(record)
    session.add(NarrativeChange(return_id=record.id, old_text=old, new_text=narrative, channel=channel,
                                return_version=record.version, changed_by_id=user.id, changed_at=now))
    session.flush()
    return record
