"""Every kind of bad input gets a located error and leaves stored data exactly as it was."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest
import time_machine
from sqlalchemy import func, select

from mel.accounts.operations import create_token
from mel.returns.models import DataValue, Return, ValueChange
from tests.app.returns_helpers import IN_WINDOW, rows_like


def snapshot(session):
    return (session.scalar(select(func.count()).select_from(DataValue)),
            session.scalar(select(func.sum(DataValue.value))),
            session.scalar(select(func.count()).select_from(Return)),
            session.scalar(select(func.count()).select_from(ValueChange)))


def csv_bytes(rows) -> bytes:
    return rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(index=False).encode()


@pytest.fixture
def post(client, session):
    token = create_token(session, "officer.opct@demo.test").token

    def _post(data: bytes, filename: str, **query):
        with time_machine.travel(IN_WINDOW, tick=False):
            return client.post("/api/v1/returns:import", query_string={"programme": "OPCT", **query},
                               data={"file": (io.BytesIO(data), filename)},
                               headers={"Authorization": f"Bearer {token}"})
    return _post


def edit(rows, index, column, value):
    rows = rows.copy()
    rows.loc[index, column] = value
    return rows


CASES = [
    ("unknown indicator", lambda r: edit(r, 3, "indicator", "XX99"), "'XX99' is not an indicator code of the catalogue", 5),
    ("unknown option", lambda r: edit(r, 3, "option", "F_A99"), "option 'F_A99' is not one of this indicator's disaggregations. Use one of F_A00_17 (girls 0–17)", 5),
    ("unknown org unit", lambda r: edit(r, 3, "org_unit", "Gotham"), "'Gotham' is not a county we know", 5),
    ("period in the wrong form", lambda r: edit(r, 3, "period", "2025-Q3"), "did you mean '2025Q3'", 5),
    ("period outside the window", lambda r: r.assign(period="2026Q1"), "opens on 31 March 2026", None),
    ("text", lambda r: edit(r, 3, "value", "many"), "'many' is not a number", 5),
    ("thousands separator", lambda r: edit(r, 3, "value", "1,234"), "Type 1234.", 5),
    ("percent", lambda r: edit(r, 3, "value", "12%"), "is a percentage", 5),
    ("negative", lambda r: edit(r, 3, "value", "-5"), "-5 is negative", 5),
    ("fraction in a count", lambda r: edit(r, 3, "value", "3.5"), "not a whole number", 5),
    ("duplicate with another value",
     lambda r: pd.concat([r, edit(r, 3, "value", "999").iloc[[3]]], ignore_index=True), "differs from", None),
    ("ratio typed as a percentage", lambda r: edit(r, 0, "indicator", "SPX08"), "this is a percentage, which is computed here", 2),
]


@pytest.mark.parametrize("name, change, words, row", CASES, ids=[c[0] for c in CASES])
def test_bad_csv_cells_are_refused_with_their_place(post, session, name, change, words, row):
    rows = change(rows_like(session, "OPCT", ["042"]).reset_index(drop=True))
    before = snapshot(session)
    response = post(csv_bytes(rows), "opct.csv")
    assert response.status_code == 422, response.json
    messages = [d["message"] for d in response.json["details"]]
    assert any(words in m for m in messages), messages
    if row:
        assert any(d.get("location", {}).get("row") == row and d["location"].get("file") == "opct.csv"
                   for d in response.json["details"]), response.json["details"]
    assert "nothing was stored" in response.json["message"]
    assert snapshot(session) == before


def template_bytes(client, session) -> openpyxl.Workbook:
    from tests.helpers import login

    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.opct@demo.test")
        response = client.get("/returns/OPCT/042/2025Q3/template.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def saved(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def formula(book):
    book["Data"]["I5"] = "=SUM(I2:I4)"


def merged_header(book):
    book["Data"].merge_cells("A1:B1")


def missing_sheet(book):
    book["Data"].title = "Sheet1"


def extra_column(book):
    book["Data"]["M1"] = "notes"


XLSX_CASES = [(formula, "Data!I5 holds a formula"), (merged_header, "A1:B1"),
              (missing_sheet, "Sheet1"), (extra_column, "notes")]


@pytest.mark.parametrize("change, words", XLSX_CASES, ids=[c[0].__name__ for c in XLSX_CASES])
def test_bad_workbooks_are_refused_with_their_place(client, session, post, change, words):
    book = template_bytes(client, session)
    for row in range(2, book["Data"].max_row + 1):
        book["Data"].cell(row, 9).value = 1
    change(book)
    before = snapshot(session)
    response = post(saved(book), "opct.xlsx")
    assert response.status_code == 422
    text = response.json["message"] + " ".join(d["message"] for d in response.json.get("details", []))
    assert words in text and "opct.xlsx" in text
    assert snapshot(session) == before


def test_files_that_are_not_what_their_name_says_empty_or_too_big(post, session, app, monkeypatch):
    before = snapshot(session)
    renamed = post(b"PK\x03\x04garbage", "opct.csv")
    assert renamed.status_code == 422 and "not a CSV" in renamed.json["message"]
    response = post(b"indicator,option\n1,2", "opct.xlsx")
    assert response.status_code == 422 and "opct.xlsx" in response.json["message"]
    empty = post(b"", "opct.csv")
    assert empty.status_code == 422 and "empty" in empty.json["message"]
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    big = post(b"indicator,option,org_unit,period,value,comment\n" + b"x" * (1024 * 1024 + 10), "big.csv")
    assert big.status_code == 422 and "MB" in big.json["message"]
    assert snapshot(session) == before


def test_a_zip_bomb_is_refused_without_unpacking_it(post, session):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(300):
                member.write(chunk)
    before = snapshot(session)
    response = post(buffer.getvalue(), "bomb.xlsx")
    assert response.status_code == 422
    assert "bomb.xlsx" in response.json["message"]
    assert snapshot(session) == before


def test_an_empty_required_cell_blocks_submission(client, session, post):
    rows = rows_like(session, "OPCT", ["042"]).reset_index(drop=True)
    rows.loc[3, "value"] = ""
    response = post(csv_bytes(rows), "opct.csv", submit="true")
    assert response.status_code == 422
    assert "could not be submitted" in response.json["message"]
    assert any("this figure is required but empty" in d["message"] for d in response.json["details"])
    record = session.scalar(select(Return).where(Return.period == "2025Q3"))
    assert record.state == "draft"
