"""An indicator's history (mel/results/history.py) as CSV and as an Excel workbook, with every note.

One row per period (each quarter, then its financial year) with the figure, its target and where it came
from, and the notes in columns: the data-quality notes of that quarter, and for a year the revisions of its
targets. The workbook adds a sheet with one row per note, one per plan version and one per linked evidence
item. Texts are English (the API's words); anything Excel would run as a formula is written as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from mel.returns.template_sheets import csv_safe, set_text

ROW_COLUMNS = ("indicator", "org_unit", "programme", "fiscal_year", "span", "period", "period_label", "actual",
               "numerator", "denominator", "target", "target_source", "target_note", "baseline", "baseline_period",
               "achievement", "achievement_method", "status", "returns_received", "returns_expected", "completeness",
               "pmp", "pmp_version", "note", "notes_count", "notes", "target_revisions")
NOTE_COLUMNS = ("period", "period_label", "kind", "programme", "org_unit", "org_unit_name", "indicator_figure",
                "option", "text", "explanation", "reasons", "by", "at")
PLAN_COLUMNS = ("fiscal_year", "scope", "title", "version", "is_current", "changed", "created_at", "created_by",
                "reason", "baseline", "baseline_period", "year_target", "quarter_targets")
EVIDENCE_COLUMNS = ("id", "kind", "title", "authors", "agency", "published_on", "link", "key_findings")
SHEETS = ("History", "Notes", "Targets", "Evidence")
NOTE_SEPARATOR = " | "


def note_line(note: dict) -> str:
    """One note as one line of text: "[returned] OPCT 042 SA01 F: the words (reasons) — explanation"."""
    where = " ".join(part for part in (note["programme"], note["org_unit"], note["indicator_figure"], note["option"])
                     if part)
    line = f"[{note['kind']}] {where}: {note['text'] or ''}".rstrip()
    if note["reasons"]:
        line += f" ({'; '.join(str(r) for r in note['reasons'])})"
    if note["explanation"]:
        line += f" — {note['explanation']}"
    return line


def revision_line(plan: dict) -> str:
    """A plan's versions of a year's target: "OPCT PMP 2024July: v1 1,000 (reason); v2 1,200 (reason)"."""
    versions = "; ".join(f"v{v['number']} {_number(v['year_target'])} ({v['reason']})" for v in plan["versions"])
    return f"{plan['scope']} PMP {plan['fiscal_year']}: {versions}"


def _number(value) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def history_rows(history: dict) -> list[dict]:
    """The history's rows: each quarter of each year, then the year, with their notes and target revisions."""
    by_period: dict[str, list[str]] = {}
    for note in history["notes"]:
        by_period.setdefault(note["period"], []).append(note_line(note))
    context = {"indicator": history["indicator"]["code"], "org_unit": history["org_unit"],
               "programme": history["programme"]}
    rows = []
    for year in history["years"]:
        for span, figure, notes, revisions in (
                *(("quarter", q, by_period.get(q["period"], []), []) for q in year["quarters"]),
                ("year" if year["complete"] else "year_to_date", year["year"], [],
                 [revision_line(p) for p in year["plans"]])):
            rows.append({**context, "fiscal_year": year["fiscal_year"], "span": span, "period": figure["period"],
                         "period_label": figure["label"], **{k: figure.get(k) for k in ROW_COLUMNS if k in figure},
                         "notes_count": figure["notes"], "notes": NOTE_SEPARATOR.join(notes),
                         "target_revisions": NOTE_SEPARATOR.join(revisions)})
    return rows


def plan_rows(history: dict) -> list[dict]:
    return [{"fiscal_year": plan["fiscal_year"], "scope": plan["scope"], "title": plan["title"],
             "version": version["number"], **{k: version[k] for k in ("is_current", "changed", "created_at",
                                                                       "created_by", "reason", "baseline",
                                                                       "baseline_period", "year_target")},
             "quarter_targets": "; ".join(f"{q} {_number(v)}" for q, v in version["quarter_targets"].items())}
            for year in history["years"] for plan in year["plans"] for version in plan["versions"]]


def note_rows(history: dict) -> list[dict]:
    return [{**note, "reasons": "; ".join(str(r) for r in note["reasons"])} for note in history["notes"]]


def history_csv(history: dict) -> str:
    """The history's rows as CSV (UTF-8 text, a header row, notes in their columns)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ROW_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in history_rows(history):
        writer.writerow({k: csv_safe(row.get(k)) for k in ROW_COLUMNS})
    return buffer.getvalue()


def _sheet(book, title: str, columns: Iterable[str], rows: Iterable[dict], first: bool = False) -> None:
    sheet = book.active if first else book.create_sheet()
    sheet.title = title
    columns = list(columns)
    for col, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=col, value=name)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(col)].width = 40 if name in ("notes", "text", "key_findings",
                                                                               "target_revisions", "reason") else 14
    for r, row in enumerate(rows, start=2):
        for col, name in enumerate(columns, start=1):
            value = row.get(name)
            cell = sheet.cell(row=r, column=col)
            if isinstance(value, bool) or value is None or isinstance(value, int | float):
                cell.value = value
            else:
                set_text(cell, value)
    sheet.freeze_panes = "A2"


def history_xlsx(history: dict) -> bytes:
    """The history as a workbook: History (one row per period), Notes, Targets (every plan version), Evidence."""
    book = openpyxl.Workbook()
    _sheet(book, SHEETS[0], ROW_COLUMNS, history_rows(history), first=True)
    _sheet(book, SHEETS[1], NOTE_COLUMNS, note_rows(history))
    _sheet(book, SHEETS[2], PLAN_COLUMNS, plan_rows(history))
    _sheet(book, SHEETS[3], EVIDENCE_COLUMNS, history["evidence"])
    book.properties.title = f"{history['indicator']['code']} history, {history['org_unit']}, {history['programme']}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
