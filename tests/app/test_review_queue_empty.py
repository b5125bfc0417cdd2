"""The review queue of a quarter in which no return has been started: every expected return, not started."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from mel.accounts.operations import create_token
from mel.catalogue.models import ReportingForm, ReportingFormOrgUnit
from mel.returns.models import Return

EMPTY_QUARTERS = ["2026Q4", "2027Q1"]  # the demo covers FY2023/24–FY2024/25 (2023Q3–2025Q2)


def expected_from_forms(session, period: str) -> dict[str, set[str]]:
    """What the forms expect in a quarter, independently of the queue: programme → org unit codes."""
    forms = session.scalars(select(ReportingForm).options(
        selectinload(ReportingForm.programme),
        selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit)))
    return {form.programme.code: {unit.code for unit in form.org_units_in(period)} for form in forms}


@pytest.mark.parametrize("email", ["reviewer@demo.test", "secretariat@demo.test"])
@pytest.mark.parametrize("period", EMPTY_QUARTERS)
def test_api_queue_lists_every_expected_return_as_not_started(client, session, email, period):
    assert session.scalar(select(func.count()).select_from(Return).where(Return.period == period)) == 0
    expected = expected_from_forms(session, period)
    headers = {"Authorization": f"Bearer {create_token(session, email).token}"}
    response = client.get(f"/api/v1/review-queue?period={period}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    rows = response.json
    assert len(rows) == sum(len(units) for units in expected.values())
    assert {(r["programme"], r["org_unit"]) for r in rows} == {
        (programme, unit) for programme, units in expected.items() for unit in units}
    assert {r["state"] for r in rows} == {"not_started"}
    assert all(r["return_id"] is None and r["submitted_at"] is None and r["is_late"] is False for r in rows)
    assert all(r["period"] == period for r in rows)

    one = client.get(f"/api/v1/review-queue?period={period}&programme=opct&org_unit=42", headers=headers).json
    assert [(r["programme"], r["org_unit"], r["state"]) for r in one] == [("OPCT", "042", "not_started")]
    started = client.get(f"/api/v1/review-queue?period={period}&state=submitted", headers=headers)
    assert started.status_code == 200 and started.json == []


@pytest.mark.parametrize("email", ["reviewer@demo.test", "secretariat@demo.test"])
@pytest.mark.parametrize("period", EMPTY_QUARTERS)
def test_web_queue_lists_every_expected_return_as_not_started(as_user, session, email, period):
    expected = expected_from_forms(session, period)
    total = sum(len(units) for units in expected.values())
    client = as_user(email)
    rows = not_started = 0
    for number in range(1, -(-total // 50) + 1):  # the queue shows 50 returns a page
        response = client.get(f"/review/?period={period}&page={number}")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        page = response.get_data(as_text=True)
        assert f"{total} expected returns" in page
        body = page.split("<tbody>")[-1].split("</tbody>")[0]
        rows += len(re.findall(r"<tr>", body))
        not_started += body.count("Not started")
        assert "return_id" not in body  # nothing to approve
    assert rows == not_started == total


def test_completeness_of_an_empty_quarter_counts_every_expected_return(client, session):
    expected = expected_from_forms(session, "2026Q4")
    headers = {"Authorization": f"Bearer {create_token(session, 'reviewer@demo.test').token}"}
    rows = client.get("/api/v1/completeness?period=2026Q4", headers=headers).json
    assert {r["programme"]: r["expected"] for r in rows} == {p: len(u) for p, u in expected.items()}
    assert all(r["received"] == 0 and r["completeness"] == 0 for r in rows)
