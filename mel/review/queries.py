"""Reads of the review: expected returns with their state and flags, completeness, the queue."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from indicators.compile import stored_periods
from indicators.completeness import completeness
from indicators.figures import figure_code
from indicators.periods import PeriodType, parse_period
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.catalogue.models import OrgUnit, quarters_of
from mel.converters import is_digits
from mel.returns.models import DataValue, Return, ValueFlag
from mel.review.models import QueryMessage, ValueQuery
from mel.scopes import can_access

SMALL_FIGURE = 100.0  # the cushion of the "largest change" score (largest_changes)
ATTENTION = {"submitted": 0, "returned": 2, "reopened": 2, "draft": 3, "": 4, "approved": 5}


def _required_cells(catalogue: Catalogue, programme_id: int, period: str) -> set[tuple[int, str, int]]:
    form = catalogue.forms[programme_id]
    fy_quarter = parse_period(period).fy_quarter
    cells = set()
    for item in form.items_in(period):
        indicator = catalogue.indicators[item.indicator.code]
        if not item.is_required or (indicator.frequency == "annual" and fy_quarter != 4):
            continue
        spec = catalogue.specs[indicator.code]
        for component in spec.components:
            for option in spec.options:
                cells.add((indicator.id, component, catalogue.combos[(indicator.code, option)]))
    return cells


def _filled(session: Session, catalogue: Catalogue, groups: set[tuple[int, str]],
            within: OrgUnit | None = None) -> dict[int, int]:
    """How many of its required cells each return of these (programme, period) holds, counted by the database
    (at ward scale a month's returns hold over a million values: they are never brought over one by one)."""
    filled: dict[int, int] = {}
    for programme_id, period in sorted(groups):
        cells = _required_cells(catalogue, programme_id, period)
        if not cells:
            continue
        # A stored value is always a cell of its indicator (checked on entry), so the values of the required
        # indicators, components and options are the required cells a return holds: three short lists the
        # database checks fast, where a list of every (indicator, component, option) would be tried row by row.
        indicators, components, combos = (sorted({cell[n] for cell in cells}) for n in range(3))
        filled.update(session.execute(
            select(DataValue.return_id, func.count()).where(
                DataValue.return_id.in_(select(Return.id).where(Return.programme_id == programme_id,
                                                                Return.period == period, *_scope(within))),
                DataValue.period == period,
                DataValue.indicator_id.in_(indicators), DataValue.component.in_(components),
                DataValue.option_combo_id.in_(combos))
            .group_by(DataValue.return_id)).all())
    return filled


def _scope(within: OrgUnit | None) -> list:
    """Returns of `within` and the units within it (all when None)."""
    if within is None:
        return []
    return [Return.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(within.path)))]


def expected_returns(session: Session, catalogue: Catalogue, period: str, *,
                     within: OrgUnit | None = None) -> pd.DataFrame:
    """Every expected return of a period (from the forms), with state, lateness, flags and fill. A quarter's
    are each quarterly form's returns of the quarter and each monthly form's of its three months (the
    `period` column says which); a month's, the monthly forms' of that month. `within`: only those of an org
    unit and the units within it (a county's own and its wards')."""
    periods = stored_periods([period])
    records = {(r.programme_id, r.org_unit_id, r.period): r for r in session.execute(
        select(Return.id, Return.programme_id, Return.org_unit_id, Return.period, Return.state, Return.version,
               Return.submitted_at, Return.is_late).where(Return.period.in_(periods), *_scope(within)))}
    flags = {}
    queries = {}
    filled: dict[int, int] = {}
    if records:  # the period's returns found by joining them, never by a list of thousands of ids
        for return_id, total, unexplained in session.execute(
                select(ValueFlag.return_id, func.count(),
                       func.sum(case((func.length(func.trim(ValueFlag.explanation)) == 0, 1), else_=0)))
                .join(Return, Return.id == ValueFlag.return_id)
                .where(Return.period.in_(periods), *_scope(within)).group_by(ValueFlag.return_id)):
            flags[return_id] = (int(total), int(unexplained or 0))
        queries = dict(session.execute(select(ValueQuery.return_id, func.count())
                                       .join(Return, Return.id == ValueQuery.return_id)
                                       .where(Return.period.in_(periods), ValueQuery.status == "open",
                                              *_scope(within))
                                       .group_by(ValueQuery.return_id)).all())
        filled = _filled(session, catalogue, {(p, q) for p, _, q in records if p in catalogue.forms}, within)
    rows = []
    for programme_code, programme in catalogue.programmes.items():
        form = catalogue.forms.get(programme.id)
        if form is None:
            continue
        asked = form.periods_in(period) if parse_period(period).type is PeriodType.QUARTER else (
            [period] if period in form.periods_in(quarters_of(period)[0]) else [])
        cells = {p: _required_cells(catalogue, programme.id, p) for p in asked}
        for asked_period, unit in ((p, u) for p in asked for u in form.org_units_in(p)
                                   if within is None or u.path.startswith(within.path)):
            required = cells[asked_period]
            record = records.get((programme.id, unit.id, asked_period))
            total, unexplained = flags.get(record.id, (0, 0)) if record else (0, 0)
            have = filled.get(record.id, 0) if record else 0
            rows.append({
                "programme": programme_code, "programme_name": programme.name, "pillar": catalogue.pillar_codes.get(programme.pillar_id, ""),
                "org_unit": unit.code, "org_unit_name": unit.name, "period": asked_period,
                "return_id": record.id if record else None,
                "state": record.state if record else "", "version": record.version if record else 0,
                "submitted_at": record.submitted_at if record else None, "is_late": bool(record and record.is_late),
                "warnings": total, "unexplained": unexplained, "open_queries": queries.get(record.id, 0) if record else 0,
                "required": len(required), "filled": have, "missing": len(required) - have,
            })
    return pd.DataFrame(rows)


def review_queue(session: Session, catalogue: Catalogue, period: str, *, programme: str | None = None,
                 org_unit: str | None = None, pillar: str | None = None, state: str | None = None) -> list[dict]:
    """Expected returns of a period, filtered, those needing attention first."""
    frame = expected_returns(session, catalogue, period)
    if frame.empty:
        return []
    if programme:
        frame = frame[frame["programme"] == programme.upper()]
    if org_unit:
        frame = frame[frame["org_unit"] == (org_unit.zfill(3) if is_digits(org_unit) else org_unit)]
    if pillar:
        frame = frame[frame["pillar"] == pillar]
    if state:
        frame = frame[frame["state"] == ("" if state == "not_started" else state)]
    frame = frame.assign(
        attention=frame["state"].map(ATTENTION).fillna(4) - (frame["open_queries"] > 0) - (frame["unexplained"] > 0))
    frame = frame.sort_values(["attention", "unexplained", "missing", "programme", "org_unit"],
                              ascending=[True, False, False, True, True])
    rows = frame.drop(columns=["attention"]).to_dict("records")
    for row in rows:
        # A return not started has no id and no submission time: None when no return of the quarter
        # exists, NaN/NaT beside returns that do. People and JSON want nothing there either way.
        submitted, return_id = row["submitted_at"], row["return_id"]
        row["submitted_at"] = None if pd.isna(submitted) else pd.Timestamp(submitted).to_pydatetime()
        row["return_id"] = None if pd.isna(return_id) else int(return_id)
    return rows


def completeness_table(session: Session, catalogue: Catalogue, period: str, by: str, *,
                       reader: User | None = None) -> list[dict]:
    """Completeness of a quarter's expected returns by programme, org unit or pillar; with a `reader`,
    over the returns within the reader's scope only (scopes.can_access)."""
    frame = expected_returns(session, catalogue, period)
    if reader is not None and not frame.empty:
        mine = [can_access(reader, catalogue.programmes[p].id, catalogue.org_units[u])
                for p, u in zip(frame["programme"], frame["org_unit"], strict=True)]
        frame = frame[mine]
    if frame.empty:
        return []
    return completeness(frame, by=by).to_dict("records")


def compiled_figures(session: Session, catalogue: Catalogue, programme_id: int, unit_ids: list[int] | None,
                     periods: list[str]) -> dict[tuple[str, str], float]:
    """A programme's figures per (indicator code, quarter), in any state, over the given org units.

    Compiled by the same rules as every published figure (indicators.compile): per unit the
    `total` option if given, else the sum of the parts; ratios as the ratio of sums.
    """
    from indicators.compile import compile_span
    from mel.results.queries import rules

    statement = (select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id,
                        DataValue.org_unit_id, DataValue.period, DataValue.value)
                 .where(DataValue.programme_id == programme_id, DataValue.period.in_(periods)))
    if unit_ids is not None:
        statement = statement.where(DataValue.org_unit_id.in_(unit_ids))
    frame = pd.DataFrame(
        [(catalogue.indicator_codes[i], component, catalogue.combo_codes[combo], "P", unit, period, float(value))
         for i, component, combo, unit, period, value in session.execute(statement)],
        columns=["indicator", "component", "option", "programme", "org_unit", "period", "value"])
    if frame.empty:
        return {}
    compiled = compile_span(frame, rules(catalogue), periods, by=["period"])
    return {(row["indicator"], row["period"]): row["actual"] for row in compiled.to_dict("records")
            if row["actual"] == row["actual"]}


def query_threads(session: Session, catalogue: Catalogue, queries: list[ValueQuery]) -> list[dict]:
    """Query threads with their messages and authors' e-mails, in one query however many threads."""
    messages: dict[int, list[dict]] = defaultdict(list)
    if queries:
        for message, email in session.execute(
                select(QueryMessage, User.email).join(User, User.id == QueryMessage.author_id, isouter=True)
                .where(QueryMessage.query_id.in_([q.id for q in queries])).order_by(QueryMessage.id)):
            messages[message.query_id].append({"kind": message.kind, "author": email or "system",
                                               "body": message.body, "at": message.created_at.isoformat()})
    return [{"id": q.id, "indicator": figure_code(catalogue.indicator_codes[q.indicator_id], q.component),
             "option": catalogue.combo_codes[q.option_combo_id], "status": q.status,
             "raised_at": q.raised_at.isoformat(), "messages": messages[q.id]} for q in queries]


def return_threads(session: Session, catalogue: Catalogue, return_id: int) -> list[dict]:
    """Every query thread of a return, oldest first."""
    found = session.scalars(select(ValueQuery).where(ValueQuery.return_id == return_id).order_by(ValueQuery.id))
    return query_threads(session, catalogue, list(found))


def query_body(session: Session, catalogue: Catalogue, query: ValueQuery) -> dict:
    """One query thread, as the API returns it."""
    return query_threads(session, catalogue, [query])[0]


def largest_changes(session: Session, catalogue: Catalogue, period: str, return_ids: list[int]) -> dict[int, dict]:
    """Per return: the figure that moved most against the same programme and org unit's previous
    quarter (relative to the previous figure plus a small cushion), for reviewers to look at first."""
    from indicators.figures import option_label

    ids = [i for i in return_ids if i is not None]
    if not ids:
        return {}
    keys = ["programme_id", "org_unit_id", "indicator_id", "component", "option_combo_id"]
    current = pd.DataFrame(session.execute(
        select(DataValue.return_id, DataValue.programme_id, DataValue.org_unit_id, DataValue.indicator_id,
               DataValue.component, DataValue.option_combo_id, DataValue.value)
        .where(DataValue.return_id.in_(ids))).all(), columns=["return_id", *keys, "value"])
    if current.empty:
        return {}
    previous_period = parse_period(period).shift(-1).id
    before = pd.DataFrame(session.execute(
        select(DataValue.programme_id, DataValue.org_unit_id, DataValue.indicator_id, DataValue.component,
               DataValue.option_combo_id, DataValue.value)
        .where(DataValue.period == previous_period,
               DataValue.programme_id.in_(sorted(set(current["programme_id"]))),
               DataValue.org_unit_id.in_(sorted(set(current["org_unit_id"]))))).all(), columns=[*keys, "previous"])
    if before.empty:
        return {}
    both = current.merge(before, on=keys)
    if both.empty:
        return {}
    now, then = both["value"].astype(float), both["previous"].astype(float)
    # Relative change, damped for small figures: 1 → 2 women of 18–34 is not what a meeting looks at
    # first, 40,000 → 60,000 payments is (a 100-unit cushion on the previous figure).
    both = both.assign(score=(now - then).abs() / (then.abs() + SMALL_FIGURE))
    top = both.sort_values(["return_id", "score"], ascending=[True, False]).drop_duplicates("return_id")
    found = {}
    for row in top.to_dict("records"):
        code = catalogue.indicator_codes[row["indicator_id"]]
        part = {"numerator": " (numerator)", "denominator": " (denominator)"}.get(row["component"], "")
        option = option_label(catalogue.combo_codes.get(row["option_combo_id"], ""))
        now_value, then_value = float(row["value"]), float(row["previous"])
        found[int(row["return_id"])] = {
            "indicator": code, "name": catalogue.indicators[code].short_name + part,
            "option": option, "previous": then_value, "current": now_value, "score": float(row["score"]),
            "change": (now_value - then_value) / abs(then_value) * 100 if then_value else None}
    return found
