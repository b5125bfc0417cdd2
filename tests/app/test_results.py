"""GET /api/v1/results against hand-computed figures, and its CSV and Excel exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest

from mel.accounts.operations import create_token, load_user
from mel.catalogue.lookup import load_catalogue
from tests.helpers import flat_rows, submit_figures

NOW = datetime(2026, 4, 5, tzinfo=UTC)  # in the 2026Q1 window


@pytest.fixture
def scenario(client, session):
    """HSNP 2026Q1, approved for Turkana (base 100) and Wajir (base 300, SA11.N = 30)."""
    for unit, base in (("023", 100), ("008", 300)):
        rows = flat_rows(session, "HSNP", unit, "2026Q1", base)
        if unit == "008":
            rows.loc[rows["indicator"] == "SA11.N", "value"] = "30"
        submit_figures(session, "HSNP", rows, now=NOW, approve=True)
    token = create_token(session, "reviewer@demo.test").token
    headers = {"Authorization": f"Bearer {token}"}
    secretariat_headers = {"Authorization": f"Bearer {create_token(session, 'secretariat@demo.test').token}"}
    plan = {"version": 0, "reason": "Targets", "lines": [
        {"indicator": "SA07", "targets": [{"org_unit": "KE", "period": "2026Q1", "value": 1000}]},
        {"indicator": "SA11", "targets": [{"org_unit": "KE", "period": "2026Q1", "value": 25}]}]}
    assert client.put("/api/v1/pmps/HSNP/2025July", json=plan, headers=secretariat_headers).status_code == 200
    return headers


def one(rows, indicator, **keys):
    found = [r for r in rows if r["indicator"] == indicator and all(r.get(k) == v for k, v in keys.items())]
    assert len(found) == 1, found
    return found[0]


def test_results_follow_the_aggregation_rules_and_targets(client, scenario):
    rows = client.get("/api/v1/results?indicator=SA07,SA10,SA11&period=2026Q1&programme=HSNP",
                      headers=scenario).json
    sa07 = one(rows, "SA07")
    assert sa07["actual"] == 2 * 100 + 2 * 300  # F and M cells per county
    assert (sa07["target"], sa07["achievement"], sa07["status"]) == (1000, 80.0, "needs_attention")
    sa11 = one(rows, "SA11")
    assert (sa11["numerator"], sa11["denominator"]) == (50 + 30, 100 + 300)
    assert sa11["actual"] == pytest.approx(20.0)  # ratio of sums, not the 30% mean of 50% and 10%
    assert (sa11["achievement"], sa11["status"]) == (80.0, "needs_attention")
    assert one(rows, "SA10")["actual"] == 100 + 300
    assert sa07["completeness"] == 25.0  # 2 of HSNP's 8 counties
    assert sa07["pmp"] == "HSNP 2025July" and sa07["pmp_version"] == 1


def test_results_by_county_add_up_and_export_as_csv_and_excel(client, scenario):
    rows = client.get("/api/v1/results?indicator=SA07&period=2026Q1&programme=HSNP&by=org_unit",
                      headers=scenario).json
    assert {r["org_unit"]: r["actual"] for r in rows} == {"008": 600, "023": 200}
    csv_text = client.get("/api/v1/results?indicator=SA07&period=2026Q1&programme=HSNP&by=org_unit&format=csv",
                          headers=scenario).get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["org_unit"]: float(r["actual"]) for r in table} == {"008": 600, "023": 200}
    xlsx = client.get("/api/v1/results?indicator=SA07&period=2026Q1&programme=HSNP&format=xlsx", headers=scenario)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["Results"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("actual") + 1).value == 800


def test_submitted_figures_count_only_on_request(client, session, scenario):
    submit_figures(session, "HSNP", flat_rows(session, "HSNP", "010", "2026Q1", 50), now=NOW)
    approved = one(client.get("/api/v1/results?indicator=SA07&period=2026Q1&programme=HSNP", headers=scenario).json,
                   "SA07")
    both = one(client.get("/api/v1/results?indicator=SA07&period=2026Q1&programme=HSNP&include=submitted",
                          headers=scenario).json, "SA07")
    assert (approved["actual"], both["actual"]) == (800, 900)


def test_bad_queries_are_located(client, scenario):
    response = client.get("/api/v1/results?indicator=XX1&period=2026Q1", headers=scenario)
    assert response.status_code == 422 and "XX1" in response.json["message"]
    response = client.get("/api/v1/results?period=202601", headers=scenario)
    assert response.status_code == 422 and "quarter" in response.json["message"]


def test_the_iptt_agrees_with_the_results_api(client, scenario):
    table = client.get("/api/v1/iptt?fy=2025July&programme=HSNP", headers=scenario).json
    sa07 = next(line for line in table["lines"] if line["indicator"] == "SA07")
    quarter = sa07["quarters"][table["quarters"].index("2026Q1")]
    result = one(client.get("/api/v1/results?indicator=SA07&period=2026Q1&programme=HSNP", headers=scenario).json,
                 "SA07")
    assert (quarter["actual"], quarter["target"], quarter["achievement"]) == (
        result["actual"], result["target"], result["achievement"]) == (800, 1000, 80.0)
    assert table["pmp_version"] == 1


def test_dashboards_render_with_filters_in_the_url(client, scenario):
    from tests.helpers import login

    login(client, "viewer@demo.test")
    page = client.get("/dashboard/?period=2025Q2&programme=ALL&org_unit=KE").get_data(as_text=True)
    assert "Sector results — FY2024/25 Q4 (Apr–Jun 2025)" in page and "Indicator Performance Tracking Table" in page
    assert "On track" in page or "Off track" in page or "Needs attention" in page
    indicator = client.get("/dashboard/indicators/SA07?period=2026Q1&programme=HSNP").get_data(as_text=True)
    assert "<svg" in indicator and "Turkana" in indicator and "target 1,000" in indicator


@pytest.mark.parametrize("period", ["2024July", "2025Q2"])
@pytest.mark.parametrize("by", [[], ["org_unit"], ["programme"]])
def test_database_pre_aggregation_equals_compiling_every_value(session, by, period):
    from indicators.compile import compile_span
    from mel.results.queries import compile_from_db, load_values, resolve_query, rules

    catalogue = load_catalogue(session)
    rule_map = rules(catalogue)
    query = resolve_query(catalogue, indicators=None, period=period, org_unit="KE", programme="ALL", by=by)
    expected = compile_span(load_values(session, catalogue, query, query.quarters), rule_map, query.quarters, by=by)
    got = compile_from_db(session, catalogue, query, query.quarters, rule_map, by, False)
    keys = ["indicator", *by]
    pd_expected = expected.sort_values(keys).reset_index(drop=True)
    pd_got = got.sort_values(keys).reset_index(drop=True)
    assert len(pd_got) == len(pd_expected) > 30
    for column in ("actual", "numerator", "denominator"):
        assert pd_got[column].fillna(-1).round(4).tolist() == pd_expected[column].fillna(-1).round(4).tolist(), column
    assert pd_got["note"].tolist() == pd_expected["note"].tolist()


def test_a_total_given_with_its_parts_is_counted_once(client, session, scenario):
    from indicators.compile import compile_span
    from mel.results.queries import compile_from_db, load_values, resolve_query, rules

    secretariat = load_user(session, "secretariat@demo.test")
    rows = flat_rows(session, "HSNP", "010", "2026Q1", 50)
    extra = rows[rows["indicator"] == "SA07"].iloc[[0]].assign(option="total", value="100")
    submit_figures(session, "HSNP", pd.concat([rows, extra]), now=NOW)
    catalogue = load_catalogue(session)
    query = resolve_query(catalogue, indicators=["SA07"], period="2026Q1", org_unit="KE", programme="HSNP",
                          include_submitted=True, user=secretariat)
    fast = compile_from_db(session, catalogue, query, query.quarters, rules(catalogue), [], False)
    full = compile_span(load_values(session, catalogue, query, query.quarters), rules(catalogue), query.quarters)
    assert fast["actual"].tolist() == full["actual"].tolist() == [800 + 100]


def test_figures_compiled_once_per_report_equal_the_figures_compiled_each_time(session, scenario):
    """mel/results/queries.compiled_once (one report's gathering) reuses figures: the rows are the same
    as without it, the database is asked once per (scope, quarters, breakdown), and a caller changing
    its copy changes nothing for the next one."""
    from sqlalchemy import event

    from mel.results.queries import compile_from_db, compiled_once, resolve_query, results, rules

    catalogue = load_catalogue(session)
    query = resolve_query(catalogue, indicators=None, period="2026Q1", org_unit="KE", programme="ALL")
    rule_map = {c: r for c, r in rules(catalogue).items() if c in query.indicators}
    plain = [results(session, catalogue, query) for _ in range(2)]
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(session.connection(), "before_cursor_execute", count)
    try:
        with compiled_once():
            first = compile_from_db(session, catalogue, query, ["2026Q1"], rule_map, [], False)
            asked = len(statements)
            first["actual"] = -1.0  # the caller's copy
            again = compile_from_db(session, catalogue, query, ["2026Q1"], rule_map, [], False)
            assert len(statements) == asked and asked > 0
            assert (again["actual"] != -1.0).any()
            memo = [results(session, catalogue, query) for _ in range(2)]
    finally:
        event.remove(session.connection(), "before_cursor_execute", count)
    assert memo == plain and plain[0] and any(row["actual"] for row in plain[0])
