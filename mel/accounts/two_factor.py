"""Optional two-factor sign-in: a time-based one-time code (RFC 6238, pyotp) after the password.

A person turns it on from their account page: the page shows a QR code (segno) and the secret
for an authenticator app, and it is on once a code from the app is accepted. Ten recovery codes
are shown once, for a lost phone; each works once and only their SHA-256 is kept. A code is
accepted once (the last accepted time step is stored), and wrong codes count as failed sign-ins,
so the sign-in throttle (operations.throttle_wait) slows guessing exactly as it slows passwords.

`MEL_REQUIRE_2FA=secretariat` (or `all`) makes it required: such a person, signed in with their
password, can only set it up until it is on. The secretariat can reset a person's second factor
(a lost phone with no recovery code left): it is off again and their sessions end.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from indicators.messages import N_, Joined, Message, message, text
from mel.accounts import audit
from mel.accounts.models import RecoveryCode, SignInAttempt, User
from mel.accounts.operations import SIGN_IN_REFUSED, SignInPolicy, normalise_email, throttle_wait
from mel.db import utcnow
from mel.errors import Conflict, Unauthorized, ValidationFailed

ISSUER = "Kenya SP MEL"
RECOVERY_CODES = 10
PENDING_SECONDS = 300  # the second step must follow the password within five minutes
WRONG_CODE = text(message(N_("That code is not right. Enter the 6-digit code your authenticator app shows now, or one "
                              "of your recovery codes.")))
CODE = N_("code")  # the form field a message starts with ("code: …")
_DIGITS = re.compile(r"^\d{6}$")
_RECOVERY = re.compile(r"^[0-9a-f]{5}-?[0-9a-f]{5}$")


def required_for(user: User, setting: str) -> bool:
    """Whether `MEL_REQUIRE_2FA` asks this person for a second factor."""
    setting = (setting or "").strip().lower()
    return setting == "all" or (setting == "secretariat" and user.role == "secretariat")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


QR_TITLE = N_("QR code for your authenticator app")


def qr_svg(uri: str, title: str = QR_TITLE) -> str:
    """The otpauth:// link as an inline SVG QR code (no script, no image request); `title` names it
    (the page passes it in its language)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff", omitsize=True, title=title)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _step_for(secret: str, code: str, now: float) -> int | None:
    """The time step whose code this is (this step or the one either side, for clock drift)."""
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def _new_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
    session.flush()
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def enable(session: Session, user: User, secret: str, code: str, *, now: float | None = None) -> list[str]:
    """Turn two-factor sign-in on once a code from the app matches `secret`; the recovery codes, once."""
    if user.has_two_factor:
        raise Conflict(text(message(N_("Two-factor sign-in is already on for your account."))))
    code = (code or "").replace(" ", "")
    if not secret or not _DIGITS.match(code):
        raise ValidationFailed(text(message(N_("code: enter the 6-digit code your authenticator app shows for this "
                                               "account."))))
    step = _step_for(secret, code, time.time() if now is None else now)
    if step is None:
        raise ValidationFailed(text(message(N_(
            "code: that code does not match. Check that the app added the account from this page's QR code (or "
            "secret) and that the phone's clock is right, then try the code it shows now."))))
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), step
    codes = _new_codes(session, user)
    audit.record(session, "user.2fa_enabled", actor=user, object=user.email)
    return codes


def regenerate_codes(session: Session, user: User, code: str, *, now: float | None = None) -> list[str]:
    """New recovery codes (the old ones stop working); needs a current code from the app."""
    if not user.has_two_factor:
        raise Conflict(text(message(N_("Two-factor sign-in is off for your account: turn it on first."))))
    _check_app_code(user, code, time.time() if now is None else now)
    codes = _new_codes(session, user)
    audit.record(session, "user.2fa_codes", actor=user, object=user.email)
    return codes


def _check_app_code(user: User, code: str, now: float) -> None:
    code = (code or "").replace(" ", "")
    step = _step_for(user.totp_secret or "", code, now) if _DIGITS.match(code) else None
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        raise ValidationFailed(text(Joined(": ", (Message(CODE), WRONG_CODE))))
    user.totp_last_step = step


def _turn_off(session: Session, user: User) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()


def disable(session: Session, user: User, code: str, *, now: float | None = None) -> None:
    """Turn one's own second factor off (needs a current code or a recovery code)."""
    if not user.has_two_factor:
        raise Conflict(text(message(N_("Two-factor sign-in is already off for your account."))))
    if not _accept(session, user, code, time.time() if now is None else now):
        raise ValidationFailed(text(Joined(": ", (Message(CODE), WRONG_CODE))))
    _turn_off(session, user)
    audit.record(session, "user.2fa_disabled", actor=user, object=user.email)


def reset(session: Session, user: User, *, actor, reason: str) -> None:
    """The secretariat turns someone's second factor off (lost phone and codes); their sessions end."""
    from mel.accounts.self_service import end_sessions

    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(text(message(N_("reason: say why the second factor is reset (e.g. 'lost phone, "
                                               "identity checked by call')."))))
    if not user.has_two_factor:
        raise Conflict(text(message(N_("%(email)s has no second factor to reset."), email=user.email)))
    _turn_off(session, user)
    ended = end_sessions(session, user)
    audit.record(session, "user.2fa_reset", actor=actor, object=user.email,
                 details={"reason": reason[:500], "sessions_ended": ended})


def _accept(session: Session, user: User, code: str, now: float) -> bool:
    """A current app code (each time step once) or an unused recovery code (used up)."""
    code = (code or "").strip().replace(" ", "").lower()
    if _DIGITS.match(code):
        step = _step_for(user.totp_secret or "", code, now)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return False
        user.totp_last_step = step
        return True
    if _RECOVERY.match(code):
        row = session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                        RecoveryCode.code_hash == _hash(code),
                                                        RecoveryCode.used_at.is_(None)))
        if row is None:
            return False
        row.used_at = utcnow()
        return True
    return False


@dataclass(frozen=True)
class Pending:
    """The first step passed: who, since when (epoch seconds), where to go next."""

    user_id: int
    since: float
    next: str = ""

    def as_cookie(self) -> dict:
        return {"user": self.user_id, "since": self.since, "next": self.next}

    @classmethod
    def from_cookie(cls, value) -> Pending | None:
        if not isinstance(value, dict):
            return None
        try:
            pending = cls(int(value["user"]), float(value["since"]), str(value.get("next") or ""))
        except (KeyError, TypeError, ValueError):
            return None
        return pending if 0 <= time.time() - pending.since <= PENDING_SECONDS else None


def verify(session: Session, pending: Pending, code: str, *, remote_addr: str = "",
           policy: SignInPolicy | None = None, checkpoint=None, now: float | None = None) -> User:
    """The second step of sign-in. A wrong code is a failed sign-in attempt (throttled like passwords)."""
    policy = policy or SignInPolicy()
    checkpoint = checkpoint or session.flush
    user = session.get(User, pending.user_id)
    if user is None or not user.is_active or not user.has_two_factor:
        raise Unauthorized(SIGN_IN_REFUSED)
    attempt = SignInAttempt(email=normalise_email(user.email), remote_addr=remote_addr[:64], outcome="pending",
                            attempted_at=utcnow())
    session.add(attempt)
    session.flush()
    checkpoint()
    wait = throttle_wait(session, attempt, policy, utcnow())
    if wait > 0:
        attempt.outcome = "throttled"
        audit.record(session, "sign_in.throttled", actor=user, object=user.email, remote_addr=remote_addr,
                     details={"wait_seconds": round(wait, 1), "step": "second factor"})
        checkpoint()
        raise Unauthorized(text(message(N_("Too many wrong codes: wait %(seconds)s seconds and try again."),
                                        seconds=f"{wait:.0f}")))
    if not _accept(session, user, code, time.time() if now is None else now):
        attempt.outcome = "failure"
        audit.record(session, "sign_in.2fa_failed", actor=user, object=user.email, remote_addr=remote_addr)
        session.flush()
        raise Unauthorized(WRONG_CODE)
    attempt.outcome = "success"
    audit.record(session, "sign_in.2fa", actor=user, object=user.email, remote_addr=remote_addr,
                 details={"recovery_codes_left": recovery_codes_left(session, user)})
    session.flush()
    return user
