"""The `mel` command line: database, catalogue, demo data, users, tokens and serving."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from mel.db import db
from mel.errors import MelError
from mel.unit_of_work import finish


def _create_app() -> Flask:
    from mel.app import create_app

    return create_app()


def _fail(exc: MelError) -> None:
    click.secho(f"Error: {exc.message}", fg="red", err=True)
    for detail in exc.details:
        click.echo(f"  - {detail.message}", err=True)
    sys.exit(1)


def register_commands(app: Flask) -> None:
    from mel.guidelines.cli import handbook_group
    from mel.reporting.cli import report_group

    for command in (db_group, seed_command, demo_command, users_group, tokens_group, serve_command,
                    quickstart_command, import_command, returns_group, jobs_group, scheduler_command,
                    report_group, backup_command, restore_command, worker_command, i18n_group, handbook_group,
                    figures_group):
        app.cli.add_command(command)


@click.group("i18n")
def i18n_group() -> None:
    """Translations: extract the messages, update the catalogues, compile them (pybabel)."""


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", *args])


@i18n_group.command("extract")
def i18n_extract() -> None:
    """Extract every marked message of mel/ and templates/ into mel/translations/messages.pot."""
    from mel.i18n import CONFIG, ROOT, SOURCES

    _pybabel("extract", "-F", str(CONFIG), "-k", "_l", "-k", "N_", "--no-location", "--sort-output", "--project", "Kenya SP MEL",
             "-o", str(SOURCES / "messages.pot"), str(ROOT))
    click.echo(f"Extracted to {SOURCES / 'messages.pot'}")


@i18n_group.command("update")
def i18n_update() -> None:
    """Merge messages.pot into each language's messages.po (new messages untranslated, removed ones kept
    as obsolete), then list what is left to translate."""
    from mel.i18n import SOURCES, untranslated

    _pybabel("update", "-i", str(SOURCES / "messages.pot"), "-d", str(SOURCES), "--no-wrap",
             "--ignore-obsolete")
    for language, missing in untranslated().items():
        click.echo(f"{language}: {len(missing)} message(s) to translate" + "".join(f"\n  {m}" for m in missing[:20]))


@i18n_group.command("compile")
@click.option("--to", "target", type=click.Path(file_okay=False), default=None,
              help="Where the .mo files go (default: the instance folder the service reads).")
def i18n_compile(target: str | None) -> None:
    """Compile the .po catalogues into .mo files (the service also does this when it starts)."""
    from pathlib import Path

    from mel.i18n import compile_catalogues, compiled_folder

    folder = Path(target) if target else compiled_folder(current_app)
    written = compile_catalogues(folder)
    click.echo(f"{len(written)} catalogue(s) compiled into {folder}" if written else f"Up to date in {folder}")


@click.group("db")
def db_group() -> None:
    """Create and upgrade the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to a revision."""
    from mel.migrate import current_revision, heads, upgrade

    try:
        upgrade(db.engine, revision)
    except MelError as exc:  # a migration that needs a person first (e.g. `mel returns repair`)
        _fail(exc)
    click.echo(f"Database at revision {current_revision(db.engine)} ({_safe_url()}).")
    if current_revision(db.engine) in heads():
        _settle_figures()


def _settle_figures(everything: bool = False) -> None:
    from mel.results.summary import rebuild, refresh

    started = time.perf_counter()
    settled = (rebuild if everything else refresh)(db.session)
    db.session.commit()
    if settled:
        click.echo(f"Settled the approved figures of {settled} programme-county-year(s) "
                   f"({time.perf_counter() - started:.1f} s).")


@click.group("figures")
def figures_group() -> None:
    """The approved figures settled ahead of time for results (figure_span)."""


@figures_group.command("refresh")
@click.option("--all", "everything", is_flag=True,
              help="Settle every approved return again, not only those listed stale (after loading with triggers off).")
@with_appcontext
def figures_refresh(everything: bool) -> None:
    """Settle again the figures of every return whose approval changed outside the application
    (after a migration or SQL); results read the data values for them until then."""
    _settle_figures(everything)
    click.echo("Approved figures settled: results read them for every programme.")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
@with_appcontext
def db_revision(message: str) -> None:
    """Generate a migration from the models (read it before committing)."""
    from mel.migrate import revision

    revision(db.engine, message)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's migration revision."""
    from mel.migrate import current_revision

    click.echo(current_revision(db.engine) or "empty (run `mel db upgrade`)")


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


@click.command("seed")
@click.option("--levels", type=click.Choice(["county", "subcounty", "ward"]), default="county", show_default=True,
              help="How deep the org-unit tree goes: counties; and sub-counties (the 290 IEBC constituencies); "
                   "and the 1,450 wards.")
@with_appcontext
def seed_command(levels: str) -> None:
    """Load the reference catalogue (counties, programmes, indicators, forms); safe to repeat."""
    from mel.catalogue.levels import SEED_LEVELS
    from mel.catalogue.operations import seed_catalogue

    session = db.session
    summary = seed_catalogue(session, levels=SEED_LEVELS[levels])
    finish(session, current_app.config)
    click.echo(summary.describe())
    if levels != "county":
        click.echo(summary.tree.describe())


AS_OF = click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                     help="Build the demo as it stands on this date (YYYY-MM-DD); default today.")
HISTORY_ONLY = click.option("--history-only", is_flag=True,
                            help="Only the approved history and its plans: no open quarter, no published report.")


@click.command("demo")
@AS_OF
@HISTORY_ONLY
@with_appcontext
def demo_command(as_of: datetime | None, history_only: bool) -> None:
    """Add demo users, eight or more approved quarters up to the last closed one, and the quarter
    being reported today with its returns, queries, plans and a published sector report; safe to repeat."""
    from mel.demo import DEMO_PASSWORD, load_demo

    session = db.session
    try:
        summary = load_demo(session, as_of=as_of.date() if as_of else None, live=not history_only, say=click.echo)
    except MelError as exc:
        _fail(exc)
    finish(session, current_app.config)
    click.echo(summary.describe())
    click.echo(f"Demo logins (password {DEMO_PASSWORD!r}):")
    for email, role in summary.users:
        click.echo(f"  {role:<12} {email}")


@click.group("users")
def users_group() -> None:
    """Manage user accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["officer", "reviewer", "secretariat", "viewer"]))
@click.option("--name", default="")
@click.option("--programme", "programmes", multiple=True, help="Programme code (officers); repeatable.")
@click.option("--org-unit", "org_units", multiple=True, help="Org unit code (officers); repeatable.")
@click.option("--agency", default="", help="The officer's agency, spelt as work-plan lead agencies are "
                                            "(records progress of the activities it leads).")
@click.option("--password", default=None, help="Omit to be asked (hidden input).")
@with_appcontext
def users_create(email, role, name, programmes, org_units, agency, password) -> None:
    """Create a user."""
    from mel.accounts.operations import create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    session = db.session
    try:
        user = create_user(
            session, email, role, name=name, password=password, programme_codes=programmes,
            org_unit_codes=org_units, min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
    except MelError as exc:
        session.rollback()
        _fail(exc)
    user.agency = agency.strip()
    finish(session, current_app.config)
    scope = ""
    if user.role == "officer":
        scope = (f" for {', '.join(p.code for p in user.programmes)} in "
                 f"{', '.join(u.name for u in user.org_units)}" + (f" ({user.agency})" if user.agency else ""))
    click.echo(f"Created {user.role_label} {user.email}{scope}.")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List users with their roles."""
    from sqlalchemy import select

    from mel.accounts.models import User

    for user in db.session.scalars(select(User).order_by(User.role, User.email)):
        state = "" if user.is_active else " (inactive)"
        state += " (two-factor)" if user.has_two_factor else ""
        click.echo(f"{user.role:<12} {user.email}{state}")


@users_group.command("set-password")
@click.argument("email")
@click.option("--password", default=None, help="Omit to be asked (hidden input).")
@with_appcontext
def users_set_password(email: str, password: str | None) -> None:
    """Give a user a new password (length and common-password rules apply)."""
    from mel.accounts.operations import load_user, set_password

    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    session = db.session
    try:
        set_password(session, load_user(session, email), password,
                     current_app.config["PASSWORD_MIN_LENGTH"])
    except MelError as exc:
        session.rollback()
        _fail(exc)
    finish(session, current_app.config)
    click.echo(f"Password set for {email}.")


@users_group.command("reset-2fa")
@click.argument("email")
@click.option("--reason", required=True, help="Why (kept in the audit), e.g. 'lost phone, identity checked'.")
@with_appcontext
def users_reset_two_factor(email: str, reason: str) -> None:
    """Turn off a user's two-factor sign-in (lost phone and recovery codes); their sessions end."""
    from mel.accounts import two_factor
    from mel.accounts.operations import load_user, system_actor

    session = db.session
    try:
        two_factor.reset(session, load_user(session, email), actor=system_actor(), reason=reason)
    except MelError as exc:
        session.rollback()
        _fail(exc)
    finish(session, current_app.config)
    click.echo(f"Two-factor sign-in of {email} is off; they set it up again at their next sign-in.")


@click.group("tokens")
def tokens_group() -> None:
    """Manage API tokens."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. 'OPCT MIS'.")
@click.option("--days", default=None, type=int, help="Validity in days (default from MEL_API_TOKEN_DAYS).")
@with_appcontext
def tokens_create(email: str, name: str, days: int | None) -> None:
    """Create an API token for a user and print it once."""
    from mel.accounts.operations import create_token

    session = db.session
    try:
        issued = create_token(session, email, name=name,
                              days=days or current_app.config["API_TOKEN_DAYS"])
    except MelError as exc:
        _fail(exc)
    finish(session, current_app.config)
    click.echo(issued.token)
    click.echo(
        f"Token #{issued.record.id} for {email}; it is shown only now. "
        f"Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@tokens_group.command("list")
@click.argument("email", required=False)
@with_appcontext
def tokens_list(email: str | None) -> None:
    """List API tokens (never their secrets)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from mel.accounts.models import ApiToken, User
    from mel.accounts.operations import token_state
    from mel.db import utcnow

    query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id)
    if email:
        query = query.join(ApiToken.user).where(User.email == email.lower())
    now = utcnow()
    for token in db.session.scalars(query):
        state = token_state(token, now)
        until = f" (expires {token.expires_at:%d %b %Y})" if state == "active" and token.expires_at else ""
        since = f" on {token.expires_at:%d %b %Y}" if state == "expired" else ""
        click.echo(f"#{token.id:<4} {token.prefix}…  {token.user.email:<35} {token.name:<20} {state}{since}{until}")


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    """Revoke an API token by its number."""
    from mel.accounts.operations import revoke_token

    session = db.session
    try:
        revoke_token(session, token_id)
    except MelError as exc:
        _fail(exc)
    finish(session, current_app.config)
    click.echo(f"Token #{token_id} revoked.")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--programme", default=None, help="Programme code of the figures (e.g. OPCT).")
@click.option("--dry-run", is_flag=True, help="Check and report; store nothing.")
@click.option("--submit", is_flag=True, help="Submit each return after storing it.")
@click.option("--as", "as_email", default=None,
              help="Act as this user (their scope applies); default: the system, with secretariat rights.")
@with_appcontext
def import_command(file: str, programme: str | None, dry_run: bool, submit: bool, as_email: str | None) -> None:
    """Import an .xlsx template or CSV of figures; exits 1 when anything was refused."""
    from pathlib import Path

    from mel.accounts.operations import load_user, system_actor
    from mel.returns import operations
    from mel.returns.ingest import IngestSettings

    session = db.session
    path = Path(file)
    config = current_app.config
    try:
        user = load_user(session, as_email) if as_email else system_actor()
        result = operations.import_file(session, user, path.read_bytes(), path.name,
                                        settings=IngestSettings.from_config(config), programme=programme,
                                        dry_run=dry_run, channel="cli" if path.suffix.lower() == ".csv" else None)
    except MelError as exc:
        session.rollback()
        _fail(exc)
    if result.errors:
        session.rollback()
    else:
        submitted, problems = (operations.submit_imported(session, user, result, channel="cli")
                               if submit and not dry_run else ([], []))
        # One commit for the figures and the submissions, then the notices; only then is anything
        # printed, so a blocked stdout never holds a transaction (and its locks) open.
        finish(session, config)
    for outcome in result.returns:
        click.echo(f"  {outcome.programme} {outcome.org_unit} {outcome.org_unit_name:<16} {outcome.period}: "
                   f"{outcome.counts(result.stored)}")
    for warning in result.warnings[:50]:
        click.echo(f"  warning: {warning.message}")
    if result.errors:
        click.secho(result.describe(), fg="red", err=True)
        for error in result.errors[:200]:
            click.echo(f"  - {error.message}", err=True)
        sys.exit(1)
    click.echo(result.describe())
    for label in submitted:
        click.echo(f"  submitted {label}")
    for problem in problems:
        click.secho(f"  not submitted: {problem.message}", fg="red", err=True)
    if problems:
        sys.exit(1)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Write the database and the report PDFs to one archive (the service may keep running).

    SQLite: its online backup API; PostgreSQL: pg_dump -Fc. The manifest lists every file's SHA-256.
    """
    from mel.backup import BackupError, backup
    from mel.migrate import current_revision
    from mel.reporting.operations import report_dir

    try:
        manifest = backup(current_app.config["DATABASE_URL"], report_dir(current_app.config), target,
                          current_revision(db.engine))
    except BackupError as exc:
        _fail(exc)
    click.echo(f"Backed up to {target}: {manifest.describe()}.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database and report files; nothing asks again.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Put back a `mel backup` archive: the database (replaced) and the report PDFs, checked.

    Stop the web servers and the scheduler first.
    """
    from mel.backup import BackupError, read_manifest, restore
    from mel.reporting.operations import report_dir

    try:
        manifest = read_manifest(source)
        if not yes:
            _fail(BackupError(f"{source} holds a {manifest.describe()}. Restoring replaces the current "
                              "database: stop the service, then run again with --yes."))
        db.session.close()
        db.engine.dispose()
        restore(current_app.config["DATABASE_URL"], report_dir(current_app.config), source)
    except BackupError as exc:
        _fail(exc)
    click.echo(f"Restored {source}: {manifest.describe()}; every file matched its checksum.")


@click.group("returns")
def returns_group() -> None:
    """Maintain quarterly returns."""


@returns_group.command("repair")
@click.option("--dry-run", is_flag=True, help="List what would move; change nothing.")
@with_appcontext
def returns_repair(dry_run: bool) -> None:
    """Move each figure filed in another quarter's return to its own return; safe to repeat.

    Imports before release 0009 filed every quarter of one org unit in a file in one return.
    Each figure keeps its review state; a missing return is created. Exits 1 when figures had to
    be left where they are (they are listed with what to do).
    """
    from mel.migrate import current_revision, heads, upgrade
    from mel.returns.ingest import IngestSettings
    from mel.returns.repair import misplaced_count, refresh_repaired, repair_misplaced_values

    session = db.session
    config = current_app.config
    settings = IngestSettings.from_config(config)
    # Before 0009 the schema is older than this code: the moves use only what 0008 has, and the
    # warnings are recomputed once the last misplaced figure is gone and the schema is brought up.
    behind = current_revision(db.engine) not in heads()
    report = repair_misplaced_values(session, dry_run=dry_run, settings=settings, refresh=not behind)
    if dry_run:
        session.rollback()
    else:
        finish(session, current_app.config)
    for move in report.moves:
        click.echo(f"  {move.line(dry_run)}")
    click.echo(report.describe())
    if not dry_run and behind:
        if misplaced_count(session):
            click.echo("The database stays at its old schema until every figure is in its own return; "
                       "the warnings of the moved returns are recomputed then.")
        else:
            session.close()
            upgrade(db.engine)
            refreshed = refresh_repaired(db.session, settings)
            finish(db.session, current_app.config)
            click.echo(f"Upgraded the database to revision {heads()[0]} and recomputed the warnings of "
                       f"{refreshed} repaired return(s).")
    if report.left:
        sys.exit(1)


@click.group("jobs")
def jobs_group() -> None:
    """The reporting calendar's scheduled jobs."""


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """List the jobs with their schedule and last run."""
    from sqlalchemy import select

    from mel.scheduler.jobs import JOBS
    from mel.scheduler.models import JobRun

    session = db.session
    for job in JOBS.values():
        last = session.scalars(select(JobRun).where(JobRun.job_id == job.id).order_by(JobRun.id.desc())).first()
        when = f"daily {job.trigger['hour']:02d}:{job.trigger['minute']:02d}"
        seen = f"last {last.started_at:%Y-%m-%d %H:%M} {last.outcome}: {last.detail}" if last else "never run"
        click.echo(f"{job.id:<18} {when:<12} {job.description}\n{'':<18} {seen}")


@jobs_group.command("run")
@click.argument("job_id")
@click.option("--now", "now_text", default=None, help="Pretend it is this moment (ISO 8601), e.g. 2025-10-08T07:00+03:00.")
@with_appcontext
def jobs_run(job_id: str, now_text: str | None) -> None:
    """Run one job now and print what it did."""
    from datetime import datetime

    from mel.scheduler.runner import run_job

    now = datetime.fromisoformat(now_text) if now_text else None
    try:
        run = run_job(db.session, current_app.config, job_id, now=now, trigger="cli")
    except MelError as exc:
        _fail(exc)
    click.echo(f"{run.job_id}: {run.outcome} in {run.duration_ms} ms — {run.detail}")
    if run.outcome != "ok":
        sys.exit(1)


@click.command("scheduler")
@click.option("--lease-seconds", default=60, show_default=True, help="How long the lease lasts between renewals.")
@with_appcontext
def scheduler_command(lease_seconds: int) -> None:
    """Run the scheduler process (one active per database; others wait for the lease)."""
    import signal
    import threading

    from mel.scheduler.process import run

    stop = threading.Event()
    # systemd and container runtimes stop services with SIGTERM: finish cleanly and hand over the lease.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("Scheduler starting; stop with Ctrl+C.")
    try:
        run(current_app._get_current_object(), lease_seconds=lease_seconds, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    click.echo("Scheduler stopped.")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the development server (use gunicorn in production)."""
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    workers = _start_workers()
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
    finally:
        if workers is not None:
            workers.terminate()
            workers.wait(timeout=30)


def _start_workers():
    """Development: `mel worker` as a child process when Redis answers (None otherwise)."""
    import os
    import subprocess

    from mel import jobs

    config = current_app.config
    if jobs.redis_for(config) is None:
        return None
    env = {**os.environ, "MEL_DATABASE_URL": config["DATABASE_URL"], "MEL_INSTANCE_DIR": config["INSTANCE_DIR"],
           "MEL_REDIS_URL": config["REDIS_URL"]}
    if config.get("REPORTS_DIR"):
        env["MEL_REPORTS_DIR"] = config["REPORTS_DIR"]
    click.echo(f"Starting {config['QUEUE_WORKERS']} report and import workers (Redis at {config['REDIS_URL']}).")
    return subprocess.Popen([sys.executable, "-c", "from mel.cli import main; main()", "worker"], env=env)


@click.command("worker")
@click.option("-n", "--workers", "count", type=int, default=None,
              help="Worker processes: at most this many renders or imports at once (default MEL_QUEUE_WORKERS).")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@with_appcontext
def worker_command(count: int | None, burst: bool) -> None:
    """Run the workers that render reports and import large files (RQ queues on Redis)."""
    from mel import jobs

    config = current_app.config
    if jobs.redis_for(config) is None:
        _fail(MelError("No Redis to take work from: set MEL_REDIS_URL (e.g. redis://127.0.0.1:6379/0)."))
    count = count or int(config["QUEUE_WORKERS"])
    if count < 1:
        _fail(MelError(f"--workers must be at least 1, not {count}."))
    click.echo(f"{count} workers on {', '.join(q.name for q in (jobs.queue(config, k) for k in jobs.KINDS))}; "
               "stop with Ctrl+C.")
    jobs.run_workers(current_app._get_current_object(), count, burst=burst)


@click.command("quickstart")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler inside the development server.")
@AS_OF
@HISTORY_ONLY
@with_appcontext
def quickstart_command(host: str, port: int, no_serve: bool, no_scheduler: bool, as_of: datetime | None,
                       history_only: bool) -> None:
    """Upgrade the database, seed the catalogue, load the demo and serve it."""
    from mel.catalogue.operations import seed_catalogue
    from mel.demo import DEMO_PASSWORD, load_demo
    from mel.migrate import upgrade

    upgrade(db.engine)
    session = db.session
    click.echo(seed_catalogue(session).describe())
    try:
        summary = load_demo(session, as_of=as_of.date() if as_of else None, live=not history_only, say=click.echo)
    except MelError as exc:
        _fail(exc)
    finish(session, current_app.config)
    click.echo(summary.describe())
    click.echo("")
    click.secho(f"Kenya SP MEL is ready at http://{host}:{port}/", bold=True)
    click.echo(f"Published results, no sign-in (English and Kiswahili): http://{host}:{port}/public")
    click.echo(f"Demo logins (password {DEMO_PASSWORD}):")
    for email, role in summary.users:
        click.echo(f"  {role:<12} {email}")
    click.echo("Stop with Ctrl+C.")
    if not no_serve:
        if not no_scheduler:
            from mel.scheduler.process import start_in_thread

            start_in_thread(current_app._get_current_object())
        _serve(host, port)


cli = FlaskGroup(create_app=_create_app, add_default_commands=False,
                 help="Kenya social protection sector MEL service.")


def main() -> None:
    import os

    # Commands print what they did; log lines would only repeat it. Servers keep INFO.
    os.environ.setdefault("MEL_LOG_LEVEL", "WARNING")
    cli(prog_name="mel")
