"""JSON API of reports: request a generation, follow it, download the PDF, publish."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, current_app, url_for
from flask.views import MethodView
from sqlalchemy import select

from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.api import api_blueprint
from mel.db import db
from mel.errors import Forbidden
from mel.reporting import executor, operations
from mel.reporting.models import REPORT_KINDS
from mel.scopes import can_administer
from mel.unit_of_work import finish

blp = api_blueprint("reports_api", __name__, "Reports: generated PDFs with the figures they used.")


class ReportRequestSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(REPORT_KINDS))
    period = ma.fields.String(required=True, metadata={"description": "The quarter, e.g. 2025Q3"})
    programme = ma.fields.String(load_default=None, metadata={"description": "Programme code (programme report)"})
    org_unit = ma.fields.String(load_default=None, metadata={"description": "County code or name (county profile)"})
    accessible = ma.fields.Boolean(load_default=False, metadata={"description": "Tagged PDF/UA-1"})


class ReportRunSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    period = ma.fields.String()
    programme = ma.fields.String()
    org_unit = ma.fields.String()
    accessible = ma.fields.Boolean()
    trigger = ma.fields.String()
    state = ma.fields.String(metadata={"description": "queued, running, done, failed or stopped"})
    progress = ma.fields.Integer(metadata={"description": "Percent"})
    stage = ma.fields.String()
    error = ma.fields.String(allow_none=True)
    requested_by = ma.fields.String()
    requested_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)
    duration_ms = ma.fields.Integer()
    page_count = ma.fields.Integer()
    sha256 = ma.fields.String(allow_none=True, metadata={"description": "SHA-256 of the PDF"})
    file_size = ma.fields.Integer()
    data_as_of = ma.fields.String(allow_none=True)
    snapshot_sha256 = ma.fields.String(allow_none=True, metadata={"description": "SHA-256 of the figures used"})
    source_run_id = ma.fields.Integer(allow_none=True)
    published_at = ma.fields.String(allow_none=True)
    is_draft = ma.fields.Boolean()
    pdf = ma.fields.String(metadata={"description": "Where to download the PDF"})


def _body(run) -> dict:
    emails = dict(db.session.execute(select(User.id, User.email)).all())
    return {**operations.run_body(run, emails), "pdf": url_for("reports_api.ReportPdf", run_id=run.id)}


@blp.route("/reports")
class Reports(MethodView):
    @blp.response(200, ReportRunSchema(many=True))
    def get(self):
        """Report runs, newest first (viewers and officers: published reports only)."""
        return [_body(r) for r in operations.visible_runs(db.session, authenticated_user())]

    @blp.arguments(ReportRequestSchema)
    @blp.response(202, ReportRunSchema)
    def post(self, args):
        """Request a report (secretariat); it renders in the background: follow GET /reports/<id>."""
        user = authenticated_user()
        if not can_administer(user):
            raise Forbidden("Only the secretariat generates reports.")
        run = operations.request_report(db.session, user=user, trigger="api", **args)
        finish(db.session, current_app.config)  # the worker process reads the run
        executor.start(current_app._get_current_object(), run.id)
        db.session.refresh(run)
        return _body(run), 202, {"Location": url_for("reports_api.ReportOne", run_id=run.id)}


@blp.route("/reports/<int:run_id>")
class ReportOne(MethodView):
    @blp.response(200, ReportRunSchema)
    def get(self, run_id: int):
        """One run: state, progress, pages, checksums."""
        return _body(operations.get_visible(db.session, authenticated_user(), run_id))


@blp.route("/reports/<int:run_id>/pdf")
class ReportPdf(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self, run_id: int):
        """The PDF (checked against its SHA-256 before it is served)."""
        run = operations.get_visible(db.session, authenticated_user(), run_id)
        return Response(operations.pdf_bytes(run), mimetype="application/pdf",
                        headers={"X-Content-SHA256": run.sha256})


@blp.route("/reports/<int:run_id>/publish")
class ReportPublish(MethodView):
    @blp.response(200, ReportRunSchema)
    def post(self, run_id: int):
        """Publish a finished draft (secretariat): final PDF without the DRAFT mark; immutable afterwards."""
        user = authenticated_user()
        run = operations.get_visible(db.session, user, run_id)
        operations.publish(db.session, run, user, current_app.config)
        return _body(run)
