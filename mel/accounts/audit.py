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
    "sign_in.password": "Password accepted (code next)",
    "sign_in.2fa": "Signed in with a second factor",
    "sign_in.2fa_failed": "Second-factor code refused",
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
    "user.2fa_enabled": "Two-factor sign-in turned on",
    "user.2fa_disabled": "Two-factor sign-in turned off",
    "user.2fa_reset": "Two-factor sign-in reset",
    "user.2fa_codes": "Recovery codes renewed",
    "password_reset.requested": "Password reset requested",
    "password_reset.refused": "Password link refused",
    "report.published": "Report published",
    "report.commentary": "Report commentary written",
    "action.created": "Report action recorded",
    "action.updated": "Report action updated",
    "return.reopened": "Return reopened",
    # Administrative catalogue changes: a `catalogue.` action keeps the object from the seed
    # (mel/catalogue/operations.py admin_object).
    "catalogue.rule_created": "Validation rule created",
    "catalogue.rule_changed": "Validation rule changed",
    "catalogue.rule_retired": "Validation rule retired",
    "catalogue.rule_reactivated": "Validation rule reactivated",
    "catalogue.indicator_created": "Indicator created",
    "catalogue.indicator_changed": "Indicator changed (new version)",
    "catalogue.indicator_translated": "Indicator's Kiswahili text changed (same version)",
    "catalogue.indicator_retired": "Indicator retired",
    "catalogue.indicator_reactivated": "Indicator reactivated",
    "catalogue.form_changed": "Reporting form changed",
    "catalogue.window_exception_added": "Window exception granted",
    "catalogue.window_exception_removed": "Window exception removed",
    "catalogue.form_contents_changed": "Reporting form indicators or org units changed (from a quarter on)",
    "catalogue.programme_created": "Programme created",
    "catalogue.programme_changed": "Programme changed",
    "catalogue.category_created": "Disaggregation category created",
    "catalogue.category_changed": "Disaggregation category changed",
    "catalogue.category_deleted": "Disaggregation category deleted",
    "catalogue.option_retired": "Category option retired",
    "catalogue.option_reactivated": "Category option reactivated",
    "catalogue.option_deleted": "Category option deleted",
    "catalogue.set_created": "Disaggregation set created",
    "catalogue.set_changed": "Disaggregation set changed",
    "catalogue.set_deleted": "Disaggregation set deleted",
    # The learning agenda and the evidence register (mel/learning).
    "evidence.created": "Evidence added",
    "evidence.updated": "Evidence changed",
    "evidence.withdrawn": "Evidence withdrawn",
    "question.created": "Learning question added",
    "question.updated": "Learning question changed",
    # MERL TWG meetings and their actions (mel/meetings).
    "meeting.created": "TWG meeting recorded",
    "meeting.updated": "TWG meeting changed",
    "meeting_action.created": "TWG action added",
    "meeting_action.updated": "TWG action changed",
    "meeting_action.reminded": "TWG action owner reminded",
    # The reporting guidelines handbook (mel/guidelines).
    "handbook.edition_requested": "Handbook edition asked for",
    "handbook.edition_made": "Handbook edition made",
    # The queue's failed list (the admin jobs page).
    "queue.job_retried": "Failed background job tried again",
    "queue.job_removed": "Failed background job removed",
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


def record_changes(session: Session, action: str, row, *, actor, object: str,  # noqa: A002 - the audit's own word
                   before: dict, after: dict, details: dict | None = None) -> list[str]:
    """A row's change, audited once: the fields of `after` that differ from `before`; when some do, the row is
    stamped changed by `actor` (its updated_by_id and updated_at), flushed, and the event keeps those fields
    before and after (beside `details`). Nothing changed: nothing stamped or recorded."""
    from mel.db import utcnow

    changed = [name for name in after if after[name] != before.get(name)]
    if changed:
        row.updated_by_id, row.updated_at = actor.id, utcnow()
        session.flush()
        record(session, action, actor=actor, object=object,
               details={**(details or {}), "before": {n: before.get(n) for n in changed},
                        "after": {n: after[n] for n in changed}})
    return changed


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    pages: int
    total: int


def _filtered(*, action: str = "", actor: str = "", object_: str = "", since=None, until=None):
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor.contains(actor.strip().lower(), autoescape=True))
    if object_:
        query = query.where(AuditEvent.object.contains(object_.strip(), autoescape=True))
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    return query


def events(session: Session, *, action: str = "", actor: str = "", object_: str = "", since=None, until=None,
           page: int = 1, per_page: int = 50) -> AuditPage:
    """The audit, newest first, filtered by action, the actor's e-mail and the object (parts of them) and
    a time span [since, until)."""
    query = _filtered(action=action, actor=actor, object_=object_, since=since, until=until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    )
    return AuditPage(list(rows), page, pages, total)


def all_events(session: Session, **filters):
    """Every event the filters select, oldest first, streamed (the CSV export)."""
    query = _filtered(**filters).order_by(AuditEvent.occurred_at, AuditEvent.id)
    yield from session.scalars(query.execution_options(yield_per=500))


def changes(details: dict) -> list[tuple[str, str, str]]:
    """(field, before, after) of the fields an administrative change altered (its details' before/after)."""
    before, after = details.get("before"), details.get("after")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return [(key, _text(before.get(key)), _text(after.get(key))) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


def _text(value) -> str:
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
