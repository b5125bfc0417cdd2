"""Figures not yet approved: who may read them, decided in one place for every route that can return them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest

from mel.accounts.operations import create_token
from tests.helpers import flat_rows, login, submit_figures

NOW = datetime(2026, 4, 5, tzinfo=UTC)  # inside the 2026Q1 window
BASE = 1_000  # SA02 in the submitted Kisumu return


@pytest.fixture
def submitted_kisumu(client, session):
    """An OPCT 2026Q1 return for Kisumu (042), submitted and not approved; nothing else in 2026Q1."""
    rows = flat_rows(session, "OPCT", "042", "2026Q1", BASE)
    assert submit_figures(session, "OPCT", rows, now=NOW).state == "submitted"
    return BASE * int((rows["indicator"] == "SA02").sum())  # SA02 is given per option (sex)


def results_url(programme="OPCT", org_unit="042", fmt="json", include=True):
    return (f"/api/v1/results?indicator=SA02&period=2026Q1&programme={programme}&org_unit={org_unit}&format={fmt}"
            + ("&include=submitted" if include else ""))


def iptt_url(programme="OPCT", org_unit="042", include=True):
    return f"/api/v1/iptt?fy=2025July&programme={programme}&org_unit={org_unit}" + (
        "&include=submitted" if include else "")


def sa02_actual(response, fmt="json"):
    """SA02's compiled figure from any of the three formats (None when nothing was counted)."""
    if fmt == "json":
        rows = [r for r in response.get_json() if r["indicator"] == "SA02"]
        return rows[0]["actual"] if rows else None
    if fmt == "csv":
        rows = [r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True))) if r["indicator"] == "SA02"]
        return float(rows[0]["actual"]) if rows else None
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Results"]
    header = [c.value for c in sheet[1]]
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[header.index("indicator")] == "SA02"]
    return rows[0][header.index("actual")] if rows else None


# (user, programme, org unit, allowed to include submitted figures)
CASES = [
    ("viewer@demo.test", "OPCT", "042", False),
    ("viewer@demo.test", "ALL", "KE", False),
    ("officer.kisumu@demo.test", "OPCT", "042", True),  # their programme, their county
    ("officer.kisumu@demo.test", "OPCT", "KE", False),  # beyond their county
    ("officer.kisumu@demo.test", "ALL", "042", False),  # programmes not theirs
    ("officer.kisumu@demo.test", "HSNP", "042", False),
    ("officer.hsnp@demo.test", "OPCT", "042", False),  # a foreign programme
    ("officer.opct@demo.test", "OPCT", "042", True),  # all counties, so Kisumu too
    ("officer.opct@demo.test", "OPCT", "KE", True),
    ("reviewer@demo.test", "ALL", "KE", True),
    ("secretariat@demo.test", "OPCT", "042", True),
]


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
@pytest.mark.parametrize(("email", "programme", "org_unit", "allowed"), CASES)
def test_results_with_submitted_figures_only_for_those_allowed_them(client, session, submitted_kisumu, email,
                                                                    programme, org_unit, allowed, fmt):
    headers = {"Authorization": f"Bearer {create_token(session, email).token}"}
    response = client.get(results_url(programme, org_unit, fmt), headers=headers)
    if not allowed:
        assert response.status_code == 403, response.get_data(as_text=True)[:300]
        body = response.get_json()
        assert "include=submitted" in body["message"]
        assert "actual" not in body  # no figure leaks with the refusal
        return
    assert response.status_code == 200
    if programme == "OPCT" and org_unit == "042":
        assert sa02_actual(response, fmt) == submitted_kisumu


@pytest.mark.parametrize(("email", "programme", "org_unit", "allowed"), CASES)
def test_the_iptt_obeys_the_same_rule(client, session, submitted_kisumu, email, programme, org_unit, allowed):
    headers = {"Authorization": f"Bearer {create_token(session, email).token}"}
    response = client.get(iptt_url(programme, org_unit), headers=headers)
    assert response.status_code == (200 if allowed else 403), response.get_data(as_text=True)[:300]
    # Without include=submitted everyone gets the approved figures, which leave the Kisumu return out.
    approved = client.get(iptt_url(programme, org_unit, include=False), headers=headers)
    assert approved.status_code == 200
    line = next((ln for ln in approved.get_json()["lines"] if ln["indicator"] == "SA02"), None)
    if line is not None:
        assert line["quarters"][2]["actual"] is None  # 2026Q1 is the FY's third quarter


@pytest.mark.parametrize("email", ["viewer@demo.test", "officer.kisumu@demo.test", "reviewer@demo.test"])
def test_approved_figures_leave_the_submitted_return_out_for_everyone(client, session, submitted_kisumu, email):
    headers = {"Authorization": f"Bearer {create_token(session, email).token}"}
    response = client.get(results_url(include=False), headers=headers)
    assert response.status_code == 200 and sa02_actual(response) is None


def test_a_signed_in_viewer_is_refused_too(client, session, submitted_kisumu):
    login(client, "viewer@demo.test")
    assert client.get(results_url()).status_code == 403
    assert client.get(results_url(fmt="csv")).status_code == 403
    assert client.get(iptt_url()).status_code == 403
    assert client.get(results_url(include=False)).status_code == 200


def test_dashboards_and_report_previews_show_approved_figures_only(client, session, submitted_kisumu):
    login(client, "viewer@demo.test")
    page = client.get("/dashboard/indicators/SA02?period=2026Q1&programme=OPCT&org_unit=042")
    assert page.status_code == 200
    assert f"{submitted_kisumu:,}" not in page.get_data(as_text=True)
    assert client.get("/reports/preview?kind=county&period=2026Q1&org_unit=042").status_code == 403
