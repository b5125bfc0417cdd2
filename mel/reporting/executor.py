"""Where a queued report renders: the RQ queue, a worker process (default), a thread, or inline.

With Redis (production; development when `mel worker` or `mel run`'s workers listen) every run is
queued for `mel worker` (mel/jobs.py): at most QUEUE_WORKERS render at once, the rest wait and
their page shows their place in the queue. Without it, as below.

A report with the county annex takes several seconds of CPU and WeasyPrint keeps much of its
memory afterwards, so by default each run renders in a short-lived `mel report render-run`
process that exits when done. Progress is in the database, so any web server can show it.

Publishing a run (its final PDF without the DRAFT mark) is a task of the same kind: the same
queue, or a `mel report publish-run` process, a thread or inline (TASKS); so is making an edition of
the reporting guidelines handbook (a handbook run: `mel handbook make --run ID`, whose output goes to
the instance folder's handbook.log).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """Work on a committed run, wherever it runs: the same operation in each place."""

    job: str  # the RQ job (mel/jobs.py), on the reports queue
    command: tuple[str, ...]  # the `mel` command that runs it in a process of its own, before the run's id
    operation: str  # "module:function(session, run_id, config)", run in a thread or inline
    log_name: str = ""  # where a process of its own writes its output in the instance folder ("": nowhere)


TASKS = {"render": Task("mel.jobs.render_report", ("report", "render-run"), "mel.reporting.operations:execute"),
         "publish": Task("mel.jobs.publish_report", ("report", "publish-run"), "mel.reporting.operations:run_publish"),
         "handbook": Task("mel.jobs.make_handbook", ("handbook", "make", "--run"),
                          "mel.guidelines.operations:execute_run", "handbook.log")}


def start(app: Flask, run_id: int, task: str = "render") -> None:
    """Start a committed run's task (render a queued run, publish one asked to be, make a handbook
    edition) the way REPORT_EXECUTOR says."""
    mode = app.config.get("REPORT_EXECUTOR", "process")
    work = TASKS[task]
    from mel import jobs

    if mode == "process" and jobs.enabled(app.config):
        jobs.enqueue(app.config, "reports", work.job, run_id)
        log.info("%s run %s queued", task, run_id)
    elif mode == "inline":
        _run(app, run_id, task)
    elif mode == "thread":
        threading.Thread(target=_run, args=(app, run_id, task), daemon=True, name=f"{task}-run-{run_id}").start()
    else:
        _spawn(app, run_id, task)
        log.info("%s run %s in a worker process", task, run_id)


def _spawn(app: Flask, run_id: int, task: str) -> None:
    """A process of its own for the task, detached from this one; its output to its log, if it has one."""
    work, command, env = TASKS[task], _command(run_id, task), _environment(app.config)
    if not work.log_name:
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        return
    with (Path(app.instance_path) / work.log_name).open("ab") as output:  # the process keeps its own copy
        subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


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
    return [sys.executable, "-c", "from mel.cli import main; main()", *TASKS[task].command, str(run_id)]


def _environment(config) -> dict[str, str]:
    env = {**os.environ, "MEL_DATABASE_URL": config["DATABASE_URL"], "MEL_INSTANCE_DIR": config["INSTANCE_DIR"],
           "MEL_ENV": "production" if config.get("ENV_NAME") == "production" else "development"}
    if config.get("REPORTS_DIR"):
        env["MEL_REPORTS_DIR"] = config["REPORTS_DIR"]
    return env


def _run(app: Flask, run_id: int, task: str) -> None:
    from mel.db import db

    module, name = TASKS[task].operation.split(":")
    with app.app_context():
        getattr(import_module(module), name)(db.session, run_id, app.config)
