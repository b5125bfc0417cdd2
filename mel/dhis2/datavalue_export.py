"""DHIS2 data value sets out: the stored figures a GET /api/dataValueSets (or /api/dataValues)
names that the user may read, as DHIS2 data values, and their CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from indicators.periods import parse_period
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.catalogue.models import OrgUnit
from mel.returns.models import DataValue, Return
from mel.scopes import can_access, sees_approved_returns_only

CSV_HEADER = ("dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo", "value",
              "storedby", "lastupdated", "comment", "followup", "deleted")


@dataclass
class ExportQuery:
    """GET /api/dataValueSets, resolved: what to read and how to name it."""

    programmes: list[str]
    data_elements: list | None
    periods: list[str] | None
    start: date | None
    end: date | None
    units: list
    children: bool
    last_updated: datetime | None
    schemes: dict[str, str]


def export_rows(session: Session, user: User, ids, catalogue: Catalogue, query: ExportQuery) -> list[dict]:
    """The stored figures the query names that the user may read, as DHIS2 data values."""
    programme_ids = [catalogue.programmes[p].id for p in query.programmes if p in catalogue.programmes]
    statement = (select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id,
                        DataValue.programme_id, DataValue.org_unit_id, DataValue.period, DataValue.value,
                        DataValue.comment, DataValue.updated_by_id, DataValue.created_at, DataValue.updated_at,
                        Return.state)
                 .join(Return, Return.id == DataValue.return_id)
                 .where(DataValue.programme_id.in_(programme_ids)))
    unit_ids = [catalogue.org_units[u.our_code].id for u in query.units if u.our_code in catalogue.org_units]
    if query.children:
        paths = [catalogue.org_units[u.our_code].path for u in query.units if u.our_code in catalogue.org_units]
        statement = statement.join(OrgUnit, OrgUnit.id == DataValue.org_unit_id).where(
            or_(*(OrgUnit.path.startswith(path) for path in paths)))
    else:
        statement = statement.where(DataValue.org_unit_id.in_(unit_ids))
    if query.periods is not None:
        statement = statement.where(DataValue.period.in_(query.periods))
    if query.last_updated is not None:
        statement = statement.where(DataValue.updated_at >= query.last_updated)
    if query.data_elements:
        indicator_ids = {catalogue.indicators[de.indicator].id for de in query.data_elements
                         if de.indicator in catalogue.indicators}
        statement = statement.where(DataValue.indicator_id.in_(indicator_ids))
    if sees_approved_returns_only(user):
        statement = statement.where(Return.state == "approved")
    wanted_parts = ({(de.indicator, de.component) for de in query.data_elements} if query.data_elements else None)
    emails = dict(session.execute(select(User.id, User.email)).all())
    units = {u.our_code: u for u in ids.org_units.values()}
    schemes = query.schemes
    name = {}
    out = []
    for (indicator_id, component, combo_id, programme_id, unit_id, period, value, comment, by, created, updated,
         _state) in session.execute(statement.order_by(DataValue.id)):
        code = catalogue.indicator_codes[indicator_id]
        if wanted_parts is not None and (code, component) not in wanted_parts:
            continue
        if query.start is not None or query.end is not None:
            parsed = parse_period(period)
            if (query.start and parsed.start < query.start) or (query.end and parsed.end > query.end):
                continue
        unit_code = catalogue.org_unit_codes[unit_id]
        unit = catalogue.org_unit_by_id[unit_id]
        if user.role == "officer" and not can_access(user, programme_id, unit):
            continue
        key = (indicator_id, component, combo_id, programme_id, unit_id)
        if key not in name:
            de = ids.data_element_for(code, component)
            coc = ids.option_combo_for(de.uid, catalogue.combo_codes[combo_id])
            aoc = ids.attribute_combo_for(catalogue.programme_codes[programme_id])
            ou = units.get(unit_code)
            name[key] = (ids.identify("dataElement", de, schemes["dataElement"]),
                         ids.identify("orgUnit", ou, schemes["orgUnit"]) if ou is not None else unit_code,
                         ids.identify("categoryOptionCombo", coc, schemes["categoryOptionCombo"]),
                         ids.identify("attributeOptionCombo", aoc, schemes["attributeOptionCombo"]))
        de_id, ou_id, coc_id, aoc_id = name[key]
        out.append({"dataElement": de_id, "period": period, "orgUnit": ou_id, "categoryOptionCombo": coc_id,
                    "attributeOptionCombo": aoc_id, "value": _plain(value), "storedBy": emails.get(by, ""),
                    "created": _stamp(created), "lastUpdated": _stamp(updated), "comment": comment or None,
                    "followup": False})
    return out


def _plain(value) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" if moment else None


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([r["dataElement"], r["period"], r["orgUnit"], r["categoryOptionCombo"],
                         r["attributeOptionCombo"], r["value"], r["storedBy"], r["lastUpdated"] or "",
                         r["comment"] or "", "false", "false"])
    return out.getvalue()
