"""Turn the codes people type (indicators, options, counties, periods) into catalogue ids."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.expressions import Expression
from indicators.periods import PeriodError, PeriodType, parse_period
from indicators.validation import IndicatorSpec, Issue, Rule, describe, location_of
from mel.catalogue.models import (
    DisaggregationSet,
    Indicator,
    OrgUnit,
    Pillar,
    Programme,
    ReportingForm,
    ReportingFormIndicator,
    ValidationRule,
)
from mel.catalogue.queries import name_key

SUFFIXES = {".N": "numerator", ".D": "denominator"}


@dataclass
class Catalogue:
    """The slice of the catalogue the ingest service needs, loaded once per request."""

    indicators: dict[str, Indicator]
    specs: dict[str, IndicatorSpec]
    combos: dict[tuple[str, str], int]  # (indicator code, option code) -> option combo id
    combo_codes: dict[int, str]
    org_units: dict[str, OrgUnit]  # code -> unit
    org_unit_lookup: dict[str, OrgUnit]  # any accepted spelling -> unit
    programmes: dict[str, Programme]
    forms: dict[int, ReportingForm]  # programme id -> form
    rules: list[Rule] = field(default_factory=list)
    pillar_codes: dict[int, str] = field(default_factory=dict)

    def form_indicators(self, programme_id: int) -> set[str]:
        form = self.forms.get(programme_id)
        return {item.indicator.code for item in form.items} if form else set()

    def form_org_units(self, programme_id: int) -> set[str]:
        form = self.forms.get(programme_id)
        return {unit.code for unit in form.org_units} if form else set()


def load_catalogue(session: Session) -> Catalogue:
    indicators = {
        i.code: i
        for i in session.scalars(
            select(Indicator).options(
                selectinload(Indicator.disaggregation_set).selectinload(DisaggregationSet.combos)
            )
        )
    }
    specs, combos, combo_codes = {}, {}, {}
    for code, indicator in indicators.items():
        options = indicator.disaggregation_set.combos
        specs[code] = IndicatorSpec(
            code, indicator.measure, indicator.factor,
            tuple(c.code for c in options if not c.is_total), any(c.is_total for c in options),
        )
        for combo in options:
            combos[(code, combo.code)] = combo.id
            combo_codes[combo.id] = combo.code
    units = list(session.scalars(select(OrgUnit)))
    lookup: dict[str, OrgUnit] = {}
    for unit in units:
        lookup[unit.code] = unit
        lookup[unit.uid] = unit
        if unit.iso_code:
            lookup[unit.iso_code.upper()] = unit
        lookup[name_key(unit.name)] = unit
        if unit.level == 2:
            lookup[str(int(unit.code))] = unit
        else:
            lookup["kenya"] = unit
    forms = {
        form.programme_id: form
        for form in session.scalars(
            select(ReportingForm).options(
                selectinload(ReportingForm.items).selectinload(ReportingFormIndicator.indicator),
                selectinload(ReportingForm.org_units),
            )
        )
    }
    rules = [
        Rule(r.code, r.name, Expression.parse(r.left), r.operator, Expression.parse(r.right),
             r.severity, r.importance, r.missing_strategy)
        for r in session.scalars(select(ValidationRule).where(ValidationRule.is_active.is_(True)))
    ]
    return Catalogue(
        indicators=indicators, specs=specs, combos=combos, combo_codes=combo_codes,
        org_units={u.code: u for u in units}, org_unit_lookup=lookup,
        programmes={p.code: p for p in session.scalars(select(Programme))}, forms=forms, rules=rules,
        pillar_codes=dict(session.execute(select(Pillar.id, Pillar.code)).all()),
    )


def find_org_unit(catalogue: Catalogue, raw: str) -> OrgUnit | None:
    text = str(raw).strip()
    return (catalogue.org_unit_lookup.get(text) or catalogue.org_unit_lookup.get(text.upper())
            or catalogue.org_unit_lookup.get(name_key(text)))


def _error(code: str, what: str, row: dict) -> Issue:
    location = location_of(row)
    return Issue("error", code, f"{describe(location)}: {what}", location)


def resolve_rows(rows: pd.DataFrame, catalogue: Catalogue, programme: Programme) -> tuple[pd.DataFrame, list[Issue]]:
    """Resolve codes to ids for one programme's rows; unresolvable rows become located errors."""
    frame = rows.copy()
    frame["programme"] = programme.code
    frame["programme_id"] = programme.id
    issues: list[Issue] = []

    # Indicator and component: "SA12.N" -> SA12 numerator; plain codes are values.
    raw_indicator = frame["indicator"].astype(str).str.strip().str.upper()
    suffix = raw_indicator.str[-2:]
    has_suffix = suffix.isin(list(SUFFIXES))
    frame["indicator"] = raw_indicator.where(~has_suffix, raw_indicator.str[:-2])
    frame["component"] = suffix.map(SUFFIXES).where(has_suffix, "value")
    form_codes = catalogue.form_indicators(programme.id)
    form_units = catalogue.form_org_units(programme.id)
    measure = frame["indicator"].map(lambda c: catalogue.specs[c].measure if c in catalogue.specs else None)
    ok = pd.Series(True, index=frame.index)

    unknown = measure.isna()
    for row in frame[unknown].to_dict("records"):
        issues.append(_error("unknown_indicator",
                             f"indicator {row['indicator']!r} is not in the catalogue.", row))
    not_on_form = ~unknown & ~frame["indicator"].isin(form_codes)
    for row in frame[not_on_form].to_dict("records"):
        issues.append(_error("not_on_form",
                             f"{row['indicator']} is not on the {programme.code} reporting form.", row))
    ratio_without_part = (measure == "ratio") & (frame["component"] == "value")
    for row in frame[ratio_without_part].to_dict("records"):
        issues.append(_error("ratio_needs_parts",
                             f"{row['indicator']} is a ratio: give {row['indicator']}.N (numerator) and "
                             f"{row['indicator']}.D (denominator), never the percentage.", row))
    part_of_non_ratio = measure.notna() & (measure != "ratio") & (frame["component"] != "value")
    for row in frame[part_of_non_ratio].to_dict("records"):
        issues.append(_error("not_a_ratio",
                             f"{row['indicator']} is not a ratio; use the code without .N/.D.", row))
    ok &= ~(unknown | not_on_form | ratio_without_part | part_of_non_ratio)
    frame["indicator_id"] = frame["indicator"].map(
        lambda c: catalogue.indicators[c].id if c in catalogue.indicators else None)

    # Options: must belong to the indicator's disaggregation set.
    frame["option"] = frame["option"].astype(str).str.strip()
    frame.loc[frame["option"] == "", "option"] = "default"
    keys = list(zip(frame["indicator"], frame["option"], strict=True))
    frame["option_combo_id"] = [catalogue.combos.get(key) for key in keys]
    bad_option = ok & frame["option_combo_id"].isna()
    for row in frame[bad_option].to_dict("records"):
        spec = catalogue.specs[row["indicator"]]
        valid = ", ".join(spec.options + (("total",) if spec.has_total else ()))
        issues.append(_error("unknown_option",
                             f"option {row['option']!r} is not valid for {row['indicator']}; use one of {valid}.", row))
    ok &= ~bad_option

    # Org units, resolved once per distinct spelling.
    spellings = {raw: find_org_unit(catalogue, raw) for raw in frame["org_unit"].astype(str).unique()}
    frame["org_unit_raw"] = frame["org_unit"]
    frame["org_unit"] = frame["org_unit_raw"].map(lambda raw: spellings[str(raw)].code if spellings[str(raw)] else None)
    frame["org_unit_id"] = frame["org_unit_raw"].map(lambda raw: spellings[str(raw)].id if spellings[str(raw)] else None)
    bad_unit = frame["org_unit"].isna()
    for row in frame[bad_unit].to_dict("records"):
        row = {**row, "org_unit": row["org_unit_raw"]}
        issues.append(_error("unknown_org_unit",
                             f"org unit {row['org_unit_raw']!r} is not known: use the county code "
                             "(001–047, e.g. 042 or 42), its name, or KE for Kenya.", row))
    outside = ~bad_unit & ~frame["org_unit"].isin(form_units)
    for row in frame[outside].to_dict("records"):
        issues.append(_error("outside_form",
                             f"{programme.code} does not report for {catalogue.org_units[row['org_unit']].name}.", row))
    ok &= ~(bad_unit | outside)

    # Periods: quarters only (the reporting forms are quarterly).
    periods = {}
    for raw in frame["period"].astype(str).unique():
        try:
            parsed = parse_period(raw)
            periods[raw] = parsed.id if parsed.type is PeriodType.QUARTER else (
                None, f"{raw!r} is a {parsed.type.value.replace('_', ' ')}; returns are quarterly, e.g. 2025Q3.")
        except PeriodError as exc:
            periods[raw] = (None, str(exc))
    resolved_period = frame["period"].astype(str).map(lambda raw: periods[raw] if isinstance(periods[raw], str) else None)
    for row in frame[resolved_period.isna()].to_dict("records"):
        issues.append(_error("bad_period", periods[str(row["period"])][1], {**row, "period": None}))
    ok &= resolved_period.notna()
    frame["period"] = resolved_period
    return frame[ok].copy(), issues
