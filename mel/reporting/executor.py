"""Where a queued report renders: the RQ queue, a worker process (default), a thread, or inline.

With Redis (production; development when `mel worker` or `mel run`'s workers listen) every run is
queued for `mel worker` (mel/jobs.py): at most QUEUE_WORKERS render at once, the rest wait and
their page shows their place in the queue. Without it, as below.

A report with the county annex takes several seconds of CPU and WeasyPrint keeps much of its
memory afterwards, so by default each run renders in a short-lived `mel report render-run`
process that exits when done. Progress is in the database, so any web server can show it.

Publishing a run (its final PDF without the DRAFT mark) is a task of the same kind: the same
queue, or a `mel report publish-run` process, a thread or inline (TASKS).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

from flask import Flask

log = logging.getLogger(__name__)


# task -> (RQ job, `mel report` command, operation(session, run_id, config))
TASKS = {"render": ("mel.jobs.render_report", "render-run", "execute"),
         "publish": ("mel.jobs.publish_report", "publish-run", "run_publish")}


def start(app: Flask, run_id: int, task: str = "render") -> None:
    """Start a committed run's task (render a queued run, or publish one asked to be) the way REPORT_EXECUTOR says."""
    mode = app.config.get("REPORT_EXECUTOR", "process")
    job, _, _ = TASKS[task]
    from mel import jobs

    if mode == "process" and jobs.enabled(app.config):
        jobs.enqueue(app.config, "reports", job, run_id)
        log.info("report run %s queued (%s)", run_id, task)
    elif mode == "inline":
        _run(app, run_id, task)
    elif mode == "thread":
        threading.Thread(target=_run, args=(app, run_id, task), daemon=True, name=f"report-{task}-{run_id}").start()
    else:
        subprocess.Popen(_command(run_id, task), env=_environment(app.config), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
        log.info("report run %s: %s in a worker process", run_id, task)


def run_and_wait(session, config, run_id: int, timeout: int = 900) -> None:
    """Render a committed, queued run now and wait for it (the scheduler's report jobs)."""
    if config.get("REPORT_EXECUTOR", "process") != "process":
        from mel.reporting.operations import execute

        execute(session, run_id, config)
        return
    subprocess.run(_command(run_id), env=_environment(config), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    session.expire_all()


def _command(run_id: int, task: str = "render") -> list[str]:
    return [sys.executable, "-c", "from mel.cli import main; main()", "report", TASKS[task][1], str(run_id)]


def _environment(config) -> dict[str, str]:
    env = {**os.environ, "MEL_DATABASE_URL": config["DATABASE_URL"], "MEL_INSTANCE_DIR": config["INSTANCE_DIR"],
           "MEL_ENV": "production" if config.get("ENV_NAME") == "production" else "development"}
    if config.get("REPORTS_DIR"):
        env["MEL_REPORTS_DIR"] = config["REPORTS_DIR"]
    return env


def _run(app: Flask, run_id: int, task: str) -> None:
    from mel.db import db
    from mel.reporting import operations

    with app.app_context():
        getattr(operations, TASKS[task][2])(db.session, run_id, app.config)
