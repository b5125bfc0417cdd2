"""`mel handbook …`: make an edition of the reporting guidelines handbook, list the editions, get a file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

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
@with_appcontext
def handbook_make(note: str, languages: tuple[str, ...], as_email: str | None) -> None:
    """Make an edition from the current catalogue: PDF and HTML in each language. Refused (exit 1) when
    nothing changed since the last edition."""
    from mel.accounts.operations import load_user, system_actor
    from mel.guidelines.operations import make_edition, release
    from mel.guidelines.queries import LANGUAGES

    session = db.session
    try:
        user = load_user(session, as_email) if as_email else system_actor()
        # Nothing is written before the edition itself: ending the read transaction between steps keeps the
        # database free for the service meanwhile (make_edition's `pause`).
        edition = make_edition(session, user, note, config=current_app.config, languages=languages or LANGUAGES,
                               pause=release(session))
        files = [(f.language, f.format, f.pages, f.size, f.sha256) for f in edition.files]
        number, version = edition.number, edition.catalogue_version
        finish(session, current_app.config)
    except MelError as exc:
        _fail(exc)
    click.echo(f"Handbook edition {number} made from catalogue version {version}:")
    for language, file_format, pages, size, sha256 in files:
        click.echo(f"  {language}.{file_format}: {f'{pages} pages, ' if pages else ''}{size:,} bytes, SHA-256 {sha256}")


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
