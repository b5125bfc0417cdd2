"""Helpers for the reporting tools pack's tests: open a pack, fill its templates with plausible figures
from the demo history, as an officer would, and read what they hold."""

from __future__ import annotations

import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
from sqlalchemy import select

from indicators.figures import figure_code
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Indicator, OptionCombo, OrgUnit, Programme
from mel.returns.models import DataValue
from mel.returns.workbook import DATA_SHEET, TEMPLATE_COLUMNS

VALUE = TEMPLATE_COLUMNS.index("value") + 1
CODES = {name: TEMPLATE_COLUMNS.index(name) + 1 for name in ("org_unit", "period", "indicator", "option")}


def unzip(data: bytes) -> dict[str, bytes]:
    """The pack's members by path (a corrupt zip raises here)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def history_values(session, period: str = "2025Q2") -> dict[tuple[str, str, str, str], Decimal]:
    """(programme, org unit, figure code, option) -> the demo's figure of `period`: what officers copy from."""
    rows = session.execute(
        select(Programme.code, OrgUnit.code, Indicator.code, DataValue.component, OptionCombo.code, DataValue.value)
        .join(Programme, Programme.id == DataValue.programme_id).join(OrgUnit, OrgUnit.id == DataValue.org_unit_id)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id).where(DataValue.period == period))
    return {(p, u, figure_code(i, c), o): v for p, u, i, c, o, v in rows}


def _grown(value: Decimal, amount: bool, factor: Decimal) -> Decimal:
    step = Decimal("0.01") if amount else Decimal("1")
    return (value * factor).quantize(step, rounding=ROUND_HALF_UP)


def fill_template(session, data: bytes, programme: str, history: dict, factor: str = "1.01") -> tuple[bytes, int]:
    """The template with every figure that has a history filled in (last quarter's, grown by `factor`; a
    percentage's numerator kept within its denominator), and how many were filled."""
    catalogue = load_catalogue(session)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[DATA_SHEET]
    cells = {}
    for row in range(2, sheet.max_row + 1):
        unit, indicator, option = (sheet.cell(row=row, column=CODES[c]).value for c in ("org_unit", "indicator",
                                                                                          "option"))
        found = history.get((programme, unit, indicator, option))
        if found is None:
            continue
        base = indicator.split(".")[0]
        amount = catalogue.indicators[base].measure == "amount"
        cells[(unit, indicator, option)] = (row, _grown(Decimal(found), amount, Decimal(factor)))
    for (unit, indicator, option), (row, value) in list(cells.items()):
        if indicator.endswith(".N") and catalogue.indicators[indicator[:-2]].unit == "percent":
            denominator = cells.get((unit, indicator[:-2] + ".D", option))
            if denominator is not None and value > denominator[1]:
                cells[(unit, indicator, option)] = (row, denominator[1])
    for row, value in cells.values():
        sheet.cell(row=row, column=VALUE).value = int(value) if value == value.to_integral_value() else float(value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), len(cells)


def sheet_text(data: bytes, sheet: str) -> str:
    """Every cell of one sheet of a workbook, as one text."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(str(value) for row in book[sheet].iter_rows(values_only=True) for value in row if value is not None)


def data_rows(data: bytes) -> list[tuple]:
    """The Data sheet's rows (header included) as values."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(row) for row in book[DATA_SHEET].iter_rows(values_only=True)]
