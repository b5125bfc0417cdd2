"""Two-factor sign-in pages: the code step after the password, setting it up on one's account, and
the secretariat's reset. Routes join the "accounts" blueprint; the rules live in two_factor.py."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user

from mel.accounts import operations, two_factor
from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.accounts.views import _safe_next, bp
from mel.db import db
from mel.errors import Forbidden, MelError, NotFound, Unauthorized
from mel.i18n import said
from mel.scopes import can_administer
from mel.unit_of_work import finish

PENDING_KEY = "mel_2fa_pending"
SETUP_KEY = "mel_2fa_setup"  # the secret being set up, until a code from the app confirms it
CODES_KEY = "mel_2fa_codes"  # recovery codes to show once, on the next page
SETUP_ENDPOINTS = frozenset({"accounts.two_factor_setup", "accounts.two_factor_enable", "accounts.logout",
                             "accounts.login", "accounts.login_code", "static"})


def start_second_step(user: User, next_url: str | None):
    """Called by the sign-in page when the password is right and the person has a second factor."""
    import time

    session[PENDING_KEY] = two_factor.Pending(user.id, time.time(), next_url or "").as_cookie()
    return redirect(url_for("accounts.login_code"))


def _field(name: str, limit: int = 64) -> str:
    return (request.form.get(name) or "").replace("\x00", "")[:limit]


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of sign-in: a code from the authenticator app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    pending = two_factor.Pending.from_cookie(session.get(PENDING_KEY))
    if pending is None:
        session.pop(PENDING_KEY, None)
        flash(_("Sign in again: the code step waits five minutes after the password."), "info")
        return redirect(url_for("accounts.login"))
    error = None
    if request.method == "POST":
        db_session, config = db.session, current_app.config
        try:
            user = two_factor.verify(db_session, pending, _field("code"), remote_addr=request.remote_addr or "",
                                     policy=operations.SignInPolicy.from_config(config),
                                     checkpoint=lambda: finish(db_session, config))
        except Unauthorized as exc:
            finish(db_session, config)  # a refused code keeps its attempt and audit rows
            error = said(exc.message)
        else:
            session.pop(PENDING_KEY, None)
            operations.start_login_session(db_session, user, absolute_hours=config["SESSION_ABSOLUTE_HOURS"],
                                           remote_addr=request.remote_addr or "",
                                           user_agent=request.user_agent.string)
            session.permanent = True
            login_user(user)
            left = two_factor.recovery_codes_left(db_session, user)
            if left <= 3:
                flash(ngettext("You have %(num)s recovery code left: make new ones on your account page.",
                               "You have %(num)s recovery codes left: make new ones on your account page.", left),
                      "warning")
            return redirect(_safe_next(pending.next))
    return render_template("auth/login_code.html", error=error), (401 if error else 200)


def _setup_page(error: str | None = None, status: int = 200):
    user = authenticated_user()
    secret = session.get(SETUP_KEY)
    if not user.has_two_factor and not isinstance(secret, str):
        secret = session[SETUP_KEY] = two_factor.new_secret()
    uri = two_factor.provisioning_uri(user, secret) if not user.has_two_factor else ""
    codes = session.pop(CODES_KEY, None)
    return render_template(
        "auth/two_factor.html", user=user, error=error, secret=two_factor.grouped(secret) if uri else "",
        qr=two_factor.qr_svg(uri, _(two_factor.QR_TITLE)) if uri else "", codes=codes if isinstance(codes, list) else None,
        codes_left=two_factor.recovery_codes_left(db.session, user) if user.has_two_factor else 0,
        required=two_factor.required_for(user, current_app.config.get("REQUIRE_2FA", "")),
    ), status


@bp.route("/account/two-factor")
@login_required
def two_factor_setup():
    return _setup_page()


@bp.route("/account/two-factor", methods=["POST"])
@login_required
def two_factor_enable():
    user = authenticated_user()
    secret = session.get(SETUP_KEY)
    try:
        codes = two_factor.enable(db.session, user, secret if isinstance(secret, str) else "", _field("code"))
    except MelError as exc:
        return _setup_page(said(exc.message), exc.status)
    session.pop(SETUP_KEY, None)
    session[CODES_KEY] = codes
    flash(_("Two-factor sign-in is on. Keep your recovery codes somewhere safe: each works once."), "info")
    return redirect(url_for("accounts.two_factor_setup"))


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def two_factor_codes():
    try:
        codes = two_factor.regenerate_codes(db.session, authenticated_user(), _field("code"))
    except MelError as exc:
        return _setup_page(said(exc.message), exc.status)
    session[CODES_KEY] = codes
    flash(_("New recovery codes are made; the old ones no longer work."), "info")
    return redirect(url_for("accounts.two_factor_setup"))


@bp.route("/account/two-factor/off", methods=["POST"])
@login_required
def two_factor_disable():
    user = authenticated_user()
    try:
        two_factor.disable(db.session, user, _field("code"))
    except MelError as exc:
        return _setup_page(said(exc.message), exc.status)
    flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("accounts.two_factor_setup"))


@bp.route("/admin/users/<int:user_id>/two-factor/reset", methods=["POST"])
@login_required
def two_factor_reset(user_id: int):
    actor = authenticated_user()
    if not can_administer(actor):
        raise Forbidden(_("Only the secretariat resets someone's two-factor sign-in."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No user with id %(id)s.", id=user_id))
    try:
        two_factor.reset(db.session, user, actor=actor, reason=_field("reason", 500))
    except MelError as exc:
        flash(said(exc.message), "error")
        return redirect(url_for("accounts.users"))
    flash(_("Two-factor sign-in of %(email)s is reset and their sessions ended; they set it up again at their "
            "next sign-in.", email=user.email), "info")
    return redirect(url_for("accounts.users"))


def enforce_setup():
    """With MEL_REQUIRE_2FA, a person who must have a second factor and has none can only set it up."""
    if not current_app.config.get("REQUIRE_2FA") or not current_user.is_authenticated:
        return None
    if request.endpoint in SETUP_ENDPOINTS or request.path.startswith("/api/"):
        return None  # API clients use tokens; the web sign-in is what the rule protects
    user = current_user
    if user.has_two_factor or not two_factor.required_for(user, current_app.config["REQUIRE_2FA"]):
        return None
    flash(_("Your role needs two-factor sign-in: set it up to go on."), "warning")
    return redirect(url_for("accounts.two_factor_setup"))


bp.before_app_request(enforce_setup)
