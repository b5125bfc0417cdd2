"""Who is reached and budget and money in the PDFs, read back: the same figures as the results API by
option and as the work plan in the database, words instead of option codes, KES in one notation."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pdfplumber
import pytest
from sqlalchemy import select

from mel.accounts.operations import create_token
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.plans.models import WORKING_GROUPS, Activity, ActivityUpdate, WorkPlan
from mel.reporting.snapshot import gather
from reports.format import figure, kes
from reports.model import build
from reports.render import environment, render_pdf

pytestmark = pytest.mark.slow  # WeasyPrint lays out a programme report, the fact sheet and a sector part

PERIOD = "2025Q2"
OPTION_CODE = re.compile(r"\b[FM]_A\d\d|\bA\d\d_\d\d\b|\bA\d\dP\b")
# A sector report's own parts, without its 47 county pages: who is reached and the work plan's money.
SECTOR_PARTS = ('{% extends "base.html" %}{% import "_breakdown.html" as bd %}{% block body %}'
                "{{ bd.who(report.who) }}<section>{{ bd.workplan_money(report.money) }}</section>{% endblock %}")


def texts(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


@pytest.fixture(scope="module")
def reports(app):
    """{kind: (snapshot, page texts, PDF)} for OPCT's programme report, the fact sheet and the sector parts."""
    made = {}
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        when = datetime(2025, 8, 20, tzinfo=UTC)
        for kind, extra in (("programme", {"programme": "OPCT"}), ("factsheet", {}), ("sector", {})):
            snapshot = gather(session, catalogue, kind=kind, period=PERIOD, generated_at=when, **extra)
            report = build(snapshot, is_draft=True, reference="breakdown")
            html = environment().from_string(SECTOR_PARTS).render(report=report) if kind == "sector" else None
            pdf = render_pdf(report, html=html).pdf
            made[kind] = (snapshot, texts(pdf), pdf)
        session.rollback()
    return made


def by_option(client, session, programme: str) -> dict[tuple[str, str], dict]:
    issued = create_token(session, "reviewer@demo.test", name="breakdown tests")
    response = client.get(f"/api/v1/results?period={PERIOD}&org_unit=KE&programme={programme}&by=option",
                          headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 200
    return {(r["indicator"], r["option"]): r for r in response.get_json()}


def test_sa02_women_and_men_in_the_pdfs_equal_the_results_api_by_option(reports, client, session):
    for kind, programme in (("programme", "OPCT"), ("sector", "ALL")):
        api = by_option(client, session, programme)
        women, men = api[("SA02", "F")]["actual"], api[("SA02", "M")]["actual"]
        assert women > 0 and men > 0
        expected = (f"SA02 OPCT beneficiaries (70+) {figure(women, 'count', 'number')} {figure(men, 'count', 'number')} "
                    f"{figure(women + men, 'count', 'number')} {women / (women + men) * 100:.1f}%")
        lines = [line for page in reports[kind][1] for line in page.splitlines()]
        assert any(line.startswith(expected + " ") for line in lines), f"{kind}: {expected!r} not in the table"


def test_every_age_group_of_a_sex_by_age_indicator_equals_the_api(reports, client, session):
    api = by_option(client, session, "ALL")
    lines = [line for page in reports["sector"][1] for line in page.splitlines()]
    row = next(line for line in lines if line.startswith("HI01 SHA principal members 0 "))
    for age in ("A00_17", "A18_34", "A35_59", "A60_69", "A70P"):
        total = api[("HI01", f"F_{age}")]["actual"] + api[("HI01", f"M_{age}")]["actual"]
        assert figure(total, "count", "number") in row.split(), f"{age}: {total} not in {row!r}"


def test_absorption_by_working_group_equals_budget_and_spend_in_the_database(reports, session):
    plan = session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == reports["sector"][0]["fiscal_year"]))
    lines = [line for page in reports["sector"][1] for line in page.splitlines()]
    checked = 0
    for code, name in WORKING_GROUPS.items():
        activities = session.scalars(select(Activity).where(Activity.plan_id == plan.id,
                                                            Activity.working_group == code)).all()
        if not activities:
            continue
        budget, spent = Decimal(0), Decimal(0)
        for activity in activities:
            budget += activity.budget_kes
            latest = session.scalar(select(ActivityUpdate).where(ActivityUpdate.activity_id == activity.id,
                                                                 ActivityUpdate.period <= PERIOD)
                                    .order_by(ActivityUpdate.period.desc()))
            spent += latest.spend_to_date if latest else 0
        expected = f"{name} {len(activities)} {kes(budget)} {kes(spent)} {float(spent / budget * 100):.1f}%"
        assert expected in lines, f"{expected!r} not in the work-plan money table"
        checked += 1
    assert checked >= 3


def test_programme_disbursement_is_held_against_the_pmp_target_labelled_as_the_budget(reports):
    snapshot, pages, _ = reports["programme"]
    budget = next(b for b in snapshot["budgets"] if b["indicator"] == "SA10")
    ytd = next(r for r in snapshot["ytd"] if r["indicator"] == "SA10")
    text = "\n".join(pages)
    assert budget["budget"] > 0
    assert (f"{kes(budget['budget'])} {kes(ytd['actual'])} {ytd['actual'] / budget['budget'] * 100:.1f}%") in text
    assert f"budget (PMP target for {budget['fiscal_year_label']}" in text


def test_the_fact_sheet_card_gives_the_share_of_women(reports, client, session):
    api = by_option(client, session, "ALL")
    women, men = api[("SA02", "F")]["actual"], api[("SA02", "M")]["actual"]
    assert f"{women / (women + men) * 100:.1f}% women" in reports["factsheet"][1][0]


def test_no_option_code_is_printed_and_kes_has_one_notation(reports):
    for kind, (_, pages, _) in reports.items():
        for number, page in enumerate(pages, 1):
            assert not OPTION_CODE.search(page), f"{kind} p. {number}: {OPTION_CODE.search(page)[0]}"
            # every amount of money: KES and millions to one decimal, or whole shillings (chart text may
            # come back without its spaces)
            for found in re.finditer(r"KES ?(\d[\d,]*(?:\.\d+)?) ?(million|billion|bn|m)?", page):
                amount, unit = found.groups()
                assert (re.fullmatch(r"[\d,]+\.\d", amount) and unit == "m") or (
                    re.fullmatch(r"[\d,]+", amount) and unit is None), f"{kind} p. {number}: {found[0]!r}"
    card = reports["factsheet"][1][0]
    assert re.search(r"KES [\d,]+\.\d m", card) and "billion" not in card


def test_breakdown_and_money_charts_print_at_8_pt_or_more(reports):
    """Every chart of who is reached and of the work plan's money, laid out as the reports show them."""
    report = build(reports["sector"][0])
    uris = [report.who.sex_chart, *(v.uri for v in report.who.pyramids + report.who.trends), report.money.chart]
    html = environment().from_string(
        '{% extends "base.html" %}{% block body %}{% for u in uris %}<img class="bd-chart" src="{{ u }}" alt="">'
        "{% endfor %}{% endblock %}").render(report=report, uris=uris)
    with pdfplumber.open(io.BytesIO(render_pdf(report, html=html).pdf)) as document:
        body = [c for page in document.pages for c in page.chars
                if 17 * 72 / 25.4 < c["top"] < page.height - 16 * 72 / 25.4]  # not the 7 pt page furniture
    words = "".join(c["text"] for c in body).replace(" ", "")
    assert "Aged70+" in words and "Womenandmen" in words and "Spenttodate" in words
    small = sorted({c["text"] for c in body if c["size"] < 7.95})
    assert not small, f"chart text below 8 pt: {small[:20]}"
