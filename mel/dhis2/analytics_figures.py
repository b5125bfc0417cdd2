"""Figures of a resolved analytics query, from the compilation engine behind /api/v1/results.

Every cell is what `mel.results.queries.compile_from_db` gives for its org unit, span of quarters
and programmes: ratios of sums, stocks at each unit's latest quarter, figures not added across
programmes left out, and by option exactly as /api/v1/results' by=option.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from indicators.periods import Period, parse_period
from mel.dhis2.analytics_query import (
    ATTRIBUTE_OPTION_COMBO,
    CATEGORY_OPTION_COMBO,
    DATA,
    ORG_UNIT,
    PERIOD,
    Axis,
    DataItem,
    Plan,
)


@dataclass(frozen=True)
class Cell:
    value: float
    numerator: float | None = None
    denominator: float | None = None
    factor: float | None = None


def _groups(axis: Axis | None, default: list, key) -> list[tuple[str | None, list]]:
    """(row key, members) per item of a dimension; one group of every member for a filter or no axis."""
    if axis is None:
        return [(None, default)]
    if axis.is_filter:
        return [(None, list(axis.items))]
    return [(key(item), [item]) for item in axis.items]


def compute(session, catalogue, plan: Plan, ids) -> dict[tuple, Cell]:
    """Figures by (data item, period id, org unit code, programme code); None where a dimension is a filter."""
    from mel.results.queries import rules

    data_axis = plan.axis(DATA)
    items: list[DataItem] = list(data_axis.items) if data_axis else []
    codes = sorted({item.indicator for item in items} & set(catalogue.indicators))
    if not codes or plan.options.skip_data:
        return {}
    rule_map = {code: rule for code, rule in rules(catalogue).items() if code in codes}
    root = min(catalogue.org_units.values(), key=lambda u: u.level)
    period_groups = _groups(plan.axis(PERIOD), [], lambda p: p.id)
    unit_groups = _groups(plan.axis(ORG_UNIT), [ids.org_unit_for(root.code)], lambda u: u.our_code)
    programme_groups = _groups(plan.axis(ATTRIBUTE_OPTION_COMBO),
                               [ids.attribute_combo_for(p) for p in sorted(catalogue.programmes)],
                               lambda a: a.programme)
    units = [catalogue.org_units[members[0].our_code] for _, members in unit_groups]
    data_keyed = data_axis is not None and not data_axis.is_filter
    co_axis = plan.axis(CATEGORY_OPTION_COMBO)
    by_option = co_axis is not None or any(item.kind == "operand" for item in items)
    cells: dict[tuple, Cell] = {}
    for period_key, periods in period_groups:
        quarters = _quarters(periods)
        if not quarters:
            continue  # months hold no quarterly figures; DHIS2 does not split a quarter's data into months
        for programme_key, combos in programme_groups:
            programmes = sorted({c.programme for c in combos})
            unapproved = plan.options.include_unapproved
            totals = _compile_units(session, catalogue, codes, quarters, units, programmes, rule_map, False,
                                    unapproved)
            options = _compile_units(session, catalogue, codes, quarters, units, programmes, rule_map, True,
                                     unapproved) if by_option else {}
            for (unit_key, _), unit in zip(unit_groups, units, strict=True):
                for item in items:
                    for combo, row in _rows_of(item, co_axis, ids, totals.get(unit.code, {}),
                                               options.get(unit.code, {})):
                        cell = _cell(item, row, rule_map) if row is not None else None
                        if cell is not None:
                            key = (item if data_keyed else None, period_key, unit_key, programme_key, combo)
                            cells[key] = cell
    return cells


def _rows_of(item: DataItem, co_axis: Axis | None, ids, totals: dict, options: dict):
    """(category option combo uid or None, compiled row) of a data item: its total, or one per option combo.

    The breakdown is the one /api/v1/results gives with by=option; a data element without
    disaggregation has DHIS2's default combo, whose figure is the total.
    """
    if item.kind == "operand":
        combos = [item.combo]
    elif co_axis is not None and item.kind == "dataElement":
        allowed = set(ids.combos_of(item.obj.uid))
        combos = [c for c in co_axis.items if c in allowed]
    else:
        yield None, totals.get(item.indicator)
        return
    for combo in combos:
        row = totals.get(item.indicator) if combo.is_default else options.get((item.indicator, combo.option_code))
        yield (combo.uid if co_axis is not None else None), row


def _quarters(periods: list[Period]) -> list[str]:
    """The quarters a span of periods covers, oldest first (a quarter, financial or calendar year)."""
    found: set[Period] = set()
    for period in periods:
        if period.type.value != "month":
            found.update(period.quarters())
    return [q.id for q in sorted(found)]


def _compile_units(session, catalogue, codes: list[str], quarters: list[str], units: list, programmes: list[str],
                   rule_map: dict, by_option: bool, include_unapproved: bool = False) -> dict[str, dict]:
    """Compiled rows by org unit code and indicator code: each unit's own figures and everything under it.

    One compilation by reporting unit under the common root answers every unit whose figures were
    all reported at the unit itself (counties, usually); a unit with figures reported below it is
    compiled on its own, so every figure is exactly the one /api/v1/results gives for that unit.
    """
    from mel.results.queries import Query, compile_from_db

    def query(unit) -> Query:
        return Query(indicators=codes, span=parse_period(quarters[-1]), quarters=quarters, label="", org_unit=unit,
                     programmes=programmes, scope="", include_submitted=include_unapproved, by=[])

    def by_indicator(frame) -> dict:
        """Rows by indicator code, or by (indicator code, option code) when broken down by option."""
        return {(row["indicator"], row["option"]) if by_option else row["indicator"]: row
                for row in frame.to_dict("records")}

    if len(units) == 1:
        return {units[0].code: by_indicator(compile_from_db(session, catalogue, query(units[0]), quarters, rule_map,
                                                            [], by_option))}
    root = min(catalogue.org_units.values(), key=lambda u: u.level)
    frame = compile_from_db(session, catalogue, query(root), quarters, rule_map, ["org_unit"], by_option)
    reporting = [catalogue.org_units[code] for code in set(frame["org_unit"]) if code in catalogue.org_units]
    out: dict[str, dict[str, dict]] = {}
    for unit in units:
        if any(r.code != unit.code and r.path.startswith(unit.path) for r in reporting):
            out[unit.code] = by_indicator(compile_from_db(session, catalogue, query(unit), quarters, rule_map, [],
                                                          by_option))
        else:
            out[unit.code] = by_indicator(frame[frame["org_unit"] == unit.code])
    return out


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _cell(item: DataItem, row: dict, rule_map: dict) -> Cell | None:
    actual, numerator, denominator = (_number(row.get(k)) for k in ("actual", "numerator", "denominator"))
    rule = rule_map[item.indicator]
    if item.kind != "indicator":
        value = {"value": actual, "numerator": numerator, "denominator": denominator}.get(item.component)
        return None if value is None else Cell(value)
    if actual is None:
        return None
    if rule.measure == "ratio":
        return Cell(actual, numerator, denominator, float(rule.factor or 1))
    return Cell(actual, actual, 1.0, 1.0)
