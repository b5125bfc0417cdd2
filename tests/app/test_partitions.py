"""On PostgreSQL the figures and their audit are partitioned by financial year (migration 0034): a
quarter's or a year's results read that year's partition only, the results and review-queue queries
have an index for every table they read (EXPLAIN with sequential scans off), and the scheduler makes
the coming years' partitions, once, leaving a year whose rows wait in the DEFAULT partition alone."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, select, text

from mel.catalogue.lookup import read_catalogue
from mel.partitions import (
    AUDIT,
    VALUES,
    ensure,
    ensure_ahead,
    existing,
    is_partition,
    is_partitioned,
    year_periods,
)
from mel.results.queries import load_aggregated, load_values, resolve_query
from mel.returns.models import DataValue, Return
from mel.review.queries import review_queue
from mel.scheduler.jobs import JOBS

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(session):
    if session.bind.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's (SQLite keeps one table)")


@contextmanager
def statements(session):
    """The SQL statements (with their parameters) the block sends."""
    seen: list[tuple[str, object]] = []
    engine = session.bind.engine

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def plans(session, seen, *, seqscan: bool = True) -> list[str]:
    """EXPLAIN of each statement that reads data values, returns or settled spans."""
    connection = session.connection()
    if not seqscan:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    out = []
    for statement, parameters in seen:
        if re.search(r"\b(data_value|data_return|figure_span)\b", statement) and statement.lstrip().upper().startswith("SELECT"):
            out.append("\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)))
    if not seqscan:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
    return out


def partitions_read(plan: str) -> set[str]:
    return set(re.findall(rf"\b({VALUES}_(?:fy\d{{4}}|other))\b", plan))


def test_figures_and_their_audit_are_partitioned_by_financial_year(session):
    connection = session.connection()
    assert is_partitioned(connection, VALUES) and is_partitioned(connection, AUDIT)
    have = existing(connection, VALUES)
    assert {"data_value_fy2024", "data_value_fy2025", "data_value_other"} <= have and all(map(is_partition, have))
    this_year = date.today().year if date.today().month >= 7 else date.today().year - 1
    assert {f"data_value_fy{this_year + n}" for n in range(3)} <= have  # the years ahead, made by the migration
    assert {f"value_change_fy{this_year + n}" for n in range(3)} <= existing(connection, AUDIT)
    # Each row lives in its year's partition: the demo history 2024Q3–2025Q2 in data_value_fy2024.
    total = session.scalar(select(func.count()).select_from(DataValue).where(DataValue.period.in_(year_periods(2024))))
    assert total > 0 and connection.execute(text("SELECT count(*) FROM data_value_fy2024")).scalar() == total
    assert connection.execute(text("SELECT count(*) FROM data_value_other")).scalar() == 0
    assert year_periods(2025)[:4] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"] and year_periods(2025)[4] == "202507"


@pytest.mark.parametrize(("period", "quarters"), [("2025Q1", ["2025Q1"]),
                                                  ("2024July", ["2024Q3", "2024Q4", "2025Q1", "2025Q2"])])
def test_results_for_a_quarter_or_a_year_read_that_years_partition_only(session, period, quarters):
    catalogue = read_catalogue(session)
    query = resolve_query(catalogue, indicators=None, period=period, org_unit="KE", programme=None)
    with statements(session) as seen:  # the data values, as read when the settled spans may not be (summary.py)
        load_aggregated(session, catalogue, query, quarters, [], settled=False)
        load_aggregated(session, catalogue, query, quarters, ["org_unit"], settled=False)
        load_values(session, catalogue, query, quarters)
    explained = [p for p in plans(session, seen) if VALUES in p]
    assert explained, "no statement read data values"
    for plan in explained:
        assert partitions_read(plan) == {"data_value_fy2024"}, plan


def test_the_results_and_review_queue_queries_have_an_index_for_every_table_they_read(session):
    catalogue = read_catalogue(session)
    query = resolve_query(catalogue, indicators=None, period="2025Q1", org_unit="042", programme=None)
    with statements(session) as seen:
        load_aggregated(session, catalogue, query, ["2025Q1"], [])  # the settled spans
        load_aggregated(session, catalogue, query, ["2025Q1"], [], settled=False)
        load_aggregated(session, catalogue, query, ["2025Q1", "2025Q2"], ["org_unit"])
        rows = review_queue(session, catalogue, "2025Q1")
    assert rows
    explained = plans(session, seen, seqscan=False)
    assert len(explained) >= 4 and any("figure_span" in p for p in explained)
    for plan in explained:
        assert "Seq Scan" not in plan, plan  # every table read has an index that serves the query
    queue_plans = [p for p in explained if "data_return" in p and "ix_data_return_period_state" in p]
    assert queue_plans, explained  # the review queue finds a period's returns through (period, state)


def test_the_scheduler_makes_the_coming_years_once(session):
    connection = session.connection()
    for table in ("data_value_fy2028", "value_change_fy2028"):  # as if the migration had made fewer years
        connection.execute(text(f"DROP TABLE {table}"))
    today = date(2027, 3, 1)  # FY2026/27: it, 2027/28 and 2028/29 are wanted
    first = ensure_ahead(connection, today)
    assert "data_value_fy2028" in first.made and "value_change_fy2028" in first.made
    assert ensure_ahead(connection, today).made == []
    assert "every partition was there" in ensure_ahead(connection, today).describe()
    assert "partitions" in JOBS
    result = JOBS["partitions"].function(session, {}, datetime(2027, 3, 1, 1, 30, tzinfo=UTC))
    assert result == "every partition was there"


def test_a_year_whose_rows_wait_in_the_default_partition_is_left_there_and_said(session):
    connection = session.connection()
    record = session.scalar(select(Return).where(Return.period == "2025Q1", Return.state == "approved").limit(1))
    far = "2040Q1"  # FY2039/40: no partition yet, so its figures go to data_value_other
    connection.execute(text(
        "INSERT INTO data_return (programme_id, org_unit_id, period, form_id, state, version, narrative, is_late, "
        "created_at, updated_at) VALUES (:p, :u, :q, :f, 'draft', 1, '', false, now(), now())"),
        {"p": record.programme_id, "u": record.org_unit_id, "q": far, "f": record.form_id})
    return_id = connection.execute(text("SELECT id FROM data_return WHERE period = :q"), {"q": far}).scalar()
    sample = session.scalar(select(DataValue).where(DataValue.return_id == record.id).limit(1))
    connection.execute(text(
        "INSERT INTO data_value (return_id, indicator_id, component, option_combo_id, programme_id, org_unit_id, "
        "period, value, comment, explanation, created_at, updated_at) VALUES (:r, :i, :c, :o, :p, :u, :q, 5, '', '', "
        "now(), now())"), {"r": return_id, "i": sample.indicator_id, "c": sample.component, "o": sample.option_combo_id,
                           "p": record.programme_id, "u": record.org_unit_id, "q": far})
    assert connection.execute(text("SELECT count(*) FROM data_value_other")).scalar() == 1
    made = ensure(connection, [2039])
    assert "data_value_fy2039" not in made.made and "value_change_fy2039" in made.made
    assert made.waiting == ["1 row(s) of FY2039/40 wait in data_value_other: detach it, create data_value_fy2039, "
                            "move them, attach it again"]
