"""What a TWG action is about: the returns, indicators, report recommendations and evidence items it
links to, read and written through the link tables of mel/meetings/models.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session, selectinload

from mel.catalogue.models import Indicator
from mel.learning.models import EvidenceItem
from mel.meetings.models import (
    action_evidence,
    action_indicator,
    action_recommendation,
    action_return,
)
from mel.reporting.actions import ReportAction
from mel.returns.models import Return

# kind -> (link table, its column naming the linked row)
TABLES: dict[str, tuple[Table, str]] = {
    "returns": (action_return, "return_id"),
    "indicators": (action_indicator, "indicator_id"),
    "recommendations": (action_recommendation, "report_action_id"),
    "evidence": (action_evidence, "evidence_id"),
}


@dataclass
class Links:
    """An action's links, loaded: returns (with programme and org unit), indicators, recommendations, evidence."""

    returns: list[Return] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    recommendations: list[ReportAction] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)

    def ids(self) -> dict[str, list[int]]:
        return {kind: sorted(row.id for row in getattr(self, kind)) for kind in TABLES}


def read(session: Session, action_ids: list[int]) -> dict[int, Links]:
    """The links of each action (every id given has an entry, maybe empty)."""
    found: dict[int, Links] = {action_id: Links() for action_id in action_ids}
    if not action_ids:
        return found
    models = {"returns": Return, "indicators": Indicator, "recommendations": ReportAction, "evidence": EvidenceItem}
    for kind, (table, column) in TABLES.items():
        pairs = session.execute(select(table.c.action_id, table.c[column])
                                .where(table.c.action_id.in_(action_ids))).all()
        if not pairs:
            continue
        model = models[kind]
        query = select(model).where(model.id.in_({target for _, target in pairs}))
        if model is Return:
            query = query.options(selectinload(Return.programme), selectinload(Return.org_unit))
        rows = {row.id: row for row in session.scalars(query)}
        by_action: dict[int, list] = defaultdict(list)
        for action_id, target in pairs:
            if target in rows:
                by_action[action_id].append(rows[target])
        for action_id, linked in by_action.items():
            getattr(found[action_id], kind).extend(sorted(linked, key=_order(kind)))
    return found


def _order(kind: str):
    if kind == "returns":
        return lambda r: (r.period, r.programme.code, r.org_unit.code)
    if kind == "indicators":
        return lambda i: i.code
    return lambda row: row.id


def replace(session: Session, action_id: int, kind: str, wanted: list[int]) -> None:
    """Make the action's links of one kind exactly `wanted` (ids), flushed."""
    table, column = TABLES[kind]
    have = set(session.scalars(select(table.c[column]).where(table.c.action_id == action_id)))
    gone, new = have - set(wanted), [target for target in dict.fromkeys(wanted) if target not in have]
    if gone:
        session.execute(delete(table).where(table.c.action_id == action_id, table.c[column].in_(gone)))
    if new:
        session.execute(insert(table), [{"action_id": action_id, column: target} for target in new])
