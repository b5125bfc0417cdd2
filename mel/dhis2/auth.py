"""Who is asking, in the DHIS2 dialect: HTTP Basic, `ApiToken` / `Bearer` tokens, or a signed-in session.

Basic credentials are a user's e-mail and password, checked by the web sign-in's own
`authenticate`, so failures are recorded, audited and throttled exactly as there. Tokens are
the ones `mel tokens create` issues (DHIS2 clients send them as `ApiToken <token>`). A request
that names credentials is judged by them alone, never by a cookie. Failures get DHIS2's 401
WebMessage ("Unauthorized").

DHIS2 scripts send Basic credentials with every request (a paging loop, a value at a time). A
password check costs about 140 ms of CPU and each sign-in is recorded, so a process remembers
credentials it has verified for `VERIFIED_SECONDS`: as an HMAC under a key of the process's own
(never the password), tied to the user's password hash at the time. A changed password, a
deactivated account or the time running out sends the next request through the full check again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mel.accounts import operations
from mel.accounts.models import User
from mel.db import db
from mel.dhis2.messages import Dhis2Error
from mel.errors import Unauthorized
from mel.unit_of_work import finish

_CACHE = "_dhis2_user"
VERIFIED_SECONDS = 300  # how long a process trusts Basic credentials it has checked
VERIFIED_MAX = 2000  # credentials remembered at most (the oldest are forgotten first)
_verified: dict[bytes, tuple[int, str, float]] = {}  # HMAC -> (user id, password hash, until)
_verified_lock = threading.Lock()
_PROCESS_KEY = secrets.token_bytes(32)
HOW = ("Send 'Authorization: Basic <base64 of e-mail:password>', 'Authorization: ApiToken <token>' "
       "or 'Authorization: Bearer <token>' (create a token with `mel tokens create EMAIL`).")


def dhis2_user() -> User:
    """The authenticated user of this DHIS2 request; raises Dhis2Error(401) otherwise. Views call it first."""
    cached = g.get(_CACHE)
    if cached is not None:
        return cached
    header = request.headers.get("Authorization", "").strip()
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "basic":
        user = _basic(secret.strip())
    elif header:
        # Bearer and ApiToken: Flask-Login's request loader (mel.accounts.auth) read the token.
        if not current_user.is_authenticated:
            raise Dhis2Error(401, "Unauthorized", dev_message="The API token is missing, expired or revoked. " + HOW)
        user = current_user._get_current_object()  # type: ignore[attr-defined]
    elif current_user.is_authenticated:  # a signed-in browser session (the cookie)
        user = current_user._get_current_object()  # type: ignore[attr-defined]
    else:
        raise Dhis2Error(401, "Unauthorized", dev_message="Authentication required. " + HOW)
    setattr(g, _CACHE, user)
    return user


def _basic(secret: str) -> User:
    try:
        decoded = base64.b64decode(secret, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Dhis2Error(401, "Unauthorized", dev_message="The Basic credentials are not base64 of "
                                                           "'e-mail:password'. " + HOW) from None
    email, colon, password = decoded.partition(":")
    if not colon or not email.strip() or not password:
        raise Dhis2Error(401, "Unauthorized", dev_message="The Basic credentials need an e-mail and a "
                                                           "password. " + HOW)
    session = db.session
    config = current_app.config
    fingerprint = hmac.new(_PROCESS_KEY, f"{operations.normalise_email(email)}\0{password}".encode(),
                           hashlib.sha256).digest()
    known = _verified.get(fingerprint)
    if known is not None and known[2] > time.monotonic():
        user = session.scalar(select(User).where(User.id == known[0])
                              .options(selectinload(User.programmes), selectinload(User.org_units)))
        if user is not None and user.is_active and user.password_hash == known[1] and not user.has_two_factor:
            g._login_user = user
            return user
    try:
        user = operations.authenticate(
            session, email, password, remote_addr=request.remote_addr or "",
            policy=operations.SignInPolicy.from_config(config),
            # Each attempt is committed before its password is checked, so parallel attempts count it.
            checkpoint=lambda: finish(session, config),
        )
    except Unauthorized as exc:
        finish(session, config)  # a refused attempt keeps its attempt and audit rows (the answer rolls back)
        raise Dhis2Error(401, "Unauthorized", dev_message=exc.message) from None
    # Commit the success now: the answer may still be an error (a conflict), whose rollback would leave the
    # attempt "pending", which throttling counts as a failure.
    finish(session, config)
    if user.has_two_factor:  # a password alone does not open an account with a second factor (DHIS2 alike)
        raise Dhis2Error(401, "Unauthorized", dev_message="This account signs in with two factors: send "
                                                           "'Authorization: ApiToken <token>' instead of Basic "
                                                           "credentials (`mel tokens create`).")
    _remember(fingerprint, user)
    user = operations.load_user(session, user.email)  # with the programmes and org units the scopes read
    g._login_user = user  # Flask-Login's current user for the rest of the request (limits, headers)
    return user


def _remember(fingerprint: bytes, user: User) -> None:
    with _verified_lock:
        if len(_verified) >= VERIFIED_MAX:
            for key in sorted(_verified, key=lambda k: _verified[k][2])[: VERIFIED_MAX // 10]:
                _verified.pop(key, None)
        _verified[fingerprint] = (user.id, user.password_hash, time.monotonic() + VERIFIED_SECONDS)
