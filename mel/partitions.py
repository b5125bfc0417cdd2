"""History that stays fast on PostgreSQL: data values and their audit partitioned by financial year.

`data_value` is partitioned by LIST of its `period`: one partition per July–June financial year
holding its four quarters and twelve months (`data_value_fy2025` holds 2025Q3…2026Q2 and
202507…202606), so a query for a quarter or a year (`period IN (…)`, as every results query
asks) reads that year's partition only. `value_change`, the append-only audit of every figure, is
partitioned by RANGE of `changed_at` over the same years (Nairobi time). A DEFAULT partition of
each (`…_other`) takes what falls outside the years made, so an insert never fails for want of a
partition.

Migration 0034 turns the tables into partitioned ones (PostgreSQL only: SQLite keeps plain
tables) with every year from FY2000/01 to two years ahead; the scheduler's `partitions` job makes
the next years' partitions ahead of time (`ensure_ahead`). Making one is idempotent. A year whose
rows already wait in the DEFAULT partition is left there and said so (moving them would rewrite
approved figures; an administrator moves them with the statement the job prints).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

from indicators.periods import financial_year_of

VALUES, AUDIT = "data_value", "value_change"
YEARS_AHEAD = 2  # the scheduler keeps the current financial year and two more made
PARTITION_NAME = re.compile(rf"^({VALUES}|{AUDIT})_(fy\d{{4}}|other)$")
NAIROBI = "+03:00"


def is_partition(name: str | None) -> bool:
    """Whether a table name is one of the partitions (migrations and the model check skip them)."""
    return bool(name and PARTITION_NAME.match(name))


def year_periods(year: int) -> list[str]:
    """The periods stored in the financial year starting July `year`: four quarters and twelve months."""
    quarters = [f"{year}Q3", f"{year}Q4", f"{year + 1}Q1", f"{year + 1}Q2"]
    months = [f"{year}{m:02d}" for m in range(7, 13)] + [f"{year + 1}{m:02d}" for m in range(1, 7)]
    return quarters + months


def name(table: str, year: int) -> str:
    return f"{table}_fy{year}"


def is_partitioned(connection: Connection, table: str = VALUES) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(connection.execute(text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :t AND c.relnamespace = current_schema()::regnamespace"), {"t": table}).scalar())


def existing(connection: Connection, table: str) -> set[str]:
    """Names of the partitions of `table`."""
    return set(connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t"), {"t": table}).scalars())


def _values_bounds(year: int) -> str:
    return "FOR VALUES IN (" + ", ".join(f"'{p}'" for p in year_periods(year)) + ")"


def _audit_bounds(year: int) -> str:
    return f"FOR VALUES FROM ('{year}-07-01 00:00{NAIROBI}') TO ('{year + 1}-07-01 00:00{NAIROBI}')"


@dataclass
class Made:
    """What `ensure` did: partitions made, and years left in a DEFAULT partition (with why)."""

    made: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def describe(self) -> str:
        said = f"made {', '.join(self.made)}" if self.made else "every partition was there"
        return said + (f"; {'; '.join(self.waiting)}" if self.waiting else "")


def ensure(connection: Connection, years: list[int]) -> Made:
    """Make the partitions of these financial years (by their first calendar year) that are missing."""
    done = Made()
    if not is_partitioned(connection):
        return done
    for table, bounds, waiting_rows in (
            (VALUES, _values_bounds, lambda y: connection.execute(text(
                f"SELECT count(*) FROM {VALUES}_other WHERE period IN :p").bindparams(  # noqa: S608 (constants)
                    _expanding("p")), {"p": year_periods(y)}).scalar()),
            (AUDIT, _audit_bounds, lambda y: connection.execute(text(
                f"SELECT count(*) FROM {AUDIT}_other WHERE changed_at >= :a AND changed_at < :b"),  # noqa: S608
                {"a": f"{y}-07-01 00:00{NAIROBI}", "b": f"{y + 1}-07-01 00:00{NAIROBI}"}).scalar())):
        have = existing(connection, table)
        for year in sorted(set(years)):
            partition = name(table, year)
            if partition in have:
                continue
            rows = waiting_rows(year)
            if rows:
                done.waiting.append(f"{rows} row(s) of FY{year}/{(year + 1) % 100:02d} wait in {table}_other: "
                                    f"detach it, create {partition}, move them, attach it again")
                continue
            connection.execute(text(f"CREATE TABLE {partition} PARTITION OF {table} {bounds(year)}"))
            done.made.append(partition)
    return done


def _expanding(key: str):
    from sqlalchemy import bindparam

    return bindparam(key, expanding=True)


def ensure_ahead(connection: Connection, today: date, ahead: int = YEARS_AHEAD) -> Made:
    """The current financial year's partitions and the next `ahead` years'."""
    first = financial_year_of(today).year
    return ensure(connection, list(range(first, first + ahead + 1)))
