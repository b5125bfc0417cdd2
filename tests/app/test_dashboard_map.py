"""The dashboard's indicator page shows the indicator's county map: the reports' choropleth (47 county
shapes, legend, OpenStreetMap credit) inline, with the approved figures the results API gives."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import OrgUnit, Programme
from mel.returns.models import Return
from mel.review.operations import reopen
from tests.helpers import login

PERIOD = "2025Q2"
ROLES = ("secretariat@demo.test", "reviewer@demo.test", "viewer@demo.test", "officer.opct@demo.test",
         "officer.kisumu@demo.test")
SHAPE = re.compile(r'<path id="county-(\d{3})" class="county"[^>]*><title>([^<]*)</title></path>')


def county_map(page: str) -> str:
    start = page.index('<div class="card county-map">')
    return page[start:page.index("</div>", start)]


def tips(block: str) -> dict[str, str]:
    """{county code: its tooltip, "Kisumu (042): 77.6%"}."""
    return {code: html.unescape(title) for code, title in SHAPE.findall(block)}


def api_figures(client, code: str) -> dict[str, float | None]:
    answer = client.get("/api/v1/results", query_string={"indicator": code, "period": PERIOD, "by": "org_unit"})
    assert answer.status_code == 200
    return {r["org_unit"]: r["actual"] for r in answer.get_json() if len(r["org_unit"]) == 3}


@pytest.mark.parametrize("email", ROLES)
def test_every_role_sees_the_map_of_47_counties_with_legend_and_credit(client, session, email):
    assert login(client, email).status_code == 302
    answer = client.get(f"/dashboard/indicators/SA03?period={PERIOD}")
    assert answer.status_code == 200
    block = county_map(answer.get_data(as_text=True))
    assert block.count("<svg") == 1 and len(tips(block)) == 47
    assert "© OpenStreetMap contributors" in html.unescape(block)
    assert "Per cent (%)" in block and "counties)" in block  # the classed legend with its unit
    assert "style=" not in block  # the page's content security policy allows no inline styles


def test_the_map_prints_the_approved_figures_the_api_gives(client, session):
    assert login(client, "viewer@demo.test").status_code == 302
    figures = api_figures(client, "SA10")
    block = county_map(client.get(f"/dashboard/indicators/SA10?period={PERIOD}").get_data(as_text=True))
    shown = tips(block)
    assert "Millions of Kenya shillings (KES m)" in block
    for code, value in figures.items():
        assert value is not None and shown[code].endswith(f": {value / 1e6:,.1f}"), (code, value, shown[code])


def test_a_figure_not_yet_approved_is_not_on_the_viewers_map(client, session):
    kisumu = session.scalar(select(OrgUnit.id).where(OrgUnit.code == "042"))
    opct = session.scalar(select(Programme.id).where(Programme.code == "OPCT"))
    record = session.scalar(select(Return).where(Return.org_unit_id == kisumu, Return.programme_id == opct,
                                                 Return.period == PERIOD, Return.state == "approved"))
    reopen(session, load_catalogue(session), load_user(session, "secretariat@demo.test"), record,
           "A payment file was counted twice.")
    session.flush()
    assert login(client, "viewer@demo.test").status_code == 302
    assert api_figures(client, "SA03").get("042") is None
    shown = tips(county_map(client.get(f"/dashboard/indicators/SA03?period={PERIOD}").get_data(as_text=True)))
    assert shown["042"] == "Kisumu (042): no data"
    assert sum(tip.endswith("no data") for tip in shown.values()) == 1


def test_a_county_chosen_in_the_filters_is_outlined_and_ranked(client, session):
    assert login(client, "viewer@demo.test").status_code == 302
    page = client.get(f"/dashboard/indicators/SA03?period={PERIOD}&org_unit=042").get_data(as_text=True)
    block = county_map(page)
    assert len(tips(block)) == 47 and 'class="highlight"' in block
    assert re.search(r"Kisumu: [\d.]+%, \d+(st|nd|rd|th) of 47 counties with a figure", html.unescape(block))


def test_an_indicator_without_county_figures_says_why_there_is_no_map(client, session):
    assert login(client, "viewer@demo.test").status_code == 302
    page = client.get("/dashboard/indicators/SA03?period=2021Q1").get_data(as_text=True)
    block = county_map(page)
    assert "<svg" not in block and "fewer than two counties have an approved figure" in block
