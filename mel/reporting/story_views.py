"""Web pages of a report's story: the commentary form of a draft run, the list of actions."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.errors import ValidationFailed
from mel.i18n import said
from mel.reporting import actions, commentary, executor, queries
from mel.scopes import can_administer
from mel.unit_of_work import finish
from reports.story import ACTION_SCOPES, ACTION_STATUSES, quarter_label

bp = Blueprint("report_story", __name__, url_prefix="/reports")


def _emails() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.email)).all())


@bp.route("/runs/<int:run_id>/commentary", methods=["POST"])
@login_required
def save_commentary(run_id: int):
    from mel.reporting.views import KIND_LABELS

    user = authenticated_user()
    run = queries.get_visible(db.session, user, run_id)
    typed = commentary.from_form(request.form)
    try:
        commentary.save(db.session, run, user, typed)
    except ValidationFailed as error:
        flash(_("The commentary was not saved. %(reason)s", reason=said(error.message)), "error")
        return render_template("reporting/run.html", run=queries.run_body(run, _emails()), kinds=KIND_LABELS,
                               can_publish=can_administer(user),
                               commentary=commentary.form_context(run, typed)), 422
    finish(db.session, current_app.config)  # the worker process reads the run
    executor.start(current_app._get_current_object(), run.id)
    flash(_("The commentary is saved with the report's figures (a new data checksum); the draft is rendering again."),
          "info")
    return redirect(url_for("reporting.show", run_id=run.id))


def _filters() -> dict:
    args = request.args
    found = {}
    if args.get("status") in ACTION_STATUSES:
        found["status"] = args["status"]
    if args.get("scope") in ACTION_SCOPES:
        found["scope"] = args["scope"]
        if args.get("scope_code"):
            found["scope_code"] = args["scope_code"]
    return found


@bp.route("/actions")
@login_required
def action_list():
    user = authenticated_user()
    session = db.session
    catalogue = load_catalogue(session)
    filters = _filters()
    try:
        found = actions.listed(session, catalogue, user, **filters)
    except ValidationFailed as error:
        flash(said(error.message), "error")
        filters, found = {}, actions.listed(session, catalogue, user)
    emails = _emails()
    listed = [{**actions.body(a, emails), "scope_name": said(actions.scope_name(catalogue, a)),
               "due_short": quarter_label(a.due_period, short=True),
               "raised_short": quarter_label(a.raised_period, short=True)} for a in found]
    return render_template("reporting/actions.html", actions=listed,
                           filters=filters, statuses=ACTION_STATUSES, scopes=ACTION_SCOPES,
                           can_edit=can_administer(user), programmes=sorted(catalogue.programmes.items()),
                           counties=sorted((u for u in catalogue.org_units.values() if u.level == 2),
                                           key=lambda u: u.code))


@bp.route("/actions", methods=["POST"])
@login_required
def action_create():
    session = db.session
    form = request.form
    scope = form.get("scope", "sector")
    code = {"programme": form.get("programme"), "county": form.get("county")}.get(scope, "KE")
    action = actions.create(session, load_catalogue(session), authenticated_user(), text=form.get("text", ""),
                            owner=form.get("owner", ""), due=form.get("due") or None, scope=scope, scope_code=code,
                            raised_period=form.get("raised_period", ""))
    flash(_("Action %(num)s recorded.", num=action.id), "info")
    return redirect(url_for("report_story.action_list"))


@bp.route("/actions/<int:action_id>", methods=["POST"])
@login_required
def action_update(action_id: int):
    session = db.session
    user = authenticated_user()
    action = actions.get(session, load_catalogue(session), user, action_id)
    changes = {k: request.form[k] for k in ("status", "owner", "due") if k in request.form}
    actions.update(session, user, action, changes)
    flash(_("Action %(num)s is now %(status)s.", num=action.id, status=_(ACTION_STATUSES[action.status]).lower()), "info")
    return redirect(url_for("report_story.action_list", **_filters()))
