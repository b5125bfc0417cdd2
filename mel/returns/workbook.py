"""Quarterly-return files: build the Excel template and read .xlsx/.csv uploads into raw cells."""

from __future__ import annotations

import csv
import io
import math
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any, NoReturn

import openpyxl
import pandas as pd
from defusedxml.ElementTree import XMLParser
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.worksheet import Worksheet

from indicators.explanations import REASON_LABELS
from indicators.figures import ROW_COLUMNS
from mel.errors import ErrorDetail, ValidationFailed

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
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 200
MAX_DETAILS = 200
MAX_MERGED_CELLS = 10_000
_MB = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_DAMAGED = ("{name} is damaged or incomplete and could not be opened as an Excel workbook (the "
            "download or upload may have been cut off); open it in Excel, save it as .xlsx and "
            "upload it again.")
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
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
                   period_label: str, generated_at: datetime) -> bytes:
    """The .xlsx template: a protected "Data" sheet, only value/comment/explanation editable."""
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
    _write_instructions(wb.create_sheet(INSTRUCTIONS_SHEET), title=title, programme=programme,
                        period_label=period_label, generated_at=generated_at)
    wb.properties.title = _clean(title)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _clean(text: object) -> str:
    """Text without the control characters an .xlsx file cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", "" if text is None else str(text))


def set_text(cell: Any, raw: object) -> None:
    """Write text that Excel shows but never evaluates, even if it starts like a formula."""
    text = _clean(raw)
    cell.value = text or None
    if text.startswith(_FORMULA_LEADS):
        cell.data_type = "s"
        cell.quotePrefix = True


def _excel_number(raw: Number) -> int | float | str | None:
    """A stored value as an Excel number (Decimal becomes int when integral, else float)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        return _clean(raw)
    if isinstance(raw, Decimal | float) and not math.isfinite(raw):
        raise ValueError(f"cannot write non-finite value {raw!r} to the template")
    if isinstance(raw, Decimal):
        return int(raw) if raw == raw.to_integral_value() else float(raw)
    return raw


def _write_instructions(ws: Worksheet, *, title: str, programme: str, period_label: str,
                        generated_at: datetime) -> None:
    """Plain-language instructions on the second sheet."""
    stamp = generated_at.isoformat(sep=" ", timespec="minutes")
    headings = {title, "How to fill it in", "What happens when you upload it"}
    lines = [
        title,
        f"This file is the quarterly return template for {programme}, period {period_label}. "
        f"It was generated at {stamp}.",
        "",
        "How to fill it in",
        "Fill in the Data sheet. Only the value, comment and explanation columns can be changed; "
        "the other columns identify each figure and are locked (the sheet is protected without a "
        "password to prevent accidental edits).",
        "Type numbers only: no thousands separators (write 1234, not 1,234), no currency signs "
        "and no units.",
        "Do not type percentages. For a ratio, give the numerator in the row whose indicator code "
        "ends in .N and the denominator in the row ending in .D.",
        "Counts of people or households are whole numbers. Amounts in Kenya shillings may have up "
        "to two decimal places.",
        "Leave a value cell empty to leave the stored value as it is.",
        "The previous_value column shows last quarter's figure for reference. If the upload warns "
        "about a value (for example a large change), write the reason in the explanation column.",
        "An explanation that starts with one of these common reasons is counted as that reason in "
        "the data-quality report: " + "; ".join(REASON_LABELS)
        + ". Write the reason, a colon, then what happened, for example \"Drought scale-up: 3,200 "
        "households added in Turbo in August\". Any other text is counted as Other.",
        "Do not add, remove, rename or reorder columns or sheets, do not merge cells, and do not "
        "type formulas: type the number itself.",
        "You can fill the file offline, save it as .xlsx and upload it when you have a connection.",
        "",
        "What happens when you upload it",
        "The whole file is checked before anything is stored: if any problem is found, nothing is "
        "stored (all or nothing).",
        "Each error names the sheet, row and column (for example Data!I7) so you can correct the "
        "cell and upload the file again.",
    ]
    ws.column_dimensions["A"].width = 110
    for r, text in enumerate(lines, start=1):
        cell = ws.cell(row=r, column=1)
        set_text(cell, text)
        cell.font = Font(bold=text in headings)
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def read_return_file(data: bytes, filename: str, *, max_bytes: int = 10 * _MB,
                     max_uncompressed: int = MAX_UNCOMPRESSED_BYTES) -> pd.DataFrame:
    """Canonical raw rows (CANONICAL_COLUMNS) of an uploaded .xlsx or .csv return file."""
    name = PurePosixPath(filename.replace("\\", "/")).name or "upload"
    ext = PurePosixPath(name).suffix.lower()
    if ext not in (".xlsx", ".csv"):
        legacy = ext in (".xls", ".xlsm", ".xlsb", ".ods")
        hint = " Save it from Excel as an Excel Workbook (.xlsx)." if legacy else ""
        _refuse(name, f"{name}: only .xlsx (Excel workbook) and .csv files are accepted, "
                      f"not {ext or 'a file without an extension'}.{hint}")
    if not data:
        _refuse(name, f"{name} is empty (0 bytes); choose the filled-in file and upload it again.")
    if len(data) > max_bytes:
        _refuse(name, f"{name} is {len(data) / _MB:.1f} MB, over the "
                      f"{max_bytes / _MB:.1f} MB limit; split it into smaller files or remove "
                      "unrelated sheets.")
    if ext == ".xlsx":
        return _read_xlsx(data, name, max_uncompressed)
    return _read_csv(data, name)


def _refuse(name: str, message: str) -> NoReturn:
    """Raise a file-level refusal."""
    raise ValidationFailed(message, [ErrorDetail(message, {"file": name})])


def _fail(name: str, details: list[ErrorDetail], unlisted: int = 0) -> NoReturn:
    """Raise one ValidationFailed summarising every located problem (unlisted: not collected)."""
    total = len(details) + unlisted
    if total == 1:
        message = f"{name}: {details[0].message} Nothing was stored."
    else:
        shown = f" (the first {MAX_DETAILS} are listed)" if total > MAX_DETAILS else ""
        message = f"{name}: {total} problems{shown}; nothing was stored."
    raise ValidationFailed(message, details[:MAX_DETAILS])


def _check_zip(data: bytes, name: str, max_uncompressed: int) -> None:
    """Refuse non-zip, damaged or bomb-like files before openpyxl decompresses anything."""
    if data.startswith(_OLE_MAGIC):
        _refuse(name, f"{name} is an old-style Excel .xls file (or a password-protected "
                      "workbook); open it in Excel, remove any password and save it as .xlsx "
                      "(Excel Workbook).")
    if not data.startswith(_ZIP_MAGIC):
        kind = "a CSV or text file" if b"\0" not in data[:4096] else "some other kind of file"
        _refuse(name, f"{name} is not an Excel .xlsx workbook (it looks like {kind}); upload the "
                      "template saved as .xlsx, or name a CSV file .csv.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except Exception:  # any zip parse failure means a damaged file, never a traceback
        _refuse(name, _DAMAGED.format(name=name))
    # zipfile never inflates a member beyond its declared file_size, so checking the declared
    # sizes bounds the memory used by the merge scan below and by openpyxl.
    total = sum(m.file_size for m in members)
    if len(members) > MAX_ZIP_MEMBERS:
        _refuse(name, f"{name} holds {len(members)} parts, more than an Excel workbook plausibly "
                      f"has ({MAX_ZIP_MEMBERS}); upload the template saved from Excel.")
    if total > max_uncompressed:
        _refuse(name, f"{name} unpacks to {total / _MB:.1f} MB, over the "
                      f"{max_uncompressed / _MB:.1f} MB limit; remove unrelated sheets or split "
                      "it.")
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > _MB and ratio > MAX_COMPRESSION_RATIO:
            _refuse(name, f"{name} has a part ({m.filename}) compressed {ratio:.0f} times, which "
                          "is not a normal workbook; upload the template saved from Excel.")
    merged = 0
    # Every part, not just xl/worksheets/: the workbook's rels may point a sheet anywhere.
    for m in members:
        merged = _check_merges(zf, m, name, merged)


class _MergeCounter:
    """Parser target that totals merged-cell areas without building a tree."""

    def __init__(self, merged: int) -> None:
        self.merged, self.worst = merged, ""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == "mergeCell":
            ref = attrib.get("ref", "")
            try:
                lo_col, lo_row, hi_col, hi_row = range_boundaries(ref)
            except ValueError:  # openpyxl rejects it on load too; keep scanning for the rest
                return
            # Open-ended refs (A:A, 3:3) span the whole sheet, as openpyxl would expand them.
            cols = (hi_col or 16384) - (lo_col or 1) + 1
            self.merged += cols * ((hi_row or 1048576) - (lo_row or 1) + 1)
            self.worst = self.worst or (ref if self.merged > MAX_MERGED_CELLS else "")


def _check_merges(zf: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, merged: int) -> int:
    """Refuse huge merged ranges: openpyxl materialises one object per merged cell on load."""
    counter = _MergeCounter(merged)
    parser = XMLParser(target=counter)
    try:
        with zf.open(member) as stream:
            while not counter.worst and (chunk := stream.read(_MB)):
                parser.feed(chunk)
    except Exception:  # images and malformed parts: openpyxl decides whether they matter
        pass
    if counter.worst:
        _refuse(name, f"{name} has merged cells covering more than {MAX_MERGED_CELLS} cells "
                      f"(range {counter.worst}); unmerge them (Home > Merge & Center) and upload "
                      "again.")
    return counter.merged


def _read_xlsx(data: bytes, name: str, max_uncompressed: int) -> pd.DataFrame:
    """Canonical rows of the "Data" sheet, after the structural checks."""
    sheet, rows = read_table(data, name, sheet=DATA_SHEET, columns=TEMPLATE_COLUMNS,
                             value_columns=("value",), max_uncompressed=max_uncompressed)
    value_letter = get_column_letter(TEMPLATE_COLUMNS.index("value") + 1)
    records = [(v["indicator"], v["option"], v["org_unit"], v["period"], v["value"], v["comment"],
                v["explanation"], name, sheet, row, value_letter) for row, v in rows]
    return _frame(records)


def read_table(data: bytes, name: str, *, sheet: str, columns: Sequence[str],
               value_columns: Sequence[str] = (), max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
               allow_empty: bool = False) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """The rows (number, {column: text}) of one sheet whose header must equal `columns`.

    Runs the same checks as return files: zip bomb, damaged file, missing sheet, header,
    merged cells and formulas (text starting with "=" counts in `value_columns`).
    """
    _check_zip(data, name, max_uncompressed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=False)
    except Exception:  # openpyxl raises many types for malformed parts
        _refuse(name, _DAMAGED.format(name=name))
    found_sheet = next((s for s in wb.sheetnames if s.strip().lower() == sheet.lower()), None)
    if found_sheet is None or not isinstance(wb[found_sheet], Worksheet):
        found = ", ".join(f'"{s}"' for s in wb.sheetnames) or "none"
        _refuse(name, f'{name} has no sheet named "{sheet}" (sheets found: {found}); use '
                      "the downloaded template and do not rename its sheets.")
    sheet = found_sheet
    ws = wb[sheet]
    where = {"file": name, "sheet": sheet}
    ncols = len(columns)
    value_indexes = {columns.index(c) + 1 for c in value_columns}
    header: list[tuple[str, str]] = []
    grid: dict[int, list[str]] = {}
    formulas: list[ErrorDetail] = []
    unlisted = 0
    # Only cells present in the file: iter_rows would create every cell up to a stray far one.
    for (row, col), cell in sorted(ws._cells.items()):
        letter = get_column_letter(col)
        formula = _formula_text(cell, col in value_indexes)
        if formula is not None and len(formulas) >= MAX_DETAILS:
            unlisted += 1
        elif formula is not None:
            ref = f"{sheet}!{letter}{row}"
            formulas.append(ErrorDetail(f"{ref} holds a formula ({formula}); type the number "
                                        "instead.", {**where, "row": row, "column": letter,
                                                     "cell": ref}))
        text = _cell_text(cell.value)
        if row == 1 and text.strip():
            header.append((letter, text.strip().lower()))
        elif row > 1 and col <= ncols:
            grid.setdefault(row, [""] * ncols)[col - 1] = text
    details = _compare_header(header, columns, (), where,
                              lambda letter: f"{sheet}!{letter}1", ordered=True)
    for rng in sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        details.append(ErrorDetail(
            f"{sheet}!{rng.coord} is a merged range; unmerge it so each cell holds one value.",
            {**where, "row": rng.min_row, "column": get_column_letter(rng.min_col),
             "cell": f"{sheet}!{rng.coord}", "range": rng.coord}))
    details += formulas
    if details:
        _fail(name, details, unlisted)
    rows = [(row, dict(zip(columns, texts, strict=True))) for row, texts in sorted(grid.items())
            if any(t.strip() for t in texts)]
    if not rows and not allow_empty:
        _refuse(name, f"{name} has no data rows in sheet {sheet}; fill in the template below the "
                      "header row.")
    return sheet, rows


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
        what = "a repeated column" if text in seen else "an extra column"
        details.append(ErrorDetail(
            f'column {letter} ("{text}") is {what}; remove it so the header matches the template.',
            {**where, "row": 1, "column": letter, "cell": ref(letter)}))
    missing = [c for c in required if c not in seen]
    if missing:
        details.append(ErrorDetail(
            f"the header row is missing the column(s) {', '.join(missing)}; use the downloaded "
            "template and do not delete columns.", {**where, "row": 1}))
    if ordered and not details:
        for letter, text in found:
            expected = get_column_letter(required.index(text) + 1)
            if letter != expected:
                details.append(ErrorDetail(
                    f'the columns are in the wrong order: "{text}" is in column {letter} but '
                    f"belongs in column {expected}; use the downloaded template and do not move, "
                    "insert or delete columns.",
                    {**where, "row": 1, "column": letter, "cell": ref(letter)}))
                break
    return details


def _formula_text(cell: Any, value_column: bool) -> str | None:
    """The formula a cell holds, or None; text "=..." only counts in the value column."""
    if cell.data_type == "f":
        value = cell.value
        return value if isinstance(value, str) else str(getattr(value, "text", value))
    # Names and comments the template wrote as protected text may legitimately start with "=".
    if value_column and isinstance(cell.value, str) and cell.value.startswith("="):
        return cell.value
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


def _frame(records: list[tuple[Any, ...]]) -> pd.DataFrame:
    """The canonical DataFrame."""
    frame = pd.DataFrame.from_records(records, columns=list(CANONICAL_COLUMNS))
    return frame.astype({"row": "int64"})


def _decode_csv(data: bytes, name: str) -> str:
    """CSV text, refusing binaries; UTF-8 (with or without BOM) first, then Windows cp1252."""
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        _refuse(name, f"{name}: this is not a CSV file, it looks like an Excel workbook; upload it "
                      "with a .xlsx name, or save it from Excel as CSV.")
    if b"\0" in data:
        _refuse(name, f"{name}: this is not a CSV file, it contains binary data; save it from "
                      "Excel as \"CSV UTF-8 (Comma delimited)\".")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    _refuse(name, f"{name} is neither UTF-8 nor Windows (cp1252) text; save it from Excel as "
                  "\"CSV UTF-8 (Comma delimited)\".")


def _read_csv(data: bytes, name: str) -> pd.DataFrame:
    """Canonical rows of a flat CSV (one value per line)."""
    text = _decode_csv(data, name)
    where = {"file": name, "sheet": ""}
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        _refuse(name, f"{name} is not a readable CSV file ({exc}); save it from Excel as CSV.")
    if not lines or not any(f.strip() for f in lines[0]):
        _refuse(name, f"{name} has no header row; the first line must be "
                      f"{','.join(CSV_COLUMNS)}[,explanation].")
    header = [f.replace("\ufeff", "").strip().lower() for f in lines[0]]
    if len(header) == 1 and ";" in header[0]:
        _refuse(name, f"{name} uses ';' between columns; save it with commas as separators.")
    found = [(get_column_letter(i + 1), h) for i, h in enumerate(header) if h]
    details = _compare_header(found, CSV_COLUMNS, CSV_OPTIONAL_COLUMNS, where,
                              lambda letter: f"{letter}1", ordered=False)
    if details:
        _fail(name, details)
    position = {h: i for i, h in enumerate(header) if h}
    value_letter = get_column_letter(position["value"] + 1)
    records: list[tuple[Any, ...]] = []
    unlisted = 0
    # Row numbers count records, as Excel shows them, not physical lines of multi-line fields.
    for row, fields in enumerate(lines[1:], start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            if len(details) >= MAX_DETAILS:
                unlisted += 1
                continue
            details.append(ErrorDetail(
                f"row {row} has {len(fields)} fields but the header has {len(header)}; check for "
                "unquoted commas in that line.", {**where, "row": row}))
            continue
        get = {h: fields[i] for h, i in position.items()}
        records.append((get["indicator"], get["option"], get["org_unit"], get["period"],
                        get["value"], get["comment"], get.get("explanation", ""), name, "", row,
                        value_letter))
    if details:
        _fail(name, details, unlisted)
    if not records:
        _refuse(name, f"{name} has no data rows; add one line per value below the header.")
    return _frame(records)
