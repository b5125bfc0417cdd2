"""Results against targets: load values, targets and baselines, and compile them with indicators/compile."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indicators.compile import Rule, Thresholds, achievement, compile_span, trend
from indicators.periods import Period, PeriodType, parse_period
from mel.catalogue.models import Indicator, OptionCombo, OrgUnit
from mel.errors import NotFound, ValidationFailed
from mel.periods import financial_year
from mel.periods import period as parse_any
from mel.plans.models import SECTOR, Pmp, PmpLine, PmpVersion, Target
from mel.returns.models import DataValue, Return
from mel.returns.resolve import Catalogue, find_org_unit

BY_CHOICES = ("org_unit", "programme", "period", "option")


@dataclass
class Query:
    """A results query, resolved: indicators, span of quarters, org units, programmes."""

    indicators: list[str]
    span: Period  # a quarter or a financial year
    quarters: list[str]
    label: str
    org_unit: OrgUnit
    programmes: list[str]
    scope: str  # the PMP whose targets apply: a programme code or SECTOR
    include_submitted: bool
    by: list[str]


def resolve_query(catalogue: Catalogue, *, indicators: list[str] | None, period: str, org_unit: str | None,
                  programme: str | None, ytd: bool = False, include_submitted: bool = False,
                  by: list[str] | None = None) -> Query:
    codes = [c.strip().upper() for c in (indicators or []) if c.strip()] or sorted(catalogue.indicators)
    unknown = [c for c in codes if c not in catalogue.indicators]
    if unknown:
        raise ValidationFailed(f"Indicator(s) {', '.join(unknown)} are not in the catalogue.")
    span = parse_any(period)
    if span.type is PeriodType.QUARTER:
        quarters = [q.id for q in span.financial_year().quarters() if q <= span] if ytd else [span.id]
        label = f"{span.financial_year().short_label} to {span.short_label.split(' ')[-1]}" if ytd else span.label
    elif span.type is PeriodType.FINANCIAL_YEAR:
        quarters, label = [q.id for q in span.quarters()], span.label
    else:
        raise ValidationFailed(f"period={period!r}: use a quarter (2025Q3) or a financial year (2025July).")
    unit = find_org_unit(catalogue, org_unit or "KE")
    if unit is None:
        raise NotFound(f"Org unit {org_unit!r} is not known.")
    if not programme or programme.upper() == "ALL":
        programmes, scope = sorted(catalogue.programmes), SECTOR
    else:
        programmes = [p.strip().upper() for p in programme.split(",") if p.strip()]
        missing = [p for p in programmes if p not in catalogue.programmes]
        if missing:
            raise ValidationFailed(f"Programme(s) {', '.join(missing)} are not known.")
        scope = programmes[0] if len(programmes) == 1 else SECTOR
    dims = [d for d in (by or []) if d]
    bad = [d for d in dims if d not in BY_CHOICES]
    if bad:
        raise ValidationFailed(f"by={','.join(bad)} is not one of {', '.join(BY_CHOICES)}.")
    return Query(codes, span, quarters, label, unit, programmes, scope, include_submitted, dims)


def rules(catalogue: Catalogue) -> dict[str, Rule]:
    return {code: Rule(code, i.measure, i.factor, i.time_aggregation, i.is_additive_across_programmes, i.direction)
            for code, i in catalogue.indicators.items()}


def load_values(session: Session, catalogue: Catalogue, query: Query, quarters: list[str]) -> pd.DataFrame:
    """Approved (optionally also submitted) figures in scope, as a plain frame with codes."""
    states = ["approved", "submitted"] if query.include_submitted else ["approved"]
    statement = (
        select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id, DataValue.programme_id,
               DataValue.org_unit_id, DataValue.period, DataValue.value)
        .join(Return, Return.id == DataValue.return_id)
        .where(Return.state.in_(states), DataValue.period.in_(quarters),
               DataValue.indicator_id.in_([catalogue.indicators[c].id for c in query.indicators]),
               DataValue.programme_id.in_([catalogue.programmes[p].id for p in query.programmes]))
    )
    if query.org_unit.level > 1:
        statement = statement.where(DataValue.org_unit_id.in_(
            select(OrgUnit.id).where(OrgUnit.path.startswith(query.org_unit.path))))
    # Core rows straight into columns: building ORM rows or dicts would dominate large spans.
    rows = session.connection().execute(statement).fetchall()
    columns = ["indicator", "component", "option", "programme", "org_unit", "period", "value"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["indicator"] = frame["indicator"].map({i.id: c for c, i in catalogue.indicators.items()})
    frame["option"] = frame["option"].map(catalogue.combo_codes)
    frame["programme"] = frame["programme"].map({p.id: c for c, p in catalogue.programmes.items()})
    frame["org_unit"] = frame["org_unit"].map({u.id: c for c, u in catalogue.org_units.items()})
    frame["value"] = frame["value"].astype(float)
    return frame


def load_targets(session: Session, catalogue: Catalogue, query: Query) -> pd.DataFrame:
    """Targets and baselines of the applicable PMP's current version for the span and org unit(s)."""
    fy = query.span.financial_year() if query.span.type is PeriodType.QUARTER else query.span
    rows = session.execute(
        select(PmpLine.indicator_id, Target.org_unit_id, Target.period, Target.value, PmpLine.baseline_value,
               PmpLine.baseline_period, PmpVersion.number)
        .join(PmpVersion, PmpVersion.id == PmpLine.version_id)
        .join(Pmp, (Pmp.id == PmpVersion.pmp_id) & (Pmp.current_version == PmpVersion.number))
        .join(Target, Target.line_id == PmpLine.id)
        .where(Pmp.scope == query.scope, Pmp.fiscal_year == fy.id)
    ).all()
    indicator_codes = {i.id: c for c, i in catalogue.indicators.items()}
    unit_codes = {u.id: c for c, u in catalogue.org_units.items()}
    return pd.DataFrame(
        [(indicator_codes[i], unit_codes[u], p, float(v), None if b is None else float(b), bp, n)
         for i, u, p, v, b, bp, n in rows],
        columns=["indicator", "org_unit", "period", "value", "baseline", "baseline_period", "pmp_version"])


def _target_index(targets: pd.DataFrame) -> dict[tuple[str, str], list[tuple]]:
    """Targets grouped once by (indicator, org unit): (period, value, baseline, version) rows."""
    index: dict[tuple[str, str], list[tuple]] = {}
    for indicator, unit, period, value, baseline, version in targets[
            ["indicator", "org_unit", "period", "value", "baseline", "pmp_version"]].itertuples(index=False):
        index.setdefault((indicator, unit), []).append((period, value, baseline, version))
    return index


def _target_for(index: dict[tuple[str, str], list[tuple]], rule: Rule, query: Query,
                org_unit: str) -> tuple[float | None, float | None, int | None]:
    mine = index.get((rule.code, org_unit))
    if not mine:
        return None, None, None
    baseline, version = mine[0][2], int(mine[0][3])
    if query.span.type is PeriodType.FINANCIAL_YEAR:
        year = [value for period, value, _, _ in mine if period == query.span.id]
        return (float(year[0]) if year else None), baseline, version
    quarters = {period: value for period, value, _, _ in mine if period in query.quarters}
    if not quarters:
        return None, baseline, version
    if rule.time_aggregation == "last" or rule.measure == "ratio":
        return float(quarters.get(query.quarters[-1], np.nan)), baseline, version
    return float(sum(quarters.values())), baseline, version


DEFAULT_THRESHOLDS = Thresholds()


def results(session: Session, catalogue: Catalogue, query: Query,
            thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[dict]:
    """Rows of results: keys, actual, numerator, denominator, target, baseline, achievement, status, trend."""
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
    targets = _target_index(load_targets(session, catalogue, query))
    found = [_target_for(targets, rule_map[row["indicator"]], query,
                         row["org_unit"] if "org_unit" in by else query.org_unit.code)
             if "programme" not in by or query.scope != SECTOR else (None, None, None)
             for row in frame.to_dict("records")] if not frame.empty else []
    frame["target"] = [f[0] for f in found]
    frame["baseline"] = [f[1] for f in found]
    frame["pmp_version"] = [f[2] for f in found]
    frame = achievement(rule_map, frame, thresholds) if not frame.empty else frame
    if not frame.empty:
        frame = frame.merge(_completeness(session, catalogue, query, keys),
                            on=[k for k in keys if k != "option"], how="left")
    out = []
    for row in frame.to_dict("records"):
        clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        clean["period"] = clean.get("period", query.span.id if len(query.quarters) > 1 or not query.quarters else query.quarters[0])
        clean["span"] = query.label
        clean["pmp"] = f"{query.scope} {query.span.financial_year().id if query.span.type is PeriodType.QUARTER else query.span.id}"
        out.append(clean)
    return out


def _completeness(session: Session, catalogue: Catalogue, query: Query, keys: list[str]) -> pd.DataFrame:
    """Share of the expected returns carrying each indicator that are behind the figures."""
    states = {"approved", "submitted"} if query.include_submitted else {"approved"}
    received = {(r.programme_id, r.org_unit_id, r.period) for r in session.scalars(
        select(Return).where(Return.period.in_(query.quarters), Return.state.in_(list(states))))}
    rows = []
    for code in query.programmes:
        programme = catalogue.programmes[code]
        form = catalogue.forms.get(programme.id)
        if form is None:
            continue
        carried = [i.indicator.code for i in form.items if i.indicator.code in query.indicators]
        for unit in form.org_units:
            if not unit.path.startswith(query.org_unit.path):
                continue
            for quarter in query.quarters:
                got = (programme.id, unit.id, quarter) in received
                rows += [(indicator, code, unit.code, quarter, got) for indicator in carried]
    frame = pd.DataFrame(rows, columns=["indicator", "programme", "org_unit", "period", "received"])
    group = [k for k in keys if k != "option"]
    table = frame.groupby(group)["received"].mean().mul(100).round(1).rename("completeness").reset_index()
    if "option" in keys:
        return table  # merged on the other keys; every option of an indicator shares it
    return table


def iptt(session: Session, catalogue: Catalogue, *, programme: str, fiscal_year: str, org_unit: str = "KE",
         include_submitted: bool = False, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict:
    """The Indicator Performance Tracking Table of a programme (or ALL, the sector) for a year."""
    fy = financial_year(fiscal_year)
    query = resolve_query(catalogue, indicators=None, period=fy.id, org_unit=org_unit, programme=programme,
                          include_submitted=include_submitted)
    if query.scope != SECTOR:
        carried = {i.indicator.code for i in catalogue.forms[catalogue.programmes[query.scope].id].items}
        query.indicators = sorted(carried)
    rule_map = {c: r for c, r in rules(catalogue).items() if c in query.indicators}
    per_quarter = compile_from_db(session, catalogue, query, query.quarters, rule_map, ["period"], False)
    year = compile_from_db(session, catalogue, query, query.quarters, rule_map, [], False)
    targets = load_targets(session, catalogue, query)
    mine = targets[targets["org_unit"] == query.org_unit.code]
    lookup = {(r["indicator"], r["period"]): r["value"] for r in mine.to_dict("records")}
    baselines = {r["indicator"]: (r["baseline"], r["baseline_period"]) for r in mine.to_dict("records")}
    version = int(mine["pmp_version"].iloc[0]) if len(mine) else None
    lines = []
    for code in query.indicators:
        rule = rule_map[code]
        indicator = catalogue.indicators[code]
        cells = []
        for quarter in query.quarters:
            row = per_quarter[(per_quarter["indicator"] == code) & (per_quarter["period"] == quarter)]
            cells.append(_cell(rule, row, lookup.get((code, quarter)), baselines.get(code, (None, None))[0], thresholds))
        year_row = year[year["indicator"] == code]
        year_cell = _cell(rule, year_row, lookup.get((code, fy.id)), baselines.get(code, (None, None))[0], thresholds)
        if indicator.frequency == "annual" and year_cell["actual"] is None and cells[-1]["actual"] is not None:
            year_cell = {**cells[-1], "target": lookup.get((code, fy.id))}
        baseline = baselines.get(code, (None, None))
        lines.append({"indicator": code, "name": indicator.name, "short_name": indicator.short_name,
                      "pillar": catalogue.pillar_codes.get(indicator.pillar_id, ""), "unit": indicator.unit,
                      "measure": indicator.measure, "direction": indicator.direction,
                      "time_aggregation": indicator.time_aggregation, "baseline": baseline[0],
                      "baseline_period": baseline[1], "quarters": cells, "year": year_cell,
                      "note": (year_row["note"].iloc[0] if len(year_row) else "")})
    return {"programme": query.scope, "fiscal_year": fy.id, "fiscal_year_label": fy.label,
            "org_unit": query.org_unit.code, "quarters": query.quarters,
            "quarter_labels": [parse_period(q).short_label for q in query.quarters], "pmp_version": version,
            "lines": lines}


def _cell(rule: Rule, row: pd.DataFrame, target: float | None, baseline: float | None, thresholds: Thresholds) -> dict:
    actual = float(row["actual"].iloc[0]) if len(row) and row["actual"].iloc[0] == row["actual"].iloc[0] else None
    frame = pd.DataFrame({"indicator": [rule.code], "actual": [actual if actual is not None else np.nan],
                          "target": [target if target is not None else np.nan],
                          "baseline": [baseline if baseline is not None else np.nan]})
    scored = achievement({rule.code: rule}, frame, thresholds).iloc[0]
    pct = scored["achievement"]
    return {"actual": actual, "target": target, "achievement": None if pct != pct else float(pct),
            "status": scored["status"]}


def load_aggregated(session: Session, catalogue: Catalogue, query: Query, quarters: list[str],
                    by: list[str]) -> pd.DataFrame:
    """The same input compile_span needs, pre-aggregated by the database.

    Per unit and quarter the `total` option wins over the sum of the parts; for stock
    indicators each unit keeps its latest quarter in the span (a window function); the rest is
    summed per indicator, component and programme (plus org unit when the rows are by org unit).
    compile_span then applies the same rules to far fewer rows.
    """
    from sqlalchemy import case

    states = ["approved", "submitted"] if query.include_submitted else ["approved"]
    if len(quarters) == 1:
        return _one_quarter(session, catalogue, query, quarters, by, states)
    per_unit = (
        select(DataValue.indicator_id, DataValue.component, DataValue.programme_id, DataValue.org_unit_id,
               DataValue.period,
               func.coalesce(func.sum(case((OptionCombo.is_total, DataValue.value))),
                             func.sum(case((OptionCombo.is_total.is_(False), DataValue.value)))).label("value"))
        .join(Return, Return.id == DataValue.return_id)
        .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
        .where(Return.state.in_(states), DataValue.period.in_(quarters),
               DataValue.indicator_id.in_([catalogue.indicators[c].id for c in query.indicators]),
               DataValue.programme_id.in_([catalogue.programmes[p].id for p in query.programmes]))
        .group_by(DataValue.indicator_id, DataValue.component, DataValue.programme_id, DataValue.org_unit_id,
                  DataValue.period)
    )
    if query.org_unit.level > 1:
        per_unit = per_unit.where(DataValue.org_unit_id.in_(
            select(OrgUnit.id).where(OrgUnit.path.startswith(query.org_unit.path))))
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


def _aggregated_frame(session: Session, catalogue: Catalogue, query: Query, quarters: list[str], by: list[str],
                      statement) -> pd.DataFrame:
    rows = session.connection().execute(statement).fetchall()
    names = ["indicator", "component", "programme"] + (["org_unit"] if "org_unit" in by else []) + ["value"]
    return _finish(catalogue, query, quarters, by, _frame(rows, names), names)


def _frame(rows, names: list[str]) -> pd.DataFrame:
    """Rows to columns directly: DataFrame.from_records on Row objects is several times slower."""
    if not rows:
        return pd.DataFrame(columns=names)
    return pd.DataFrame(dict(zip(names, zip(*rows, strict=True), strict=True)))




def _finish(catalogue: Catalogue, query: Query, quarters: list[str], by: list[str], frame: pd.DataFrame,
            names: list[str]) -> pd.DataFrame:
    """Codes for ids, and the columns compile_span expects."""
    if frame.empty:
        frame = pd.DataFrame(columns=names)
    frame["indicator"] = frame["indicator"].map({i.id: c for c, i in catalogue.indicators.items()})
    frame["programme"] = frame["programme"].map({p.id: c for c, p in catalogue.programmes.items()})
    if "org_unit" in by:
        frame["org_unit"] = frame["org_unit"].map({u.id: c for c, u in catalogue.org_units.items()})
    else:
        frame["org_unit"] = query.org_unit.code
    frame["option"] = "total"
    frame["period"] = quarters[-1]
    frame["value"] = frame["value"].astype(float)
    return frame[["indicator", "component", "option", "programme", "org_unit", "period", "value"]]


def compile_from_db(session: Session, catalogue: Catalogue, query: Query, quarters: list[str],
                    rule_map: dict[str, Rule], by: list[str], option_breakdown: bool) -> pd.DataFrame:
    """compile_span over the database: pre-aggregated unless options are broken down."""
    if option_breakdown:
        return compile_span(load_values(session, catalogue, query, quarters), rule_map, quarters, by=by,
                            option_breakdown=True)
    if "period" in by:
        rest = [d for d in by if d != "period"]
        frames = [compile_from_db(session, catalogue, query, [q], rule_map, rest, False).assign(period=q)
                  for q in quarters]
        return pd.concat(frames, ignore_index=True)
    return compile_span(load_aggregated(session, catalogue, query, quarters, by), rule_map, quarters, by=by)


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
        scope.append(DataValue.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(query.org_unit.path))))
    keys = [DataValue.indicator_id, DataValue.component, DataValue.programme_id]
    group = keys + ([DataValue.org_unit_id] if with_unit else [])
    total_ids = [combo for combo, code in catalogue.combo_codes.items() if code == "total"]
    parts = (select(*group, func.sum(DataValue.value)).join(Return, Return.id == DataValue.return_id)
             .where(*scope, DataValue.option_combo_id.not_in(total_ids)).group_by(*group))
    names = ["indicator", "component", "programme"] + (["org_unit"] if with_unit else []) + ["value"]
    frame = _frame(session.connection().execute(parts).fetchall(), names)
    totals = session.connection().execute(
        select(*keys, DataValue.org_unit_id, DataValue.value).join(Return, Return.id == DataValue.return_id)
        .where(*scope, DataValue.option_combo_id.in_(total_ids))).fetchall()
    if totals:
        unit_keys = ["indicator", "component", "programme", "org_unit"]
        given = pd.DataFrame.from_records(totals, columns=[*unit_keys, "value"])
        replaced = session.connection().execute(
            select(*keys, DataValue.org_unit_id, func.sum(DataValue.value)).join(Return, Return.id == DataValue.return_id)
            .where(*scope, DataValue.option_combo_id.not_in(total_ids),
                   tuple_(*keys, DataValue.org_unit_id).in_([tuple(k) for k in given[unit_keys].itertuples(index=False)]))
            .group_by(*keys, DataValue.org_unit_id)).fetchall()
        removed = pd.DataFrame.from_records(replaced, columns=[*unit_keys, "value"]).assign(
            value=lambda f: -f["value"].astype(float))
        group_cols = names[:-1]
        adjust = pd.concat([given.assign(value=given["value"].astype(float)), removed])
        adjust = adjust.groupby(group_cols, as_index=False)["value"].sum()
        frame = pd.concat([frame.assign(value=frame["value"].astype(float)), adjust])
        frame = frame.groupby(group_cols, as_index=False)["value"].sum()
    return _finish(catalogue, query, quarters, by, frame, names)
