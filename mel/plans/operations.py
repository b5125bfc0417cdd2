"""Writes for plans: revise a PMP (a new version, all or nothing), record work-plan progress.

Each refusal's words are a message (indicators/messages.py): English text, which the API sends as it
is and the pages say in the reader's language; codes, titles, files, sheets and cells stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from indicators.messages import N_, Joined, Words, message, period_label, text
from indicators.periods import PeriodError, PeriodType, parse_period
from indicators.validation import Issue, describe, duplicate_issues, parse_numbers, value_issues
from mel.catalogue.lookup import Catalogue, find_org_unit
from mel.catalogue.models import Indicator, Programme
from mel.db import utcnow
from mel.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from mel.periods import financial_year
from mel.plans.models import (
    ACTIVITY_STATUSES,
    SECTOR,
    Activity,
    ActivityUpdate,
    ActivityUpdateChange,
    Pmp,
    PmpLine,
    PmpVersion,
    Target,
    WorkPlan,
)
from mel.scopes import can_administer, can_record_progress, progress_refusal

LINE_FIELDS = ("baseline_value", "baseline_period", "collection_method", "frequency", "responsible", "notes")
TARGET_COLUMNS = ["indicator", "org_unit", "period", "value", "file", "sheet", "row", "column"]
# Refusals the pages give too (mel/plans/views.py) before they call these operations.
REVISE_REFUSED = N_("Only the secretariat revises performance monitoring plans.")
START_PMP_REFUSED = N_("Only the secretariat starts performance monitoring plans.")
START_WORKPLAN_REFUSED = N_("Only the secretariat starts a joint work plan.")
UPLOAD_REFUSED = N_("Only the secretariat uploads the joint work plan.")
SHEET_ROW = N_("%(sheet)s row %(row)s")  # a cell's place when its column is not known: "Activities row 4"


@dataclass
class PlanContent:
    """A PMP's content as plain data: lines by indicator code, and target rows."""

    lines: list[dict] = field(default_factory=list)
    targets: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TARGET_COLUMNS))


def get_pmp(session: Session, catalogue: Catalogue, scope: str, fiscal_year: str, *, create: bool = False) -> Pmp:
    """The PMP of a programme (or SECTOR) for a financial year."""
    scope = scope.strip().upper()
    fy = financial_year(fiscal_year)
    programme = None
    if scope != SECTOR:
        programme = catalogue.programmes.get(scope)
        if programme is None:
            raise NotFound(text(message(N_("%(scope)s is neither a programme code nor SECTOR."), scope=repr(scope))))
    pmp = session.scalar(select(Pmp).where(Pmp.scope == scope, Pmp.fiscal_year == fy.id))
    if pmp is None:
        if not create:
            raise NotFound(text(message(N_("There is no %(scope)s PMP for %(year)s yet."), scope=scope,
                                        year=period_label(fy))))
        title = f"{'Sector' if scope == SECTOR else programme.name} PMP {fy.short_label}"
        pmp = Pmp(scope=scope, programme_id=programme.id if programme else None, fiscal_year=fy.id,
                  title=title, current_version=0)
        session.add(pmp)
        session.flush()
    return pmp


def load_version(session: Session, pmp: Pmp, number: int | None = None) -> PmpVersion | None:
    """A version of a PMP with its lines and targets (the current one by default)."""
    number = number or pmp.current_version
    if not number:
        return None
    version = session.scalar(
        select(PmpVersion).where(PmpVersion.pmp_id == pmp.id, PmpVersion.number == number)
        .options(selectinload(PmpVersion.lines).selectinload(PmpLine.targets).selectinload(Target.org_unit),
                 selectinload(PmpVersion.lines).selectinload(PmpLine.indicator))
    )
    if version is None:
        raise NotFound(text(message(N_("%(title)s has no version %(version)s."), title=pmp.title, version=number)))
    return version


def content_of(version: PmpVersion | None) -> PlanContent:
    """A version as plain data (what the API, the template and a revision start from)."""
    if version is None:
        return PlanContent()
    lines, targets = [], []
    for line in version.lines:
        lines.append({"indicator": line.indicator.code, **{f: getattr(line, f) for f in LINE_FIELDS}})
        for target in line.targets:
            targets.append({"indicator": line.indicator.code, "org_unit": target.org_unit.code,
                            "period": target.period, "value": target.value})
    frame = pd.DataFrame(targets, columns=["indicator", "org_unit", "period", "value"])
    return PlanContent(lines, frame)


def _issue(what: Words | str, location: dict) -> Issue:
    return Issue("error", "plan", text(Joined(": ", (describe(location), what))), location)


def validate(catalogue: Catalogue, pmp: Pmp, content: PlanContent) -> tuple[list[Issue], pd.DataFrame, list[dict]]:
    """Check a plan's lines and targets; return located errors and the resolved values."""
    issues: list[Issue] = []
    fy = parse_period(pmp.fiscal_year)
    allowed_periods = {fy.id} | {q.id for q in fy.quarters()}
    programme: Programme | None = catalogue.programmes.get(pmp.scope)
    # The plan's year: indicators and org units its programme's form asks for in any of its quarters.
    form_codes = catalogue.form_indicators(programme.id, fy.id) if programme else set(catalogue.indicators)
    coverage = (catalogue.form_org_units(programme.id, fy.id) | {"KE"}) if programme else set(catalogue.org_units)
    lines = []
    seen = set()
    for position, raw in enumerate(content.lines):
        code = str(raw.get("indicator", "")).strip().upper()
        location = {k: raw[k] for k in ("file", "sheet", "row", "column") if raw.get(k)}
        location["indicator"] = code
        if code not in catalogue.indicators:
            issues.append(_issue(message(N_("indicator %(code)s is not in the catalogue."), code=repr(code)), location))
            continue
        if code not in form_codes:
            issues.append(_issue(message(N_("%(code)s is not on the %(scope)s reporting form."), code=code, scope=pmp.scope),
                                 location))
            continue
        if code in seen:
            issues.append(_issue(message(N_("%(code)s appears twice; a plan has one line per indicator."), code=code),
                                 location))
            continue
        seen.add(code)
        baseline = raw.get("baseline_value")
        baseline_value = None
        if baseline not in (None, ""):
            try:
                baseline_value = Decimal(str(baseline).strip())
            except ArithmeticError:
                issues.append(_issue(message(N_("baseline %(value)s is not a number."), value=repr(baseline)), location))
                continue
            if baseline_value < 0:
                issues.append(_issue(message(N_("baseline %(value)s is negative."), value=f"{baseline}"), location))
                continue
        baseline_period = str(raw.get("baseline_period") or "").strip()
        if baseline_period:
            try:
                parsed = parse_period(baseline_period)
                if parsed.start >= fy.start:
                    issues.append(_issue(message(N_("the baseline period %(period)s is not before %(year)s."),
                                                 period=period_label(parsed), year=period_label(fy)), location))
            except PeriodError as exc:
                issues.append(_issue(getattr(exc, "message", None) or str(exc), location))
        lines.append({"indicator_id": catalogue.indicators[code].id, "code": code, "position": position,
                      "baseline_value": baseline_value, "baseline_period": baseline_period,
                      **{f: str(raw.get(f) or "").strip() for f in LINE_FIELDS[2:]}})
        if not lines[-1]["frequency"]:
            lines[-1]["frequency"] = catalogue.indicators[code].frequency
    targets = content.targets.copy()
    for column in TARGET_COLUMNS:
        if column not in targets:
            targets[column] = "" if column != "row" else None
    targets["indicator"] = targets["indicator"].astype(str).str.strip().str.upper()
    targets["value"] = targets["value"].map(lambda v: "" if v is None else str(v))
    targets["option"], targets["component"], targets["programme"] = "default", "value", pmp.scope
    parsed = parse_numbers(targets, pd.Series("amount", index=targets.index))
    issues += value_issues(parsed) + duplicate_issues(parsed.assign(org_unit=parsed["org_unit"].astype(str)))
    units = {}
    for row in parsed.to_dict("records"):
        location = {k: row[k] for k in ("file", "sheet", "row", "column", "indicator", "period") if row.get(k) == row.get(k) and row.get(k)}
        location["org_unit"] = row["org_unit"]
        if row["indicator"] not in seen:
            issues.append(_issue(message(N_("a target for %(code)s, which has no line in this plan."),
                                         code=row["indicator"]), location))
        unit = units.setdefault(str(row["org_unit"]), find_org_unit(catalogue, str(row["org_unit"])))
        if unit is None:
            issues.append(_issue(message(N_("org unit %(org_unit)s is not known."), org_unit=repr(row["org_unit"])),
                                 location))
        elif unit.code not in coverage:
            issues.append(_issue(message(N_("%(scope)s does not operate in %(org_unit)s."), scope=pmp.scope,
                                         org_unit=unit.name), location))
        if str(row["period"]) not in allowed_periods:
            issues.append(_issue(message(N_("period %(period)s is outside %(year)s; use %(periods)s."),
                                         period=repr(row["period"]), year=period_label(fy),
                                         periods=", ".join(sorted(allowed_periods))), location))
    parsed["org_unit_id"] = parsed["org_unit"].map(lambda raw: units[str(raw)].id if units.get(str(raw)) else None)
    return issues, parsed, lines


def revise(session: Session, catalogue: Catalogue, user, pmp: Pmp, content: PlanContent, *, reason: str,
           expected_version: int | None = None, channel: str = "web", now: datetime | None = None) -> PmpVersion | None:
    """Store a plan as a new version (all or nothing); None when nothing differs from the current one."""
    if not can_administer(user):
        raise Forbidden(text(message(REVISE_REFUSED)))
    if expected_version is not None and expected_version != pmp.current_version:
        raise Conflict(text(message(N_("%(title)s is now at version %(current)s, but you edited version %(edited)s; "
                                       "reload it and make your change again."), title=pmp.title,
                                    current=pmp.current_version, edited=expected_version)))
    issues, targets, lines = validate(catalogue, pmp, content)
    if issues:
        template = (N_("%(title)s: %(count)s problem; nothing was stored.") if len(issues) == 1
                    else N_("%(title)s: %(count)s problems; nothing was stored."))
        raise ValidationFailed(text(message(template, title=pmp.title, count=len(issues))),
                               [ErrorDetail(i.message, i.location) for i in issues[:200]])
    current = load_version(session, pmp)
    if current is not None and _same(catalogue, content_of(current), lines, targets):
        return None
    if not reason.strip():
        raise ValidationFailed(text(message(N_("Give a reason for this version of the plan (e.g. 'Mid-year review')."))))
    now = now or utcnow()
    version = PmpVersion(pmp_id=pmp.id, number=pmp.current_version + 1, reason=reason.strip(),
                         channel=channel, created_by_id=user.id, created_at=now)
    session.add(version)
    session.flush()
    line_ids = {}
    for line in lines:
        record = PmpLine(version_id=version.id, indicator_id=line["indicator_id"], position=line["position"],
                         **{f: line[f] for f in LINE_FIELDS})
        session.add(record)
        session.flush()
        line_ids[line["code"]] = record.id
    rows = [{"line_id": line_ids[r["indicator"]], "org_unit_id": int(r["org_unit_id"]), "period": r["period"],
             "value": Decimal(r["value"])} for r in targets.to_dict("records") if r["value"] != ""]
    if rows:
        session.execute(insert(Target), rows)
    pmp.current_version = version.number
    session.flush()
    return version


def _same(catalogue: Catalogue, current: PlanContent, lines: list[dict], targets: pd.DataFrame) -> bool:
    def line_key(line: dict) -> tuple:
        value = line["baseline_value"]
        return (line.get("code", line.get("indicator")), None if value is None else Decimal(value).normalize(),
                *(str(line[f] or "") for f in LINE_FIELDS[1:]))

    if sorted(map(line_key, current.lines)) != sorted(map(line_key, lines)):
        return False
    old = {(r["indicator"], catalogue.org_units[r["org_unit"]].id, r["period"], Decimal(r["value"]).normalize())
           for r in current.targets.to_dict("records")}
    new = {(r["indicator"], int(r["org_unit_id"]), r["period"], Decimal(r["value"]).normalize())
           for r in targets.to_dict("records") if r["value"] != ""}
    return old == new


def mismatches(version: PmpVersion | None) -> list[str]:
    """Year targets of flow (`sum`) indicators that differ from the sum of their quarters (English text
    that pages say again in the reader's language)."""
    if version is None:
        return []
    messages = []
    for line in version.lines:
        if line.indicator.time_aggregation != "sum" or line.indicator.measure == "ratio":
            continue
        by_unit: dict[str, dict[str, Decimal]] = {}
        for target in line.targets:
            by_unit.setdefault(target.org_unit.code, {})[target.period] = target.value
        for unit, values in by_unit.items():
            year = next((v for p, v in values.items() if p.endswith("July")), None)
            quarters = [v for p, v in values.items() if "Q" in p]
            if year is not None and len(quarters) == 4 and sum(quarters) != year:
                messages.append(text(message(
                    N_("%(code)s (%(org_unit)s): the year target %(year)s differs from the sum of the quarterly "
                       "targets %(quarters)s."), code=line.indicator.code, org_unit=unit, year=f"{year:,.0f}",
                    quarters=f"{sum(quarters):,.0f}")))
    return messages


def record_progress(session: Session, user, activity: Activity, period: str, *, status: str, percent_complete,
                    spend_to_date, note: str = "", expected_version: int | None = None, channel: str = "web",
                    now: datetime | None = None) -> ActivityUpdate:
    """Record a quarter's progress on an activity, auditing every field that changes."""
    if not can_record_progress(user, activity):
        raise Forbidden(progress_refusal(user, activity))
    problems = []
    quarter = None
    try:
        quarter = parse_period(period)
    except PeriodError as exc:
        problems.append(getattr(exc, "message", None) or str(exc))  # its words, a Text when it has a message
    fy = parse_period(session.get(WorkPlan, activity.plan_id).fiscal_year)
    if quarter is not None and (quarter.type is not PeriodType.QUARTER or not fy.contains(quarter)):
        problems.append(text(message(N_("%(period)s is not a quarter of %(year)s."), period=repr(period),
                                     year=period_label(fy))))
    if status not in ACTIVITY_STATUSES:
        problems.append(text(message(N_("status %(status)s is not one of %(statuses)s."), status=repr(status),
                                     statuses=", ".join(ACTIVITY_STATUSES))))
    try:
        percent = int(str(percent_complete).strip())
        if not 0 <= percent <= 100:
            raise ValueError
    except ValueError:
        problems.append(text(message(N_("percent complete %(value)s must be a whole number from 0 to 100."),
                                     value=repr(percent_complete))))
        percent = 0
    try:
        spend = Decimal(str(spend_to_date).strip().replace(" ", "") or "0")
        if spend < 0 or "," in str(spend_to_date):
            raise ArithmeticError
    except ArithmeticError:
        problems.append(text(message(N_("spend to date %(value)s must be a non-negative KES amount without "
                                        "separators."), value=repr(spend_to_date))))
        spend = Decimal(0)
    if problems:
        raise ValidationFailed(text(Joined(": ", (f"{activity.code} {period}", Joined(" ", tuple(problems))))),
                               [ErrorDetail(p, {"activity": activity.code, "period": period}) for p in problems])
    now = now or utcnow()
    update = session.scalar(select(ActivityUpdate).where(ActivityUpdate.activity_id == activity.id,
                                                         ActivityUpdate.period == quarter.id))
    new = {"status": status, "percent_complete": percent, "spend_to_date": spend, "note": note.strip()}
    if update is None:
        update = ActivityUpdate(activity_id=activity.id, period=quarter.id, version=1, updated_by_id=user.id,
                                updated_at=now, **new)
        session.add(update)
        session.flush()
        changes = {k: ("", v) for k, v in new.items()}
    else:
        if expected_version is not None and expected_version != update.version:
            raise Conflict(text(message(N_("%(activity)s %(quarter)s was updated by someone else (now version "
                                           "%(version)s); reload it and try again."), activity=activity.code,
                                        quarter=period_label(quarter), version=update.version)))
        changes = {k: (getattr(update, k), v) for k, v in new.items() if getattr(update, k) != v}
        if not changes:
            return update
        for key, (_, value) in changes.items():
            setattr(update, key, value)
        update.version += 1
        update.updated_by_id, update.updated_at = user.id, now
        session.flush()
    session.execute(insert(ActivityUpdateChange), [
        {"update_id": update.id, "field": key, "old_value": str(old), "new_value": str(value),
         "channel": channel, "version": update.version, "changed_by_id": user.id, "changed_at": now}
        for key, (old, value) in changes.items()])
    return update


def import_workplan(session: Session, catalogue: Catalogue, user, plan: WorkPlan, activities: list[dict],
                    progress: list[dict], *, channel: str = "excel") -> dict[str, int]:
    """Apply a work-plan workbook: activities created or updated, progress recorded; all or nothing."""
    from mel.catalogue.models import ResultsNode
    from mel.plans.models import WORKING_GROUPS

    if not can_administer(user):
        raise Forbidden(text(message(UPLOAD_REFUSED)))
    fy = parse_period(plan.fiscal_year)
    quarters = {q.id for q in fy.quarters()}
    nodes = {n.code: n.id for n in session.scalars(select(ResultsNode))}
    existing = {a.code: a for a in session.scalars(
        select(Activity).where(Activity.plan_id == plan.id).options(selectinload(Activity.indicators)))}
    linked: dict[int, Indicator] = {i.id: i for a in existing.values() for i in a.indicators}
    problems: list[ErrorDetail] = []
    counts = {"activities created": 0, "activities updated": 0, "progress changed": 0}

    def problem(row: dict, column: str, what: Words | str) -> None:
        from openpyxl.utils import get_column_letter

        columns = list(row)
        letter = get_column_letter(columns.index(column) + 1) if column in columns else ""
        cell = (f"{row['sheet']}!{letter}{row['row']}" if letter
                else message(SHEET_ROW, sheet=row["sheet"], row=row["row"]))
        problems.append(ErrorDetail(text(Joined(": ", (Joined(" ", (row["file"], cell)), what))), {
            "file": row["file"], "sheet": row["sheet"], "row": row["row"], "column": letter}))

    savepoint = session.begin_nested()
    for row in activities:
        code = row["code"].strip().upper()
        if not code:
            problem(row, "code", message(N_("the activity code is empty.")))
            continue
        group = row["working_group"].strip().lower()
        if group not in WORKING_GROUPS:
            problem(row, "working_group", message(N_("working group %(group)s is not one of %(groups)s."),
                                                  group=repr(row["working_group"]), groups=", ".join(WORKING_GROUPS)))
            continue
        try:
            budget = Decimal(row["budget_kes"].strip() or "0")
            if budget < 0 or "," in row["budget_kes"]:
                raise ArithmeticError
        except ArithmeticError:
            problem(row, "budget_kes", message(N_("budget %(budget)s must be a non-negative KES amount without "
                                                  "separators."), budget=repr(row["budget_kes"])))
            continue
        planned = [q.strip().upper() for q in row["planned_quarters"].split(",") if q.strip()]
        outside = [q for q in planned if q not in quarters]
        if outside:
            template = (N_("%(quarters)s is not a quarter of %(year)s.") if len(outside) == 1
                        else N_("%(quarters)s are not a quarter of %(year)s."))
            problem(row, "planned_quarters", message(template, quarters=", ".join(outside), year=period_label(fy)))
            continue
        node = row["results_node"].strip()
        if node and node not in nodes:
            problem(row, "results_node", message(N_("results-framework node %(node)s does not exist."), node=repr(node)))
            continue
        codes = [c.strip().upper() for c in row["indicators"].split(",") if c.strip()]
        unknown = [c for c in codes if c not in catalogue.indicators]
        if unknown:
            problem(row, "indicators", message(N_("indicator(s) %(codes)s are not in the catalogue."),
                                               codes=", ".join(unknown)))
            continue
        values = {"title": row["title"].strip(), "working_group": group, "lead_agency": row["lead_agency"].strip(),
                  "partners": row["partners"].strip(), "budget_kes": budget, "funding_source": row["funding_source"].strip(),
                  "planned_quarters": ",".join(sorted(planned)), "results_node_id": nodes.get(node)}
        if not values["title"] or not values["lead_agency"]:
            problem(row, "title", message(N_("every activity needs a title and a lead agency.")))
            continue
        activity = existing.get(code)
        # Linked rows come from this session: the catalogue's are the process's shared, read-only copy.
        wanted = [catalogue.indicators[c].id for c in codes]
        missing = [i for i in wanted if i not in linked]
        if missing:
            linked.update((i.id, i) for i in session.scalars(select(Indicator).where(Indicator.id.in_(missing))))
        indicator_list = [linked[i] for i in wanted]
        if activity is None:
            activity = Activity(plan_id=plan.id, code=code, **values)
            activity.indicators = indicator_list
            session.add(activity)
            session.flush()
            existing[code] = activity
            counts["activities created"] += 1
        elif any(getattr(activity, k) != v for k, v in values.items()) or \
                {i.code for i in activity.indicators} != set(codes):
            for key, value in values.items():
                setattr(activity, key, value)
            activity.indicators = indicator_list
            counts["activities updated"] += 1
    session.flush()
    for row in progress:
        activity = existing.get(row["code"].strip().upper())
        if activity is None:
            problem(row, "code", message(N_("activity %(code)s is not in the work plan."), code=repr(row["code"])))
            continue
        before = session.scalar(select(ActivityUpdate.version).where(
            ActivityUpdate.activity_id == activity.id, ActivityUpdate.period == row["period"].strip().upper()))
        try:
            update = record_progress(session, user, activity, row["period"].strip().upper(),
                                     status=row["status"].strip().lower(), percent_complete=row["percent_complete"],
                                     spend_to_date=row["spend_to_date"], note=row["note"], channel=channel)
        except ValidationFailed as exc:
            problem(row, "period", exc.message)
            continue
        if before != update.version:
            counts["progress changed"] += 1
    if problems:
        savepoint.rollback()
        raise ValidationFailed(text(message(N_("%(count)s problem(s) in the work plan; nothing was stored."),
                                            count=len(problems))), problems[:200])
    savepoint.commit()
    return counts


def start_pmp(session: Session, catalogue: Catalogue, user, scope: str, fiscal_year: str, *,
              from_previous: bool = True) -> tuple[Pmp, bool]:
    """Start a programme's (or the sector's) PMP for a financial year; (plan, whether it is new).

    With `from_previous`, version 1 takes the previous year's plan lines (indicators, baselines,
    methods, responsibilities) without its targets, which the secretariat then sets; an existing plan
    is returned as it is.
    """
    if not can_administer(user):
        raise Forbidden(text(message(START_PMP_REFUSED)))
    fy = financial_year(fiscal_year)
    existing = session.scalar(select(Pmp).where(Pmp.scope == scope.strip().upper(), Pmp.fiscal_year == fy.id))
    if existing is not None:
        return existing, False
    pmp = get_pmp(session, catalogue, scope, fy.id, create=True)
    previous = session.scalar(select(Pmp).where(Pmp.scope == pmp.scope, Pmp.fiscal_year == fy.shift(-1).id))
    if from_previous and previous is not None and previous.current_version:
        lines = [dict(line) for line in content_of(load_version(session, previous)).lines]
        form_codes = (catalogue.form_indicators(catalogue.programmes[pmp.scope].id, fy.id) if pmp.scope in catalogue.programmes
                      else set(catalogue.indicators))
        lines = [line for line in lines if line["indicator"] in form_codes]  # indicators since left the form
        if lines:
            revise(session, catalogue, user, pmp, PlanContent(lines),
                   reason=f"Started from the {parse_period(previous.fiscal_year).label} plan: its indicators and "
                          "baselines; targets to set.")
    return pmp, True


def create_workplan(session: Session, user, fiscal_year: str, title: str = "") -> WorkPlan:
    """Start the joint work plan of a financial year (secretariat)."""
    if not can_administer(user):
        raise Forbidden(text(message(START_WORKPLAN_REFUSED)))
    fy = financial_year(fiscal_year)
    if session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == fy.id)) is not None:
        raise Conflict(text(message(N_("The %(year)s work plan already exists."), year=period_label(fy))))
    plan = WorkPlan(fiscal_year=fy.id, title=title.strip() or f"Sector joint work plan {fy.short_label}")
    session.add(plan)
    session.flush()
    return plan


def save_activity(session: Session, catalogue: Catalogue, user, plan: WorkPlan, code: str, values: dict) -> Activity:
    """Create or update one activity with the same checks as the work-plan workbook."""
    row = {"code": code, **{k: str(values.get(k, "") if values.get(k) is not None else "") for k in (
        "title", "working_group", "lead_agency", "partners", "budget_kes", "funding_source",
        "planned_quarters", "results_node", "indicators")}, "file": "request", "sheet": "activity", "row": 1}
    import_workplan(session, catalogue, user, plan, [row], [], channel="api")
    return session.scalar(select(Activity).where(Activity.plan_id == plan.id, Activity.code == code.upper()))
