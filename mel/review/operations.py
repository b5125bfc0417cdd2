"""Writes of the review: queries, corrections, decisions (approve, return, reopen), bulk approval."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.figures import figure_code, ingest_frame, ingest_row, split_code
from indicators.messages import N_, Joined, Message, message, period_label
from indicators.messages import text as message_text
from indicators.periods import parse_period
from mel.accounts import audit
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.db import utcnow
from mel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mel.returns import checks
from mel.returns.ingest import Incoming, IngestSettings, ingest
from mel.returns.models import Return, ReturnEvent, ValueFlag
from mel.returns.workflow import STATE_NAMES, move
from mel.review import notify
from mel.review.models import RETURN_REASONS, QueryMessage, ValueQuery
from mel.scopes import can_enter, can_review


def _reviewer(user: User) -> None:
    if not can_review(user):
        raise Forbidden(message_text(message(N_("Only MERL TWG reviewers and the secretariat review returns."))))


def _label(catalogue: Catalogue, record: Return) -> str:
    programme = catalogue.programme_codes[record.programme_id]
    unit = catalogue.org_unit_by_id[record.org_unit_id]
    return f"{programme} {unit.name} {parse_period(record.period).label}"


def _label_words(catalogue: Catalogue, record: Return) -> Joined:
    """`_label` as a message: the period in the reader's words."""
    programme = catalogue.programme_codes[record.programme_id]
    unit = catalogue.org_unit_by_id[record.org_unit_id]
    return Joined(" ", (programme, unit.name, period_label(parse_period(record.period))))


def figure_of(catalogue: Catalogue, code: str, option: str) -> tuple[int, str, int]:
    """(indicator id, component, option combo id) of a figure named like SA12.N / F_A70P."""
    indicator, component = split_code(code.strip().upper())
    if indicator not in catalogue.indicators:
        raise NotFound(message_text(message(N_("Indicator %(code)s is not in the catalogue."), code=repr(indicator))))
    combo = catalogue.combos.get((indicator, option or "default"))
    if combo is None:
        raise NotFound(message_text(message(N_("Option %(option)s is not valid for %(indicator)s."),
                                            option=repr(option), indicator=indicator)))
    if component not in catalogue.specs[indicator].components:
        figures = [figure_code(indicator, c) for c in catalogue.specs[indicator].components]
        raise ValidationFailed(message_text(message(
            N_("%(code)s is not a figure of %(indicator)s; use %(figures)s.") if len(figures) == 1
            else N_("%(code)s is not a figure of %(indicator)s; use %(figures)s or %(last)s."),
            code=code, indicator=indicator, figures=", ".join(figures[:-1]) if len(figures) > 1 else figures[0],
            last=figures[-1])))
    return catalogue.indicators[indicator].id, component, combo


def raise_query(session: Session, catalogue: Catalogue, user: User, record: Return, code: str, option: str,
                text: str, *, now: datetime | None = None) -> ValueQuery:
    """Ask the officer about one figure of a submitted return."""
    _reviewer(user)
    if record.state != "submitted":
        state = Message(STATE_NAMES[record.state]) if record.state in STATE_NAMES else record.state
        raise Conflict(message_text(message(N_("Queries are raised on submitted returns; this one is %(state)s."),
                                            state=state)))
    if not text.strip():
        raise ValidationFailed(message_text(message(N_("Write the question."))))
    indicator_id, component, combo = figure_of(catalogue, code, option)
    if session.scalar(select(ValueQuery.id).where(
            ValueQuery.return_id == record.id, ValueQuery.indicator_id == indicator_id,
            ValueQuery.component == component, ValueQuery.option_combo_id == combo, ValueQuery.status != "closed")):
        raise Conflict(message_text(message(
            N_("There is already an open query on %(figure)s %(option)s; add to its thread instead."),
            figure=code, option=option)))
    now = now or utcnow()
    query = ValueQuery(return_id=record.id, indicator_id=indicator_id, component=component, option_combo_id=combo,
                       status="open", raised_by_id=user.id, raised_at=now)
    session.add(query)
    session.flush()
    session.add(QueryMessage(query_id=query.id, author_id=user.id, kind="question", body=text.strip(), created_at=now))
    session.flush()
    notify.query_raised(session, record, user, code=code, option=option, text=text, query_id=query.id)
    return query


def answer_query(session: Session, catalogue: Catalogue, user: User, query: ValueQuery, text: str, *,
                 corrected_value: str | None = None, now: datetime | None = None,
                 settings: IngestSettings | None = None) -> QueryMessage:
    """The officer answers, and may correct the figure (through the ingest service and its audit)."""
    record = session.get(Return, query.return_id)
    unit = catalogue.org_unit_by_id[record.org_unit_id]
    programme = catalogue.programme_by_id[record.programme_id]
    if not can_enter(user, programme.id, unit):
        raise Forbidden(message_text(message(
            N_("Only the officer responsible for this return (or the secretariat) answers its queries."))))
    if query.status != "open":
        raise Conflict(message_text(message(N_("This query is no longer open."))))
    if not text.strip():
        raise ValidationFailed(message_text(message(
            N_("Write the answer (and why the figure is right or what was corrected)."))))
    now = now or utcnow()
    kind = "answer"
    if corrected_value not in (None, ""):
        indicator = catalogue.indicator_codes[query.indicator_id]
        option = catalogue.combo_codes[query.option_combo_id]
        rows = ingest_frame([ingest_row(figure_code(indicator, query.component), option, unit.code, record.period,
                                        str(corrected_value).strip(), explanation=text.strip())])
        result = ingest(session, user, Incoming(rows, "web"), programme=programme.code, now=now,
                        settings=settings)
        if result.errors:
            refused = Joined("; ", tuple(e.message for e in result.errors))
            raise ValidationFailed(message_text(Joined(": ", (Message(N_("The correction was refused")), refused))), [])
        if result.outcome == "stored":
            kind = "correction"
    answer = QueryMessage(query_id=query.id, author_id=user.id, kind=kind, body=text.strip(), created_at=now)
    session.add(answer)
    query.status = "answered"
    session.flush()
    notify.query_answered(session, record, user, text=text, message_id=answer.id)
    return answer


def close_query(session: Session, user: User, query: ValueQuery, text: str = "", *, now: datetime | None = None) -> None:
    _reviewer(user)
    if query.status == "closed":
        return
    now = now or utcnow()
    query.status, query.closed_by_id, query.closed_at = "closed", user.id, now
    session.add(QueryMessage(query_id=query.id, author_id=user.id, kind="close",
                             body=text.strip() or "Closed.", created_at=now))
    session.flush()


def approve(session: Session, catalogue: Catalogue, user: User, record: Return, *, channel: str = "web",
            now: datetime | None = None) -> ReturnEvent:
    """Approve a submitted return (locks it); open queries must be answered first."""
    _reviewer(user)
    queries = list(session.scalars(select(ValueQuery).where(ValueQuery.return_id == record.id,
                                                             ValueQuery.status != "closed")))
    if any(q.status == "open" for q in queries):
        raise Conflict(message_text(message(
            N_("%(label)s has open queries; wait for the answers or close them first."),
            label=_label_words(catalogue, record))))
    for query in queries:
        close_query(session, user, query, "Closed on approval.", now=now)
    return move(session, record, "approved", user, channel=channel, now=now, reason="Approved.")


def return_to_officer(session: Session, catalogue: Catalogue, user: User, record: Return, reason_codes: list[str],
                      text: str, *, channel: str = "web", now: datetime | None = None) -> ReturnEvent:
    """Send a submitted return back to the officer with reasons (codes and words, all kept)."""
    _reviewer(user)
    unknown = [c for c in reason_codes if c not in RETURN_REASONS]
    if unknown or not reason_codes:
        raise ValidationFailed(message_text(message(
            N_("Choose at least one reason from: %(reasons)s (not %(unknown)s).") if unknown
            else N_("Choose at least one reason from: %(reasons)s."),
            reasons=", ".join(RETURN_REASONS), unknown=", ".join(unknown))))
    event = move(session, record, "returned", user, reason=text, reason_codes=",".join(reason_codes),
                 channel=channel, now=now)
    notify.returned(session, record, reasons=reason_codes, text=text, event_id=event.id)
    return event


def reopen(session: Session, catalogue: Catalogue, user: User, record: Return, text: str, *,
           channel: str = "web", now: datetime | None = None) -> ReturnEvent:
    event = move(session, record, "reopened", user, reason=text, channel=channel, now=now)
    audit.record(session, "return.reopened", actor=user, object=_label(catalogue, record), details={"return_id": record.id, "reason": text})
    notify.reopened(session, record, text=text, event_id=event.id)
    return event


def is_clean(session: Session, catalogue: Catalogue, record: Return) -> tuple[bool, str]:
    """No errors, every warning explained, no open query: safe to approve in bulk. Why not: English
    text that remembers its message (a page says it with `mel.i18n.said`)."""
    errors, unexplained = checks.submission_problems(session, record, catalogue)
    open_queries = session.scalar(select(ValueQuery.id).where(ValueQuery.return_id == record.id,
                                                              ValueQuery.status != "closed").limit(1))
    if errors:
        return False, message_text(message(N_("%(count)s error(s)"), count=len(errors)))
    if unexplained:
        return False, message_text(message(N_("%(count)s unexplained warning(s)"), count=len(unexplained)))
    if open_queries:
        return False, message_text(message(N_("open queries")))
    return True, ""


def bulk_approve(session: Session, catalogue: Catalogue, user: User, records: list[Return], *,
                 channel: str = "web", now: datetime | None = None) -> tuple[list[Return], list[tuple[Return, str]]]:
    """Approve the clean submitted returns among `records`; say why the others were left."""
    _reviewer(user)
    approved, skipped = [], []
    for record in records:
        if record.state != "submitted":
            continue
        clean, why = is_clean(session, catalogue, record)
        if clean:
            move(session, record, "approved", user, channel=channel, now=now, reason="Approved in bulk (clean).")
            approved.append(record)
        else:
            skipped.append((record, why))
    return approved, skipped


def flags_of(session: Session, record: Return) -> list[ValueFlag]:
    return list(session.scalars(select(ValueFlag).where(ValueFlag.return_id == record.id)))
