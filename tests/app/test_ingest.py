"""The ingest service: all-or-nothing, idempotent, located errors, scope, window, audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from mel.errors import Forbidden
from mel.returns.models import DataValue, Return, ValueChange, ValueFlag
from tests.app.returns_helpers import rows_like, send


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_a_clean_return_is_stored_then_resending_changes_nothing(session):
    rows = rows_like(session, "OPCT", ["042"])
    first = send(session, "officer.opct@demo.test", rows)
    assert first.outcome == "stored", [e.message for e in first.errors]
    assert first.total("created") == len(rows) and first.total("updated") == 0
    record = session.scalar(select(Return).where(Return.period == "2025Q3"))
    assert record.state == "draft" and record.version == 1
    audit = count(session, ValueChange)
    second = send(session, "officer.opct@demo.test", rows)
    assert second.outcome == "unchanged"
    assert f"0 updated, 0 deleted, {len(rows)} unchanged" in second.describe()
    assert count(session, ValueChange) == audit
    session.refresh(record)
    assert record.version == 1


def test_one_bad_cell_stores_nothing_and_is_pointed_at(session):
    rows = rows_like(session, "OPCT", ["001", "002", "003", "004", "005", "006", "007", "008", "009",
                                       "010", "011", "012", "013", "014"])
    assert len(rows) >= 500
    rows.loc[317, "value"] = "1,234"
    before = count(session, DataValue)
    result = send(session, "officer.opct@demo.test", rows)
    assert result.outcome == "refused"
    assert count(session, DataValue) == before
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.location["row"] == 319 and error.location["column"] == "E"
    assert "test.csv row 319, column E" in error.message and "Type 1234." in error.message and "Mandera, FY2025/26 Q1" in error.message


def test_updates_are_audited_with_old_and_new_values(session):
    rows = rows_like(session, "OPCT", ["042"])
    send(session, "officer.opct@demo.test", rows)
    changed = rows.copy()
    changed.loc[0, "value"] = str(int(changed.loc[0, "value"]) + 7)
    changed.loc[0, "comment"] = "payroll reconciled"
    result = send(session, "officer.opct@demo.test", changed)
    assert (result.total("created"), result.total("updated")) == (0, 1)
    change = session.scalars(select(ValueChange).order_by(ValueChange.id.desc())).first()
    assert change.new_value - change.old_value == 7
    assert change.channel == "csv" and change.new_comment == "payroll reconciled"
    assert change.return_version == 2


def test_a_file_mixing_allowed_and_forbidden_counties_is_refused_whole(session):
    rows = rows_like(session, "OPCT", ["042", "037"])
    before = count(session, DataValue)
    with pytest.raises(Forbidden) as info:
        send(session, "officer.kisumu@demo.test", rows)
    assert "Kakamega (037)" in info.value.message
    assert count(session, DataValue) == before


def test_after_the_window_closes_only_the_secretariat_can_send(session):
    rows = rows_like(session, "OPCT", ["042"])
    late = datetime(2025, 11, 20, tzinfo=UTC)
    refused = send(session, "officer.opct@demo.test", rows, now=late)
    assert refused.outcome == "refused"
    assert "closed on 14 November 2025" in refused.errors[0].message
    accepted = send(session, "secretariat@demo.test", rows, now=late)
    assert accepted.outcome == "stored"


def test_dry_run_reports_without_storing(session):
    rows = rows_like(session, "OPCT", ["042"])
    before = count(session, DataValue)
    result = send(session, "officer.opct@demo.test", rows, dry_run=True)
    assert result.outcome == "checked" and result.total("created") == len(rows)
    assert count(session, DataValue) == before


def test_far_from_history_is_a_warning_that_does_not_block_saving(session):
    rows = rows_like(session, "OPCT", ["042"])
    index = rows.index[rows["indicator"] == "SA15"][0]
    rows.loc[index, "value"] = str(int(rows.loc[index, "value"]) * 4)
    result = send(session, "officer.opct@demo.test", rows)
    assert result.outcome == "stored"
    flagged = [w for w in result.warnings if w.location.get("indicator") == "SA15"]
    assert [w.code for w in flagged] == ["outlier"]
    assert flagged[0].message.startswith("test.csv row 31, column E — Kisumu, FY2025/26 Q1 — Number of beneficiaries exited (SA15): ")
    assert "is far from its usual level" in flagged[0].message and "over the last 8 quarters" in flagged[0].message
    # Kept with the return, the warning is placed by its figure, not by the file it came in.
    stored = session.scalar(select(ValueFlag).where(ValueFlag.kind == "outlier"))
    assert stored.message.startswith("Kisumu, FY2025/26 Q1 — Number of beneficiaries exited (SA15): ")


def test_a_rule_over_indicators_refuses_inconsistent_figures(session):
    rows = rows_like(session, "OPCT", ["042"])
    index = rows.index[(rows["indicator"] == "SA02") & (rows["option"] == "F")][0]
    rows.loc[index, "value"] = str(int(rows.loc[index, "value"]) * 3)
    result = send(session, "officer.opct@demo.test", rows)
    assert result.outcome == "refused"
    assert any("(VR01)" in e.message and "(SA02)" in e.message for e in result.errors)
