"""Which plan's target applies to a figure: one rule, used by every product (pure, no database).

A cell is (indicator, scope, org unit, span). The scope is one programme, the sector (all
programmes, plan scope ``SECTOR``) or a list of programmes; the span is a quarter, a financial
year or a financial year to date.

1. **Own plan.** The current version of the scope's own PMP for the financial year (the
   programme's PMP; the sector PMP for all programmes; a list of programmes has no plan of its
   own), at the cell's org unit: for a quarter that quarter's target, for a financial year the
   year's target, for a year to date the quarters' targets added (flows) or the last quarter's
   (stocks and ratios).
2. **The plan's targets below.** If that plan sets no target at the org unit but sets one for
   every org unit under it where the scope reports (a programme plan with county targets, read
   for Kenya), a count or an amount takes their sum: "sum of county targets".
3. **The programmes' targets.** Without a target from rules 1–2, a sector cell (or a list of
   programmes) takes its target from the programmes that carry the indicator at that org unit,
   each by rules 1–2: one programme's target when only one carries it; the sum of their targets
   when several do, the indicator is a count or an amount that may be added across programmes,
   and every one of them has a target. Otherwise there is no target, and the note says why.

Baselines: a PMP line's baseline is the plan's national figure, so it applies only to a target
of that plan at Kenya level (rule 1 at ``KE``). A target from rule 3 takes the one programme's
baseline, or the sum of the programmes' baselines when every one of them has one. Rule 2 gives
no baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from indicators.messages import N_, message, text

SECTOR = "SECTOR"
NATIONAL = "KE"


@dataclass(frozen=True)
class Plan:
    """The current version of one PMP: its targets and its lines' baselines."""

    scope: str  # a programme code, or SECTOR
    version: int
    targets: Mapping[tuple[str, str, str], float]  # (indicator, org unit, period) -> value
    baselines: Mapping[str, tuple[float | None, str]] = field(default_factory=dict)  # indicator -> (value, period)


@dataclass(frozen=True)
class Span:
    """The quarters of a cell's span; `year` is the financial year's id when the span is a whole year."""

    quarters: tuple[str, ...]
    year: str | None = None


@dataclass(frozen=True)
class Indicator:
    code: str
    measure: str  # count | amount | ratio
    time_aggregation: str  # sum | last
    additive: bool  # may be added across programmes


@dataclass(frozen=True)
class Reporting:
    """Who reports what, where: from the reporting forms and the org-unit tree."""

    carries: Mapping[str, frozenset[str]]  # programme -> indicator codes on its form
    units: Mapping[str, frozenset[str]]  # programme -> org unit codes on its form
    paths: Mapping[str, str]  # org unit code -> materialised path
    # (org unit, programme) -> the programme's reporting units at or under it; filled as asked
    _reach: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, init=False, repr=False,
                                                          compare=False)

    def _at_or_under(self, unit: str, programme: str) -> tuple[str, ...]:
        key = (unit, programme)
        found = self._reach.get(key)
        if found is None:
            path = self.paths[unit]
            found = self._reach[key] = tuple(sorted(u for u in self.units.get(programme, ())
                                                    if self.paths[u].startswith(path)))
        return found

    def under(self, unit: str, programme: str) -> list[str]:
        """The units one level under `unit` where the programme reports (at them or further down): Kenya's
        counties whether their returns are the county's own or its wards', whose targets add up to Kenya's."""
        path = self.paths[unit]
        return sorted({self.paths[u][len(path):].split("/")[0] for u in self._at_or_under(unit, programme)
                       if u != unit})

    def reports_at(self, programme: str, indicator: str, unit: str) -> bool:
        """Whether the programme carries the indicator at the org unit or anywhere under it."""
        return indicator in self.carries.get(programme, ()) and bool(self._at_or_under(unit, programme))


@dataclass(frozen=True)
class TargetChoice:
    """The target of one cell, where it came from, and why there is none."""

    value: float | None = None
    baseline: float | None = None
    baseline_period: str = ""
    source: str = ""  # e.g. "OPCT PMP v2", "sum of programme targets: CTOVC, OPCT"
    plan: str = ""  # the plan scope used when one plan gave it, else ""
    version: int | None = None
    note: str = ""  # why there is no target

    @property
    def found(self) -> bool:
        return self.value is not None


def _span_value(plan: Plan, indicator: Indicator, unit: str, span: Span) -> float | None:
    """Rule 1: the plan's own target for the span at the org unit."""
    if span.year is not None:
        return plan.targets.get((indicator.code, unit, span.year))
    quarters = [plan.targets.get((indicator.code, unit, q)) for q in span.quarters]
    if indicator.time_aggregation == "last" or indicator.measure == "ratio":
        return quarters[-1]
    return _total(quarters)  # a year to date needs every quarter's target


def _total(values: Sequence[float | None]) -> float | None:
    """The sum of `values`, or None when any of them is missing."""
    known = [v for v in values if v is not None]
    return float(sum(known)) if len(known) == len(values) else None


def _from_plan(plan: Plan | None, indicator: Indicator, unit: str, span: Span, reporting: Reporting,
               scope_programmes: Sequence[str]) -> TargetChoice:
    """Rules 1 and 2 for one plan."""
    if plan is None:
        return TargetChoice()
    value = _span_value(plan, indicator, unit, span)
    label = text(message(N_("%(scope)s PMP v%(version)s"), scope=plan.scope, version=plan.version))
    if value is not None:
        baseline, period = plan.baselines.get(indicator.code, (None, "")) if unit == NATIONAL else (None, "")
        return TargetChoice(value, baseline, period if baseline is not None else "", label, plan.scope, plan.version)
    if indicator.measure == "ratio":
        return TargetChoice()
    below = sorted({u for p in scope_programmes if indicator.code in reporting.carries.get(p, ())
                    for u in reporting.under(unit, p)})
    if not below:
        return TargetChoice()
    total = _total([_span_value(plan, indicator, u, span) for u in below])
    if total is None:
        return TargetChoice()
    return TargetChoice(total, source=text(message(N_("sum of county targets, %(plan)s"), plan=label)), plan=plan.scope,
                        version=plan.version)


def choose(indicator: Indicator, scope: str | Sequence[str], unit: str, span: Span, plans: Mapping[str, Plan],
           reporting: Reporting, all_programmes: Sequence[str]) -> TargetChoice:
    """The target that applies to one cell (module docstring: rules 1–3)."""
    programmes = [scope] if isinstance(scope, str) and scope != SECTOR else (
        list(all_programmes) if scope == SECTOR else list(scope))
    own_scope = scope if isinstance(scope, str) else None
    if own_scope is not None:
        own = _from_plan(plans.get(own_scope), indicator, unit, span, reporting, programmes)
        if own.found:
            return own
        if own_scope != SECTOR:
            return TargetChoice(note=_missing_note(own_scope, plans, unit))
    carriers = [p for p in programmes if reporting.reports_at(p, indicator.code, unit)]
    if not carriers:
        return TargetChoice(note=text(message(N_("no programme reports this indicator here"))))
    found = {p: _from_plan(plans.get(p), indicator, unit, span, reporting, [p]) for p in carriers}
    lacking = [p for p, choice in found.items() if not choice.found]
    where = message(N_("the sector PMP sets none") if own_scope == SECTOR else N_("these programmes have no common plan"))
    if len(carriers) == 1:
        programme = carriers[0]
        choice = found[programme]
        if not choice.found:
            return TargetChoice(note=text(message(N_("%(where)s, nor does %(programme)s, the only programme reporting it"),
                                                  where=where, programme=programme)))
        return TargetChoice(choice.value, choice.baseline, choice.baseline_period,
                            text(message(N_("%(source)s, the only programme reporting it"), source=choice.source)),
                            choice.plan, choice.version)
    if indicator.measure == "ratio" or not indicator.additive:
        kind = message(N_("a percentage") if indicator.measure == "ratio" else N_("not added across programmes"))
        return TargetChoice(note=text(message(N_("%(where)s; programme targets are not added (%(kind)s)"),
                                              where=where, kind=kind)))
    if lacking:
        template = (N_("%(where)s, and %(programmes)s has no target to add") if len(lacking) == 1
                    else N_("%(where)s, and %(programmes)s have no target to add"))
        return TargetChoice(note=text(message(template, where=where, programmes=", ".join(lacking))))
    baseline = _total([c.baseline for c in found.values()])
    periods = {c.baseline_period for c in found.values()}
    return TargetChoice(_total([c.value for c in found.values()]), baseline,
                        periods.pop() if baseline is not None and len(periods) == 1 else "",
                        text(message(N_("sum of programme targets: %(plans)s"),
                                     plans=", ".join(f"{p} v{found[p].version}" for p in carriers))))


def _missing_note(scope: str, plans: Mapping[str, Plan], unit: str) -> str:
    if scope not in plans:
        return text(message(N_("no %(scope)s PMP for the year"), scope=scope))
    return text(message(N_("the %(scope)s PMP sets no target here for the period"), scope=scope))
