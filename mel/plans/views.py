"""Web pages of plans: PMPs with their versions and targets, the joint work plan and its progress."""

from __future__ import annotations

from io import BytesIO

import pandas as pd
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from indicators.messages import message, text
from indicators.periods import PeriodError, parse_period
from mel.accounts.auth import authenticated_user
from mel.catalogue.language import localised
from mel.catalogue.lookup import load_catalogue
from mel.converters import key_arg
from mel.db import db, utcnow
from mel.errors import Forbidden, MelError, NotFound, ValidationFailed
from mel.i18n import N_, period_words, said
from mel.plans import operations, queries
from mel.plans.models import ACTIVITY_STATUSES, WORKING_GROUPS, Activity, WorkPlan
from mel.plans.workbook import (
    build_pmp_template,
    build_workplan_template,
    read_pmp_file,
    read_workplan_file,
)
from mel.returns.upload_limits import UploadLimits
from mel.scopes import can_administer, can_record_progress, progress_refusal

bp = Blueprint("plans", __name__, url_prefix="/plans")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The words of indicators/workplan.py ACTIVITY_STATUSES and models.WORKING_GROUPS, for extraction (indicators/
# cannot import mel): the templates translate them where they show them.
ACTIVITY_STATUS_WORDS = (N_("Not started"), N_("On track"), N_("Delayed"), N_("Completed"), N_("Dropped"))
WORKING_GROUP_WORDS = (N_("Policy & System Strengthening"), N_("Finance & Sustainability"), N_("Shock-responsive SP"),
                       N_("Complementary Standards"), N_("MERL"))
COUNT_WORDS = (N_("activities created"), N_("activities updated"), N_("progress changed"))  # operations.import_workplan


def _limits() -> UploadLimits:
    return UploadLimits.from_config(current_app.config)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    session = db.session
    if request.method == "POST":
        if not can_administer(authenticated_user()):
            raise Forbidden(text(message(operations.START_WORKPLAN_REFUSED)))
        try:
            plan = operations.create_workplan(session, authenticated_user(), request.form.get("fiscal_year", ""),
                                              request.form.get("title", ""))
            flash(_("%(title)s started: download it as Excel, add the activities and upload it.", title=plan.title), "info")
            return redirect(url_for("plans.workplan_page", fiscal_year=plan.fiscal_year))
        except MelError as exc:
            session.rollback()
            flash(said(exc.message), "error")
    plans = queries.pmp_list(session)
    years = sorted({p["fiscal_year"] for p in plans}, reverse=True)
    workplans = list(session.scalars(select(WorkPlan).order_by(WorkPlan.fiscal_year.desc())))
    choices = _year_choices()
    taken = {w.fiscal_year for w in workplans}
    catalogue = load_catalogue(session)
    return render_template(
        "plans/index.html", plans=plans, years=years, workplans=workplans, can_edit=can_administer(authenticated_user()),
        year_choices=choices, workplan_years=[(fy, label) for fy, label in choices if fy not in taken],
        next_year=_next_year(choices, years), scopes=[("SECTOR", _("Sector (all programmes)"))] + [
            (p.code, f"{localised(p)} ({p.code})") for p in sorted(catalogue.programmes.values(), key=lambda p: p.name)])


def _year_choices() -> list[tuple[str, str]]:
    """Financial years to start a plan for, by label: last year, this year and the next two."""
    from mel import clock

    current = clock.reporting_quarter().financial_year()
    return [(fy.id, fy.label) for fy in (current.shift(n) for n in (-1, 0, 1, 2))]


def _next_year(choices: list[tuple[str, str]], years: list[str]) -> str:
    """The year a new plan most likely is for: the first offered year after the newest plan."""
    newest = years[0] if years else ""
    later = [fy for fy, _label in choices if fy > newest] if newest else []
    return later[0] if later else choices[1][0]


@bp.route("/pmps/start", methods=["POST"])
@login_required
def pmp_start():
    """Start a PMP for a programme (or the sector) and a financial year chosen by name, from last year's."""
    session = db.session
    user = authenticated_user()
    if not can_administer(user):
        raise Forbidden(text(message(operations.START_PMP_REFUSED)))
    offered = dict(_year_choices())
    year = request.form.get("fiscal_year", "")[:20]
    if year and year not in offered and "\x00" not in year:
        flash(_("Plans are started here for %(years)s; %(year)s is not one of them (the API and the plan workbook "
                "take any year).", years=", ".join(period_words(fy) for fy in offered), year=repr(year)), "error")
        return redirect(url_for("plans.index"))
    try:
        pmp, new = operations.start_pmp(session, load_catalogue(session), user, request.form.get("scope", "")[:20],
                                        request.form.get("fiscal_year", "")[:20],
                                        from_previous=request.form.get("from_previous") == "1")
    except (MelError, PeriodError) as exc:
        session.rollback()
        flash(said(getattr(exc, "message", str(exc))), "error")
        return redirect(url_for("plans.index"))
    if not new:
        flash(_("%(title)s already exists: here it is.", title=pmp.title), "info")
    elif pmp.current_version:
        flash(_("%(title)s started from last year's indicators and baselines: set its targets and save.", title=pmp.title),
              "info")
    else:
        flash(_("%(title)s started: set its targets and save.", title=pmp.title), "info")
    return redirect(url_for("plans.pmp_edit" if new else "plans.pmp_page", scope=pmp.scope,
                            fiscal_year=pmp.fiscal_year))


def _pmp(scope: str, fiscal_year: str):
    session = db.session
    try:
        return operations.get_pmp(session, load_catalogue(session), scope, fiscal_year)
    except ValidationFailed as exc:
        raise NotFound(exc.message) from None


@bp.route("/pmps/<scope>/<fy:fiscal_year>", methods=["GET", "POST"])
@login_required
def pmp_page(scope: str, fiscal_year: str):
    session = db.session
    user = authenticated_user()
    pmp = _pmp(scope, fiscal_year)
    error = None
    if request.method == "POST":
        if not can_administer(user):
            raise Forbidden(text(message(operations.REVISE_REFUSED)))
        upload = request.files.get("file")
        try:
            if not upload or not upload.filename:
                raise ValidationFailed(text(message(N_("Choose the edited PMP workbook (.xlsx) to upload."))))
            lines, targets = read_pmp_file(upload.read(), upload.filename, pmp.fiscal_year, limits=_limits())
            version = operations.revise(session, load_catalogue(session), user, pmp,
                                        operations.PlanContent(lines, targets), reason=request.form.get("reason", ""),
                                        channel="excel")
            flash(_("Stored as version %(num)s.", num=version.number) if version
                  else _("The upload matches the current version: nothing changed."), "info")
            return redirect(url_for("plans.pmp_page", scope=pmp.scope, fiscal_year=pmp.fiscal_year))
        except MelError as exc:
            session.rollback()
            error = exc
    number = request.args.get("version", type=key_arg)
    body = queries.pmp_body(session, pmp, number)
    body["mismatches"] = [said(m) for m in body["mismatches"]]  # the API's English, said in the page's language
    history = queries.pmp_list(session, fiscal_year=pmp.fiscal_year, scope=pmp.scope)[0]["versions"]
    return render_template("plans/pmp.html", pmp=pmp, body=body, history=history, error=error,
                           can_edit=can_administer(user)), (422 if error else 200)


@bp.route("/pmps/<scope>/<fy:fiscal_year>/template.xlsx")
@login_required
def pmp_template(scope: str, fiscal_year: str):
    session = db.session
    pmp = _pmp(scope, fiscal_year)
    body = queries.pmp_body(session, pmp, request.args.get("version", type=key_arg))
    catalogue = load_catalogue(session)
    rows = []
    for line in body["lines"]:
        units = sorted({t["org_unit"] for t in line["targets"]}) or ["KE"]
        for unit in units:
            rows.append({
                "indicator": line["indicator"], "indicator_name": line["indicator_name"], "org_unit": unit,
                "org_unit_name": catalogue.org_units[unit].name, "baseline_value": line["baseline_value"],
                "baseline_period": line["baseline_period"], "collection_method": line["collection_method"],
                "frequency": line["frequency"], "responsible": line["responsible"],
                "targets": {t["period"]: t["value"] for t in line["targets"] if t["org_unit"] == unit},
            })
    data = build_pmp_template(title=pmp.title, fiscal_year=pmp.fiscal_year, version=body["version"], rows=rows,
                              generated_at=utcnow())
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"PMP_{pmp.scope}_{pmp.fiscal_year}_v{body['version']}.xlsx")


def _workplan(fiscal_year: str) -> WorkPlan:
    try:
        fy = parse_period(fiscal_year).id
    except PeriodError as exc:
        raise NotFound(getattr(exc, "message", None) or str(exc)) from None
    plan = db.session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == fy))
    if plan is None:
        raise NotFound(text(message(N_("There is no joint work plan for %(year)s."), year=fiscal_year)))
    return plan


@bp.route("/workplans/<fy:fiscal_year>", methods=["GET", "POST"])
@login_required
def workplan_page(fiscal_year: str):
    session = db.session
    user = authenticated_user()
    plan = _workplan(fiscal_year)
    error = None
    if request.method == "POST":
        if not can_administer(user):
            raise Forbidden(text(message(operations.UPLOAD_REFUSED)))
        upload = request.files.get("file")
        try:
            if not upload or not upload.filename:
                raise ValidationFailed(text(message(N_("Choose the edited work-plan workbook (.xlsx) to upload."))))
            activities, progress = read_workplan_file(upload.read(), upload.filename, limits=_limits())
            counts = operations.import_workplan(session, load_catalogue(session), user, plan, activities, progress)
            flash(_("Work plan stored: %(counts)s.", counts=", ".join(f"{n} {_(k)}" for k, n in counts.items())), "info")
            return redirect(url_for("plans.workplan_page", fiscal_year=plan.fiscal_year))
        except MelError as exc:
            session.rollback()
            error = exc
    activities = queries.workplan_activities(session, plan)
    groups = {code: [a for a in activities if a.working_group == code] for code in WORKING_GROUPS}
    return render_template("plans/workplan.html", plan=plan, groups=groups, names=WORKING_GROUPS,
                           statuses=ACTIVITY_STATUSES, error=error,
                           can_edit=can_administer(user)), (422 if error else 200)


@bp.route("/workplans/<fy:fiscal_year>/template.xlsx")
@login_required
def workplan_template(fiscal_year: str):
    session = db.session
    plan = _workplan(fiscal_year)
    activities = queries.workplan_activities(session, plan)
    rows = [{"code": a.code, "title": a.title, "working_group": a.working_group, "lead_agency": a.lead_agency,
             "partners": a.partners, "budget_kes": a.budget_kes, "funding_source": a.funding_source,
             "planned_quarters": a.planned_quarters, "results_node": a.results_node.code if a.results_node else "",
             "indicators": ",".join(i.code for i in a.indicators)} for a in activities]
    progress = [{"code": a.code, "period": u.period, "status": u.status, "percent_complete": u.percent_complete,
                 "spend_to_date": u.spend_to_date, "note": u.note} for a in activities for u in a.updates]
    data = build_workplan_template(title=plan.title, fiscal_year=plan.fiscal_year, activities=rows,
                                   progress=progress, generated_at=utcnow())
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"JWP_{plan.fiscal_year}.xlsx")


@bp.route("/workplans/<fy:fiscal_year>/<code>", methods=["GET", "POST"])
@login_required
def activity_page(fiscal_year: str, code: str):
    session = db.session
    user = authenticated_user()
    plan = _workplan(fiscal_year)
    load = (select(Activity).where(Activity.plan_id == plan.id, Activity.code == code.upper())
            .options(selectinload(Activity.updates), selectinload(Activity.indicators),
                     selectinload(Activity.results_node)))
    activity = session.scalar(load)
    if activity is None:
        raise NotFound(text(message(N_("Activity %(code)s is not in the %(plan)s."), code=repr(code), plan=plan.title)))
    error = None
    if request.method == "POST":
        if not can_record_progress(user, activity):
            raise Forbidden(progress_refusal(user, activity))
        form = request.form
        try:
            operations.record_progress(session, user, activity, form.get("period", ""), status=form.get("status", ""),
                                       percent_complete=form.get("percent_complete", ""),
                                       spend_to_date=form.get("spend_to_date", ""), note=form.get("note", ""),
                                       expected_version=form.get("version", type=int))
            flash(_("Progress for %(quarter)s saved.", quarter=period_words(parse_period(form["period"]))), "info")
            return redirect(url_for("plans.activity_page", fiscal_year=plan.fiscal_year, code=activity.code))
        except MelError as exc:
            session.rollback()
            activity = session.scalar(load)  # the rollback expired it, relationships included
            error = exc
    quarters = parse_period(plan.fiscal_year).quarters()
    updates = {u.period: u for u in activity.updates}
    return render_template("plans/activity.html", plan=plan, activity=activity, quarters=quarters, updates=updates,
                           statuses=ACTIVITY_STATUSES, history=queries.activity_history(session, activity),
                           error=error, can_edit=can_record_progress(user, activity)), (422 if error else 200)


@bp.route("/pmps/<scope>/<fy:fiscal_year>/edit", methods=["GET", "POST"])
@login_required
def pmp_edit(scope: str, fiscal_year: str):
    """Edit a plan in the browser; saving stores a new version with the reason given."""
    session = db.session
    user = authenticated_user()
    if not can_administer(user):
        raise Forbidden(text(message(operations.REVISE_REFUSED)))
    catalogue = load_catalogue(session)
    pmp = operations.get_pmp(session, catalogue, scope, fiscal_year, create=True)
    body = queries.pmp_body(session, pmp, None)
    programme = catalogue.programmes.get(pmp.scope)
    choices = sorted(catalogue.form_indicators(programme.id, pmp.fiscal_year)) if programme else sorted(catalogue.indicators)
    units = (["KE"] + sorted(catalogue.form_org_units(programme.id, pmp.fiscal_year) - {"KE"})) if programme else ["KE"]
    error = None
    if request.method == "POST":
        form = request.form
        lines, targets = [], []
        codes = [line["indicator"] for line in body["lines"]]
        if form.get("new_indicator"):
            codes.append(form["new_indicator"])
        for code in codes:
            lines.append({"indicator": code, **{f: form.get(f"l.{code}.{f}", "") for f in operations.LINE_FIELDS}})
        for key, value in form.items():
            if key.startswith("t.") and value.strip():
                _prefix, code, unit, period = key.split(".", 3)
                targets.append({"indicator": code, "org_unit": unit, "period": period, "value": value.strip(),
                                "file": "", "sheet": "", "row": None, "column": ""})
        new_unit = form.get("new_unit")
        for period in body["periods"]:
            value = form.get(f"new.{period}", "").strip()
            if value and form.get("new_row_indicator"):
                targets.append({"indicator": form["new_row_indicator"], "org_unit": new_unit or "KE", "period": period,
                                "value": value, "file": "", "sheet": "", "row": None, "column": ""})
        try:
            version = operations.revise(session, catalogue, user, pmp,
                                        operations.PlanContent(lines, pd.DataFrame(targets, columns=operations.TARGET_COLUMNS)),
                                        reason=form.get("reason", ""), expected_version=form.get("version", type=int))
            flash(_("Stored as version %(num)s.", num=version.number) if version else _("Nothing changed."), "info")
            return redirect(url_for("plans.pmp_page", scope=pmp.scope, fiscal_year=pmp.fiscal_year))
        except MelError as exc:
            session.rollback()
            error = exc
    unused = [c for c in choices if c not in {line["indicator"] for line in body["lines"]}]
    return render_template("plans/pmp_edit.html", pmp=pmp, body=body, unused=unused, units=units,
                           catalogue=catalogue, error=error, form=request.form), (422 if error else 200)
