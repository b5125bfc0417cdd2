"""The demo lives on its date: history up to the last closed quarter, the reporting quarter open
with returns in every state, current plans and a published sector report; deterministic and idempotent."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, selectinload

from indicators.periods import parse_period
from mel.accounts.operations import load_user
from mel.app import create_app
from mel.catalogue.models import (
    Indicator,
    OptionCombo,
    OrgUnit,
    Programme,
    ReportingForm,
    ReportingFormOrgUnit,
)
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from mel.demo import DemoCalendar, load_demo, shift_period
from mel.migrate import upgrade
from mel.plans.models import (
    SECTOR,
    Activity,
    ActivityUpdate,
    Pmp,
    PmpLine,
    PmpVersion,
    Target,
    WorkPlan,
)
from mel.reporting.models import ReportRun
from mel.returns.models import DataValue, Return, ReturnEvent, ValueFlag
from mel.returns.workflow import window_for, window_problem
from mel.review.models import ValueQuery
from tests.helpers import fresh_database_url

LATE = date(2026, 12, 4)  # after the forms' own window for 2026Q3 has closed: the demo widens it
MID = date(2026, 2, 20)  # mid-quarter: nine quarters of history


def test_the_calendar_follows_the_date():
    late, mid, anchor = DemoCalendar(LATE), DemoCalendar(MID), DemoCalendar(date(2025, 10, 5))
    assert (late.reporting.id, late.current_fy, late.shift) == ("2026Q3", "2026July", 1)
    assert [late.history[0].id, late.history[-1].id, len(late.history)] == ["2024Q3", "2026Q2", 8]
    assert (mid.reporting.id, mid.current_fy, mid.shift) == ("2025Q4", "2025July", 0)
    assert [mid.history[0].id, mid.history[-1].id, len(mid.history)] == ["2023Q3", "2025Q3", 9]
    assert [q.id for q in anchor.history] == [q.id for q in parse_period("2023July").quarters()
                                             + parse_period("2024July").quarters()]
    # The longest history: the reporting quarter is the last of its financial year.
    assert len(DemoCalendar(date(2027, 8, 2)).history) == 11
    assert late.anchor(parse_period("2026Q2")).id == "2025Q2" and shift_period("2024July", 2) == "2026July"


def test_a_bad_date_is_a_clear_click_error(runner):
    result = runner.invoke(args=["demo", "--as-of", "2026-13-04"])
    assert result.exit_code == 2
    assert "Invalid value for '--as-of'" in result.output and "%Y-%m-%d" in result.output


def _build(tmp_path_factory, name: str, as_of: date, report: bool = True):
    url = fresh_database_url(tmp_path_factory, name)
    instance = tmp_path_factory.mktemp(f"{name}-instance")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING")
    said: list[str] = []
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        summary = load_demo(db.session, as_of=as_of, say=said.append, report=report)
        db.session.commit()
        db.session.close()
    return app, url, summary, said


def fingerprint(url: str) -> str:
    """A digest of every return, figure, flag, query and event of a demo database, by codes."""
    engine = create_engine(url)
    digest = hashlib.sha256()
    with Session(engine) as session:
        key = (Programme.code, OrgUnit.code, Return.period)
        queries = [
            select(*key, Return.state, Return.version, Return.is_late, Return.submitted_at, Return.approved_at,
                   Return.narrative).join(Programme, Programme.id == Return.programme_id)
            .join(OrgUnit, OrgUnit.id == Return.org_unit_id).order_by(*key),
            select(*key, Indicator.code, DataValue.component, OptionCombo.code, DataValue.value,
                   DataValue.explanation).join(Return, Return.id == DataValue.return_id)
            .join(Programme, Programme.id == Return.programme_id).join(OrgUnit, OrgUnit.id == Return.org_unit_id)
            .join(Indicator, Indicator.id == DataValue.indicator_id)
            .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
            .order_by(*key, Indicator.code, DataValue.component, OptionCombo.code),
            select(*key, ValueFlag.flag_key, ValueFlag.message, ValueFlag.explanation)
            .join(Return, Return.id == ValueFlag.return_id).join(Programme, Programme.id == Return.programme_id)
            .join(OrgUnit, OrgUnit.id == Return.org_unit_id).order_by(*key, ValueFlag.flag_key),
            select(*key, ValueQuery.indicator_id, ValueQuery.component, ValueQuery.status, ValueQuery.raised_at)
            .join(Return, Return.id == ValueQuery.return_id).join(Programme, Programme.id == Return.programme_id)
            .join(OrgUnit, OrgUnit.id == Return.org_unit_id).order_by(*key, ValueQuery.indicator_id),
            select(*key, ReturnEvent.from_state, ReturnEvent.to_state, ReturnEvent.at, ReturnEvent.reason)
            .join(Return, Return.id == ReturnEvent.return_id).join(Programme, Programme.id == Return.programme_id)
            .join(OrgUnit, OrgUnit.id == Return.org_unit_id).order_by(*key, ReturnEvent.at, ReturnEvent.to_state),
            select(Pmp.scope, Pmp.fiscal_year, PmpVersion.number, Target.period, Target.value)
            .join(PmpVersion, PmpVersion.pmp_id == Pmp.id).join(PmpLine, PmpLine.version_id == PmpVersion.id)
            .join(Target, Target.line_id == PmpLine.id)
            .order_by(Pmp.scope, Pmp.fiscal_year, PmpVersion.number, PmpLine.position, Target.org_unit_id, Target.period),
            select(WorkPlan.fiscal_year, Activity.code, ActivityUpdate.period, ActivityUpdate.status,
                   ActivityUpdate.percent_complete).join(Activity, Activity.plan_id == WorkPlan.id)
            .join(ActivityUpdate, ActivityUpdate.activity_id == Activity.id)
            .order_by(WorkPlan.fiscal_year, Activity.code, ActivityUpdate.period),
        ]
        for query in queries:
            for row in session.execute(query):
                digest.update(repr(tuple(row)).encode())
    engine.dispose()
    return digest.hexdigest()


@pytest.fixture(scope="module")
def late(tmp_path_factory):
    app, url, summary, said = _build(tmp_path_factory, "demo_late", LATE)
    yield app, url, summary, said
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def mid(tmp_path_factory):
    app, url, summary, said = _build(tmp_path_factory, "demo_mid", MID, report=False)  # the report: `late`
    yield app, url, summary, said
    with app.app_context():
        db.engine.dispose()


def _open_quarter_checks(app, as_of: date) -> None:
    calendar = DemoCalendar(as_of)
    quarter = calendar.reporting.id
    with app.app_context():
        session = db.session
        periods = dict(session.execute(select(Return.period, func.count()).group_by(Return.period)).all())
        history = [q.id for q in calendar.history]
        assert len(history) >= 8 and history[-1] == calendar.reporting.previous().id
        assert sorted(periods) == [*history, quarter]
        history_states = set(session.scalars(select(Return.state).where(Return.period.in_(history)).distinct()))
        assert history_states == {"approved"}

        forms = session.scalars(select(ReportingForm).options(
            selectinload(ReportingForm.programme),
            selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
            selectinload(ReportingForm.windows))).all()
        kisumu = load_user(session, "officer.kisumu@demo.test")
        for form in forms:
            assert window_for(form, quarter).state(as_of) == "open", form.code
            assert window_problem(form, quarter, kisumu, as_of) is None
        expected = sum(len(form.org_units_in(quarter)) for form in forms)
        states = dict(session.execute(select(Return.state, func.count()).where(Return.period == quarter)
                                      .group_by(Return.state)).all())
        assert {"draft", "submitted", "returned", "approved"} <= set(states), states
        assert sum(states.values()) < expected  # some returns are not started

        def state_of(programme: str, unit: str) -> str | None:
            return session.scalar(select(Return.state).join(Programme, Programme.id == Return.programme_id)
                                  .join(OrgUnit, OrgUnit.id == Return.org_unit_id)
                                  .where(Programme.code == programme, OrgUnit.code == unit, Return.period == quarter))

        assert state_of("OPCT", "042") == "draft" and state_of("COUNTY", "042") is None
        opct_open = session.scalar(select(func.count()).select_from(Return).join(Programme)
                                   .where(Programme.code == "OPCT", Return.period == quarter,
                                          Return.state.in_(("draft", "returned"))))
        assert opct_open > 0

        flags = session.execute(select(ValueFlag.explanation).join(Return, Return.id == ValueFlag.return_id)
                                .where(Return.period == quarter)).scalars().all()
        assert any(f for f in flags) and any(not f for f in flags)
        statuses = set(session.scalars(select(ValueQuery.status).join(Return, Return.id == ValueQuery.return_id)
                                       .where(Return.period == quarter)))
        assert {"open", "answered"} <= statuses
        reasons = session.scalars(select(ReturnEvent.reason).join(Return, Return.id == ReturnEvent.return_id)
                                  .where(Return.period == quarter, ReturnEvent.to_state == "returned")).all()
        assert reasons and all(r.strip() for r in reasons)
        # Every event of the open quarter falls inside the window, before the date.
        window_opens = min(window_for(form, quarter).opens for form in forms)
        times = session.scalars(select(ReturnEvent.at).join(Return, Return.id == ReturnEvent.return_id)
                                .where(Return.period == quarter)).all()
        from mel import clock

        assert all(window_opens <= clock.local(t).date() <= as_of for t in times)


def _plans_checks(app, as_of: date) -> None:
    calendar = DemoCalendar(as_of)
    current, previous = calendar.current_fy, parse_period(calendar.current_fy).previous().id
    with app.app_context():
        session = db.session
        for fy in (current, previous):
            scopes = set(session.scalars(select(Pmp.scope).where(Pmp.fiscal_year == fy, Pmp.current_version > 0)))
            assert {SECTOR, "OPCT", "HSNP", "NSSF"} <= scopes, fy
            county_targets = session.scalar(
                select(func.count(func.distinct(Target.org_unit_id))).join(PmpLine, PmpLine.id == Target.line_id)
                .join(PmpVersion, PmpVersion.id == PmpLine.version_id).join(Pmp, Pmp.id == PmpVersion.pmp_id)
                .join(OrgUnit, OrgUnit.id == Target.org_unit_id)
                .where(Pmp.scope == "HSNP", Pmp.fiscal_year == fy, OrgUnit.level == 2))
            assert county_targets == 8, fy
        plan = session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == current))
        done = {q.id for q in parse_period(current).quarters() if q <= calendar.reporting}
        recorded = set(session.scalars(select(ActivityUpdate.period).join(Activity).where(Activity.plan_id == plan.id)))
        assert recorded == done
        assert plan.title.endswith(parse_period(current).fy_label)


@pytest.mark.slow
def test_late_in_the_year_the_quarter_is_open_with_every_state(late):
    app, _, summary, said = late
    _open_quarter_checks(app, LATE)
    text = summary.describe()
    assert "2024Q3–2026Q2 approved" in text and "2026Q3 open until 14 Dec 2026" in text
    assert "widened the window of 9 reporting forms" in text
    assert any("sector report for 2026Q2" in line and "20 seconds" in line for line in said)


@pytest.mark.slow
def test_mid_quarter_the_history_has_nine_quarters(mid):
    app, _, summary, _ = mid
    _open_quarter_checks(app, MID)
    _plans_checks(app, MID)
    assert "2023Q3–2025Q3 approved" in summary.describe()


@pytest.mark.slow
def test_plans_for_the_current_and_previous_year(late):
    _plans_checks(late[0], LATE)


@pytest.mark.slow
def test_the_last_closed_quarter_has_its_sector_report_and_fact_sheets_published(late):
    app = late[0]
    with app.app_context():
        runs = db.session.scalars(select(ReportRun).where(ReportRun.published_at.is_not(None))
                                  .order_by(ReportRun.id)).all()
        assert [(r.kind, r.period, r.language) for r in runs] == [
            ("sector", "2026Q2", "en"), ("factsheet", "2026Q2", "en"), ("factsheet", "2026Q2", "sw")]
        assert runs[0].page_count > 5 and [r.page_count for r in runs[1:]] == [2, 2]
        assert all(Path(r.file_path).read_bytes().startswith(b"%PDF") for r in runs)


@pytest.mark.slow
def test_the_history_is_the_fixed_demo_moved_by_a_year(late, session):
    """2024Q3 of the late demo tells 2023Q3 of the fixed one (the suite's database): same figures."""
    app = late[0]

    def totals(s: Session, first: str, last: str) -> list:
        return s.execute(select(Indicator.code, DataValue.component, func.sum(DataValue.value))
                         .join(Indicator, Indicator.id == DataValue.indicator_id)
                         .where(DataValue.period.between(first, last))
                         .group_by(Indicator.code, DataValue.component)
                         .order_by(Indicator.code, DataValue.component)).all()

    with app.app_context():
        moved = totals(db.session, "2024Q3", "2024Q3")
    assert moved and moved == totals(session, "2023Q3", "2023Q3")
    with app.app_context():
        reason = db.session.scalar(select(PmpVersion.reason).join(Pmp).where(Pmp.scope == "OPCT",
                                                                          Pmp.fiscal_year == "2025July",
                                                                          PmpVersion.number == 2))
    assert reason.startswith("Mid-year review: targets raised after the June 2025 enrolment")


@pytest.mark.slow
def test_running_it_again_changes_nothing(late):
    app, url, _, said = late
    before = fingerprint(url)
    with app.app_context():
        again = load_demo(db.session, as_of=LATE, say=said.append)
        db.session.commit()
        runs = db.session.scalar(select(func.count()).select_from(ReportRun))
    assert again.describe() == "Demo data already loaded: nothing changed."
    assert runs == 3
    assert fingerprint(url) == before


@pytest.mark.slow
def test_the_same_date_gives_the_same_data(late, tmp_path_factory):
    app, url, _, _ = _build(tmp_path_factory, "demo_late_again", LATE, report=False)  # no report in the digest
    try:
        assert fingerprint(url) == fingerprint(late[1])
    finally:
        with app.app_context():
            db.engine.dispose()
