"""Admin page of the scheduled jobs: schedule, next run, last runs, run now; and the queue's failed
list: jobs that failed every try, to try again or remove (secretariat)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from indicators.messages import message, text
from mel import jobs
from mel.accounts.audit import record
from mel.accounts.auth import authenticated_user
from mel.db import db
from mel.errors import Forbidden, NotFound
from mel.i18n import N_
from mel.scheduler.jobs import JOBS
from mel.scheduler.models import JobRun, SchedulerLease
from mel.scheduler.process import LEASE, next_runs
from mel.scheduler.runner import queue_or_run
from mel.scopes import can_administer

bp = Blueprint("scheduler", __name__, url_prefix="/admin/jobs")
# The descriptions of jobs.py JOBS, for extraction: the page translates them where it shows them.
JOB_WORDS = (N_("Tell officers the reporting window is open"), N_("Remind officers of returns due soon (and on the due day)"),
             N_("Mark missing returns late; digest to the secretariat"),
             N_("Draft the sector quarterly report after the review deadline"),
             N_("Nightly data-quality digest to reviewers"), N_("Remove expired sessions, old tokens and old notices"),
             N_("Remind owners of overdue TWG actions (once a day)"),
             N_("Make the coming financial years' partitions of the figures and their audit"))


def _secretariat() -> None:
    if not can_administer(authenticated_user()):
        raise Forbidden(text(message(N_("Only the secretariat manages the scheduled jobs."))))


@bp.route("/")
@login_required
def index():
    _secretariat()
    session = db.session
    runs = list(session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(50)))
    lease = session.get(SchedulerLease, LEASE)
    config = current_app.config
    return render_template("admin/jobs.html", jobs=JOBS.values(), runs=runs, lease=lease,
                           next_runs=next_runs(session), failed=jobs.failed_jobs(config),
                           queued=jobs.redis_for(config) is not None and jobs.mode(config) != "inline")


@bp.route("/<job_id>/run", methods=["POST"])
@login_required
def run_now(job_id: str):
    _secretariat()
    run = queue_or_run(db.session, current_app.config, job_id, trigger="admin")
    if run is None:
        flash(_("%(job)s is queued: its run shows below once a worker has done it.", job=job_id), "info")
        return redirect(url_for("scheduler.index"))
    flash(_("%(job)s: %(outcome)s in %(num)s ms — %(detail)s", job=run.job_id, outcome=run.outcome, num=run.duration_ms,
            detail=run.detail), "info" if run.outcome == "ok" else "error")
    return redirect(url_for("scheduler.index"))


# What the failed list's buttons do: the queue operation, its audit action and what the page then says.
FAILED_ACTIONS = {
    "retry": (jobs.retry_failed, "queue.job_retried", N_("The job is back on its queue: a worker will try it again.")),
    "remove": (jobs.remove_failed, "queue.job_removed", N_("The failed job was removed.")),
}


@bp.route("/failed/<queue_kind>/<rq_id>/<any(retry, remove):action>", methods=["POST"])
@login_required
def failed_job(queue_kind: str, rq_id: str, action: str):
    """Try again (put back on its queue) or remove a job that failed every try; its run, import or
    notices keep what they say."""
    _secretariat()
    operation, audited, said = FAILED_ACTIONS[action]
    if queue_kind not in jobs.KINDS or len(rq_id) > 100 or not operation(current_app.config, queue_kind, rq_id):
        raise NotFound(text(message(N_("No failed job %(job)s."), job=rq_id[:100])))
    record(db.session, audited, actor=authenticated_user(), object=f"{queue_kind} job {rq_id}")
    flash(_(said), "info")
    return redirect(url_for("scheduler.index"))
