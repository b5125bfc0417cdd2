"""PMPs (versions, targets, round trips) and the joint work plan (progress with audit)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from mel.accounts.operations import create_token
from mel.plans.models import ActivityUpdateChange, Pmp, PmpVersion, Target
from tests.helpers import csrf_token, login


@pytest.fixture
def secretariat(session):
    return {"Authorization": f"Bearer {create_token(session, 'secretariat@demo.test').token}"}


def test_demo_plans_exist_with_a_revision_and_its_reason(client, secretariat):
    plans = client.get("/api/v1/pmps?fy=2024July", headers=secretariat).json
    assert {p["scope"] for p in plans} >= {"OPCT", "HSNP", "SECTOR"}
    opct = next(p for p in plans if p["scope"] == "OPCT")
    assert [v["number"] for v in opct["versions"]] == [1, 2]
    assert "June 2024 enrolment" in opct["versions"][1]["reason"]
    old = client.get("/api/v1/pmps/OPCT/2024July?version=1", headers=secretariat).json
    new = client.get("/api/v1/pmps/OPCT/2024July", headers=secretariat).json
    target = lambda body: next(t["value"] for line in body["lines"] if line["indicator"] == "SA02"  # noqa: E731
                               for t in line["targets"] if t["period"] == "2024July")
    assert int(target(new)) == round(int(target(old)) * 1.3)
    assert new["version"] == 2 and old["version"] == 1


def test_targets_put_through_the_api_read_back_identically(client, session, secretariat):
    body = {"version": 0, "reason": "Adopted by the TWG", "lines": [{
        "indicator": "SA07", "baseline_value": 101000, "baseline_period": "2025Q2",
        "collection_method": "HSNP MIS", "responsible": "NDMA M&E",
        "targets": [{"org_unit": "023", "period": "2025Q3", "value": 41000},
                    {"org_unit": "Wajir", "period": "2025Q4", "value": "42000"},
                    {"org_unit": "023", "period": "2025July", "value": 44000}]}]}
    response = client.put("/api/v1/pmps/HSNP/2025July", json=body, headers=secretariat)
    assert response.status_code == 200, response.json
    assert response.json["version"] == 1 and response.json["changed"] is True
    targets = client.get("/api/v1/targets?indicator=SA07&programme=HSNP&period=2025Q4", headers=secretariat).json
    assert targets == [{"indicator": "SA07", "programme": "HSNP", "fiscal_year": "2025July", "pmp_version": 1,
                        "org_unit": "008", "period": "2025Q4", "value": "42000", "baseline_value": "101000",
                        "baseline_period": "2025Q2"}]
    again = client.put("/api/v1/pmps/HSNP/2025July", json={**body, "version": 1}, headers=secretariat)
    assert again.json["changed"] is False and again.json["version"] == 1
    stale = client.put("/api/v1/pmps/HSNP/2025July", json=body, headers=secretariat)
    assert stale.status_code == 409


def test_bad_plans_are_refused_with_located_errors_and_nothing_stored(client, session, secretariat):
    versions = session.query(PmpVersion).count()
    body = {"version": 0, "reason": "x", "lines": [
        {"indicator": "SA07", "targets": [{"org_unit": "023", "period": "2026Q3", "value": 5},
                                          {"org_unit": "023", "period": "2025Q3", "value": -5},
                                          {"org_unit": "047", "period": "2025Q3", "value": 5}]},
        {"indicator": "XX01", "targets": []}]}
    response = client.put("/api/v1/pmps/HSNP/2025July", json=body, headers=secretariat)
    assert response.status_code == 422
    messages = " | ".join(d["message"] for d in response.json["details"])
    assert "outside FY2025/26" in messages and "-5 is negative" in messages
    assert "does not operate in Nairobi City" in messages and "'XX01' is not in the catalogue" in messages
    assert session.query(PmpVersion).count() == versions


def test_year_target_mismatch_is_shown_not_refused(client, secretariat):
    lines = [{"indicator": "SA14", "targets": [{"org_unit": "KE", "period": p, "value": 100}
                                              for p in ("2025Q3", "2025Q4", "2026Q1", "2026Q2")]
              + [{"org_unit": "KE", "period": "2025July", "value": 450}]}]
    response = client.put("/api/v1/pmps/OPCT/2025July", json={"version": 0, "reason": "r", "lines": lines},
                          headers=secretariat)
    assert response.status_code == 200
    assert response.json["mismatches"] == [
        "SA14 (KE): the year target 450 differs from the sum of the quarterly targets 400."]


def test_pmp_excel_round_trip_creates_a_version_with_its_reason(client, session):
    login(client, "secretariat@demo.test")
    data = client.get("/plans/pmps/PWSD/2024July/template.xlsx").data
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Targets"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["indicator", "indicator_name", "org_unit", "org_unit_name"]
    column = header.index("2024july") + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "SA05")
    sheet.cell(row, column).value = 99999
    buffer = io.BytesIO()
    book.save(buffer)
    token = csrf_token(client, "/plans/pmps/PWSD/2024July")
    response = client.post("/plans/pmps/PWSD/2024July", data={
        "csrf_token": token, "reason": "County targets agreed with NCPWD",
        "file": (io.BytesIO(buffer.getvalue()), "pwsd.xlsx")})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    pmp = session.scalar(select(Pmp).where(Pmp.scope == "PWSD", Pmp.fiscal_year == "2024July"))
    assert pmp.current_version == 2
    version = session.scalar(select(PmpVersion).where(PmpVersion.pmp_id == pmp.id, PmpVersion.number == 2))
    assert version.reason == "County targets agreed with NCPWD"
    values = session.scalars(select(Target.value).join(Target.line).where(Target.period == "2024July")
                             .where(Target.line.has(version_id=version.id))).all()
    assert 99999 in [int(v) for v in values]


def test_a_bad_pmp_workbook_names_the_cell(client, session):
    login(client, "secretariat@demo.test")
    book = openpyxl.load_workbook(io.BytesIO(client.get("/plans/pmps/PWSD/2024July/template.xlsx").data))
    sheet = book["Targets"]
    sheet["J2"] = "1,000"
    buffer = io.BytesIO()
    book.save(buffer)
    versions = session.query(PmpVersion).count()
    token = csrf_token(client, "/plans/pmps/PWSD/2024July")
    response = client.post("/plans/pmps/PWSD/2024July", data={
        "csrf_token": token, "reason": "typo", "file": (io.BytesIO(buffer.getvalue()), "pwsd.xlsx")})
    assert response.status_code == 422
    assert "pwsd.xlsx Targets!J2" in response.get_data(as_text=True)
    assert session.query(PmpVersion).count() == versions


def test_work_plan_progress_is_audited_and_shows_in_history(client, session, secretariat):
    plan = client.get("/api/v1/workplans/2024July", headers=secretariat).json
    assert len(plan["activities"]) == 25
    assert {a["working_group"] for a in plan["activities"]} == {"policy", "finance", "shock", "standards", "merl"}
    code = plan["activities"][0]["code"]
    url = f"/api/v1/workplans/2024July/activities/{code}/progress/2025Q2"
    first = client.put(url, json={"status": "delayed", "percent_complete": 60, "spend_to_date": "1500000",
                                  "note": "Procurement re-tendered."}, headers=secretariat)
    assert first.status_code == 200, first.json
    version = first.json["version"]
    stale = client.put(url, json={"status": "on_track", "percent_complete": 70, "spend_to_date": 1600000,
                                  "version": version - 1}, headers=secretariat)
    assert stale.status_code == 409
    bad = client.put(url, json={"status": "late", "percent_complete": 140, "spend_to_date": "1,600,000"},
                     headers=secretariat)
    assert bad.status_code == 422
    assert "status 'late'" in bad.json["message"] and "0 to 100" in bad.json["message"]
    changes = session.scalars(select(ActivityUpdateChange).order_by(ActivityUpdateChange.id.desc())).all()
    assert {c.field for c in changes[:4]} >= {"status", "note"}
    login(client, "secretariat@demo.test")
    page = client.get(f"/plans/workplans/2024July/{code}").get_data(as_text=True)
    assert "Procurement re-tendered." in page and "History" in page


def test_work_plan_excel_round_trip_is_all_or_nothing(client, session):
    login(client, "secretariat@demo.test")
    data = client.get("/plans/workplans/2024July/template.xlsx").data
    book = openpyxl.load_workbook(io.BytesIO(data))
    progress = book["Progress"]
    progress.append(["POL-01", "2025Q2", "completed", 100, 18000000, "Bill submitted to Cabinet."])
    progress.append(["POL-02", "2026Q1", "on_track", 10, 0, "wrong year"])
    buffer = io.BytesIO()
    book.save(buffer)
    changes = session.query(ActivityUpdateChange).count()
    token = csrf_token(client, "/plans/workplans/2024July")
    response = client.post("/plans/workplans/2024July", data={"csrf_token": token,
                                                              "file": (io.BytesIO(buffer.getvalue()), "jwp.xlsx")})
    assert response.status_code == 422
    assert "jwp.xlsx Progress!" in response.get_data(as_text=True) and "not a quarter of FY2024/25" in response.get_data(as_text=True)
    assert session.query(ActivityUpdateChange).count() == changes


def test_targets_entered_in_the_web_read_back_through_the_api(client, session, secretariat):
    login(client, "secretariat@demo.test")
    token = csrf_token(client, "/plans/pmps/NICHE/2025July/edit")
    response = client.post("/plans/pmps/NICHE/2025July/edit", data={
        "csrf_token": token, "version": "0", "reason": "First NICHE plan", "new_indicator": "SA16",
        "l.SA16.baseline_value": "9800", "l.SA16.baseline_period": "2025Q2", "l.SA16.responsible": "NICHE lead",
        "new_row_indicator": "SA16", "new_unit": "023", "new.2025Q3": "2500", "new.2025July": "2700"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    body = client.get("/api/v1/pmps/NICHE/2025July", headers=secretariat).json
    assert body["version"] == 1 and body["reason"] == "First NICHE plan"
    assert body["lines"][0]["baseline_value"] == "9800"
    assert body["lines"][0]["targets"] == [{"org_unit": "023", "period": "2025Q3", "value": "2500"},
                                           {"org_unit": "023", "period": "2025July", "value": "2700"}]


def test_a_new_work_plan_and_its_activities_through_the_api(client, secretariat):
    created = client.put("/api/v1/workplans/2025July", json={"title": "Sector JWP FY2025/26"}, headers=secretariat)
    assert created.status_code == 201 and created.json["activities"] == []
    assert client.put("/api/v1/workplans/2025July", json={}, headers=secretariat).status_code == 409
    activity = {"title": "Train county officers on the MEL service", "working_group": "merl", "lead_agency": "SPS",
                "budget_kes": "2500000", "planned_quarters": "2025Q3,2025Q4", "results_node": "O4.4",
                "indicators": "SPX14"}
    response = client.put("/api/v1/workplans/2025July/activities/MER-01", json=activity, headers=secretariat)
    assert response.status_code == 200, response.json
    assert response.json["budget_kes"] == "2500000" and response.json["indicators"] == ["SPX14"]
    wrong = client.put("/api/v1/workplans/2025July/activities/MER-02", headers=secretariat,
                       json={**activity, "planned_quarters": "2024Q3"})
    assert wrong.status_code == 422 and "2024Q3 is not a quarter of FY2025/26" in wrong.json["details"][0]["message"]
