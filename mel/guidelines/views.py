"""Web pages of the reporting guidelines handbook: the editions (everyone signed in), making one
(secretariat), each edition's files, and the current catalogue's handbook in the browser."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from indicators.messages import N_, Message, text
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.db import db
from mel.errors import Conflict, NotFound, ValidationFailed
from mel.guidelines import operations, queries
from mel.guidelines.api import MIMETYPES, file_name
from mel.i18n import language, said
from mel.scopes import can_administer
from mel.security import csp_with_inline_styles

bp = Blueprint("guidelines", __name__, url_prefix="/guidelines")


def file_url(number: int, lang: str, file_format: str) -> str:
    return url_for("guidelines.edition_file", number=number, lang=lang, file_format=file_format)


@bp.route("/")
@login_required
def index():
    session = db.session
    emails = queries.user_emails(session)
    found = [queries.edition_body(e, emails, file_url, language()) for e in queries.editions(session)]
    return render_template("guidelines/index.html", editions=found, can_make=can_administer(authenticated_user()),
                           note_limit=operations.NOTE_LIMIT)


@bp.route("/editions", methods=["POST"])
@login_required
def make():
    user = authenticated_user()
    note = request.form.get("note", "")
    try:
        number, version = operations.check_request(db.session, user, note, queries.LANGUAGES, current_app.config,
                                                   clock.today(config=current_app.config))
        edition = operations.start_edition(current_app._get_current_object(), user, note, queries.LANGUAGES)
    except (Conflict, ValidationFailed) as error:
        flash(said(error.message), "error")
        return redirect(url_for("guidelines.index"))
    if edition is None:
        flash(_("Edition %(number)s of the handbook is being made from catalogue version %(version)s: each language "
                "is laid out as PDF and HTML, which takes a minute or two. Reload this page to see it.",
                number=number, version=version), "info")
        return redirect(url_for("guidelines.index"))
    flash(_("Edition %(number)s of the handbook is made from catalogue version %(version)s.",
            number=edition.number, version=edition.catalogue_version), "info")
    return redirect(url_for("guidelines.edition", number=edition.number))


@bp.route("/editions/<int:number>")
@login_required
def edition(number: int):
    session = db.session
    body = queries.edition_body(queries.edition(session, number), queries.user_emails(session), file_url, language())
    return render_template("guidelines/edition.html", edition=body)


@bp.route("/editions/<int:number>/<lang>.<file_format>")
@login_required
def edition_file(number: int, lang: str, file_format: str):
    """A file of an edition as it was made: a PDF, or the HTML shown in the browser (?download=1 saves it)."""
    if not queries.is_known_file(lang, file_format):
        raise NotFound(text(Message(N_("Handbook files are en or sw, pdf or html."))))
    kept = queries.edition_file(db.session, number, lang, file_format)
    disposition = "attachment" if request.args.get("download") else "inline"
    response = Response(kept.content, mimetype=MIMETYPES[file_format].split(";")[0],
                        headers={"Content-Disposition": f'{disposition}; filename="{file_name(number, lang, file_format)}"',
                                 "X-Content-SHA256": kept.sha256})
    if file_format == "html":
        response.headers["Content-Security-Policy"] = csp_with_inline_styles(kept.content.decode("utf-8"))
    return response


@bp.route("/handbook")
@login_required
def current():
    """The handbook of the catalogue as it is now, in the page's language (or ?lang=en|sw), not kept."""
    from mel.reporting.operations import speaking_in
    from reports import handbook

    wanted = request.args.get("lang") if request.args.get("lang") in queries.LANGUAGES else language()
    session = db.session
    today = clock.today(config=current_app.config)
    content = queries.handbook_content(session, current_app.config, today, with_annex=False)
    latest = queries.latest(session)
    changes = operations.changes(latest.number if latest else None, latest.content if latest else None, content)
    with speaking_in(wanted):
        book = handbook.build(content, edition=None, made_on=today.isoformat(), changes=changes)
        html = handbook.render_html(book, preview=True)
    response = make_response(html)
    response.headers["Content-Security-Policy"] = csp_with_inline_styles(html)
    return response
