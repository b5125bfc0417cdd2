"""The read API: authentication, filters, reference-sheet fields, periods, OpenAPI document."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from mel.accounts.operations import create_token


@pytest.fixture
def auth(session):
    issued = create_token(session, "reviewer@demo.test", name="tests")
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.mark.parametrize("path", ["/api/v1/indicators", "/api/v1/org-units", "/api/v1/programmes",
                                  "/api/v1/periods", "/api/v1/indicators/SA01"])
def test_the_api_needs_a_token(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"] == "unauthorized"
    assert "Bearer" in response.json["message"]


def test_a_bad_token_gets_401_json(client):
    response = client.get("/api/v1/indicators", headers={"Authorization": "Bearer mel_nope"})
    assert response.status_code == 401 and response.json["status"] == 401


def test_indicators_filtered_by_pillar_with_reference_sheet_fields(client, auth):
    response = client.get("/api/v1/indicators?pillar=social_assistance", headers=auth)
    assert response.status_code == 200
    body = response.json
    assert [i["code"] for i in body] == [f"SA{n:02d}" for n in range(1, 18)]
    sa03 = next(i for i in body if i["code"] == "SA03")
    for field in ("definition", "numerator", "denominator", "factor", "time_aggregation",
                  "direction", "data_source", "means_of_verification", "responsible_agency",
                  "disaggregation", "results_node", "uid", "is_additive_across_programmes"):
        assert field in sa03, field
    assert sa03["measure"] == "ratio" and sa03["factor"] == 100
    assert sa03["pillar"]["code"] == "social_assistance"
    assert [c["code"] for c in sa03["disaggregation"]["combos"]] == ["F", "M", "total"]


def test_indicator_filters_combine(client, auth):
    body = client.get("/api/v1/indicators?pillar=cross_cutting&measure=count", headers=auth).json
    assert [i["code"] for i in body] == ["SPX06", "SPX09", "SPX10"]
    body = client.get("/api/v1/indicators?programme=HSNP&level=outcome", headers=auth).json
    assert {i["code"] for i in body} == {"SA09", "SA11", "SPX11"}


def test_invalid_filter_values_are_located(client, auth):
    response = client.get("/api/v1/indicators?measure=percent", headers=auth)
    assert response.status_code == 422
    assert response.json["details"][0]["location"]["field"] == "measure"


def test_one_indicator_by_code_or_uid(client, auth):
    sa01 = client.get("/api/v1/indicators/SA01", headers=auth).json
    assert sa01["name"] == "Number of Inua Jamii beneficiaries paid"
    by_uid = client.get(f"/api/v1/indicators/{sa01['uid']}", headers=auth).json
    assert by_uid["code"] == "SA01"
    missing = client.get("/api/v1/indicators/XX99", headers=auth)
    assert missing.status_code == 404 and "XX99" in missing.json["message"]


def test_org_units_and_programmes(client, auth):
    units = client.get("/api/v1/org-units", headers=auth).json
    assert len(units) == 48 and units[0]["code"] == "KE"
    counties = client.get("/api/v1/org-units?level=2", headers=auth).json
    assert len(counties) == 47
    assert next(c for c in counties if c["code"] == "047")["iso_code"] == "KE-30"
    assert {c["parent"] for c in counties} == {"KE"}
    programmes = {p["code"]: p for p in client.get("/api/v1/programmes", headers=auth).json}
    assert programmes["HSNP"]["org_units"] == ["004", "007", "008", "009", "010", "011", "023", "025"]
    assert programmes["SPS"]["org_units"] == ["KE"]


def test_periods_of_a_financial_year_with_kenyan_labels(client, auth):
    body = client.get("/api/v1/periods?type=quarter&fy=2025July", headers=auth).json
    assert [p["id"] for p in body] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert body[0]["label"] == "FY2025/26 Q1 (Jul–Sep 2025)"
    assert body[0]["start"] == "2025-07-01" and body[3]["end"] == "2026-06-30"
    months = client.get("/api/v1/periods?type=month&fy=2025July", headers=auth).json
    assert len(months) == 12 and months[0]["id"] == "202507"


def test_a_bad_period_quotes_it_and_the_accepted_forms(client, auth):
    response = client.get("/api/v1/periods?fy=2025Q5", headers=auth)
    assert response.status_code == 422
    message = response.json["details"][0]["message"]
    assert "'2025Q5'" in message and "2025July" in message
    response = client.get("/api/v1/periods?fy=2025Q3", headers=auth)
    assert response.status_code == 422
    assert "not a financial year" in response.json["message"]


def test_openapi_document_is_valid_and_lists_the_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    validate(spec)
    for path in ("/api/v1/indicators", "/api/v1/indicators/{code}", "/api/v1/org-units",
                 "/api/v1/programmes", "/api/v1/periods",
                 "/api/v1/returns/{programme}/{org_unit}/{period}",
                 "/api/v1/returns/{programme}/{org_unit}/{period}/submit", "/api/v1/returns:import"):
        assert path in spec["paths"], path
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    item = spec["paths"]["/api/v1/returns/{programme}/{org_unit}/{period}"]
    assert {"get", "put"} <= set(item) and "409" in item["put"]["responses"]
    assert "multipart/form-data" in spec["paths"]["/api/v1/returns:import"]["post"]["requestBody"]["content"]


def test_each_indicator_carries_its_history_check_thresholds(client, auth, session):
    """The thresholds come from the catalogue (seed: indicator_checks.csv); empty means the default."""
    from indicators.history import DEFAULTS, thresholds_of
    from mel.catalogue.lookup import load_catalogue
    from tests.helpers import login

    on_schedule = client.get("/api/v1/indicators/SA11", headers=auth).json
    assert on_schedule["checks"]["min_points"] == 34 and on_schedule["checks"]["seasonal"] is False
    assert "one late cycle" in on_schedule["checks"]["note"]
    exits = client.get("/api/v1/indicators/SA15", headers=auth).json["checks"]
    assert exits == {"min_change": None, "min_absolute": None, "min_points": None, "seasonal": False, "note": ""}
    specs = load_catalogue(session).specs
    assert thresholds_of(specs["SA15"]) == DEFAULTS["count"]
    assert thresholds_of(specs["SA11"]).min_points == 34 and thresholds_of(specs["SA13"]).min_change == 0.05
    login(client, "viewer@demo.test")
    page = client.get("/indicators/SA11").get_data(as_text=True)
    assert "moves by at least 34 percentage points" in page and "one late cycle" in page
    page = client.get("/indicators/SA15").get_data(as_text=True)
    assert "changes by at least 33% and by at least 50" in page and "three quarters running" in page
