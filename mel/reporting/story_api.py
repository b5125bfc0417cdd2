"""JSON API of a report's story: its commentary (draft runs, secretariat) and the actions it raised."""

from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView
from sqlalchemy import select

from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.api import api_blueprint
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.reporting import actions, commentary, executor, queries
from mel.reporting.schemas import (
    ActionCreateSchema,
    ActionQuerySchema,
    ActionSchema,
    ActionUpdateSchema,
    CommentaryBodySchema,
    CommentarySchema,
)
from mel.unit_of_work import finish

blp = api_blueprint("story_api", __name__, "Report commentary, recommendations and actions followed up "
                    "from one quarter's report to the next.")


def _emails() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.email)).all())


def commentary_body(run) -> dict:
    return {**commentary.of_run(run), "run_id": run.id, "state": queries.effective_state(run),
            "snapshot_sha256": run.snapshot_sha256 or None}


@blp.route("/reports/<int:run_id>/commentary")
class ReportCommentary(MethodView):
    @blp.response(200, CommentaryBodySchema)
    def get(self, run_id: int):
        """A run's commentary: the saved one, or the generated key messages to start from."""
        return commentary_body(queries.get_visible(db.session, authenticated_user(), run_id))

    @blp.arguments(CommentarySchema)
    @blp.response(200, CommentaryBodySchema)
    def put(self, args, run_id: int):
        """Write a finished draft's commentary (secretariat): it becomes part of the run's data and its
        checksum, and the draft renders again (follow GET /reports/<id>). A published run: 409."""
        user = authenticated_user()
        run = queries.get_visible(db.session, user, run_id)
        commentary.save(db.session, run, user, args)
        finish(db.session, current_app.config)  # the worker process reads the run
        executor.start(current_app._get_current_object(), run.id)
        db.session.refresh(run)
        return commentary_body(run)


@blp.route("/actions")
class Actions(MethodView):
    @blp.arguments(ActionQuerySchema, location="query")
    @blp.response(200, ActionSchema(many=True))
    def get(self, args):
        """Recommendations and actions the reader's scope allows, newest quarter first."""
        session = db.session
        found = actions.listed(session, load_catalogue(session), authenticated_user(), **args)
        emails = _emails()
        return [actions.body(a, emails) for a in found]

    @blp.arguments(ActionCreateSchema)
    @blp.response(201, ActionSchema)
    def post(self, args):
        """Record an action (secretariat)."""
        session = db.session
        action = actions.create(session, load_catalogue(session), authenticated_user(), **args)
        return actions.body(action, _emails()), 201, {"Location": url_for("story_api.ActionOne", action_id=action.id)}


@blp.route("/actions/<int:action_id>")
class ActionOne(MethodView):
    @blp.response(200, ActionSchema)
    def get(self, action_id: int):
        """One action."""
        session = db.session
        return actions.body(actions.get(session, load_catalogue(session), authenticated_user(), action_id), _emails())

    @blp.arguments(ActionUpdateSchema)
    @blp.response(200, ActionSchema)
    def patch(self, args, action_id: int):
        """Change an action's status, owner, due quarter or text (secretariat)."""
        session = db.session
        user = authenticated_user()
        action = actions.get(session, load_catalogue(session), user, action_id)
        return actions.body(actions.update(session, user, action, args), _emails())
