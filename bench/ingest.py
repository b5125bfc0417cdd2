"""Benchmark: import a national file (47 counties × every indicator) through the ingest service.

Prints the time of the full import (read CSV → resolve → validate → upsert → audit → commit),
of re-importing the same file (nothing changes), and of a bare bulk insert of the same rows
into the same tables in the same run (COPY on PostgreSQL, executemany INSERT on SQLite), and
their ratios. Each measurement runs on a freshly migrated and seeded database.

    python bench/ingest.py                      # SQLite in a temporary folder
    python bench/ingest.py --database-url postgresql://postgres@127.0.0.1:5432/mel_bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mel.accounts.operations import create_user, load_user  # noqa: E402
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
from mel.returns.ingest import Incoming, ingest  # noqa: E402
from mel.returns.models import DataValue, Return  # noqa: E402
from mel.returns.workbook import read_return_file  # noqa: E402

PERIOD = "2025Q2"  # FY Q4: annual indicators are due too
NOW = datetime(2025, 7, 5, tzinfo=UTC)
SPECIAL = {"SA08": 10}  # keeps the HSNP scale-up rule satisfied


def fresh_url(base: str | None, workdir: Path, n: int) -> str:
    if not base:
        return f"sqlite:///{workdir / f'bench{n}.sqlite3'}"
    url = make_url(base)
    name = f"{url.database}_{n}"
    from mel.db import make_engine

    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def prepare(url: str):
    """A migrated, seeded database with a national form carrying every indicator."""
    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        session = db.session
        seed_catalogue(session)
        counties = list(session.scalars(select(OrgUnit).where(OrgUnit.level == 2).order_by(OrgUnit.code)))
        social = session.scalar(select(Programme).where(Programme.code == "SPS"))
        programme = Programme(code="BENCH", name="Benchmark programme", pillar_id=social.pillar_id,
                              agency="Benchmark", level="national", org_units=counties)
        session.add(programme)
        session.flush()
        form = ReportingForm(code="BENCH-QR", name="Benchmark return", programme_id=programme.id,
                             units=[ReportingFormOrgUnit(org_unit_id=c.id) for c in counties])
        form.items = [ReportingFormIndicator(indicator_id=i.id, position=n, is_required=True)
                      for n, i in enumerate(session.scalars(select(Indicator).order_by(Indicator.code)))]
        session.add(form)
        create_user(session, "bench@example.test", "secretariat", password="benchmark-password")
        session.commit()
    return app


def national_file(app) -> bytes:
    """One row per county × indicator × option × component, as a CSV."""
    with app.app_context():
        catalogue = load_catalogue(db.session)
        records = []
        for county in sorted(u for u in catalogue.org_units if u != "KE"):
            for code, spec in sorted(catalogue.specs.items()):
                for option in spec.options:
                    if spec.measure == "ratio":
                        records += [(f"{code}.N", option, county, PERIOD, "50", ""),
                                    (f"{code}.D", option, county, PERIOD, "100", "")]
                    else:
                        records.append((code, option, county, PERIOD, str(SPECIAL.get(code, 100)), ""))
    frame = pd.DataFrame(records, columns=["indicator", "option", "org_unit", "period", "value", "comment"])
    return frame.to_csv(index=False).encode()


def run_ingest(app, data: bytes) -> tuple[float, str, int]:
    with app.app_context():
        session = db.session
        user = load_user(session, "bench@example.test")
        started = time.perf_counter()
        rows = read_return_file(data, "national.csv", max_bytes=50 * 1024 * 1024)
        result = ingest(session, user, Incoming(rows, "csv", "national.csv", data), programme="BENCH", now=NOW)
        session.commit()
        elapsed = time.perf_counter() - started
        assert not result.errors, result.errors[:3]
        return elapsed, result.describe(), len(rows)


def run_bulk(app, data: bytes) -> float:
    """The baseline: the same returns and values written with one bulk statement each."""
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        programme = catalogue.programmes["BENCH"]
        form_id = catalogue.forms[programme.id].id
        frame = pd.read_csv(pd.io.common.BytesIO(data), dtype=str, keep_default_na=False)
        started = time.perf_counter()
        returns = [{"programme_id": programme.id, "org_unit_id": catalogue.org_units[c].id, "period": PERIOD,
                    "form_id": form_id, "state": "draft", "version": 1, "narrative": "", "is_late": False}
                   for c in frame["org_unit"].unique()]
        session.execute(insert(Return), returns)
        ids = dict(session.execute(select(Return.org_unit_id, Return.id).where(Return.programme_id == programme.id)).all())
        indicator = frame["indicator"].str.replace(r"\.[ND]$", "", regex=True)
        component = frame["indicator"].str[-2:].map({".N": "numerator", ".D": "denominator"}).fillna("value")
        unit_ids = frame["org_unit"].map(lambda c: catalogue.org_units[c].id)
        rows = pd.DataFrame({
            "return_id": unit_ids.map(ids), "indicator_id": indicator.map(lambda c: catalogue.indicators[c].id),
            "component": component,
            "option_combo_id": [catalogue.combos[(i, o)] for i, o in zip(indicator, frame["option"], strict=True)],
            "programme_id": programme.id, "org_unit_id": unit_ids, "period": PERIOD, "value": frame["value"],
            "comment": "", "explanation": "",
        })
        if db.engine.dialect.name == "postgresql":
            connection = session.connection().connection.dbapi_connection
            columns = list(rows.columns)
            with connection.cursor() as cursor, cursor.copy(
                f"COPY data_value ({', '.join(columns)}, created_at, updated_at) FROM STDIN"
            ) as copy:
                stamp = datetime.now(UTC)
                for record in rows.itertuples(index=False):
                    copy.write_row((*record, stamp, stamp))
        else:
            session.execute(insert(DataValue), rows.to_dict("records"))
        session.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (a database per run is created)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mel-bench-"))
    ingest_times, again_times, bulk_times, peaks = [], [], [], []
    summary, figures = "", 0
    for n in range(args.repeat):
        app = prepare(fresh_url(args.database_url, workdir, 2 * n))
        data = national_file(app)
        elapsed, summary, figures = run_ingest(app, data)
        ingest_times.append(elapsed)
        again_times.append(run_ingest(app, data)[0])
        with app.app_context():
            db.engine.dispose()
        if n == 0:
            # Memory is traced in a run of its own: tracing doubles the time it measures.
            traced = prepare(fresh_url(args.database_url, workdir, 1000))
            tracemalloc.start()
            run_ingest(traced, data)
            peaks.append(tracemalloc.get_traced_memory()[1] / 1e6)
            tracemalloc.stop()
            with traced.app_context():
                db.engine.dispose()
        baseline_app = prepare(fresh_url(args.database_url, workdir, 2 * n + 1))
        bulk_times.append(run_bulk(baseline_app, data))
        with baseline_app.app_context():
            db.engine.dispose()
    t_ingest, t_again, t_bulk = (statistics.median(x) for x in (ingest_times, again_times, bulk_times))
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"backend: {backend}; file: 47 counties x every indicator = {figures} figures; runs: {args.repeat}")
    print(f"last import: {summary}")
    print(f"ingest (read, validate, upsert, audit, commit): {t_ingest:.3f} s  ({figures / t_ingest:,.0f} figures/s)")
    print(f"re-import of the same file (nothing changes):   {t_again:.3f} s")
    print(f"baseline bulk insert of the same rows:          {t_bulk:.3f} s  ({figures / t_bulk:,.0f} figures/s)")
    print(f"ratio ingest / bulk insert:     {t_ingest / t_bulk:.1f}x")
    print(f"ratio re-import / bulk insert:  {t_again / t_bulk:.1f}x")
    print(f"peak Python memory during ingest: {max(peaks):.0f} MB")


if __name__ == "__main__":
    main()
