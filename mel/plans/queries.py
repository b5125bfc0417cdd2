"""Reads of plans as plain data for pages, the API and (later) reports."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.periods import parse_period
from mel.accounts.models import User
from mel.catalogue.models import Indicator, OrgUnit
from mel.converters import is_digits
from mel.plans import operations
from mel.plans.models import (
    WORKING_GROUPS,
    Activity,
    ActivityUpdate,
    ActivityUpdateChange,
    Pmp,
    PmpLine,
    PmpVersion,
    Target,
    WorkPlan,
)
from mel.web.filters import plain


def _emails(session: Session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.email)).all())


def pmp_list(session: Session, *, fiscal_year: str | None = None, scope: str | None = None) -> list[dict]:
    query = select(Pmp).options(selectinload(Pmp.versions)).order_by(Pmp.fiscal_year.desc(), Pmp.scope)
    if fiscal_year:
        query = query.where(Pmp.fiscal_year == parse_period(fiscal_year).id)
    if scope:
        query = query.where(Pmp.scope == scope.upper())
    emails = _emails(session)
    return [{
        "scope": pmp.scope, "fiscal_year": pmp.fiscal_year, "fiscal_year_label": parse_period(pmp.fiscal_year).label,
        "title": pmp.title, "current_version": pmp.current_version,
        "versions": [{"number": v.number, "reason": v.reason, "created_at": v.created_at.isoformat(),
                      "created_by": emails.get(v.created_by_id, "system"), "channel": v.channel}
                     for v in pmp.versions],
    } for pmp in session.scalars(query)]


def pmp_body(session: Session, pmp: Pmp, number: int | None) -> dict:
    version = operations.load_version(session, pmp, number)
    emails = _emails(session)
    fy = parse_period(pmp.fiscal_year)
    periods = [q.id for q in fy.quarters()] + [fy.id]
    lines = []
    for line in version.lines if version else []:
        by_unit: dict[str, dict[str, str]] = {}
        for target in line.targets:
            by_unit.setdefault(target.org_unit.code, {})[target.period] = plain(target.value)
        lines.append({
            "indicator": line.indicator.code, "indicator_name": line.indicator.name,
            "unit": line.indicator.unit, "time_aggregation": line.indicator.time_aggregation,
            "baseline_value": plain(line.baseline_value) or None, "baseline_period": line.baseline_period,
            "collection_method": line.collection_method, "frequency": line.frequency,
            "responsible": line.responsible, "notes": line.notes,
            "targets": [{"org_unit": unit, "period": p, "value": values[p]}
                        for unit, values in sorted(by_unit.items()) for p in periods if p in values],
        })
    return {
        "scope": pmp.scope, "fiscal_year": pmp.fiscal_year, "fiscal_year_label": fy.label, "title": pmp.title,
        "version": version.number if version else 0, "current_version": pmp.current_version,
        "reason": version.reason if version else "", "created_at": version.created_at.isoformat() if version else None,
        "created_by": emails.get(version.created_by_id, "system") if version else None,
        "periods": periods, "lines": lines, "mismatches": operations.mismatches(version),
    }


def targets(session: Session, *, indicator: str | None, scope: str | None, org_unit: str | None,
            period: str | None) -> list[dict]:
    """Targets of each plan's current version (what compilation and reports compare against)."""
    query = (
        select(Target.value, Target.period, OrgUnit.code, Indicator.code, Pmp.scope, Pmp.fiscal_year,
               PmpVersion.number, PmpLine.baseline_value, PmpLine.baseline_period)
        .join(PmpLine, PmpLine.id == Target.line_id)
        .join(PmpVersion, PmpVersion.id == PmpLine.version_id)
        .join(Pmp, (Pmp.id == PmpVersion.pmp_id) & (Pmp.current_version == PmpVersion.number))
        .join(Indicator, Indicator.id == PmpLine.indicator_id)
        .join(OrgUnit, OrgUnit.id == Target.org_unit_id)
        .order_by(Pmp.scope, Indicator.code, OrgUnit.code, Target.period)
    )
    if indicator:
        query = query.where(Indicator.code == indicator.upper())
    if scope:
        query = query.where(Pmp.scope == scope.upper())
    if org_unit:
        code = org_unit.zfill(3) if is_digits(org_unit) else org_unit.upper()
        query = query.where(OrgUnit.code == code)
    if period:
        query = query.where(Target.period == period)
    return [{"indicator": ind, "programme": sc, "fiscal_year": fy, "pmp_version": number, "org_unit": unit,
             "period": per, "value": plain(value), "baseline_value": plain(base) or None, "baseline_period": base_p}
            for value, per, unit, ind, sc, fy, number, base, base_p in session.execute(query)]


def workplan_activities(session: Session, plan: WorkPlan) -> list[Activity]:
    return list(session.scalars(
        select(Activity).where(Activity.plan_id == plan.id)
        .options(selectinload(Activity.indicators), selectinload(Activity.updates),
                 selectinload(Activity.results_node))
        .order_by(Activity.code)))


def progress_body(update: ActivityUpdate) -> dict:
    return {"period": update.period, "status": update.status, "status_label": update.status_label,
            "percent_complete": update.percent_complete, "spend_to_date": plain(update.spend_to_date),
            "note": update.note, "version": update.version, "updated_at": update.updated_at.isoformat()}


def workplan_body(session: Session, plan: WorkPlan) -> dict:
    activities = workplan_activities(session, plan)
    return {
        "fiscal_year": plan.fiscal_year, "fiscal_year_label": parse_period(plan.fiscal_year).label,
        "title": plan.title,
        "activities": [{
            "code": a.code, "title": a.title, "working_group": a.working_group,
            "working_group_name": WORKING_GROUPS[a.working_group], "lead_agency": a.lead_agency,
            "partners": a.partners, "budget_kes": plain(a.budget_kes), "funding_source": a.funding_source,
            "planned_quarters": a.quarters, "results_node": a.results_node.code if a.results_node else None,
            "indicators": [i.code for i in a.indicators],
            "progress": [progress_body(u) for u in a.updates],
        } for a in activities],
    }


def activity_history(session: Session, activity: Activity) -> list[dict]:
    emails = _emails(session)
    rows = session.execute(
        select(ActivityUpdateChange, ActivityUpdate.period)
        .join(ActivityUpdate, ActivityUpdate.id == ActivityUpdateChange.update_id)
        .where(ActivityUpdate.activity_id == activity.id)
        .order_by(ActivityUpdateChange.changed_at.desc(), ActivityUpdateChange.id.desc())
    ).all()
    return [{"at": c.changed_at, "period": period, "field": c.field, "old": c.old_value, "new": c.new_value,
             "who": emails.get(c.changed_by_id, "system"), "channel": c.channel, "version": c.version}
            for c, period in rows]
