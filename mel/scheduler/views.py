"""Admin page of the scheduled jobs: schedule, next run, last runs, run now (secretariat)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from indicators.messages import message, text
from mel.accounts.auth import authenticated_user
from mel.db import db
from mel.errors import Forbidden
from mel.i18n import N_
from mel.scheduler.jobs import JOBS
from mel.scheduler.models import JobRun, SchedulerLease
from mel.scheduler.process import LEASE, next_runs
from mel.scheduler.runner import run_job
from mel.scopes import can_administer

bp = Blueprint("scheduler", __name__, url_prefix="/admin/jobs")
# The descriptions of jobs.py JOBS, for extraction: the page translates them where it shows them.
JOB_WORDS = (N_("Tell officers the reporting window is open"), N_("Remind officers of returns due soon (and on the due day)"),
             N_("Mark missing returns late; digest to the secretariat"),
             N_("Draft the sector quarterly report after the review deadline"),
             N_("Nightly data-quality digest to reviewers"), N_("Remove expired sessions, old tokens and old notices"),
             N_("Remind owners of overdue TWG actions (once a day)"))


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
    return render_template("admin/jobs.html", jobs=JOBS.values(), runs=runs, lease=lease,
                           next_runs=next_runs(session))


@bp.route("/<job_id>/run", methods=["POST"])
@login_required
def run_now(job_id: str):
    _secretariat()
    run = run_job(db.session, current_app.config, job_id, trigger="admin")
    flash(_("%(job)s: %(outcome)s in %(num)s ms — %(detail)s", job=run.job_id, outcome=run.outcome, num=run.duration_ms,
            detail=run.detail), "info" if run.outcome == "ok" else "error")
    return redirect(url_for("scheduler.index"))
