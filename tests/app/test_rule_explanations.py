"""A warning from a rule across indicators is explained by an explanation on any of its figures.

VR03 (`SA14 - SA15 <= SA01`, warning) fires on the figures below. The return is for 2023Q1,
before the demo history starts, so no history warning fires: the rule is the only warning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import openpyxl
import time_machine
from sqlalchemy import select

from mel.accounts.operations import create_token
from mel.catalogue.models import OrgUnit, Programme
from mel.returns.models import DataValue, Return, ValueFlag
from mel.returns.workbook import TEMPLATE_COLUMNS
from tests.app.returns_helpers import rule_breaking_rows, send
from tests.helpers import login

PERIOD = "2023Q1"
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # the window closed long ago: the secretariat sends
REASON = "Registration drive in January: 4,100 enrolled, payroll updated in April (MIS report 2023-01)."
COLUMNS = ["indicator", "option", "org_unit", "period", "value", "comment", "explanation"]


def explain(rows, indicator: str):
    rows = rows.copy()
    rows.loc[rows.index[rows["indicator"] == indicator][0], "explanation"] = REASON
    return rows


def the_return(session) -> Return:
    return session.scalar(select(Return).join(Programme, Programme.id == Return.programme_id)
                          .join(OrgUnit, OrgUnit.id == Return.org_unit_id)
                          .where(Programme.code == "OPCT", OrgUnit.code == "042", Return.period == PERIOD))


def rule_flag(session) -> ValueFlag:
    return session.scalar(select(ValueFlag).where(ValueFlag.return_id == the_return(session).id,
                                                  ValueFlag.flag_key == "rule:VR03"))


def test_the_rule_is_the_only_warning_of_these_figures(session):
    result = send(session, "secretariat@demo.test", rule_breaking_rows(session, PERIOD), now=NOW)
    assert result.outcome == "stored", [e.message for e in result.errors]
    assert [w.location.get("rule") for w in result.warnings] == ["VR03"]
    assert not rule_flag(session).is_explained


def test_an_explanation_on_any_figure_of_the_rule_explains_it_through_the_service(session):
    for indicator in ("SA01", "SA14", "SA15"):
        nested = session.begin_nested()
        result = send(session, "secretariat@demo.test", explain(rule_breaking_rows(session, PERIOD), indicator), now=NOW)
        assert result.outcome == "stored", [e.message for e in result.errors]
        assert rule_flag(session).explanation == REASON, indicator
        nested.rollback()
        session.expire_all()


def test_an_explanation_on_a_figure_outside_the_rule_does_not_explain_it(session):
    send(session, "secretariat@demo.test", explain(rule_breaking_rows(session, PERIOD), "SA10"), now=NOW)
    assert not rule_flag(session).is_explained


def test_mel_import_submit_of_an_honest_csv_succeeds(session, runner, tmp_path):
    path = tmp_path / "opct_kisumu_2023Q1.csv"
    explain(rule_breaking_rows(session, PERIOD), "SA01")[COLUMNS].to_csv(path, index=False)
    with time_machine.travel(NOW, tick=False):
        result = runner.invoke(args=["import", str(path), "--programme", "OPCT", "--submit"])
    assert result.exit_code == 0, result.output
    assert "submitted OPCT Kisumu" in result.output
    assert the_return(session).state == "submitted"
    assert rule_flag(session).explanation == REASON


def test_explaining_the_warning_in_the_file_and_sending_it_again_lets_it_be_submitted(session, runner, tmp_path):
    path = tmp_path / "opct_kisumu_2023Q1.csv"
    rows = rule_breaking_rows(session, PERIOD)
    rows[COLUMNS].to_csv(path, index=False)
    with time_machine.travel(NOW, tick=False):
        first = runner.invoke(args=["import", str(path), "--programme", "OPCT", "--submit"])
        assert first.exit_code == 1
        assert "not submitted" in first.output and "(VR03)" in first.output
        explain(rows, "SA15")[COLUMNS].to_csv(path, index=False)
        second = runner.invoke(args=["import", str(path), "--programme", "OPCT", "--submit"])
    assert second.exit_code == 0, second.output
    assert "0 created, 1 updated, 0 deleted" in second.output
    assert the_return(session).state == "submitted"
    assert rule_flag(session).explanation == REASON
    stored = session.scalar(select(DataValue.explanation).where(
        DataValue.return_id == the_return(session).id, DataValue.explanation != ""))
    assert stored == REASON


def test_an_excel_file_with_the_explanation_imports_and_submits_through_the_api(session, client):
    rows = explain(rule_breaking_rows(session, PERIOD), "SA14")
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        template = client.get(f"/returns/OPCT/042/{PERIOD}/template.xlsx")
        assert template.status_code == 200
        book = openpyxl.load_workbook(BytesIO(template.data))
        sheet = book["Data"]
        column = {name: n for n, name in enumerate(TEMPLATE_COLUMNS, start=1)}
        typed = {(r["indicator"], r["option"]): r for r in rows.to_dict("records")}
        for row in range(2, sheet.max_row + 1):
            figure = typed.get((sheet.cell(row, column["indicator"]).value, sheet.cell(row, column["option"]).value))
            if figure:
                sheet.cell(row, column["value"]).value = int(float(figure["value"]))
                if figure["explanation"]:
                    sheet.cell(row, column["explanation"]).value = figure["explanation"]
        buffer = BytesIO()
        book.save(buffer)
        token = create_token(session, "secretariat@demo.test").token
        response = client.post("/api/v1/returns:import?programme=OPCT&submit=true",
                               data={"file": (BytesIO(buffer.getvalue()), "opct_kisumu.xlsx")},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert the_return(session).state == "submitted"
    assert rule_flag(session).explanation == REASON


def test_a_json_write_with_the_explanation_on_one_figure_can_be_submitted(session, client):
    rows = explain(rule_breaking_rows(session, PERIOD), "SA15")
    token = create_token(session, "secretariat@demo.test").token
    headers = {"Authorization": f"Bearer {token}"}
    payload = {"version": 0, "values": [
        {"indicator": r["indicator"], "option": r["option"], "value": r["value"], "explanation": r["explanation"]}
        for r in rows.to_dict("records")]}
    with time_machine.travel(NOW, tick=False):
        written = client.put(f"/api/v1/returns/OPCT/042/{PERIOD}", json=payload, headers=headers)
        assert written.status_code == 200, written.get_json()
        submitted = client.post(f"/api/v1/returns/OPCT/042/{PERIOD}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["state"] == "submitted"
    assert [f["explanation"] for f in submitted.get_json()["flags"]] == [REASON]
