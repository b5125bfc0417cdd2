"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from mel.accounts import audit, operations
from mel.accounts.auth import authenticated_user
from mel.accounts.forms import LoginForm
from mel.db import db
from mel.errors import Forbidden, Unauthorized
from mel.scopes import can_administer
from mel.unit_of_work import finish

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db_session = db.session
        config = current_app.config
        try:
            user = operations.authenticate(
                db_session,
                form.email.data,
                form.password.data,
                remote_addr=request.remote_addr or "",
                policy=operations.SignInPolicy.from_config(config),
                # Each attempt is committed before its password is checked, so parallel attempts count it.
                checkpoint=lambda: finish(db_session, config),
            )
        except Unauthorized as exc:
            finish(db_session, config)  # a refused sign-in (401) keeps its attempt and audit rows
            current_app.logger.info("refused sign-in for %s", form.email.data)
            error = exc.message
        else:
            operations.start_login_session(
                db_session,
                user,
                absolute_hours=config["SESSION_ABSOLUTE_HOURS"],
                remote_addr=request.remote_addr or "",
                user_agent=request.user_agent.string,
            )
            session.permanent = True  # the cookie follows PERMANENT_SESSION_LIFETIME (idle limit)
            login_user(user)
            current_app.logger.info("signed in: %s", user.email)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated and current_user.session_token:
        operations.end_login_session(db.session, current_user.session_token,
                                     actor=current_user._get_current_object())
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/admin/audit")
@login_required
def audit_log():
    """The audit of sign-ins, tokens and administrative actions (secretariat only)."""
    if not can_administer(authenticated_user()):
        raise Forbidden("Only the secretariat reads the audit.")
    action = request.args.get("action", "")
    if action not in audit.ACTIONS:
        action = ""
    actor = request.args.get("user", "").replace("\x00", "")[:254]
    page = request.args.get("page", 1, type=int) or 1
    result = audit.events(db.session, action=action, actor=actor, page=min(max(page, 1), 100_000))
    return render_template("admin/audit.html", result=result, actions=audit.ACTIONS,
                           action=action, actor=actor)


# The self-service pages (forgotten passwords, invitations, one's account) add their routes here.
from mel.accounts import self_service_views  # noqa: E402,F401
