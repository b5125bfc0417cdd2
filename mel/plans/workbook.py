"""Excel round trips for PMP targets and the joint work plan (download, edit offline, upload).

Each refusal of an upload is a message (indicators/messages.py): English text, which the upload page
says in the reader's language; the file's name, sheet, row and codes stay as they are.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import openpyxl
import pandas as pd
from openpyxl.styles import Font, Protection
from openpyxl.utils import get_column_letter

from indicators.messages import N_, message, text
from indicators.periods import parse_period
from mel.errors import ErrorDetail, ValidationFailed
from mel.returns.upload_limits import UploadLimits, check_size
from mel.returns.workbook import read_table, set_text

PMP_SHEET, ACTIVITY_SHEET, PROGRESS_SHEET = "Targets", "Activities", "Progress"
LINE_COLUMNS = ("indicator", "indicator_name", "org_unit", "org_unit_name", "baseline_value",
                "baseline_period", "collection_method", "frequency", "responsible")
ACTIVITY_COLUMNS = ("code", "title", "working_group", "lead_agency", "partners", "budget_kes",
                    "funding_source", "planned_quarters", "results_node", "indicators")
PROGRESS_COLUMNS = ("code", "period", "status", "percent_complete", "spend_to_date", "note")


def pmp_columns(fiscal_year: str) -> tuple[str, ...]:
    fy = parse_period(fiscal_year)
    return LINE_COLUMNS + tuple(q.id.lower() for q in fy.quarters()) + (fy.id.lower(),)


def _sheet(wb, title: str, columns: Sequence[str], rows: Sequence[Sequence], editable: set[str],
           numeric: set[str]) -> None:
    ws = wb.create_sheet(title)
    for col, name in enumerate(columns, start=1):
        cell = ws.cell(1, col)
        set_text(cell, name)
        cell.font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = max(12, min(40, len(name) + 4))
    for r, values in enumerate(rows, start=2):
        for c, (name, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = ws.cell(r, c)
            if name in numeric and value not in (None, ""):
                number = Decimal(str(value))
                cell.value = int(number) if number == number.to_integral_value() else float(number)
            else:
                set_text(cell, "" if value is None else str(value))
            cell.protection = Protection(locked=name not in editable)
    # Rows people add below the data stay editable too.
    for r in range(len(rows) + 2, len(rows) + 200):
        for c in range(1, len(columns) + 1):
            ws.cell(r, c).protection = Protection(locked=False)
    ws.freeze_panes = "A2"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.autoFilter = False


def _instructions(wb, lines: list[str]) -> None:
    ws = wb.create_sheet("Instructions")
    ws.column_dimensions["A"].width = 110
    for row, line in enumerate(lines, start=1):
        set_text(ws.cell(row, 1), line)
    ws.cell(1, 1).font = Font(bold=True, size=13)


def build_pmp_template(*, title: str, fiscal_year: str, version: int, rows: list[dict],
                       generated_at: datetime) -> bytes:
    """The PMP as one row per indicator × org unit, with its baseline and targets by period."""
    columns = pmp_columns(fiscal_year)
    period_columns = columns[len(LINE_COLUMNS):]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    fy_ids = [q.id for q in parse_period(fiscal_year).quarters()] + [fiscal_year]
    values = [[row.get(c, "") for c in LINE_COLUMNS] + [row.get("targets", {}).get(p, "") for p in fy_ids]
              for row in rows]
    editable = set(LINE_COLUMNS[4:]) | set(period_columns)
    _sheet(wb, PMP_SHEET, columns, values, editable, {"baseline_value", *period_columns})
    fy = parse_period(fiscal_year)
    _instructions(wb, [
        title,
        f"Performance monitoring plan for {fy.label}, version {version}; generated {generated_at:%d %b %Y %H:%M} UTC.",
        "One row per indicator and org unit (KE for national targets, a county code for county targets).",
        "Edit the baseline, method, frequency, responsible officer and the targets; codes and names are locked.",
        f"Target columns: {', '.join(q.label for q in fy.quarters())}, and the year ({fy.label}).",
        "Targets are numbers only: no thousands separators; percentages as numbers (95 for 95%).",
        "A flow indicator's year target need not equal the sum of its quarters; the service shows any difference.",
        "To add county targets, add rows below with the indicator code and the county code (e.g. 023).",
        "On upload the whole plan is checked; if anything is wrong nothing is stored and each problem names its cell.",
        "A successful upload becomes a new version of the plan with the reason you give; old versions stay readable.",
    ])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _limits(limits: UploadLimits | None, max_bytes: int | None) -> UploadLimits:
    limits = limits or UploadLimits()
    return limits if max_bytes is None else replace(limits, max_bytes=max_bytes)


def read_pmp_file(data: bytes, filename: str, fiscal_year: str, *, max_bytes: int | None = None,
                  limits: UploadLimits | None = None) -> tuple[list[dict], pd.DataFrame]:
    """Lines and target rows (with cell locations) from an uploaded PMP workbook."""
    if not filename.lower().endswith(".xlsx"):
        raise ValidationFailed(text(message(N_("%(name)s: upload the PMP as the downloaded .xlsx workbook."),
                                            name=filename)))
    limits = _limits(limits, max_bytes)
    check_size(data, filename, limits)
    columns = pmp_columns(fiscal_year)
    sheet, rows = read_table(data, filename, sheet=PMP_SHEET, columns=columns,
                             value_columns=columns[4:5] + columns[len(LINE_COLUMNS):], limits=limits)
    fy = parse_period(fiscal_year)
    period_ids = [q.id for q in fy.quarters()] + [fy.id]
    lines: dict[str, dict] = {}
    problems: list[ErrorDetail] = []
    targets = []
    for number, row in rows:
        code = row["indicator"].strip().upper()
        attributes = {k: row[k].strip() for k in LINE_COLUMNS[4:]}
        location = {"file": filename, "sheet": sheet, "row": number}
        if code in lines and any(lines[code][k] != v for k, v in attributes.items() if v):
            problems.append(ErrorDetail(text(message(
                N_("%(name)s %(sheet)s row %(row)s: %(code)s has a different baseline, method, frequency or "
                   "responsible officer than on row %(first)s; give them once per indicator."),
                name=filename, sheet=sheet, row=number, code=code, first=lines[code]["row"])), location))
        lines.setdefault(code, {"indicator": code, **attributes, **location})
        for offset, period in enumerate(period_ids):
            column = columns[len(LINE_COLUMNS) + offset]
            letter = get_column_letter(len(LINE_COLUMNS) + offset + 1)
            if row[column].strip():
                targets.append({"indicator": code, "org_unit": row["org_unit"].strip(), "period": period,
                                "value": row[column].strip(), "file": filename, "sheet": sheet,
                                "row": number, "column": letter})
    if problems:
        raise ValidationFailed(text(message(N_("%(name)s: %(count)s problem(s); nothing was stored."), name=filename,
                                            count=len(problems))), problems)
    return list(lines.values()), pd.DataFrame(targets, columns=["indicator", "org_unit", "period", "value",
                                                                "file", "sheet", "row", "column"])


def build_workplan_template(*, title: str, fiscal_year: str, activities: list[dict], progress: list[dict],
                            generated_at: datetime) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _sheet(wb, ACTIVITY_SHEET, ACTIVITY_COLUMNS, [[a.get(c, "") for c in ACTIVITY_COLUMNS] for a in activities],
           set(ACTIVITY_COLUMNS[1:]), {"budget_kes"})
    _sheet(wb, PROGRESS_SHEET, PROGRESS_COLUMNS, [[p.get(c, "") for c in PROGRESS_COLUMNS] for p in progress],
           set(PROGRESS_COLUMNS[2:]), {"percent_complete", "spend_to_date"})
    fy = parse_period(fiscal_year)
    _instructions(wb, [
        title,
        f"Joint work plan for {fy.label}; generated {generated_at:%d %b %Y %H:%M} UTC.",
        "Activities: working_group is one of policy, finance, shock, standards, merl; budget_kes is a number in KES;",
        "planned_quarters and indicators are comma-separated codes (e.g. 2025Q3,2025Q4 and SA10,SA11); results_node is a code such as O1.1.",
        "Progress: one row per activity and quarter; status is not_started, on_track, delayed, completed or dropped;",
        "percent_complete is a whole number 0–100; spend_to_date is KES without separators.",
        "On upload everything is checked first; if anything is wrong nothing is stored and each problem names its cell.",
    ])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def read_workplan_file(data: bytes, filename: str, *, max_bytes: int | None = None,
                       limits: UploadLimits | None = None) -> tuple[list[dict], list[dict]]:
    """Activities and progress rows (with cell locations) from an uploaded work-plan workbook."""
    if not filename.lower().endswith(".xlsx"):
        raise ValidationFailed(text(message(N_("%(name)s: upload the work plan as the downloaded .xlsx workbook."),
                                            name=filename)))
    limits = _limits(limits, max_bytes)
    check_size(data, filename, limits)
    sheet, activity_rows = read_table(data, filename, sheet=ACTIVITY_SHEET, columns=ACTIVITY_COLUMNS,
                                      value_columns=("budget_kes",), limits=limits)
    # Both sheets together stay within the row ceiling.
    rest = replace(limits, max_rows=max(limits.max_rows - len(activity_rows), 0))
    progress_sheet, progress_rows = read_table(data, filename, sheet=PROGRESS_SHEET, columns=PROGRESS_COLUMNS,
                                               value_columns=("percent_complete", "spend_to_date"),
                                               allow_empty=True, limits=rest)
    activities = [{**row, "file": filename, "sheet": sheet, "row": number} for number, row in activity_rows]
    progress = [{**row, "file": filename, "sheet": progress_sheet, "row": number} for number, row in progress_rows]
    return activities, progress
