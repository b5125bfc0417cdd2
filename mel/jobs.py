"""Background work on RQ queues (Redis): report renders and publications, handbook editions, large imports,
run by `mel worker`.

`mel worker` runs QUEUE_WORKERS RQ worker processes on the queues "<prefix>-reports" and
"<prefix>-imports", so at most that many renders (or imports) run at once and the rest wait
their turn; each job runs in a process forked for it that exits when done (WeasyPrint's memory
goes with it). Progress is in the database (report_run, import_job), so any web server shows it.

Production needs REDIS_URL (config.py refuses to start without it). Development uses Redis when
it answers and a worker listens; otherwise reports render in a process each (executor.py) and
imports run inside the request, as before (a DHIS2 `async=true` import too: `start_job` runs its
job there). Tests set REDIS_URL themselves.

An import job is one row whatever brought it (a web or API upload, a DHIS2 data value set): one
`run_import(job_id)` runs it with the importer of its channel (IMPORTERS).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import import_module
from typing import Any

from flask import Flask
from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, selectinload

from indicators.messages import N_, keeping_words, message, text, with_words
from mel.db import Base, utcnow

log = logging.getLogger(__name__)

# A worker takes the first queue with work: an officer's import (seconds, someone waiting at the
# deadline) goes first, then the short tasks (the scheduler's jobs, e-mail), then report renders (minutes).
KINDS = ("imports", "tasks", "reports")
TIMEOUTS = {"imports": "IMPORT_JOB_TIMEOUT", "tasks": "TASK_JOB_TIMEOUT", "reports": "REPORT_JOB_TIMEOUT"}
FAILED_KEPT_SECONDS = 7 * 86400  # a job that failed every try stays on the admin jobs page a week
IMPORT_STATES = ("queued", "running", "done", "failed")


class ImportJob(Base):
    """A large upload imported in the background: the file until it is read, progress, then the result.

    `channel` picks the importer (IMPORTERS: a DHIS2 data value set, else a file of canonical rows).
    `answer` is what the inline API call would have answered (its JSON body) with `status`, its
    HTTP status; `result` is the ingest result (per-return outcomes, errors naming cells) the web
    page shows. The file's bytes are dropped once the import has finished.
    """

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    channel: Mapped[str] = mapped_column(String(12), default="web")  # web | api | dhis2 (IMPORTERS)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)
    programme: Mapped[str | None] = mapped_column(String(20))
    dry_run: Mapped[bool] = mapped_column(default=False)
    submit: Mapped[bool] = mapped_column(default=False)
    options: Mapped[str | None] = mapped_column(Text)  # a DHIS2 import: its options and format (JSON)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    stage: Mapped[str] = mapped_column(String(120), default="waiting for a worker")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    returns_written: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --------------------------------------------------------------------------- Redis and queues


@lru_cache(maxsize=8)
def _redis(url: str):
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def redis_for(config):
    """The Redis connection of REDIS_URL, or None when there is no queue (tests, dev without Redis)."""
    url = str(config.get("REDIS_URL") or "").strip()
    return _redis(url) if url else None


def queue(config, kind: str):
    from rq import Queue

    return Queue(f"{config.get('QUEUE_PREFIX', 'mel')}-{kind}", connection=redis_for(config))


def reachable(url: str) -> bool:
    """Whether Redis answers at `url` (development probes it once at start)."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except (RedisError, OSError, ValueError):
        return False


def init_app(app: Flask) -> None:
    """Development: use Redis when it answers at REDIS_URL, else say so once and work without it."""
    url = str(app.config.get("REDIS_URL") or "").strip()
    if app.config.get("ENV_NAME") == "development" and url and not reachable(url):
        log.warning("Redis does not answer at %s: reports render in a process each, imports run in the "
                    "request and rate limits are kept in memory (development only).", url)
        app.config["REDIS_URL"] = ""


def mode(config) -> str:
    """MEL_QUEUE: "auto", "redis" or "inline" (config.py)."""
    return str(config.get("QUEUE") or "auto").strip().lower()


def enabled(config) -> bool:
    """Whether work goes to the queues. MEL_QUEUE=inline: never; =redis: always (it waits for a
    worker); auto: production when Redis answers, elsewhere when a worker listens.

    Redis down in production (auto): reports render a process each and imports run in the request,
    as before the queue (logged), rather than waiting in a queue nobody can reach.
    """
    if mode(config) == "inline":
        return False
    connection = redis_for(config)
    if connection is None:
        return False
    if mode(config) == "redis":
        return True
    from redis.exceptions import RedisError
    from rq import Worker

    try:
        if config.get("ENV_NAME") == "production":
            return bool(connection.ping())
        return Worker.count(queue=queue(config, "reports"), connection=connection) > 0
    except (RedisError, OSError):
        log.warning("Redis does not answer at %s: working without the queue", config.get("REDIS_URL"))
        return False


def retry_policy(config):
    """RQ's Retry of QUEUE_RETRIES tries after the first, QUEUE_RETRY_INTERVALS seconds apart (None: no retry)."""
    from rq import Retry

    retries = int(config.get("QUEUE_RETRIES", 3))
    if retries <= 0:
        return None
    intervals = [int(seconds) for seconds in config.get("QUEUE_RETRY_INTERVALS") or [0]]
    return Retry(max=retries, interval=intervals if any(intervals) else 0)


def enqueue(config, kind: str, function: str, *args):
    """Queue `function(*args)` on the kind's queue, with the retry policy; the RQ job."""
    timeout = int(config.get(TIMEOUTS[kind], 900))
    retries = int(config.get("QUEUE_RETRIES", 3))
    return queue(config, kind).enqueue_call(function, args=args, timeout=timeout, result_ttl=600,
                                            failure_ttl=FAILED_KEPT_SECONDS, retry=retry_policy(config),
                                            meta={"retries": max(retries, 0)})


def attempt() -> int:
    """Which try of its RQ job the running job is: 1 the first, 2 the first retry…; 0 outside a worker."""
    from rq import get_current_job

    job = get_current_job()
    if job is None:
        return 0
    return attempt_count(job)


def take_up_again(session: Session, row, state: str = "state") -> None:
    """On a retry, a row its dead try left "running" is queued again, for the job to run it from the
    start (each job's work is all-or-nothing and keyed by its row, so a second run does it once)."""
    if attempt() > 1 and row is not None and getattr(row, state) == "running":
        log.warning("%s %s: taken up again after its worker stopped (try %s)", type(row).__name__, row.id, attempt())
        setattr(row, state, "queued")
        if hasattr(row, "stage"):
            row.stage = "trying again: the worker that had it stopped"
        session.commit()


# --------------------------------------------------------------------------- the worker's side

_APP: Flask | None = None


def _worker_app() -> Flask:
    """The application a job runs in: the one `mel worker` built, or one from the environment."""
    global _APP
    if _APP is None:
        from mel.app import create_app

        _APP = create_app()
    return _APP


def render_report(run_id: int) -> str:
    """RQ job: render a queued report run (reports queue)."""
    from mel.db import db
    from mel.reporting.models import ReportRun
    from mel.reporting.operations import execute

    app = _worker_app()
    with app.app_context():
        db.engine.dispose(close=False)  # a forked process never shares its parent's connections
        take_up_again(db.session, db.session.get(ReportRun, run_id))
        return execute(db.session, run_id, app.config).state


def publish_report(run_id: int) -> str:
    """RQ job: publish a run asked to be published (reports queue): its final PDF, then the flip."""
    from mel.db import db
    from mel.reporting.models import ReportRun
    from mel.reporting.operations import run_publish

    app = _worker_app()
    with app.app_context():
        db.engine.dispose(close=False)  # a forked process never shares its parent's connections
        take_up_again(db.session, db.session.get(ReportRun, run_id), "publish_state")
        return run_publish(db.session, run_id, app.config).publish_state


def make_handbook(run_id: int) -> str:
    """RQ job: make the handbook edition a queued handbook run asks for (reports queue: a render as long)."""
    from mel.db import db
    from mel.guidelines.models import HandbookRun
    from mel.guidelines.operations import execute_run

    app = _worker_app()
    with app.app_context():
        db.engine.dispose(close=False)  # a forked process never shares its parent's connections
        take_up_again(db.session, db.session.get(HandbookRun, run_id))
        return execute_run(db.session, run_id, app.config).state


def preload_render() -> None:
    """Import the report path once in the worker, before it forks a process per job: each job then
    starts with WeasyPrint, the report model and the snapshot code loaded (about 2 s a report)."""
    import mel.reporting.operations  # noqa: F401
    import reports.parallel  # noqa: F401
    from reports.render import environment, weasyprint_html

    weasyprint_html()
    environment()


def _maintained_worker():
    """RQ's Worker, looking for jobs whose worker died every QUEUE_MAINTENANCE_SECONDS (RQ: 10 minutes)."""
    from rq import Worker

    class MaintainedWorker(Worker):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.maintenance_interval = int(_worker_app().config.get("QUEUE_MAINTENANCE_SECONDS", 600))
            # An idle worker waits for work at most worker_ttl - 15 s before it looks again (and does its
            # maintenance): at most the maintenance interval, so an idle worker finds a dead one's job too.
            self.worker_ttl = min(self.worker_ttl, max(self.maintenance_interval, 5) + 15)

    return MaintainedWorker


def run_workers(app: Flask, count: int, *, burst: bool = False) -> None:
    """Run `count` RQ worker processes on the queues (KINDS, in that order) until stopped (SIGINT/SIGTERM).
    Each worker also runs RQ's scheduler, which puts a job due for a retry back on its queue."""
    from rq.worker_pool import WorkerPool

    global _APP
    _APP = app
    preload_render()
    config = app.config
    pool = WorkerPool([queue(config, kind) for kind in KINDS], connection=redis_for(config), num_workers=count,
                      worker_class=_maintained_worker())
    pool.start(burst=burst, logging_level=str(config.get("LOG_LEVEL", "INFO")))


# --------------------------------------------------------------------------- the scheduler's jobs and e-mail


def run_scheduled(job_id: str, trigger: str = "schedule") -> str:
    """RQ job (tasks queue): run a scheduled job (mel/scheduler/jobs.py) as the scheduler would have."""
    from mel.db import db
    from mel.scheduler.runner import run_job

    app = _worker_app()
    with app.app_context():
        db.engine.dispose(close=False)
        return run_job(db.session, app.config, job_id, trigger=trigger).outcome


class MailNotSent(RuntimeError):
    """Notices are waiting and the mail server did not take them: the job fails, to be tried again later."""


def send_notices() -> int:
    """RQ job (tasks queue): e-mail the notices not sent yet. The mail server unreachable (or refusing
    every one) fails the job, so the queue tries again after its back-off; the notices stay pending."""
    from mel.db import db
    from mel.review import notify

    app = _worker_app()
    with app.app_context():
        db.engine.dispose(close=False)
        session = db.session
        sent = notify.send_pending(session, app.config)
        session.commit()
        waiting = notify.unsent(session, app.config)
        if waiting and not sent:
            raise MailNotSent(f"{waiting} e-mail(s) waiting: the mail server did not take them "
                              f"({app.config.get('SMTP_HOST')}:{app.config.get('SMTP_PORT')})")
        return sent


def mail_notices(session: Session, config) -> int:
    """After a commit that wrote notices: queue their e-mail (the tasks queue), or send them now when
    there is no queue (or Redis refused the job). Returns how many were sent here (0 when queued)."""
    from mel.review import notify

    if config.get("SMTP_HOST") and enabled(config):
        from redis.exceptions import RedisError

        try:
            enqueue(config, "tasks", "mel.jobs.send_notices")
            return 0
        except (RedisError, OSError):
            log.warning("Redis refused the e-mail job: sending the notices from this process")
    return notify.send_pending(session, config)


# --------------------------------------------------------------------------- background imports


def import_in_background(config, data: bytes) -> bool:
    """Whether an upload is large enough to import in the background (and a queue is there)."""
    large = len(data) > int(config.get("IMPORT_INLINE_BYTES", 1 << 20)) or \
        data.count(b"\n") > int(config.get("IMPORT_INLINE_ROWS", 20000))
    return large and enabled(config)


@dataclass
class ImportOutcome:
    """What an importer gives its job: the inline call's answer (JSON body, HTTP status), the
    ingest result the web page shows (None: the answer says it all) and the returns written."""

    status: int
    answer: dict
    result: dict | None = None
    returns_written: int = 0


# channel -> "module:function(session, config, user, job) -> ImportOutcome"; any other channel
# (web, api) is a file of canonical rows, imported as mel/returns/operations.import_file does.
IMPORTERS = {"dhis2": "mel.dhis2.datavalue_import:run_job"}


def start_import(session: Session, config, user, data: bytes, filename: str, *, channel: str,
                 programme: str | None, dry_run: bool, submit: bool = False) -> ImportJob:
    """Check the file's size and shape (no parsing), keep it, commit, and queue its import; the caller
    shows the job's progress. A file over a limit is refused now (422), never kept."""
    from mel.returns.upload_limits import UploadLimits, check_upload

    check_upload(data, filename, UploadLimits.from_config(config))
    job = ImportJob(user_id=user.id, channel=channel, filename=filename[:255], content=data, size=len(data),
                    programme=programme, dry_run=dry_run, submit=submit, created_at=utcnow())
    return start_job(session, config, job)


def start_job(session: Session, config, job: ImportJob) -> ImportJob:
    """Keep a new import job, commit, and queue it; with no queue (development without Redis or a
    worker) run it now, in this process, with the same code a worker runs."""
    from mel.unit_of_work import finish

    session.add(job)
    session.flush()
    finish(session, config)  # the worker reads the job
    if enabled(config):
        enqueue(config, "imports", "mel.jobs.run_import", job.id)
    else:
        _import(session, config, job.id)
    return job


def run_import(job_id: int) -> str:
    """RQ job: import a kept upload with the importer of its channel (IMPORTERS)."""
    from mel.db import db

    app = _worker_app()
    with app.app_context():
        db.engine.dispose(close=False)
        take_up_again(db.session, db.session.get(ImportJob, job_id))
        return _import(db.session, app.config, job_id)


def _importer(channel: str):
    target = IMPORTERS.get(channel)
    if target is None:
        return _import_file
    module, name = target.split(":")
    return getattr(import_module(module), name)


def _import(session: Session, config, job_id: int) -> str:
    """Run a queued job once: mark it running, run its channel's importer, keep the outcome, drop the bytes."""
    from mel.accounts.models import User
    from mel.errors import MelError
    from mel.unit_of_work import finish

    job = session.get(ImportJob, job_id)
    if job is None or job.state != "queued":
        return "skipped"
    job.state, job.started_at, job.stage = "running", utcnow(), "reading the file"
    session.commit()
    # The uploader with their scopes, as the web and API load them: an officer's import checks them.
    user = session.get(User, job.user_id, options=[selectinload(User.programmes), selectinload(User.org_units)])
    try:
        outcome = _importer(job.channel)(session, config, user, job)
        job = _reload(session, job_id)
        # Messages are kept with their words, for the page to say them in its reader's language.
        job.status, job.answer, job.returns_written = outcome.status, _stored(outcome.answer), outcome.returns_written
        job.result = _stored(outcome.result) if outcome.result is not None else ""
        job.state, job.stage = "done", "done"
    except MelError as exc:  # a refusal of the whole file: the same answer as inline
        session.rollback()
        job = _reload(session, job_id)
        job.status, job.answer, job.state, job.stage = exc.status, _stored(exc.as_dict()), "done", "done"
    except Exception:
        session.rollback()
        log.exception("import job %s failed", job_id)
        job = _reload(session, job_id)
        job.state, job.stage, job.status = "failed", "failed", 500
        job.answer = json.dumps({"status": 500, "error": "internal_error", "message": (
            "The import stopped on an error on our side; it was logged and nothing was stored.")})
    job.content, job.finished_at = None, utcnow()
    finish(session, config)
    return job.state


def _import_file(session: Session, config, user, job: ImportJob) -> ImportOutcome:
    """The importer of files (web, api): the code of the inline import (mel/returns/operations.import_file)."""
    from mel.errors import ErrorDetail, ValidationFailed
    from mel.returns import operations
    from mel.returns.ingest import IngestSettings

    def rows_read(count: int) -> None:
        job.rows_read, job.stage = count, f"checking and storing {count:,} rows"
        session.commit()

    result = operations.import_file(session, user, job.content or b"", job.filename,
                                    settings=IngestSettings.from_config(config), programme=job.programme,
                                    dry_run=job.dry_run, on_rows=rows_read)
    if result.outcome != "stored":
        session.rollback()
    status, answer = 200, result.as_dict()
    if result.errors:
        status = 422
        answer = ValidationFailed(result.describe(), [ErrorDetail(e.message, e.location)
                                                      for e in result.errors[:500]]).as_dict()
    elif job.submit and not job.dry_run:
        _, problems = operations.submit_imported(session, user, result, channel=job.channel)
        answer = result.as_dict()
        if problems:
            status = 422
            answer = ValidationFailed(text(message(N_("The figures were stored (%(what)s) but some returns could "
                                                      "not be submitted."), what=result.describe())),
                                      problems).as_dict()
    written = sum(1 for r in result.returns if r.changed) if result.outcome == "stored" else 0
    return ImportOutcome(status, answer, result.as_dict(), written)


def _reload(session: Session, job_id: int) -> ImportJob:
    return session.get(ImportJob, job_id)  # type: ignore[return-value]


def visible_import(session: Session, user, job_id: int) -> ImportJob:
    """An import job for its uploader and the secretariat; 404 for anyone else."""
    from mel.errors import NotFound
    from mel.scopes import can_follow_import

    job = session.get(ImportJob, job_id)
    if job is None or not can_follow_import(user, job.user_id):
        raise NotFound(text(message(N_("No import %(number)s."), number=job_id)))
    return job


def import_position(session: Session, job: ImportJob) -> tuple[int, int]:
    """(k, n): the job is k-th of the n imports waiting (0, n when it is not waiting)."""
    waiting = session.scalar(select(func.count()).select_from(ImportJob).where(ImportJob.state == "queued")) or 0
    if job.state != "queued":
        return 0, waiting
    ahead = session.scalar(select(func.count()).select_from(ImportJob).where(
        ImportJob.state == "queued", ImportJob.id < job.id)) or 0
    return ahead + 1, waiting


def _stored(answer: dict) -> str:
    """An answer as JSON, each message with its words beside it (indicators/messages.py `keeping_words`)."""
    return json.dumps(keeping_words(answer), default=str)


def stored_answer(text: str) -> Any:
    """A stored answer as it was given: English messages that pages say again in their language."""
    return with_words(json.loads(text)) if text else None


def import_body(session: Session, job: ImportJob) -> dict:
    position, waiting = import_position(session, job)
    return {
        "id": job.id, "state": job.state, "stage": job.stage, "filename": job.filename, "size": job.size,
        "rows_read": job.rows_read, "returns_written": job.returns_written,
        "position": position or None, "waiting": waiting,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "status": job.status or None, "result": stored_answer(job.answer),
    }


# --------------------------------------------------------------------------- the failed list (dead letters)

# What each job does, in words the admin jobs page translates, and the page that follows its row.
JOB_WORDS = {
    "mel.jobs.render_report": (N_("Render report run %(id)s"), "reporting.show", "run_id"),
    "mel.jobs.publish_report": (N_("Publish report run %(id)s"), "reporting.show", "run_id"),
    "mel.jobs.make_handbook": (N_("Make handbook run %(id)s"), "guidelines.run_page", "run_id"),
    "mel.jobs.run_import": (N_("Import %(id)s"), "returns.import_job", "job_id"),
    "mel.jobs.run_scheduled": (N_("Scheduled job %(id)s"), "", ""),
    "mel.jobs.send_notices": (N_("Send the e-mail notices waiting"), "", ""),
}


@dataclass(frozen=True)
class FailedJob:
    """A job that failed its first try and every retry: it waits here until tried again or removed."""

    id: str
    kind: str
    function: str
    argument: str
    tries: int
    enqueued_at: datetime | None
    failed_at: datetime | None
    error: str  # the last line of its traceback

    @property
    def words(self) -> tuple[str, str, str]:
        return JOB_WORDS.get(self.function, (self.function, "", ""))


def _failed_registry(config, kind: str):
    from rq.registry import FailedJobRegistry

    return FailedJobRegistry(queue=queue(config, kind))


def failed_jobs(config, limit: int = 200) -> list[FailedJob]:
    """The jobs of every queue that failed every try, latest first (empty without Redis)."""
    from redis.exceptions import RedisError
    from rq.job import Job

    connection = redis_for(config)
    if connection is None:
        return []
    found: list[FailedJob] = []
    try:
        for kind in KINDS:
            ids = _failed_registry(config, kind).get_job_ids(0, limit - 1)
            for job in Job.fetch_many(ids, connection=connection):
                if job is None:
                    continue
                result = job.latest_result()
                lines = [line for line in ((result.exc_string if result else "") or "").splitlines() if line.strip()]
                found.append(FailedJob(job.id, kind, job.func_name, ", ".join(str(a) for a in job.args),
                                       attempt_count(job), job.enqueued_at, job.ended_at,
                                       lines[-1][:300] if lines else ""))
    except (RedisError, OSError) as exc:
        log.warning("Redis does not answer at %s: the failed jobs cannot be listed (%s)", config.get("REDIS_URL"), exc)
        return []
    return sorted(found, key=lambda job: job.failed_at or datetime.min, reverse=True)[:limit]


def attempt_count(job) -> int:
    """How many tries an RQ job has had (its first and each retry)."""
    retries, again = int(job.meta.get("retries", 0)), int(job.meta.get("tried_again", 0))
    return (retries - int(job.retries_left or 0) if job.retries_left is not None else 0) + 1 + again


def _failed(config, kind: str, job_id: str):
    """(registry, job) of a job in a queue's failed list; None when it is not there (or there is no Redis)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if kind not in KINDS or redis_for(config) is None:
        return None
    registry = _failed_registry(config, kind)
    if job_id not in registry.get_job_ids():
        return None
    try:
        return registry, Job.fetch(job_id, connection=redis_for(config))
    except NoSuchJobError:
        registry.remove(job_id)  # its record expired: nothing left to try again
        return None


def retry_failed(config, kind: str, job_id: str) -> bool:
    """Put a failed job back on its queue (one more try); False when it is not in the failed list."""
    from rq.exceptions import InvalidJobOperation, NoSuchJobError

    found = _failed(config, kind, job_id)
    if found is None:
        return False
    registry, job = found
    job.meta["tried_again"] = int(job.meta.get("tried_again", 0)) + 1  # the job knows it is a new try
    job.save_meta()
    try:
        registry.requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError):
        return False
    return True


def remove_failed(config, kind: str, job_id: str) -> bool:
    """Forget a failed job; False when it is not in the failed list."""
    found = _failed(config, kind, job_id)
    if found is None:
        return False
    registry, job = found
    registry.remove(job, delete_job=True)
    return True
