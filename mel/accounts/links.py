"""One-time links e-mailed to people: password reset and invitation (itsdangerous, signed and timed).

A link names the user and a fingerprint of the password hash the user had when it was made, so it
works once: setting a password changes the hash and every earlier link of that user stops working.
Each purpose has its own salt, so a reset link never opens the invitation page and the reverse.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from mel.accounts.models import User

SALTS = {"reset": "mel.accounts.password-reset", "invitation": "mel.accounts.invitation"}
HOURS = {"reset": "PASSWORD_RESET_HOURS", "invitation": "INVITATION_HOURS"}


class LinkRefused(Exception):
    """The link is not one of ours ("invalid"), too old ("expired") or already used ("used")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _serializer(config, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=SALTS[purpose])


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:20]


def make(config, purpose: str, user: User) -> str:
    """A link token for a user and purpose ("reset" or "invitation")."""
    return _serializer(config, purpose).dumps([user.id, _fingerprint(user)])


def valid_hours(config, purpose: str) -> int:
    return int(config[HOURS[purpose]])


def read(session: Session, config, purpose: str, token: str) -> User:
    """The user a link token was made for; raises LinkRefused when it may not be used."""
    serializer = _serializer(config, purpose)
    try:
        user_id, fingerprint = serializer.loads(token, max_age=valid_hours(config, purpose) * 3600)
    except SignatureExpired as exc:
        raise LinkRefused("expired") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise LinkRefused("invalid") from exc
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(fingerprint, str):
        raise LinkRefused("invalid")
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise LinkRefused("invalid")
    if fingerprint != _fingerprint(user):
        raise LinkRefused("used")
    return user
