"""JSON API of plans: PMPs (versions, lines, targets), the targets query, joint work plans."""

from __future__ import annotations

import pandas as pd
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from indicators.periods import PeriodError, parse_period
from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.errors import NotFound, ValidationFailed
from mel.periods import financial_year
from mel.plans import operations, queries
from mel.plans.models import Activity, WorkPlan
from mel.plans.schemas import (
    ActivitySchema,
    PmpPutSchema,
    PmpQuerySchema,
    ProgressSchema,
    TargetQuerySchema,
    VersionQuerySchema,
    WorkPlanPutSchema,
)

blp = api_blueprint("plans_api", __name__, "Performance monitoring plans, targets and joint work plans.")


@blp.route("/pmps")
class PmpList(MethodView):
    @blp.arguments(PmpQuerySchema, location="query")
    @blp.response(200)
    def get(self, args):
        """The plans, with their versions and the reasons for each revision."""
        fy = financial_year(args["fy"], "fy").id if args.get("fy") else None
        return queries.pmp_list(db.session, fiscal_year=fy, scope=args.get("scope"))


@blp.route("/pmps/<scope>/<fy:fiscal_year>")
class PmpItem(MethodView):
    @blp.arguments(VersionQuerySchema, location="query")
    @blp.response(200)
    def get(self, args, scope, fiscal_year):
        """A plan (current or older version): lines with baselines and targets, year/quarter mismatches."""
        session = db.session
        pmp = operations.get_pmp(session, load_catalogue(session), scope, fiscal_year)
        return queries.pmp_body(session, pmp, args.get("version"))

    @blp.arguments(PmpPutSchema)
    @blp.response(200)
    @blp.alt_response(409, description="The plan has a newer version than the one you read")
    @blp.alt_response(422, description="Refused; `details` locate every problem; nothing stored")
    def put(self, payload, scope, fiscal_year):
        """Store a new version of a plan (the whole plan, with a reason); identical content changes nothing."""
        session = db.session
        user = authenticated_user()
        catalogue = load_catalogue(session)
        pmp = operations.get_pmp(session, catalogue, scope, fiscal_year, create=True)
        lines, targets = [], []
        for number, line in enumerate(payload["lines"], start=1):
            lines.append({k: v for k, v in line.items() if k != "targets"} | {"row": number})
            targets += [{"indicator": line["indicator"], "org_unit": t["org_unit"], "period": t["period"],
                         "value": "" if t["value"] is None else str(t["value"]), "file": "", "sheet": "",
                         "row": number, "column": ""} for t in line["targets"]]
        content = operations.PlanContent(lines, pd.DataFrame(targets, columns=operations.TARGET_COLUMNS))
        version = operations.revise(session, catalogue, user, pmp, content, reason=payload["reason"],
                                    expected_version=payload["version"], channel="api")
        body = queries.pmp_body(session, pmp, None)
        body["changed"] = version is not None
        return body


@blp.route("/targets")
class Targets(MethodView):
    @blp.arguments(TargetQuerySchema, location="query")
    @blp.response(200)
    def get(self, args):
        """Targets of the current plan versions, filtered by indicator, programme, org unit, period."""
        period = args.get("period")
        if period:
            try:
                period = parse_period(period).id
            except PeriodError as exc:
                raise ValidationFailed(str(exc)) from None
        return queries.targets(db.session, indicator=args.get("indicator"), scope=args.get("programme"),
                               org_unit=args.get("org_unit"), period=period)


def _plan(session, fiscal_year: str) -> WorkPlan:
    fy = financial_year(fiscal_year).id
    plan = session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == fy))
    if plan is None:
        raise NotFound(f"There is no joint work plan for {fiscal_year}.")
    return plan


@blp.route("/workplans/<fy:fiscal_year>")
class WorkPlanItem(MethodView):
    @blp.response(200)
    def get(self, fiscal_year):
        """The joint work plan: activities by working group, budget, planned quarters, progress."""
        session = db.session
        return queries.workplan_body(session, _plan(session, fiscal_year))

    @blp.arguments(WorkPlanPutSchema)
    @blp.response(201)
    def put(self, payload, fiscal_year):
        """Start the joint work plan of a financial year (409 if it exists)."""
        session = db.session
        plan = operations.create_workplan(session, authenticated_user(), fiscal_year, payload["title"])
        return queries.workplan_body(session, plan)


@blp.route("/workplans/<fy:fiscal_year>/activities/<code>")
class ActivityItem(MethodView):
    @blp.arguments(ActivitySchema)
    @blp.response(200)
    @blp.alt_response(422, description="Refused; `details` say what is wrong")
    def put(self, payload, fiscal_year, code):
        """Create or update an activity of the work plan."""
        session = db.session
        plan = _plan(session, fiscal_year)
        operations.save_activity(session, load_catalogue(session), authenticated_user(), plan, code, payload)
        body = queries.workplan_body(session, plan)
        return next(a for a in body["activities"] if a["code"] == code.upper())


@blp.route("/workplans/<fy:fiscal_year>/activities/<code>/progress/<quarter:period>")
class ActivityProgress(MethodView):
    @blp.arguments(ProgressSchema)
    @blp.response(200)
    @blp.alt_response(409, description="Someone updated this quarter since you read it")
    def put(self, payload, fiscal_year, code, period):
        """Record a quarter's status, percent complete, spend and note for an activity (audited)."""
        session = db.session
        user = authenticated_user()
        plan = _plan(session, fiscal_year)
        activity = session.scalar(select(Activity).where(Activity.plan_id == plan.id, Activity.code == code.upper())
                                  .options(selectinload(Activity.indicators)))
        if activity is None:
            raise NotFound(f"Activity {code!r} is not in the {fiscal_year} work plan.")
        update = operations.record_progress(
            session, user, activity, period.upper(), status=payload["status"],
            percent_complete=payload["percent_complete"], spend_to_date=payload["spend_to_date"],
            note=payload["note"], expected_version=payload.get("version"), channel="api")
        return queries.progress_body(update)
