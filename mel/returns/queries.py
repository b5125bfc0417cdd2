"""Reads of returns: the grid of one return (also the template and the API body), history, lists."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.figures import figure_code, ratio
from indicators.periods import parse_period
from mel.accounts.models import User
from mel.catalogue.language import localised
from mel.catalogue.lookup import Catalogue
from mel.catalogue.models import Indicator, OrgUnit, Programme
from mel.returns.models import (
    DataValue,
    NarrativeChange,
    Return,
    ReturnEvent,
    ValueChange,
    ValueFlag,
)
from mel.returns.workbook import TemplateRow
from mel.returns.workflow import Window, window_for
from mel.scopes import can_see_unapproved

COMPONENT_LABEL = {"numerator": "Numerator", "denominator": "Denominator", "value": "Value"}


@dataclass
class Cell:
    """One figure of the grid: its code, current and previous value, comment."""

    indicator: str
    component: str
    option: str
    option_name: str
    value: Decimal | None = None
    comment: str = ""
    explanation: str = ""
    previous: Decimal | None = None

    @property
    def code(self) -> str:
        return figure_code(self.indicator, self.component)

    @property
    def field(self) -> str:
        return f"v.{self.indicator}.{self.component}.{self.option}"


@dataclass
class Block:
    """One indicator of the grid with its cells, by option."""

    indicator: Indicator
    required: bool
    applicable: bool
    cells: list[Cell] = field(default_factory=list)

    @property
    def options(self) -> list[str]:
        return list(dict.fromkeys(c.option for c in self.cells))

    def cell(self, component: str, option: str) -> Cell | None:
        return next((c for c in self.cells if c.component == component and c.option == option), None)

    def ratio(self, option: str, which: str = "value") -> float | None:
        """Numerator ÷ denominator × factor for an option, from current or previous figures."""
        n, d = self.cell("numerator", option), self.cell("denominator", option)
        if not n or not d:
            return None
        top, bottom = (n.value, d.value) if which == "value" else (n.previous, d.previous)
        return ratio(top, bottom, self.indicator.factor)

    def shown_ratio(self, option: str, typed: dict[str, str]) -> float | None:
        """The ratio of the parts on screen: as typed after a refused save (None if unreadable), else stored."""
        n, d = self.cell("numerator", option), self.cell("denominator", option)
        if not n or not d or (n.field not in typed and d.field not in typed):
            return self.ratio(option)
        try:
            top, bottom = float(typed.get(n.field, "")), float(typed.get(d.field, ""))
        except ValueError:
            return None
        if not (math.isfinite(top) and math.isfinite(bottom)):
            return None
        return ratio(top, bottom, self.indicator.factor)


@dataclass
class Grid:
    programme: Programme
    org_unit: OrgUnit
    period: str
    record: Return | None
    window: Window
    blocks: list[Block]
    flags: list[ValueFlag]

    @property
    def period_label(self) -> str:
        return parse_period(self.period).label

    @property
    def previous_label(self) -> str:
        return parse_period(self.period).previous().short_label

    def cells(self):
        for block in self.blocks:
            yield from block.cells


def _values(session: Session, programme_id: int, unit_ids: list[int], period: str) -> dict:
    rows = session.execute(
        select(DataValue.org_unit_id, DataValue.indicator_id, DataValue.component,
               DataValue.option_combo_id, DataValue.value, DataValue.comment, DataValue.explanation)
        .where(DataValue.programme_id == programme_id, DataValue.org_unit_id.in_(unit_ids),
               DataValue.period == period)
    ).all()
    return {(u, i, comp, c): (v, comment, expl) for u, i, comp, c, v, comment, expl in rows}


def _approved_only(values: dict, states: dict[int, str], hidden_units: set[int]) -> dict:
    """The values, less those of org units whose return (in `states`) is not approved, for the
    org units in `hidden_units` (where the reader may not see unapproved figures)."""
    return {key: found for key, found in values.items()
            if key[0] not in hidden_units or states.get(key[0]) == "approved"}


def grids(session: Session, catalogue: Catalogue, programme: Programme, units: list[OrgUnit],
          period: str, *, reader: User | None = None) -> list[Grid]:
    """The grid of each org unit's return for a period, with last quarter beside each figure.

    With a `reader`, figures the reader may not see unapproved (scopes.can_see_unapproved) are
    shown only from approved returns, this quarter's and last quarter's alike (a reopened last
    quarter shows nothing).
    """
    form = catalogue.forms[programme.id]
    unit_ids = [u.id for u in units]
    previous_period = parse_period(period).previous().id
    current = _values(session, programme.id, unit_ids, period)
    previous = _values(session, programme.id, unit_ids, previous_period)
    records = {r.org_unit_id: r for r in session.scalars(
        select(Return).where(Return.programme_id == programme.id, Return.org_unit_id.in_(unit_ids),
                             Return.period == period))}
    hidden = set() if reader is None else {
        u.id for u in units if not can_see_unapproved(reader, [programme.id], u)}
    if hidden:
        before = dict(session.execute(select(Return.org_unit_id, Return.state).where(
            Return.programme_id == programme.id, Return.org_unit_id.in_(hidden), Return.period == previous_period)).all())
        current = _approved_only(current, {u: r.state for u, r in records.items()}, hidden)
        previous = _approved_only(previous, before, hidden)
    flags: dict[int, list[ValueFlag]] = {}
    if records:
        for flag in session.scalars(select(ValueFlag).where(
                ValueFlag.return_id.in_([r.id for r in records.values()])).order_by(ValueFlag.id)):
            flags.setdefault(flag.return_id, []).append(flag)
    fy_quarter = parse_period(period).fy_quarter
    result = []
    for unit in units:
        blocks = []
        for item in form.items_in(period):
            indicator = catalogue.indicators[item.indicator.code]
            applicable = indicator.frequency != "annual" or fy_quarter == 4
            block = Block(indicator, item.is_required and applicable, applicable)
            combos = indicator.disaggregation_set.combos
            for combo in combos:
                components = catalogue.specs[indicator.code].components
                # A retired option takes no new figures: its cells show only where one is stored.
                if not combo.is_active and not any((unit.id, indicator.id, c, combo.id) in current for c in components):
                    continue
                for component in components:
                    key = (unit.id, indicator.id, component, combo.id)
                    value, comment, explanation = current.get(key, (None, "", ""))
                    before = previous.get(key, (None, "", ""))[0]
                    name = localised(combo, "name")  # the page's language (mel/catalogue/language.py)
                    block.cells.append(Cell(indicator.code, component, combo.code,
                                            name if combo.is_active else gettext("%(name)s (retired)", name=name),
                                            value, comment or "", explanation or "", before))
            blocks.append(block)
        record = records.get(unit.id)
        result.append(Grid(programme, unit, period, record, window_for(form, period, unit.id), blocks,
                           flags.get(record.id, []) if record else []))
    return result


def template_rows(grids_: list[Grid]) -> list[TemplateRow]:
    """Rows of the Excel template: one per org unit × figure, pre-filled with stored values."""
    rows = []
    for grid in grids_:
        for block in grid.blocks:
            if not block.applicable:
                continue
            for cell in block.cells:
                label = block.indicator.short_name + (
                    f" – {COMPONENT_LABEL[cell.component].lower()}" if cell.component != "value" else "")
                rows.append(TemplateRow(
                    org_unit=grid.org_unit.code, org_unit_name=grid.org_unit.name, period=grid.period,
                    period_label=parse_period(grid.period).short_label, indicator=cell.code,
                    indicator_name=label, option=cell.option, option_name=cell.option_name,
                    value=cell.value, comment=cell.comment, explanation=cell.explanation,
                    previous_value=cell.previous))
    return rows


def history(session: Session, record: Return) -> list[dict]:
    """Value, narrative and state changes of a return, newest first, with who and why."""
    users = {u.id: u.email for u in session.scalars(select(User))}
    system = gettext("system")  # who made a change no person made, in the page's language
    indicators = {i.id: i.code for i in session.scalars(select(Indicator))}
    from mel.catalogue.models import OptionCombo

    combos = {c.id: c.code for c in session.scalars(select(OptionCombo))}
    entries = []
    for change in session.scalars(select(ValueChange).where(ValueChange.return_id == record.id)):
        entries.append({
            "at": change.changed_at, "who": users.get(change.changed_by_id, system),
            "kind": "value", "channel": change.channel, "version": change.return_version,
            "figure": figure_code(indicators[change.indicator_id], change.component),
            "option": combos[change.option_combo_id], "old": change.old_value, "new": change.new_value,
            "comment": change.new_comment, "why": change.explanation or change.reason,
        })
    for event in session.scalars(select(ReturnEvent).where(ReturnEvent.return_id == record.id)):
        entries.append({
            "at": event.at, "who": users.get(event.user_id, system), "kind": "state",
            "channel": event.channel, "from": event.from_state, "to": event.to_state,
            "why": event.reason, "codes": event.reason_codes,
        })
    for change in session.scalars(select(NarrativeChange).where(NarrativeChange.return_id == record.id)):
        entries.append({
            "at": change.changed_at, "who": users.get(change.changed_by_id, system), "kind": "narrative",
            "channel": change.channel, "version": change.return_version, "old": change.old_text,
            "new": change.new_text, "why": "",
        })
    entries.sort(key=lambda e: (e["at"].replace(tzinfo=None), e["kind"] == "state"), reverse=True)
    return entries
