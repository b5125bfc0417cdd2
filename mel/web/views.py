"""The home page of each role."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from indicators.compile import stored_periods
from indicators.periods import parse_period
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.catalogue.models import (
    Indicator,
    OrgUnit,
    Programme,
    ReportingForm,
    ReportingFormOrgUnit,
    WindowException,
)
from mel.db import db
from mel.returns.models import RETURN_STATES, Return
from mel.scopes import scoped_returns

bp = Blueprint("web", __name__)


def _expected_returns(session, user: User, period: str) -> list[tuple]:
    """The returns an officer owes for a period: (programme, org unit, return or None, window) for
    their programmes × the form's org units in scope."""
    from mel.returns.workflow import window_for
    from mel.scopes import can_access

    forms = session.scalars(
        select(ReportingForm).options(selectinload(ReportingForm.programme),
                                      selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
                                      selectinload(ReportingForm.window_exceptions)
                                      .selectinload(WindowException.org_unit),
                                      selectinload(ReportingForm.windows))
        .where(ReportingForm.programme_id.in_([p.id for p in user.programmes]))
    )
    quarter = parse_period(period)
    following = quarter.next()
    records = {(r.programme_id, r.org_unit_id, r.period): r for r in session.scalars(
        scoped_returns(user).where(Return.period.in_(stored_periods([period, following.id]))))}
    today = clock.today()
    expected = []
    for form in sorted(forms, key=lambda f: f.programme.code):
        # The quarter's return, or a monthly form's returns of its months and of the months since then.
        asked = form.periods_in(period) + [m for m in form.periods_in(following.id)
                                           if m != following.id and parse_period(m).end < today]
        for asked_period in asked:
            for unit in form.org_units_in(asked_period):
                if can_access(user, form.programme_id, unit):
                    expected.append((form.programme, unit, records.get((form.programme_id, unit.id, asked_period)),
                                     window_for(form, asked_period, unit.id), asked_period))
    return expected


@bp.route("/")
@login_required
def home():
    user = authenticated_user()
    session = db.session
    quarter = clock.reporting_quarter()
    # The earliest due day of the quarter being reported, with each form's days for that quarter.
    due_days = min((form.window_days_in(quarter.id)[1] for form in session.scalars(
        select(ReportingForm).options(selectinload(ReportingForm.windows)))), default=15)
    due = quarter.end + timedelta(days=due_days)
    latest_with_data = session.scalar(scoped_returns(user).with_only_columns(func.max(Return.period)))
    returns_query = (
        scoped_returns(user)
        .options(selectinload(Return.programme), selectinload(Return.org_unit))
        .order_by(Return.period.desc(), Return.programme_id, Return.org_unit_id)
    )
    state_counts = dict(
        session.execute(
            select(Return.state, func.count()).where(Return.period == latest_with_data)
            .group_by(Return.state)
        ).all()
    ) if latest_with_data else {}
    context = {
        "user": user,
        "quarter": quarter,
        "due": due,
        "due_days": due_days,
        "latest_with_data": latest_with_data,
        "state_counts": [(s, state_counts.get(s, 0)) for s in RETURN_STATES],
        "counts": {
            "indicators": session.scalar(select(func.count()).select_from(Indicator)),
            "programmes": session.scalar(select(func.count()).select_from(Programme)),
            "counties": session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.level == 2)),
            "forms": session.scalar(select(func.count()).select_from(ReportingForm)),
            "users": session.scalar(select(func.count()).select_from(User)),
        },
    }
    from mel.meetings.queries import open_actions_of

    # "Your TWG actions": the open actions the person owns, overdue first (every role may own one).
    context["twg_actions"], context["twg_today"] = open_actions_of(session, user.id), clock.today()
    if user.role == "officer":
        context["my_returns"] = list(session.scalars(returns_query.limit(60)))
        context["expected"] = _expected_returns(session, user, quarter.id)
        # Each window the officer's programmes keep for the quarter, with the programmes keeping it.
        windows: dict = {}
        for programme, _, _, window, _ in context["expected"]:
            codes = windows.setdefault(window, [])
            if programme.code not in codes:
                codes.append(programme.code)
        context["windows"] = list(windows.items())
        context["today"] = clock.today()
    else:
        context["recent_returns"] = list(
            session.scalars(returns_query.where(Return.period == latest_with_data).limit(25))
        ) if latest_with_data else []
    return render_template(f"home/{user.role}.html", **context)
