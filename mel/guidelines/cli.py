"""`mel handbook …`: make an edition of the reporting guidelines handbook, list the editions, get a file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from mel import clock
from mel.db import db
from mel.errors import MelError
from mel.unit_of_work import finish


def _fail(exc: MelError) -> None:
    from mel.cli import _fail as fail

    fail(exc)


@click.group("handbook")
def handbook_group() -> None:
    """The reporting guidelines handbook: editions made from the catalogue, kept unchanged."""


@handbook_group.command("make")
@click.option("--note", default="", help="Why this edition (printed on its cover).")
@click.option("--lang", "languages", multiple=True, type=click.Choice(["en", "sw"]),
              help="A language to render (repeat it; default both en and sw).")
@click.option("--as", "as_email", default=None, help="Record the edition as made by this user (default: the system).")
@click.option("--run", "run_id", type=int, default=None,
              help="Make the edition a run asked for on the web or the API (what its worker process runs); "
                   "the run says the note, languages and who asked.")
@with_appcontext
def handbook_make(note: str, languages: tuple[str, ...], as_email: str | None, run_id: int | None) -> None:
    """Make an edition from the current catalogue: PDF and HTML in each language, recorded as a run (its
    progress shows on the handbook page meanwhile). Refused (exit 1) when nothing changed since the last
    edition or another edition is being made; exit 1 too when the making fails (the run says why)."""
    from mel.accounts.operations import load_user, system_actor
    from mel.guidelines import queries
    from mel.guidelines.operations import execute_run, request_edition

    session = db.session
    if run_id is not None and (note or languages or as_email):
        raise click.UsageError("--run takes the note, languages and person from the run: give it alone.")
    try:
        if run_id is None:
            user = load_user(session, as_email) if as_email else system_actor()
            run = request_edition(session, user, note, languages or queries.LANGUAGES, current_app.config,
                                  clock.today(config=current_app.config))
            finish(session, current_app.config)
            run_id = run.id
        # Nothing is written before the edition itself but the run's progress: the database stays free for the
        # service meanwhile (make_edition's `pause`).
        run = execute_run(session, run_id, current_app.config)
    except MelError as exc:
        _fail(exc)
    if run.state != "done":
        error = queries.run_body(run, {}, str)["error"]
        click.secho(f"Error: handbook run {run.id} is {queries.run_state(run)}"
                    f"{': ' + error if error else ' (another process is making it)'}", fg="red", err=True)
        sys.exit(1)
    edition = queries.edition(session, run.number)
    click.echo(f"Handbook edition {edition.number} made from catalogue version {edition.catalogue_version} "
               f"(run {run.id}):")
    for kept in edition.files:
        click.echo(f"  {kept.language}.{kept.format}: {f'{kept.pages} pages, ' if kept.pages else ''}{kept.size:,} "
                   f"bytes, SHA-256 {kept.sha256}")


@handbook_group.command("list")
@with_appcontext
def handbook_list() -> None:
    """The editions, newest first: number, date, catalogue version, what changed, files."""
    from mel.guidelines import queries

    session = db.session
    emails = queries.user_emails(session)
    editions = queries.editions(session)
    if not editions:
        click.echo("No handbook edition yet: mel handbook make --note \"…\"")
    for edition in editions:
        body = queries.edition_body(edition, emails, lambda n, lang, fmt: f"{lang}.{fmt}")
        click.echo(f"{body['number']:>3}  {body['created_at'][:10]}  {body['catalogue_version']}  {body['created_by']}  "
                   f"{body['summary']}  [{', '.join(f['url'] for f in body['files'])}]")


@handbook_group.command("get")
@click.argument("number", type=int)
@click.option("--lang", "language", default="en", show_default=True, type=click.Choice(["en", "sw"]))
@click.option("--format", "file_format", default="pdf", show_default=True, type=click.Choice(["pdf", "html"]))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the file.")
@with_appcontext
def handbook_get(number: int, language: str, file_format: str, output: Path) -> None:
    """Write a file of an edition, byte for byte as it was made."""
    from mel.guidelines import queries

    try:
        kept = queries.edition_file(db.session, number, language, file_format)
    except MelError as exc:
        _fail(exc)
    output.write_bytes(kept.content)
    click.echo(f"{output}: edition {number}, {language}.{file_format}, {kept.size:,} bytes, SHA-256 {kept.sha256}")
    sys.exit(0)
