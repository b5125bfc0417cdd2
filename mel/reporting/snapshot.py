"""Gather the plain data a report is built from: compiled results, completeness, plans, data quality.

The snapshot is JSON-ready (numbers, strings, lists, dicts) and is stored with the report run,
so the same report can be rendered again later with exactly the same figures. Everything
in it comes from the same services as the API (`results`, `expected_returns`, the
data-quality report), so a figure in a PDF equals the API's answer for the same query.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from indicators.compile import Thresholds
from indicators.completeness import completeness
from indicators.periods import parse_period
from mel.catalogue.lookup import Catalogue, find_org_unit
from mel.catalogue.models import DisaggregationCategory, DisaggregationSet, Pillar
from mel.errors import NotFound, ValidationFailed
from mel.periods import quarter as parse_quarter
from mel.plans.models import SECTOR, WORKING_GROUPS, Pmp, PmpVersion, WorkPlan
from mel.plans.queries import workplan_body
from mel.reporting.breakdown import option_part
from mel.reporting.commentary import story_part
from mel.reporting.money import disbursement_budgets
from mel.results.queries import (
    TargetBook,
    compile_from_db,
    compiled_once,
    resolve_query,
    results,
    rules,
)
from mel.returns.models import Return, ReturnEvent
from mel.review import quality
from mel.review.queries import expected_returns
from reports.allocation import collecting_less
from reports.county_maps import COVERAGE_MAPS

SCHEMA = 1
HISTORY_QUARTERS = 8


def plain(value):
    """Numbers, strings, lists and dicts only: numpy and Decimal to float/int, dates to ISO text."""
    kind = type(value)  # the common exact types first: a snapshot holds tens of thousands of values
    if kind is str or value is None:
        return value
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    if kind is float:
        return None if math.isnan(value) or math.isinf(value) else value
    if kind is int:
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    if value != value:  # NaT and friends
        return None
    return str(value)


def _catalogue_part(session: Session, catalogue: Catalogue, period: str) -> dict:
    pillars = session.scalars(select(Pillar).order_by(Pillar.sort_order)).all()
    set_names = dict(session.execute(select(DisaggregationSet.id, DisaggregationSet.name)).all())
    replaces: dict[int, list[str]] = {}  # the retired indicators each one replaces (results and reports link them)
    for code, i in sorted(catalogue.indicators.items()):
        if i.replaced_by_id:
            replaces.setdefault(i.replaced_by_id, []).append(code)
    reported_by: dict[str, list[str]] = {}
    for programme_code, programme in sorted(catalogue.programmes.items()):
        for indicator_code in catalogue.form_indicators(programme.id, period):
            reported_by.setdefault(indicator_code, []).append(programme_code)
    return {
        "pillars": [{"code": p.code, "name": p.name, "description": p.description} for p in pillars],
        "indicators": {code: {
            "name": i.name, "short_name": i.short_name, "pillar": catalogue.pillar_codes.get(i.pillar_id, ""),
            "level": i.level, "unit": i.unit, "measure": i.measure, "factor": i.factor,
            "direction": i.direction, "time_aggregation": i.time_aggregation,
            "additive": i.is_additive_across_programmes, "frequency": i.frequency,
            # the source and method line of the glossary annex (reports/glossary.py)
            "definition": i.definition, "numerator": i.numerator, "denominator": i.denominator,
            "disaggregation": set_names.get(i.disaggregation_set_id, ""), "data_source": i.data_source,
            "basis": i.basis, "reported_by": reported_by.get(code, []),
            # the reference sheet's version this report used (its definition is the one above), and lineage
            "version": i.version, "is_active": i.is_active,
            "replaced_by": catalogue.indicator_codes.get(i.replaced_by_id) if i.replaced_by_id else None,
            "replaces": replaces.get(i.id, []),
        } for code, i in sorted(catalogue.indicators.items())},
        "programmes": {code: {"name": p.name, "pillar": catalogue.pillar_codes.get(p.pillar_id, ""),
                              "agency": p.agency} for code, p in sorted(catalogue.programmes.items())},
        "counties": {u.code: u.name for u in sorted(catalogue.org_units.values(), key=lambda u: u.code)
                     if u.level == 2},
    }


def _history(session: Session, catalogue: Catalogue, period: str, org_unit: str, programme: str,
             indicators: list[str] | None = None) -> dict[str, list]:
    """Each indicator's actual over the last eight quarters ending at `period` (oldest first)."""
    quarter = parse_period(period)
    quarters = [quarter.shift(-n).id for n in range(HISTORY_QUARTERS - 1, -1, -1)]
    query = resolve_query(catalogue, indicators=indicators, period=period, org_unit=org_unit, programme=programme)
    rule_map = {c: r for c, r in rules(catalogue).items() if c in query.indicators}
    frame = compile_from_db(session, catalogue, query, quarters, rule_map, ["period"], False)
    series: dict[str, list] = {code: [None] * len(quarters) for code in query.indicators}
    position = {q: n for n, q in enumerate(quarters)}
    for row in frame.to_dict("records"):
        actual = row["actual"]
        if actual == actual and actual is not None:
            series[row["indicator"]][position[row["period"]]] = float(actual)
    return {"quarters": quarters, "labels": [parse_period(q).short_label for q in quarters], "series": series}


def _completeness(frame, by: str) -> list[dict]:
    return [] if frame.empty else plain(completeness(frame, by=by).to_dict("records"))


def _returns_part(session: Session, catalogue: Catalogue, period: str, *, programme: str | None = None,
                  org_unit: str | None = None) -> dict:
    # A county's returns are its own and its wards' (a ward-level form's), counted per ward.
    frame = expected_returns(session, catalogue, period,
                             within=catalogue.org_units[org_unit] if org_unit in catalogue.org_units else None)
    if not frame.empty and programme:
        frame = frame[frame["programme"] == programme]
    overall = _completeness(frame.assign(all="all"), "period") if not frame.empty else []
    return {
        "overall": overall[0] if overall else None,
        "by_programme": _completeness(frame, "programme"),
        "by_org_unit": _completeness(frame, "org_unit"),
        "by_pillar": _completeness(frame, "pillar"),
    }


def _pmp_part(session: Session, scope: str, fiscal_year: str) -> dict | None:
    row = session.execute(
        select(Pmp.scope, Pmp.fiscal_year, Pmp.title, PmpVersion.number, PmpVersion.reason, PmpVersion.created_at)
        .join(PmpVersion, (PmpVersion.pmp_id == Pmp.id) & (PmpVersion.number == Pmp.current_version))
        .where(Pmp.scope == scope, Pmp.fiscal_year == fiscal_year)).first()
    if row is None:
        return None
    return {"scope": row[0], "fiscal_year": row[1], "title": row[2], "version": row[3], "reason": row[4],
            "created_at": row[5]}


def _workplan_part(session: Session, fiscal_year: str, period: str) -> dict | None:
    plan = session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == fiscal_year))
    if plan is None:
        return None
    body = workplan_body(session, plan)
    for activity in body["activities"]:
        progress = {p["period"]: p for p in activity["progress"]}
        latest = [p for q, p in sorted(progress.items()) if q <= period]
        activity["current"] = progress.get(period) or (latest[-1] if latest else None)
        activity["planned_now"] = period in activity["planned_quarters"]
        activity.pop("progress")
    body["working_groups"] = WORKING_GROUPS
    return body


def _quality_part(session: Session, catalogue: Catalogue, period: str, *, programme: str | None = None,
                  org_unit: str | None = None) -> dict:
    found = quality.report(session, catalogue, period)
    name = catalogue.org_units[org_unit].name if org_unit else None

    def mine(label: str) -> bool:
        code, _, unit = label.partition(" ")
        return (programme is None or code == programme) and (name is None or unit == name)

    flags = [f for f in found["unexplained"] + found["explained"] if mine(f["return"])]
    decisions = [d for d in found["decisions"] if mine(d["return"])]
    approvals: dict[str, int] = {}
    for decision in decisions:
        if decision["decision"] == "approved":
            code = decision["return"].split(" ", 1)[0]
            approvals[code] = approvals.get(code, 0) + 1
    return {
        "flags": [{k: f[k] for k in ("return", "kind", "message", "explanation", "explanation_code")}
                  for f in flags],
        "outliers": [o for o in found["outliers"] if (programme is None or o["programme"] == programme)
                     and (name is None or o["org_unit"] == name)],
        "unchanged": [u for u in found["unchanged"] if (programme is None or u["programme"] == programme)
                      and (name is None or u["org_unit"] == name)],
        # Approvals are counted; the decisions that changed something are listed in full.
        "approvals_by_programme": approvals,
        "decisions": [{k: d[k] for k in ("at", "return", "decision", "by", "reason", "reasons")}
                      for d in decisions if d["decision"] != "approved"],
    }


def _data_as_of(session: Session, period: str):
    return session.scalar(select(func.max(ReturnEvent.at)).join(Return, Return.id == ReturnEvent.return_id)
                          .where(Return.period <= period))


def gather(session: Session, catalogue: Catalogue, *, kind: str, period: str, programme: str = "ALL",
           org_unit: str = "KE", thresholds: Thresholds | None = None, generated_at: datetime,
           language: str = "en") -> dict:
    """Everything a report of this kind needs, as plain data (each set of figures compiled once;
    reports/allocation.py: fewer garbage collections). The catalogue's names are in `language`."""
    with compiled_once(), collecting_less():
        snapshot = _gather(session, catalogue, kind=kind, period=period, programme=programme, org_unit=org_unit,
                           thresholds=thresholds, generated_at=generated_at)
    if kind == "sector":  # what the evidence register says, by pillar (none linked: no key, the report unchanged)
        from mel.learning.queries import report_evidence

        evidence = report_evidence(session, language)
        if evidence:
            snapshot["evidence"] = evidence
    return in_language(session, snapshot, catalogue, language)


def in_language(session: Session, snapshot: dict, catalogue: Catalogue, language: str) -> dict:
    """The snapshot with the catalogue's names and definitions in `language` (Kiswahili where the
    catalogue has it, else English: mel/catalogue/language.py); figures untouched. English: as it is."""
    snapshot["language"] = language
    if language == "en":
        return snapshot
    from mel.catalogue.language import localised

    for code, info in snapshot["indicators"].items():
        entity = catalogue.indicators.get(code)
        if entity is not None:
            for name in ("name", "short_name", "definition"):
                info[name] = localised(entity, name, language)
            if info.get("disaggregation") and entity.disaggregation_set is not None:
                info["disaggregation"] = localised(entity.disaggregation_set, "name", language)
    pillars = {p.code: p for p in session.scalars(select(Pillar))}
    for pillar in snapshot["pillars"]:
        entity = pillars.get(pillar["code"])
        if entity is not None:
            pillar["name"], pillar["description"] = localised(entity, "name", language), localised(entity, "description", language)
    for code, info in snapshot["programmes"].items():
        entity = catalogue.programmes.get(code)
        if entity is not None:
            info["name"] = localised(entity, "name", language)
    _options_in_language(session, (snapshot.get("disaggregation") or {}).get("sets") or {}, language)
    return _said_in(snapshot, language)


def _said_in(value, language: str):
    """Every message the compiled figures carry (a target's source, why there is none:
    indicators/messages.py `Text`), said in `language`; everything else as it is."""
    from indicators.compile import NOT_ADDED_NOTE
    from indicators.messages import Text, say
    from mel.i18n import report_catalogues
    from reports.i18n import catalogue

    gettext = catalogue(language, report_catalogues()).gettext

    def walk(item):
        if isinstance(item, Text):
            return say(item, gettext)
        if isinstance(item, dict):
            return {key: gettext(part) if key == "note" and part == NOT_ADDED_NOTE else walk(part)
                    for key, part in item.items()}
        if isinstance(item, list):
            return [walk(part) for part in item]
        return item

    return walk(value)


def _options_in_language(session: Session, sets: dict, language: str) -> None:
    """The names of the disaggregation sets, categories and options a snapshot holds, in `language`."""
    from mel.catalogue.language import localised

    if not sets:
        return
    stored = {s.code: s for s in session.scalars(select(DisaggregationSet).options(
        selectinload(DisaggregationSet.combos)))}
    categories = {c.code: c for c in session.scalars(select(DisaggregationCategory).options(
        selectinload(DisaggregationCategory.options)))}
    for code, held in sets.items():
        if code in stored:
            held["name"] = localised(stored[code], "name", language)
            combos = {c.code: c for c in stored[code].combos}
            held["combos"] = {c: localised(combos[c], "name", language) if c in combos else name
                              for c, name in held.get("combos", {}).items()}
        for category in held.get("categories", []):
            entity = categories.get(category["code"])
            if entity is None:
                continue
            category["name"] = localised(entity, "name", language)
            options = {o.code: o for o in entity.options}
            for option in category.get("options", []):
                if option["code"] in options:
                    option["name"] = localised(options[option["code"]], "name", language)


def _gather(session: Session, catalogue: Catalogue, *, kind: str, period: str, programme: str,
            org_unit: str, thresholds: Thresholds | None, generated_at: datetime) -> dict:
    thresholds = thresholds or Thresholds()
    quarter = parse_quarter(period)
    period = quarter.id
    fy = quarter.financial_year()
    programme = (programme or "ALL").upper()
    if kind == "programme":
        if programme == "ALL" or programme not in catalogue.programmes:
            raise ValidationFailed(f"A programme report needs --programme with one of {', '.join(sorted(catalogue.programmes))}.")
    elif kind == "county":
        unit = find_org_unit(catalogue, org_unit or "")
        if unit is None or unit.level != 2:
            raise NotFound(f"A county profile needs a county (042, 42, Kisumu); {org_unit!r} is not one.")
        org_unit = unit.code
        programme = "ALL"
    else:
        programme, org_unit = "ALL", "KE"
    scope = SECTOR if programme == "ALL" else programme
    snapshot = {
        "schema": SCHEMA, "kind": kind, "period": period, "period_label": quarter.label,
        "period_short": quarter.short_label, "fiscal_year": fy.id, "fiscal_year_label": fy.label,
        "fy_quarter": quarter.fy_quarter, "programme": programme, "org_unit": org_unit,
        "org_unit_name": catalogue.org_units[org_unit].name, "generated_at": generated_at,
        "timezone": getattr(generated_at.tzinfo, "key", "UTC"),  # shown times follow it (MEL_TIMEZONE)
        "data_as_of": _data_as_of(session, period),
        "thresholds": {"on_track": thresholds.on_track, "needs_attention": thresholds.needs_attention},
        "pmp": _pmp_part(session, scope, fy.id),
        **_catalogue_part(session, catalogue, period),
    }
    snapshot.update(story_part(session, catalogue, kind=kind, period=period, programme=programme, org_unit=org_unit))

    book = TargetBook(session, catalogue)  # one target rule, plans loaded once for every table

    def compiled(**kwargs) -> list[dict]:
        query = resolve_query(catalogue, indicators=kwargs.pop("indicators", None), period=period,
                              org_unit=kwargs.pop("org_unit", org_unit), programme=kwargs.pop("programme", programme),
                              **kwargs)
        return results(session, catalogue, query, thresholds, book=book)

    if kind == "programme":
        carried = sorted(catalogue.form_indicators(catalogue.programmes[programme].id, period))
        snapshot["carried"] = carried
        snapshot["results"] = compiled(indicators=carried)
        snapshot["ytd"] = compiled(indicators=carried, ytd=True)
        snapshot["history"] = _history(session, catalogue, period, org_unit, programme, carried)
        snapshot["by_county"] = compiled(indicators=carried, by=["org_unit"])
        snapshot["returns"] = _returns_part(session, catalogue, period, programme=programme)
        snapshot["quality"] = _quality_part(session, catalogue, period, programme=programme)
        snapshot.update(option_part(session, catalogue, compiled, period=period, org_unit=org_unit,
                                    programme=programme, indicators=carried))
        snapshot["budgets"] = disbursement_budgets(book, catalogue, programme=programme, org_unit=org_unit,
                                                   period=period, carried=carried)
        return plain(snapshot)
    if kind == "county":
        snapshot["results"] = compiled()
        snapshot["by_programme"] = {}
        for code, item in sorted(catalogue.programmes.items()):
            if org_unit in catalogue.form_org_units(item.id, period):
                carried = sorted(catalogue.form_indicators(item.id, period))
                snapshot["by_programme"][code] = compiled(indicators=carried, programme=code)
        snapshot["history"] = _history(session, catalogue, period, org_unit, "ALL")
        snapshot["returns"] = _returns_part(session, catalogue, period, org_unit=org_unit)
        # the county among the others: its coverage figures on a map of every county (reports/county_maps.py)
        mapped = [code for code in COVERAGE_MAPS if code in catalogue.indicators]
        snapshot["by_county"] = compiled(indicators=mapped, org_unit="KE", by=["org_unit"]) if mapped else []
        snapshot["quality"] = _quality_part(session, catalogue, period, org_unit=org_unit)
        snapshot.update(option_part(session, catalogue, compiled, period=period, org_unit=org_unit, programme="ALL"))
        return plain(snapshot)
    snapshot["results"] = compiled()
    snapshot["ytd"] = compiled(ytd=True)
    snapshot["history"] = _history(session, catalogue, period, "KE", "ALL")
    snapshot["returns"] = _returns_part(session, catalogue, period)
    if kind == "sector":
        snapshot["by_county"] = compiled(by=["org_unit"])
        snapshot["workplan"] = _workplan_part(session, fy.id, period)
        snapshot["quality"] = _quality_part(session, catalogue, period)
    if kind == "factsheet":  # its one county map (reports/county_maps.py)
        mapped = [code for code in COVERAGE_MAPS if code in catalogue.indicators]
        snapshot["by_county"] = compiled(indicators=mapped, by=["org_unit"]) if mapped else []
    # who is reached, by sex and age (reports/disaggregation.py); the fact sheet needs no history
    snapshot.update(option_part(session, catalogue, compiled, period=period, org_unit="KE", programme="ALL",
                                history=kind == "sector"))
    return plain(snapshot)


def validate_kind(kind: str) -> str:
    from mel.reporting.models import REPORT_KINDS

    if kind not in REPORT_KINDS:
        raise ValidationFailed(f"Report kind {kind!r} is not one of {', '.join(REPORT_KINDS)}.")
    return kind



