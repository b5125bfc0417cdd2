"""Helpers for return tests: canonical rows built from the demo history."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from indicators.figures import figure_code
from mel.accounts.models import User
from mel.accounts.operations import load_user
from mel.catalogue.models import Indicator, OptionCombo, OrgUnit, Programme
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import DataValue

CANONICAL = ["indicator", "option", "org_unit", "period", "value", "comment", "explanation",
             "file", "sheet", "row", "column"]
# The window of 2025Q3 (July–September 2025) opens 30 Sep, is due 15 Oct and closes 14 Nov.
IN_WINDOW = datetime(2025, 10, 5, 9, 0, tzinfo=UTC)


def user(session, email: str) -> User:
    return load_user(session, email)


def rows_like(session, programme: str, org_units: list[str], source: str = "2025Q2",
              period: str = "2025Q3", factor: float = 1.01, annual: bool = False) -> pd.DataFrame:
    """A return's rows for `period`, copying the demo's `source` quarter grown by `factor`."""
    query = (
        select(DataValue.value, DataValue.component, Indicator.code, Indicator.frequency,
               OptionCombo.code, OrgUnit.code)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
        .join(OrgUnit, OrgUnit.id == DataValue.org_unit_id)
        .join(Programme, Programme.id == DataValue.programme_id)
        .where(Programme.code == programme, OrgUnit.code.in_(org_units), DataValue.period == source)
        .order_by(OrgUnit.code, Indicator.code, DataValue.component, OptionCombo.code)
    )
    records = []
    for value, component, code, frequency, option, unit in session.execute(query):
        if frequency == "annual" and not annual:
            continue
        grown = float(value) * factor
        text = f"{grown:.2f}" if code == "SA10" else str(round(grown))
        records.append({"indicator": figure_code(code, component), "option": option, "org_unit": unit,
                        "period": period, "value": text, "comment": "", "explanation": ""})
    frame = pd.DataFrame(records)
    # Keep ratios consistent after rounding: the numerator never exceeds the denominator.
    percent_parts = frame["indicator"].str.endswith(".N") & ~frame["indicator"].str.startswith("SPX12")
    for index, row in frame[percent_parts].iterrows():
        match = frame[(frame["indicator"] == row["indicator"][:-2] + ".D") & (frame["org_unit"] == row["org_unit"])
                      & (frame["option"] == row["option"])]
        if not match.empty and int(row["value"]) > int(match.iloc[0]["value"]):
            frame.at[index, "value"] = match.iloc[0]["value"]
    frame["file"] = "test.csv"
    frame["sheet"] = ""
    frame["row"] = range(2, len(frame) + 2)
    frame["column"] = "E"
    return frame[CANONICAL]


def send(session, email: str, rows: pd.DataFrame, *, programme: str = "OPCT", channel: str = "csv",
         now: datetime = IN_WINDOW, **kwargs):
    return ingest(session, user(session, email), Incoming(rows, channel, "test.csv"),
                  programme=programme, now=now, **kwargs)


def rule_breaking_rows(session, period: str, unit: str = "042") -> pd.DataFrame:
    """A complete OPCT return whose new enrolments exceed the payroll (rule VR03 fires)."""
    rows = rows_like(session, "OPCT", [unit], source="2023Q3", period=period, factor=1.0)
    sa01 = rows.loc[rows["indicator"] == "SA01", "value"].astype(int).sum()
    sa14 = rows["indicator"] == "SA14"
    factor = sa01 // max(rows.loc[sa14, "value"].astype(int).sum(), 1) + 2
    rows.loc[sa14, "value"] = (rows.loc[sa14, "value"].astype(int) * factor).astype(str)
    rows.loc[rows["indicator"] == "SA15", "value"] = "0"
    return rows
