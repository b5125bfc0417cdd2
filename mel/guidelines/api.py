"""JSON API of the reporting guidelines handbook: its editions, making one and following its run, downloading
their files."""

from __future__ import annotations

from flask import Response, current_app, jsonify, url_for
from flask.views import MethodView

from indicators.messages import N_, Message, text
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.db import db
from mel.errors import NotFound
from mel.guidelines import operations, queries
from mel.guidelines.schemas import (
    EditionMadeSchema,
    EditionRequestSchema,
    EditionSchema,
    HandbookRunSchema,
)
from mel.reporting import executor
from mel.unit_of_work import finish

blp = api_blueprint("handbook_api", __name__, "The reporting guidelines handbook: editions generated from the "
                    "catalogue, each with the catalogue version it was made from, what changed since the previous "
                    "one and its PDF and HTML files in English and Kiswahili, kept unchanged.")
MIMETYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def file_url(number: int, language: str, file_format: str) -> str:
    return url_for("handbook_api.HandbookFileItem", number=number, language=language, file_format=file_format)


def _body(edition) -> dict:
    return queries.edition_body(edition, queries.user_emails(db.session), file_url)


def edition_url(number: int) -> str:
    return url_for("handbook_api.HandbookEdition", number=number)


def _run_body(run, emails: dict[int, str] | None = None) -> dict:
    body = queries.run_body(run, queries.user_emails(db.session) if emails is None else emails, edition_url,
                            authenticated_user())
    return {**body, "url": url_for("handbook_api.HandbookRunOne", run_id=run.id)}


@blp.route("/handbook")
class Handbook(MethodView):
    @blp.response(200, EditionSchema(many=True))
    def get(self):
        """Every edition, newest first (everyone signed in)."""
        return [_body(e) for e in queries.editions(db.session)]

    @blp.arguments(EditionRequestSchema)
    @blp.response(201, EditionMadeSchema)
    @blp.alt_response(202, schema=HandbookRunSchema, description="Being made in the background (the default "
                      "executor): the run; follow its Location (GET /handbook/runs/{id}) until its state is done "
                      "(edition_url), failed or stopped (error says why). With REPORT_EXECUTOR=inline, a making "
                      "that failed is answered so too, its run failed")
    @blp.alt_response(409, description="Nothing changed since the last edition, or another edition is being made "
                                       "(the message names its run)")
    def post(self, args):
        """Make an edition from the current catalogue (secretariat). Each language is laid out as PDF and HTML,
        which takes tens of seconds: with the default executor it is made in the background (202 and its run:
        GET the Location until its state is done); with REPORT_EXECUTOR=inline at once (201: the edition and
        its run_id). Refused with 409 when it would say what the last edition says, or while another edition
        is being made, before anything is started."""
        session = db.session
        user = authenticated_user()
        run = operations.request_edition(session, user, args["note"], tuple(dict.fromkeys(args["languages"])),
                                         current_app.config, clock.today(config=current_app.config))
        finish(session, current_app.config)  # the worker reads the run
        executor.start(current_app._get_current_object(), run.id, "handbook")
        session.refresh(run)
        if run.state == "done":
            edition = queries.edition(session, run.number)
            return {**_body(edition), "run_id": run.id}, 201, {"Location": edition_url(edition.number)}
        started = jsonify(HandbookRunSchema().dump(_run_body(run)))
        started.status_code = 202
        started.headers["Location"] = url_for("handbook_api.HandbookRunOne", run_id=run.id)
        return started  # a Response: not dumped with the 201 schema


@blp.route("/handbook/runs")
class HandbookRuns(MethodView):
    @blp.response(200, HandbookRunSchema(many=True))
    def get(self):
        """The latest runs (editions asked for), newest first, with their state (everyone signed in)."""
        session = db.session
        emails = queries.user_emails(session)
        return [_run_body(r, emails) for r in queries.runs(session)]


@blp.route("/handbook/runs/<int:run_id>")
class HandbookRunOne(MethodView):
    @blp.response(200, HandbookRunSchema)
    @blp.alt_response(404, description="No such run")
    def get(self, run_id: int):
        """One run: its state, stage and progress; once done the edition it made, once failed why."""
        return _run_body(queries.find_run(db.session, run_id))


@blp.route("/handbook/<int:number>")
class HandbookEdition(MethodView):
    @blp.response(200, EditionSchema)
    @blp.alt_response(404, description="No such edition (one being made: follow its run, GET /handbook/runs)")
    def get(self, number: int):
        """One edition: its catalogue version, note, changes and files."""
        return _body(queries.edition(db.session, number))


@blp.route("/handbook/<int:number>/files/<language>/<file_format>")
class HandbookFileItem(MethodView):
    @blp.response(200, content_type="application/pdf")
    @blp.doc(responses={"200": {"description": "The file: a PDF, or an HTML page with its styles inside",
                                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                            "text/html": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, description="No such edition, language or format")
    def get(self, number: int, language: str, file_format: str):
        """A file of an edition (language en or sw, format pdf or html), byte for byte as it was made."""
        if not queries.is_known_file(language, file_format):
            raise NotFound(text(Message(N_("Handbook files are en or sw, pdf or html."))))
        kept = queries.edition_file(db.session, number, language, file_format)
        return Response(kept.content, mimetype=MIMETYPES[file_format].split(";")[0],
                        headers={"X-Content-SHA256": kept.sha256,
                                 "Content-Disposition": f'attachment; filename="{file_name(number, language, file_format)}"'})


def file_name(number: int, language: str, file_format: str) -> str:
    return f"handbook-edition-{number}-{language}.{file_format}"
