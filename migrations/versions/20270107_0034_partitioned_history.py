"""partitioned history: data values and their audit partitioned by financial year (PostgreSQL)

`data_value` becomes PARTITION BY LIST (period), one partition per July–June financial year with
its four quarters and twelve months; `value_change` becomes PARTITION BY RANGE (changed_at) over
the same years (Nairobi time). Each has a DEFAULT partition (`…_other`). The primary keys become
(id, period) and (id, changed_at): a partitioned table's keys hold its partition key; ids still come
from the same sequences. Constraints, indexes and triggers are made again under their own names;
the rows are copied. Partitions: every year from FY2000/01 (earlier if the data has it) to two years
ahead (the scheduler's `partitions` job keeps making the years ahead, mel/partitions.py), so history
loaded later for a past year lands in its own partition.

SQLite keeps plain tables: nothing changes there.

Revision ID: 0034
Revises: 0033
Create Date: 2027-01-07 09:00:00.000000

"""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

NAIROBI = "+03:00"
FIRST_YEAR = 2000  # FY2000/01: every year from it gets its partitions (history loaded later lands in its own)


def _fy(year_month: tuple[int, int]) -> int:
    year, month = year_month
    return year if month >= 7 else year - 1


def _period_year(period: str) -> int | None:
    """The financial year (its first calendar year) of a quarter (2025Q3) or a month (202509); None otherwise."""
    if re.fullmatch(r"\d{4}Q[1-4]", period):
        return _fy((int(period[:4]), 3 * int(period[5]) - 2))
    if re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", period):
        return _fy((int(period[:4]), int(period[4:])))
    return None


def _periods(year: int) -> list[str]:
    return ([f"{year}Q3", f"{year}Q4", f"{year + 1}Q1", f"{year + 1}Q2"]
            + [f"{year}{m:02d}" for m in range(7, 13)] + [f"{year + 1}{m:02d}" for m in range(1, 7)])


def _short(name: str) -> str:
    return ("old_" + name)[:63]


def _rebuild(table: str, partition_by: str | None, key: list[str], partitions: list[str]) -> None:
    """Make `table` again (partitioned by `partition_by`, or plain), its rows, keys, constraints, indexes
    and triggers as they were; `key` the primary key's columns; `partitions` their CREATE statements."""
    bind = op.get_bind()
    oid = bind.execute(sa.text("SELECT to_regclass(:t)::oid"), {"t": table}).scalar()
    triggers = bind.execute(sa.text("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = :o "
                                    "AND NOT tgisinternal ORDER BY tgname"), {"o": oid}).scalars().all()
    constraints = bind.execute(sa.text("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                                       "WHERE conrelid = :o ORDER BY contype, conname"), {"o": oid}).all()
    indexes = bind.execute(sa.text(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = :o AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid "
        "AND c.conrelid = :o) ORDER BY i.relname"), {"o": oid}).all()
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
    old = f"{table}_before"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    for name, kind, _ in constraints:
        if kind in ("p", "u"):
            op.execute(f'ALTER TABLE {old} RENAME CONSTRAINT "{name}" TO "{_short(name)}"')
    for name, _ in indexes:
        op.execute(f'ALTER INDEX "{name}" RENAME TO "{_short(name)}"')
    clause = f" PARTITION BY {partition_by}" if partition_by else ""
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS){clause}")
    for name, kind, definition in constraints:
        if kind == "p":
            definition = f"PRIMARY KEY ({', '.join(key)})"
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        op.execute(re.sub(rf" ON (ONLY )?(\S+\.)?{old} ", f" ON {table} ", definition, count=1))
    for statement in partitions:
        op.execute(statement)
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    if sequence:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id")
    op.execute(f"DROP TABLE {old}")
    for definition in triggers:
        op.execute(definition)
    op.execute(f"ANALYZE {table}")


def _years(bind) -> tuple[list[int], list[int]]:
    today = date.today()
    now = _fy((today.year, today.month))
    ahead = set(range(now, now + 3))
    values = {_period_year(p) for p in bind.execute(sa.text("SELECT DISTINCT period FROM data_value")).scalars()}
    values.discard(None)
    changes = bind.execute(sa.text(
        f"SELECT min(changed_at AT TIME ZONE '{NAIROBI}'), max(changed_at AT TIME ZONE '{NAIROBI}') "
        "FROM value_change")).one()
    audit = set(ahead) | {FIRST_YEAR}
    if changes[0] is not None:
        audit |= {_fy((changes[0].year, changes[0].month)), _fy((changes[1].year, changes[1].month))}
    values |= ahead | {FIRST_YEAR}
    # Every year from FY2000/01 (or the first with figures) to two years ahead, the years between included.
    return list(range(min(values), max(values) + 1)), list(range(min(audit), max(audit) + 1))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    value_years, audit_years = _years(bind)
    _rebuild("data_value", "LIST (period)", ["id", "period"],
             [f"CREATE TABLE data_value_fy{y} PARTITION OF data_value FOR VALUES IN ("
              + ", ".join(f"'{p}'" for p in _periods(y)) + ")" for y in value_years]
             + ["CREATE TABLE data_value_other PARTITION OF data_value DEFAULT"])
    _rebuild("value_change", "RANGE (changed_at)", ["id", "changed_at"],
             [f"CREATE TABLE value_change_fy{y} PARTITION OF value_change FOR VALUES FROM "
              f"('{y}-07-01 00:00{NAIROBI}') TO ('{y + 1}-07-01 00:00{NAIROBI}')" for y in audit_years]
             + ["CREATE TABLE value_change_other PARTITION OF value_change DEFAULT"])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _rebuild("value_change", None, ["id"], [])
    _rebuild("data_value", None, ["id"], [])
