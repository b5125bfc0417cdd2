"""Writes for accounts: users, passwords, login sessions, API tokens. Callers commit."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from mel.accounts.models import ROLES, ApiToken, LoginSession, User
from mel.catalogue.models import OrgUnit, Programme
from mel.db import utcnow
from mel.errors import NotFound, Unauthorized, ValidationFailed

log = logging.getLogger(__name__)
TOKEN_PREFIX = "mel_"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def token_state(record: ApiToken, now: datetime) -> str:
    """"revoked", "expired" or "active": whether an API token still signs in, and why not."""
    if record.revoked_at is not None:
        return "revoked"
    if record.expires_at is not None and _aware(record.expires_at) <= now:
        return "expired"
    return "active"


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        from datetime import UTC

        return moment.replace(tzinfo=UTC)
    return moment


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_policy(password: str, min_length: int = 12) -> None:
    """Length is the rule (ASVS 2.1): at least min_length characters, at most 128."""
    if len(password) < min_length:
        raise ValidationFailed(f"The password must have at least {min_length} characters.")
    if len(password) > 128:
        raise ValidationFailed("The password must have at most 128 characters.")


def create_user(
    session: Session,
    email: str,
    role: str,
    *,
    name: str = "",
    password: str | None = None,
    programme_codes: list[str] | tuple[str, ...] = (),
    org_unit_codes: list[str] | tuple[str, ...] = (),
    min_password_length: int = 12,
) -> User:
    """Create a user with a role and, for officers, the programmes and org units they cover."""
    email = normalise_email(email)
    if "@" not in email:
        raise ValidationFailed(f"{email!r} is not an e-mail address.")
    if role not in ROLES:
        raise ValidationFailed(f"Role {role!r} is not known; use one of {', '.join(ROLES)}.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ValidationFailed(f"A user with e-mail {email} already exists.")
    user = User(email=email, role=role, name=name)
    if password is not None:
        check_password_policy(password, min_password_length)
        user.password_hash = generate_password_hash(password)
    user.programmes = _programmes(session, programme_codes)
    user.org_units = _org_units(session, org_unit_codes)
    if role == "officer" and not (user.programmes and user.org_units):
        raise ValidationFailed(
            "An officer needs at least one programme (--programme) and one org unit (--org-unit)."
        )
    session.add(user)
    session.flush()
    log.info("user created: %s (%s)", email, role)
    return user


def _programmes(session: Session, codes) -> list[Programme]:
    found = list(session.scalars(select(Programme).where(Programme.code.in_(list(codes)))))
    missing = sorted(set(codes) - {p.code for p in found})
    if missing:
        raise ValidationFailed(f"Unknown programme code(s): {', '.join(missing)}.")
    return found


def _org_units(session: Session, codes) -> list[OrgUnit]:
    from mel.catalogue.queries import resolve_org_unit

    return [resolve_org_unit(session, code) for code in codes]


def set_password(user: User, password: str, min_length: int = 12) -> None:
    check_password_policy(password, min_length)
    user.password_hash = generate_password_hash(password)


def authenticate(
    session: Session, email: str, password: str, *, max_failures: int = 5, lockout_minutes: int = 15
) -> User:
    """Check an e-mail and password; lock the account briefly after repeated failures."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    now = utcnow()
    generic = Unauthorized("The e-mail or password is not correct.")
    if user is None or not user.is_active or not user.password_hash:
        # Spend the same time as a real check so timing does not reveal accounts.
        check_password_hash(_DUMMY_HASH, password)
        raise generic
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        raise Unauthorized(
            "Too many failed attempts: this account is locked for a few minutes. Try again later."
        )
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            log.warning("account locked after repeated failures: %s", user.email)
        session.flush()
        raise generic
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return user


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def start_login_session(
    session: Session, user: User, *, absolute_hours: int, remote_addr: str = "", user_agent: str = ""
) -> str:
    """Open a server-side session for a user and return its secret token."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_sha256(token),
            expires_at=utcnow() + timedelta(hours=absolute_hours),
            remote_addr=remote_addr[:64],
            user_agent=user_agent[:255],
        )
    )
    session.flush()
    user.session_token = token
    return token


def user_for_session(session: Session, token: str, *, idle_minutes: int) -> User | None:
    """The user behind a live session token; None if it expired, idled out or was revoked."""
    record = session.scalar(
        select(LoginSession)
        .where(LoginSession.token_hash == _sha256(token))
        .options(
            selectinload(LoginSession.user).selectinload(User.programmes),
            selectinload(LoginSession.user).selectinload(User.org_units),
        )
    )
    now = utcnow()
    if record is None or record.revoked_at is not None or _aware(record.expires_at) <= now:
        return None
    if _aware(record.last_seen_at) + timedelta(minutes=idle_minutes) <= now:
        return None
    if not record.user.is_active:
        return None
    if (now - _aware(record.last_seen_at)).total_seconds() > 60:
        record.last_seen_at = now
    user = record.user
    user.session_token = token
    return user


def end_login_session(session: Session, token: str) -> None:
    record = session.scalar(select(LoginSession).where(LoginSession.token_hash == _sha256(token)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        session.flush()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def create_token(session: Session, email: str, *, name: str = "", days: int | None = 365) -> IssuedToken:
    """Issue an API token for a user; the secret is returned once and only its hash is kept."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"No user with e-mail {email}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        name=name or "API token",
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_sha256(secret),
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    session.add(record)
    session.flush()
    return IssuedToken(secret, record)


def revoke_token(session: Session, token_id: int) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"No API token with id {token_id}.")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.flush()
    return record


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user behind a live API token, or None."""
    record = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == _sha256(secret))
        .options(
            selectinload(ApiToken.user).selectinload(User.programmes),
            selectinload(ApiToken.user).selectinload(User.org_units),
        )
    )
    now = utcnow()
    if record is None or token_state(record, now) != "active":
        return None
    if not record.user.is_active:
        return None
    if record.last_used_at is None or (now - _aware(record.last_used_at)).total_seconds() > 60:
        record.last_used_at = now
    return record.user


def load_user(session: Session, email: str) -> User:
    """A user by e-mail with the scopes loaded (for the CLI and jobs)."""
    user = session.scalar(
        select(User).where(User.email == normalise_email(email))
        .options(selectinload(User.programmes), selectinload(User.org_units))
    )
    if user is None:
        raise NotFound(f"No user with e-mail {email}.")
    return user


@dataclass
class SystemActor:
    """Who acts when the command line runs without --as: secretariat rights, no account."""

    id: int | None = None
    role: str = "secretariat"
    email: str = "system"
    role_label: str = "System"
    programmes: tuple = ()
    org_units: tuple = ()


def system_actor() -> SystemActor:
    return SystemActor()
