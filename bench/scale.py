"""Benchmark at ward scale: about 50 million data values in PostgreSQL, partitioned by financial year.

Builds, in a fresh PostgreSQL database (migrations to head: data_value and value_change partitioned
by financial year), the 1,450 wards, PROGRAMMES programmes whose monthly forms ask every indicator
of every ward, and 36 months (FY2024/25–FY2026/27) of approved returns, loaded by COPY (the guard
triggers are off for the load: `session_replication_role = replica`). With the defaults that is
7 × 1,450 × 36 = 365,400 returns of 131 cells: about 48 million values. Then it times, in the same run,
each against what it is compared with:

- national and county results for a quarter and a financial year (our compile: the database's
  GROUP BY per unit, then indicators/compile.py) against a hand-written SQL GROUP BY computing the
  same sums (a window function takes each unit's latest month for stocks) — target ≤ 1.5×;
- the review queue of one month (target ≤ 1 s), the sector dashboard page (≤ 2 s), one county
  profile's figures (the report's gather, ≤ 5 s);
and prints the database's size and the plan of each query (EXPLAIN).

    python bench/scale.py --database-url postgresql://postgres@127.0.0.1:5432/mel_scale
    python bench/scale.py --database-url … --programmes 1 --months 12    # a smaller build to try it
    python bench/scale.py --reuse postgresql://postgres@127.0.0.1:5432/mel_scale_600   # time again
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import event, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.compile import timed, viewer_client  # noqa: E402
from bench.ingest import fresh_url  # noqa: E402
from indicators.compile import compile_span  # noqa: E402
from indicators.periods import parse_period  # noqa: E402
from mel.accounts.operations import create_user  # noqa: E402
from mel.app import create_app  # noqa: E402
from mel.catalogue.lookup import load_catalogue  # noqa: E402
from mel.catalogue.models import (  # noqa: E402
    Indicator,
    OrgUnit,
    Programme,
    ReportingForm,
    ReportingFormIndicator,
    ReportingFormOrgUnit,
)
from mel.catalogue.operations import seed_catalogue  # noqa: E402
from mel.db import db  # noqa: E402
from mel.migrate import upgrade  # noqa: E402
from mel.results.queries import compile_from_db, load_aggregated, resolve_query, rules  # noqa: E402
from mel.returns.models import DataValue, FigureStale, Return  # noqa: E402
from mel.review.queries import review_queue  # noqa: E402

PROGRAMMES = 7  # × 1,450 wards × 36 months × 131 cells ≈ 48 million values
FIRST_MONTH = "202407"  # FY2024/25
MONTHS = 36
QUARTER, YEAR, MONTH, COUNTY = "2027Q2", "2026July", "202705", "042"


def months(count: int) -> list[str]:
    first = parse_period(FIRST_MONTH)
    return [first.shift(n).id for n in range(count)]


def _copy(connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def build(url: str, programmes: int, month_count: int):
    from mel.catalogue.org_tree import seed_org_tree

    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        session = db.session
        seed_catalogue(session)
        seed_org_tree(session, 4)
        create_user(session, "viewer@bench.test", "viewer", password="benchmark-password")
        session.commit()
        wards = list(session.scalars(select(OrgUnit).where(OrgUnit.level == 4).order_by(OrgUnit.code)))
        indicators = list(session.scalars(select(Indicator).order_by(Indicator.code)))
        pillar = session.scalar(select(Programme.pillar_id).where(Programme.code == "SPS"))
        catalogue = load_catalogue(session)
        cells = [(i.id, component, catalogue.combos[(i.code, option)]) for i in indicators
                 for option in catalogue.specs[i.code].options for component in catalogue.specs[i.code].components]
        periods = months(month_count)
        stamp = datetime.now(UTC).isoformat()
        for n in range(programmes):
            programme = Programme(code=f"W{n:02d}", name=f"Ward benchmark programme {n}", pillar_id=pillar,
                                  agency="Benchmark", level="national", org_units=[])
            session.add(programme)
            session.flush()
            form = ReportingForm(code=f"W{n:02d}-MR", name="Ward benchmark", programme_id=programme.id,
                                 frequency="monthly", units=[ReportingFormOrgUnit(org_unit_id=w.id) for w in wards])
            form.items = [ReportingFormIndicator(indicator_id=i.id, position=p, is_required=True)
                          for p, i in enumerate(indicators)]
            session.add(form)
            session.commit()
        forms = {p: f for p, f in session.execute(select(ReportingForm.programme_id, ReportingForm.id)
                                                   .join(Programme).where(Programme.code.like("W%")))}
        raw = session.connection().connection.driver_connection  # psycopg: COPY
        raw.execute("SET session_replication_role = replica")  # the guard triggers: off for the load only
        returns = pd.DataFrame([(p, w.id, period, f, "approved", 1, "", False, stamp, stamp)
                                for p, f in forms.items() for w in wards for period in periods],
                               columns=["programme_id", "org_unit_id", "period", "form_id", "state", "version",
                                        "narrative", "is_late", "created_at", "updated_at"])
        _copy(raw, "data_return", list(returns.columns), returns)
        ids = pd.DataFrame(raw.execute("SELECT id, programme_id, org_unit_id, period FROM data_return "
                                       "WHERE programme_id = ANY(%s)", [list(forms)]).fetchall(),
                           columns=["return_id", "programme_id", "org_unit_id", "period"])
        cell_frame = pd.DataFrame(cells, columns=["indicator_id", "component", "option_combo_id"])
        rng = np.random.default_rng(7)
        base = rng.integers(100, 10_000, size=(len(wards), len(cells)))
        total, started = 0, time.perf_counter()
        for _key, group in ids.groupby(["programme_id", "period"], sort=True):  # one programme's month
            chunk = group.merge(cell_frame, how="cross")
            values = (base + rng.integers(0, 50, size=base.shape)).reshape(-1)[:len(chunk)]
            chunk["value"] = np.where(chunk["component"] == "numerator", values // 2, values)
            chunk["comment"], chunk["explanation"], chunk["created_at"], chunk["updated_at"] = "", "", stamp, stamp
            columns = ["return_id", "indicator_id", "component", "option_combo_id", "programme_id", "org_unit_id",
                       "period", "value", "comment", "explanation", "created_at", "updated_at"]
            _copy(raw, "data_value", columns, chunk[columns])
            raw.commit()
            total += len(chunk)
            if total // 5_000_000 != (total - len(chunk)) // 5_000_000:
                print(f"  {total:,} values ({time.perf_counter() - started:.0f} s)", flush=True)
        raw.execute("SET session_replication_role = origin")
        raw.execute("ANALYZE")
        raw.commit()
        from mel.results.summary import rebuild

        started = time.perf_counter()  # loaded with the triggers off: settle every approved return's spans
        settled = rebuild(session)
        session.commit()
        session.execute(text("ANALYZE figure_span"))
        session.commit()
        print(f"settled {settled:,} programme-county-years of spans in {time.perf_counter() - started:.0f} s", flush=True)
    return app, total


SPAN_SQL = """
WITH spans AS (
  SELECT v.indicator_id, v.component, v.period, v.value, i.time_aggregation,
         MAX(v.period) OVER (PARTITION BY v.indicator_id, v.option_combo_id, v.programme_id, v.org_unit_id) AS latest
  FROM data_value v
  JOIN data_return r ON r.id = v.return_id
  JOIN indicator i ON i.id = v.indicator_id
  JOIN option_combo o ON o.id = v.option_combo_id
  WHERE r.state = 'approved' AND v.period IN ({periods}) AND o.is_total = false
  {where_unit}
)
SELECT indicator_id, component, SUM(value) FROM spans
WHERE time_aggregation = 'sum' OR period = latest
GROUP BY indicator_id, component"""
COUNTY_FILTER = f"AND v.org_unit_id IN (SELECT id FROM org_unit WHERE path LIKE '/KE/{COUNTY}/%%')"  # noqa: S608


def sql_span(periods: list[str], county: bool) -> str:
    """The hand-written GROUP BY of a span of months (the bench's own period ids), for Kenya or the county."""
    return SPAN_SQL.format(periods=", ".join(f"'{p}'" for p in periods), where_unit=COUNTY_FILTER if county else "")


@contextmanager
def statements(connection):
    """The SQL the block sends."""
    seen: list[tuple[str, object]] = []

    def listen(_conn, _cursor, statement, parameters, *_args):
        seen.append((statement, parameters))

    event.listen(connection.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(connection.engine, "before_cursor_execute", listen)


def settle_one(session) -> float:
    """Seconds to settle again what one ward's approved month changes (its programme's county and year), as
    the commit that approves it does; rolled back."""
    from mel.results.summary import refresh

    programme_id, unit_id = session.execute(select(Return.programme_id, Return.org_unit_id).where(
        Return.period == MONTH, Return.state == "approved").limit(1)).one()
    session.execute(insert(FigureStale).values(programme_id=programme_id, org_unit_id=unit_id, period=MONTH))
    started = time.perf_counter()
    refresh(session)
    took = time.perf_counter() - started
    session.rollback()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/mel_scale")
    parser.add_argument("--programmes", type=int, default=PROGRAMMES)
    parser.add_argument("--months", type=int, default=MONTHS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", metavar="URL", help="time an already built benchmark database instead")
    args = parser.parse_args()
    if not (args.reuse or args.database_url).startswith("postgresql"):
        parser.error("the ward-scale bench runs on PostgreSQL (its partitions are what it measures)")
    started = time.perf_counter()
    if args.reuse:
        app = create_app("testing", DATABASE_URL=args.reuse, LOG_LEVEL="WARNING")
        with app.app_context():
            total = db.session.scalar(select(func.count()).select_from(DataValue))
    else:
        url = fresh_url(args.database_url, Path(tempfile.mkdtemp(prefix="mel-scale-")), 600)
        app, total = build(url, args.programmes, args.months)
        print(f"built {total:,} values in {time.perf_counter() - started:.0f} s ({url})")
    plans: dict[str, str] = {}
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        rule_map = rules(catalogue)
        year = [q.id for q in parse_period(YEAR).quarters()]
        connection = session.connection()

        def ours(period: str, quarters: list[str], unit: str, settled: bool = True):
            query = resolve_query(catalogue, indicators=None, period=period, org_unit=unit, programme="ALL")
            if settled:  # what results read: the settled spans (mel/results/summary.py)
                return compile_from_db(session, catalogue, query, quarters, rule_map, [], False)
            return compile_span(load_aggregated(session, catalogue, query, quarters, [], settled=False), rule_map,
                                quarters)  # what they read while anything of theirs is listed stale

        def explain(name: str, statement: str, parameters=None) -> None:
            plans[name] = "\n".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + statement, parameters))

        rows = []
        for label, period, quarters, unit in (("national, quarter", QUARTER, [QUARTER], "KE"),
                                              ("national, year", YEAR, year, "KE"),
                                              (f"county {COUNTY}, quarter", QUARTER, [QUARTER], COUNTY),
                                              (f"county {COUNTY}, year", YEAR, year, COUNTY)):
            stored = [m.id for q in quarters for m in parse_period(q).months()]
            baseline = sql_span(stored, unit != "KE")
            mine = timed(lambda period=period, quarters=quarters, unit=unit: ours(period, quarters, unit), args.repeat)
            direct = timed(lambda period=period, quarters=quarters, unit=unit: ours(period, quarters, unit, False),
                           args.repeat)
            theirs = timed(lambda baseline=baseline: connection.exec_driver_sql(baseline).all(), args.repeat)
            explain(f"SQL GROUP BY, {label}", baseline)
            rows.append((label, mine, direct, theirs))
        with statements(connection) as seen:
            ours(YEAR, year, "KE")
        explain("settled spans, national, year", *next(s for s in seen if "FROM figure_span" in s[0]))
        queue = timed(lambda: review_queue(session, catalogue, MONTH), args.repeat)
        from mel.reporting.snapshot import gather

        profile = timed(lambda: gather(session, catalogue, kind="county", period=QUARTER, org_unit=COUNTY,
                                       generated_at=datetime.now(UTC)), 1)
        size = connection.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
        spans = connection.execute(text("SELECT count(*) FROM figure_span")).scalar()
        spans_size = connection.execute(text("SELECT pg_size_pretty(pg_total_relation_size('figure_span'))")).scalar()
        values_size = connection.execute(text(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'data_value'::regclass")).scalar()
        session.rollback()
        settle = settle_one(session)
    client = viewer_client(app)
    dashboard = timed(lambda: client.get(f"/dashboard/?period={QUARTER}"), args.repeat)
    print(f"backend: PostgreSQL; {total:,} data values; database {size} (data values and their indexes {values_size}); "
          f"median of {args.repeat}")
    print(f"settled spans: {spans:,} rows, {spans_size}; settling one ward's month again after its approval "
          f"(its county's year): {settle:.3f} s")
    for label, mine, direct, theirs in rows:
        print(f"{label:<22} ours {mine:7.3f} s   SQL GROUP BY {theirs:7.3f} s   ratio {mine / theirs:.2f}x (target 1.5x);"
              f"   from the data values {direct:7.3f} s, ratio {direct / theirs:.2f}x")
    print(f"review queue, one month ({MONTH}): {queue:.3f} s (target 1 s)")
    print(f"sector dashboard page ({QUARTER}):  {dashboard:.3f} s (target 2 s)")
    print(f"county profile figures ({COUNTY}, {QUARTER}): {profile:.3f} s (target 5 s)")
    for name, plan in plans.items():
        print(f"\n-- plan: {name}\n{plan}")


if __name__ == "__main__":
    main()
