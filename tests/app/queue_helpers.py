"""Real Redis queues and real `mel worker` processes for tests (Redis database 14, a prefix per module).

Under pytest-xdist worker gwN uses database 14 − N, so two workers never share queues or counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from mel import jobs

_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = f"redis://127.0.0.1:6379/{14 - _WORKER % 10}"
ROOT = Path(__file__).resolve().parents[2]


def load_queue_demo(app) -> None:
    """Migrate the app's own database and load the catalogue and the demo as of 5 October 2025 (no live
    quarter): what the queue tests' workers read, committed, since a test's transaction is invisible to them."""
    from datetime import date

    from mel.catalogue.operations import seed_catalogue
    from mel.db import db
    from mel.demo import load_demo
    from mel.migrate import upgrade

    with app.app_context():
        upgrade(db.engine)
        session = db.session
        seed_catalogue(session)
        load_demo(session, as_of=date(2025, 10, 5), live=False)
        session.commit()
        session.close()


def clear_queues(prefix: str) -> None:
    """Remove a run's keys: its queues and registries, its jobs and their results, its limit counts."""
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(match=f"*{prefix}*", count=1000):
        connection.delete(key)
    for key in connection.scan_iter(match="rq:job:*", count=1000):
        if prefix in (connection.hget(key, "origin") or b"").decode():
            job_id = key.decode().rsplit(":", 1)[1]
            connection.delete(key, f"rq:results:{job_id}")
    for member in connection.smembers("rq:queues"):
        if prefix in member.decode():
            connection.srem("rq:queues", member)


@contextmanager
def workers(app, database_url: str, instance: Path, prefix: str, count: int,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A real `mel worker -n COUNT` process on the app's database and queues, registered before it yields
    (its own process group: a test may kill it whole). `env` adds MEL_* settings."""
    from rq import Worker

    env = {**os.environ, "MEL_ENV": "development", "MEL_DATABASE_URL": database_url,
           "MEL_INSTANCE_DIR": str(instance), "MEL_REDIS_URL": REDIS_URL, "MEL_QUEUE_PREFIX": prefix,
           "MEL_LOG_LEVEL": "WARNING", **(env or {})}
    log_path = instance / "worker.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-c", "from mel.cli import main; main()", "worker", "-n",
                                    str(count)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while Worker.count(queue=jobs.queue(app.config, "reports"), connection=jobs.redis_for(app.config)) < count:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the workers did not register"
                time.sleep(0.2)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)


def descendants(pid: int) -> dict[int, int]:
    """{pid: depth} of every process under `pid` (1: its children), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, int] = {}
    level, depth = {pid}, 0
    while level:
        depth += 1
        level = {child for child, parent in parents.items() if parent in level}
        found.update(dict.fromkeys(level, depth))
    return found
