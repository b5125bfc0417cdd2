"""What the return page shows around its figures: the window and who to ask, warnings and queries on
their figure, the sums of disaggregations, and a stale save's figures side by side.

Plain reads for `views.py`; the rules themselves stay where they live (the window in `workflow.py`,
the value checks in `indicators/validation.py`, the figure vocabulary in `indicators/figures.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.figures import split_code
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.errors import ValidationFailed
from mel.returns.models import ValueFlag
from mel.returns.queries import Grid
from mel.web.filters import plain

CONTACTS_SHOWN = 3


def secretariat_contact(session: Session, config) -> str:
    """Who an officer asks when a window has closed: SECRETARIAT_CONTACT, else the active
    secretariat accounts (a few, by name and e-mail address)."""
    if config.get("SECRETARIAT_CONTACT"):
        return str(config["SECRETARIAT_CONTACT"])
    people = session.execute(select(User.name, User.email).where(User.role == "secretariat", User.is_active)
                             .order_by(User.id).limit(CONTACTS_SHOWN)).all()
    return ", ".join(f"{name} <{email}>" if name else email for name, email in people) or "the secretariat"


def version_posted(form, field: str) -> int | None:
    """A version number from the form (`version`, `resolved_version`), or None when not given."""
    text = (form.get(field) or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationFailed(f"The form field {field!r} must be a whole number (the return's version), "
                               f"not {text[:40]!r}. Reload the page and type the figures again.")
    return int(text)


def row_key(indicator: str, option: str) -> str:
    return f"{indicator}|{option}"


def _placed(grid: Grid, indicator: str | None, option: str | None) -> str | None:
    """The grid row of an indicator's option (its first row when the option is not one of its rows)."""
    block = next((b for b in grid.blocks if b.applicable and b.indicator.code == indicator), None)
    if block is None:
        return None
    options = block.options
    return row_key(indicator or "", option if option in options else options[0])


def flags_by_row(grid: Grid, catalogue: Catalogue) -> tuple[dict[str, list[ValueFlag]], list[ValueFlag]]:
    """Warnings placed on the grid row of their figure, and those about no single figure (left over)."""
    placed: dict[str, list[ValueFlag]] = {}
    loose = []
    for flag in grid.flags:
        code = catalogue.indicator_codes.get(flag.indicator_id) if flag.indicator_id else None
        option = catalogue.combo_codes.get(flag.option_combo_id) if flag.option_combo_id else None
        key = _placed(grid, code, option)
        if key is None:
            loose.append(flag)
        else:
            placed.setdefault(key, []).append(flag)
    return placed, loose


def threads_by_row(grid: Grid, threads: list[dict]) -> tuple[dict[str, list[dict]], list[dict]]:
    """Query threads placed on the grid row of their figure, and those whose figure is not shown."""
    placed: dict[str, list[dict]] = {}
    loose = []
    for thread in threads:
        key = _placed(grid, split_code(thread["indicator"])[0], thread["option"])
        if key is None:
            loose.append(thread)
        else:
            placed.setdefault(key, []).append(thread)
    return placed, loose


def _number(text: str | None) -> Decimal | None:
    if text is None or not str(text).strip():
        return None
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def part_sums(grid: Grid, typed: dict[str, str]) -> dict[str, float]:
    """Each total row's `indicator|component` → the sum of its disaggregated figures on screen (as
    typed after a refused save, else stored), when at least one part is readable."""
    sums: dict[str, float] = {}
    for block in grid.blocks:
        if "total" not in block.options:
            continue
        for cell in block.cells:
            if cell.option == "total":
                continue
            number = _number(typed[cell.field]) if cell.field in typed else cell.value
            if number is not None:
                key = f"{cell.indicator}|{cell.component}"
                sums[key] = math.fsum([sums.get(key, 0.0), float(number)])
    return sums


@dataclass(frozen=True)
class FigureChoice:
    """A figure typed on a page that became stale: the officer's value and the one saved since."""

    field: str
    label: str
    mine: str
    theirs: str


def _same(first: str, second: str) -> bool:
    a, b = _number(first), _number(second)
    if a is not None and b is not None:
        return a == b
    return first.strip() == second.strip()


def figure_choices(grid: Grid, typed: dict[str, str]) -> list[FigureChoice]:
    """Every figure whose typed value differs from the one stored now, in grid order."""
    choices = []
    for block in grid.blocks:
        for cell in block.cells:
            if cell.field not in typed:
                continue
            mine, theirs = typed[cell.field].strip(), plain(cell.value)
            if _same(mine, theirs):
                continue
            part = "" if cell.component == "value" else f" {cell.component}"
            option = "" if cell.option == "default" else f", {cell.option_name}"
            choices.append(FigureChoice(cell.field, f"{block.indicator.code}{part}{option}", mine, theirs))
    return choices


def chosen_value(form, field: str, stored) -> str:
    """The value to save for a figure: the stored one where the officer chose theirs after a stale save."""
    if form.get("pick." + field) == "theirs":
        return plain(stored)
    return form.get(field, "").strip()
