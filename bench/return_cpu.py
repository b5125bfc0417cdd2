"""Benchmark: the CPU of one return in the rush, PUT of its figures and submit, in-process.

A fresh database (SQLite by default, or PostgreSQL with --database-url) is migrated, seeded
with the catalogue and the demo history (as the tests do), the reporting quarter's window is
opened, and an officer with an API token is made for N programme × county returns spread over
every programme. Flask's test client then PUTs each return's figures (version 0, the demo's
consistent figures as in bench/rush.py) and submits it. CPU is time.process_time() of this
process around each request, so waiting for PostgreSQL is not counted but its client work is.

The baseline, measured in the same run, is a trivial authenticated request (GET
/api/v1/indicators with the same kind of token): the ratios PUT ÷ baseline and submit ÷
baseline compare across machines. --profile prints cProfile's top functions over the measured
requests.

    python bench/return_cpu.py [--returns 40] [--database-url postgresql://postgres@127.0.0.1:5432/mel_rush]
    python bench/return_cpu.py --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from mel import clock  # noqa: E402
from mel.accounts.operations import create_token, create_user  # noqa: E402
from mel.app import create_app  # noqa: E402
from mel.catalogue.models import (  # noqa: E402
    DisaggregationSet,
    Indicator,
    ReportingForm,
    ReportingFormIndicator,
    ReportingFormOrgUnit,
)
from mel.catalogue.operations import seed_catalogue  # noqa: E402
from mel.db import db  # noqa: E402
from mel.demo import load_demo  # noqa: E402
from mel.migrate import upgrade  # noqa: E402


def prepare(app, count: int) -> tuple[str, list[tuple[str, str, str, list[dict]]]]:
    """Migrate, seed, open the quarter; an officer + token for `count` returns over all programmes."""
    from rush import _figures  # the rush's consistent figures (mel/demo.py's generator)

    with app.app_context():
        session = db.session
        upgrade(db.engine)
        seed_catalogue(session)
        load_demo(session, live=False)
        session.commit()
        quarter = clock.reporting_quarter()
        opened = (clock.today() - quarter.end).days
        forms = session.scalars(select(ReportingForm).options(
            selectinload(ReportingForm.programme),
            selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
            selectinload(ReportingForm.items).selectinload(ReportingFormIndicator.indicator)
            .selectinload(Indicator.disaggregation_set).selectinload(DisaggregationSet.combos),
        )).all()
        expected = sum(len(form.org_units_in(quarter.id)) for form in forms)
        pairs = []
        for form in sorted(forms, key=lambda f: f.programme.code):
            form.opens_days, form.due_days = 0, opened + 2
            form.closes_days = max(form.closes_days or 0, opened + 30)
            pairs.append([(form, unit) for unit in form.org_units_in(quarter.id)])
        chosen = []
        while len(chosen) < count and any(pairs):  # round robin: every programme's forms
            for units in pairs:
                if units and len(chosen) < count:
                    chosen.append(units.pop(0))
        jobs = []
        for form, unit in chosen:
            email = f"cpu.{form.programme.code.lower()}.{unit.code}@example.test"
            create_user(session, email, "officer", name=f"{form.programme.code} {unit.name}",
                        programme_codes=[form.programme.code], org_unit_codes=[unit.code])
            token = create_token(session, email, name="cpu", days=30).token
            jobs.append((form.programme.code, unit.code, token, _figures(form, unit, quarter, expected)))
        session.commit()
        session.close()
    return quarter.id, jobs


def cpu_ms(call) -> tuple[float, object]:
    started = time.process_time()
    answer = call()
    return (time.process_time() - started) * 1000, answer


def _print_queries(app, call, label: str) -> None:
    """Each statement one request sends to the database, in order, and how many."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:160])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    print(f"{label}: {len(seen)} statements")
    for statement in seen:
        print(f"  {statement}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file; a PostgreSQL "
                        "database given here is dropped and created again")
    parser.add_argument("--returns", type=int, default=40, help="returns measured (after 3 warm-up returns)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--callees", default=None, help="with --profile: also what functions matching this call")
    parser.add_argument("--queries", action="store_true", help="print the SQL statements of one PUT and one submit")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mel-cpu-"))
    if args.database_url:
        from rush import fresh_database

        url = fresh_database(args.database_url)
    else:
        url = f"sqlite:///{workdir / 'mel.sqlite3'}"
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(workdir), LOG_LEVEL="WARNING")
    warm = 3
    period, jobs = prepare(app, args.returns + warm)
    client = app.test_client()

    def headers(token: str) -> dict:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def put(job):
        programme, unit, token, values = job
        answer = client.put(f"/api/v1/returns/{programme}/{unit}/{period}", json={"version": 0, "values": values},
                            headers=headers(token))
        if answer.status_code != 200 or answer.get_json().get("outcome") != "stored":
            raise SystemExit(f"PUT {programme}/{unit}: {answer.status_code} {answer.get_data(as_text=True)[:500]}")
        return answer

    def submit(job):
        programme, unit, token, _ = job
        answer = client.post(f"/api/v1/returns/{programme}/{unit}/{period}/submit", headers=headers(token))
        if answer.status_code != 200 or answer.get_json().get("state") != "submitted":
            raise SystemExit(f"submit {programme}/{unit}: {answer.status_code} "
                             f"{answer.get_data(as_text=True)[:500]}")
        return answer

    def baseline(job):
        answer = client.get("/api/v1/indicators", headers=headers(job[2]))
        if answer.status_code != 200:
            raise SystemExit(f"GET /api/v1/indicators: {answer.status_code}")
        return answer

    for job in jobs[:warm]:
        put(job)
        submit(job)
        baseline(job)
    measured = jobs[warm:]
    if args.queries:
        _print_queries(app, lambda: put(measured[0]), "PUT")
        _print_queries(app, lambda: submit(measured[0]), "submit")
        measured = measured[1:]
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall time
    puts, submits, bases = [], [], []
    if profiler:
        profiler.enable()
    for job in measured:
        puts.append(cpu_ms(lambda job=job: put(job))[0])
        submits.append(cpu_ms(lambda job=job: submit(job))[0])
    if profiler:
        profiler.disable()
    for job in measured:
        bases.append(cpu_ms(lambda job=job: baseline(job))[0])
    figures = statistics.mean(len(job[3]) for job in measured)
    base = statistics.median(bases)
    put_ms, submit_ms = statistics.median(puts), statistics.median(submits)
    print(f"{len(measured)} returns of {period} ({figures:.0f} figures each on average), "
          f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}, CPU of this process (median)")
    print(f"  PUT     {put_ms:7.1f} ms  (mean {statistics.mean(puts):.1f}, max {max(puts):.1f})  "
          f"= {put_ms / base:5.1f} × baseline")
    print(f"  submit  {submit_ms:7.1f} ms  (mean {statistics.mean(submits):.1f}, max {max(submits):.1f})  "
          f"= {submit_ms / base:5.1f} × baseline")
    print(f"  both    {put_ms + submit_ms:7.1f} ms  = {(put_ms + submit_ms) / base:5.1f} × baseline")
    print(f"  baseline GET /api/v1/indicators {base:.1f} ms")
    if profiler:
        stats = pstats.Stats(profiler)
        print("\ncProfile, by cumulative time:")
        stats.sort_stats("cumulative").print_stats(args.top)
        print("cProfile, by own time:")
        stats.sort_stats("tottime").print_stats(args.top)
        if args.callees:
            stats.sort_stats("cumulative").print_callees(args.callees)


if __name__ == "__main__":
    main()
