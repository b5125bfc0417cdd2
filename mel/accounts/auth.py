"""Who is asking: web sessions (Flask-Login), bearer tokens, roles and scopes."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import AnonymousUserMixin, LoginManager, current_user

from mel.accounts import operations
from mel.accounts.models import User
from mel.db import db
from mel.errors import Unauthorized
from mel.i18n import N_


def _said(words: str) -> str:
    from flask_babel import gettext

    return gettext(words)


login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = N_("Please sign in to continue.")
login_manager.localize_callback = _said  # flashed in the page's language
login_manager.login_message_category = "info"
login_manager.session_protection = None  # the server-side session row is the protection


class Anonymous(AnonymousUserMixin):
    role = None
    email = ""
    display_name = "Guest"


login_manager.anonymous_user = Anonymous


def init_app(app: Flask) -> None:
    login_manager.init_app(app)


@login_manager.user_loader
def _load_from_session(token: str) -> User | None:
    if request.headers.get("Authorization"):
        # A request that names its credentials is judged by them alone, never by a cookie.
        return None
    session = db.session
    user = operations.user_for_session(
        session, token, idle_minutes=current_app.config["SESSION_IDLE_MINUTES"]
    )
    if session.dirty:
        session.commit()
    return user


@login_manager.request_loader
def _load_from_header(req) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme not in ("Bearer", "ApiToken") or not secret.strip():
        return None
    session = db.session
    user = operations.user_for_token(session, secret.strip())
    if user is not None:
        g.auth_method = "token"
        if session.dirty:
            session.commit()
    return user


def authenticated_user() -> User:
    """The signed-in user or token owner; raises Unauthorized otherwise."""
    if not current_user.is_authenticated:
        if request.headers.get("Authorization"):
            raise Unauthorized("The API token is missing, expired or revoked.")
        raise Unauthorized(
            "Authentication required: send 'Authorization: Bearer <token>' "
            "(create one with `mel tokens create EMAIL`) or sign in."
        )
    return current_user._get_current_object()  # type: ignore[attr-defined]

