"""The demo's open quarter, as people find it on `as_of`: made with the app's own operations.

The quarter being reported gets its window open for officers, returns in every state (not started,
draft, submitted, returned, approved) with warnings explained and unexplained, and queries on single
figures answered and unanswered; the last closed quarter gets a published sector report and fact sheet (English and Kiswahili). The figures
are the demo generator's (mel/demo.py) for the anchor quarter; the states come from fixed seeds, so
one date always gives the same returns. Actors are the demo users; every event is timed inside the
window, before `as_of`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.figures import figure_code, ingest_frame, ingest_row
from mel import clock
from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import ReportingForm
from mel.demo import DemoCalendar, DemoSummary, _demo_forms, return_figures
from mel.errors import MelError
from mel.reporting import operations as reporting
from mel.reporting.models import ReportRun
from mel.returns import operations as returns
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import DataValue, Return, ValueFlag
from mel.returns.workflow import window_for
from mel.review import operations as review

# How the open quarter's returns stand on `as_of` (weights of a seeded draw per return).
STATE_WEIGHTS = {"approved": 3, "submitted": 3, "returned": 1, "draft": 2, "not_started": 2}
# Returns whose state is fixed, so each demo officer finds work: the Kisumu officer (OPCT and the
# county scheme in 042) a draft to finish and a return to start; the desks of the single-unit forms
# one of each kind for the reviewer.
FIXED_STATES = {("OPCT", "042"): "draft", ("COUNTY", "042"): "not_started", ("OPCT", "001"): "submitted",
                ("NSSF", "KE"): "submitted", ("SHA", "KE"): "approved", ("SPS", "KE"): "draft"}
DUE_AFTER_AS_OF = 10  # days: a widened window is due this long after `as_of`
# Explanations officers give for a figure far from its history (reasons of indicators/explanations.py).
EXPLANATIONS = (
    "New enrolment wave: households registered in the recertification were paid for the first time.",
    "Payroll cleaning: beneficiaries found deceased or duplicated in the IPRS check were removed.",
    "Arrears paid or payment delayed: two payment cycles fell in this quarter.",
)
QUESTIONS = (
    "This is well above last quarter; is the payroll extract the final one?",
    "Please confirm the figure against the payment reconciliation report.",
    "The county's share of the national figure moved; what changed?",
)
ANSWERS = (
    "Confirmed against the final payroll extract; the increase is the new enrolment wave.",
    "Checked with the payment reconciliation: the figure is right.",
)


@dataclass(frozen=True)
class Moments:
    """The instants of the open quarter's events: from the window's opening to `as_of`, in order."""

    start: datetime
    stop: datetime

    def at(self, share: float, index: int = 0) -> datetime:
        """An instant `share` of the way from the opening to `as_of`, a few minutes apart per return."""
        return self.start + (self.stop - self.start) * share + timedelta(minutes=index % 45)


def load_live(session: Session, calendar: DemoCalendar, summary: DemoSummary,
              say: Callable[[str], None] | None = None, report: bool = True) -> None:
    """Open the reporting quarter's window, fill its returns, and publish the last closed quarter's report."""
    config = current_app.config
    forms = _demo_forms(session)
    _open_window(session, forms, calendar, summary)
    quarter = calendar.reporting
    if session.scalar(select(Return.id).where(Return.period == quarter.id).limit(1)) is None:
        _live_returns(session, forms, calendar, summary)
    if report:
        _publish_sector_report(session, calendar, summary, config, say)


def _open_window(session: Session, forms: list[ReportingForm], calendar: DemoCalendar,
                 summary: DemoSummary) -> None:
    """Widen each form's window where `as_of` falls after it, never narrower than the form's own days."""
    quarter = calendar.reporting
    elapsed = (calendar.as_of - quarter.end).days
    widened = 0
    for form in forms:
        if window_for(form, quarter.id).state(calendar.as_of) == "open":
            continue
        days = form.window_row_in(quarter.id) or form  # the days in force for the quarter
        grace = days.closes_days - days.due_days
        days.opens_days = min(days.opens_days, elapsed)
        days.due_days = max(days.due_days, elapsed + DUE_AFTER_AS_OF)
        days.closes_days = max(days.closes_days, days.due_days + grace)
        widened += 1
    session.flush()
    if widened:
        summary.live.append(
            f"The demo widened the window of {widened} reporting forms so that {quarter.label} is open on "
            f"{_day(calendar.as_of)} (the forms' due and closing days; the catalogue's reporting forms show them).")


def _day(day) -> str:
    return f"{day.day} {day:%b %Y}"


def _moments(forms: list[ReportingForm], calendar: DemoCalendar) -> Moments:
    opens = max(window_for(form, calendar.reporting.id).opens for form in forms)
    zone = clock.zone()
    start = datetime.combine(opens, time(8, 0), tzinfo=zone)
    stop = datetime.combine(calendar.as_of, time(8, 0), tzinfo=zone)
    if stop <= start:  # the window opens on `as_of` itself: the morning's first hour
        stop = start + timedelta(hours=1)
    return Moments(start, stop)


def _state(form: ReportingForm, unit_code: str, calendar: DemoCalendar) -> str:
    fixed = FIXED_STATES.get((form.programme.code, unit_code))
    if fixed:
        return fixed
    rng = random.Random(f"live/{form.code}/{unit_code}/{calendar.anchor(calendar.reporting).id}")
    return rng.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()))[0]


def _figures(form: ReportingForm, unit, calendar: DemoCalendar, state: str) -> list[dict]:
    """The return's figures as an officer would send them: the generator's, one of them jumped for
    some returns (it draws a warning), a draft only part filled."""
    anchor = calendar.anchor(calendar.reporting)
    rows = return_figures(form, unit, anchor, calendar.reporting.id)
    rng = random.Random(f"live-figures/{form.code}/{unit.code}/{anchor.id}")
    jumped = rng.random() < 0.35 or (form.programme.code, unit.code) in FIXED_STATES
    ordered = sorted({item.indicator.code for item in form.items_in(calendar.reporting.id)})
    kept = set(ordered[: max(1, len(ordered) * 2 // 3)]) if state == "draft" and rng.random() < 0.5 else set(ordered)
    jump = _jump_code(ordered)
    figures = []
    for row in rows:
        if row["code"] not in kept:
            continue
        value = Decimal(row["value"])
        if jumped and row["component"] == "value" and row["code"] == jump:
            value = (value * Decimal("1.6")).to_integral_value()
        figures.append(ingest_row(row["indicator"], row["option"], unit.code, calendar.reporting.id, str(value)))
    return figures


def _jump_code(codes) -> str:
    """The count that jumps in a warned return: the programme's payroll-like stock, else its first count."""
    for code in ("SA01", "SA07", "SA16", "SA17", "SS01", "HI01", "SPX06"):
        if code in codes:
            return code
    return sorted(codes)[0]


def _live_returns(session: Session, forms: list[ReportingForm], calendar: DemoCalendar,
                  summary: DemoSummary) -> None:
    catalogue = load_catalogue(session)
    moments = _moments(forms, calendar)
    reviewer = load_user(session, "reviewer@demo.test")
    quarter = calendar.reporting
    states: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    queries: Counter[str] = Counter()
    index = 0
    for form in sorted(forms, key=lambda f: f.programme.code):
        programme = form.programme
        officer = load_user(session, f"officer.{programme.code.lower()}@demo.test")
        asked = form.org_units_in(quarter.id)
        planned = {unit.code: _state(form, unit.code, calendar) for unit in asked}
        states.update(planned.values())
        rows = [row for unit in asked if planned[unit.code] != "not_started"
                for row in _figures(form, unit, calendar, planned[unit.code])]
        if not rows:
            continue
        result = ingest(session, officer, Incoming(ingest_frame(rows), "excel", f"{programme.code}-{quarter.id}.xlsx"),
                        programme=programme.code, now=moments.at(0.2))
        if result.errors:
            raise MelError(f"The demo's {programme.code} figures for {quarter.id} were refused: "
                           + "; ".join(e.message for e in result.errors[:5]))
        records = {r.org_unit_id: r for r in session.scalars(
            select(Return).where(Return.programme_id == programme.id, Return.period == quarter.id))}
        for unit in asked:
            state = planned[unit.code]
            record = records.get(unit.id)
            if record is None:
                continue
            index += 1
            unexplained = list(session.scalars(select(ValueFlag).where(ValueFlag.return_id == record.id)
                                               .order_by(ValueFlag.id)))
            leave = state == "draft" and index % 3 != 0  # most drafts still have their warnings to explain
            if unexplained and not leave:
                rng = random.Random(f"live-explain/{form.code}/{unit.code}")
                returns.explain_flags(session, officer, record, {f.id: rng.choice(EXPLANATIONS) for f in unexplained})
                flags["explained"] += len(unexplained)
            elif unexplained:
                flags["unexplained"] += len(unexplained)
            if state == "draft":
                continue
            returns.submit(session, officer, record, channel="web", now=moments.at(0.4, index), catalogue=catalogue)
            if state == "returned":
                review.return_to_officer(
                    session, catalogue, reviewer, record, ["outlier"],
                    f"{_jump_code(catalogue.form_indicators(programme.id, quarter.id))} is far above last quarter; check the "
                    "payroll extract and resubmit.", now=moments.at(0.7, index))
            elif state == "approved":
                review.approve(session, catalogue, reviewer, record, now=moments.at(0.7, index))
            elif state == "submitted" and index % 2 == 0:
                queries[_query(session, catalogue, reviewer, officer, record, moments, index)] += 1
    due = min(window_for(form, quarter.id).due for form in forms)
    summary.live.append(
        f"{quarter.id} open until {_day(due)}: {states['not_started']} not started, {states['draft']} drafts, {states['submitted']} submitted "
        f"({queries['open']} with an open query, {queries['answered']} with an answered one), "
        f"{states['returned']} returned, {states['approved']} approved; {flags['explained']} warnings explained, "
        f"{flags['unexplained']} waiting for an explanation.")


def _query(session: Session, catalogue, reviewer, officer, record: Return, moments: Moments, index: int) -> str:
    """The reviewer asks about one figure of the return's jumped count; every other query is answered."""
    code = _jump_code(catalogue.form_indicators(record.programme_id, record.period))
    stored = session.execute(select(DataValue.component, DataValue.option_combo_id).where(
        DataValue.return_id == record.id, DataValue.indicator_id == catalogue.indicators[code].id)
        .order_by(DataValue.option_combo_id, DataValue.component).limit(1)).first()
    if stored is None:
        return "none"
    component, combo = stored
    query = review.raise_query(session, catalogue, reviewer, record, figure_code(code, component),
                               catalogue.combo_codes[combo], QUESTIONS[index % len(QUESTIONS)],
                               now=moments.at(0.7, index))
    if index % 4 == 0:
        review.answer_query(session, catalogue, officer, query, ANSWERS[index % len(ANSWERS)],
                            now=moments.at(0.85, index))
        return "answered"
    return "open"


def _publish_sector_report(session: Session, calendar: DemoCalendar, summary: DemoSummary, config,
                           say: Callable[[str], None] | None) -> None:
    """The sector report of the last closed quarter, and its fact sheet in English and Kiswahili,
    generated and published as the secretariat would (the public page shows them: /public)."""
    period = calendar.history[-1].id
    secretariat = load_user(session, "secretariat@demo.test")
    for kind, language, words in (("sector", "en", "the sector report"), ("factsheet", "en", "the fact sheet"),
                                  ("factsheet", "sw", "the fact sheet in Kiswahili")):
        published = session.scalar(select(ReportRun).where(
            ReportRun.kind == kind, ReportRun.period == period, ReportRun.language == language,
            ReportRun.published_at.is_not(None)).limit(1))
        if published is not None:
            continue
        if say:
            say(f"Rendering and publishing {words} for {period}"
                + (" (about 20 seconds)…" if kind == "sector" else "…"))
        run = reporting.request_report(session, kind=kind, period=period, user=secretariat, trigger="cli",
                                       language=language)
        run = reporting.execute(session, run.id, config)  # commits as it goes
        if run.state != "done":
            raise MelError(f"The demo's {words} for {period} could not be rendered: {run.error.splitlines()[0]}")
        reporting.publish(session, run, secretariat, config)
        summary.live.append(f"Published {words} for {period} (report run {run.id}, {run.page_count} pages).")
