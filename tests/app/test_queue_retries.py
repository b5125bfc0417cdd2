"""The job queue keeps work through a dying worker: retries with back-off, the failed list, the
scheduler and e-mail through the queue, and MEL_QUEUE=inline doing the same work without Redis.

Real Redis (a database and a key prefix of the module's own, removed afterwards), real `mel worker`
processes killed with SIGKILL, a real SMTP server (aiosmtpd) on 127.0.0.1, and a database of the
module's own (SQLite or PostgreSQL) that the workers read.
"""

from __future__ import annotations

import io
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from rq.suspension import resume, suspend
from sqlalchemy import delete, func, select

from config import ConfigError, load_config
from mel import jobs
from mel.accounts.audit import AuditEvent
from mel.accounts.models import User
from mel.accounts.operations import create_token
from mel.app import create_app
from mel.db import db
from mel.reporting.models import ReportRun
from mel.review.models import Notification
from mel.review.notify import _store
from mel.scheduler import process as scheduler_process
from mel.scheduler.models import JobRun
from mel.unit_of_work import finish
from tests.app.queue_helpers import REDIS_URL, clear_queues, descendants, load_queue_demo, workers
from tests.app.smtp_helpers import free_port
from tests.helpers import csrf_token, fresh_database_url, login

pytestmark = pytest.mark.slow

PREFIX = f"mel-retry-{uuid.uuid4().hex[:8]}"
SECRETARIAT = "secretariat@demo.test"
# A worker's job is tried again once a second after it fails, at most twice; workers look for jobs of
# dead workers every 5 seconds (RQ finds one once its heartbeat has lapsed, 60–90 s).
QUEUE = {"QUEUE_RETRIES": 2, "QUEUE_RETRY_INTERVALS": [1], "QUEUE_MAINTENANCE_SECONDS": 5}
WORKER_ENV = {"MEL_LOG_LEVEL": "INFO", "MEL_QUEUE_RETRIES": "2", "MEL_QUEUE_RETRY_INTERVALS": "1",
              "MEL_QUEUE_MAINTENANCE_SECONDS": "5"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(database url, instance dir) of a migrated demo database of the module's own."""
    url = fresh_database_url(tmp_path_factory, "retries")
    instance = tmp_path_factory.mktemp("retry-instance")
    app = make_app(url, instance, "inline")
    load_queue_demo(app)
    with app.app_context():
        db.engine.dispose()
    yield url, instance
    clear_queues(PREFIX)


def make_app(url: str, instance: Path, mode: str, **settings):
    """The app on the module's database: MEL_QUEUE=`mode` ("redis": every job on the queue)."""
    return create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                      REDIS_URL=REDIS_URL, QUEUE_PREFIX=PREFIX, QUEUE=mode,
                      REPORT_EXECUTOR="process" if mode == "redis" else "inline", **QUEUE, **settings)


def _signed_in(app, email: str = SECRETARIAT):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _wait(app, check, timeout: float = 300, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            done = check(db.session)
            db.session.rollback()
        if done:
            return done
        time.sleep(every)
    raise AssertionError("timed out")


def _ask_report(client, kind: str, period: str, language: str = "en") -> int:
    answer = client.post("/reports/", data={"csrf_token": csrf_token(client, "/reports/"), "kind": kind,
                                            "period": period, "language": language})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def _run_files(instance: Path, run_id: int) -> list[Path]:
    return sorted((instance / "reports").glob(f"{run_id:06d}-*"))


# --------------------------------------------------------------------------- many at once, both modes


@pytest.mark.parametrize("mode", ["redis", "inline"])
def test_twenty_reports_asked_at_once_all_finish_once(world, mode):
    url, instance = world
    app = make_app(url, instance, mode)
    client = _signed_in(app)
    periods = ["2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    asks = [(period, language) for period in periods for language in ("en", "sw")] * 2
    connection = jobs.redis_for(app.config)
    with workers(app, url, instance, PREFIX, 2, WORKER_ENV) if mode == "redis" else _nothing():
        suspend(connection)  # the workers hold back while the twenty are asked for: all are queued at once
        try:
            ids = [_ask_report(client, "factsheet", period, language) for period, language in asks]
            if mode == "redis":
                assert len(jobs.queue(app.config, "reports")) >= 18  # two may be taken before the hold
        finally:
            resume(connection)
        _wait(app, lambda s: all(state in ("done", "failed") for state in s.scalars(
            select(ReportRun.state).where(ReportRun.id.in_(ids)))))
    with app.app_context():
        runs = db.session.scalars(select(ReportRun).where(ReportRun.id.in_(ids)).order_by(ReportRun.id)).all()
        assert [run.state for run in runs] == ["done"] * 20, [run.error for run in runs]
        assert [(run.period, run.language) for run in runs] == asks
        for run in runs:  # one PDF each, whole
            files = _run_files(instance, run.id)
            assert [f.suffix for f in files] == [".pdf"] and files[0].read_bytes().startswith(b"%PDF")
            assert run.page_count >= 1 and run.file_path == str(files[0])
    assert not jobs.failed_jobs(app.config)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------- a worker killed mid-job


def test_a_render_whose_worker_is_killed_is_tried_again_and_finishes_once(world):
    url, instance = world
    app = make_app(url, instance, "redis")
    client = _signed_in(app)
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV) as pool:
        # Under `mel worker`: the worker, then RQ's scheduler (it puts retries back on the queue) and,
        # while a job runs, the process that runs it (RQ's "work horse").
        deadline = time.monotonic() + 30
        while not (before := {pid for pid, depth in descendants(pool.pid).items() if depth == 2}):
            assert time.monotonic() < deadline, "RQ's scheduler did not start"
            time.sleep(0.1)
        run_id = _ask_report(client, "sector", "2025Q2")
        _wait(app, lambda s: s.get(ReportRun, run_id).state == "running", every=0.05)
        horses = [pid for pid, depth in descendants(pool.pid).items() if depth == 2 and pid not in before]
        assert len(horses) == 1, "no process renders the report"
        for pid in horses:  # the process rendering the report dies (out of memory, killed): no word to anyone
            os.kill(pid, signal.SIGKILL)
        run = _wait(app, lambda s: _finished(s, run_id))
        assert run["state"] == "done", run["error"]
    files = _run_files(instance, run_id)
    assert [f.suffix for f in files] == [".pdf"] and run["sha256"] and run["page_count"] >= 1
    assert not jobs.failed_jobs(app.config)
    job = _only_job(app, "reports", "mel.jobs.render_report", run_id)
    assert jobs.attempt_count(job) == 2 and job.get_status() == "finished"


def test_a_whole_worker_killed_its_render_is_taken_up_by_another_worker(world):
    url, instance = world
    app = make_app(url, instance, "redis")
    client = _signed_in(app)
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV) as pool:
        run_id = _ask_report(client, "sector", "2025Q1")
        _wait(app, lambda s: s.get(ReportRun, run_id).state == "running", every=0.05)
        # The machine is lost: the worker and every process under it, all at once (RQ runs each job in a
        # session of its own, so the job's process is not in the worker's process group).
        for pid in [pool.pid, *descendants(pool.pid)]:
            os.kill(pid, signal.SIGKILL)
        pool.wait(timeout=30)
    with app.app_context():
        assert db.session.get(ReportRun, run_id).state == "running"
    # Another worker, elsewhere, finds the job once the dead one's heartbeat has lapsed, and does it.
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV):
        run = _wait(app, lambda s: _finished(s, run_id), timeout=400)
    assert run["state"] == "done", run["error"]
    assert [f.suffix for f in _run_files(instance, run_id)] == [".pdf"]
    said = (instance / "worker.log").read_text(errors="replace")  # the workers' (appended)
    assert f"ReportRun {run_id}: taken up again after its worker stopped (try 2)" in said


def _finished(session, run_id: int) -> dict | None:
    """The run's outcome once it has one."""
    run = session.get(ReportRun, run_id)
    if run.state not in ("done", "failed"):
        return None
    return {"state": run.state, "error": run.error, "sha256": run.sha256, "page_count": run.page_count}


def _only_job(app, kind: str, function: str, argument):
    """The one RQ job of the module's queues that ran `function(argument)`."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    connection = jobs.redis_for(app.config)
    found = [job for job in Job.fetch_many(FinishedJobRegistry(queue=jobs.queue(app.config, kind)).get_job_ids(),
                                           connection=connection)
             if job is not None and job.func_name == function and job.args == (argument,)]
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- e-mail and the failed list


def _notice(app, subject: str) -> int:
    """A notice for the OPCT officer, committed as a request would (its e-mail then goes its way)."""
    with app.app_context():
        session = db.session
        officer = session.scalar(select(User).where(User.email == "officer.opct@demo.test"))
        note = _store(session, [officer], kind="submitted", subject=subject, body="Body", link="/",
                      dedupe=f"test:{uuid.uuid4().hex}")[0]
        finish(session, app.config)
        note_id = note.id
        session.close()
    return note_id


def test_e_mail_that_cannot_go_fails_every_try_then_waits_in_the_failed_list_and_goes_when_tried_again(
        world, smtp_server):
    url, instance = world
    inbox, port = smtp_server
    closed = free_port()  # nothing listens there
    app = make_app(url, instance, "redis", SMTP_HOST="127.0.0.1", SMTP_PORT=closed)
    with app.app_context():
        db.session.execute(delete(Notification))
        db.session.commit()
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV | {"MEL_SMTP_HOST": "127.0.0.1",
                                                               "MEL_SMTP_PORT": str(closed)}):
        note_id = _notice(app, "Your return was submitted")
        failed = _wait_failed(app, "mel.jobs.send_notices")
    assert failed.tries == 3 and "mail server did not take them" in failed.error and failed.kind == "tasks"
    with app.app_context():
        assert db.session.get(Notification, note_id).emailed_at is None  # kept for the next try
    admin = _signed_in(app)
    page = admin.get("/admin/jobs/").get_data(as_text=True)
    assert "Send the e-mail notices waiting" in page and failed.id in page and "MailNotSent" in page
    # The mail server is back; the secretariat tries the job again from the page.
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV | {"MEL_SMTP_HOST": "127.0.0.1",
                                                               "MEL_SMTP_PORT": str(port)}):
        answer = admin.post(f"/admin/jobs/failed/tasks/{failed.id}/retry",
                            data={"csrf_token": csrf_token(admin, "/admin/jobs/")})
        assert answer.status_code == 302
        _wait(app, lambda s: s.get(Notification, note_id).emailed_at is not None)
    assert [b.split("\n")[0] for b in inbox.bodies("officer.opct@demo.test")] == ["Your return was submitted"]
    assert not [job for job in jobs.failed_jobs(app.config) if job.id == failed.id]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "queue.job_retried", AuditEvent.object == f"tasks job {failed.id}")) == 1
    # Trying again a job no longer in the list, or one of a queue that does not exist: 404.
    token = csrf_token(admin, "/admin/jobs/")
    for path in (f"/admin/jobs/failed/tasks/{failed.id}/retry", "/admin/jobs/failed/nope/x/retry",
                 f"/admin/jobs/failed/tasks/{failed.id}/remove"):
        assert admin.post(path, data={"csrf_token": token}).status_code == 404, path


def test_a_failed_job_can_be_removed_by_the_secretariat_only(world):
    url, instance = world
    closed = free_port()
    app = make_app(url, instance, "redis", SMTP_HOST="127.0.0.1", SMTP_PORT=closed)
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV | {"MEL_SMTP_HOST": "127.0.0.1",
                                                               "MEL_SMTP_PORT": str(closed)}):
        _notice(app, "Another notice")
        failed = _wait_failed(app, "mel.jobs.send_notices")
    for email in ("reviewer@demo.test", "officer.opct@demo.test", "viewer@demo.test"):
        other = _signed_in(app, email)
        token = csrf_token(other, "/")
        for action in ("retry", "remove"):
            assert other.post(f"/admin/jobs/failed/tasks/{failed.id}/{action}",
                              data={"csrf_token": token}).status_code == 403, (email, action)
    admin = _signed_in(app)
    answer = admin.post(f"/admin/jobs/failed/tasks/{failed.id}/remove",
                        data={"csrf_token": csrf_token(admin, "/admin/jobs/")}, follow_redirects=True)
    assert answer.status_code == 200 and "The failed job was removed." in answer.get_data(as_text=True)
    assert not [job for job in jobs.failed_jobs(app.config) if job.id == failed.id]
    with app.app_context():
        db.session.execute(delete(Notification))
        db.session.commit()


def _wait_failed(app, function: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [job for job in jobs.failed_jobs(app.config) if job.function == function]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"{function} never reached the failed list")


@pytest.mark.parametrize("mode", ["redis", "inline"])
def test_e_mail_of_a_request_goes_through_the_queue_or_inline(world, smtp_server, mode):
    url, instance = world
    inbox, port = smtp_server
    app = make_app(url, instance, mode, SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    env = WORKER_ENV | {"MEL_SMTP_HOST": "127.0.0.1", "MEL_SMTP_PORT": str(port)}
    with workers(app, url, instance, PREFIX, 1, env) if mode == "redis" else _nothing():
        note_id = _notice(app, f"Sent {mode}")
        if mode == "inline":  # sent by the request itself, before it answered
            with app.app_context():
                assert db.session.get(Notification, note_id).emailed_at is not None
        _wait(app, lambda s: s.get(Notification, note_id).emailed_at is not None)
    assert [b.split("\n")[0] for b in inbox.bodies("officer.opct@demo.test")] == [f"Sent {mode}"]


# --------------------------------------------------------------------------- the scheduler enqueues


@pytest.mark.parametrize("mode", ["redis", "inline"])
def test_the_scheduler_and_run_now_queue_their_jobs_for_a_worker(world, mode):
    url, instance = world
    app = make_app(url, instance, mode)
    with app.app_context():
        before = db.session.scalar(select(func.max(JobRun.id))) or 0
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV) if mode == "redis" else _nothing():
        scheduler_process._APP = app
        try:
            scheduler_process.execute("prune")  # what APScheduler calls at the job's time
        finally:
            scheduler_process._APP = None
        admin = _signed_in(app)
        answer = admin.post("/admin/jobs/data_quality_scan/run",
                            data={"csrf_token": csrf_token(admin, "/admin/jobs/")}, follow_redirects=True)
        said = "is queued: its run shows below" if mode == "redis" else "data_quality_scan: ok"
        assert said in answer.get_data(as_text=True)
        runs = _wait(app, lambda s: (rows := s.execute(select(JobRun.job_id, JobRun.trigger, JobRun.outcome)
                                                        .where(JobRun.id > before)).all())
                     and all(r.outcome != "running" for r in rows) and len(rows) == 2 and rows)
    assert sorted(tuple(r) for r in runs) == [
        ("data_quality_scan", "admin", "ok"), ("prune", "schedule", "ok")]


# --------------------------------------------------------------------------- settings


def test_queue_settings_are_checked(monkeypatch):
    for name, value, words in [("MEL_QUEUE", "sometimes", "MEL_QUEUE must be"),
                               ("MEL_QUEUE_RETRY_INTERVALS", "30,soon", "MEL_QUEUE_RETRY_INTERVALS"),
                               ("MEL_QUEUE_RETRIES", "-1", "MEL_QUEUE_RETRIES")]:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=words):
            load_config("development").validate()
        monkeypatch.delenv(name)
    monkeypatch.setenv("MEL_QUEUE", "redis")
    monkeypatch.setenv("MEL_REDIS_URL", "")
    with pytest.raises(ConfigError, match="MEL_QUEUE=redis needs MEL_REDIS_URL"):
        load_config("development").validate()


def test_inline_never_queues_even_with_a_worker_listening(world):
    url, instance = world
    app = make_app(url, instance, "inline")
    with workers(app, url, instance, PREFIX, 1, WORKER_ENV):
        assert jobs.enabled(app.config) is False
        assert jobs.enabled(make_app(url, instance, "auto").config) is True
        assert jobs.enabled(make_app(url, instance, "redis").config) is True
    admin = _signed_in(app)
    assert "No queue is in use" in admin.get("/admin/jobs/").get_data(as_text=True)


# --------------------------------------------------------------------------- the import API's flag


def _one_return_file(app) -> bytes:
    from tests.app.returns_helpers import rows_like

    with app.app_context():
        rows = rows_like(db.session, "OPCT", ["042"], period="2025Q3", factor=1.1)
        db.session.rollback()
    return rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(index=False).encode()


@pytest.mark.parametrize("mode", ["redis", "inline"])
def test_the_import_api_takes_async_true_to_the_background_and_async_false_inline(world, mode):
    url, instance = world
    app = make_app(url, instance, mode, IMPORT_INLINE_BYTES=100)  # every file is "large" without the flag
    with app.app_context():
        token = create_token(db.session, SECRETARIAT, name=f"async {mode}", days=1).token
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    data = _one_return_file(app)
    client = app.test_client()

    def post(flag: str):
        query = f"?programme=OPCT&dry_run=true{flag}"
        return client.post(f"/api/v1/returns:import{query}", headers=headers,
                           data={"file": (io.BytesIO(data), "opct-042.csv")}, content_type="multipart/form-data")

    with workers(app, url, instance, PREFIX, 1, WORKER_ENV) if mode == "redis" else _nothing():
        inline = post("&async=false")
        assert inline.status_code == 200 and inline.json["outcome"] == "checked", inline.json
        queued = post("&async=true")
        assert queued.status_code == 202 and queued.headers["Location"].startswith("/api/v1/imports/")
        deadline = time.monotonic() + 120
        while (body := client.get(queued.headers["Location"], headers=headers).json)["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
    assert body["state"] == "done" and body["status"] == 200, body
    assert body["result"] == inline.json  # the same answer, whichever way it went
    wrong = client.post("/api/v1/returns:import?async=sometimes", headers=headers,
                        data={"file": (io.BytesIO(data), "x.csv")}, content_type="multipart/form-data")
    assert wrong.status_code == 422 and "async" in wrong.get_data(as_text=True)
