"""Benchmark: compile sector results from a history of about 5 million data values.

Builds, in a fresh database, 41 national programmes × 47 counties × every indicator × 20
quarters (FY2020/21–FY2024/25) of approved values, then times, in the same run:
- our compile (load the values of the span, then indicators/compile.py) for the sector, one
  quarter and one financial year, and the full results() call (which also compiles the
  previous span and the same span last year for the trend, and loads targets and completeness);
- a hand-written SQL GROUP BY computing the same sums (with a window function picking each
  unit's latest quarter for stock indicators over the year);
- the sector dashboard page.
It prints each time and the ratio to the SQL baseline.

    python bench/compile.py                                   # SQLite in a temporary folder
    python bench/compile.py --database-url postgresql://postgres@127.0.0.1:5432/mel_bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
from mel.db import bulk_insert, db  # noqa: E402
from mel.migrate import upgrade  # noqa: E402
from mel.results.queries import compile_from_db, load_values, resolve_query, results, rules  # noqa: E402
from mel.returns.models import DataValue, Return  # noqa: E402

PROGRAMMES = 41
QUARTERS = [q.id for fy in ("2020July", "2021July", "2022July", "2023July", "2024July")
            for q in parse_period(fy).quarters()]


def build(url: str, programmes: int):
    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        session = db.session
        seed_catalogue(session)
        counties = list(session.scalars(select(OrgUnit).where(OrgUnit.level == 2).order_by(OrgUnit.code)))
        indicators = list(session.scalars(select(Indicator).order_by(Indicator.code)))
        pillar = session.scalar(select(Programme.pillar_id).where(Programme.code == "SPS"))
        create_user(session, "viewer@bench.test", "viewer", password="benchmark-password")
        catalogue = load_catalogue(session)
        cells = []  # (indicator id, component, combo id)
        for indicator in indicators:
            spec = catalogue.specs[indicator.code]
            for option in spec.options:
                for component in spec.components:
                    cells.append((indicator.id, component, catalogue.combos[(indicator.code, option)]))
        rng = np.random.default_rng(7)
        total = 0
        for n in range(programmes):
            programme = Programme(code=f"B{n:02d}", name=f"Benchmark programme {n}", pillar_id=pillar,
                                  agency="Benchmark", level="national", org_units=counties)
            session.add(programme)
            session.flush()
            form = ReportingForm(code=f"B{n:02d}-QR", name="Benchmark", programme_id=programme.id,
                                 units=[ReportingFormOrgUnit(org_unit_id=c.id) for c in counties])
            form.items = [ReportingFormIndicator(indicator_id=i.id, position=p, is_required=True)
                          for p, i in enumerate(indicators)]
            session.add(form)
            session.flush()
            stamp = datetime.now(UTC)
            returns = [{"programme_id": programme.id, "org_unit_id": c.id, "period": q, "form_id": form.id,
                        "state": "draft", "version": 1, "narrative": "", "is_late": False,
                        "created_at": stamp, "updated_at": stamp} for q in QUARTERS for c in counties]
            session.execute(Return.__table__.insert(), returns)
            ids = session.execute(select(Return.id, Return.org_unit_id, Return.period)
                                  .where(Return.programme_id == programme.id)).all()
            rows = []
            base = rng.integers(100, 10_000, size=len(cells))
            for return_id, unit_id, period in ids:
                noise = rng.integers(0, 50, size=len(cells))
                for (indicator_id, component, combo), value in zip(cells, base + noise, strict=True):
                    rows.append({"return_id": return_id, "indicator_id": indicator_id, "component": component,
                                 "option_combo_id": combo, "programme_id": programme.id, "org_unit_id": unit_id,
                                 "period": period,
                                 "value": int(value if component != "numerator" else value // 2),
                                 "comment": "", "explanation": "", "created_at": stamp, "updated_at": stamp})
            bulk_insert(session, DataValue.__table__, rows)
            for state in ("submitted", "approved"):
                session.execute(update(Return).where(Return.programme_id == programme.id).values(state=state))
            session.commit()
            total += len(rows)
            print(f"  built programme {n + 1}/{programmes}: {total:,} values", flush=True)
        if db.engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
    return app, total


SQL_QUARTER = """
SELECT v.indicator_id, v.component, SUM(v.value) FROM data_value v
JOIN data_return r ON r.id = v.return_id
JOIN option_combo o ON o.id = v.option_combo_id
WHERE r.state = 'approved' AND v.period = :period AND o.is_total = false
GROUP BY v.indicator_id, v.component
"""

SQL_YEAR = """
WITH spans AS (
  SELECT v.indicator_id, v.component, v.option_combo_id, v.programme_id, v.org_unit_id, v.period, v.value,
         i.time_aggregation,
         MAX(v.period) OVER (PARTITION BY v.indicator_id, v.option_combo_id, v.programme_id, v.org_unit_id) AS latest
  FROM data_value v
  JOIN data_return r ON r.id = v.return_id
  JOIN indicator i ON i.id = v.indicator_id
  JOIN option_combo o ON o.id = v.option_combo_id
  WHERE r.state = 'approved' AND v.period IN ({periods}) AND o.is_total = false
)
SELECT indicator_id, component, SUM(value) FROM spans
WHERE time_aggregation = 'sum' OR period = latest
GROUP BY indicator_id, component
"""


def viewer_client(app):
    """A test client signed in as the bench's viewer (viewer@bench.test), as a person would be."""
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "viewer@bench.test", "password": "benchmark-password", "csrf_token": token})
    return client


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--programmes", type=int, default=PROGRAMMES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", metavar="URL", help="time an already built benchmark database instead")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mel-bench-compile-"))
    started = time.perf_counter()
    if args.reuse:
        app = create_app("testing", DATABASE_URL=args.reuse, LOG_LEVEL="WARNING")
        with app.app_context():
            total = db.session.scalar(select(func.count()).select_from(DataValue))
    else:
        app, total = build(fresh_url(args.database_url, workdir, 500), args.programmes)
        print(f"built {total:,} values in {time.perf_counter() - started:.0f} s")
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        rule_map = rules(catalogue)
        year = [q.id for q in parse_period("2024July").quarters()]

        def ours(period: str, quarters: list[str]):
            query = resolve_query(catalogue, indicators=None, period=period, org_unit="KE", programme="ALL")
            return compile_from_db(session, catalogue, query, quarters, rule_map, [], False)

        def every_value(period: str, quarters: list[str]):
            query = resolve_query(catalogue, indicators=None, period=period, org_unit="KE", programme="ALL")
            return compile_span(load_values(session, catalogue, query, quarters), rule_map, quarters)

        def sql(statement: str, **params):
            return session.execute(text(statement), params).all()

        quarter_ours = timed(lambda: ours("2025Q2", ["2025Q2"]), args.repeat)
        quarter_rows = timed(lambda: every_value("2025Q2", ["2025Q2"]), args.repeat)
        quarter_sql = timed(lambda: sql(SQL_QUARTER, period="2025Q2"), args.repeat)
        year_sql_text = SQL_YEAR.format(periods=", ".join(f"'{q}'" for q in year))
        year_ours = timed(lambda: ours("2024July", year), args.repeat)
        year_rows = timed(lambda: every_value("2024July", year), 1)
        year_sql = timed(lambda: sql(year_sql_text), args.repeat)
        full_quarter = timed(lambda: results(session, catalogue, resolve_query(
            catalogue, indicators=None, period="2025Q2", org_unit="KE", programme="ALL")), args.repeat)
        session.rollback()
    client = viewer_client(app)
    dashboard = timed(lambda: client.get("/dashboard/?period=2025Q2"), args.repeat)
    backend = "PostgreSQL" if (args.database_url or args.reuse or "").startswith("postgresql") else "SQLite"
    print(f"backend: {backend}; {total:,} data values; median of {args.repeat}")
    print(f"sector, one quarter:  ours {quarter_ours:.3f} s   SQL GROUP BY {quarter_sql:.3f} s   ratio {quarter_ours / quarter_sql:.2f}x")
    print(f"sector, one FY:       ours {year_ours:.3f} s   SQL GROUP BY {year_sql:.3f} s   ratio {year_ours / year_sql:.2f}x")
    print(f"(loading every value into pandas instead: quarter {quarter_rows:.3f} s = {quarter_rows / quarter_sql:.1f}x, "
          f"year {year_rows:.3f} s = {year_rows / year_sql:.1f}x)")
    print(f"full results() for a quarter (current, previous, last year, targets, completeness): {full_quarter:.3f} s")
    print(f"sector dashboard page (key figures + IPTT of the year): {dashboard:.3f} s")


if __name__ == "__main__":
    main()
