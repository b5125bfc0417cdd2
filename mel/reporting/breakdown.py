"""The snapshot's disaggregation part: figures by option, the categories they break down into, and
their history, from the same services as `/api/v1/results?by=option`."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.periods import parse_period
from mel.catalogue.lookup import Catalogue
from mel.catalogue.models import (
    DisaggregationCategory,
    DisaggregationSet,
    DisaggregationSetCategory,
)
from mel.results.queries import compile_from_db, resolve_query, rules

HISTORY_QUARTERS = 8


def _sets(session: Session) -> dict[str, dict]:
    """Every disaggregation set that has categories: its categories (with their options) and combos."""
    found = session.scalars(select(DisaggregationSet).options(
        selectinload(DisaggregationSet.categories).selectinload(DisaggregationSetCategory.category)
        .selectinload(DisaggregationCategory.options),
        selectinload(DisaggregationSet.combos))).all()
    return {s.code: {
        "name": s.name,
        "categories": [{"code": link.category.code, "name": link.category.name,
                        "options": [{"code": o.code, "name": o.name} for o in link.category.options]}
                       for link in s.categories],
        "combos": {c.code: c.name for c in s.combos},
    } for s in found if s.categories}


def option_part(session: Session, catalogue: Catalogue, compiled: Callable[..., list[dict]], *, period: str,
                org_unit: str, programme: str, indicators: list[str] | None = None, history: bool = True) -> dict:
    """`disaggregation` (sets and which indicator uses which), `by_option` (the results API's rows
    by option for the quarter) and, with `history`, `option_history` (each option's figure over the
    last eight quarters)."""
    sets = _sets(session)
    wanted = indicators if indicators is not None else sorted(catalogue.indicators)
    uses = {code: catalogue.indicators[code].disaggregation_set.code for code in wanted
            if catalogue.indicators[code].disaggregation_set.code in sets}
    part: dict = {"disaggregation": {"sets": {s: sets[s] for s in sorted(set(uses.values()))}, "indicators": uses},
                  "by_option": [], "option_history": None}
    if not uses:
        return part
    codes = sorted(uses)
    part["by_option"] = compiled(indicators=codes, by=["option"])
    if history:
        part["option_history"] = _option_history(session, catalogue, codes, period=period, org_unit=org_unit,
                                                 programme=programme)
    return part


def _option_history(session: Session, catalogue: Catalogue, codes: list[str], *, period: str, org_unit: str,
                    programme: str) -> dict:
    quarter = parse_period(period)
    quarters = [quarter.shift(-n).id for n in range(HISTORY_QUARTERS - 1, -1, -1)]
    query = resolve_query(catalogue, indicators=codes, period=period, org_unit=org_unit, programme=programme)
    rule_map = {c: r for c, r in rules(catalogue).items() if c in query.indicators}
    frame = compile_from_db(session, catalogue, query, quarters, rule_map, ["period"], True)
    position = {q: n for n, q in enumerate(quarters)}
    series: dict[str, dict[str, dict[str, list]]] = {}
    for row in frame.to_dict("records"):
        option = series.setdefault(row["indicator"], {}).setdefault(
            row["option"], {k: [None] * len(quarters) for k in ("actual", "numerator", "denominator")})
        for key in option:
            value = row.get(key)
            option[key][position[row["period"]]] = None if value is None or value != value else float(value)
    return {"quarters": quarters, "labels": [parse_period(q).short_label for q in quarters], "series": series}
