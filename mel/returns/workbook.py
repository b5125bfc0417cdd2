"""Quarterly-return files: build the Excel template and read .xlsx/.csv uploads into raw cells.

Each refusal's words are a message (indicators/messages.py): English text, which the upload page
says in the reader's language; the file's name, sheets, cells and what they hold stay as they are.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any, NoReturn

import openpyxl
import pandas as pd
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.cell_range import CellRange

from indicators.figures import ROW_COLUMNS
from indicators.messages import N_, Message, Text, Words, message
from indicators.validation import ROW
from mel.errors import ErrorDetail, ValidationFailed
from mel.returns.template_sheets import (  # the sheets beside Data; set_text is imported from here by others
    TemplateGuide,
    clean,
    instruction_lines,
    said_lines,
    set_text,
    write_instructions,
    write_reference,
)
from mel.returns.upload_limits import (
    MAX_LINE_CHARS,
    OLE_MAGIC,
    ZIP_MAGIC,
    UploadLimits,
    check_size,
    check_workbook,
    damaged,
    refuse,
    too_many_cells,
    too_many_rows,
)

CANONICAL_COLUMNS = ROW_COLUMNS  # the canonical ingest row (indicators/figures.py)
TEMPLATE_COLUMNS = (
    "org_unit", "org_unit_name", "period", "period_label", "indicator", "indicator_name",
    "option", "option_name", "value", "comment", "explanation", "previous_value",
)
EDITABLE_COLUMNS = ("value", "comment", "explanation")
CSV_COLUMNS = ("indicator", "option", "org_unit", "period", "value", "comment")
CSV_OPTIONAL_COLUMNS = ("explanation",)
DATA_SHEET = "Data"
INSTRUCTIONS_SHEET = "Instructions"
INDICATORS_SHEET = "Indicators"  # the form's indicators, for reference (never read back)
MAX_UNCOMPRESSED_BYTES = UploadLimits().max_unpacked
MAX_DETAILS = 200
_WIDTHS = {"org_unit": 10, "org_unit_name": 24, "period": 9, "period_label": 16, "indicator": 11,
           "indicator_name": 48, "option": 12, "option_name": 28, "value": 14, "comment": 36,
           "explanation": 36, "previous_value": 15}

Number = str | int | float | Decimal | None


@dataclass(frozen=True)
class TemplateRow:
    """One pre-filled line of the template: codes, their names, stored and previous values."""

    org_unit: str
    org_unit_name: str
    period: str
    period_label: str
    indicator: str
    indicator_name: str
    option: str
    option_name: str
    value: Number = None
    comment: str = ""
    explanation: str = ""
    previous_value: Number = None


def build_template(rows: Sequence[TemplateRow], *, title: str, programme: str,
                   period_label: str, generated_at: datetime, guide: TemplateGuide | None = None) -> bytes:
    """The .xlsx template: a protected "Data" sheet, only value/comment/explanation editable, then the
    Instructions sheet and any reference sheets.

    Only the Data sheet is ever read back (`read_return_file`): what follows it is for people. Without a
    `guide` the instructions are the English ones every template gives (`instruction_lines`).
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    editable = PatternFill("solid", fgColor="FFF7D6")
    for col, name in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = _WIDTHS[name]
    for r, item in enumerate(rows, start=2):
        for col, name in enumerate(TEMPLATE_COLUMNS, start=1):
            cell = ws.cell(row=r, column=col)
            raw = getattr(item, name)
            if name in ("value", "previous_value"):
                cell.value = _excel_number(raw)
            else:
                set_text(cell, raw)
                # Text format stops codes like "042" or typed comments becoming numbers/formulas.
                cell.number_format = "@"
            if name in EDITABLE_COLUMNS:
                cell.protection = Protection(locked=False)
                cell.fill = editable
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(TEMPLATE_COLUMNS))}{max(len(rows) + 1, 2)}"
    ws.protection.sheet = True
    # Resizing and filtering cannot damage the data, so they stay allowed under protection.
    ws.protection.formatColumns = ws.protection.formatRows = ws.protection.autoFilter = False
    wb.security = WorkbookProtection(lockStructure=True)
    if guide is None:
        guide = TemplateGuide(said_lines(instruction_lines(title=title, programme=programme, period_label=period_label,
                                                           generated_at=generated_at)))
    write_instructions(wb.create_sheet(INSTRUCTIONS_SHEET), guide.instructions)
    for reference in guide.references:
        write_reference(wb.create_sheet(reference.title[:31]), reference)
    wb.properties.title = clean(title)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _excel_number(raw: Number) -> int | float | str | None:
    """A stored value as an Excel number (Decimal becomes int when integral, else float)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        return clean(raw)
    if isinstance(raw, Decimal | float) and not math.isfinite(raw):
        raise ValueError(f"cannot write non-finite value {raw!r} to the template")
    if isinstance(raw, Decimal):
        return int(raw) if raw == raw.to_integral_value() else float(raw)
    return raw


def read_return_file(data: bytes, filename: str, *, max_bytes: int | None = None,
                     max_uncompressed: int | None = None,
                     limits: UploadLimits | None = None) -> pd.DataFrame:
    """Canonical raw rows (CANONICAL_COLUMNS) of an uploaded .xlsx or .csv return file.

    Refused before parsing when over a limit (upload_limits.py), then read streaming: the
    reader's memory is bounded by the cell and row ceilings, whatever the file.
    """
    limits = _limits(limits, max_bytes, max_uncompressed)
    name = PurePosixPath(filename.replace("\\", "/")).name or "upload"
    ext = PurePosixPath(name).suffix.lower()
    if ext not in (".xlsx", ".csv"):
        legacy = ext in (".xls", ".xlsm", ".xlsb", ".ods")
        template = (N_("%(name)s: only .xlsx (Excel workbook) and .csv files are accepted, not %(ext)s. Save it "
                       "from Excel as an Excel Workbook (.xlsx).") if legacy else
                    N_("%(name)s: only .xlsx (Excel workbook) and .csv files are accepted, not %(ext)s."))
        _refuse(name, message(template, name=name, ext=ext or Message(N_("a file without an extension"))))
    check_size(data, name, limits)
    if ext == ".xlsx":
        return _read_xlsx(data, name, limits)
    return _read_csv(data, name, limits)


def _limits(limits: UploadLimits | None, max_bytes: int | None,
            max_uncompressed: int | None) -> UploadLimits:
    """The limits, with the older keyword overrides (max_bytes, max_uncompressed) applied."""
    limits = limits or UploadLimits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    if max_uncompressed is not None:
        limits = replace(limits, max_unpacked=max_uncompressed)
    return limits


def _refuse(name: str, said: Words | str) -> NoReturn:
    """Raise a file-level refusal."""
    refuse(name, said)


def _detail(said: Words, location: dict[str, Any]) -> ErrorDetail:
    """A located problem, its words a message."""
    return ErrorDetail(Text(said), location)


def _fail(name: str, details: list[ErrorDetail], unlisted: int = 0) -> NoReturn:
    """Raise one ValidationFailed summarising every located problem (unlisted: not collected)."""
    total = len(details) + unlisted
    if total == 1:
        said = message(N_("%(name)s: %(problem)s Nothing was stored."), name=name, problem=details[0].message)
    elif total > MAX_DETAILS:
        said = message(N_("%(name)s: %(count)s problems (the first %(listed)s are listed); nothing was stored."),
                       name=name, count=total, listed=MAX_DETAILS)
    else:
        said = message(N_("%(name)s: %(count)s problems; nothing was stored."), name=name, count=total)
    raise ValidationFailed(Text(said), details[:MAX_DETAILS])


def _read_xlsx(data: bytes, name: str, limits: UploadLimits) -> pd.DataFrame:
    """Canonical rows of the "Data" sheet, after the structural checks."""
    keep = ("indicator", "option", "org_unit", "period", "value", "comment", "explanation")
    table = _read_sheet(data, name, sheet=DATA_SHEET, columns=TEMPLATE_COLUMNS, value_columns=("value",),
                        limits=limits, keep=keep)
    value_letter = get_column_letter(TEMPLATE_COLUMNS.index("value") + 1)
    return _frame({**table.columns, "file": name, "sheet": table.sheet, "row": table.rows,
                   "column": value_letter})


@dataclass
class _Table:
    """A sheet's data rows, kept column by column (a list per column costs 8 bytes a cell)."""

    sheet: str
    rows: list[int]
    columns: dict[str, list[str]]


def read_table(data: bytes, name: str, *, sheet: str, columns: Sequence[str],
               value_columns: Sequence[str] = (), max_uncompressed: int | None = None,
               allow_empty: bool = False,
               limits: UploadLimits | None = None) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """The rows (number, {column: text}) of one sheet whose header must equal `columns`.

    Runs the same checks as return files: limits, zip bomb, damaged file, missing sheet, header,
    merged cells and formulas (text starting with "=" counts in `value_columns`).
    """
    table = _read_sheet(data, name, sheet=sheet, columns=columns, value_columns=value_columns,
                        limits=_limits(limits, None, max_uncompressed), keep=columns,
                        allow_empty=allow_empty)
    texts = [table.columns[c] for c in columns]
    return table.sheet, [(row, dict(zip(columns, values, strict=True)))
                         for row, *values in zip(table.rows, *texts, strict=True)]


def _read_sheet(data: bytes, name: str, *, sheet: str, columns: Sequence[str],
                value_columns: Sequence[str], limits: UploadLimits, keep: Sequence[str],
                allow_empty: bool = False) -> _Table:
    """Stream one sheet (openpyxl read-only), refusing as soon as a limit is passed."""
    check_workbook(data, name, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many types for malformed parts
        _refuse(name, damaged(name))
    try:
        found_sheet = next((s for s in wb.sheetnames if s.strip().lower() == sheet.lower()), None)
        if found_sheet is None or not isinstance(wb[found_sheet], ReadOnlyWorksheet):
            found = ", ".join(f'"{s}"' for s in wb.sheetnames) or Message(N_("none"))
            _refuse(name, message(N_('%(name)s has no sheet named "%(sheet)s" (sheets found: %(found)s); use the '
                                     "downloaded template and do not rename its sheets."),
                                  name=name, sheet=sheet, found=found))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _stream(wb, wb[found_sheet], name, columns, value_columns, limits, keep, allow_empty)
        except ValidationFailed:
            raise
        except Exception:  # malformed sheet XML, bad references: a damaged file, never a traceback
            _refuse(name, damaged(name))
    finally:
        wb.close()


def _stream(wb: Any, ws: ReadOnlyWorksheet, name: str, columns: Sequence[str],
            value_columns: Sequence[str], limits: UploadLimits, keep: Sequence[str],
            allow_empty: bool) -> _Table:
    """The sheet's cells as the file lists them (never a grid padded to a stray far cell)."""
    sheet = ws.title
    where = {"file": name, "sheet": sheet}
    ncols = len(columns)
    value_indexes = {columns.index(c) + 1 for c in value_columns}
    kept = [(columns.index(c), c) for c in keep]
    header: list[tuple[int, str]] = []
    table = _Table(sheet, [], {c: [] for c in keep})
    formulas: list[ErrorDetail] = []
    unlisted = cells = 0
    ordered, last = True, 0
    # The parser ReadOnlyWorksheet.iter_rows uses, without its padding (openpyxl is pinned).
    with ws._get_source() as source:
        parser = WorkSheetParser(source, wb.shared_strings, data_only=False, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for row, found in parser.parse():
            cells += len(found)
            if cells > limits.max_cells:
                too_many_cells(name, message(N_("sheet %(sheet)s, reading row %(row)s"), sheet=sheet, row=row),
                               limits)
            texts: list[str] | None = None
            for cell in found:
                col, value = cell["column"], cell["value"]
                formula = _formula_text(cell["data_type"], value, col in value_indexes)
                if formula is not None and len(formulas) >= MAX_DETAILS:
                    unlisted += 1
                elif formula is not None:
                    ref = f"{sheet}!{get_column_letter(col)}{row}"
                    formulas.append(_detail(
                        message(N_("%(cell)s holds a formula (%(formula)s); type the number instead."), cell=ref,
                                formula=formula),
                        {**where, "row": row, "column": get_column_letter(col), "cell": ref}))
                text = _cell_text(value)
                if row == 1 and text.strip():
                    header.append((col, text.strip().lower()))
                elif row > 1 and col <= ncols:
                    texts = texts or [""] * ncols
                    texts[col - 1] = text
            if texts is None or not any(t.strip() for t in texts):
                continue
            if len(table.rows) >= limits.max_rows:
                too_many_rows(name, message(N_("sheet %(sheet)s, row %(row)s"), sheet=sheet, row=row), limits)
            ordered, last = ordered and row > last, row
            table.rows.append(row)
            for index, column in kept:
                table.columns[column].append(texts[index])
        merges = list(parser.merged_cells.mergeCell) if parser.merged_cells else []
    found_header = [(get_column_letter(col), text) for col, text in sorted(header)]
    details = _compare_header(found_header, columns, (), where,
                              lambda letter: f"{sheet}!{letter}1", ordered=True)
    for lo_row, lo_col, coord in sorted(_merged(merges)):
        details.append(_detail(
            message(N_("%(cell)s is a merged range; unmerge it so each cell holds one value."), cell=f"{sheet}!{coord}"),
            {**where, "row": lo_row, "column": get_column_letter(lo_col), "cell": f"{sheet}!{coord}",
             "range": coord}))
    details += formulas
    if details:
        _fail(name, details, unlisted)
    if not table.rows and not allow_empty:
        _refuse(name, message(N_("%(name)s has no data rows in sheet %(sheet)s; fill in the template below the "
                                 "header row."), name=name, sheet=sheet))
    if not ordered:  # rows written out of order (not by Excel): report them in sheet order
        order = sorted(range(len(table.rows)), key=table.rows.__getitem__)
        table.rows = [table.rows[i] for i in order]
        table.columns = {c: [v[i] for i in order] for c, v in table.columns.items()}
    return table


def _merged(merges: list[Any]) -> list[tuple[int, int, str]]:
    """(first row, first column, range) of each well-formed merged range."""
    out = []
    for merge in merges:
        try:
            rng = CellRange(merge.ref)
        except (TypeError, ValueError):
            continue
        out.append((rng.min_row, rng.min_col, rng.coord))
    return out


def _compare_header(found: list[tuple[str, str]], required: Sequence[str], optional: Sequence[str],
                    where: dict[str, Any], ref: Any, *, ordered: bool) -> list[ErrorDetail]:
    """Compare header names (already lower-cased) with what the format expects."""
    known = (*required, *optional)
    details: list[ErrorDetail] = []
    seen: set[str] = set()
    for letter, text in found:
        if text in known and text not in seen:
            seen.add(text)
            continue
        template = (N_('column %(letter)s ("%(header)s") is a repeated column; remove it so the header matches the '
                       "template.") if text in seen else
                    N_('column %(letter)s ("%(header)s") is an extra column; remove it so the header matches the '
                       "template."))
        details.append(_detail(message(template, letter=letter, header=text),
                               {**where, "row": 1, "column": letter, "cell": ref(letter)}))
    missing = [c for c in required if c not in seen]
    if missing:
        details.append(_detail(
            message(N_("the header row is missing the column(s) %(columns)s; use the downloaded template and do not "
                       "delete columns."), columns=", ".join(missing)), {**where, "row": 1}))
    if ordered and not details:
        for letter, text in found:
            expected = get_column_letter(required.index(text) + 1)
            if letter != expected:
                details.append(_detail(
                    message(N_('the columns are in the wrong order: "%(header)s" is in column %(letter)s but belongs '
                               "in column %(expected)s; use the downloaded template and do not move, insert or "
                               "delete columns."), header=text, letter=letter, expected=expected),
                    {**where, "row": 1, "column": letter, "cell": ref(letter)}))
                break
    return details


def _formula_text(data_type: str, value: object, value_column: bool) -> str | None:
    """The formula a cell holds, or None; text "=..." only counts in the value column."""
    if data_type == "f":
        return value if isinstance(value, str) else str(getattr(value, "text", value))
    # Names and comments the template wrote as protected text may legitimately start with "=".
    if value_column and isinstance(value, str) and value.startswith("="):
        return value
    return None


def _cell_text(value: object) -> str:
    """The plain text of a cell value: 1234 -> "1234", 12.5 -> "12.5", dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """The canonical DataFrame from its columns (lists, or one value for every row)."""
    frame = pd.DataFrame({c: columns[c] for c in CANONICAL_COLUMNS if isinstance(columns[c], list)})
    for c in CANONICAL_COLUMNS:
        if not isinstance(columns[c], list):
            frame[c] = columns[c]
    return frame[list(CANONICAL_COLUMNS)].astype({"row": "int64"})


def _decode_csv(data: bytes, name: str) -> str:
    """CSV text, refusing binaries; UTF-8 (with or without BOM) first, then Windows cp1252."""
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        _refuse(name, message(N_("%(name)s: this is not a CSV file, it looks like an Excel workbook; upload it "
                                 "with a .xlsx name, or save it from Excel as CSV."), name=name))
    if b"\0" in data:
        _refuse(name, message(N_('%(name)s: this is not a CSV file, it contains binary data; save it from Excel '
                                 'as "CSV UTF-8 (Comma delimited)".'), name=name))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    _refuse(name, message(N_('%(name)s is neither UTF-8 nor Windows (cp1252) text; save it from Excel as '
                             '"CSV UTF-8 (Comma delimited)".'), name=name))


def _unreadable(name: str, exc: csv.Error) -> Message:
    return message(N_("%(name)s is not a readable CSV file (%(error)s); save it from Excel as CSV."), name=name,
                   error=str(exc))


def _lines(text: str, name: str) -> Iterator[str]:
    """Physical lines of the CSV text, refusing one too long to be a row (a field count bomb)."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > MAX_LINE_CHARS:
            _refuse(name, message(N_("%(name)s: line %(line)s is %(length)s characters long, over the %(limit)s a "
                                     "row of figures can need; check that the file is a return CSV with one value "
                                     "per line."),
                                  name=name, line=number, length=f"{len(line):,}", limit=f"{MAX_LINE_CHARS:,}"))
        yield line


def _read_csv(data: bytes, name: str, limits: UploadLimits) -> pd.DataFrame:
    """Canonical rows of a flat CSV (one value per line), read line by line within the limits."""
    text = _decode_csv(data, name)
    where = {"file": name, "sheet": ""}
    reader = csv.reader(_lines(text, name))
    try:
        first = next(reader, [])
    except csv.Error as exc:
        _refuse(name, _unreadable(name, exc))
    if not any(f.strip() for f in first):
        _refuse(name, message(N_("%(name)s has no header row; the first line must be %(header)s."), name=name,
                              header=f"{','.join(CSV_COLUMNS)}[,explanation]"))
    if len(first) > 16_384:  # Excel's widest sheet; a return CSV has six or seven columns
        _refuse(name, message(N_("%(name)s has %(count)s columns in its header row, more than a spreadsheet can "
                                 "hold; the first line must be %(header)s."),
                              name=name, count=f"{len(first):,}", header=f"{','.join(CSV_COLUMNS)}[,explanation]"))
    header = [f.replace("\ufeff", "").strip().lower() for f in first]
    if len(header) == 1 and ";" in header[0]:
        _refuse(name, message(N_("%(name)s uses ';' between columns; save it with commas as separators."), name=name))
    found = [(get_column_letter(i + 1), h) for i, h in enumerate(header) if h]
    details = _compare_header(found, CSV_COLUMNS, CSV_OPTIONAL_COLUMNS, where,
                              lambda letter: f"{letter}1", ordered=False)
    if details:
        _fail(name, details)
    position = {h: i for i, h in enumerate(header) if h}
    value_letter = get_column_letter(position["value"] + 1)
    keep = ("indicator", "option", "org_unit", "period", "value", "comment", "explanation")
    columns: dict[str, list[str]] = {c: [] for c in keep}
    numbers: list[int] = []
    unlisted = 0
    fields_read = len(first)
    # Row numbers count records, as Excel shows them, not physical lines of multi-line fields.
    try:
        for row, fields in enumerate(reader, start=2):
            fields_read += len(fields)
            if fields_read > limits.max_cells:
                too_many_cells(name, message(N_("fields, reading row %(row)s"), row=row), limits)
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                if len(details) >= MAX_DETAILS:
                    unlisted += 1
                    continue
                details.append(_detail(
                    message(N_("row %(row)s has %(fields)s fields but the header has %(header)s; check for unquoted "
                               "commas in that line."), row=row, fields=len(fields), header=len(header)),
                    {**where, "row": row}))
                continue
            if len(numbers) >= limits.max_rows:
                too_many_rows(name, message(ROW, row=row), limits)
            numbers.append(row)
            for column in keep:
                index = position.get(column)
                columns[column].append("" if index is None else fields[index])
    except csv.Error as exc:
        _refuse(name, _unreadable(name, exc))
    if details:
        _fail(name, details, unlisted)
    if not numbers:
        _refuse(name, message(N_("%(name)s has no data rows; add one line per value below the header."), name=name))
    return _frame({**columns, "file": name, "sheet": "", "row": numbers, "column": value_letter})
