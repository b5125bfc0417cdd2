"""JSON API of the review: queue, completeness, decisions and queries on single figures."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from indicators.messages import N_, message, text
from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.errors import Forbidden, NotFound
from mel.periods import quarter
from mel.returns import operations as return_ops
from mel.returns.ingest import IngestSettings
from mel.review import operations, queries
from mel.review.models import ValueQuery
from mel.review.schemas import (
    AnswerPost,
    CompletenessArgs,
    PeriodArgs,
    QueryPost,
    ReasonArgs,
    ReturnArgs,
)
from mel.scopes import can_administer, can_read_queries, can_review, can_see_completeness
from mel.unit_of_work import finish

blp = api_blueprint("review_api", __name__, "The MERL TWG's review: queue, completeness, decisions, queries.")


def _quarter(period: str) -> str:
    return quarter(period).id


def _reviewers_only() -> None:
    if not can_review(authenticated_user()):
        raise Forbidden(text(message(N_("The review queue is for MERL TWG reviewers and the secretariat."))))


def _record(programme: str, org_unit: str, period: str):
    session = db.session
    catalogue = load_catalogue(session)
    record = return_ops.find_return(session, catalogue, programme, org_unit, period).record
    if record is None:
        raise NotFound(text(message(N_("There is no %(programme)s return for %(org_unit)s %(period)s."),
                                    programme=programme, org_unit=org_unit, period=period)))
    return session, catalogue, record


def _state(record) -> dict:
    return {"state": record.state, "version": record.version, "is_late": record.is_late}


@blp.route("/review-queue")
class ReviewQueue(MethodView):
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200)
    def get(self, args):
        """Every expected return of a quarter with state, lateness, flags and open queries; attention first."""
        _reviewers_only()
        session = db.session
        rows = queries.review_queue(session, load_catalogue(session), _quarter(args["period"]),
                                    programme=args.get("programme"), org_unit=args.get("org_unit"),
                                    pillar=args.get("pillar"), state=args.get("state"))
        for row in rows:
            row["submitted_at"] = row["submitted_at"].isoformat() if row["submitted_at"] else None
            row["state"] = row["state"] or "not_started"
        return rows


@blp.route("/completeness")
class Completeness(MethodView):
    @blp.arguments(CompletenessArgs, location="query")
    @blp.response(200)
    def get(self, args):
        """Completeness, timeliness and value completeness of a quarter, by programme, org unit or pillar
        (reviewers and the secretariat: every expected return; officers: the returns of their scope)."""
        user = authenticated_user()
        if not can_see_completeness(user):
            raise Forbidden(text(message(N_("Completeness is for MERL TWG reviewers, the secretariat and officers "
                                            "(their own returns); viewers read it in published reports."))))
        session = db.session
        return queries.completeness_table(session, load_catalogue(session), _quarter(args["period"]), args["by"],
                                          reader=user)


@blp.route("/returns/<programme>/<org_unit>/<return_period:period>/approve")
class Approve(MethodView):
    @blp.response(200)
    @blp.alt_response(409, description="Not submitted, or queries still open")
    def post(self, programme, org_unit, period):
        """Approve a submitted return; it is then locked."""
        session, catalogue, record = _record(programme, org_unit, period)
        operations.approve(session, catalogue, authenticated_user(), record, channel="api")
        return _state(record)


@blp.route("/returns/<programme>/<org_unit>/<return_period:period>/return")
class ReturnToOfficer(MethodView):
    @blp.arguments(ReturnArgs)
    @blp.response(200)
    def post(self, payload, programme, org_unit, period):
        """Return a submitted return to the officer with reason codes and words."""
        session, catalogue, record = _record(programme, org_unit, period)
        operations.return_to_officer(session, catalogue, authenticated_user(), record, payload["reasons"],
                                     payload["text"], channel="api")
        finish(session, current_app.config)
        return _state(record)


@blp.route("/returns/<programme>/<org_unit>/<return_period:period>/reopen")
class Reopen(MethodView):
    @blp.arguments(ReasonArgs)
    @blp.response(200)
    def post(self, payload, programme, org_unit, period):
        """Reopen an approved return (secretariat, with a reason)."""
        if not can_administer(authenticated_user()):
            raise Forbidden(text(message(N_("Only the secretariat reopens approved returns."))))
        session, catalogue, record = _record(programme, org_unit, period)
        operations.reopen(session, catalogue, authenticated_user(), record, payload["reason"], channel="api")
        finish(session, current_app.config)
        return _state(record)


@blp.route("/returns/<programme>/<org_unit>/<return_period:period>/queries")
class Queries(MethodView):
    @blp.response(200)
    def get(self, programme, org_unit, period):
        """The query threads of a return (visible to its officers and to reviewers)."""
        session, catalogue, record = _record(programme, org_unit, period)
        user = authenticated_user()
        owner = _owner(catalogue, record)
        return_ops.check_read(user, *owner)
        if not can_read_queries(user, owner[0].id, owner[1]):
            raise Forbidden(text(message(N_("Query threads are for the return's officers, MERL TWG reviewers and "
                                            "the secretariat."))))
        return queries.return_threads(session, catalogue, record.id)

    @blp.arguments(QueryPost)
    @blp.response(201)
    def post(self, payload, programme, org_unit, period):
        """Raise a query on one figure of a submitted return."""
        session, catalogue, record = _record(programme, org_unit, period)
        query = operations.raise_query(session, catalogue, authenticated_user(), record, payload["indicator"],
                                       payload["option"], payload["text"])
        finish(session, current_app.config)
        return queries.query_body(session, catalogue, query)


@blp.route("/returns/<programme>/<org_unit>/<return_period:period>/queries/<int:query_id>")
class QueryItem(MethodView):
    @blp.arguments(AnswerPost)
    @blp.response(200)
    def post(self, payload, programme, org_unit, period, query_id):
        """Answer a query (officer, optionally with a corrected figure) or close it (reviewer)."""
        session, catalogue, record = _record(programme, org_unit, period)
        query = session.get(ValueQuery, query_id)
        if query is None or query.return_id != record.id:
            raise NotFound(text(message(N_("Query %(id)s is not on this return."), id=query_id)))
        user = authenticated_user()
        config = current_app.config
        if payload["close"]:
            operations.close_query(session, user, query, payload["text"])
        else:
            value = payload["corrected_value"]
            operations.answer_query(session, catalogue, user, query, payload["text"],
                                    corrected_value=None if value is None else str(value),
                                    settings=IngestSettings.from_config(config))
        finish(session, current_app.config)
        return queries.query_body(session, catalogue, query)


def _owner(catalogue, record):
    return catalogue.programme_by_id[record.programme_id], catalogue.org_unit_by_id[record.org_unit_id]
