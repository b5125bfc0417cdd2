"""`mel report …`: generate a report to a file, render a queued run, list, re-run and publish."""

from __future__ import annotations

import shutil
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from mel.db import db
from mel.errors import MelError
from mel.unit_of_work import finish


def _fail(exc: MelError) -> None:
    from mel.cli import _fail as fail

    fail(exc)


def _user(email: str | None):
    from mel.accounts.models import User

    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        _fail(MelError(f"No user {email!r}."))
    return user


@click.group("report", invoke_without_command=False)
def report_group() -> None:
    """Generate PDF reports (each run is kept with its figures)."""


def _generate(kind: str, period: str, programme: str | None, org_unit: str | None, output: str,
              accessible: bool, as_email: str | None, language: str = "en") -> None:
    from mel.reporting import operations

    session = db.session
    try:
        run = operations.request_report(session, kind=kind, period=period, programme=programme, org_unit=org_unit,
                                        accessible=accessible, user=_user(as_email), trigger="cli",
                                        language=language)
        finish(session, current_app.config)
    except MelError as exc:
        _fail(exc)
    click.echo(f"Report run {run.id}: {run.title}")
    run = operations.execute(session, run.id, current_app.config)
    if run.state != "done":
        click.secho(f"Error: report run {run.id} failed: {run.error.splitlines()[0] if run.error else run.stage}",
                    fg="red", err=True)
        sys.exit(1)
    shutil.copyfile(run.file_path, output)
    click.echo(f"{output}: {run.page_count} pages in {run.duration_ms / 1000:.1f} s, SHA-256 {run.sha256}")


for _kind, _help in (("sector", "The sector quarterly progress report (with the county annex)."),
                     ("programme", "A programme report (needs --programme)."),
                     ("county", "A county profile, all programmes (needs --org-unit)."),
                     ("factsheet", "The two-page fact sheet for policymakers.")):
    def _make(kind: str):
        @click.option("--period", required=True, help="The quarter, e.g. 2025Q3 (FY2025/26 Q1).")
        @click.option("--programme", default=None, help="Programme code (programme report).")
        @click.option("--org-unit", "org_unit", default=None, help="County code or name (county profile).")
        @click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
                      help="Where to write the PDF.")
        @click.option("--accessible", is_flag=True, help="Tagged PDF/UA-1 (about a third slower).")
        @click.option("--as", "as_email", default=None, help="Record the run as this user.")
        @click.option("--lang", "language", default="en", show_default=True,
                      help="en (English) or sw (Kiswahili).")
        @with_appcontext
        def command(period, programme, org_unit, output, accessible, as_email, language):
            _generate(kind, period, programme, org_unit, output, accessible, as_email, language)

        return command

    report_group.command(_kind, help=_help)(_make(_kind))


@report_group.command("render-run")
@click.argument("run_id", type=int)
@with_appcontext
def render_run(run_id: int) -> None:
    """Render one queued run (what the web's worker process runs)."""
    from mel.reporting.operations import execute

    run = execute(db.session, run_id, current_app.config)
    click.echo(f"run {run.id}: {run.state} ({run.page_count} pages, {run.duration_ms} ms)")
    sys.exit(0 if run.state == "done" else 1)


@report_group.command("publish-run")
@click.argument("run_id", type=int)
@with_appcontext
def publish_run(run_id: int) -> None:
    """Publish one run asked to be published on the web or the API (what the web's worker process runs)."""
    from mel.reporting.operations import run_publish

    try:
        run = run_publish(db.session, run_id, current_app.config)
    except MelError as exc:
        _fail(exc)
    click.echo(f"run {run.id}: publishing {run.publish_state or 'not asked'}"
               f"{': ' + run.publish_error if run.publish_error else ''}")
    sys.exit(0 if run.is_published else 1)


@report_group.command("list")
@with_appcontext
def report_list() -> None:
    """The last report runs."""
    from mel.reporting.models import ReportRun
    from mel.reporting.queries import effective_state

    for run in db.session.scalars(select(ReportRun).order_by(ReportRun.id.desc()).limit(50)):
        flag = "published" if run.is_published else effective_state(run)
        click.echo(f"{run.id:>5} {flag:<10} {run.kind:<10} {run.language or 'en':<2} {run.period} {run.programme:<7} {run.org_unit:<4} "
                   f"{run.page_count:>4} p  {run.duration_ms / 1000:>6.1f} s  {run.sha256[:12]}  {run.title}")


@report_group.command("rerun")
@click.argument("run_id", type=int)
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def report_rerun(run_id: int, output: str | None) -> None:
    """Render a run again from the figures it kept (same numbers, whatever changed since)."""
    from mel.reporting import operations
    from mel.reporting.models import ReportRun

    session = db.session
    source = session.get(ReportRun, run_id)
    if source is None:
        _fail(MelError(f"No report run {run_id}."))
    try:
        again = operations.rerun(session, source, trigger="cli")
        finish(session, current_app.config)
    except MelError as exc:
        _fail(exc)
    again = operations.execute(session, again.id, current_app.config)
    if output and again.state == "done":
        shutil.copyfile(again.file_path, output)
    click.echo(f"run {again.id} (from run {run_id}): {again.state}, {again.page_count} pages, SHA-256 {again.sha256}")
    sys.exit(0 if again.state == "done" else 1)


@report_group.command("publish")
@click.argument("run_id", type=int)
@click.option("--as", "as_email", required=True, help="The secretariat user who publishes it.")
@with_appcontext
def report_publish(run_id: int, as_email: str) -> None:
    """Publish a finished draft: a final PDF without the DRAFT mark, immutable from then on."""
    from mel.reporting import operations
    from mel.reporting.models import ReportRun

    session = db.session
    run = session.get(ReportRun, run_id)
    if run is None:
        _fail(MelError(f"No report run {run_id}."))
    try:
        operations.publish(session, run, _user(as_email), current_app.config)
        finish(session, current_app.config)
    except MelError as exc:
        _fail(exc)
    click.echo(f"run {run.id} published: {run.page_count} pages, SHA-256 {run.sha256}")
