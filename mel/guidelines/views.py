"""Web pages of the reporting guidelines handbook: the editions (everyone signed in), making one
(secretariat) and following its run, each edition's files, and the current catalogue's handbook in the
browser."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
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
from mel.reporting import executor
from mel.scopes import can_administer
from mel.security import csp_with_inline_styles
from mel.unit_of_work import finish

bp = Blueprint("guidelines", __name__, url_prefix="/guidelines")


def file_url(number: int, lang: str, file_format: str) -> str:
    return url_for("guidelines.edition_file", number=number, lang=lang, file_format=file_format)


def edition_url(number: int) -> str:
    return url_for("guidelines.edition", number=number)


@bp.route("/")
@login_required
def index():
    session = db.session
    emails = queries.user_emails(session)
    found = [queries.edition_body(e, emails, file_url, language()) for e in queries.editions(session)]
    making, failed = queries.runs_to_show(session)
    reader = authenticated_user()
    return render_template("guidelines/index.html", editions=found, can_make=can_administer(reader),
                           note_limit=operations.NOTE_LIMIT,
                           making=[queries.run_body(r, emails, edition_url, reader) for r in making],
                           failed=queries.run_body(failed, emails, edition_url, reader) if failed else None)


@bp.route("/editions", methods=["POST"])
@login_required
def make():
    """Ask for an edition (secretariat): kept as a run, made in the background; its page follows it."""
    session = db.session
    try:
        run = operations.request_edition(session, authenticated_user(), request.form.get("note", ""),
                                         queries.LANGUAGES, current_app.config,
                                         clock.today(config=current_app.config))
    except (Conflict, ValidationFailed) as error:
        flash(said(error.message), "error")
        return redirect(url_for("guidelines.index"))
    finish(session, current_app.config)  # the worker reads the run
    executor.start(current_app._get_current_object(), run.id, "handbook")
    return redirect(url_for("guidelines.run_page", run_id=run.id))


@bp.route("/runs/<int:run_id>")
@login_required
def run_page(run_id: int):
    """A run: its state, stage and progress (followed by the page's script), its edition or why it failed."""
    session = db.session
    found = queries.find_run(session, run_id)
    return render_template("guidelines/run.html",
                           run=queries.run_body(found, queries.user_emails(session), edition_url, authenticated_user()),
                           can_make=can_administer(authenticated_user()))


@bp.route("/runs/<int:run_id>/status")
@login_required
def run_status(run_id: int):
    """A run as JSON for its page's progress script, its stage in the page's language."""
    session = db.session
    body = queries.run_body(queries.find_run(session, run_id), queries.user_emails(session), edition_url,
                            authenticated_user())
    return jsonify({**body, "stage_words": _(body["stage"]) if body["stage"] else "",
                    "error_words": said(body["error"]) if body["error"] else None})


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
