"""Access-matrix cases for the programme administration and a form's indicators and org units
(mel/catalogue/form_views.py, form_api.py): the secretariat only (merged by tests/app/test_access_matrix.py)."""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, WRITE, Case, only

    new = {"code": "MATRIX", "name": "Matrix programme", "pillar": "social_assistance", "agency": "Matrix agency",
           "level": "county", "org_units": ["042"], "from_period": "2026Q4", "reason": "Matrix."}
    contents = {"indicator": ["SA01"], "order.SA01": "1", "required": ["SA01"], "org_units": ["042"],
                "from_period": "2026Q4", "reason": "Matrix."}
    return {
        ("form_admin.programme_new", "GET"): [Case("GET", "/catalogue/programmes/new", only(ADMIN))],
        ("form_admin.programme_new", "POST"): [Case("POST", "/catalogue/programmes/new", only(ADMIN, WRITE),
                                                    data=new)],
        ("form_admin.programme_edit", "GET"): [Case("GET", "/catalogue/programmes/OPCT/edit", only(ADMIN)),
                                               Case("GET", "/catalogue/programmes/NOPE/edit",
                                                    only(ADMIN, HIDDEN), label="unknown programme")],
        ("form_admin.programme_edit", "POST"): [Case("POST", "/catalogue/programmes/OPCT/edit", only(ADMIN, WRITE),
                                                     data={"name": "Matrix name", "from_period": "2026Q4",
                                                           "reason": "Matrix."})],
        ("form_admin.form_contents_save", "POST"): [Case("POST", "/catalogue/programmes/COUNTY/form/contents",
                                                         only(ADMIN, WRITE), data=contents)],
        ("form_api.ProgrammeCreate", "POST"): [Case("POST", "/api/v1/programmes", only(ADMIN, WRITE, api=True),
                                                    json=new)],
        ("form_api.ProgrammeChange", "PUT"): [Case("PUT", "/api/v1/programmes/OPCT", only(ADMIN, WRITE, api=True),
                                                   json={"agency": "Matrix agency", "reason": "Matrix."}),
                                              Case("PUT", "/api/v1/programmes/NOPE", only(ADMIN, HIDDEN, api=True),
                                                   json={"agency": "Matrix agency", "reason": "Matrix."},
                                                   label="unknown programme")],
    }
