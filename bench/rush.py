"""Benchmark: the deadline rush. Every expected return of a quarter is sent at once, through gunicorn.

A fresh PostgreSQL database is migrated and seeded (`mel db upgrade`, `mel seed`); each
programme × county of the reporting forms gets its own officer and API token, as in the field.
Gunicorn serves the app on 127.0.0.1 and N client threads (16 by default) take the returns
from one queue: PUT the figures (version 0), then POST …/submit. Afterwards the database is
checked: figures sent = figures stored = audit rows (value_change), every return submitted
exactly once (one return_event each). Prints throughput and p50/p95/p99 latency per step,
and the ratio of the p95s to the 1 s target.

The reporting quarter is the one that ended last (mel/clock.py); its window is moved in the
benchmark's database so that it is open today and due in two days (the rush before the
deadline), since the seeded window may have closed already.

    python bench/rush.py --database-url postgresql://postgres@127.0.0.1:5432/mel_rush
    python bench/rush.py --database-url ... --clients 16 --workers 5 --port 8765
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import selectinload

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indicators.periods import parse_period  # noqa: E402
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
from mel.db import db, make_engine  # noqa: E402
from mel.returns.models import DataValue, Return, ReturnEvent, ValueChange  # noqa: E402

TARGET_P95 = 1.0  # seconds, both steps (issue 15)


@dataclass
class Job:
    """One return to send: its address, its officer's token and its figures."""

    programme: str
    org_unit: str
    token: str
    values: list[dict]


@dataclass
class Timings:
    put: list[float] = field(default_factory=list)
    submit: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def fresh_database(base: str) -> str:
    url = make_url(base)
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def mel(env: dict, *args: str) -> None:
    """Run the `mel` command line as an operator would."""
    subprocess.run([str(Path(sys.executable).parent / "mel"), *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _figures(form: ReportingForm, unit, quarter, expected: int) -> list[dict]:
    """A complete, consistent return: the demo's generator (mel/demo.py) for a quarter of the
    same financial-year position, so every ratio, total and rule holds as in the demo history."""
    from mel.demo import return_figures

    shape = parse_period({1: "2024Q3", 2: "2024Q4", 3: "2025Q1", 4: "2025Q2"}[quarter.fy_quarter])
    figures = [{key: row[key] for key in ("indicator", "option", "value")}
               for row in return_figures(form, unit, shape, quarter.id)]
    codes = {item.indicator.id: item.indicator.code for item in form.items_in(quarter.id)}
    if "SPX14" in codes.values():  # reports on time: the demo leaves it to the review's completeness
        figures += [{"indicator": "SPX14.N", "option": "default", "value": str(expected * 4 // 5)},
                    {"indicator": "SPX14.D", "option": "default", "value": str(expected)}]
    return figures


def prepare(url: str, env: dict) -> tuple[str, list[Job]]:
    """Migrate and seed with the CLI, open the quarter, then an officer + token per return."""
    mel(env, "db", "upgrade")
    mel(env, "seed")
    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    jobs: list[Job] = []
    with app.app_context():
        session = db.session
        quarter = clock.reporting_quarter()
        opened = (clock.today() - quarter.end).days
        # The rush: the window is open and the deadline is in two days.
        session.execute(update(ReportingForm).values(
            opens_days=0, due_days=opened + 2, closes_days=func.greatest(ReportingForm.closes_days, opened + 30)))
        session.commit()
        forms = session.scalars(select(ReportingForm).options(
            selectinload(ReportingForm.programme),
            selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
            selectinload(ReportingForm.items).selectinload(ReportingFormIndicator.indicator)
            .selectinload(Indicator.disaggregation_set).selectinload(DisaggregationSet.combos),
        )).all()
        expected = sum(len(form.org_units_in(quarter.id)) for form in forms)
        for form in sorted(forms, key=lambda f: f.programme.code):
            for unit in form.org_units_in(quarter.id):
                email = f"rush.{form.programme.code.lower()}.{unit.code}@example.test"
                create_user(session, email, "officer", name=f"{form.programme.code} {unit.name}",
                            programme_codes=[form.programme.code], org_unit_codes=[unit.code])
                token = create_token(session, email, name="rush", days=30).token
                jobs.append(Job(form.programme.code, unit.code, token, _figures(form, unit, quarter, expected)))
        session.commit()
        db.engine.dispose()
    return quarter.id, jobs


def start_gunicorn(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers),
               "--bind", f"127.0.0.1:{port}", "--timeout", "60", "mel.app:create_app()"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            status, _ = request(port, "GET", "/healthz")
            if status in (200, 503):
                return server
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer on port {port} within 60 s; see {log}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_of(server: subprocess.Popen) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (when it runs on this host)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        pids = list(conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")))
    engine.dispose()
    return pids


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def request(port: int, method: str, path: str, body: dict | None = None,
            token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        try:
            return answer.status, json.loads(data or b"{}")
        except ValueError:
            return answer.status, {"raw": data[:200].decode(errors="replace")}
    finally:
        conn.close()


def client(port: int, period: str, jobs: queue.Queue, timings: Timings) -> None:
    while True:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            return
        where = f"/api/v1/returns/{job.programme}/{job.org_unit}/{period}"
        started = time.perf_counter()
        status, answer = request(port, "PUT", where, {"version": 0, "values": job.values}, job.token)
        put = time.perf_counter() - started
        if status != 200 or answer.get("outcome") != "stored":
            with timings.lock:
                timings.failures.append(f"PUT {where}: {status} {str(answer.get('message', answer))[:300]}")
            continue
        started = time.perf_counter()
        status, answer = request(port, "POST", f"{where}/submit", None, job.token)
        submit = time.perf_counter() - started
        with timings.lock:
            timings.put.append(put)
            if status == 200 and answer.get("state") == "submitted":
                timings.submit.append(submit)
            else:
                details = "; ".join(d.get("message", "") for d in answer.get("details", [])[:3])
                timings.failures.append(f"submit {where}: {status} {answer.get('message', answer)} {details}"[:400])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def check(url: str, period: str, sent: int, expected: int) -> dict:
    """What arrived: figures stored and audited, returns submitted, submission events."""
    engine = make_engine(url)
    with engine.connect() as conn:
        returns = select(Return.id).where(Return.period == period).scalar_subquery()
        counts = {
            "values": conn.scalar(select(func.count()).select_from(DataValue).where(DataValue.period == period)),
            "audit": conn.scalar(select(func.count()).select_from(ValueChange)
                                 .where(ValueChange.return_id.in_(returns))),
            "submitted": conn.scalar(select(func.count()).select_from(Return)
                                     .where(Return.period == period, Return.state == "submitted")),
            "events": conn.scalar(select(func.count()).select_from(ReturnEvent)
                                  .where(ReturnEvent.return_id.in_(returns), ReturnEvent.to_state == "submitted")),
            "duplicates": conn.scalar(select(func.count()).select_from(
                select(DataValue.return_id, DataValue.indicator_id, DataValue.component, DataValue.option_combo_id)
                .where(DataValue.period == period)
                .group_by(DataValue.return_id, DataValue.indicator_id, DataValue.component,
                          DataValue.option_combo_id)
                .having(func.count() > 1).subquery())),
        }
    engine.dispose()
    counts["sent"], counts["expected"] = sent, expected
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/mel_rush",
                        help="PostgreSQL URL; the database is dropped and created again")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                        help="gunicorn sync workers (default 2 × cores + 1)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="MEL_REDIS_URL of the server (production needs it: queues and rate limits)")
    parser.add_argument("--limit", type=int, default=None, help="send only the first N returns (a quick trial)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the rush runs against PostgreSQL (--database-url postgresql://…)")
    url = fresh_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="mel-rush-"))
    env = {**os.environ, "MEL_ENV": "production", "MEL_DATABASE_URL": url,
           "MEL_SECRET_KEY": secrets.token_urlsafe(48), "MEL_LOG_LEVEL": "WARNING",
           "MEL_REPORTS_DIR": str(workdir / "reports"), "MEL_INSTANCE_DIR": str(workdir),
           "MEL_REDIS_URL": args.redis_url, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    period, jobs = prepare(url, env)
    jobs = jobs[::max(1, len(jobs) // args.limit)][:args.limit] if args.limit else jobs
    sent = sum(len(j.values) for j in jobs)
    print(f"prepared {len(jobs)} returns of {period} ({sent} figures), one officer and token each, "
          f"in {time.perf_counter() - started:.1f} s")
    work: queue.Queue = queue.Queue()
    for job in jobs:
        work.put(job)
    timings = Timings()
    server = start_gunicorn(env, args.port, args.workers, workdir / "gunicorn.log")
    try:
        load = os.getloadavg()[0]
        workers = workers_of(server)
        cpu_before = sum(cpu_seconds(pid) for pid in workers)
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(args.port, period, work, timings))
                   for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu_app = sum(cpu_seconds(pid) for pid in workers) - cpu_before
        cpu_db = sum(cpu_seconds(pid) for pid in backends(url))
    finally:
        stop(server)
    counts = check(url, period, sent, len(jobs))
    requests = len(timings.put) + len(timings.submit)
    print(f"gunicorn: {args.workers} sync workers; {args.clients} clients; load average before the run "
          f"{load:.2f} ({os.cpu_count()} cores)")
    print(f"wall time {elapsed:.1f} s; {requests} requests: {requests / elapsed:.1f} requests/s, "
          f"{len(timings.submit) / elapsed:.1f} returns submitted/s")
    print(f"CPU per return (PUT + submit; independent of other load): app {cpu_app / len(jobs) * 1000:.0f} ms, "
          f"PostgreSQL {cpu_db / len(jobs) * 1000:.0f} ms; {cpu_app:.1f} s + {cpu_db:.1f} s in all")
    for step, values in (("PUT figures", timings.put), ("POST submit", timings.submit)):
        print(f"{step:<12} n={len(values):<4} p50 {percentile(values, 50):.3f} s  p95 {percentile(values, 95):.3f} s"
              f"  p99 {percentile(values, 99):.3f} s  max {max(values, default=float('nan')):.3f} s"
              f"  (p95 / target {percentile(values, 95) / TARGET_P95:.2f})")
    print(f"figures sent {counts['sent']}, stored {counts['values']}, audit rows {counts['audit']}, "
          f"stored twice {counts['duplicates']}")
    print(f"returns expected {counts['expected']}, submitted {counts['submitted']}, "
          f"submission events {counts['events']}")
    whole = (counts["sent"] == counts["values"] == counts["audit"] and counts["duplicates"] == 0
             and counts["expected"] == counts["submitted"] == counts["events"])
    print("nothing lost, nothing twice" if whole and not timings.failures else
          f"MISMATCH: {len(timings.failures)} failed requests")
    for failure in timings.failures[:10]:
        print("  " + failure)
    if not whole or timings.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
