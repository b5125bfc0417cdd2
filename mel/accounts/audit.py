"""The audit of sign-ins, tokens and administrative actions: one row per event, read by the secretariat."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.accounts.models import AuditEvent, User

# The actions recorded, in the words the audit page shows.
ACTIONS = {
    "sign_in": "Signed in",
    "sign_in.failed": "Sign-in failed",
    "sign_in.throttled": "Sign-in throttled",
    "sign_out": "Signed out",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "user.created": "User created",
    "user.password_set": "Password set",
    "user.role_changed": "Role or scope changed",
    "user.invited": "User invited",
    "user.invitation_sent": "Invitation e-mailed",
    "user.deactivated": "Account deactivated",
    "user.reactivated": "Account reactivated",
    "user.signed_out": "Signed out everywhere",
    "password_reset.requested": "Password reset requested",
    "password_reset.refused": "Password link refused",
    "report.published": "Report published",
    "return.reopened": "Return reopened",
}


def _client_address() -> str:
    """The requesting address when there is a request (web, API); empty for the CLI and jobs."""
    from flask import has_request_context, request

    return (request.remote_addr or "") if has_request_context() else ""


def record(
    session: Session,
    action: str,
    *,
    actor=None,
    object: str = "",  # noqa: A002 - the audit's own word
    details: dict | None = None,
    remote_addr: str | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """Add an audit event; `actor` is a User, the system actor or None (then `actor_email` names it)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    actor_id = getattr(actor, "id", None) if isinstance(actor, User) else None
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        actor=(getattr(actor, "email", "") or actor_email or "system")[:254],
        object=str(object)[:200],
        remote_addr=(_client_address() if remote_addr is None else remote_addr)[:64],
        details=details or {},
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    pages: int
    total: int


def events(session: Session, *, action: str = "", actor: str = "", page: int = 1, per_page: int = 50) -> AuditPage:
    """The audit, newest first, filtered by action and by the actor's e-mail (part of it)."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor.contains(actor.strip().lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    )
    return AuditPage(list(rows), page, pages, total)
