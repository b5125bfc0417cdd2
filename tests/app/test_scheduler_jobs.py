"""The reporting calendar's jobs over one quarter, with e-mail to a loopback SMTP server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from mel.reporting.models import ReportRun
from mel.review.models import Notification
from mel.scheduler.jobs import JOBS
from mel.scheduler.models import JobRun
from mel.scheduler.runner import run_job
from tests.app.returns_helpers import rows_like, send

NAIROBI = ZoneInfo("Africa/Nairobi")


@pytest.fixture
def mail(app, smtp_server):
    inbox, port = smtp_server
    return inbox, {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "BASE_URL": "https://mel.example"}


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=NAIROBI)


def to(inbox, email):
    return inbox.bodies(email)


@pytest.mark.slow  # drafts the sector report (PDF)
def test_a_quarters_calendar_runs_itself(session, mail):
    inbox, config = mail
    # FY2025/26 Q1 (2025Q3) ended 30 September: window opens, reminders 8 and 13 October,
    # due 15 October, late from the 16th. Kisumu's OPCT return arrives before the first reminder.
    assert run_job(session, config, "open_windows", now=at("2025-10-01T06:00")).outcome == "ok"
    opened = to(inbox, "officer.kisumu@demo.test")
    assert len(opened) == 1 and "Reporting for FY2025/26 Q1 (Jul–Sep 2025) is open" in opened[0]
    send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"]), now=at("2025-10-05T09:00"))
    for day in ("2025-10-08T07:00", "2025-10-13T07:00", "2025-10-15T07:00"):
        assert run_job(session, config, "remind_due", now=at(day)).outcome == "ok"
    kisumu = [m for m in to(inbox, "officer.kisumu@demo.test") if "Reminder" in m]
    assert len(kisumu) == 3
    assert "in 7 days" in kisumu[0] and "in 2 days" in kisumu[1] and "due today" in kisumu[2]
    # Only the officer's own returns, with direct links; the draft OPCT return is still owed.
    assert "https://mel.example/returns/COUNTY/042/2025Q3" in kisumu[0]
    assert "https://mel.example/returns/OPCT/042/2025Q3" in kisumu[0] and "draft, not submitted" in kisumu[0]
    assert "/returns/OPCT/037/" not in kisumu[0]
    html = inbox.bodies("officer.kisumu@demo.test", "html")
    assert any('<a href="https://mel.example/returns/COUNTY/042/2025Q3">' in body for body in html)
    national = [m for m in to(inbox, "officer.opct@demo.test") if "Reminder" in m]
    assert "47 return(s)" in national[0] and "/returns/OPCT/037/2025Q3" in national[0]
    run = run_job(session, config, "mark_late", now=at("2025-10-16T08:00"))
    assert run.outcome == "ok" and "1 draft(s) marked late" in run.detail
    digest = to(inbox, "secretariat@demo.test")
    assert len(digest) == 1 and "late" in digest[0] and "OPCT: 47 missing" in digest[0]
    # The TWG reviews until 30 October; the next morning the draft sector report is made, once.
    with time_machine.travel(at("2025-10-30T09:00"), tick=False):
        early = run_job(session, config, "draft_sector_report")
    assert early.outcome == "ok" and "review open until 30 October 2025" in early.detail
    with time_machine.travel(at("2025-10-31T09:00"), tick=False):
        drafted = run_job(session, config, "draft_sector_report")
    assert drafted.outcome == "ok" and "draft sector report made" in drafted.detail, drafted.detail
    run = session.scalars(select(ReportRun).where(ReportRun.trigger == "schedule")).one()
    assert run.kind == "sector" and run.period == "2025Q3" and run.state == "done" and run.page_count > 47
    ready = [m for m in to(inbox, "secretariat@demo.test") if "Draft sector report" in m]
    assert len(ready) == 1 and f"https://mel.example/reports/runs/{run.id}" in ready[0]
    assert not [m for m in to(inbox, "officer.kisumu@demo.test") if "Draft sector report" in m]


@pytest.mark.slow  # drafts the sector report (PDF)
def test_running_every_job_twice_sends_nothing_twice(session, mail):
    inbox, config = mail
    moments = {"open_windows": "2025-10-01T06:00", "remind_due": "2025-10-08T07:00",
               "mark_late": "2025-10-16T08:00", "data_quality_scan": "2025-10-20T02:00", "prune": "2025-10-20T03:00",
               "draft_sector_report": "2025-11-01T09:00", "remind_overdue_actions": "2025-10-06T07:30",
               "partitions": "2025-11-01T01:30"}
    for job_id, moment in moments.items():
        run_job(session, config, job_id, now=at(moment))
    sent, notices = len(inbox.messages), session.scalar(select(func.count()).select_from(Notification))
    for job_id, moment in moments.items():
        assert run_job(session, config, job_id, now=at(moment)).outcome == "ok"
    assert len(inbox.messages) == sent and sent > 0
    assert session.scalar(select(func.count()).select_from(Notification)) == notices
    assert session.scalar(select(func.count()).select_from(JobRun)) == 2 * len(JOBS)
    assert session.scalar(select(func.count()).select_from(ReportRun).where(ReportRun.trigger == "schedule")) == 1


def test_a_failing_job_is_recorded_not_raised(session, app, monkeypatch):
    def broken(session, config, now):
        raise RuntimeError("database unreachable")

    from mel.scheduler import jobs

    monkeypatch.setitem(jobs.JOBS, "prune", jobs.Job("prune", "x", broken, {"hour": 3, "minute": 0}))
    run = run_job(session, app.config, "prune")
    assert run.outcome == "error" and "database unreachable" in run.detail


def test_jobs_command_line(runner, session):
    listing = runner.invoke(args=["jobs", "list"])
    assert listing.exit_code == 0 and "remind_due" in listing.output and "never run" in listing.output
    result = runner.invoke(args=["jobs", "run", "prune"])
    assert result.exit_code == 0 and "prune: ok" in result.output
    assert runner.invoke(args=["jobs", "run", "nope"]).exit_code == 1


def test_only_one_scheduler_holds_the_lease(session):
    from mel.scheduler.process import acquire_lease, release_lease

    assert acquire_lease(session, "host-a", 60) is True
    assert acquire_lease(session, "host-b", 60) is False  # waits while a holds it
    assert acquire_lease(session, "host-a", 60) is True  # a renews
    release_lease(session, "host-a")
    assert acquire_lease(session, "host-b", 60) is True  # b takes over once a lets go (or expires)
    assert acquire_lease(session, "host-a", 60) is False


def test_admin_page_lists_jobs_and_runs_one_now(client, session):
    from tests.helpers import csrf_token, login

    login(client, "secretariat@demo.test")
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "remind_due" in page and "Run now" in page
    response = client.post("/admin/jobs/prune/run", data={"csrf_token": csrf_token(client, "/admin/jobs/")})
    assert response.status_code == 302
    assert "prune" in client.get("/admin/jobs/").get_data(as_text=True)
    assert session.scalars(select(JobRun).where(JobRun.trigger == "admin")).first().outcome == "ok"


@pytest.mark.slow
def test_two_scheduler_processes_run_each_job_once(tmp_path_factory):
    """Two real `mel scheduler` processes on one database: the lease lets one of them run jobs."""
    import os
    import subprocess
    import sys
    import time

    from mel.app import create_app
    from mel.catalogue.operations import seed_catalogue
    from mel.db import db
    from mel.migrate import upgrade
    from tests.helpers import fresh_database_url

    url = fresh_database_url(tmp_path_factory, "sched")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("s")))
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        db.session.commit()
    env = {**os.environ, "MEL_ENV": "development", "MEL_DATABASE_URL": url, "MEL_SCHEDULER_INTERVAL_SECONDS": "2",
           "MEL_INSTANCE_DIR": str(tmp_path_factory.mktemp("p")),
           "MEL_REVIEW_DAYS": "400"}  # no report drafting in this test: it is about the lease
    command = [sys.executable, "-c", "from mel.cli import main; main()", "scheduler", "--lease-seconds", "4"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for _ in range(2)]
    try:
        # Until every job has run once (a loaded machine starts the processes slowly), then three more ticks
        # of both processes, in which a job run twice would show.
        deadline = time.monotonic() + 120
        with app.app_context():
            while time.monotonic() < deadline and set(db.session.scalars(
                    select(JobRun.job_id).where(JobRun.trigger == "schedule"))) < set(JOBS):
                db.session.rollback()
                time.sleep(1)
            db.session.close()
        time.sleep(6)
    finally:
        for process in processes:
            process.terminate()
        outputs = [process.communicate(timeout=30)[0].decode() for process in processes]
    with app.app_context():
        runs = db.session.scalars(select(JobRun).where(JobRun.trigger == "schedule").order_by(JobRun.started_at)).all()
        holders = db.session.execute(select(func.count()).select_from(JobRun)).scalar()
        db.engine.dispose()
    assert holders and runs, outputs
    for job_id in JOBS:
        starts = [r.started_at for r in runs if r.job_id == job_id]
        assert starts, (job_id, outputs)
        gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]
        # Each firing ran in one process only: no two runs of a job start together.
        assert all(gap > 1.0 for gap in gaps), (job_id, gaps)
    assert all(r.outcome == "ok" for r in runs), [(r.job_id, r.detail) for r in runs if r.outcome != "ok"]


def test_prune_keeps_a_week_of_sign_in_attempts(session, app):
    from datetime import UTC, timedelta

    from mel.accounts.models import SignInAttempt
    from mel.scheduler.jobs import prune

    now = datetime(2025, 10, 20, 0, 0, tzinfo=UTC)
    ages = {"prune.old@demo.test": 8, "prune.edge@demo.test": 6, "prune.new@demo.test": 0}
    for email, days in ages.items():
        session.add(SignInAttempt(email=email, remote_addr="127.0.0.1", outcome="failure",
                                  attempted_at=now - timedelta(days=days)))
    session.flush()
    message = prune(session, app.config, now)
    left = set(session.scalars(select(SignInAttempt.email).where(SignInAttempt.email.like("prune.%"))))
    assert left == {"prune.edge@demo.test", "prune.new@demo.test"}
    assert "1 sign-in attempt(s) over a week old" in message
