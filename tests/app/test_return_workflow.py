"""Submission, states, locks, scope, version conflicts, and the database's own guards."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from mel.accounts.operations import create_token, create_user, load_user
from mel.app import create_app
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from mel.errors import Conflict, Forbidden, ValidationFailed
from mel.migrate import upgrade
from mel.returns import operations
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import DataValue, Return, ReturnEvent, ValueFlag
from mel.returns.workflow import move
from tests.app.returns_helpers import IN_WINDOW, rows_like, send
from tests.helpers import csrf_token, flat_rows, fresh_database_url, login


def stored_return(session, rows=None, programme="OPCT", unit="042"):
    rows = rows if rows is not None else rows_like(session, programme, [unit])
    result = send(session, "officer.opct@demo.test" if programme == "OPCT" else "secretariat@demo.test", rows,
                  programme=programme)
    assert result.outcome == "stored", [e.message for e in result.errors]
    return session.get(Return, result.returns[0].return_id)


def test_submit_a_complete_clean_return(session):
    record = stored_return(session)
    officer = load_user(session, "officer.opct@demo.test")
    with time_machine.travel(IN_WINDOW, tick=False):
        event = operations.submit(session, officer, record)
    assert (event.from_state, event.to_state) == ("draft", "submitted")
    assert record.state == "submitted" and record.is_late is False and record.submitted_by_id == officer.id


def test_submitting_after_the_due_date_marks_the_return_late(session):
    record = stored_return(session)
    with time_machine.travel(datetime(2025, 10, 20, tzinfo=UTC), tick=False):
        operations.submit(session, load_user(session, "officer.opct@demo.test"), record)
    assert record.is_late is True


def test_missing_required_figures_block_submission_and_are_listed(session):
    rows = rows_like(session, "OPCT", ["042"])
    rows = rows[rows["indicator"] != "SA12.D"].reset_index(drop=True)
    rows = rows[rows["indicator"] != "SA12.N"].reset_index(drop=True)
    record = stored_return(session, rows)
    with time_machine.travel(IN_WINDOW, tick=False), pytest.raises(ValidationFailed) as info:
        operations.submit(session, load_user(session, "officer.opct@demo.test"), record)
    messages = [d.message for d in info.value.details]
    assert any("SA12.N" in m and "this figure is required but empty" in m for m in messages)
    assert any("SA12.D" in m for m in messages)
    assert record.state == "draft"


def test_unexplained_warnings_block_submission_until_explained(session):
    rows = rows_like(session, "OPCT", ["042"])
    index = rows.index[(rows["indicator"] == "SA14") & (rows["option"] == "F_A70P")][0]
    rows.loc[index, "value"] = str(int(rows.loc[index, "value"]) * 4)
    record = stored_return(session, rows)
    officer = load_user(session, "officer.opct@demo.test")
    flags = session.scalars(select(ValueFlag).where(ValueFlag.return_id == record.id)).all()
    assert len(flags) == 1 and not flags[0].is_explained
    with time_machine.travel(IN_WINDOW, tick=False):
        with pytest.raises(ValidationFailed, match="1 unexplained warning"):
            operations.submit(session, officer, record)
        operations.explain_flags(session, officer, record, {flags[0].id: "Mass enrolment drive in Kisumu."})
        operations.submit(session, officer, record)
    assert record.state == "submitted"
    explained = session.scalar(select(DataValue).where(DataValue.return_id == record.id,
                                                       DataValue.explanation != ""))
    assert explained.explanation == "Mass enrolment drive in Kisumu."


def test_explanations_typed_in_the_file_are_kept_with_the_flag(session):
    rows = rows_like(session, "OPCT", ["042"])
    index = rows.index[(rows["indicator"] == "SA14") & (rows["option"] == "F_A70P")][0]
    rows.loc[index, "value"] = str(int(rows.loc[index, "value"]) * 4)
    rows.loc[index, "explanation"] = "Enrolment drive after the June cycle."
    record = stored_return(session, rows)
    flag = session.scalar(select(ValueFlag).where(ValueFlag.return_id == record.id))
    assert flag.explanation == "Enrolment drive after the June cycle."
    value = session.scalar(select(DataValue).where(DataValue.return_id == record.id,
                                                   DataValue.explanation != ""))
    assert value.explanation == "Enrolment drive after the June cycle."


def test_only_drafts_returned_and_reopened_returns_can_change(session):
    record = stored_return(session)
    officer = load_user(session, "officer.opct@demo.test")
    reviewer = load_user(session, "reviewer@demo.test")
    secretariat = load_user(session, "secretariat@demo.test")
    with time_machine.travel(IN_WINDOW, tick=False):
        operations.submit(session, officer, record)
        rows = rows_like(session, "OPCT", ["042"], factor=1.02)
        refused = send(session, "officer.opct@demo.test", rows)
        assert refused.outcome == "refused"
        assert "submitted and waiting for review" in refused.errors[0].message
        move(session, record, "approved", reviewer)
        assert send(session, "secretariat@demo.test", rows).outcome == "refused"
        with pytest.raises(ValidationFailed, match="reason"):
            move(session, record, "reopened", secretariat)
        with pytest.raises(Forbidden):
            move(session, record, "reopened", reviewer, reason="typo")
        move(session, record, "reopened", secretariat, reason="Kisumu payroll corrected after audit")
        assert send(session, "officer.opct@demo.test", rows).outcome == "stored"
    events = session.scalars(select(ReturnEvent).where(ReturnEvent.return_id == record.id)
                             .order_by(ReturnEvent.id)).all()
    assert [(e.from_state, e.to_state) for e in events] == [
        ("draft", "submitted"), ("submitted", "approved"), ("approved", "reopened")]
    assert events[-1].reason == "Kisumu payroll corrected after audit"


def test_an_unchanged_upload_of_an_approved_return_is_not_an_error(session):
    rows = rows_like(session, "OPCT", ["042"], source="2025Q2", period="2025Q2", factor=1.0)
    result = send(session, "officer.opct@demo.test", rows,
                  now=datetime(2025, 7, 5, tzinfo=UTC))
    assert result.outcome == "unchanged" and not result.errors


def test_the_database_refuses_edits_of_a_locked_return(session):
    value = session.scalar(select(DataValue).join(Return).where(Return.state == "approved").limit(1))
    with pytest.raises((IntegrityError, DBAPIError)):
        with session.begin_nested():
            session.execute(text("UPDATE data_value SET value = value + 1 WHERE id = :id"), {"id": value.id})
    record = session.scalar(select(Return).where(Return.state == "approved").limit(1))
    with pytest.raises((IntegrityError, DBAPIError)):
        with session.begin_nested():
            session.execute(text("UPDATE data_return SET state = 'draft' WHERE id = :id"), {"id": record.id})
    with pytest.raises((IntegrityError, DBAPIError)):
        with session.begin_nested():
            session.execute(text("DELETE FROM return_event WHERE return_id = :id"), {"id": record.id})


def test_a_stale_version_is_refused_with_409_naming_what_changed(client, session):
    stored_return(session)
    token = create_token(session, "officer.opct@demo.test").token
    headers = {"Authorization": f"Bearer {token}"}
    with time_machine.travel(IN_WINDOW, tick=False):
        current = client.get("/api/v1/returns/OPCT/042/2025Q3", headers=headers).json
        assert current["version"] == 1 and current["state"] == "draft"
        sa02 = next(v for v in current["values"] if v["indicator"] == "SA02" and v["option"] == "F")
        first = {"version": 1, "values": [{"indicator": "SA02", "option": "F", "value": int(sa02["value"]) + 1},
                                          {"indicator": "SA01", "option": "F_A70P", "value": int(sa02["value"]) + 1}]}
        assert client.put("/api/v1/returns/OPCT/042/2025Q3", json=first, headers=headers).status_code == 200
        second = {"version": 1, "values": [{"indicator": "SA02", "option": "F", "value": int(sa02["value"]) + 2},
                                           {"indicator": "SA01", "option": "F_A70P", "value": int(sa02["value"]) + 2}]}
        response = client.put("/api/v1/returns/OPCT/042/2025Q3", json=second, headers=headers)
    assert response.status_code == 409
    message = response.json["message"]
    assert "version 2" in message and "you edited version 1" in message
    assert "officer.opct@demo.test changed 2 figures" in message
    assert "Number of older persons (70+) receiving OPCT / Inua Jamii 70+ (SA02), women " in message


def test_an_officer_cannot_read_or_write_outside_their_scope(client, session):
    token = create_token(session, "officer.kisumu@demo.test").token
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/returns/OPCT/037/2025Q2", headers=headers).status_code == 403
    assert client.get("/api/v1/returns/HSNP/023/2025Q2", headers=headers).status_code == 403
    assert client.get("/api/v1/returns/OPCT/042/2025Q2", headers=headers).status_code == 200
    put = client.put("/api/v1/returns/OPCT/037/2025Q3", json={"version": 0, "values": []}, headers=headers)
    assert put.status_code == 403


def test_return_pages_respect_scope_and_roles(client, session):
    login(client, "officer.kisumu@demo.test")
    assert client.get("/returns/OPCT/042/2025Q2").status_code == 200
    assert client.get("/returns/OPCT/037/2025Q2").status_code == 403
    assert client.get("/returns/OPCT/037/2025Q2/template.xlsx").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "viewer@demo.test")
    assert client.get("/returns/OPCT/042/2025Q2").status_code == 200  # approved
    assert client.get("/returns/OPCT/042/2026Q3").status_code == 403  # not approved
    assert client.get("/upload").status_code == 403


def test_two_concurrent_saves_one_wins_the_other_gets_a_conflict(tmp_path_factory):
    """Real connections and real commits on a database of its own: both saves start from version 1."""
    url = fresh_database_url(tmp_path_factory, "concurrent")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("c")))
    now = datetime(2026, 4, 5, tzinfo=UTC)  # the 2026Q1 window is open
    with app.app_context():
        upgrade(db.engine)
        setup = db.session
        seed_catalogue(setup)
        create_user(setup, "sps@example.test", "secretariat", password="a-long-enough-password")
        setup.commit()
        first = ingest(setup, load_user(setup, "sps@example.test"),
                       Incoming(flat_rows(setup, "HSNP", "023", "2026Q1", 100), "api"), programme="HSNP", now=now)
        assert first.outcome == "stored", [e.message for e in first.errors]
        setup.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(base: int) -> None:
        with app.app_context():
            session = db.session
            user = load_user(session, "sps@example.test")
            changed = flat_rows(session, "HSNP", "023", "2026Q1", base)
            # Like two people who both loaded version 1 and now press save at the same moment.
            session.commit()
            barrier.wait()
            try:
                result = ingest(session, user, Incoming(changed, "api"), programme="HSNP", now=now,
                                expected_version=1)
                session.commit()
                outcomes.append(result.outcome)
            except Conflict as exc:
                session.rollback()
                outcomes.append("conflict: " + exc.message)

    threads = [threading.Thread(target=save, args=(base,)) for base in (102, 104)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "stored"], outcomes
    conflict = next(o for o in outcomes if o.startswith("conflict"))
    assert "you edited version 1" in conflict and "sps@example.test changed" in conflict
    with app.app_context():
        record = db.session.scalar(select(Return).where(Return.period == "2026Q1"))
        assert record.version == 2
        db.engine.dispose()
