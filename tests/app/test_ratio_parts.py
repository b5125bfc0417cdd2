"""Half a ratio (numerator without denominator, or the reverse) is a located error, never a crash."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import time_machine
from sqlalchemy import func, select

from indicators.history import ratio_frame
from indicators.validation import VALUE_KEY
from mel.accounts.operations import create_token
from mel.catalogue.lookup import load_catalogue
from mel.returns import checks
from mel.returns.models import DataValue, Return
from tests.app.returns_helpers import IN_WINDOW, rows_like, send
from tests.helpers import PAGE, field_name, grid_form, input_value, login

API = "/api/v1/returns/OPCT/042/2025Q3"
HALVES = [("numerator", "denominator"), ("denominator", "numerator")]


def figures(session) -> list:
    return session.execute(select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id,
                                  DataValue.value).where(DataValue.period == "2025Q3")
                           .order_by(DataValue.id)).all()


def test_ratios_of_half_pairs_are_left_out_of_the_history_check(session):
    catalogue = load_catalogue(session)
    frame = pd.DataFrame([
        ("OPCT", "042", "2025Q3", "SA12", "numerator", "F", 120.0),
        ("OPCT", "042", "2025Q3", "SA12", "denominator", "M", 200.0),
        ("OPCT", "042", "2025Q3", "SA11", "numerator", "default", 30.0),
        ("OPCT", "042", "2025Q3", "SA11", "denominator", "default", 60.0),
    ], columns=[*VALUE_KEY, "number"])
    assert ratio_frame(frame[frame["component"] == "numerator"].iloc[:1], catalogue.specs).empty
    assert ratio_frame(frame.iloc[1:2], catalogue.specs).empty
    ratio = ratio_frame(frame, catalogue.specs)
    assert ratio[["indicator", "option", "component"]].values.tolist() == [["SA11", "default", "ratio"]]
    assert ratio["number"].tolist() == [50.0]
    # The history check over a half-entered ratio gives no ratio warning and does not crash.
    assert checks.history_warnings(session, frame.iloc[:2], {("OPCT", "042", "2025Q3")}, catalogue) == []


@pytest.mark.parametrize(("given", "missing"), HALVES)
def test_the_grid_refuses_half_a_ratio_next_to_the_cell_and_keeps_what_was_typed(given, missing, client, session):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        data = grid_form(session, client)
        for name in [k for k in data if k.startswith(f"v.SA12.{missing}.")]:
            data[name] = ""
        data[f"v.SA12.{given}.F"] = "777"
        response = client.post(PAGE, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:3000]
    suffix = ".N" if given == "numerator" else ".D"
    assert f"Kisumu, FY2025/26 Q1 — {given} of % of credited payments withdrawn within the payment window (SA12{suffix}), women" in page
    assert f"Enter the {missing} too, or clear the {given}" in page
    cell = f"v.SA12.{given}.F"
    assert f'aria-describedby="err-{cell.replace(".", "-")}"' in page
    assert f'<span class="cell-error" id="err-{cell.replace(".", "-")}">the {given} is given but the {missing} is empty; a percentage needs both. Enter the {missing} too, or clear the {given}.</span>' in page
    assert input_value(page, cell) == "777"
    # The computed percentage beside the typed parts is of the parts on screen, not the stored ones.
    row = page[page.index(f'name="{cell}"'):]
    assert re.search(r'<td class="computed"[^>]*>([^<]*)</td>', row).group(1) == "–"
    assert input_value(page, field_name("SA02", "F")) == data[field_name("SA02", "F")]
    assert session.scalar(select(func.count()).select_from(Return).where(Return.period == "2025Q3")) == 0


@pytest.mark.parametrize(("given", "missing"), HALVES)
def test_the_api_refuses_half_a_ratio_with_a_located_422_and_stores_nothing(given, missing, client, session):
    result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"]))
    assert result.outcome == "stored"
    session.commit()
    before = figures(session)
    headers = {"Authorization": f"Bearer {create_token(session, 'officer.opct@demo.test').token}"}
    suffix = ".N" if given == "numerator" else ".D"
    other = ".D" if given == "numerator" else ".N"
    payload = {"version": 1, "values": [
        {"indicator": "SA02", "option": "F", "value": 5},
        {"indicator": f"SA12{suffix}", "option": "M", "value": 10},
        {"indicator": f"SA12{other}", "option": "M", "value": None},
    ]}
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put(API, json=payload, headers=headers)
    assert response.status_code == 422, response.json
    located = [d for d in response.json["details"] if d["location"].get("indicator") == f"SA12{suffix}"]
    assert len(located) == 1, response.json["details"]
    assert located[0]["location"]["option"] == "M"
    assert f"Enter the {missing} too, or clear the {given}" in located[0]["message"]
    assert figures(session) == before


@pytest.mark.parametrize(("given", "missing"), HALVES)
def test_the_api_refuses_half_a_ratio_on_a_new_return(given, missing, client, session):
    headers = {"Authorization": f"Bearer {create_token(session, 'officer.opct@demo.test').token}"}
    suffix = ".N" if given == "numerator" else ".D"
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put(API, json={"version": 0, "values": [
            {"indicator": f"SA12{suffix}", "option": "F", "value": 10}]}, headers=headers)
    assert response.status_code == 422, response.json
    assert [d["location"]["indicator"] for d in response.json["details"]] == [f"SA12{suffix}"]
    assert session.scalar(select(func.count()).select_from(Return).where(Return.period == "2025Q3")) == 0
