"""Writes for accounts: users, passwords, login sessions, API tokens. Callers commit."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from indicators.messages import N_, Message, message, text
from mel.accounts import audit
from mel.accounts.models import ROLES, ApiToken, LoginSession, SignInAttempt, User
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


# zxcvbn's warnings (its feedback.py), as the password policy quotes them: lower case, no full stop.
PASSWORD_HINTS = frozenset((
    N_("it follows a common pattern"), N_("straight rows of keys are easy to guess"),
    N_("short keyboard patterns are easy to guess"), N_('repeats like "aaa" are easy to guess'),
    N_('repeats like "abcabcabc" are only slightly harder to guess than "abc"'),
    N_('sequences like "abc" or "6543" are easy to guess'), N_("recent years are easy to guess"),
    N_("dates are often easy to guess"), N_("this is a top-10 common password"),
    N_("this is a top-100 common password"), N_("this is a very common password"),
    N_("this is similar to a commonly used password"), N_("a word by itself is easy to guess"),
    N_("names and surnames by themselves are easy to guess"), N_("common names and surnames are easy to guess"),
))


def check_password_policy(password: str, min_length: int = 12, user_inputs: tuple[str, ...] = ()) -> None:
    """Length (ASVS 2.1.1/2.1.2: at least min_length, at most 128 characters) and not a common or
    easily guessed password (ASVS 2.1.7): zxcvbn's list of the 30,000 most common passwords, with
    its variants (l33t, reversed), and its estimate of the guesses needed."""
    if len(password) < min_length:
        raise ValidationFailed(text(message(N_("The password must have at least %(min_length)s characters."),
                                            min_length=min_length)))
    if len(password) > 128:
        raise ValidationFailed(text(message(N_("The password must have at most 128 characters."))))
    from zxcvbn import zxcvbn

    estimate = zxcvbn(password, user_inputs=[part for part in user_inputs if part])
    whole = [m for m in estimate["sequence"] if m["i"] == 0 and m["j"] == len(password) - 1]
    if any(m.get("dictionary_name") == "passwords" for m in whole):
        raise ValidationFailed(text(message(N_(
            "This password is on the list of the most common passwords: choose another, "
            "e.g. three or four unrelated words."))))
    if estimate["score"] < 2:
        hint = (estimate["feedback"].get("warning") or "it follows a common pattern").rstrip(".").lower()
        raise ValidationFailed(text(message(N_(
            "This password is too easy to guess (%(hint)s): choose another, e.g. three or four unrelated words."),
            hint=Message(hint) if hint in PASSWORD_HINTS else hint)))


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
    actor=None,
) -> User:
    """Create a user with a role and, for officers, the programmes and org units they cover."""
    email = normalise_email(email)
    if "@" not in email:
        raise ValidationFailed(text(message(N_("%(email)s is not an e-mail address."), email=repr(email))))
    if role not in ROLES:
        raise ValidationFailed(text(message(N_("Role %(role)s is not known; use one of %(roles)s."), role=repr(role),
                                            roles=", ".join(ROLES))))
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ValidationFailed(text(message(N_("A user with e-mail %(email)s already exists."), email=email)))
    user = User(email=email, role=role, name=name)
    if password is not None:
        check_password_policy(password, min_password_length, (email, name))
        user.password_hash = generate_password_hash(password)
    user.programmes = _programmes(session, programme_codes)
    user.org_units = _org_units(session, org_unit_codes)
    if role == "officer" and not (user.programmes and user.org_units):
        raise ValidationFailed(text(message(N_(
            "An officer needs at least one programme (--programme) and one org unit (--org-unit)."))))
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor=actor, object=email, details={
        "role": role, "programmes": [p.code for p in user.programmes],
        "org_units": [u.code for u in user.org_units]})
    log.info("user created: %s (%s)", email, role)
    return user


def _programmes(session: Session, codes) -> list[Programme]:
    found = list(session.scalars(select(Programme).where(Programme.code.in_(list(codes)))))
    missing = sorted(set(codes) - {p.code for p in found})
    if missing:
        raise ValidationFailed(text(message(N_("Unknown programme code(s): %(codes)s."), codes=", ".join(missing))))
    return found


def _org_units(session: Session, codes) -> list[OrgUnit]:
    from mel.catalogue.queries import resolve_org_unit

    return [resolve_org_unit(session, code) for code in codes]


def set_password(session: Session, user: User, password: str, min_length: int = 12, *, actor=None,
                 how: str = "") -> None:
    """Give a user a new password (checked against the policy) and record it in the audit."""
    check_password_policy(password, min_length, (user.email, user.name))
    user.password_hash = generate_password_hash(password)
    audit.record(session, "user.password_set", actor=actor, object=user.email,
                 details={"how": how} if how else None)


SIGN_IN_REFUSED = text(message(N_(
    "The e-mail or password is not correct, or there were too many attempts. "
    "Check them and try again in a minute.")))


@dataclass(frozen=True)
class SignInPolicy:
    """How failed sign-ins slow down further password checks (MEL_LOGIN_* settings)."""

    window_minutes: int = 15
    account_free: int = 5
    account_base: float = 2
    account_max: float = 60
    ip_free: int = 20
    ip_base: float = 4
    ip_max: float = 900

    @classmethod
    def from_config(cls, config) -> SignInPolicy:
        return cls(
            window_minutes=int(config["LOGIN_WINDOW_MINUTES"]),
            account_free=int(config["LOGIN_ACCOUNT_FREE_FAILURES"]),
            account_base=float(config["LOGIN_ACCOUNT_BACKOFF_SECONDS"]),
            account_max=float(config["LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS"]),
            ip_free=int(config["LOGIN_IP_FREE_FAILURES"]),
            ip_base=float(config["LOGIN_IP_BACKOFF_SECONDS"]),
            ip_max=float(config["LOGIN_IP_BACKOFF_MAX_SECONDS"]),
        )


def backoff_seconds(failures: int, free: int, base: float, cap: float) -> float:
    """How long after the last failure the next password check waits: 0 within the free
    failures, then base·2^k seconds for the k-th failure beyond them, at most cap."""
    if failures < free:
        return 0.0
    return min(cap, base * 2.0 ** min(failures - free, 60))


def _failures(session: Session, key, value: str, since: datetime, exclude_id: int) -> tuple[int, datetime | None]:
    """Failed or still-running attempts (committed by anyone) for a key since a moment, and the last one's time.

    Running ("pending") attempts count as failures: a parallel attempt can only make this larger.
    """
    count, last = session.execute(
        select(func.count(SignInAttempt.id), func.max(SignInAttempt.attempted_at)).where(
            key == value,
            SignInAttempt.attempted_at >= since,
            SignInAttempt.outcome.in_(("pending", "failure")),
            SignInAttempt.id != exclude_id,
        )
    ).one()
    return int(count), _aware(last)


def throttle_wait(session: Session, attempt: SignInAttempt, policy: SignInPolicy, now: datetime) -> float:
    """Seconds this attempt would still have to wait before its password may be checked (0: check it)."""
    window_start = now - timedelta(minutes=policy.window_minutes)
    last_success = _aware(session.scalar(
        select(func.max(SignInAttempt.attempted_at)).where(
            SignInAttempt.email == attempt.email,
            SignInAttempt.outcome == "success",
            SignInAttempt.attempted_at >= window_start,
        )
    ))
    # The account's count starts again at its owner's last successful sign-in; the address's does not
    # (an attacker signing in to their own account must not clear the address's failures).
    account_since = max(window_start, last_success) if last_success else window_start
    waits = [0.0]
    for key, value, since, free, base, cap in (
        (SignInAttempt.email, attempt.email, account_since, policy.account_free, policy.account_base,
         policy.account_max),
        (SignInAttempt.remote_addr, attempt.remote_addr, window_start, policy.ip_free, policy.ip_base,
         policy.ip_max),
    ):
        if key is SignInAttempt.remote_addr and not value:
            continue
        failures, last = _failures(session, key, value, since, attempt.id)
        delay = backoff_seconds(failures, free, base, cap)
        if delay and last is not None:
            waits.append(delay - (now - last).total_seconds())
    return max(waits)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    remote_addr: str = "",
    policy: SignInPolicy | None = None,
    checkpoint=None,
) -> User:
    """Check an e-mail and password, throttling repeated failures with exponential back-off.

    The attempt is recorded first and `checkpoint` (the entry point's commit) makes it visible to
    parallel attempts before any password is checked, so concurrency can only refuse more, never
    check more. Unknown e-mails, wrong passwords and throttled attempts get the same error, and
    each spends exactly one password-hash check.
    """
    policy = policy or SignInPolicy()
    checkpoint = checkpoint or session.flush
    normalised = normalise_email(email)[:254]
    attempt = SignInAttempt(email=normalised, remote_addr=remote_addr[:64], outcome="pending",
                            attempted_at=utcnow())
    session.add(attempt)
    session.flush()
    checkpoint()
    user = session.scalar(select(User).where(User.email == normalised))
    now = utcnow()
    refused = Unauthorized(SIGN_IN_REFUSED)
    wait = throttle_wait(session, attempt, policy, now)
    if wait > 0:
        attempt.outcome = "throttled"
        audit.record(session, "sign_in.throttled", actor=user, actor_email=normalised, object=normalised,
                     remote_addr=remote_addr, details={"wait_seconds": round(wait, 1)})
        checkpoint()  # a refused attempt stops counting as running at once
        check_password_hash(_DUMMY_HASH, password)  # the same time as a real check
        raise refused
    if user is None or not user.is_active or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)  # the same time as a real check
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password)
    if not ok:
        attempt.outcome = "failure"
        audit.record(session, "sign_in.failed", actor=user, actor_email=normalised, object=normalised,
                     remote_addr=remote_addr, details={"known_account": user is not None})
        session.flush()
        raise refused
    attempt.outcome = "success"
    user.last_login_at = now
    # With two-factor sign-in on, the password is only the first step (mel/accounts/two_factor.py).
    audit.record(session, "sign_in.password" if user.has_two_factor else "sign_in", actor=user, object=user.email,
                 remote_addr=remote_addr)
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


def end_login_session(session: Session, token: str, *, actor=None) -> None:
    record = session.scalar(select(LoginSession).where(LoginSession.token_hash == _sha256(token)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        session.flush()
        audit.record(session, "sign_out", actor=actor, object=getattr(actor, "email", ""))


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def create_token(
    session: Session, email: str, *, name: str = "", days: int | None = 365, actor=None
) -> IssuedToken:
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
    audit.record(session, "token.created", actor=actor, object=f"token #{record.id} of {user.email}",
                 details={"name": record.name, "prefix": record.prefix,
                          "expires_at": record.expires_at.isoformat() if record.expires_at else None})
    return IssuedToken(secret, record)


def revoke_token(session: Session, token_id: int, *, actor=None) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"No API token with id {token_id}.")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.flush()
        audit.record(session, "token.revoked", actor=actor, object=f"token #{record.id}",
                     details={"name": record.name, "prefix": record.prefix})
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
