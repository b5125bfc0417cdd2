"""Run one job, record the run, then send the e-mail it produced; never let a job crash the caller.
With a queue (mel/jobs.py), the scheduler and the admin page put the job on the tasks queue instead,
and a worker runs it here."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from indicators.messages import N_, message, text
from mel.db import utcnow
from mel.errors import NotFound
from mel.scheduler.jobs import JOBS
from mel.scheduler.models import JobRun
from mel.unit_of_work import finish

log = logging.getLogger(__name__)


def known_job(job_id: str):
    """The scheduled job of this id; 404 naming the jobs there are."""
    job = JOBS.get(job_id)
    if job is None:
        raise NotFound(text(message(N_("No job %(job)s; the jobs are %(jobs)s."), job=repr(job_id), jobs=", ".join(JOBS))))
    return job


def run_job(session: Session, config: dict, job_id: str, *, now: datetime | None = None,
            trigger: str = "manual") -> JobRun:
    """Run a job by id and keep a record of it (outcome, detail, duration)."""
    job = known_job(job_id)
    from mel import jobs

    if jobs.attempt() > 1:  # a worker died running it: its record says so rather than "running" forever
        session.execute(update(JobRun).where(JobRun.job_id == job_id, JobRun.outcome == "running")
                        .values(outcome="error", detail="its worker stopped before the end; tried again",
                                finished_at=utcnow()))
    run = JobRun(job_id=job_id, trigger=trigger, started_at=utcnow(), outcome="running")
    session.add(run)
    finish(session, config)  # the run is on record even if the job fails
    started = time.perf_counter()
    try:
        run.detail = job.function(session, config, now or utcnow())
        sent = finish(session, config, retry_unsent=True)
        if sent:
            run.detail += f"; {sent} e-mail(s) sent"
        run.outcome = "ok"
    except Exception as exc:  # a failing job is recorded and logged, the scheduler goes on
        session.rollback()
        log.exception("job %s failed", job_id)
        run = session.merge(run)
        run.outcome, run.detail = "error", f"{type(exc).__name__}: {exc}"[:2000]
    run.finished_at = utcnow()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    finish(session, config)
    return run


def queue_or_run(session: Session, config: dict, job_id: str, *, trigger: str) -> JobRun | None:
    """Put a job on the tasks queue when there is one (None: a worker will record its run), else run it now."""
    from mel import jobs

    known_job(job_id)
    if jobs.enabled(config):
        from redis.exceptions import RedisError

        try:
            jobs.enqueue(config, "tasks", "mel.jobs.run_scheduled", job_id, trigger)
            log.info("job %s queued (%s)", job_id, trigger)
            return None
        except (RedisError, OSError):
            log.warning("Redis refused job %s: running it in this process", job_id)
    return run_job(session, config, job_id, trigger=trigger)
