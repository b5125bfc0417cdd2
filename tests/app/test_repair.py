"""`mel returns repair`: a database written by the old import (every quarter of a county in one
return) is repaired, then upgraded to the schema that makes it impossible.

The test builds the broken state on a fresh database at revision 0008, before the composite
foreign key exists, exactly as the old `_store` left it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mel.app import create_app
from mel.catalogue.models import Indicator, OptionCombo, OrgUnit, Programme, ReportingForm
from mel.db import db
from mel.migrate import alembic_config, current_revision, heads
from mel.returns.models import DataValue, Return, ReturnEvent, ValueChange
from mel.returns.repair import misplaced_count
from tests.helpers import fresh_database_url

QUARTERS = ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
AT = datetime(2026, 7, 20, 8, 0, tzinfo=UTC)
APPROVED_AT = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def old_app(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "repair")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("repair")),
                     LOG_LEVEL="WARNING")
    runner = app.test_cli_runner()
    # The catalogue as this code seeds it, then the schema taken back to before 0009.
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert runner.invoke(args=["seed"]).exit_code == 0
    with app.app_context():
        command.downgrade(alembic_config(db.engine), "0008")
        db.engine.dispose()
    yield app
    with app.app_context():
        db.session.rollback()
        db.engine.dispose()


class Builder:
    """Writes returns and values the way the import before 0009 did."""

    def __init__(self, session):
        self.session = session
        self.programme_id = session.scalar(select(Programme.id).where(Programme.code == "OPCT"))
        self.form_id = session.scalar(select(ReportingForm.id).where(ReportingForm.programme_id == self.programme_id))
        self.units = dict(session.execute(select(OrgUnit.code, OrgUnit.id)).all())
        # Columns only: the catalogue's later columns do not exist in a 0008 schema.
        self.figures = {
            code: session.execute(select(Indicator.id, OptionCombo.id)
                                  .join(OptionCombo, OptionCombo.set_id == Indicator.disaggregation_set_id)
                                  .where(Indicator.code == code, OptionCombo.code == option)).one()
            for code, option in (("SA15", "default"), ("SA14", "F_A70P"))}

    def ret(self, unit: str, period: str) -> int:
        return self.session.scalar(insert(Return).returning(Return.id).values(
            programme_id=self.programme_id, org_unit_id=self.units[unit], period=period, form_id=self.form_id,
            state="draft", version=1, narrative="", is_late=False, created_at=AT, updated_at=AT))

    def value(self, return_id: int, unit: str, period: str, code: str, value: int) -> None:
        indicator_id, combo_id = self.figures[code]
        self.session.execute(insert(DataValue).values(
            return_id=return_id, indicator_id=indicator_id, component="value", option_combo_id=combo_id,
            programme_id=self.programme_id, org_unit_id=self.units[unit], period=period, value=Decimal(value),
            comment="", explanation="", created_at=AT, updated_at=AT))
        self.session.execute(insert(ValueChange).values(
            return_id=return_id, indicator_id=indicator_id, component="value", option_combo_id=combo_id,
            old_value=None, new_value=Decimal(value), old_comment="", new_comment="", explanation="", reason="",
            channel="csv", return_version=1, changed_at=AT))

    def move(self, return_id: int, *states: str) -> None:
        for state in states:
            values = {"state": state}
            if state == "approved":
                values |= {"approved_at": APPROVED_AT}
            self.session.execute(update(Return).where(Return.id == return_id).values(**values))


def build_broken_database(session) -> dict:
    b = Builder(session)
    ids = {}
    # Kisumu: a year in one file; the four returns were created, every figure went to the last.
    for quarter in QUARTERS:
        ids[("042", quarter)] = b.ret("042", quarter)
    for n, quarter in enumerate(QUARTERS):
        b.value(ids[("042", "2026Q2")], "042", quarter, "SA15", 100 + n)
        b.value(ids[("042", "2026Q2")], "042", quarter, "SA14", 500 + n)
    b.move(ids[("042", "2026Q2")], "submitted", "approved")
    # Mombasa: the return of 2025Q3 is missing; its figure sits in the 2025Q4 draft.
    ids[("001", "2025Q4")] = b.ret("001", "2025Q4")
    b.value(ids[("001", "2025Q4")], "001", "2025Q4", "SA15", 40)
    b.value(ids[("001", "2025Q4")], "001", "2025Q3", "SA15", 39)
    # Nairobi: a misplaced approved figure would join a draft with figures of its own.
    ids[("047", "2025Q3")] = b.ret("047", "2025Q3")
    ids[("047", "2025Q4")] = b.ret("047", "2025Q4")
    b.value(ids[("047", "2025Q3")], "047", "2025Q3", "SA14", 70)
    b.value(ids[("047", "2025Q4")], "047", "2025Q3", "SA15", 7)
    b.value(ids[("047", "2025Q4")], "047", "2025Q4", "SA15", 8)
    b.move(ids[("047", "2025Q4")], "submitted", "approved")
    session.commit()
    return ids


def holdings(session) -> dict:
    """(org unit, period of the return) -> sorted (period, value) of the figures it holds."""
    rows = session.execute(
        select(OrgUnit.code, Return.period, DataValue.period, DataValue.value)
        .join(Return, Return.id == DataValue.return_id).join(OrgUnit, OrgUnit.id == Return.org_unit_id)).all()
    found: dict = {}
    for unit, return_period, period, value in rows:
        found.setdefault((unit, return_period), []).append((period, int(value)))
    return {key: sorted(v) for key, v in found.items()}


def state_of(session, unit: str, period: str) -> Return:
    return session.scalar(select(Return).join(OrgUnit, OrgUnit.id == Return.org_unit_id)
                          .where(OrgUnit.code == unit, Return.period == period))


def test_repair_moves_each_figure_to_its_own_return_then_the_upgrade_goes_through(old_app):
    runner = old_app.test_cli_runner()
    with old_app.app_context():
        session = db.session
        ids = build_broken_database(session)
        assert misplaced_count(session) == 8

    refused = runner.invoke(args=["db", "upgrade"])
    assert refused.exit_code == 1
    assert "8 data values sit in the return of another quarter" in refused.output
    assert "mel returns repair" in refused.output
    with old_app.app_context():
        assert current_revision(db.engine) == "0008"

    dry = runner.invoke(args=["returns", "repair", "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert "OPCT 042 Kisumu 2025Q3: 2 figures in return" in dry.output and "would move" in dry.output
    assert "Nothing was changed (dry run)" in dry.output
    with old_app.app_context():
        assert misplaced_count(db.session) == 8

    first = runner.invoke(args=["returns", "repair"])
    assert first.exit_code == 1, first.output  # Nairobi needs a person
    assert "Moved 7 figures to 4 return(s), 1 of them created" in first.output
    assert "OPCT 047 Nairobi City 2025Q3: 1 figure in return" in first.output and "left there" in first.output
    with old_app.app_context():
        session = db.session
        held = holdings(session)
        for n, quarter in enumerate(QUARTERS):
            assert held[("042", quarter)] == [(quarter, 100 + n), (quarter, 500 + n)]
            record = state_of(session, "042", quarter)
            # Approved figures stay approved: no published result changes.
            assert record.state == "approved" and record.approved_at is not None
        assert held[("001", "2025Q3")] == [("2025Q3", 39)] and held[("001", "2025Q4")] == [("2025Q4", 40)]
        assert state_of(session, "001", "2025Q3").state == "draft"
        assert held[("047", "2025Q4")] == [("2025Q3", 7), ("2025Q4", 8)]
        # The trail: where each figure left and where it arrived; every state passed through.
        moved_audit = session.scalars(select(ValueChange).where(ValueChange.channel == "system")).all()
        assert len(moved_audit) == 14
        source = ids[("042", "2026Q2")]
        assert sorted(int(c.old_value) for c in moved_audit if c.return_id == source) == [100, 101, 102, 500, 501, 502]
        events = session.execute(select(ReturnEvent.from_state, ReturnEvent.to_state).where(
            ReturnEvent.return_id == ids[("042", "2025Q3")])).all()
        assert events == [("draft", "submitted"), ("submitted", "approved")]
        assert misplaced_count(session) == 1
        # The person's decision: the secretariat reopens Nairobi's approved return.
        session.execute(update(Return).where(Return.id == ids[("047", "2025Q4")]).values(state="reopened"))
        session.commit()

    second = runner.invoke(args=["returns", "repair"], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert "Moved 1 figure to 1 return(s), 0 of them created" in second.output
    # The last misplaced figure gone, the repair brings the schema up and recomputes the warnings.
    assert "Upgraded the database to revision" in second.output and "of 8 repaired return(s)" in second.output
    with old_app.app_context():
        session = db.session
        assert holdings(session)[("047", "2025Q3")] == [("2025Q3", 7), ("2025Q3", 70)]
        before = session.execute(select(Return.id, Return.state, Return.version).order_by(Return.id)).all()
        audit = session.scalar(select(func.count()).select_from(ValueChange))

    third = runner.invoke(args=["returns", "repair"])
    assert third.exit_code == 0 and "No misplaced figures" in third.output
    with old_app.app_context():
        session = db.session
        assert session.execute(select(Return.id, Return.state, Return.version).order_by(Return.id)).all() == before
        assert session.scalar(select(func.count()).select_from(ValueChange)) == audit

    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    with old_app.app_context():
        session = db.session
        assert current_revision(db.engine) == heads()[0]
        assert holdings(session)[("042", "2026Q1")] == [("2026Q1", 102), ("2026Q1", 502)]
        value_id = session.scalar(select(DataValue.id).where(DataValue.return_id == ids[("042", "2025Q3")]).limit(1))
        # Now the database refuses a misplaced figure, and still guards the approved return.
        with pytest.raises(IntegrityError):
            session.execute(update(DataValue).where(DataValue.id == value_id).values(return_id=ids[("042", "2025Q4")]))
        session.rollback()
        with pytest.raises(IntegrityError):
            session.execute(update(DataValue).where(DataValue.id == value_id).values(value=Decimal(1)))
        session.rollback()
