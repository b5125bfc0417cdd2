"""JSON API of returns: read and write one return, submit it, import a file of many."""

from __future__ import annotations

from dataclasses import dataclass

import marshmallow as ma
import pandas as pd
from flask import current_app, jsonify, url_for
from flask.views import MethodView
from sqlalchemy.orm import Session

from indicators.figures import ingest_frame, ingest_row
from indicators.messages import N_, message, text
from indicators.periods import parse_period
from mel import jobs
from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.api import api_blueprint
from mel.catalogue.lookup import Catalogue, load_catalogue
from mel.db import db
from mel.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from mel.returns import checks, operations, queries
from mel.returns.ingest import Incoming, IngestResult, IngestSettings, ingest
from mel.returns.schemas import (
    ImportFileSchema,
    ImportQuerySchema,
    IngestResultSchema,
    ReturnPutSchema,
    ReturnSchema,
)
from mel.scopes import can_enter
from mel.unit_of_work import finish
from mel.web.filters import plain

blp = api_blueprint("returns_api", __name__, "Quarterly returns: figures, narrative, state, version.")


@dataclass
class _Request:
    """What every return endpoint works with: who asks, the catalogue, and the return's address."""

    session: Session
    user: User
    catalogue: Catalogue
    address: operations.ReturnAddress


def _load(programme: str, org_unit: str, period: str) -> _Request:
    session = db.session
    user = authenticated_user()
    catalogue = load_catalogue(session)
    return _Request(session, user, catalogue,
                    operations.find_readable(session, catalogue, user, programme, org_unit, period))


def _body(session, catalogue, user, prog, unit, period_id) -> dict:
    grid = queries.grids(session, catalogue, prog, [unit], period_id, reader=user)[0]
    record = grid.record
    return {
        "programme": prog.code, "org_unit": unit.code, "org_unit_name": unit.name,
        "period": period_id, "period_label": parse_period(period_id).label,
        "state": record.state if record else "draft", "version": record.version if record else 0,
        "narrative": record.narrative if record else "", "is_late": bool(record and record.is_late),
        "submitted_at": record.submitted_at if record else None,
        "window": {"opens": grid.window.opens.isoformat(), "due": grid.window.due.isoformat(),
                   "closes": grid.window.closes.isoformat()},
        "values": [{"indicator": c.code, "option": c.option, "value": plain(c.value) or None,
                    "previous": plain(c.previous) or None,
                    "comment": c.comment} for c in grid.cells() if c.value is not None or c.previous is not None],
        "flags": [{"id": f.id, "kind": f.kind, "message": f.message, "explanation": f.explanation,
                   "explanation_code": f.explanation_code} for f in grid.flags],
    }


def _refused(result: IngestResult):
    raise ValidationFailed(result.describe(), [ErrorDetail(e.message, e.location) for e in result.errors[:500]])


@blp.route("/returns/<programme>/<org_unit>/<return_period:period>")
class ReturnItem(MethodView):
    @blp.response(200, ReturnSchema)
    def get(self, programme, org_unit, period):
        """A return's figures (with last quarter), narrative, state, version and flags."""
        asked = _load(programme, org_unit, period)
        session, catalogue, (prog, unit, period_id, _) = asked.session, asked.catalogue, asked.address
        return _body(session, catalogue, asked.user, prog, unit, period_id)

    @blp.arguments(ReturnPutSchema)
    @blp.response(200, IngestResultSchema)
    @blp.alt_response(409, description="The return changed since the version you read")
    @blp.alt_response(422, description="Figures refused; `details` locate every problem")
    def put(self, payload, programme, org_unit, period):
        """Write figures (and narrative) of a return; all or nothing; the same figures twice change nothing."""
        asked = _load(programme, org_unit, period)
        session, user, catalogue = asked.session, asked.user, asked.catalogue
        prog, unit, period_id, record = asked.address
        if not can_enter(user, prog.id, unit):
            raise Forbidden(text(message(N_("You may read but not write %(programme)s returns for %(org_unit)s."),
                                         programme=prog.code, org_unit=unit.name)))
        rows = ingest_frame([ingest_row(f["indicator"], f["option"], unit.code, period_id, f["value"],
                                        comment=f["comment"], explanation=f["explanation"])
                             for f in payload["values"]])
        if payload["clear_missing"] and record is not None:
            given = {(r["indicator"].upper(), r["option"]) for r in rows.to_dict("records")}
            grid = queries.grids(session, catalogue, prog, [unit], period_id)[0]
            extra = [ingest_row(c.code, c.option, unit.code, period_id) for c in grid.cells()
                     if c.value is not None and (c.code, c.option) not in given]
            rows = pd.concat([rows, ingest_frame(extra)], ignore_index=True)
        expected = payload["version"]
        if record is None and expected != 0:
            raise NotFound(text(message(N_("No %(programme)s return for %(org_unit)s %(period)s exists yet; send "
                                           "version 0 to create it."), programme=prog.code, org_unit=unit.name,
                                        period=period_id)))
        if record is not None and expected != record.version:
            raise Conflict(checks.conflict_message(session, record, expected))
        result = None
        if not rows.empty:
            result = ingest(session, user, Incoming(rows, "api"), programme=prog.code,
                            dry_run=payload["dry_run"], delete_empty=True,
                            expected_version=expected if record is not None else None,
                            settings=IngestSettings.from_config(current_app.config))
            if result.errors:
                session.rollback()
                _refused(result)
        if "narrative" in payload:
            # Same role, scope, window and state rules as the figures; a dry run checks, then rolls back.
            operations.save_narrative(session, user, catalogue, prog, unit, period_id, payload["narrative"],
                                      channel="api")
        if payload["dry_run"]:
            session.rollback()
        return (result or IngestResult("unchanged")).as_dict()


@blp.route("/returns/<programme>/<org_unit>/<return_period:period>/submit")
class ReturnSubmit(MethodView):
    @blp.response(200, ReturnSchema)
    @blp.alt_response(422, description="Errors, missing figures or unexplained warnings; all listed")
    def post(self, programme, org_unit, period):
        """Submit a return for review (needs no errors, every required figure, every warning explained)."""
        asked = _load(programme, org_unit, period)
        session, user, catalogue = asked.session, asked.user, asked.catalogue
        prog, unit, period_id, record = asked.address
        if record is None:
            raise NotFound(text(message(N_("There is no %(programme)s return for %(org_unit)s %(period)s to submit."),
                                        programme=prog.code, org_unit=unit.name, period=period_id)))
        operations.submit(session, user, record, channel="api", catalogue=catalogue)
        finish(session, current_app.config)
        return _body(session, catalogue, user, prog, unit, period_id)


class ImportJobSchema(ma.Schema):
    id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "queued, running, done or failed"})
    stage = ma.fields.String()
    filename = ma.fields.String()
    size = ma.fields.Integer(metadata={"description": "Bytes"})
    rows_read = ma.fields.Integer(metadata={"description": "Rows read from the file so far"})
    returns_written = ma.fields.Integer(metadata={"description": "Returns whose figures were stored"})
    position = ma.fields.Integer(allow_none=True, metadata={"description": "While queued: place in the queue"})
    waiting = ma.fields.Integer(metadata={"description": "Imports waiting in all"})
    created_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)
    status = ma.fields.Integer(allow_none=True, metadata={"description": "When done: the HTTP status the "
                                                          "import would have answered inline (200, 422, 403…)"})
    result = ma.fields.Dict(allow_none=True, metadata={"description": "When done: the body it would have "
                                                       "answered (the import result, or the error)"})


@blp.route("/returns:import")
class ReturnImport(MethodView):
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, IngestResultSchema)
    @blp.alt_response(422, description="Refused; `details` locate every problem; nothing stored")
    @blp.alt_response(202, schema=ImportJobSchema, description=(
        "With async=true, or a large file (over MEL_IMPORT_INLINE_BYTES or MEL_IMPORT_INLINE_ROWS lines) "
        "without async=false, the file is imported in the background: poll the `Location` (GET /imports/{job_id}) until `state` is done; `status` and "
        "`result` are then what this call would have answered"))
    def post(self, args, files):
        """Import an .xlsx template or a CSV carrying one or many returns; all or nothing."""
        session = db.session
        user = authenticated_user()
        upload = files["file"]
        data = upload.read()
        background = args.get("run_async")
        if background is None:
            background = jobs.import_in_background(current_app.config, data)
        if background:
            job = jobs.start_import(session, current_app.config, user, data, upload.filename or "upload",
                                    channel="api", programme=args.get("programme"), dry_run=args["dry_run"],
                                    submit=args["submit"])
            answer = jsonify(ImportJobSchema().dump(jobs.import_body(session, job)))
            answer.status_code = 202
            answer.headers["Location"] = url_for("returns_api.ImportJobOne", job_id=job.id)
            return answer  # a Response: not dumped with the 200 schema
        result = operations.import_file(session, user, data, upload.filename or "upload",
                                        settings=IngestSettings.from_config(current_app.config),
                                        programme=args.get("programme"), dry_run=args["dry_run"])
        if result.errors:
            _refused(result)
        if args["submit"] and not args["dry_run"]:
            _, problems = operations.submit_imported(session, user, result, channel="api")
            if problems:
                finish(session, current_app.config)  # the figures and the other submissions stay
                raise ValidationFailed(text(message(N_("The figures were stored (%(result)s) but some returns could "
                                                       "not be submitted."), result=result.describe())), problems)
        return result.as_dict()


@blp.route("/imports/<int:job_id>")
class ImportJobOne(MethodView):
    @blp.response(200, ImportJobSchema)
    def get(self, job_id: int):
        """A background import: progress, then its result (its uploader and the secretariat only)."""
        session = db.session
        return jobs.import_body(session, jobs.visible_import(session, authenticated_user(), job_id))
