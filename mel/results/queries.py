"""Results against targets: load values, targets and baselines, and compile them with indicators/compile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indicators.compile import (
    NOT_ADDED_NOTE,
    Rule,
    Thresholds,
    achievement,
    compile_span,
    score,
    status_of,
    stored_periods,
    trend,
)
from indicators.messages import N_, Message, message, text
from indicators.periods import Period, PeriodType, parse_period, quarter_of
from indicators.targets import Indicator as TargetIndicator
from indicators.targets import Plan, Reporting, Span, TargetChoice
from indicators.targets import choose as choose_target
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import Catalogue, find_org_unit
from mel.catalogue.models import MONTHLY, Indicator, OptionCombo, OrgUnit
from mel.errors import Forbidden, NotFound, ValidationFailed
from mel.periods import financial_year
from mel.periods import period as parse_any
from mel.plans.models import SECTOR, Pmp, PmpLine, PmpVersion, Target
from mel.returns.models import DataValue, Return
from mel.returns.workflow import ROLE_PLURALS
from mel.scopes import can_see_unapproved

BY_CHOICES = ("org_unit", "programme", "period", "option")
SUBSET = "SUBSET"


@dataclass
class Query:
    """A results query, resolved: indicators, span of quarters, org units, programmes."""

    indicators: list[str]
    span: Period  # a quarter or a financial year
    quarters: list[str]
    label: str
    org_unit: OrgUnit
    programmes: list[str]
    scope: str  # the plan scope: a programme code, SECTOR (all programmes) or SUBSET (several named)
    include_submitted: bool
    by: list[str]


ENOUGH_APPROVED = 0.5  # a quarter is shown by default once at least half its expected returns are approved


def approved_coverage(session: Session, catalogue: Catalogue, quarters: list[str]) -> dict[str, tuple[int, int]]:
    """(approved returns, expected returns) of each quarter: what the report form shows before generating."""
    approved = dict(session.execute(select(Return.period, func.count()).where(
        Return.period.in_(stored_periods(quarters)), Return.state == "approved").group_by(Return.period)).all())
    return {q: (sum(int(approved.get(p, 0)) for p in stored_periods([q])),
                sum(len(form.org_units_in(q)) * len(form.periods_in(q)) for form in catalogue.forms.values()))
            for q in quarters}


def well_covered_quarter(quarters: list[str], coverage: dict[str, tuple[int, int]]) -> str | None:
    """The latest of `quarters` (newest first) with enough approved returns; else the latest with any.

    The one rule for the quarter people see first: the report form proposes it and the dashboards
    open on it, so a quarter still being reported (a few returns approved) is never shown as if it
    were the quarter's result; it stays one choice away, marked partial.
    """
    for quarter in quarters:
        done, expected = coverage[quarter]
        if expected and done >= ENOUGH_APPROVED * expected:
            return quarter
    return next((q for q in quarters if coverage[q][0]), None)


def latest_quarters(session: Session, count: int = 8) -> list[str]:
    """The `count` quarters up to the latest one with any return, newest first."""
    quarterly = session.scalar(select(func.max(Return.period)).where(Return.period.like("%Q%")))
    monthly_ = session.scalar(select(func.max(Return.period)).where(Return.period.not_like("%Q%")))
    found = [quarter_of(parse_period(p).start) for p in (quarterly, monthly_) if p is not None]  # a month: its quarter
    if not found:
        return []
    last = max(found)
    return [last.shift(-n).id for n in range(count)]


def resolve_query(catalogue: Catalogue, *, indicators: list[str] | None, period: str, org_unit: str | None,
                  programme: str | None, ytd: bool = False, include_submitted: bool = False,
                  by: list[str] | None = None, user=None) -> Query:
    """A results query from the parameters people send; unapproved figures only for those allowed them.

    `user` is required with `include_submitted`: whether someone may read figures not yet
    approved is decided here, for every product that can show them (scopes.can_see_unapproved).
    """
    codes = [c.strip().upper() for c in (indicators or []) if c.strip()] or sorted(catalogue.indicators)
    unknown = [c for c in codes if c not in catalogue.indicators]
    if unknown:
        raise ValidationFailed(text(message(N_("Indicator(s) %(codes)s are not in the catalogue."),
                                            codes=", ".join(unknown))))
    span = parse_any(period)
    if span.type is PeriodType.QUARTER:
        quarters = [q.id for q in span.financial_year().quarters() if q <= span] if ytd else [span.id]
        label = f"{span.financial_year().short_label} to {span.short_label.split(' ')[-1]}" if ytd else span.label
    elif span.type is PeriodType.FINANCIAL_YEAR:
        quarters, label = [q.id for q in span.quarters()], span.label
    else:
        raise ValidationFailed(text(message(N_("period=%(period)s: use a quarter (2025Q3) or a financial year "
                                               "(2025July)."), period=repr(period))))
    unit = find_org_unit(catalogue, org_unit or "KE")
    if unit is None:
        raise NotFound(text(message(N_("Org unit %(org_unit)s is not known."), org_unit=repr(org_unit))))
    if not programme or programme.upper() == "ALL":
        programmes, scope = sorted(catalogue.programmes), SECTOR
    else:
        programmes = [p.strip().upper() for p in programme.split(",") if p.strip()]
        missing = [p for p in programmes if p not in catalogue.programmes]
        if missing:
            raise ValidationFailed(text(message(N_("Programme(s) %(codes)s are not known."),
                                                codes=", ".join(missing))))
        programmes = sorted(set(programmes))
        scope = programmes[0] if len(programmes) == 1 else SUBSET
    dims = [d for d in (by or []) if d]
    bad = [d for d in dims if d not in BY_CHOICES]
    if bad:
        raise ValidationFailed(text(message(N_("by=%(by)s is not one of %(choices)s."), by=",".join(bad),
                                            choices=", ".join(BY_CHOICES))))
    if include_submitted:
        if user is None:
            raise TypeError("include_submitted needs the user asking for it")
        unapproved_allowed(user, catalogue, programmes, unit)
    return Query(codes, span, quarters, label, unit, programmes, scope, include_submitted, dims)


def unapproved_allowed(user, catalogue: Catalogue, programmes: list[str], unit: OrgUnit) -> None:
    """Forbidden unless the user may read the not-yet-approved figures of these programmes at this org unit."""
    if not can_see_unapproved(user, [catalogue.programmes[p].id for p in programmes], unit):
        what = N_("approved figures only") if user.role == "viewer" else N_(
            "unapproved figures only within your own scope")
        raise Forbidden(text(message(
            N_("include=submitted is not open to you: %(people)s see %(what)s (%(programmes)s in %(org_unit)s is "
               "outside it). Leave out include=submitted for approved figures."),
            people=Message(ROLE_PLURALS[user.role]), what=Message(what), org_unit=unit.name,
            programmes=", ".join(programmes) if len(programmes) <= 3 else Message(N_("these programmes")))))


def rollup(catalogue: Catalogue, unit: OrgUnit) -> dict[str, str]:
    """Reporting units more than one level under `unit` (and below the counties), to the unit one level under
    `unit` they lie in: by org unit, Kenya's rows are counties (a ward's figures inside its county's) and a
    county's rows its sub-counties. Units at or above that level are rows of their own."""
    level = max(COUNTY, unit.level + 1)
    return {code: other.path.strip("/").split("/")[level - 1] for code, other in catalogue.org_units.items()
            if other.level > level and other.path.startswith(unit.path)}


def rules(catalogue: Catalogue) -> dict[str, Rule]:
    return {code: Rule(code, i.measure, i.factor, i.time_aggregation, i.is_additive_across_programmes, i.direction)
            for code, i in catalogue.indicators.items()}


def within(unit: OrgUnit, quarters: list[str]) -> list:
    """The conditions that keep the figures of the returns of `unit` and the units within it, for a span: put
    on the returns (a county's are a few hundred among a month's thousands, found by their org unit), whose
    values then come by their return, never by scanning the year's values for the county's (a return's values
    have its org unit and period)."""
    return [Return.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))),
            Return.period.in_(stored_periods(quarters))]


def load_values(session: Session, catalogue: Catalogue, query: Query, quarters: list[str]) -> pd.DataFrame:
    """Approved (optionally also submitted) figures in scope, as a plain frame with codes."""
    states = ["approved", "submitted"] if query.include_submitted else ["approved"]
    statement = (
        select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id, DataValue.programme_id,
               DataValue.org_unit_id, DataValue.period, DataValue.value)
        .join(Return, Return.id == DataValue.return_id)
        .where(Return.state.in_(states), DataValue.period.in_(stored_periods(quarters)),
               DataValue.indicator_id.in_([catalogue.indicators[c].id for c in query.indicators]),
               DataValue.programme_id.in_([catalogue.programmes[p].id for p in query.programmes]))
    )
    if query.org_unit.level > 1:
        statement = statement.where(*within(query.org_unit, quarters))
    # Core rows straight into columns: building ORM rows or dicts would dominate large spans.
    rows = session.connection().execute(statement).fetchall()
    columns = ["indicator", "component", "option", "programme", "org_unit", "period", "value"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = rows_frame(rows, columns)
    frame["indicator"] = frame["indicator"].map(catalogue.indicator_codes)
    frame["option"] = frame["option"].map(catalogue.combo_codes)
    frame["programme"] = frame["programme"].map(catalogue.programme_codes)
    frame["org_unit"] = frame["org_unit"].map(catalogue.org_unit_codes)
    frame["value"] = frame["value"].astype(float)
    return frame


def load_plans(session: Session, catalogue: Catalogue, fiscal_year: str) -> dict[str, Plan]:
    """The current version of every PMP of a financial year (programmes and the sector)."""
    indicator_codes, unit_codes = catalogue.indicator_codes, catalogue.org_unit_codes
    current = (select(Pmp.scope, PmpVersion.number, PmpLine.id, PmpLine.indicator_id, PmpLine.baseline_value,
                      PmpLine.baseline_period)
               .join(PmpVersion, (PmpVersion.pmp_id == Pmp.id) & (PmpVersion.number == Pmp.current_version))
               .join(PmpLine, PmpLine.version_id == PmpVersion.id)
               .where(Pmp.fiscal_year == fiscal_year))
    lines = session.execute(current).all()
    line_ids = [line[2] for line in lines]
    targets: dict[int, list] = {}
    if line_ids:
        for line_id, unit_id, period, value in session.execute(
                select(Target.line_id, Target.org_unit_id, Target.period, Target.value)
                .where(Target.line_id.in_(line_ids))):
            targets.setdefault(line_id, []).append((unit_codes[unit_id], period, float(value)))
    built: dict[str, tuple[int, dict, dict]] = {}
    for scope, version, line_id, indicator_id, baseline, baseline_period in lines:
        _, values, baselines = built.setdefault(scope, (version, {}, {}))
        code = indicator_codes[indicator_id]
        baselines[code] = (None if baseline is None else float(baseline), baseline_period or "")
        for unit, period, value in targets.get(line_id, []):
            values[(code, unit, period)] = value
    return {scope: Plan(scope, version, values, baselines) for scope, (version, values, baselines) in built.items()}


def reporting(catalogue: Catalogue, period: str) -> Reporting:
    """Who carries which indicator where in a period (a plan's financial year), from the reporting forms."""
    codes = catalogue.programme_codes
    return Reporting(
        carries={codes[pid]: frozenset(catalogue.form_indicators(pid, period)) for pid in catalogue.forms},
        units={codes[pid]: frozenset(catalogue.form_org_units(pid, period)) for pid in catalogue.forms},
        paths={code: unit.path for code, unit in catalogue.org_units.items()})


class TargetBook:
    """Targets chosen for cells by the one rule in indicators/targets.py; plans loaded once per year."""

    def __init__(self, session: Session, catalogue: Catalogue) -> None:
        self.session, self.catalogue = session, catalogue
        self._reporting: dict[str, Reporting] = {}  # by financial year: the forms of its quarters
        self.programmes = sorted(catalogue.programmes)
        self.indicators = {code: TargetIndicator(code, i.measure, i.time_aggregation, i.is_additive_across_programmes)
                           for code, i in catalogue.indicators.items()}
        self._plans: dict[str, dict[str, Plan]] = {}
        self._cache: dict[tuple, TargetChoice] = {}

    def plans(self, fiscal_year: str) -> dict[str, Plan]:
        if fiscal_year not in self._plans:
            self._plans[fiscal_year] = load_plans(self.session, self.catalogue, fiscal_year)
        return self._plans[fiscal_year]

    def reporting(self, fiscal_year: str) -> Reporting:
        if fiscal_year not in self._reporting:
            self._reporting[fiscal_year] = reporting(self.catalogue, fiscal_year)
        return self._reporting[fiscal_year]

    def choose(self, indicator: str, scope: str | tuple[str, ...], org_unit: str, span: Span) -> TargetChoice:
        key = (indicator, scope, org_unit, span)
        if key not in self._cache:
            year = span.year or parse_period(span.quarters[0]).financial_year().id
            choice = choose_target(self.indicators[indicator], scope if isinstance(scope, str) else list(scope),
                                   org_unit, span, self.plans(year), self.reporting(year), self.programmes)
            self._cache[key] = replace(choice, plan=f"{choice.plan} {year}") if choice.plan else choice
        return self._cache[key]


def query_span(query: Query) -> Span:
    """The span of a query's cells: the financial year's id when the query is for a whole year."""
    return Span(tuple(query.quarters), query.span.id if query.span.type is PeriodType.FINANCIAL_YEAR else None)


def cell_scope(query: Query) -> str | tuple[str, ...]:
    """A query's plan scope: one programme, SECTOR for all of them, or the list it names."""
    return query.scope if query.scope != SUBSET else tuple(query.programmes)


DEFAULT_THRESHOLDS = Thresholds()


def results(session: Session, catalogue: Catalogue, query: Query, thresholds: Thresholds = DEFAULT_THRESHOLDS,
            book: TargetBook | None = None) -> list[dict]:
    """Rows of results: keys, actual, numerator, denominator, target (and where it came from), baseline,
    achievement, status, trend, and the returns behind the figure."""
    rule_map = {c: r for c, r in rules(catalogue).items() if c in query.indicators}
    by = [d for d in query.by if d != "option"]
    option_breakdown = "option" in query.by
    current = compile_from_db(session, catalogue, query, query.quarters, rule_map, by, option_breakdown)
    keys = ["indicator", *by, *(["option"] if option_breakdown else [])]
    # The previous period is the span moved back by its own length (a quarter, a year, a year to date).
    previous_quarters = [parse_period(q).shift(-len(query.quarters)).id for q in query.quarters]
    last_year = [parse_period(q).shift(-4).id for q in query.quarters]
    earlier = compile_from_db(session, catalogue, query, previous_quarters, rule_map, by, option_breakdown)
    year_ago = compile_from_db(session, catalogue, query, last_year, rule_map, by, option_breakdown)
    if "period" in by:
        shift = {p: q for p, q in zip(previous_quarters, query.quarters, strict=True)}
        earlier["period"] = earlier["period"].map(shift)
        year_ago["period"] = year_ago["period"].map(dict(zip(last_year, query.quarters, strict=True)))
    frame = trend(rule_map, current, earlier, keys, "previous")
    frame = trend(rule_map, frame, year_ago, keys, "last_year")
    if frame.empty:
        return []
    book = book or TargetBook(session, catalogue)
    span, scope = query_span(query), cell_scope(query)
    choices = []
    for row in frame.to_dict("records"):
        if option_breakdown and row.get("option") != "total":
            choices.append(TargetChoice(note="targets are set for totals, not for each disaggregation"))
            continue
        choices.append(book.choose(row["indicator"], row["programme"] if "programme" in by else scope,
                                   row["org_unit"] if "org_unit" in by else query.org_unit.code,
                                   Span((row["period"],)) if "period" in by else span))
    frame["target"] = [c.value for c in choices]
    frame["baseline"] = [c.baseline for c in choices]
    frame["baseline_period"] = [c.baseline_period or None for c in choices]
    frame["target_source"] = [c.source for c in choices]
    frame["target_note"] = [c.note for c in choices]
    frame["pmp"] = [c.plan or None for c in choices]
    frame["pmp_version"] = [c.version for c in choices]
    frame = achievement(rule_map, frame, thresholds)
    frame = frame.merge(_completeness(session, catalogue, query, keys), on=[k for k in keys if k != "option"],
                        how="left")
    out = []
    for row in frame.to_dict("records"):
        clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        clean["period"] = clean.get("period", query.span.id if len(query.quarters) > 1 else query.quarters[0])
        clean["span"] = query.label
        for count in ("returns_expected", "returns_received"):
            clean[count] = None if clean.get(count) is None else int(clean[count])
        out.append(clean)
    return out


def _completeness(session: Session, catalogue: Catalogue, query: Query, keys: list[str],
                  quarters: list[str] | None = None) -> pd.DataFrame:
    """The returns expected to carry each indicator and how many are behind the figures (unrounded share)."""
    quarters = quarters or query.quarters
    states = ["approved", "submitted"] if query.include_submitted else ["approved"]
    received = set(session.execute(select(Return.programme_id, Return.org_unit_id, Return.period)
                                   .where(Return.period.in_(stored_periods(quarters)), Return.state.in_(states))).all())
    expected, carried = [], []  # the returns asked for, and what each programme's form asked them to carry
    shown_under = rollup(catalogue, query.org_unit) if "org_unit" in keys else {}
    for code in query.programmes:
        programme = catalogue.programmes[code]
        form = catalogue.forms.get(programme.id)
        if form is None:
            continue
        for quarter in quarters:  # each quarter's own form: what its returns were asked to carry
            carried += [(code, quarter, i.indicator.code) for i in form.items_in(quarter)
                        if i.indicator.code in query.indicators]
            periods = form.periods_in(quarter)  # a monthly form: a return per month
            expected += [(code, shown_under.get(unit.code, unit.code), quarter,
                          (programme.id, unit.id, period) in received)
                         for unit in form.org_units_in(quarter) if unit.path.startswith(query.org_unit.path)
                         for period in periods]
    # Counted per programme and quarter (and org unit) first, then spread over the indicators each carried:
    # at ward level a programme's quarter is thousands of returns, never crossed with its indicators.
    by = ["programme", "period", *(["org_unit"] if "org_unit" in keys else [])]
    counts = (pd.DataFrame(expected, columns=["programme", "org_unit", "period", "received"])
              .groupby(by)["received"].agg(returns_expected="size", returns_received="sum").reset_index())
    frame = pd.DataFrame(carried, columns=["programme", "period", "indicator"]).merge(counts, on=["programme", "period"])
    group = [k for k in keys if k != "option"]
    table = frame.groupby(group)[["returns_expected", "returns_received"]].sum().reset_index()
    table["completeness"] = table["returns_received"] / table["returns_expected"] * 100
    return table


def iptt(session: Session, catalogue: Catalogue, *, programme: str, fiscal_year: str, org_unit: str = "KE",
         include_submitted: bool = False, thresholds: Thresholds = DEFAULT_THRESHOLDS, user=None,
         book: TargetBook | None = None) -> dict:
    """The Indicator Performance Tracking Table of a programme (or ALL, the sector) for a year."""
    fy = financial_year(fiscal_year)
    query = resolve_query(catalogue, indicators=None, period=fy.id, org_unit=org_unit, programme=programme,
                          include_submitted=include_submitted, user=user)
    if query.scope not in (SECTOR, SUBSET):
        query.indicators = sorted(catalogue.form_indicators(catalogue.programmes[query.scope].id, fy.id))
    rule_map = {c: r for c, r in rules(catalogue).items() if c in query.indicators}
    per_quarter = compile_from_db(session, catalogue, query, query.quarters, rule_map, ["period"], False)
    year = compile_from_db(session, catalogue, query, query.quarters, rule_map, [], False)
    book = book or TargetBook(session, catalogue)
    scope, unit = cell_scope(query), query.org_unit.code
    quarter_counts = _counts(_completeness(session, catalogue, query, ["indicator", "period"]), ["indicator", "period"])
    year_counts = _counts(_completeness(session, catalogue, query, ["indicator"]), ["indicator"])
    lines = []
    for code in query.indicators:
        rule = rule_map[code]
        indicator = catalogue.indicators[code]
        cells = []
        for quarter in query.quarters:
            row = per_quarter[(per_quarter["indicator"] == code) & (per_quarter["period"] == quarter)]
            cells.append(_cell(rule, row, book.choose(code, scope, unit, Span((quarter,))), thresholds,
                               quarter_counts.get((code, quarter))))
        year_row = year[year["indicator"] == code]
        year_choice = book.choose(code, scope, unit, query_span(query))
        year_cell = _cell(rule, year_row, year_choice, thresholds, year_counts.get((code,)))
        if indicator.frequency == "annual" and year_cell["actual"] is None and cells[-1]["actual"] is not None:
            year_cell = _cell(rule, per_quarter[(per_quarter["indicator"] == code)
                                                & (per_quarter["period"] == query.quarters[-1])],
                              year_choice, thresholds, quarter_counts.get((code, query.quarters[-1])))
        lines.append({"indicator": code, "name": indicator.name, "short_name": indicator.short_name,
                      "pillar": catalogue.pillar_codes.get(indicator.pillar_id, ""), "unit": indicator.unit,
                      "measure": indicator.measure, "direction": indicator.direction,
                      "time_aggregation": indicator.time_aggregation, "baseline": year_choice.baseline,
                      "baseline_period": year_choice.baseline_period or None, "quarters": cells, "year": year_cell,
                      "target_source": year_choice.source, "target_note": year_choice.note,
                      "note": (year_row["note"].iloc[0] if len(year_row) else "")})
    own = book.plans(fy.id).get(query.scope)
    return {"programme": query.scope if query.scope != SUBSET else ",".join(query.programmes),
            "fiscal_year": fy.id, "fiscal_year_label": fy.label,
            "org_unit": query.org_unit.code, "quarters": query.quarters,
            "quarter_labels": [parse_period(q).short_label for q in query.quarters],
            "pmp_version": own.version if own else None, "lines": lines}


def _counts(table: pd.DataFrame, keys: list[str]) -> dict[tuple, tuple[int, int]]:
    return {tuple(row[k] for k in keys): (int(row["returns_received"]), int(row["returns_expected"]))
            for row in table.to_dict("records")}


def _cell(rule: Rule, row: pd.DataFrame, choice: TargetChoice, thresholds: Thresholds,
          counts: tuple[int, int] | None) -> dict:
    value = row["actual"].iloc[0] if len(row) else None
    actual = None if value is None or value != value else float(value)
    note = row["note"].iloc[0] if len(row) else ""
    achieved, method = score(rule.direction, actual, choice.value, choice.baseline)
    received, expected = counts or (None, None)
    return {"actual": actual, "target": choice.value, "achievement": achieved, "achievement_method": method,
            "status": status_of(achieved, actual is not None, thresholds,
                                not_added=note == NOT_ADDED_NOTE and actual is None),
            "target_source": choice.source, "returns_received": received, "returns_expected": expected,
            "completeness": None if not expected else received / expected * 100}


def load_aggregated(session: Session, catalogue: Catalogue, query: Query, quarters: list[str],
                    by: list[str], settled: bool = True) -> pd.DataFrame:
    """The same input compile_span needs, pre-aggregated by the database.

    Per unit and quarter the `total` option wins over the sum of the parts; for stock
    indicators each unit keeps its latest quarter in the span (a window function); the rest is
    summed per indicator, component and programme (plus org unit when the rows are by org unit).
    compile_span then applies the same rules to far fewer rows. Approved figures of Kenya or a
    county (by county at most) come from the spans settled ahead of time (mel/results/summary.py)
    when nothing they need is stale (`settled`: whether they may).
    """
    from sqlalchemy import case

    from mel.results import summary

    names = ["indicator", "component", "programme"] + (["org_unit"] if "org_unit" in by else []) + ["value"]
    if settled and not query.include_submitted and (
            query.org_unit.level == 1 or (query.org_unit.level == COUNTY and "org_unit" not in by)):
        span = summary.span_of(quarters)
        if span is not None and summary.readable(session, catalogue, query.programmes):
            frame = summary.read(session, catalogue, indicators=query.indicators, programmes=query.programmes,
                                 unit=query.org_unit, span=span, by_unit="org_unit" in by)
            return _finish(catalogue, query, quarters, by, frame, names)
    states = ["approved", "submitted"] if query.include_submitted else ["approved"]
    if len(quarters) == 1 and not monthly(catalogue, query.programmes, quarters[0]):
        return _one_quarter(session, catalogue, query, quarters, by, states)
    per_unit = (
        select(DataValue.indicator_id, DataValue.component, DataValue.programme_id, DataValue.org_unit_id,
               DataValue.period,
               func.coalesce(func.sum(case((OptionCombo.is_total, DataValue.value))),
                             func.sum(case((OptionCombo.is_total.is_(False), DataValue.value)))).label("value"))
        .join(Return, Return.id == DataValue.return_id)
        .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
        .where(Return.state.in_(states), DataValue.period.in_(stored_periods(quarters)),
               DataValue.indicator_id.in_([catalogue.indicators[c].id for c in query.indicators]),
               DataValue.programme_id.in_([catalogue.programmes[p].id for p in query.programmes]))
        .group_by(DataValue.indicator_id, DataValue.component, DataValue.programme_id, DataValue.org_unit_id,
                  DataValue.period)
    )
    if query.org_unit.level > 1:
        per_unit = per_unit.where(*within(query.org_unit, quarters))
    unit = per_unit.subquery()
    ranked = (
        select(unit, Indicator.time_aggregation,
               func.max(unit.c.period).over(partition_by=[unit.c.indicator_id, unit.c.programme_id,
                                                          unit.c.org_unit_id]).label("latest"))
        .join(Indicator, Indicator.id == unit.c.indicator_id)
    ).subquery()
    keys = [ranked.c.indicator_id, ranked.c.component, ranked.c.programme_id]
    if "org_unit" in by:
        keys.append(ranked.c.org_unit_id)
    statement = (select(*keys, func.sum(ranked.c.value))
                 .where((ranked.c.time_aggregation == "sum") | (ranked.c.period == ranked.c.latest))
                 .group_by(*keys))
    return _aggregated_frame(session, catalogue, query, quarters, by, statement)


def monthly(catalogue: Catalogue, programmes: list[str], quarter: str) -> bool:
    """Whether any of these programmes' forms asks monthly returns in the quarter (its figures are months)."""
    return any(form.frequency_in(quarter) == MONTHLY for code in programmes
               if (form := catalogue.forms.get(catalogue.programmes[code].id)) is not None)


def _aggregated_frame(session: Session, catalogue: Catalogue, query: Query, quarters: list[str], by: list[str],
                      statement) -> pd.DataFrame:
    rows = session.connection().execute(statement).fetchall()
    names = ["indicator", "component", "programme"] + (["org_unit"] if "org_unit" in by else []) + ["value"]
    return _finish(catalogue, query, quarters, by, rows_frame(rows, names), names)


def rows_frame(rows, names: list[str]) -> pd.DataFrame:
    """Rows to columns directly: DataFrame.from_records on Row objects is several times slower."""
    if not rows:
        return pd.DataFrame(columns=names)
    return pd.DataFrame(dict(zip(names, zip(*rows, strict=True), strict=True)))




def _finish(catalogue: Catalogue, query: Query, quarters: list[str], by: list[str], frame: pd.DataFrame,
            names: list[str]) -> pd.DataFrame:
    """Codes for ids, and the columns compile_span expects."""
    if frame.empty:
        frame = pd.DataFrame(columns=names)
    frame["indicator"] = frame["indicator"].map(catalogue.indicator_codes)
    frame["programme"] = frame["programme"].map(catalogue.programme_codes)
    if "org_unit" in by:
        frame["org_unit"] = frame["org_unit"].map(catalogue.org_unit_codes)
    else:
        frame["org_unit"] = query.org_unit.code
    frame["option"] = "total"
    frame["period"] = quarters[-1]
    frame["value"] = frame["value"].astype(float)
    return frame[["indicator", "component", "option", "programme", "org_unit", "period", "value"]]


_COMPILED: ContextVar[dict | None] = ContextVar("compiled_figures", default=None)


@contextmanager
def compiled_once() -> Iterator[None]:
    """Within the block, compile_from_db compiles each (scope, quarters, breakdown) once.

    A report asks for the same figures several times: the quarter's results compare with the
    previous quarter and the same quarter last year, which are also points of the eight-quarter
    history; a year to date's previous span is also the span a year earlier. The block is one
    report's gathering (mel/reporting/snapshot.gather): nothing is kept beyond it.
    """
    token = _COMPILED.set({})
    try:
        yield
    finally:
        _COMPILED.reset(token)


def compile_from_db(session: Session, catalogue: Catalogue, query: Query, quarters: list[str],
                    rule_map: dict[str, Rule], by: list[str], option_breakdown: bool) -> pd.DataFrame:
    """compile_span over the database: pre-aggregated unless options are broken down."""
    memo = _COMPILED.get()
    if memo is None:
        return _compile_from_db(session, catalogue, query, quarters, rule_map, by, option_breakdown)
    key = (tuple(query.indicators), tuple(query.programmes), query.org_unit.code, query.include_submitted,
           tuple(quarters), tuple(sorted(rule_map)), tuple(by), option_breakdown)
    if key not in memo:
        memo[key] = _compile_from_db(session, catalogue, query, quarters, rule_map, by, option_breakdown)
    return memo[key].copy()  # callers may change their copy (results() renames periods)


def _compile_from_db(session: Session, catalogue: Catalogue, query: Query, quarters: list[str],
                     rule_map: dict[str, Rule], by: list[str], option_breakdown: bool) -> pd.DataFrame:
    units = rollup(catalogue, query.org_unit) if "org_unit" in by else None
    if option_breakdown:
        return compile_span(load_values(session, catalogue, query, quarters), rule_map, quarters, by=by,
                            option_breakdown=True, rollup=units)
    if "period" in by:
        rest = [d for d in by if d != "period"]
        frames = [compile_from_db(session, catalogue, query, [q], rule_map, rest, False).assign(period=q)
                  for q in quarters]
        return pd.concat(frames, ignore_index=True)
    compiled = compile_span(load_aggregated(session, catalogue, query, quarters, by), rule_map, quarters, by=by,
                            rollup=units)
    if _check_settled():
        _same_figures(compiled, compile_span(load_aggregated(session, catalogue, query, quarters, by, settled=False),
                                             rule_map, quarters, by=by, rollup=units), query, quarters, by)
    return compiled


def _check_settled() -> bool:
    """Whether to compile every figure from the data values as well and compare (FIGURES_CHECK: the tests)."""
    from flask import current_app, has_app_context

    return has_app_context() and bool(current_app.config.get("FIGURES_CHECK"))


def _same_figures(settled: pd.DataFrame, direct: pd.DataFrame, query: Query, quarters: list[str],
                  by: list[str]) -> None:
    keys = ["indicator", *by]
    left, right = (f.sort_values(keys).reset_index(drop=True) for f in (settled, direct))
    try:
        pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=False, rtol=1e-9)
    except AssertionError as exc:
        raise AssertionError(f"settled figures differ from the data values' for {query.programmes} at "
                             f"{query.org_unit.code}, {quarters}, by {by}: {exc}") from None


def _one_quarter(session: Session, catalogue: Catalogue, query: Query, quarters: list[str], by: list[str],
                 states: list[str]) -> pd.DataFrame:
    """One quarter, as one GROUP BY over the parts, then corrected where a unit also gave a total.

    Totals are rare; they are found through the (option combo, period) index, and for those
    units the total replaces the sum of the parts, as compile_span would do.
    """
    from sqlalchemy import tuple_

    with_unit = "org_unit" in by
    scope = [Return.state.in_(states), DataValue.period == quarters[0],
             DataValue.indicator_id.in_([catalogue.indicators[c].id for c in query.indicators]),
             DataValue.programme_id.in_([catalogue.programmes[p].id for p in query.programmes])]
    if query.org_unit.level > 1:
        scope += within(query.org_unit, quarters)
    keys = [DataValue.indicator_id, DataValue.component, DataValue.programme_id]
    group = keys + ([DataValue.org_unit_id] if with_unit else [])
    total_ids = [combo for combo, code in catalogue.combo_codes.items() if code == "total"]
    parts = (select(*group, func.sum(DataValue.value)).join(Return, Return.id == DataValue.return_id)
             .where(*scope, DataValue.option_combo_id.not_in(total_ids)).group_by(*group))
    names = ["indicator", "component", "programme"] + (["org_unit"] if with_unit else []) + ["value"]
    frame = rows_frame(session.connection().execute(parts).fetchall(), names)
    totals = session.connection().execute(
        select(*keys, DataValue.org_unit_id, DataValue.value).join(Return, Return.id == DataValue.return_id)
        .where(*scope, DataValue.option_combo_id.in_(total_ids))).fetchall()
    if totals:
        unit_keys = ["indicator", "component", "programme", "org_unit"]
        given = rows_frame(totals, [*unit_keys, "value"])
        replaced = session.connection().execute(
            select(*keys, DataValue.org_unit_id, func.sum(DataValue.value)).join(Return, Return.id == DataValue.return_id)
            .where(*scope, DataValue.option_combo_id.not_in(total_ids),
                   tuple_(*keys, DataValue.org_unit_id).in_([tuple(k) for k in given[unit_keys].itertuples(index=False)]))
            .group_by(*keys, DataValue.org_unit_id)).fetchall()
        removed = rows_frame(replaced, [*unit_keys, "value"]).assign(
            value=lambda f: -f["value"].astype(float))
        group_cols = names[:-1]
        adjust = pd.concat([given.assign(value=given["value"].astype(float)), removed])
        adjust = adjust.groupby(group_cols, as_index=False)["value"].sum()
        frame = pd.concat([frame.assign(value=frame["value"].astype(float)), adjust])
        frame = frame.groupby(group_cols, as_index=False)["value"].sum()
    return _finish(catalogue, query, quarters, by, frame, names)
