"""Benchmark: six report requests at once, rendered a process each (before) or by a pool of N (after).

Before: REPORT_EXECUTOR=process without a queue, as every request did until the queue came: each
run starts its own `mel report render-run` process. After: the runs are queued in Redis and
`mel worker -n N` renders them, at most N at once. For each it prints the wall time from the first
request to the last PDF and the peak total RSS of every process involved (sampled from /proc every
50 ms: the render processes, or the worker pool with its workers and their per-job processes),
then the ratios after ÷ before.

    python bench/renders.py                          # SQLite demo database in a temporary folder
    python bench/renders.py --kind programme --workers 2
    python bench/renders.py --database-url postgresql://postgres@127.0.0.1:5432/mel_bench  # recreated
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import prepare  # noqa: E402


def _tree_memory_mb(root: int) -> tuple[float, float]:
    """Total (RSS, PSS) of `root`'s descendants (not `root` itself), from /proc.

    RSS counts a page shared by forked processes once per process; PSS splits it between them,
    so it is the memory the processes really take together.
    """
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), "0")
        children.setdefault(int(ppid), []).append(int(entry.name))
    rss = pss = 0.0
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
        except OSError:
            continue
    return rss, pss


class Peak:
    """Samples the total RSS and PSS of this process's descendants until stopped."""

    def __init__(self) -> None:
        self.peak = self.peak_pss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = _tree_memory_mb(os.getpid())
            self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
            time.sleep(0.05)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def _request(app, kind: str, count: int) -> tuple[list[int], float]:
    from mel.db import db
    from mel.reporting import executor, operations

    started = time.perf_counter()
    ids = []
    with app.app_context():
        for _ in range(count):
            run = operations.request_report(db.session, kind=kind, period="2025Q2", programme="OPCT",
                                            org_unit="042", trigger="cli")
            db.session.commit()
            executor.start(app, run.id)
            ids.append(run.id)
    return ids, started


def _live_children() -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            fields = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except (OSError, NotADirectoryError):
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and not fields.get("State", "").strip().startswith("Z"):
            count += 1
    return count


def _wait(app, ids: list[int], timeout: float = 1800, processes: bool = False) -> int:
    """Wait until every run has finished; returns how many never started (their process died first)."""
    from sqlalchemy import select

    from mel.db import db
    from mel.reporting.models import ReportRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            states = db.session.scalars(select(ReportRun.state).where(ReportRun.id.in_(ids))).all()
        if "failed" in states:
            raise SystemExit(f"a render failed: {states}")
        if all(s == "done" for s in states):
            return 0
        if processes and not _live_children():  # a process per run: none left, so none will start
            return sum(1 for s in states if s != "done")
        time.sleep(0.1)
    raise SystemExit("the renders did not finish")


def fresh(url: str) -> None:
    """Drop and recreate a PostgreSQL database for the run."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from mel.db import make_engine

    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def before(url: str, instance: Path, kind: str, count: int) -> tuple[float, Peak, int]:
    from mel.app import create_app

    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                     REPORT_EXECUTOR="process", REDIS_URL="")
    with Peak() as peak:
        ids, started = _request(app, kind, count)
        lost = _wait(app, ids, processes=True)
        wall = time.perf_counter() - started
        time.sleep(0.3)
    return wall, peak, lost


def after(url: str, instance: Path, kind: str, count: int, workers: int, redis_url: str) -> tuple[float, Peak]:
    from rq import Worker

    from mel import jobs
    from mel.app import create_app

    prefix = f"mel-bench-{uuid.uuid4().hex[:8]}"
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                     REPORT_EXECUTOR="process", REDIS_URL=redis_url, QUEUE_PREFIX=prefix)
    env = {**os.environ, "MEL_ENV": "development", "MEL_DATABASE_URL": url, "MEL_INSTANCE_DIR": str(instance),
           "MEL_REDIS_URL": redis_url, "MEL_QUEUE_PREFIX": prefix, "MEL_LOG_LEVEL": "WARNING"}
    pool = subprocess.Popen([sys.executable, "-c", "from mel.cli import main; main()", "worker", "-n", str(workers)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while Worker.count(queue=jobs.queue(app.config, "reports"), connection=jobs.redis_for(app.config)) < workers:
            time.sleep(0.2)
        with Peak() as peak:
            ids, started = _request(app, kind, count)
            _wait(app, ids)
            wall = time.perf_counter() - started
    finally:
        pool.terminate()
        pool.wait(timeout=60)
        connection = jobs.redis_for(app.config)
        for key in connection.scan_iter(match=f"*{prefix}*"):
            connection.delete(key)
        for member in connection.smembers("rq:queues"):
            if prefix in member.decode():
                connection.srem("rq:queues", member)
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--kind", default="programme", choices=["sector", "programme", "county", "factsheet"])
    parser.add_argument("--requests", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        if args.database_url:
            fresh(url)
        prepare(url)
        print(f"{args.requests} {args.kind} report requests at once, {os.cpu_count()} CPUs, "
              f"{url.split(':')[0]}, load average {os.getloadavg()[0]:.1f}")
        wall_before, before_peak, lost = before(url, Path(folder), args.kind, args.requests)
        print(f"before (a process per run):  wall {wall_before:6.1f} s   peak RSS {before_peak.peak:6.0f} MB   "
              f"peak PSS {before_peak.peak_pss:6.0f} MB"
              + (f"   {lost} run(s) never started: their process died (SQLite busy?)" if lost else ""))
        wall_after, after_peak = after(url, Path(folder), args.kind, args.requests, args.workers, args.redis_url)
        print(f"after (pool of {args.workers} workers):   wall {wall_after:6.1f} s   peak RSS {after_peak.peak:6.0f} MB   "
              f"peak PSS {after_peak.peak_pss:6.0f} MB")
        print(f"ratios after/before: wall {wall_after / wall_before:.2f}, peak RSS "
              f"{after_peak.peak / before_peak.peak:.2f}, peak PSS {after_peak.peak_pss / before_peak.peak_pss:.2f} "
              f"(load average now {os.getloadavg()[0]:.1f})")

if __name__ == "__main__":
    main()
