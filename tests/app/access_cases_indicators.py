"""Access-matrix cases for the indicator editor (mel/catalogue/indicator_views.py, indicator_api.py), merged by
tests/app/test_access_matrix.py: writes are the secretariat's alone, everyone else gets 403; the versions of a
reference sheet are read by every signed-in user; a made-up indicator is "not found"."""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, WRITE, Case, only, signed

    fields = {"name": "Matrix indicator", "short_name": "Matrix", "definition": "Counted for the matrix.",
              "pillar": "cross_cutting", "level": "output", "unit": "number", "measure": "count",
              "time_aggregation": "sum", "is_additive_across_programmes": "true", "disaggregation": "none",
              "direction": "increase", "frequency": "quarterly"}
    api_fields = {**fields, "is_additive_across_programmes": True}
    return {
        ("indicator_admin.indicator_new", "GET"): [Case("GET", "/catalogue/indicators/new", only(ADMIN))],
        ("indicator_admin.indicator_new", "POST"): [Case("POST", "/catalogue/indicators/new", only(ADMIN, WRITE),
                                                         data={**fields, "code": "MX99", "reason": "Matrix."})],
        ("indicator_admin.indicator_edit", "GET"): [Case("GET", "/catalogue/indicators/SA02/edit", only(ADMIN)),
                                                    Case("GET", "/catalogue/indicators/NOPE/edit",
                                                         only(ADMIN, HIDDEN))],
        ("indicator_admin.indicator_edit", "POST"): [Case("POST", "/catalogue/indicators/SPX10/edit",
                                                          only(ADMIN, WRITE), data={**fields, "reason": "Matrix."})],
        ("indicator_admin.indicator_retire", "POST"): [Case("POST", "/catalogue/indicators/SA02/retire",
                                                            only(ADMIN, WRITE), data={"reason": "Matrix."})],
        ("indicator_admin.indicator_reactivate", "POST"): [Case("POST", "/catalogue/indicators/SA02/reactivate",
                                                                only(ADMIN, WRITE), data={"reason": "Matrix."})],
        ("indicator_admin.indicator_versions", "GET"): [Case("GET", "/catalogue/indicators/SA02/versions", signed()),
                                                        Case("GET", "/catalogue/indicators/NOPE/versions",
                                                             signed({404}))],
        ("indicator_admin.indicator_version", "GET"): [Case("GET", "/catalogue/indicators/SA02/versions/1", signed()),
                                                       Case("GET", "/catalogue/indicators/SA02/versions/99",
                                                            signed({404}))],
        ("indicator_api.Indicators", "POST"): [Case("POST", "/api/v1/indicators", only(ADMIN, WRITE, api=True),
                                                    json={**api_fields, "code": "MX99"})],
        ("indicator_api.IndicatorOne", "PUT"): [Case("PUT", "/api/v1/indicators/SA02", only(ADMIN, WRITE, api=True),
                                                     json={"definition": "Matrix.", "reason": "Matrix."}),
                                                Case("PUT", "/api/v1/indicators/NOPE", only(ADMIN, HIDDEN, api=True),
                                                     json={"is_active": False, "reason": "Matrix."})],
        ("indicator_api.IndicatorVersions", "GET"): [Case("GET", "/api/v1/indicators/SA02/versions",
                                                          signed(api=True))],
        ("indicator_api.IndicatorVersionOne", "GET"): [Case("GET", "/api/v1/indicators/SA02/versions/1",
                                                            signed(api=True)),
                                                       Case("GET", "/api/v1/indicators/SA02/versions/99",
                                                            signed({404}, api=True))],
    }
