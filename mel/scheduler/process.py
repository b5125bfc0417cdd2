"""The scheduler process (`mel scheduler`): APScheduler with a persistent job store, behind a lease.

Only the process holding the lease runs jobs; another one waits and takes over when the
lease expires (the holder stopped or died). Production runs it as its own process, never in
the web workers; the quick start may run it as a thread of the development server.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from mel import clock
from mel.db import db, utcnow
from mel.scheduler.jobs import JOBS
from mel.scheduler.models import SchedulerLease

log = logging.getLogger(__name__)
LEASE = "scheduler"
_APP: Flask | None = None


def acquire_lease(session, holder: str, seconds: int) -> bool:
    """Take or renew the lease; True when this holder has it now."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    taken = session.execute(
        update(SchedulerLease).where(SchedulerLease.name == LEASE,
                                     (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=until).execution_options(synchronize_session=False)
    ).rowcount
    if not taken and session.scalar(select(SchedulerLease.name).where(SchedulerLease.name == LEASE)) is None:
        try:
            with session.begin_nested():
                session.execute(insert(SchedulerLease).values(name=LEASE, holder=holder, expires_at=until))
            taken = 1
        except IntegrityError:
            taken = 0
    session.commit()
    return bool(taken)


def release_lease(session, holder: str) -> None:
    session.execute(update(SchedulerLease).where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder)
                    .values(expires_at=utcnow()).execution_options(synchronize_session=False))
    session.commit()


def execute(job_id: str) -> None:
    """What APScheduler calls (by reference, so the job store can keep it): put the job on the tasks
    queue for a worker (mel/jobs.py), or run it here when there is no queue."""
    from mel.scheduler.runner import queue_or_run

    assert _APP is not None, "the scheduler process has no application"
    with _APP.app_context():
        queue_or_run(db.session, _APP.config, job_id, trigger="schedule")


def build_scheduler(app: Flask) -> BackgroundScheduler:
    with app.app_context():
        engine = db.engine
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=clock.zone_name(app.config),
    )
    return scheduler


def run(app: Flask, *, lease_seconds: int = 60, stop: threading.Event | None = None) -> None:
    """Run until stopped: hold the lease and run the jobs, or wait for the lease."""
    global _APP
    _APP = app
    stop = stop or threading.Event()
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    interval = int(app.config.get("SCHEDULER_INTERVAL_SECONDS") or 0)
    for job in JOBS.values():
        trigger = {"trigger": "interval", "seconds": interval} if interval else {"trigger": "cron", **job.trigger}
        scheduler.add_job(execute, args=[job.id], id=job.id, name=job.description, replace_existing=True,
                          **trigger)
    active = False
    try:
        while not stop.is_set():
            with app.app_context():
                have = acquire_lease(db.session, holder, lease_seconds)
            if have and not active:
                log.info("scheduler %s holds the lease: running jobs", holder)
                scheduler.resume()
            elif not have and active:
                log.warning("scheduler %s lost the lease: pausing", holder)
                scheduler.pause()
            active = have
            stop.wait(lease_seconds / 4)
    finally:
        scheduler.shutdown(wait=False)
        with app.app_context():
            release_lease(db.session, holder)


def start_in_thread(app: Flask) -> threading.Event:
    """For the quick start only: the scheduler as a daemon thread of the development server."""
    stop = threading.Event()
    threading.Thread(target=run, args=(app,), kwargs={"stop": stop}, daemon=True, name="mel-scheduler").start()
    return stop


def next_runs(session) -> dict[str, object]:
    """Next run times as the job store has them (empty before a scheduler first started)."""
    from datetime import UTC, datetime

    from mel.scheduler.models import apscheduler_jobs

    rows = session.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)).all()
    return {job_id: datetime.fromtimestamp(when, UTC) for job_id, when in rows if when is not None}
