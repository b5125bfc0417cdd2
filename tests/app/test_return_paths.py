"""Every way a figure arrives (web form, Excel upload, CSV via the CLI, JSON API) stores the same."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
import time_machine
from sqlalchemy import select

from indicators.figures import split_code
from mel.accounts.operations import create_token
from mel.catalogue.models import Indicator, OptionCombo
from mel.returns.models import DataValue, Return, ValueChange
from tests.app.returns_helpers import IN_WINDOW, rows_like
from tests.helpers import csrf_token, field_name, login


def stored(session) -> dict:
    query = (select(Indicator.code, DataValue.component, OptionCombo.code, DataValue.value)
             .join(Indicator, Indicator.id == DataValue.indicator_id)
             .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
             .join(Return, Return.id == DataValue.return_id)
             .where(Return.period == "2025Q3"))
    return {(i, c, o): Decimal(v) for i, c, o, v in session.execute(query)}


def expected(rows) -> dict:
    return {(*split_code(r["indicator"]), r["option"]): Decimal(r["value"]) for r in rows.to_dict("records")}


def via_web(client, session, rows):
    login(client, "officer.opct@demo.test")
    token = csrf_token(client, "/returns/OPCT/042/2025Q3")
    data = {field_name(r["indicator"], r["option"]): r["value"] for r in rows.to_dict("records")}
    data |= {"csrf_token": token, "version": "0", "action": "save", "narrative": "All cycles paid."}
    response = client.post("/returns/OPCT/042/2025Q3", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return "web"


def via_excel(client, session, rows):
    login(client, "officer.opct@demo.test")
    template = client.get("/returns/OPCT/042/2025Q3/template.xlsx")
    assert template.status_code == 200
    book = openpyxl.load_workbook(BytesIO(template.data))
    sheet = book["Data"]
    values = {(r["indicator"], r["option"]): r["value"] for r in rows.to_dict("records")}
    filled = 0
    for row in range(2, sheet.max_row + 1):
        key = (sheet.cell(row, 5).value, sheet.cell(row, 7).value)
        if key in values:
            sheet.cell(row, 9).value = int(values[key]) if "." not in values[key] else float(values[key])
            filled += 1
    assert filled == len(rows)
    buffer = BytesIO()
    book.save(buffer)
    token = csrf_token(client, "/upload")
    response = client.post("/upload", data={"csrf_token": token, "programme": "OPCT",
                                            "file": (BytesIO(buffer.getvalue()), "opct_kisumu.xlsx")})
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return "excel"


def via_cli(client, session, rows, tmp_path, runner):
    path = tmp_path / "opct.csv"
    rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(path, index=False)
    result = runner.invoke(args=["import", str(path), "--programme", "OPCT", "--as", "officer.opct@demo.test"])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} created" in result.output
    return "cli"


def via_api(client, session, rows):
    issued = create_token(session, "officer.opct@demo.test")
    payload = {"version": 0, "narrative": "All cycles paid.",
               "values": [{"indicator": r["indicator"], "option": r["option"], "value": r["value"]}
                          for r in rows.to_dict("records")]}
    response = client.put("/api/v1/returns/OPCT/042/2025Q3", json=payload,
                          headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 200, response.json
    assert response.json["created"] == len(rows)
    return "api"


@pytest.mark.parametrize("path", ["web", "excel", "cli", "api"])
def test_every_path_stores_the_same_figures_and_audit(path, client, session, runner, tmp_path):
    rows = rows_like(session, "OPCT", ["042"])
    with time_machine.travel(IN_WINDOW, tick=False):
        if path == "cli":
            channel = via_cli(client, session, rows, tmp_path, runner)
        else:
            channel = {"web": via_web, "excel": via_excel, "api": via_api}[path](client, session, rows)
    assert stored(session) == expected(rows)
    changes = session.scalars(select(ValueChange).join(Return).where(Return.period == "2025Q3")).all()
    assert len(changes) == len(rows)
    assert {c.channel for c in changes} == {channel}
    assert all(c.old_value is None and c.return_version == 1 for c in changes)
    record = session.scalar(select(Return).where(Return.period == "2025Q3"))
    assert record.state == "draft"


def test_the_same_file_uploaded_twice_changes_nothing_the_second_time(client, session, runner, tmp_path):
    rows = rows_like(session, "OPCT", ["042", "037"])
    path = tmp_path / "twice.csv"
    rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(path, index=False)
    with time_machine.travel(IN_WINDOW, tick=False):
        first = runner.invoke(args=["import", str(path), "--programme", "OPCT"])
        assert first.exit_code == 0, first.output
        snapshot = (stored(session), session.query(ValueChange).count(),
                    [(r.id, r.version, r.state) for r in session.scalars(select(Return).order_by(Return.id))])
        second = runner.invoke(args=["import", str(path), "--programme", "OPCT"])
    assert second.exit_code == 0
    assert f"0 created, 0 updated, 0 deleted, {len(rows)} unchanged" in second.output
    assert snapshot == (stored(session), session.query(ValueChange).count(),
                        [(r.id, r.version, r.state) for r in session.scalars(select(Return).order_by(Return.id))])


def test_cli_import_exits_non_zero_and_names_the_cell_when_refused(session, runner, tmp_path):
    rows = rows_like(session, "OPCT", ["042"])
    rows.loc[5, "value"] = "12%"
    path = tmp_path / "bad.csv"
    rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(path, index=False)
    with time_machine.travel(IN_WINDOW, tick=False):
        result = runner.invoke(args=["import", str(path), "--programme", "OPCT"])
    assert result.exit_code == 1
    assert "bad.csv: nothing was stored: 1 problem in 38 figures. Had the file been right, it would have stored " \
           "37 new figures, 0 changed and 0 cleared (0 as stored) in 1 return." in result.output
    # A refusal never says "created": the per-return line says what would have happened.
    assert "OPCT 042 Kisumu           2025Q3: would create 37, update 0, delete 0; 0 unchanged" in result.output
    assert " created" not in result.output
    assert "bad.csv row 7, column E — Kisumu, FY2025/26 Q1 — " in result.output and "is a percentage" in result.output


def test_a_refused_upload_says_what_would_have_been_stored_never_created(client, session):
    rows = rows_like(session, "OPCT", ["042"])
    rows.loc[5, "value"] = "12%"
    body = rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(index=False).encode()
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.opct@demo.test")
        token = csrf_token(client, "/upload")
        response = client.post("/upload", data={"csrf_token": token, "programme": "OPCT",
                                                "file": (BytesIO(body), "bad.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:2000]
    assert "Had the file been right, it would have stored 37 new figures" in page
    assert "<caption>Had the file been right</caption>" in page
    assert '<th scope="col">Would create</th>' in page and ">Created<" not in page
    assert "bad.csv row 7, column E — Kisumu, FY2025/26 Q1 — " in page
    assert session.scalar(select(DataValue.id).where(DataValue.period == "2025Q3")) is None
