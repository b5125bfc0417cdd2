"""Run one job, record the run, then send the e-mail it produced; never let a job crash the caller."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy.orm import Session

from indicators.messages import N_, message, text
from mel.db import utcnow
from mel.errors import NotFound
from mel.scheduler.jobs import JOBS
from mel.scheduler.models import JobRun
from mel.unit_of_work import finish

log = logging.getLogger(__name__)


def run_job(session: Session, config: dict, job_id: str, *, now: datetime | None = None,
            trigger: str = "manual") -> JobRun:
    """Run a job by id and keep a record of it (outcome, detail, duration)."""
    job = JOBS.get(job_id)
    if job is None:
        raise NotFound(text(message(N_("No job %(job)s; the jobs are %(jobs)s."), job=repr(job_id), jobs=", ".join(JOBS))))
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
