"""JSON API of reports: request a generation, follow it, download the PDF, publish."""

from __future__ import annotations

from flask import Response, current_app, url_for
from flask.views import MethodView
from sqlalchemy import select

from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.api import api_blueprint
from mel.db import db
from mel.errors import Forbidden
from mel.reporting import executor, operations, queries
from mel.reporting.schemas import ReportRequestSchema, ReportRunSchema
from mel.scopes import can_administer
from mel.unit_of_work import finish

blp = api_blueprint("reports_api", __name__, "Reports: generated PDFs with the figures they used.")


def _body(run) -> dict:
    emails = dict(db.session.execute(select(User.id, User.email)).all())
    return {**queries.run_body(run, emails), "pdf": url_for("reports_api.ReportPdf", run_id=run.id)}


@blp.route("/reports")
class Reports(MethodView):
    @blp.response(200, ReportRunSchema(many=True))
    def get(self):
        """Report runs, newest first (viewers and officers: published reports only)."""
        return [_body(r) for r in queries.visible_runs(db.session, authenticated_user())]

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
        return _body(queries.get_visible(db.session, authenticated_user(), run_id))


@blp.route("/reports/<int:run_id>/pdf")
class ReportPdf(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self, run_id: int):
        """The PDF (checked against its SHA-256 before it is served)."""
        run = queries.get_visible(db.session, authenticated_user(), run_id)
        return Response(queries.pdf_bytes(run), mimetype="application/pdf",
                        headers={"X-Content-SHA256": run.sha256})


@blp.route("/reports/<int:run_id>/publish")
class ReportPublish(MethodView):
    @blp.response(202, ReportRunSchema)
    @blp.alt_response(409, description="Already published, not a finished report, or being published already")
    def post(self, run_id: int):
        """Publish a finished draft (secretariat): its final PDF without the DRAFT mark is made in the
        background; follow the `Location` (GET /reports/<id>) until `publish_state` is done (then
        `is_draft` is false and the run is immutable) or failed (`publish_error` says why)."""
        user = authenticated_user()
        run = queries.get_visible(db.session, user, run_id)
        operations.request_publish(db.session, run, user)
        finish(db.session, current_app.config)  # the worker reads the request
        executor.start(current_app._get_current_object(), run.id, "publish")
        db.session.refresh(run)
        return _body(run), 202, {"Location": url_for("reports_api.ReportOne", run_id=run.id)}
