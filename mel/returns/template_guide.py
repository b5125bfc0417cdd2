"""What an Excel return template says beside its Data sheet: the Instructions sheet (how to fill it in,
the quarter's window, which cells are editable, how to upload it, who to ask, the catalogue version it
was made from) and the Indicators sheet (each indicator of the programme's form, as its reference sheet
defines it), in the reader's language.

The template the return page and the upload page offer and the reporting tools pack
(mel/guidelines/tools_pack.py) both build it here, so an officer trained with the pack gets the same
file from the grid. Only the Data sheet is read back on upload; nothing here changes what it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl.utils import get_column_letter

from indicators.figures import figure_code
from indicators.messages import N_, Gettext, Message, Words, message, period_label, say
from indicators.periods import parse_period
from mel.catalogue.language import localised
from mel.catalogue.lookup import Catalogue
from mel.catalogue.models import ReportingForm
from mel.returns.queries import Grid
from mel.returns.template_sheets import (
    Line,
    ReferenceSheet,
    TemplateGuide,
    instruction_lines,
    said_lines,
)
from mel.returns.workbook import EDITABLE_COLUMNS, INDICATORS_SHEET, TEMPLATE_COLUMNS
from mel.returns.workflow import date_words, window_for

# The catalogue's fixed values in words (the catalogue pages' own: templates/catalogue/_words.html).
WORDS = {"increase": N_("Increase"), "decrease": N_("Decrease"), "count": N_("count"), "amount": N_("amount"),
         "ratio": N_("ratio"), "number": N_("number"), "percent": N_("percent"), "days": N_("days"),
         "quarterly": N_("Quarterly"), "annual": N_("Annual")}
OVER_TIME = {"sum": N_("Flow: quarters add up to the financial year"),
             "last": N_("Stock: the financial-year value is the last quarter reported")}
REFERENCE_HEADERS = (N_("Code"), N_("Indicator"), N_("Definition"), N_("Numerator"), N_("Denominator"), N_("Unit"),
                     N_("Disaggregation options"), N_("Desired direction"), N_("Over time"), N_("Frequency"),
                     N_("Data source"), N_("Means of verification"), N_("Required"), N_("Rows in the Data sheet"))
REFERENCE_WIDTHS = (9, 34, 60, 36, 36, 10, 40, 12, 30, 11, 36, 36, 9, 22)


@dataclass(frozen=True)
class Links:
    """Where the instructions send people: the upload page, the catalogue, and one return's own page."""

    upload: str
    catalogue: str
    api: str
    return_page: str = ""


def _word(value: str) -> Words | str:
    return Message(WORDS[value]) if value in WORDS else value


def reference_rows(catalogue: Catalogue, form: ReportingForm, period: str) -> list[tuple[Words | str, ...]]:
    """One row per indicator the form asks for in the period: its reference sheet's fields, the figure
    codes it takes on the Data sheet. Names in the page's language (`localised`); fixed values as messages."""
    rows: list[tuple[Words | str, ...]] = []
    fy_quarter = parse_period(period).fy_quarter
    for item in form.items_in(period):
        indicator = catalogue.indicators[item.indicator.code]
        spec = catalogue.specs[indicator.code]
        combos = [c for c in indicator.disaggregation_set.combos if c.is_active and not c.is_total]
        options = "; ".join(localised(c) for c in combos) if indicator.disaggregation_set.code != "none" else ""
        codes = ", ".join(figure_code(indicator.code, component) for component in spec.components)
        asked = indicator.frequency != "annual" or fy_quarter == 4
        rows.append((
            indicator.code, localised(indicator), localised(indicator, "definition"),
            indicator.numerator if indicator.measure == "ratio" else "",
            indicator.denominator if indicator.measure == "ratio" else "",
            _word(indicator.unit),
            options or Message(N_("none (one figure)")),
            _word(indicator.direction), Message(OVER_TIME.get(indicator.time_aggregation, indicator.time_aggregation)),
            _word(indicator.frequency), indicator.data_source, indicator.means_of_verification,
            Message(N_("yes") if item.is_required and asked else N_("no")),
            codes if asked else message(N_("%(codes)s (in the fourth quarter of the financial year only)"), codes=codes),
        ))
    return rows


def reference_sheet(catalogue: Catalogue, form: ReportingForm, period: str,
                    gettext: Gettext | None = None) -> ReferenceSheet:
    """The Indicators sheet of a form's template for a period, said with `gettext`."""
    return ReferenceSheet(INDICATORS_SHEET, tuple(say(Message(h), gettext) for h in REFERENCE_HEADERS),
                          [tuple(say(v, gettext) for v in row) for row in reference_rows(catalogue, form, period)],
                          REFERENCE_WIDTHS)


def _letters(columns: Sequence[str]) -> str:
    return ", ".join(f"{get_column_letter(TEMPLATE_COLUMNS.index(c) + 1)} ({c})" for c in columns)


def guide_lines(grids: Sequence[Grid], *, title: str, period: str, generated_at: datetime, contact: str,
                links: Links, catalogue_version: str, programme_name: str) -> list[Line]:
    """The Instructions sheet of a template for these grids (one programme, one quarter), as messages."""
    quarter = parse_period(period)
    label = period_label(quarter)
    programme = grids[0].programme.code
    lines = instruction_lines(title=title, programme=programme_name, period_label=label, generated_at=generated_at)
    locked = [c for c in TEMPLATE_COLUMNS if c not in EDITABLE_COLUMNS]
    units = [g.org_unit.name for g in grids]
    lines[2:2] = [
        (message(N_("Org units in this file: %(units)s."), units=", ".join(units)), False),
        (message(N_("Made from catalogue version %(version)s: the Indicators sheet defines each figure as that "
                    "version of the catalogue does."), version=catalogue_version), False),
    ]
    window = grids[0].window
    lines += [
        ("", False), (Message(N_("Which cells you may change")), True),
        (message(N_("On the Data sheet only the shaded columns %(editable)s can be typed in. Columns %(locked)s "
                    "name each figure and are locked: the upload reads the codes in them."),
                 editable=_letters(EDITABLE_COLUMNS), locked=_letters(locked)), False),
        (message(N_("The Indicators sheet lists every indicator of this form with its definition, numerator and "
                    "denominator, unit, disaggregation options, desired direction, data source and means of "
                    "verification, and the codes of its rows on the Data sheet. Nothing on it or on this sheet "
                    "is read back.")), False),
        ("", False), (Message(N_("When to send it")), True),
        (message(N_("The window for %(period)s opens on %(opens)s, the return is due on %(due)s and the window "
                    "closes on %(closes)s."), period=label, opens=date_words(window.opens),
                 due=date_words(window.due), closes=date_words(window.closes)), False),
        (Message(N_("A return sent after the due date is late. After the window closes only the secretariat can "
                    "accept figures.")), False),
    ]
    lines += [(message(N_("The window closes on %(date)s %(exception)s."), date=date_words(grid.window.closes),
                       exception=grid.window.exception), False) for grid in grids if grid.window.exception]
    lines += [
        ("", False), (Message(N_("How to upload it")), True),
        (message(N_("Sign in at %(url)s, choose %(programme)s under Programme, choose the file and press Upload. "
                    "The figures are checked and stored as a draft of each return; open the return to explain any "
                    "warning and submit it."), url=links.upload, programme=programme), False),
    ]
    if links.return_page:
        lines.append((message(N_("This return's own page, where you can also type the figures: %(url)s"),
                              url=links.return_page), False))
    lines += [
        (message(N_("A programme's system can send the same file to the API: POST %(url)s?programme=%(programme)s "
                    "with the file in the field \"file\" and an API token."), url=links.api, programme=programme),
         False),
        ("", False), (Message(N_("Who to ask")), True),
        (message(N_("Questions about this return, its window or an upload that is refused: %(contact)s."),
                 contact=contact), False),
        (message(N_("The indicators' full reference sheets are in the catalogue: %(url)s"), url=links.catalogue),
         False),
    ]
    return lines


def template_guide(catalogue: Catalogue, grids: Sequence[Grid], *, title: str, generated_at: datetime,
                   contact: str, links: Links, catalogue_version: str,
                   gettext: Gettext | None = None) -> TemplateGuide:
    """Instructions and the Indicators sheet of the template of these grids (one programme, one quarter),
    said with `gettext` (English without one)."""
    first = grids[0]
    form = catalogue.forms[first.programme.id]
    lines = guide_lines(grids, title=title, period=first.period, generated_at=generated_at, contact=contact,
                        links=links, catalogue_version=catalogue_version,
                        programme_name=localised(first.programme))
    return TemplateGuide(said_lines(lines, gettext), (reference_sheet(catalogue, form, first.period, gettext),))


def form_window_words(form: ReportingForm, period: str) -> dict[str, str]:
    """The form's window of a period as ISO dates (opens, due, closes), for a manifest."""
    window = window_for(form, period)
    return {"opens": window.opens.isoformat(), "due": window.due.isoformat(), "closes": window.closes.isoformat()}


def request_links(grids: Sequence[Grid]) -> Links:
    """The links of a template made in this request (full addresses: the file leaves the browser)."""
    from flask import url_for

    one = grids[0] if len(grids) == 1 else None
    return Links(upload=url_for("returns.upload", _external=True),
                 catalogue=url_for("catalogue.indicator_list", _external=True),
                 api=url_for("returns_api.ReturnImport", _external=True),
                 return_page=url_for("returns.return_page", programme=one.programme.code, org_unit=one.org_unit.code,
                                     period=one.period, _external=True) if one else "")


def template_title(grids: Sequence[Grid], gettext: Gettext | None = None) -> str:
    """The title of a template (its first line and the file's title): programme, quarter and where."""
    first = grids[0]
    scope = first.org_unit.name if len(grids) == 1 else message(N_("%(count)s org units"), count=len(grids))
    return say(message(N_("%(programme)s quarterly return, %(period)s, %(scope)s"), programme=first.programme.code,
                       period=period_label(parse_period(first.period)), scope=scope), gettext)
