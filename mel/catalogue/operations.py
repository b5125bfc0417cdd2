"""Writes for the catalogue: loading the reference seed (idempotent). Callers commit."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.messages import N_
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import forget_catalogue
from mel.catalogue.models import (
    CategoryOption,
    DisaggregationCategory,
    DisaggregationSet,
    DisaggregationSetCategory,
    Indicator,
    OrgUnit,
    Pillar,
    Programme,
    ReportingForm,
    ReportingFormIndicator,
    ReportingFormOrgUnit,
    ResultsNode,
    ValidationRule,
)
from mel.catalogue.org_tree import TreeSummary, seed_org_tree
from mel.catalogue.versioning import follow_seed
from mel.uid import stable_uid

log = logging.getLogger(__name__)
SEED_DIR = Path(__file__).resolve().parent / "seed"
CATEGORY_NAMES = {"sex": "Sex", "age_group": "Age group"}
SET_NAMES = {"none": "No disaggregation", "sex": "Sex", "sex_age": "Sex and age group"}


# Audit actions of administrative changes to the catalogue (web or API) start so; their `object` is
# `admin_object(kind, code)`. The seed leaves every object named by one of them alone.
CATALOGUE_ADMIN_PREFIX = "catalogue."


def admin_object(kind: str, code: str) -> str:
    """How the audit names a catalogue object an administrator changed: `validation rule VR07`
    (`kind` is the seed's word for the table: programme, indicator, reporting form, validation rule)."""
    return f"{kind} {code}"


@dataclass
class SeedSummary:
    """How many objects of each kind the seed created or changed, and what it kept as an administrator left it."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    admin_changes: dict[str, tuple[str, datetime]] | None = field(default=None, repr=False)
    tree: TreeSummary | None = None  # the org-unit tree below the counties (mel/catalogue/org_tree.py)

    def count(self, kind: str, outcome: str) -> None:
        target = self.created if outcome == "created" else self.updated
        target[kind] = target.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def describe(self) -> str:
        kept = "".join(f"\n{line}" for line in self.kept)
        if not self.changed:
            return "The catalogue is already up to date: nothing changed." + kept
        parts = [f"created {n} {k}" for k, n in sorted(self.created.items())]
        parts += [f"updated {n} {k}" for k, n in sorted(self.updated.items())]
        return "Seed: " + ", ".join(parts) + "." + kept

    def changed_by_admin(self, session: Session, kind: str, code: str) -> tuple[str, datetime] | None:
        """Who last changed this object through the admin pages or the API, and when (None: never)."""
        if self.admin_changes is None:
            from mel.accounts.models import AuditEvent

            rows = session.execute(
                select(AuditEvent.object, AuditEvent.actor, AuditEvent.occurred_at)
                .where(AuditEvent.action.startswith(CATALOGUE_ADMIN_PREFIX, autoescape=True))
                .order_by(AuditEvent.occurred_at, AuditEvent.id)
            ).all()
            self.admin_changes = {obj: (actor, when) for obj, actor, when in rows}
        return self.admin_changes.get(admin_object(kind, code))

    def keep(self, kind: str, code: str, by: tuple[str, datetime]) -> None:
        from mel.clock import local_time

        line = f"{kind} {code} kept: changed by {by[0]} on {local_time(by[1], '%d %b %Y')}"
        if line not in self.kept:
            self.kept.append(line)


def _read(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _upsert(session: Session, summary: SeedSummary, model: type, kind: str, key: dict, values: dict) -> Any:
    """Create or update one object found by its key; count what happened. An object an administrator
    changed since it was seeded (the audit says so) keeps its values: the seed reports it instead."""
    obj = session.scalar(select(model).filter_by(**key))
    if obj is None:
        obj = model(**key, **values)
        if hasattr(model, "uid") and "uid" not in values:
            obj.uid = stable_uid(kind, "/".join(str(v) for v in key.values()))
        session.add(obj)
        session.flush()
        summary.count(kind, "created")
        return obj
    differs = {attr: value for attr, value in values.items() if getattr(obj, attr) != value}
    if differs:
        code = "/".join(str(v) for v in key.values())
        by = summary.changed_by_admin(session, kind, code)
        if by is not None:
            summary.keep(kind, code, by)
            return obj
    for attr, value in differs.items():
        setattr(obj, attr, value)
    if differs:
        session.flush()
        summary.count(kind, "updated")
    return obj


def seed_catalogue(session: Session, levels: int = COUNTY) -> SeedSummary:
    """Load the reference catalogue, with the org-unit tree down to `levels` (2 counties, 3 sub-counties,
    4 wards: mel/catalogue/levels.py); a second run changes nothing."""
    summary = SeedSummary()
    _seed_org_units(session, summary)
    summary.tree = seed_org_tree(session, levels, summary)
    pillars = _seed_pillars(session, summary)
    _seed_programmes(session, summary, pillars)
    nodes = _seed_results_framework(session, summary, pillars)
    sets = _seed_disaggregations(session, summary)
    _seed_indicators(session, summary, pillars, nodes, sets)
    _seed_forms(session, summary)
    _seed_rules(session, summary)
    _seed_kiswahili(session, summary)
    forget_catalogue(session)
    log.debug(summary.describe())
    return summary


def _seed_org_units(session: Session, summary: SeedSummary) -> None:
    kenya = _upsert(
        session, summary, OrgUnit, "org_unit", {"code": "KE"},
        {"name": "Kenya", "level": 1, "parent_id": None, "path": "/KE/", "iso_code": "KE",
         "former_province": None},
    )
    for row in _read("counties.csv"):
        _upsert(
            session, summary, OrgUnit, "org_unit", {"code": row["code"]},
            {"name": row["name"], "level": 2, "parent_id": kenya.id,
             "path": f"/KE/{row['code']}/", "iso_code": row["iso_3166_2"],
             "former_province": row["former_province"]},
        )


def _seed_pillars(session: Session, summary: SeedSummary) -> dict[str, Pillar]:
    return {
        row["code"]: _upsert(
            session, summary, Pillar, "pillar", {"code": row["code"]},
            {"name": row["name"], "description": row["description"],
             "sort_order": int(row["sort_order"])},
        )
        for row in _read("pillars.csv")
    }


def _seed_programmes(session: Session, summary: SeedSummary, pillars: dict[str, Pillar]) -> None:
    units = {u.code: u for u in session.scalars(select(OrgUnit))}
    counties = sorted((u for u in units.values() if u.level == 2), key=lambda u: u.code)
    for row in _read("programmes.csv"):
        programme = _upsert(
            session, summary, Programme, "programme", {"code": row["code"]},
            {"name": row["name"], "pillar_id": pillars[row["pillar"]].id, "agency": row["agency"],
             "level": row["level"], "notes": row["notes"]},
        )
        if row["counties"] == "all":
            wanted = counties
        elif row["counties"] == "national":
            wanted = [units["KE"]]
        else:
            wanted = [units[code] for code in row["counties"].split(";")]
        current = session.scalar(
            select(Programme).where(Programme.id == programme.id)
            .options(selectinload(Programme.org_units))
        )
        if {u.id for u in current.org_units} != {u.id for u in wanted} and current.org_units:
            by = summary.changed_by_admin(session, "programme", programme.code)
            if by is not None:
                summary.keep("programme", programme.code, by)
                continue
        if {u.id for u in current.org_units} != {u.id for u in wanted}:
            outcome = "updated" if current.org_units else "created"
            current.org_units = wanted
            session.flush()
            summary.count("programme coverage", outcome)


def _seed_results_framework(
    session: Session, summary: SeedSummary, pillars: dict[str, Pillar]
) -> dict[str, ResultsNode]:
    nodes: dict[str, ResultsNode] = {}
    for position, row in enumerate(_read("results_framework.csv")):
        nodes[row["code"]] = _upsert(
            session, summary, ResultsNode, "results node", {"code": row["code"]},
            {"name": row["name"], "kind": row["kind"], "description": row["description"],
             "parent_id": nodes[row["parent"]].id if row["parent"] else None,
             "pillar_id": pillars[row["pillar"]].id if row["pillar"] else None,
             "sort_order": position},
        )
    return nodes


def _seed_disaggregations(session: Session, summary: SeedSummary) -> dict[str, DisaggregationSet]:
    """Categories, options and sets of the reference seed; combinations generated from what is stored
    (mel/catalogue/disaggregation_combos.sync_combos). A category or set an administrator changed
    (or deleted) is kept as they left it, options and categories included."""
    from mel.catalogue.disaggregation_combos import sync_combos

    rows = _read("disaggregations.csv")
    categories: dict[str, DisaggregationCategory | None] = {}
    positions: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        cat = row["category"]
        if not cat:
            continue
        if cat not in categories:
            by = summary.changed_by_admin(session, "category", cat)
            if by is not None:
                summary.keep("category", cat, by)
                categories[cat] = session.scalar(select(DisaggregationCategory).filter_by(code=cat))
                positions[cat] = -1
            else:
                categories[cat] = _upsert(
                    session, summary, DisaggregationCategory, "category", {"code": cat},
                    {"name": CATEGORY_NAMES.get(cat, cat.replace("_", " ").capitalize())},
                )
                positions[cat] = 0
        category = categories[cat]
        if positions[cat] < 0 or category is None or (cat, row["option_code"]) in seen:
            continue
        seen.add((cat, row["option_code"]))
        _upsert(
            session, summary, CategoryOption, "category option",
            {"category_id": category.id, "code": row["option_code"]},
            {"name": row["option_name"], "sort_order": positions[cat]},
        )
        positions[cat] += 1
    sets: dict[str, DisaggregationSet] = {}
    for set_code in dict.fromkeys(row["set"] for row in rows):
        by = summary.changed_by_admin(session, "disaggregation set", set_code)
        if by is not None:
            summary.keep("disaggregation set", set_code, by)
            kept = session.scalar(select(DisaggregationSet).filter_by(code=set_code))
            if kept is not None:
                sets[set_code] = kept
                _count_combos(summary, sync_combos(session, kept))
            continue
        dset = _upsert(
            session, summary, DisaggregationSet, "disaggregation set", {"code": set_code},
            {"name": SET_NAMES.get(set_code, set_code)},
        )
        sets[set_code] = dset
        cat_order = list(dict.fromkeys(row["category"] for row in rows if row["set"] == set_code and row["category"]))
        for position, cat in enumerate(cat_order):
            category = categories.get(cat)
            if category is None:
                continue
            _upsert(
                session, summary, DisaggregationSetCategory, "set category",
                {"set_id": dset.id, "category_id": category.id}, {"position": position},
            )
        _count_combos(summary, sync_combos(session, dset))
    return sets


def _count_combos(summary: SeedSummary, counts: tuple[int, int]) -> None:
    for outcome, number in zip(("created", "updated"), counts, strict=True):
        for _ in range(number):
            summary.count("option combo", outcome)


def _seed_indicators(
    session: Session,
    summary: SeedSummary,
    pillars: dict[str, Pillar],
    nodes: dict[str, ResultsNode],
    sets: dict[str, DisaggregationSet],
) -> None:
    details = {row["code"]: row for row in _read("indicator_details.csv")}
    thresholds = {row["code"]: row for row in _read("indicator_checks.csv")}
    for row in _read("indicators.csv"):
        extra = details[row["code"]]
        check = thresholds.get(row["code"], {})
        indicator = _upsert(
            session, summary, Indicator, "indicator", {"code": row["code"]},
            {
                "name": row["name"],
                "short_name": extra["short_name"],
                "definition": extra["definition"],
                "calculation": extra["calculation"],
                "pillar_id": pillars[row["pillar"]].id,
                "results_node_id": nodes[extra["results_node"]].id,
                "level": row["level"],
                "unit": row["unit"],
                "measure": row["measure"],
                "factor": int(row["factor"]) if row["factor"] else None,
                "numerator": row["numerator"],
                "denominator": row["denominator"],
                "time_aggregation": row["time_aggregation"],
                "is_additive_across_programmes": row["additive_across_programmes"] == "true",
                "disaggregation_set_id": sets[row["disaggregation"]].id,
                "direction": row["direction"],
                "frequency": row["frequency"],
                "data_source": extra["data_source"],
                "collection_method": extra["collection_method"],
                "means_of_verification": extra["means_of_verification"],
                "responsible_agency": extra["responsible_agency"],
                "limitations": extra["limitations"],
                "basis": row["basis"],
                # History-check thresholds (indicators/history.py); empty: the measure's default.
                "check_min_change": _number(check.get("min_change")),
                "check_min_absolute": _number(check.get("min_absolute")),
                "check_min_points": _number(check.get("min_points")),
                "check_seasonal": check.get("seasonal", "") == "true",
                "check_note": check.get("note", ""),
            },
        )
        follow_seed(session, indicator)  # a new indicator gets version 1; a seed update, the next one


def _number(text: str | None) -> float | None:
    return float(text) if text not in (None, "") else None


def _seed_forms(session: Session, summary: SeedSummary) -> None:
    reported_by: dict[str, list[str]] = {}
    for row in _read("indicators.csv"):
        for code in row["reported_by"].split(";"):
            reported_by.setdefault(code, []).append(row["code"])
    indicators = {i.code: i for i in session.scalars(select(Indicator))}
    programmes = session.scalars(
        select(Programme).options(selectinload(Programme.org_units)).order_by(Programme.code)
    )
    for programme in programmes:
        form = _upsert(
            session, summary, ReportingForm, "reporting form", {"code": f"{programme.code}-QR"},
            {"name": f"{programme.name} – quarterly return", "programme_id": programme.id,
             "frequency": "quarterly"},
        )
        form = session.scalar(
            select(ReportingForm).where(ReportingForm.id == form.id)
            .options(selectinload(ReportingForm.items), selectinload(ReportingForm.units))
        )
        # The seed's forms apply to every quarter (no from/until); a form an administrator changed
        # (its indicators, org units or window, from a quarter on) is kept as they left it.
        wanted = [(indicators[code].id, position, None, None) for position, code in
                  enumerate(reported_by.get(programme.code, []))]
        have = [(item.indicator_id, item.position, item.from_period, item.until_period) for item in form.items]
        wanted_units = {(u.id, None, None) for u in programme.org_units}
        have_units = {(row.org_unit_id, row.from_period, row.until_period) for row in form.units}
        if form.items or form.units:
            by = summary.changed_by_admin(session, "reporting form", form.code)
            if by is not None:
                if have != wanted or have_units != wanted_units:
                    summary.keep("reporting form", form.code, by)
                continue
        if have != wanted:
            outcome = "updated" if form.items else "created"
            form.items = [
                ReportingFormIndicator(indicator_id=ind_id, position=position, is_required=True)
                for ind_id, position, _, _ in wanted
            ]
            session.flush()
            summary.count("form indicators", outcome)
        if have_units != wanted_units:
            outcome = "updated" if form.units else "created"
            form.units = [ReportingFormOrgUnit(org_unit_id=unit.id) for unit in programme.org_units]
            session.flush()
            summary.count("form org units", outcome)


def _fill_kiswahili(obj, words: dict, fields: tuple[str, ...]) -> bool:
    """Write the seed's Kiswahili text into the fields where it is empty; whether any was."""
    filled = False
    for english in fields:
        text = str(words.get(english) or "").strip()
        if text and not (getattr(obj, f"{english}_sw") or "").strip():
            setattr(obj, f"{english}_sw", text)
            filled = True
    return filled


def _seed_kiswahili(session: Session, summary: SeedSummary) -> None:
    """The team's Kiswahili names and short definitions (seed/kiswahili.json), only where an object's
    Kiswahili text is empty: a translation the secretariat wrote is never overwritten (an emptied one is
    filled again). Not part of an indicator's versioned sheet: no version is added. Combinations then
    take their Kiswahili names from their options'."""
    from mel.catalogue.disaggregation_combos import sync_combos
    from mel.catalogue.language import TRANSLATED, seed_texts

    texts = seed_texts()
    for model, section in ((Pillar, "pillars"), (Programme, "programmes"), (ResultsNode, "results_framework"),
                           (Indicator, "indicators"), (DisaggregationSet, "disaggregation_sets"),
                           (DisaggregationCategory, "categories")):
        wanted = texts.get(section, {})
        for obj in session.scalars(select(model).where(model.code.in_(list(wanted)))):
            if _fill_kiswahili(obj, wanted[obj.code], TRANSLATED[model.__name__]):
                summary.count("Kiswahili text", "created")
    categories = {c.code: c.id for c in session.scalars(select(DisaggregationCategory))}
    for category, words in texts.get("categories", {}).items():
        options = words.get("options", {})
        if category not in categories or not options:
            continue
        for option in session.scalars(select(CategoryOption).where(CategoryOption.category_id == categories[category],
                                                                   CategoryOption.code.in_(list(options)))):
            if _fill_kiswahili(option, {"name": options[option.code]}, ("name",)):
                summary.count("Kiswahili text", "created")
    session.flush()
    for dset in session.scalars(select(DisaggregationSet).order_by(DisaggregationSet.code)):
        _count_combos(summary, sync_combos(session, dset))


def _seed_rules(session: Session, summary: SeedSummary) -> None:
    from indicators.expressions import Expression

    for row in _read("validation_rules.csv"):
        Expression.parse(row["left"]), Expression.parse(row["right"])  # refuse a broken seed early
        _upsert(
            session, summary, ValidationRule, "validation rule", {"code": row["code"]},
            {"name": row["name"], "description": row["description"], "left": row["left"],
             "operator": row["operator"], "right": row["right"], "severity": row["severity"],
             "importance": row["importance"], "missing_strategy": row["missing_strategy"]},
        )


KIND_PARENT = {"goal": None, "outcome": "goal", "output": "outcome"}
BELONGS_UNDER = {"outcome": N_("an outcome belongs under a goal (parent %(parent)s)."),
                 "output": N_("an output belongs under an outcome (parent %(parent)s).")}
NO_PARENT = {"outcome": N_("an outcome belongs under a goal (parent missing)."),
             "output": N_("an output belongs under an outcome (parent missing).")}


def save_results_framework(session: Session, nodes: list[dict], new: dict | None,
                           indicator_nodes: dict[str, str]) -> int:
    """Update the results framework (names, Kiswahili names and descriptions, kinds, parents, order), add
    a node, re-attach indicators; all or nothing. Returns how many objects changed."""
    from indicators.messages import Joined, Message, message, text
    from mel.catalogue.language import checked_translation
    from mel.errors import ErrorDetail, ValidationFailed

    def of_node(code: str, words) -> str:  # "SA: the name is empty."
        return text(Joined(": ", (code, words)))

    existing = {n.code: n for n in session.scalars(select(ResultsNode))}
    wanted = {row["code"]: row for row in nodes if row["code"] in existing}
    if new and new.get("code", "").strip():
        code = new["code"].strip()
        if code in existing:
            raise ValidationFailed(text(message(N_("A results-framework node with code %(code)s already exists."),
                                                code=repr(code))))
        wanted[code] = {**new, "code": code}
    problems = []
    for code, row in wanted.items():
        kind, parent = row.get("kind", ""), (row.get("parent") or "").strip()
        if kind not in KIND_PARENT:
            problems.append(of_node(code, message(N_("kind must be goal, outcome or output."))))
            continue
        if not str(row.get("name", "")).strip():
            problems.append(of_node(code, message(N_("the name is empty."))))
        parent_kind = wanted.get(parent, {}).get("kind") if parent in wanted else (
            existing[parent].kind if parent in existing else None)
        if KIND_PARENT[kind] is None and parent:
            problems.append(of_node(code, message(N_("a goal has no parent."))))
        elif KIND_PARENT[kind] is not None and parent_kind != KIND_PARENT[kind]:
            problems.append(of_node(code, message(BELONGS_UNDER[kind], parent=parent) if parent else
                                    message(NO_PARENT[kind])))
        try:
            int(str(row.get("sort_order", 0) or 0))
        except ValueError:
            problems.append(of_node(code, message(N_("the order must be a whole number."))))
        found: list[ErrorDetail] = []
        for name, limit, label in (("name_sw", 300, N_("the name in Kiswahili")),
                                   ("description_sw", 4000, N_("the description in Kiswahili"))):
            if name in row:
                row[name] = checked_translation(row[name], name, limit, found, of_node(code, Message(label)))
        problems += [detail.message for detail in found]
    for code in indicator_nodes.values():
        if code and code not in wanted and code not in existing:
            problems.append(text(message(N_("results-framework node %(code)s does not exist."), code=repr(code))))
    if problems:
        raise ValidationFailed(text(message(N_("The results framework was not saved."))),
                               [ErrorDetail(p) for p in problems])
    changed = 0
    pillars = {p.code: p.id for p in session.scalars(select(Pillar))}
    for code in sorted(wanted, key=lambda c: ("goal", "outcome", "output").index(wanted[c]["kind"])):
        row = wanted[code]
        node = existing.get(code)
        if node is None:
            node = ResultsNode(code=code, uid=stable_uid("results node", code))
            session.add(node)
            existing[code] = node
        parent = (row.get("parent") or "").strip()
        values = {"name": row["name"].strip(), "kind": row["kind"], "sort_order": int(str(row.get("sort_order") or 0)),
                  "parent_id": existing[parent].id if parent else None,
                  "pillar_id": pillars.get(row.get("pillar")) if row.get("pillar") else node.pillar_id,
                  **{name: row[name] for name in ("name_sw", "description_sw") if name in row}}
        if any(getattr(node, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(node, key, value)
            changed += 1
        session.flush()
    for indicator in session.scalars(select(Indicator).where(Indicator.code.in_(list(indicator_nodes)))):
        target = existing[indicator_nodes[indicator.code]].id if indicator_nodes[indicator.code] else None
        if indicator.results_node_id != target:
            indicator.results_node_id = target
            changed += 1
    session.flush()
    forget_catalogue(session)
    return changed
