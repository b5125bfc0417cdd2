"""Recommendations and actions: what a report asked someone to do, followed up quarter by quarter.

An action has a text, an owner, a due quarter and a status (open, in progress, done, dropped), and
remembers the report run and quarter that raised it and its scope (the sector, a programme or a
county). Recommendations typed in a draft report's commentary become actions when the report is
published; the secretariat may also add actions directly. The next reports of the same scope
carry them: the snapshot lists the actions raised before its quarter (`carried`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from indicators.messages import N_, Joined, message
from indicators.messages import text as text_of  # `text` is an action's column here
from mel.accounts import audit
from mel.catalogue.lookup import Catalogue, find_org_unit
from mel.catalogue.models import _in
from mel.db import Base, utcnow
from mel.errors import Forbidden, NotFound, ValidationFailed
from mel.periods import quarter as parse_quarter
from mel.scopes import can_administer, can_read_action
from reports.story import ACTION_SCOPES, ACTION_STATUSES, quarter_label

TEXT_LIMIT = 2000
OWNER_LIMIT = 200


class ReportAction(Base):
    """One recommendation of a report, or an action the secretariat added, and where it stands."""

    __tablename__ = "report_action"
    __table_args__ = (
        CheckConstraint(_in("status", tuple(ACTION_STATUSES)), name="status_known"),
        CheckConstraint(_in("scope", ACTION_SCOPES), name="scope_known"),
        CheckConstraint("text <> ''", name="text_given"),
        Index("ix_report_action_scope", "scope", "scope_code", "raised_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(OWNER_LIMIT), default="")
    due_period: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="open")
    scope: Mapped[str] = mapped_column(String(12), default="sector")
    scope_code: Mapped[str] = mapped_column(String(20), default="KE")  # KE, a programme or a county code
    raised_period: Mapped[str] = mapped_column(String(12))
    raised_run_id: Mapped[int | None] = mapped_column(ForeignKey("report_run.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


def scope_of(kind: str, programme: str, org_unit: str) -> tuple[str, str]:
    """The scope of a report's actions: a programme report's programme, a county profile's county,
    else the sector (the sector report and the fact sheet share theirs)."""
    if kind == "programme":
        return "programme", programme
    if kind == "county":
        return "county", org_unit
    return "sector", "KE"


def _scope_target(catalogue: Catalogue, scope: str, code: str | None):
    """(programme id, org unit) of a scope for permission checks, or ValidationFailed naming the field."""
    if scope not in ACTION_SCOPES:
        raise ValidationFailed(text_of(message(N_("scope: %(scope)s is not one of %(scopes)s."), scope=repr(scope),
                                               scopes=", ".join(ACTION_SCOPES))))
    code = (code or "").strip()
    if scope == "programme":
        programme = catalogue.programmes.get(code.upper())
        if programme is None:
            raise ValidationFailed(text_of(message(N_("scope_code: a programme action needs a programme code "
                                                      "(%(programmes)s); %(code)s is not one."),
                                                   programmes=", ".join(sorted(catalogue.programmes)),
                                                   code=repr(code))))
        return programme.code, programme.id, None
    if scope == "county":
        unit = find_org_unit(catalogue, code)
        if unit is None or unit.level != 2:
            raise ValidationFailed(text_of(message(N_("scope_code: a county action needs a county (042, 42 or "
                                                      "Kisumu); %(code)s is not one."), code=repr(code))))
        return unit.code, None, unit
    return "KE", None, None


def scope_name(catalogue: Catalogue, action: ReportAction):
    """The scope in words: "Sector", a programme's name, "Kisumu County" (a message for the last and the
    first, said in the page's language)."""
    if action.scope == "programme" and action.scope_code in catalogue.programmes:
        return catalogue.programmes[action.scope_code].name
    if action.scope == "county" and action.scope_code in catalogue.org_units:
        return message(N_("%(county)s County"), county=catalogue.org_units[action.scope_code].name)
    return message(N_("Sector"))


def readable(user, catalogue: Catalogue, action: ReportAction) -> bool:
    _, programme_id, unit = _scope_target(catalogue, action.scope, action.scope_code)
    return can_read_action(user, action.scope, programme_id, unit)


def _text(value, field: str, limit: int, required: bool) -> str:
    text = " ".join(str(value or "").split()) if field != "text" else str(value or "").strip()
    if required and not text:
        raise ValidationFailed(text_of(message(N_("%(field)s: write what is to be done; it is empty."), field=field)))
    if len(text) > limit:
        raise ValidationFailed(text_of(message(N_("%(field)s: at most %(limit)s characters; this one has %(count)s."),
                                               field=field, limit=f"{limit:,}", count=f"{len(text):,}")))
    return text


def quarter_in(value, field: str) -> str:
    """A quarter's id, or ValidationFailed whose message starts with the field it came from."""
    try:
        return parse_quarter(str(value), field).id
    except ValidationFailed as error:
        raise ValidationFailed(text_of(Joined(": ", (field, error.message))), error.details) from None


def _due(value) -> str | None:
    if value in (None, ""):
        return None
    return quarter_in(value, "due")


def _status(value) -> str:
    if value not in ACTION_STATUSES:
        raise ValidationFailed(text_of(message(N_("status: %(status)s is not one of %(statuses)s."),
                                               status=repr(value), statuses=", ".join(ACTION_STATUSES))))
    return value


def create(session: Session, catalogue: Catalogue, user, *, text: str, owner: str = "", due: str | None = None,
           status: str = "open", scope: str = "sector", scope_code: str | None = "KE", raised_period: str,
           run_id: int | None = None) -> ReportAction:
    """Record an action (secretariat), flushed."""
    if not can_administer(user):
        raise Forbidden(text_of(message(N_("Only the secretariat records recommendations and actions."))))
    code, _, _ = _scope_target(catalogue, scope, scope_code)
    action = ReportAction(text=_text(text, "text", TEXT_LIMIT, True), owner=_text(owner, "owner", OWNER_LIMIT, False),
                          due_period=_due(due), status=_status(status), scope=scope, scope_code=code,
                          raised_period=quarter_in(raised_period or "", "raised_period"),
                          raised_run_id=run_id, created_by_id=user.id, updated_by_id=user.id,
                          created_at=utcnow(), updated_at=utcnow())
    session.add(action)
    session.flush()
    audit.record(session, "action.created", actor=user, object=f"action {action.id}",
                 details={"scope": f"{scope} {code}", "status": action.status})
    return action


def update(session: Session, user, action: ReportAction, changes: dict) -> ReportAction:
    """Change an action's status, owner, due quarter or text (secretariat), flushed."""
    if not can_administer(user):
        raise Forbidden(text_of(message(N_("Only the secretariat updates recommendations and actions."))))
    before = action.status
    if "status" in changes:
        action.status = _status(changes["status"])
    if "owner" in changes:
        action.owner = _text(changes["owner"], "owner", OWNER_LIMIT, False)
    if "due" in changes:
        action.due_period = _due(changes["due"])
    if "text" in changes:
        action.text = _text(changes["text"], "text", TEXT_LIMIT, True)
    action.updated_at, action.updated_by_id = utcnow(), user.id
    session.flush()
    audit.record(session, "action.updated", actor=user, object=f"action {action.id}",
                 details={"from": before, "to": action.status})
    return action


def get(session: Session, catalogue: Catalogue, user, action_id: int) -> ReportAction:
    action = session.get(ReportAction, action_id)
    if action is None or not readable(user, catalogue, action):
        raise NotFound(text_of(message(N_("No action %(id)s."), id=action_id)))
    return action


def listed(session: Session, catalogue: Catalogue, user, *, status: str | None = None, scope: str | None = None,
           scope_code: str | None = None, period: str | None = None, overdue_at: str | None = None) -> list[ReportAction]:
    """Actions the user may read, newest first, filtered by status, scope, raising quarter or overdue at a quarter."""
    query = select(ReportAction).order_by(ReportAction.raised_period.desc(), ReportAction.id.desc())
    if status:
        query = query.where(ReportAction.status == _status(status))
    if scope or scope_code:
        if not scope:
            raise ValidationFailed(text_of(message(N_("scope_code: name the scope too (scope=programme or "
                                                      "scope=county)."))))
        query = query.where(ReportAction.scope == scope)
        if scope_code:
            code, _, _ = _scope_target(catalogue, scope, scope_code)
            query = query.where(ReportAction.scope_code == code)
    if period:
        query = query.where(ReportAction.raised_period == quarter_in(period, "period"))
    if overdue_at:
        query = query.where(ReportAction.status.in_(("open", "in_progress")),
                            ReportAction.due_period <= quarter_in(overdue_at, "overdue_at"))
    return [a for a in session.scalars(query) if readable(user, catalogue, a)]


def carried(session: Session, *, kind: str, period: str, programme: str, org_unit: str) -> list[dict]:
    """The actions of a report's scope raised in earlier quarters, as they stand now (for its snapshot)."""
    scope, code = scope_of(kind, programme, org_unit)
    rows = session.scalars(select(ReportAction).where(ReportAction.scope == scope, ReportAction.scope_code == code,
                                                      ReportAction.raised_period < period)
                           .order_by(ReportAction.raised_period, ReportAction.id))
    return [{"id": a.id, "text": a.text, "owner": a.owner, "due": a.due_period, "status": a.status,
             "raised_period": a.raised_period} for a in rows]


def raise_recommendations(session: Session, catalogue: Catalogue, user, run, commentary: dict) -> list[ReportAction]:
    """The recommendations of a report being published, recorded as open actions of its scope."""
    scope, code = scope_of(run.kind, run.programme, run.org_unit)
    return [create(session, catalogue, user, text=r["text"], owner=r.get("owner") or "", due=r.get("due"),
                   scope=scope, scope_code=code, raised_period=run.period, run_id=run.id)
            for r in commentary.get("recommendations") or [] if (r.get("text") or "").strip()]


def body(action: ReportAction, emails: dict[int, str] | None = None) -> dict:
    emails = emails or {}
    return {"id": action.id, "text": action.text, "owner": action.owner, "due": action.due_period,
            "due_label": quarter_label(action.due_period), "status": action.status,
            "status_label": ACTION_STATUSES[action.status], "scope": action.scope, "scope_code": action.scope_code,
            "raised_period": action.raised_period, "raised_run_id": action.raised_run_id,
            "created_at": action.created_at.isoformat() if action.created_at else None,
            "updated_at": action.updated_at.isoformat() if action.updated_at else None,
            "updated_by": emails.get(action.updated_by_id or 0, "system")}
