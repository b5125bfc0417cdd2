"""The pages each role sees: home, catalogue, reference sheets, programmes, counties."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("path", ["/", "/indicators", "/programmes", "/counties"])
def test_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "email, heading",
    [("secretariat@demo.test", "Secretariat"), ("reviewer@demo.test", "MERL TWG review"),
     ("viewer@demo.test", "Kenya's social protection sector"),
     ("officer.opct@demo.test", "Welcome, OPCT M&amp;E desk")],
)
def test_each_role_has_a_home_page(as_user, email, heading):
    page = as_user(email).get("/").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page


def test_periods_are_shown_as_financial_year_quarters(as_user):
    page = as_user("reviewer@demo.test").get("/").get_data(as_text=True)
    # The demo's latest quarter is 2025Q2, the fourth quarter of FY2024/25.
    assert "FY2024/25 Q4 (Apr–Jun 2025)" in page
    assert "2025Q2" not in re.sub(r"<[^>]+>", "", page)


def test_an_officer_sees_only_returns_in_scope(as_user):
    page = as_user("officer.kisumu@demo.test").get("/").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td><a [^>]*>FY[^<]*</a></td>\s*<td>(\w+)</td>\s*<td>([^<]+)</td>", page)
    assert rows, "the officer's returns are listed"
    assert {programme for programme, _ in rows} <= {"OPCT", "COUNTY"}
    assert {unit for _, unit in rows} == {"Kisumu"}


def test_indicator_catalogue_filters_by_pillar(as_user):
    client = as_user("viewer@demo.test")
    page = client.get("/indicators?pillar=health_insurance").get_data(as_text=True)
    assert "HI01" in page and "HI05" in page and "SA01" not in page
    assert "5 indicators" in page


def test_reference_sheet_of_a_ratio_indicator(as_user):
    page = as_user("viewer@demo.test").get("/indicators/SA11").get_data(as_text=True)
    for text in ("Performance Indicator Reference Sheet", "Numerator", "Denominator",
                 "Payment cycles credited on or before scheduled date", "× 100",
                 "Means of verification", "OPCT"):
        assert text in page, text


def test_unknown_indicator_is_a_404_page(as_user):
    response = as_user("viewer@demo.test").get("/indicators/NOPE1")
    assert response.status_code == 404
    assert "not in the catalogue" in response.get_data(as_text=True)


def test_programmes_counties_and_results_framework(as_user):
    client = as_user("viewer@demo.test")
    programmes = client.get("/programmes").get_data(as_text=True)
    assert "Hunger Safety Net Programme" in programmes and "All 47 counties" in programmes
    hsnp = client.get("/programmes/HSNP").get_data(as_text=True)
    assert "Turkana" in hsnp and "quarterly return" in hsnp
    counties = client.get("/counties").get_data(as_text=True)
    assert counties.count("<tr>") == 48  # header + 47 counties
    assert "KE-30" in counties
    kisumu = client.get("/counties/042").get_data(as_text=True)
    assert "Kisumu County" in kisumu and "COUNTY" in kisumu
    framework = client.get("/results-framework").get_data(as_text=True)
    assert "Goal" in framework and "O1.1" in framework and "SA01" in framework


def test_no_asset_comes_from_the_internet(as_user):
    page = as_user("viewer@demo.test").get("/indicators").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', page)
