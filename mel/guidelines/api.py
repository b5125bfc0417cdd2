"""JSON API of the reporting guidelines handbook: its editions, making one, downloading their files."""

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
from mel.guidelines.schemas import EditionRequestSchema, EditionSchema, EditionStartedSchema

blp = api_blueprint("handbook_api", __name__, "The reporting guidelines handbook: editions generated from the "
                    "catalogue, each with the catalogue version it was made from, what changed since the previous "
                    "one and its PDF and HTML files in English and Kiswahili, kept unchanged.")
MIMETYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def file_url(number: int, language: str, file_format: str) -> str:
    return url_for("handbook_api.HandbookFileItem", number=number, language=language, file_format=file_format)


def _body(edition) -> dict:
    return queries.edition_body(edition, queries.user_emails(db.session), file_url)


@blp.route("/handbook")
class Handbook(MethodView):
    @blp.response(200, EditionSchema(many=True))
    def get(self):
        """Every edition, newest first (everyone signed in)."""
        return [_body(e) for e in queries.editions(db.session)]

    @blp.arguments(EditionRequestSchema)
    @blp.response(201, EditionSchema)
    @blp.alt_response(202, schema=EditionStartedSchema, description="Being made in the background (the "
                      "default executor): follow the Location, 404 until the edition is there")
    @blp.alt_response(409, description="Nothing changed since the last edition, or another edition was made at "
                                       "the same moment")
    def post(self, args):
        """Make an edition from the current catalogue (secretariat). Each language is laid out as PDF and HTML,
        which takes tens of seconds: with the default executor it is made in a process of its own (202, then
        GET the Location until it answers 200); with REPORT_EXECUTOR=inline at once (201). Refused with 409
        when it would say what the last edition says, before anything is started."""
        session = db.session
        user = authenticated_user()
        languages = tuple(dict.fromkeys(args["languages"]))
        number, version = operations.check_request(session, user, args["note"], languages, current_app.config,
                                                   clock.today(config=current_app.config))
        edition = operations.start_edition(current_app._get_current_object(), user, args["note"], languages)
        location = {"Location": url_for("handbook_api.HandbookEdition", number=number)}
        if edition is None:
            started = jsonify(EditionStartedSchema().dump({"number": number, "catalogue_version": version,
                                                           "state": "making", "languages": list(languages)}))
            started.status_code = 202
            started.headers.update(location)
            return started
        return _body(edition), 201, location


@blp.route("/handbook/<int:number>")
class HandbookEdition(MethodView):
    @blp.response(200, EditionSchema)
    @blp.alt_response(404, description="No such edition (yet: one being made answers 404 until it is there)")
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
