"""A deployment of more than one machine, on loopback: two gunicorn app servers, two `mel worker`
services and one `mel scheduler` against one PostgreSQL and one Redis.

The deadline rush (bench/rush.py: an officer and a token per return, PUT the figures then submit)
goes through both app servers at once; a report asked on one server is rendered by a worker and
followed on the other; a session opened on one server is good on the other; the scheduler's jobs are
queued and run by the workers. Afterwards nothing is lost or done twice: every figure stored and
audited once, every return submitted once, the report rendered once, each scheduled run recorded once.
"""

from __future__ import annotations

import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bench import rush
from mel.accounts.operations import create_token
from mel.app import create_app
from mel.db import db
from mel.reporting.models import ReportRun
from mel.scheduler.models import JobRun
from tests.app.queue_helpers import REDIS_URL, clear_queues
from tests.app.smtp_helpers import free_port
from tests.helpers import PG_URL, fresh_database_url

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="a deployment of several servers runs on PostgreSQL")]

ROOT = Path(__file__).resolve().parents[2]
PREFIX = f"mel-two-{uuid.uuid4().hex[:8]}"
RETURNS = 40  # of the quarter's ~400: enough for both servers to take many at once


def _mel(env: dict, log: Path, *args: str) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-c", "from mel.cli import main; main()", *args], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Migrated, seeded, the demo's approved history loaded; then the servers, workers and scheduler."""
    url = fresh_database_url(tmp_path_factory, "two")
    work = tmp_path_factory.mktemp("two-servers")
    env = {**os.environ, "MEL_ENV": "production", "MEL_DATABASE_URL": url, "MEL_SECRET_KEY": secrets.token_urlsafe(48),
           "MEL_LOG_LEVEL": "WARNING", "MEL_INSTANCE_DIR": str(work), "MEL_REPORTS_DIR": str(work / "reports"),
           "MEL_REDIS_URL": REDIS_URL, "MEL_QUEUE_PREFIX": PREFIX, "MEL_QUEUE_WORKERS": "1",
           "MEL_SCHEDULER_INTERVAL_SECONDS": "4", "MEL_RATELIMIT_ENABLED": "0", "PYTHONPATH": str(ROOT),
           # No TLS proxy on loopback: the session cookie goes over plain HTTP here (production: __Host-, Secure).
           "MEL_SESSION_COOKIE_SECURE": "0", "MEL_SESSION_COOKIE_NAME": "session"}
    period, returns = rush.prepare(url, env)
    rush.mel(env, "demo", "--history-only")
    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING", REDIS_URL=REDIS_URL, QUEUE_PREFIX=PREFIX)
    with app.app_context():
        secretariat = create_token(db.session, "secretariat@demo.test", name="two servers", days=1).token
        db.session.commit()
    ports = [free_port(), free_port()]
    started: list[subprocess.Popen] = []
    try:
        for n, port in enumerate(ports):
            started.append(rush.start_gunicorn(env, port, 2, work / f"gunicorn-{n}.log"))
        for n in range(2):
            started.append(_mel(env, work / f"worker-{n}.log", "worker", "-n", "1"))
        started.append(_mel(env, work / "scheduler.log", "scheduler"))
        yield {"app": app, "url": url, "work": work, "ports": ports, "period": period,
               "returns": returns[::max(1, len(returns) // RETURNS)][:RETURNS], "secretariat": secretariat,
               "processes": started}
    finally:
        for process in reversed(started):
            rush.stop(process)
        clear_queues(PREFIX)
        with app.app_context():
            db.engine.dispose()


def _base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def test_the_deadline_rush_through_two_app_servers_loses_nothing_and_does_nothing_twice(deployment):
    ports, period, returns = deployment["ports"], deployment["period"], deployment["returns"]
    work: queue.Queue = queue.Queue()
    for job in returns:
        work.put(job)
    timings = rush.Timings()
    threads = [threading.Thread(target=rush.client, args=(ports[n % 2], period, work, timings)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not timings.failures, timings.failures[:5]
    sent = sum(len(job.values) for job in returns)
    counts = rush.check(deployment["url"], period, sent, len(returns))
    assert counts["values"] == counts["audit"] == sent and counts["duplicates"] == 0, counts
    assert counts["submitted"] == counts["events"] == len(returns), counts
    # Both servers took their share (their access logs are off: count by the threads' ports instead).
    assert len(timings.put) == len(timings.submit) == len(returns)


def test_a_report_asked_on_one_server_is_rendered_once_by_a_worker_and_followed_on_the_other(deployment):
    first, second = (_base(port) for port in deployment["ports"])
    headers = {"Authorization": f"Bearer {deployment['secretariat']}"}
    answer = requests.post(f"{first}/api/v1/reports", json={"kind": "factsheet", "period": "2025Q2"},
                           headers=headers, timeout=60)
    assert answer.status_code == 202, answer.text[:300]
    location = answer.headers["Location"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        body = requests.get(f"{second}{location}", headers=headers, timeout=60).json()
        if body["state"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert body["state"] == "done", body
    run_id = body["id"]
    files = sorted((deployment["work"] / "reports").glob(f"{run_id:06d}-*"))
    assert [f.suffix for f in files] == [".pdf"]
    pdf = requests.get(f"{second}/api/v1/reports/{run_id}/pdf", headers=headers, timeout=60)
    assert pdf.status_code == 200 and pdf.content == files[0].read_bytes()
    with deployment["app"].app_context():
        run = db.session.get(ReportRun, run_id)
        assert run.state == "done" and run.started_at is not None and run.finished_at is not None


def test_a_session_opened_on_one_server_is_good_on_the_other(deployment):
    first, second = (_base(port) for port in deployment["ports"])
    browser = requests.Session()
    token = _csrf(browser.get(f"{first}/login", timeout=60).text)
    answer = browser.post(f"{first}/login", data={"csrf_token": token, "email": "reviewer@demo.test",
                                                  "password": "demo-password-2025"}, allow_redirects=False,
                          timeout=60)
    assert answer.status_code == 302, answer.text[:300]
    home = browser.get(f"{second}/", allow_redirects=False, timeout=60)
    assert home.status_code == 200 and "MERL TWG review" in home.text
    browser.post(f"{second}/logout", data={"csrf_token": _csrf(home.text)}, timeout=60)
    assert browser.get(f"{first}/", allow_redirects=False, timeout=60).status_code == 302  # signed out on both


def _csrf(page: str) -> str:
    for marker in ('name="csrf_token" type="hidden" value="', 'name="csrf_token" value="'):
        if marker in page:
            return page.split(marker, 1)[1].split('"', 1)[0]
    raise AssertionError("no CSRF token")


def test_the_scheduler_queues_its_jobs_and_the_workers_run_each_once(deployment):
    app = deployment["app"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with app.app_context():
            runs = db.session.execute(select(JobRun.job_id, JobRun.trigger, JobRun.outcome, JobRun.started_at)
                                      .where(JobRun.trigger == "schedule")).all()
            db.session.rollback()
        if len({job_id for job_id, *_ in runs if runs}) >= 7:
            break
        time.sleep(1)
    finished = [run for run in runs if run.outcome != "running"]
    assert {run.job_id for run in finished} >= {"prune", "data_quality_scan", "remind_due"}, runs
    assert all(run.outcome == "ok" for run in finished), [run for run in finished if run.outcome != "ok"]
    with app.app_context():  # one scheduler holds the lease, so each tick queued each job once
        ticks = db.session.scalar(select(func.count()).select_from(JobRun).where(
            JobRun.trigger == "schedule", JobRun.job_id == "prune"))
        at_once = db.session.execute(select(JobRun.started_at).where(
            JobRun.trigger == "schedule", JobRun.job_id == "prune").order_by(JobRun.started_at)).scalars().all()
    assert ticks >= 1
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(at_once, at_once[1:], strict=False)]
    assert all(gap >= 2 for gap in gaps), gaps  # every 4 s, never twice for one tick
