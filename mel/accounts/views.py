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
from flask_login import current_user, login_user, logout_user

from mel.accounts import operations
from mel.accounts.forms import LoginForm
from mel.db import db
from mel.errors import Unauthorized
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
                max_failures=config["LOGIN_MAX_FAILURES"],
                lockout_minutes=config["LOGIN_LOCKOUT_MINUTES"],
            )
        except Unauthorized as exc:
            finish(db_session, config)  # a refused sign-in (401) keeps its failure count
            current_app.logger.info("failed sign-in for %s", form.email.data)
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
        operations.end_login_session(db.session, current_user.session_token)
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("accounts.login"))
