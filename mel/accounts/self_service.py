"""People getting in on their own: invitations, forgotten passwords, one's own password and tokens.

Writes flush and never commit; e-mails are queued on the unit of work (mel/accounts/mail.py) and
leave after the entry point's commit. Links come from mel/accounts/links.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash

from indicators.messages import N_, message, text
from mel.accounts import audit, links, mail
from mel.accounts.models import ROLES, ApiToken, AuditEvent, LoginSession, User
from mel.accounts.operations import (
    _DUMMY_HASH,
    _org_units,
    _programmes,
    _sha256,
    create_user,
    normalise_email,
    revoke_token,
    set_password,
    token_state,
)
from mel.db import utcnow
from mel.errors import Conflict, NotFound, ValidationFailed
from mel.i18n import recipient_language

LinkFor = Callable[[str], str]  # a link token -> the absolute address of its page


def no_user(user_id: int) -> NotFound:
    return NotFound(text(message(N_("No user with id %(id)s."), id=user_id)))


def request_password_reset(session: Session, config, email: str, *, link_for: LinkFor) -> None:
    """E-mail a reset link to an active account with this address; say nothing either way.

    The caller shows the same page whatever happens; the e-mail leaves from a background thread so
    the answer takes the same time. At most PASSWORD_RESET_MAX_PER_HOUR e-mails go to one address.
    """
    address = normalise_email(email)[:254]
    user = session.scalar(select(User).where(User.email == address))
    since = utcnow() - timedelta(hours=1)
    recent = session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "password_reset.requested", AuditEvent.object == address,
        AuditEvent.occurred_at >= since)) or 0
    eligible = user is not None and user.is_active
    sends = eligible and recent < int(config["PASSWORD_RESET_MAX_PER_HOUR"])
    audit.record(session, "password_reset.requested", actor=user, actor_email=address, object=address,
                 details={"known_account": user is not None, "e-mailed": bool(sends)})
    if not sends:
        return
    hours = links.valid_hours(config, "reset")
    mail.queue(session, config, to=user.email, subject=_l("Reset your Kenya SP MEL password"),
               template="password_reset", background=True, user=user, language=recipient_language(user),
               link=link_for(links.make(config, "reset", user)), hours=hours)


def user_for_link(session: Session, config, purpose: str, token: str) -> User:
    """The user a link was made for; raises links.LinkRefused (and records it) when it is refused."""
    try:
        return links.read(session, config, purpose, token)
    except links.LinkRefused as refused:
        audit.record(session, "password_reset.refused", actor_email="anonymous", object=purpose,
                     details={"reason": refused.reason})
        raise


def set_password_from_link(session: Session, config, purpose: str, token: str, password: str) -> User:
    """Set the password a reset or invitation link was made for; the link stops working, and every
    signed-in session of the user is ended (a reset usually means someone else may know the old one)."""
    user = user_for_link(session, config, purpose, token)
    set_password(session, user, password, int(config["PASSWORD_MIN_LENGTH"]), actor=user,
                 how="invitation link" if purpose == "invitation" else "reset link")
    end_sessions(session, user)
    session.flush()
    return user


def end_sessions(session: Session, user: User, *, keep_token: str | None = None) -> int:
    """End the user's live web sessions (all, or all but the one with `keep_token`)."""
    query = update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(LoginSession.token_hash != _sha256(keep_token))
    result = session.execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def invite_user(session: Session, config, *, email: str, name: str, role: str, programme_codes=(),
                org_unit_codes=(), actor, link_for: LinkFor) -> User:
    """Create a user without a password and e-mail an invitation to set one."""
    if not name.strip():
        raise ValidationFailed(text(message(N_("Give the person's name: the invitation greets them by it."))))
    user = create_user(session, email, role, name=name.strip(), programme_codes=list(programme_codes),
                       org_unit_codes=list(org_unit_codes), actor=actor)
    audit.record(session, "user.invited", actor=actor, object=user.email, details={"role": role})
    _queue_invitation(session, config, user, actor=actor, link_for=link_for)
    return user


def resend_invitation(session: Session, config, user_id: int, *, actor, link_for: LinkFor) -> User:
    """E-mail a fresh invitation to a user who has not set a password yet."""
    user = session.get(User, user_id)
    if user is None:
        raise no_user(user_id)
    if user.password_hash:
        raise Conflict(text(message(N_("%(email)s has already set a password: there is no invitation to re-send."),
                                    email=user.email)))
    if not user.is_active:
        raise Conflict(text(message(N_("%(email)s is deactivated: reactivate the account before inviting again."),
                                    email=user.email)))
    _queue_invitation(session, config, user, actor=actor, link_for=link_for)
    return user


def set_account_active(session: Session, user_id: int, *, active: bool, reason: str, actor) -> User:
    """Deactivate (every session ends; tokens and passwords stop working) or reactivate an account."""
    user = session.get(User, user_id)
    if user is None:
        raise no_user(user_id)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(text(message(
            N_("Say why %(email)s is reactivated: the reason is kept in the audit log.") if active else
            N_("Say why %(email)s is deactivated: the reason is kept in the audit log."), email=user.email)))
    if not active and getattr(actor, "id", None) == user.id:
        raise Conflict(text(message(N_("You cannot deactivate your own account: ask another member of the "
                                       "secretariat."))))
    if user.is_active == active:
        raise Conflict(text(message(N_("%(email)s is already active.") if active else
                                    N_("%(email)s is already deactivated."), email=user.email)))
    user.is_active = active
    ended = 0 if active else end_sessions(session, user)
    audit.record(session, "user.reactivated" if active else "user.deactivated", actor=actor, object=user.email,
                 details={"reason": reason[:500], "sessions_ended": ended})
    session.flush()
    return user


def change_access(session: Session, user_id: int, *, actor, reason: str, role: str | None = None,
                  name: str | None = None, agency: str | None = None, programme_codes=None,
                  org_unit_codes=None) -> User:
    """Change a person's role, name, agency or scope (programmes × org units), with a reason.

    The audit keeps what it was and what it became. Scopes take effect at the person's next request
    (every request reads them). No one changes their own role, and the last active member of the
    secretariat stays one, so the service always has someone who can administer it.
    """
    user = session.scalar(select(User).where(User.id == user_id)
                          .options(selectinload(User.programmes), selectinload(User.org_units)))
    if user is None:
        raise no_user(user_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(text(message(N_("reason: say why the access of %(email)s changes (kept in the audit "
                                               "log)."), email=user.email)))
    before = _access(user)
    if role is not None and role != user.role:
        if role not in ROLES:
            raise ValidationFailed(text(message(N_("role: %(role)s is not one of %(roles)s."), role=repr(role),
                                                roles=", ".join(ROLES))))
        if getattr(actor, "id", None) == user.id:
            raise Conflict(text(message(N_("You cannot change your own role: ask another member of the "
                                           "secretariat."))))
        if user.role == "secretariat" and _other_secretariat(session, user) == 0:
            raise Conflict(text(message(N_("%(email)s is the last active member of the secretariat: give someone "
                                           "else the role first."), email=user.email)))
        user.role = role
    if name is not None:
        if not name.strip():
            raise ValidationFailed(text(message(N_("name: give the person's name."))))
        user.name = name.strip()[:200]
    if agency is not None:
        user.agency = agency.strip()[:200]
    if programme_codes is not None:
        user.programmes = _programmes(session, list(programme_codes))
    if org_unit_codes is not None:
        user.org_units = _org_units(session, list(org_unit_codes))
    if user.role == "officer" and not (user.programmes and user.org_units):
        raise ValidationFailed(text(message(N_("programmes: an officer needs at least one programme and one org "
                                               "unit, the returns they enter."))))
    after = _access(user)
    if after == before:
        raise Conflict(text(message(N_("Nothing changes for %(email)s: the form holds their current access."),
                                    email=user.email)))
    session.flush()
    audit.record(session, "user.role_changed", actor=actor, object=user.email,
                 details={"reason": reason[:500], "before": before, "after": after})
    return user


def _access(user: User) -> dict:
    return {"role": user.role, "name": user.name, "agency": user.agency,
            "programmes": sorted(p.code for p in user.programmes), "org_units": sorted(u.code for u in user.org_units)}


def _other_secretariat(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(User).where(
        User.role == "secretariat", User.is_active.is_(True), User.id != user.id)) or 0


def sign_out_everywhere(session: Session, user_id: int, *, actor) -> tuple[User, int]:
    """End every web session of a user (a lost phone, a shared computer); API tokens are revoked apart."""
    user = session.get(User, user_id)
    if user is None:
        raise no_user(user_id)
    ended = end_sessions(session, user)
    audit.record(session, "user.signed_out", actor=actor, object=user.email, details={"sessions_ended": ended})
    session.flush()
    return user, ended


def _queue_invitation(session: Session, config, user: User, *, actor, link_for: LinkFor) -> None:
    hours = links.valid_hours(config, "invitation")
    audit.record(session, "user.invitation_sent", actor=actor, object=user.email, details={"valid_hours": hours})
    mail.queue(session, config, to=user.email, subject=_l("You are invited to Kenya SP MEL"), template="invitation",
               user=user, inviter=getattr(actor, "display_name", None) or _l("The secretariat"),
               language=recipient_language(user), link=link_for(links.make(config, "invitation", user)), hours=hours)


def change_own_password(session: Session, config, user: User, current: str, new: str, *,
                        keep_token: str | None = None) -> None:
    """Change one's own password: the current one is required; other signed-in sessions end."""
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        if not user.password_hash:
            check_password_hash(_DUMMY_HASH, current or "")
        raise ValidationFailed(text(message(N_("The current password is not correct."))))
    if current == new:
        raise ValidationFailed(text(message(N_("The new password is the same as the current one: choose another."))))
    set_password(session, user, new, int(config["PASSWORD_MIN_LENGTH"]), actor=user, how="changed by its owner")
    end_sessions(session, user, keep_token=keep_token)
    session.flush()


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    state: str


def own_tokens(session: Session, user: User) -> list[TokenRow]:
    """The user's API tokens, newest first, with their state."""
    now = utcnow()
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                           .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [TokenRow(t.id, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at, token_state(t, now))
            for t in rows]


def revoke_own_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; another user's token is "not found" (nothing to tell)."""
    record = session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise NotFound(text(message(N_("You have no API token with id %(id)s."), id=token_id)))
    return revoke_token(session, token_id, actor=user)


def people(session: Session) -> list[User]:
    """Every user, by role and e-mail, with their scopes loaded (the secretariat's list)."""
    return list(session.scalars(select(User).order_by(User.role, User.email)
                                .options(selectinload(User.programmes), selectinload(User.org_units))))


def account_state(user: User) -> str:
    """"invited" (no password yet), "deactivated" or "active"."""
    if not user.is_active:
        return "deactivated"
    return "active" if user.password_hash else "invited"
