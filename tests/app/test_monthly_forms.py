"""Monthly forms: the secretariat makes a form monthly from the first quarter of a financial year; its
returns are kept per month (202509), each with a window counted from the month's end; a quarter is
refused for them and a month for a quarterly form, naming what to give; results compile a quarter
from the months (flows add, stocks take the last month), as a quarterly form with the same quarters
would; completeness expects three returns per unit and quarter."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
import time_machine
from sqlalchemy import select

from mel.catalogue.form_admin import save_window
from mel.catalogue.form_contents import save_contents
from mel.catalogue.lookup import read_catalogue
from mel.catalogue.models import ReportingForm
from mel.catalogue.programme_admin import create_programme
from mel.errors import ValidationFailed
from mel.results.queries import approved_coverage, resolve_query, results
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import DataValue, Return
from mel.returns.workflow import window_for
from tests.app.returns_helpers import user
from tests.helpers import login

NOW = datetime(2025, 10, 5, 9, 0, tzinfo=UTC)  # 2025Q3 is being reported: FY2025/26's first quarter
FLOW, STOCK = "SA08", "HI03"
MONTHS = ("202507", "202508", "202509")


def _programme(session, code: str, frequency: str) -> None:
    secretariat = user(session, "secretariat@demo.test")
    with time_machine.travel(NOW, tick=False):
        create_programme(session, secretariat, {
            "code": code, "name": f"Test programme {code}", "pillar": "social_assistance", "agency": "SPS",
            "level": "national", "org_units": ["042", "001"], "from_period": "2025Q3", "reason": "Monthly test."})
        save_contents(session, secretariat, code, {
            "from_period": "2025Q3", "reason": "Its indicators.",
            "indicators": [{"indicator": c, "required": True} for c in (FLOW, STOCK)]})
        if frequency == "monthly":
            save_window(session, secretariat, code, {"frequency": "monthly", "from_period": "2025Q3",
                                                     "opens_days": 0, "due_days": 10, "closes_days": 20,
                                                     "reason": "The MIS pays monthly."})


@pytest.fixture
def programmes(session):
    _programme(session, "MONTHLY", "monthly")
    _programme(session, "QUARTERLY", "quarterly")
    session.flush()


def _rows(period: str, unit: str, flow: int, stock: int) -> list[dict]:
    return [{"indicator": code, "option": "default", "org_unit": unit, "period": period, "value": str(value),
             "comment": "", "explanation": "", "file": "", "sheet": "", "row": None, "column": None}
            for code, value in ((FLOW, flow), (STOCK, stock))]


def _send(session, programme: str, rows: list[dict], when=NOW):
    with time_machine.travel(when, tick=False):
        return ingest(session, user(session, "secretariat@demo.test"), Incoming(pd.DataFrame(rows), "api"),
                      programme=programme, now=when)


def test_the_form_is_monthly_from_the_quarter_stated(session, programmes):
    catalogue = read_catalogue(session)
    form = catalogue.forms[catalogue.programmes["MONTHLY"].id]
    assert form.frequency_in("2025Q3") == "monthly" and form.periods_in("2025Q3") == list(MONTHS)
    assert form.frequency_in("2025Q2") == "quarterly" and form.periods_in("2025Q2") == ["2025Q2"]
    window = window_for(form, "202508")
    assert (window.opens, window.due, window.closes) == (date(2025, 8, 31), date(2025, 9, 10), date(2025, 9, 20))


def test_a_form_turns_monthly_only_from_the_first_quarter_of_a_financial_year(session, programmes):
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationFailed) as refused:
        save_window(session, user(session, "secretariat@demo.test"), "QUARTERLY",
                    {"frequency": "monthly", "from_period": "2025Q4", "reason": "Mid-year."})
    said = [d.message for d in refused.value.details]
    assert any("from quarterly to monthly only from the first quarter of a financial year" in m
               and "State 2026Q3" in m for m in said), said
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationFailed) as weekly:
        save_window(session, user(session, "secretariat@demo.test"), "QUARTERLY",
                    {"frequency": "weekly", "from_period": "2026Q3", "reason": "Weekly."})
    assert "'weekly' is not a form's frequency" in weekly.value.details[0].message


def test_monthly_returns_are_kept_per_month_and_a_quarter_is_refused_naming_the_months(session, programmes):
    stored = _send(session, "MONTHLY", [r for m, f in zip(MONTHS, (10, 20, 30), strict=True)
                                        for r in _rows(m, "042", f, 100 + f)])
    assert stored.outcome == "stored", [e.message for e in stored.errors]
    periods = sorted(session.scalars(select(Return.period).join(ReportingForm).where(
        ReportingForm.code == "MONTHLY-QR")))
    assert periods == list(MONTHS)
    again = _send(session, "MONTHLY", [r for m, f in zip(MONTHS, (10, 20, 30), strict=True)
                                       for r in _rows(m, "042", f, 100 + f)])
    assert again.outcome == "unchanged" and again.total("created") == 0 and again.total("updated") == 0
    before = session.scalar(select(DataValue.value).where(DataValue.period == "202507", DataValue.org_unit_id.in_(
        select(Return.org_unit_id).where(Return.period == "202507"))).limit(1))
    quarter = _send(session, "MONTHLY", _rows("2025Q3", "042", 99, 99))
    assert quarter.outcome != "stored"
    words = " ".join(e.message for e in quarter.errors)
    assert "MONTHLY reports monthly in" in words and "202507, 202508 or 202509" in words
    month = _send(session, "QUARTERLY", _rows("202508", "042", 1, 1))
    assert month.outcome != "stored"
    assert "QUARTERLY reports quarterly in" in " ".join(e.message for e in month.errors)
    assert "give the quarter 2025Q3" in " ".join(e.message for e in month.errors)
    assert session.scalar(select(DataValue.value).where(DataValue.period == "202507", DataValue.org_unit_id.in_(
        select(Return.org_unit_id).where(Return.period == "202507"))).limit(1)) == before


def _approve_all(session) -> None:
    for record in session.scalars(select(Return).where(Return.state == "draft",
                                                       Return.period.in_([*MONTHS, "2025Q3"]))):
        for state in ("submitted", "approved"):
            record.state = state
            session.flush()
    session.commit()  # the commit settles the spans: results read them (and FIGURES_CHECK compares each read)


def test_a_quarter_compiles_from_months_as_a_quarterly_form_would(session, programmes):
    figures = {"042": [(10, 500), (20, 520), (30, 540)], "001": [(5, 300), (7, 310), None]}  # Mombasa: no Sept
    monthly, quarterly = [], []
    for unit, months in figures.items():
        given = [(m, f) for m, f in zip(MONTHS, months, strict=True) if f is not None]
        monthly += [r for m, (flow, stock) in given for r in _rows(m, unit, flow, stock)]
        quarterly += _rows("2025Q3", unit, sum(f for _, (f, _) in given), given[-1][1][1])
    assert _send(session, "MONTHLY", monthly).outcome == "stored"
    assert _send(session, "QUARTERLY", quarterly).outcome == "stored"
    _approve_all(session)
    catalogue = read_catalogue(session)
    for query in (dict(period="2025Q3"), dict(period="2025Q3", by=["org_unit"]), dict(period="2025July"),
                  dict(period="2025Q3", org_unit="042"), dict(period="2025July", by=["period"])):
        compiled = {}
        for programme in ("MONTHLY", "QUARTERLY"):
            rows = results(session, catalogue, resolve_query(catalogue, indicators=[FLOW, STOCK], programme=programme,
                                                             org_unit=query.get("org_unit", "KE"),
                                                             period=query["period"], by=query.get("by")))
            compiled[programme] = {(r["indicator"], r.get("org_unit"), r["period"]): r["actual"] for r in rows}
        assert compiled["MONTHLY"] == compiled["QUARTERLY"], query
    whole = results(session, catalogue, resolve_query(catalogue, indicators=[FLOW, STOCK], programme="MONTHLY",
                                                      period="2025Q3", org_unit="KE"))
    by_code = {r["indicator"]: r for r in whole}
    assert by_code[FLOW]["actual"] == 10 + 20 + 30 + 5 + 7 and by_code[STOCK]["actual"] == 540 + 310
    # Completeness: three monthly returns per county, five of six received.
    assert (by_code[FLOW]["returns_received"], by_code[FLOW]["returns_expected"]) == (5, 6)
    done, expected = approved_coverage(session, catalogue, ["2025Q3"])["2025Q3"]
    assert done >= 5 + 2 and expected >= 6 + 2


def test_the_return_page_of_a_month_opens_and_a_quarter_says_which_months(client, session, programmes):
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        page = client.get("/returns/MONTHLY/042/202509")
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        wrong = client.get("/returns/MONTHLY/042/2025Q3")
        # No such return page (404, as for an org unit the form does not ask), saying which months to open.
        assert wrong.status_code == 404 and "202507, 202508 or 202509" in wrong.get_data(as_text=True)
        quarterly = client.get("/returns/QUARTERLY/042/202509")
        assert quarterly.status_code == 404 and "give the quarter 2025Q3" in quarterly.get_data(as_text=True)
        assert client.get("/returns/MONTHLY/042/2025July").status_code == 422


def test_a_form_with_returns_of_the_quarter_does_not_turn_monthly_from_it(session, programmes):
    assert _send(session, "QUARTERLY", _rows("2025Q3", "042", 10, 100)).outcome == "stored"
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationFailed) as refused:
        save_window(session, user(session, "secretariat@demo.test"), "QUARTERLY",
                    {"frequency": "monthly", "from_period": "2025Q3", "reason": "Too late."})
    said = [d.message for d in refused.value.details]
    assert any("QUARTERLY-QR cannot turn monthly from" in m and "042 2025Q3" in m for m in said), said
    catalogue = read_catalogue(session)
    assert catalogue.forms[catalogue.programmes["QUARTERLY"].id].frequency_in("2025Q3") == "quarterly"
