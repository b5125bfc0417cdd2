"""Versions of an indicator's reference sheet: what a version keeps, and adding one; and which indicator
replaced which.

The editor (indicator_admin.py) and the seed (operations.py) both write versions through `add_version`,
so the sheet kept and the version number move together wherever an indicator changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalogue.models import DisaggregationSet, Indicator, IndicatorVersion, Pillar

# The reference sheet's fields kept by every version, in the order the sheet shows them. The Kiswahili text
# (name_sw, short_name_sw, definition_sw) is a translation of the sheet, deliberately left out: a translation
# fix needs no new version (models.Indicator, indicator_admin.TRANSLATION_FIELDS). The pillar and
# the disaggregation set are kept by code, the replacing indicator by code (None when there is none).
TEXT_FIELDS = ("code", "name", "short_name", "definition", "rationale", "level", "unit", "measure", "numerator",
               "denominator", "calculation", "time_aggregation", "direction", "frequency", "data_source",
               "collection_method", "means_of_verification", "responsible_agency", "limitations", "basis")
SHEET_FIELDS = ("code", "name", "short_name", "definition", "rationale", "pillar", "level", "unit", "measure",
                "factor", "numerator", "denominator", "calculation", "time_aggregation",
                "is_additive_across_programmes", "disaggregation", "direction", "frequency", "data_source",
                "collection_method", "means_of_verification", "responsible_agency", "limitations", "basis",
                "is_active", "replaced_by")
SEED_AUTHOR = "reference catalogue"


def sheet(session: Session, indicator: Indicator) -> dict:
    """The indicator's reference sheet as a version keeps it (plain JSON values)."""
    fields: dict = {name: getattr(indicator, name) or "" for name in TEXT_FIELDS}
    fields["pillar"] = session.scalar(select(Pillar.code).where(Pillar.id == indicator.pillar_id))
    fields["disaggregation"] = session.scalar(
        select(DisaggregationSet.code).where(DisaggregationSet.id == indicator.disaggregation_set_id))
    fields["factor"] = int(indicator.factor) if indicator.factor is not None else None
    fields["is_additive_across_programmes"] = bool(indicator.is_additive_across_programmes)
    fields["is_active"] = True if indicator.is_active is None else bool(indicator.is_active)
    fields["replaced_by"] = (session.scalar(select(Indicator.code).where(Indicator.id == indicator.replaced_by_id))
                             if indicator.replaced_by_id else None)
    return {name: fields[name] for name in SHEET_FIELDS}


def latest(session: Session, indicator_id: int) -> IndicatorVersion | None:
    return session.scalar(select(IndicatorVersion).where(IndicatorVersion.indicator_id == indicator_id)
                          .order_by(IndicatorVersion.version.desc()).limit(1))


def add_version(session: Session, indicator: Indicator, *, reason: str, by: str) -> IndicatorVersion:
    """Keep the indicator's sheet as its next version (the first for a new one) and move its number on."""
    session.flush()
    last = latest(session, indicator.id)
    number = last.version + 1 if last is not None else 1
    version = IndicatorVersion(indicator_id=indicator.id, version=number, fields=sheet(session, indicator),
                               reason=reason, changed_by=by[:254])
    indicator.version = number
    session.add(version)
    session.flush()
    return version


def follow_seed(session: Session, indicator: Indicator) -> IndicatorVersion | None:
    """After the seed created or updated an indicator: a version when its sheet is not the latest kept."""
    last = latest(session, indicator.id)
    if last is None:
        return add_version(session, indicator, reason="Loaded from the reference catalogue.", by=SEED_AUTHOR)
    if last.fields == sheet(session, indicator):
        return None
    return add_version(session, indicator, reason="Updated from the reference catalogue.", by=SEED_AUTHOR)


def lineage(indicators: Iterable[Indicator], code: str) -> tuple[tuple[str, str] | None, list[tuple[str, str]]]:
    """(the indicator that replaced `code`, the indicators `code` replaces) as (code, name) pairs, from the
    catalogue's indicators (any loaded rows: only their ids, codes, names and replaced_by_id are read)."""
    rows = list(indicators)
    by_id = {i.id: i for i in rows}
    this = next((i for i in rows if i.code == code), None)
    if this is None:
        return None, []
    successor = by_id.get(this.replaced_by_id) if this.replaced_by_id else None
    replaced = sorted((i.code, i.name) for i in rows if i.replaced_by_id == this.id)
    return ((successor.code, successor.name) if successor else None), replaced
