"""What the return page shows around its figures: the window and who to ask, warnings and queries on
their figure, the sums of disaggregations, and a stale save's figures side by side.

Plain reads for `views.py`; the rules themselves stay where they live (the window in `workflow.py`,
the value checks in `indicators/validation.py`, the figure vocabulary in `indicators/figures.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.explanations import EXPLANATION_CHOICES, label_of
from indicators.figures import split_code
from indicators.periods import parse_period
from indicators.validation import entry_rules
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.converters import is_digits
from mel.errors import ValidationFailed
from mel.i18n import N_, day, language, period_words, said
from mel.returns.models import ValueFlag
from mel.returns.queries import Grid
from mel.web.filters import plain

CONTACTS_SHOWN = 3
# The reasons of indicators/explanations.py (a Flask-free package), marked here for the catalogue;
# they are translated where shown, and a test checks that each has its translation.
_SHOWN_FROM_INDICATORS = (
    N_("Payroll cleaning"), N_("New enrolment wave"), N_("Drought scale-up"), N_("Data entry correction"),
    N_("Arrears paid or payment delayed"), N_("Change in who reports or how"), N_("Other"),
)
COMPONENT_WORDS = {"numerator": N_("numerator"), "denominator": N_("denominator")}
BROWSER_LOCALES = {"en": "en-GB", "sw": "sw-KE"}  # the page's language -> the browser's date words


def secretariat_contact(session: Session, config) -> str:
    """Who an officer asks when a window has closed: SECRETARIAT_CONTACT, else the active
    secretariat accounts (a few, by name and e-mail address)."""
    if config.get("SECRETARIAT_CONTACT"):
        return str(config["SECRETARIAT_CONTACT"])
    people = session.execute(select(User.name, User.email).where(User.role == "secretariat", User.is_active)
                             .order_by(User.id).limit(CONTACTS_SHOWN)).all()
    return ", ".join(f"{name} <{email}>" if name else email for name, email in people) or gettext("the secretariat")


def version_posted(form, field: str) -> int | None:
    """A version number from the form (`version`, `resolved_version`), or None when not given."""
    text = (form.get(field) or "").strip()
    if not text:
        return None
    if not is_digits(text):
        raise ValidationFailed(gettext("The form field %(field)s must be a whole number (the return's version), "
                                       "not %(text)s. Reload the page and type the figures again.",
                                       field=repr(field), text=repr(text[:40])))
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
            part = "" if cell.component == "value" else f" {gettext(COMPONENT_WORDS.get(cell.component, cell.component))}"
            option = "" if cell.option == "default" else f", {cell.option_name}"
            choices.append(FigureChoice(cell.field, f"{block.indicator.code}{part}{option}", mine, theirs))
    return choices


def chosen_value(form, field: str, stored) -> str:
    """The value to save for a figure: the stored one where the officer chose theirs after a stale save."""
    if form.get("pick." + field) == "theirs":
        return plain(stored)
    return form.get(field, "").strip()


# --------------------------------------------------------------------------- words in the page's language


def closed_words(window, period: str, today: date) -> str:
    """Why the window refuses an officer's figures, as the return page says it (workflow.window_problem's
    rule; these are its words in the page's language)."""
    label = period_words(parse_period(period))
    extra = f" {said(window.exception)}" if window.exception else ""  # the exception's words, its reason as written
    if today < window.opens:
        return gettext("The window for %(period)s opens on %(date)s; figures cannot be sent before.",
                       period=label, date=day(window.opens))
    return gettext("The window for %(period)s closed on %(date)s%(exception)s; only the secretariat can accept "
                   "figures now.", period=label, date=day(window.closes), exception=extra)


def explanation_choices() -> list[tuple[str, str]]:
    """The common reasons of a warning's explanation: (code, words in the page's language)."""
    return [(code, gettext(label)) for code, label in EXPLANATION_CHOICES]


def reason_words(code: str) -> str:
    """A reason code's words in the page's language ("" for no code or an unknown one)."""
    label = label_of(code)
    return gettext(label) if label else ""


def browser_rules() -> dict:
    """indicators.validation.entry_rules, with its messages in the page's language (grid.js fills in
    the {…} names as the server does)."""
    return entry_rules(gettext)


def browser_words() -> dict[str, str]:
    """What grid.js writes on the page, in the page's language; {name}: what the script fills in.

    Plurals come as their "one" and "other" forms: English and Kiswahili both use the first for 1."""
    restored = {n: ngettext("We restored your unsaved figures from this browser (%(count)s field, typed %(when)s). "
                            "Check them and save.",
                            "We restored your unsaved figures from this browser (%(count)s fields, typed %(when)s). "
                            "Check them and save.", n, count="{count}", when="{when}") for n in (1, 2)}
    return {
        "locale": BROWSER_LOCALES.get(language(), "en-GB"),  # dates the script writes (a draft's time)
        "parts": gettext("parts add up to %(sum)s", sum="{sum}"),
        "parts_not_total": gettext("parts add up to %(sum)s, not the total of %(total)s", sum="{sum}",
                                   total="{total}"),
        "add_comment": gettext("Add comment"),
        "add_comment_on": gettext("Add comment on %(figure)s", figure="{figure}"),
        "unsaved": gettext("Unsaved changes, kept in this browser until you save."),
        "discard": gettext("Discard them"),
        "discarded": gettext("Your unsaved figures were discarded; the grid shows what is saved."),
        "restored_one": restored[1],
        "restored_other": restored[2],
        "other_version": gettext("They were typed on version %(typed)s and the return is now at version %(now)s: "
                                 "saving will show where the two differ so that you can choose.",
                                 typed="{typed}", now="{now}"),
        "offline": gettext("You are offline, so nothing was sent. Your figures are kept in this browser: save again "
                           "when the connection is back."),
        "online": gettext("The connection is back. Save to send your figures."),
        "dropped": gettext("The connection dropped. Keep typing: your figures are kept in this browser until you "
                           "can save."),
    }
