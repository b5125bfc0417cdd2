"""The secretariat starts next year's plans from the interface: financial years chosen by name, a
PMP started from last year's indicators and baselines (targets left to set), an existing plan opened
as it is, and refusals that say what is wrong."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from mel.plans.models import Pmp, PmpVersion, WorkPlan
from mel.plans.operations import content_of, load_version
from tests.helpers import csrf_token, login


@pytest.fixture(autouse=True)
def today():
    """The page offers last year, this year and the next two: pinned to FY2026/27 (4 December 2026)."""
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=True):
        yield


def start(client, **form):
    return client.post("/plans/pmps/start", data={"csrf_token": csrf_token(client, "/plans/"), **form})


def test_years_are_offered_by_name(client, session):
    login(client, "secretariat@demo.test")
    page = client.get("/plans/").get_data(as_text=True)
    work_plan = page.split('id="fiscal_year"')[1].split("</select>")[0]
    assert re.search(r'<option value="\d{4}July"[^>]*>FY\d{4}/\d{2} \(July \d{4}–June \d{4}\)</option>', work_plan) \
        or re.search(r'<option value="\d{4}July"[^>]*>FY\d{4}/\d{2}[^<]*</option>', work_plan)
    assert "2024July</option>" not in page  # the code is the value, the name is shown
    assert "Inua Jamii" in page.split('id="pmp-scope"')[1].split("</select>")[0]


def test_next_years_pmp_starts_from_this_years_lines_without_targets(client, session):
    login(client, "secretariat@demo.test")
    started = start(client, scope="OPCT", fiscal_year="2025July", from_previous="1")
    assert started.status_code == 302 and started.headers["Location"].endswith("/plans/pmps/OPCT/2025July/edit")
    pmp = session.scalar(select(Pmp).where(Pmp.scope == "OPCT", Pmp.fiscal_year == "2025July"))
    last = session.scalar(select(Pmp).where(Pmp.scope == "OPCT", Pmp.fiscal_year == "2024July"))
    mine, theirs = content_of(load_version(session, pmp)), content_of(load_version(session, last))
    assert pmp.current_version == 1
    assert [(x["indicator"], x["baseline_value"], x["baseline_period"]) for x in mine.lines] == \
        [(x["indicator"], x["baseline_value"], x["baseline_period"]) for x in theirs.lines]
    assert mine.targets.empty and not theirs.targets.empty
    version = session.scalar(select(PmpVersion).where(PmpVersion.pmp_id == pmp.id))
    assert "Started from the FY2024/25" in version.reason
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "set its targets" in page and pmp.title in page
    # Starting it again opens the plan as it is.
    again = start(client, scope="OPCT", fiscal_year="2025July", from_previous="1")
    assert again.headers["Location"].endswith("/plans/pmps/OPCT/2025July")
    assert session.scalar(select(Pmp.current_version).where(Pmp.id == pmp.id)) == 1


def test_an_empty_start_and_a_year_without_a_previous_plan(client, session):
    login(client, "secretariat@demo.test")
    assert start(client, scope="SECTOR", fiscal_year="2025July").status_code == 302  # box unticked
    sector = session.scalar(select(Pmp).where(Pmp.scope == "SECTOR", Pmp.fiscal_year == "2025July"))
    assert sector.current_version == 0
    assert start(client, scope="HSNP", fiscal_year="2027July", from_previous="1").status_code == 302
    assert session.scalar(select(Pmp.current_version).where(Pmp.scope == "HSNP", Pmp.fiscal_year == "2027July")) == 0


@pytest.mark.parametrize(("scope", "year", "says"), [
    ("OPCT", "2025Q3", "is not one of them"), ("OPCT", "", "financial year"), ("NOPE", "2026July", "neither a programme"),
    ("OPCT", "1999July", "is not one of them"), ("\x00", "2026July", "NUL"),
])
def test_refusals_say_what_is_wrong(client, session, scope, year, says):
    login(client, "secretariat@demo.test")
    answer = start(client, scope=scope, fiscal_year=year, from_previous="1")
    assert answer.status_code in (302, 422)
    if answer.status_code == 302:
        assert says in client.get("/plans/").get_data(as_text=True)
    else:
        assert says in answer.get_data(as_text=True)
    assert session.scalar(select(Pmp).where(Pmp.fiscal_year.in_(["2026July", "1999July"]))) is None


def test_the_work_plan_starts_for_a_year_chosen_by_name(client, session):
    login(client, "secretariat@demo.test")
    answer = client.post("/plans/", data={"csrf_token": csrf_token(client, "/plans/"), "fiscal_year": "2025July"})
    assert answer.status_code == 302 and session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == "2025July"))
    page = client.get("/plans/").get_data(as_text=True)
    assert 'value="2025July"' not in page.split('id="fiscal_year"')[1].split("</select>")[0]  # taken now


def test_only_the_secretariat_starts_plans(client, session):
    for email in ("reviewer@demo.test", "officer.opct@demo.test", "viewer@demo.test"):
        login(client, email)
        token = csrf_token(client, "/account")
        assert client.post("/plans/pmps/start", data={"csrf_token": token, "scope": "OPCT",
                                                      "fiscal_year": "2025July"}).status_code == 403
        client.post("/logout", data={"csrf_token": token})
    assert session.scalar(select(Pmp).where(Pmp.fiscal_year == "2025July")) is None
