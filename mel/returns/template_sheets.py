"""What an Excel file of the service writes as text: cells that never run as formulas (`set_text`,
`csv_safe`), and the sheets a return template carries beside its Data sheet (the instructions every
template gives, as messages said in the reader's language, and reference sheets such as the form's
indicators). Nothing here is read back on upload: mel/returns/workbook.py reads the Data sheet only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from indicators.explanations import REASON_LABELS
from indicators.messages import N_, Gettext, Message, Words, message, say

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")  # what makes Excel run a cell's text as a formula


def clean(text: object) -> str:
    """Text without the control characters an .xlsx file cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", "" if text is None else str(text))


def set_text(cell: Any, raw: object) -> None:
    """Write text that Excel shows but never evaluates, even if it starts like a formula."""
    text = clean(raw)
    cell.value = text or None
    if text.startswith(FORMULA_LEADS):
        cell.data_type = "s"
        cell.quotePrefix = True


@dataclass(frozen=True)
class ReferenceSheet:
    """A sheet of plain text the template carries for reference (the form's indicators): headers, rows and
    each column's width."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    widths: tuple[int, ...] = ()


@dataclass(frozen=True)
class TemplateGuide:
    """What a template says beside its Data sheet, already in the reader's language: the Instructions
    sheet's lines (text, whether it is a heading) and the reference sheets that follow it."""

    instructions: Sequence[tuple[str, bool]]
    references: Sequence[ReferenceSheet] = ()


Line = tuple[Words | str, bool]  # a line of the instructions (a message, or data as it is) and whether it heads a part


def instruction_lines(*, title: str, programme: str, period_label: Words | str, generated_at: datetime) -> list[Line]:
    """The instructions every template gives, as messages: how to fill it in, what happens on upload."""
    stamp = generated_at.isoformat(sep=" ", timespec="minutes")

    def line(template: str, **params: Any) -> Line:
        return message(template, **params), False

    def heading(template: str) -> Line:
        return Message(template), True

    return [
        (title, True),
        line(N_("This file is the return template for %(programme)s, period %(period)s. It was generated "
                "at %(time)s."), programme=programme, period=period_label, time=stamp),
        ("", False),
        heading(N_("How to fill it in")),
        line(N_("Fill in the Data sheet. Only the value, comment and explanation columns can be changed; the other "
                "columns identify each figure and are locked (the sheet is protected without a password to prevent "
                "accidental edits).")),
        line(N_("Type numbers only: no thousands separators (write 1234, not 1,234), no currency signs and no units.")),
        line(N_("Do not type percentages. For a ratio, give the numerator in the row whose indicator code ends in .N "
                "and the denominator in the row ending in .D.")),
        line(N_("Counts of people or households are whole numbers. Amounts in Kenya shillings may have up to two "
                "decimal places.")),
        line(N_("Leave a value cell empty to leave the stored value as it is.")),
        line(N_("The previous_value column shows last quarter's figure for reference. If the upload warns about a "
                "value (for example a large change), write the reason in the explanation column.")),
        # The reasons are read from the explanation's English start (indicators/explanations.py): they stay English.
        line(N_("An explanation that starts with one of these common reasons is counted as that reason in the "
                "data-quality report: %(reasons)s. Write the reason, a colon, then what happened, for example "
                "\"%(example)s\". Any other text is counted as Other."), reasons="; ".join(REASON_LABELS),
             example="Drought scale-up: 3,200 households added in Turbo in August"),
        line(N_("Do not add, remove, rename or reorder columns or sheets, do not merge cells, and do not type "
                "formulas: type the number itself.")),
        line(N_("You can fill the file offline, save it as .xlsx and upload it when you have a connection.")),
        ("", False),
        heading(N_("What happens when you upload it")),
        line(N_("The whole file is checked before anything is stored: if any problem is found, nothing is stored "
                "(all or nothing).")),
        line(N_("Each error names the sheet, row and column (for example Data!I7) so you can correct the cell and "
                "upload the file again.")),
    ]


def said_lines(lines: Sequence[Line], gettext: Gettext | None = None) -> list[tuple[str, bool]]:
    """Instruction lines in the language of `gettext` (English without one)."""
    return [(say(words, gettext), is_heading) for words, is_heading in lines]


def write_instructions(ws: Worksheet, lines: Sequence[tuple[str, bool]]) -> None:
    """Plain-language instructions on the second sheet, one line per row (headings bold)."""
    ws.column_dimensions["A"].width = 110
    for r, (text, is_heading) in enumerate(lines, start=1):
        cell = ws.cell(row=r, column=1)
        set_text(cell, text)
        cell.font = Font(bold=is_heading)
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_reference(ws: Worksheet, sheet: ReferenceSheet) -> None:
    """A reference sheet: a bold header row, wrapped text, locked (nothing on it is read back)."""
    for col, name in enumerate(sheet.headers, start=1):
        cell = ws.cell(row=1, column=col)
        set_text(cell, name)
        cell.font = Font(bold=True)
        width = sheet.widths[col - 1] if col <= len(sheet.widths) else 20
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, values in enumerate(sheet.rows, start=2):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col)
            set_text(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"
    ws.protection.sheet = True
    ws.protection.formatColumns = ws.protection.formatRows = False


def csv_safe(value: object) -> object:
    """A value for a CSV or spreadsheet export: text Excel would run as a formula gets a leading apostrophe
    (CSV injection); None is empty."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return "" if value is None else value
