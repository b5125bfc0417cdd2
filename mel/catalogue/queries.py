"""Reads of the catalogue, with their loader options in one place."""

from __future__ import annotations

import re

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from indicators.messages import N_, Message, message
from indicators.messages import text as as_text
from mel.catalogue.levels import COUNTY, NATIONAL
from mel.catalogue.models import (
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
    WindowException,
)
from mel.converters import is_digits
from mel.errors import NotFound


def name_key(name: str) -> str:
    """A spelling-insensitive key for a county name ("Taita-Taveta County" → "taitataveta")."""
    key = name.strip().lower()
    key = re.sub(r"\bcounty\b", "", key)
    key = re.sub(r"[^a-z0-9]", "", key)
    return key.removesuffix("city") or key


def resolve_org_unit(session: Session, ref: str) -> OrgUnit:
    """Find an org unit by code (`001`, `1`, `KE`), ISO code (`KE-30`), UID or name."""
    raw = str(ref).strip()
    if not raw:
        raise NotFound(as_text(Message(N_("An org unit code is empty."))))
    candidates = [raw]
    if is_digits(raw) and len(raw) <= 3:
        candidates.append(raw.zfill(3))
    unit = session.scalar(
        select(OrgUnit).where(
            OrgUnit.code.in_(candidates) | (OrgUnit.uid == raw) | (OrgUnit.iso_code == raw.upper())
        )
    )
    if unit is not None:
        return unit
    by_name = org_units_by_name_key(session)
    unit = by_name.get(name_key(raw))
    if unit is None:
        raise NotFound(as_text(message(
            N_("Org unit %(org_unit)s is not known: use the county code (001–047, e.g. 042 or 42), its name (e.g. "
               "Kisumu) or KE for Kenya."), org_unit=repr(raw))))
    return unit


def org_unit_names(units) -> dict[str, OrgUnit]:
    """Org units by their name key: Kenya's and the counties' always (a ward or constituency may share a
    county's name: Kiambu, Makueni, Vihiga); a sub-county's or ward's only where no other unit has its name."""
    named: dict[str, list[OrgUnit]] = {}
    for unit in units:
        named.setdefault(name_key(unit.name), []).append(unit)
    found = {}
    for key, same in named.items():
        top = min(same, key=lambda u: u.level)
        if top.level <= COUNTY or len(same) == 1:
            found[key] = top
    return found


def org_units_by_name_key(session: Session) -> dict[str, OrgUnit]:
    units = list(session.scalars(select(OrgUnit)))
    lookup = org_unit_names(units)
    for unit in units:
        if unit.level == NATIONAL:
            lookup["kenya"] = unit
            lookup["national"] = unit
    return lookup


def descendants_query(unit: OrgUnit, include_self: bool = True) -> Select:
    """Everything under an org unit, by its materialised path (one indexed query)."""
    query = select(OrgUnit).where(OrgUnit.path.startswith(unit.path))
    if not include_self:
        query = query.where(OrgUnit.id != unit.id)
    return query.order_by(OrgUnit.level, OrgUnit.code)


def org_units(session: Session, level: int | None = None, parent: str | None = None,
              max_level: int | None = None) -> list[OrgUnit]:
    """Org units by level and code; `level` one level, `max_level` down to one (COUNTY: Kenya and the counties)."""
    query = select(OrgUnit).order_by(OrgUnit.level, OrgUnit.code)
    if level is not None:
        query = query.where(OrgUnit.level == level)
    if max_level is not None:
        query = query.where(OrgUnit.level <= max_level)
    if parent is not None:
        parent_unit = resolve_org_unit(session, parent)
        query = query.where(OrgUnit.parent_id == parent_unit.id)
    return list(session.scalars(query))


def programmes(session: Session) -> list[Programme]:
    return list(
        session.scalars(
            select(Programme)
            .options(selectinload(Programme.pillar), selectinload(Programme.org_units))
            .order_by(Programme.code)
        )
    )


def programme(session: Session, code: str) -> Programme:
    found = session.scalar(
        select(Programme)
        .where((Programme.code == code) | (Programme.uid == code))
        .options(selectinload(Programme.pillar), selectinload(Programme.org_units))
    )
    if found is None:
        raise NotFound(as_text(message(N_("Programme %(code)s is not known."), code=repr(code))))
    return found


def pillars(session: Session) -> list[Pillar]:
    return list(session.scalars(select(Pillar).order_by(Pillar.sort_order)))


INDICATOR_LOADERS = (
    selectinload(Indicator.pillar),
    selectinload(Indicator.results_node),
    selectinload(Indicator.disaggregation_set)
    .selectinload(DisaggregationSet.categories)
    .selectinload(DisaggregationSetCategory.category),
    selectinload(Indicator.disaggregation_set).selectinload(DisaggregationSet.combos),
    selectinload(Indicator.replaced_by),  # a retired indicator's replacement, and what an indicator replaces
    selectinload(Indicator.replaces),
)
# What the request's Catalogue (mel.catalogue.lookup) reads with its indicators and forms.
CATALOGUE_INDICATOR_LOADERS = (
    selectinload(Indicator.disaggregation_set).selectinload(DisaggregationSet.combos),
)
CATALOGUE_FORM_LOADERS = (
    selectinload(ReportingForm.items).selectinload(ReportingFormIndicator.indicator),
    selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
    selectinload(ReportingForm.window_exceptions).selectinload(WindowException.org_unit),
    selectinload(ReportingForm.windows),
)


def indicators(
    session: Session,
    *,
    pillar: str | None = None,
    measure: str | None = None,
    level: str | None = None,
    programme_code: str | None = None,
    search: str | None = None,
) -> list[Indicator]:
    query = select(Indicator).options(*INDICATOR_LOADERS).order_by(Indicator.code)
    if pillar:
        query = query.join(Indicator.pillar).where(Pillar.code == pillar)
    if measure:
        query = query.where(Indicator.measure == measure)
    if level:
        query = query.where(Indicator.level == level)
    if programme_code:
        query = query.where(
            Indicator.id.in_(
                select(ReportingFormIndicator.indicator_id)
                .join(ReportingForm, ReportingForm.id == ReportingFormIndicator.form_id)
                .join(Programme, Programme.id == ReportingForm.programme_id)
                .where(Programme.code == programme_code, ReportingFormIndicator.until_period.is_(None))
            )
        )
    if search:
        like = f"%{search.strip()}%"
        query = query.where(Indicator.name.ilike(like) | Indicator.code.ilike(like) | Indicator.name_sw.ilike(like))
    return list(session.scalars(query))


def indicator(session: Session, code: str) -> Indicator:
    found = session.scalar(
        select(Indicator)
        .where((Indicator.code == code.upper()) | (Indicator.uid == code))
        .options(*INDICATOR_LOADERS)
    )
    if found is None:
        raise NotFound(as_text(message(N_("Indicator %(code)s is not in the catalogue."), code=repr(code))))
    return found


def programmes_reporting(session: Session, indicator_id: int) -> list[Programme]:
    """Programmes whose reporting form asks for an indicator now or from a stated quarter on."""
    return list(
        session.scalars(
            select(Programme)
            .join(ReportingForm, ReportingForm.programme_id == Programme.id)
            .join(ReportingFormIndicator, ReportingFormIndicator.form_id == ReportingForm.id)
            .where(ReportingFormIndicator.indicator_id == indicator_id, ReportingFormIndicator.until_period.is_(None))
            .distinct()
            .order_by(Programme.code)
        )
    )


def forms(session: Session, programme_code: str | None = None) -> list[ReportingForm]:
    query = (
        select(ReportingForm)
        .options(
            selectinload(ReportingForm.programme),
            selectinload(ReportingForm.items).selectinload(ReportingFormIndicator.indicator),
            selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
            selectinload(ReportingForm.windows),
        )
        .order_by(ReportingForm.code)
    )
    if programme_code:
        query = query.join(ReportingForm.programme).where(Programme.code == programme_code)
    return list(session.scalars(query))


def results_nodes(session: Session) -> list[ResultsNode]:
    return list(session.scalars(select(ResultsNode).order_by(ResultsNode.code)))
