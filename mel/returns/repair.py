"""Repair figures filed in another return: each goes to the return of its own address.

Imports before migration 0009 attached all quarters of one org unit in a file to one return.
The repair moves each such figure to the return of its own programme, org unit and period,
creating the return where it is missing, and leaves a trail: a `value_change` row where a
figure leaves and where it arrives (the audit is append-only: older rows stay where they were
written) and a `return_event` for every state a return passes through.

Each moved figure keeps the review state it had, so no published result changes: a return that
is created, or that holds no figures of its own, takes the state of the return the figures came
from (walking the allowed transitions, as the database requires). Figures never join figures of
a different standing (editable, submitted, approved): those are left where they are and named,
for a person to return or reopen one of the two returns before running the repair again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import OrgUnit, Programme
from mel.db import utcnow
from mel.returns import checks
from mel.returns.ingest import IngestSettings
from mel.returns.models import EDITABLE_STATES, DataValue, Return, ReturnEvent, ValueChange
from mel.returns.workflow import TRANSITIONS

STANDING = {"draft": "editable", "returned": "editable", "reopened": "editable",
            "submitted": "submitted", "approved": "approved"}
STAMPS = ("submitted_at", "submitted_by_id", "approved_at", "approved_by_id", "is_late")
CHUNK = 500
REASON = "mel returns repair:"  # how the repair's audit rows begin (refresh_repaired finds them)


@dataclass
class Move:
    """The figures of one address found in one other return, and what the repair does with them."""

    programme: str
    org_unit: str
    org_unit_name: str
    period: str
    count: int
    source_id: int
    source_period: str
    source_state: str
    target_id: int | None  # None until a missing return is created
    state: str  # the state the return ends in
    created: bool = False
    problem: str = ""
    value_ids: list[int] = field(default_factory=list, repr=False)

    def line(self, dry_run: bool) -> str:
        where = (f"new return #{self.target_id}" if self.target_id else "a new return") if self.created \
            else f"return #{self.target_id}"
        head = (f"{self.programme} {self.org_unit} {self.org_unit_name} {self.period}: {self.count} "
                f"figure{'s' if self.count != 1 else ''} in return #{self.source_id} "
                f"({self.source_period}, {self.source_state})")
        if self.problem:
            return f"{head} left there: {self.problem}"
        verb = "would move" if dry_run else "moved"
        return f"{head} {verb} to {where} ({self.state})"


@dataclass
class RepairReport:
    moves: list[Move]
    dry_run: bool

    @property
    def moved(self) -> list[Move]:
        return [m for m in self.moves if not m.problem]

    @property
    def left(self) -> list[Move]:
        return [m for m in self.moves if m.problem]

    def describe(self) -> str:
        if not self.moves:
            return ("No misplaced figures: every data value is in the return of its own programme, "
                    "org unit and period.")
        figures = sum(m.count for m in self.moved)
        created = len({(m.programme, m.org_unit, m.period) for m in self.moved if m.created})
        text = (f"{'Would move' if self.dry_run else 'Moved'} {figures} figure{'s' if figures != 1 else ''} "
                f"to {len({(m.programme, m.org_unit, m.period) for m in self.moved})} return(s), "
                f"{created} of them {'to be ' if self.dry_run else ''}created")
        if self.left:
            left = sum(m.count for m in self.left)
            text += (f"; {left} figure{'s' if left != 1 else ''} left in place (see above): return or "
                     "reopen one of the two returns so both are editable, then run the repair again")
        return text + (". Nothing was changed (dry run)." if self.dry_run else ".")


def misplaced_count(session: Session) -> int:
    """How many data values sit in a return of another programme, org unit or period."""
    return session.scalar(
        select(func.count()).select_from(DataValue).join(Return, Return.id == DataValue.return_id)
        .where(_misplaced()))


def _misplaced():
    return or_(Return.programme_id != DataValue.programme_id, Return.org_unit_id != DataValue.org_unit_id,
               Return.period != DataValue.period)


def repair_misplaced_values(session: Session, *, dry_run: bool = False, now: datetime | None = None,
                            settings: IngestSettings | None = None, refresh: bool = True) -> RepairReport:
    """Move every misplaced data value to the return of its own address; flushes, never commits.

    `refresh=False` leaves the warnings of the returns as they are: on a schema older than the
    code (the repair runs before `mel db upgrade` can pass 0009) they are recomputed by
    `refresh_repaired` once the schema is at head.
    """
    now = now or utcnow()
    moves = _plan(session)
    report = RepairReport(moves, dry_run)
    if dry_run or not report.moved:
        return report
    touched: set[int] = set()
    by_address: dict[tuple, list[Move]] = {}
    for move in report.moved:
        by_address.setdefault((move.programme, move.org_unit, move.period), []).append(move)
    for moves_here in by_address.values():
        touched |= _apply(session, moves_here, now)
    if refresh:
        _refresh(session, touched, settings)
    session.flush()
    return report


def refresh_repaired(session: Session, settings: IngestSettings | None = None) -> int:
    """Recompute the warnings of every return the repair has moved figures into or out of (found
    by its audit trail), keeping the explanations given; returns how many. Safe to repeat."""
    ids = set(session.scalars(select(ValueChange.return_id).where(
        ValueChange.channel == "system", ValueChange.reason.like(f"{REASON}%")).distinct()))
    ids |= set(session.scalars(select(ReturnEvent.return_id).where(
        ReturnEvent.channel == "system", ReturnEvent.reason.like(f"{REASON}%")).distinct()))
    _refresh(session, ids, settings)
    session.flush()
    return len(ids)


def _refresh(session: Session, return_ids: set[int], settings: IngestSettings | None) -> None:
    if not return_ids:
        return
    catalogue = load_catalogue(session)
    settings = settings or IngestSettings()
    for record in session.scalars(select(Return).where(Return.id.in_(sorted(return_ids)))):
        checks.refresh_flags(session, record, catalogue, settings.history())


def _plan(session: Session) -> list[Move]:
    rows = session.execute(
        select(DataValue.id, DataValue.return_id, DataValue.programme_id, DataValue.org_unit_id,
               DataValue.period)
        .join(Return, Return.id == DataValue.return_id).where(_misplaced()).order_by(DataValue.id)).all()
    if not rows:
        return []
    groups: dict[tuple, dict[int, list[int]]] = {}
    for value_id, return_id, programme_id, org_unit_id, period in rows:
        groups.setdefault((programme_id, org_unit_id, period), {}).setdefault(return_id, []).append(value_id)
    sources = {r.id: r for r in session.scalars(
        select(Return).where(Return.id.in_({rid for g in groups.values() for rid in g})))}
    programmes = dict(session.execute(select(Programme.id, Programme.code)).all())
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    moves: list[Move] = []
    for (programme_id, org_unit_id, period), by_source in sorted(groups.items(), key=lambda g: (g[0][2], g[0][1])):
        target = session.scalar(select(Return).where(
            Return.programme_id == programme_id, Return.org_unit_id == org_unit_id, Return.period == period))
        own = target is not None and _own_count(session, target) > 0
        standings = {STANDING[sources[rid].state] for rid in by_source}
        # The figures keep their review state; the return they join keeps its own.
        main = max(by_source, key=lambda rid: len(by_source[rid]))
        state = target.state if own else sources[main].state
        if STANDING[sources[main].state] == "editable" and not own:
            # Editable figures stay editable; walking a draft to `reopened` would invent an approval.
            state = "draft" if target is None else (
                target.state if target.state in EDITABLE_STATES else _nearest_editable(target.state))
        problem = ""
        if len(standings) > 1:
            problem = "they come from returns in different states (" + ", ".join(
                sorted({sources[rid].state for rid in by_source})) + ")"
        elif own and STANDING[target.state] not in standings:
            problem = (f"return #{target.id} holds figures of its own and is {target.state}, "
                       f"these are {sources[main].state}")
        for rid, value_ids in by_source.items():
            source = sources[rid]
            moves.append(Move(
                programme=programmes[programme_id], org_unit=units[org_unit_id].code,
                org_unit_name=units[org_unit_id].name, period=period, count=len(value_ids),
                source_id=rid, source_period=source.period, source_state=source.state,
                target_id=target.id if target else None, state=state, problem=problem,
                created=target is None, value_ids=value_ids))
    return moves


def _apply(session: Session, moves: list[Move], now: datetime) -> set[int]:
    """Move the figures of one address into its return; returns the ids of the returns touched."""
    first = moves[0]
    sources = {m.source_id: session.get(Return, m.source_id) for m in moves}
    main = sources[max(moves, key=lambda m: m.count).source_id]
    came_from = ", ".join(f"#{m.source_id} ({m.source_period})" for m in moves)
    reason = (f"{REASON} figures of {first.period} filed in return {came_from} by an import "
              f"before release 0009 moved here; they keep their state ({first.state}).")
    target = session.get(Return, first.target_id) if first.target_id else None
    takes_state = target is None or _own_count(session, target) == 0
    if target is None:
        target = Return(programme_id=main.programme_id, org_unit_id=main.org_unit_id, period=first.period,
                        form_id=main.form_id, state="draft", version=1, narrative="", created_at=now,
                        updated_at=now)
        session.add(target)
        session.flush()
        session.add(ReturnEvent(return_id=target.id, from_state=None, to_state="draft", reason=reason,
                                channel="system", at=now))
    if target.state not in EDITABLE_STATES:
        _walk(session, target, _nearest_editable(target.state), reason, now)
    ids = [value_id for m in moves for value_id in m.value_ids]
    values = session.execute(
        select(DataValue.id, DataValue.return_id, DataValue.indicator_id, DataValue.component,
               DataValue.option_combo_id, DataValue.value, DataValue.comment)
        .where(DataValue.id.in_(ids))).all()
    for start in range(0, len(ids), CHUNK):
        session.execute(update(DataValue).where(DataValue.id.in_(ids[start:start + CHUNK]))
                        .values(return_id=target.id).execution_options(synchronize_session=False))
    _walk(session, target, first.state, reason, now)
    if takes_state:
        session.execute(update(Return).where(Return.id == target.id)
                        .values(**{stamp: getattr(main, stamp) for stamp in STAMPS})
                        .execution_options(synchronize_session=False))
    for record in [target, *sources.values()]:
        session.execute(update(Return).where(Return.id == record.id)
                        .values(version=Return.version + 1, updated_at=now)
                        .execution_options(synchronize_session=False))
        session.refresh(record)
    audit = []
    for value_id, source_id, indicator_id, component, combo_id, value, comment in values:
        source = sources[source_id]
        common = {"indicator_id": indicator_id, "component": component, "option_combo_id": combo_id,
                  "old_comment": comment or "", "new_comment": comment or "", "explanation": "",
                  "channel": "system", "batch_id": None, "changed_by_id": None, "changed_at": now}
        audit.append({**common, "return_id": source.id, "old_value": value, "new_value": None,
                      "return_version": source.version,
                      "reason": f"{REASON} this figure of {first.period} moved to return "
                                f"#{target.id}, the return of its own programme, org unit and period."})
        audit.append({**common, "return_id": target.id, "old_value": None, "new_value": value,
                      "return_version": target.version,
                      "reason": f"{REASON} moved here from return #{source.id} "
                                f"({source.period}), where an import had filed it (value #{value_id})."})
    session.execute(insert(ValueChange), audit)
    session.flush()
    for move in moves:
        move.target_id = move.target_id or target.id
    return {target.id, *sources}


def _own_count(session: Session, record: Return) -> int:
    return session.scalar(select(func.count()).select_from(DataValue).where(
        DataValue.return_id == record.id, DataValue.programme_id == record.programme_id,
        DataValue.org_unit_id == record.org_unit_id, DataValue.period == record.period))


def _path(start: str, goal: str) -> list[str]:
    """The shortest walk through the allowed transitions from one state to another."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state == goal:
            break
        for (a, b) in TRANSITIONS:
            if a == state and b not in previous:
                previous[b] = state
                queue.append(b)
    steps, state = [], goal
    while previous.get(state) is not None:
        steps.append(state)
        state = previous[state]
    return steps[::-1]


def _nearest_editable(state: str) -> str:
    return min(EDITABLE_STATES, key=lambda goal: len(_path(state, goal)) if _path(state, goal) else 99)


def _walk(session: Session, record: Return, goal: str, reason: str, now: datetime) -> None:
    """Move a return to `goal` one allowed transition at a time, each recorded as an event."""
    for state in _path(record.state, goal):
        session.execute(update(Return).where(Return.id == record.id)
                        .values(state=state, version=Return.version + 1, updated_at=now)
                        .execution_options(synchronize_session=False))
        session.add(ReturnEvent(return_id=record.id, from_state=record.state, to_state=state, reason=reason,
                                channel="system", at=now))
        session.flush()
        session.refresh(record)
