"""Access-matrix cases for the form administration (mel/catalogue/form_views.py, form_api.py): the
secretariat only (merged by tests/app/test_access_matrix.py)."""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, WRITE, Case, only

    page = "/catalogue/programmes/OPCT/form"
    exception = {"org_unit": "042", "period": "2025Q3", "closes_on": "2025-12-15", "reason": "Matrix."}
    return {
        ("form_admin.form_edit", "GET"): [Case("GET", page, only(ADMIN))],
        ("form_admin.form_edit", "POST"): [Case("POST", page, only(ADMIN, WRITE), data={
            "frequency": "quarterly", "opens_days": "0", "due_days": "20", "closes_days": "45", "reason": "Matrix."})],
        ("form_admin.exception_add", "POST"): [Case("POST", f"{page}/exceptions", only(ADMIN, WRITE), data=exception)],
        ("form_admin.exception_remove", "POST"): [Case("POST", f"{page}/exceptions/999999/remove",
                                                       only(ADMIN, HIDDEN), data={"reason": "Matrix."})],
        ("form_api.FormItem", "GET"): [Case("GET", "/api/v1/forms/OPCT", only(ADMIN, api=True))],
        ("form_api.FormItem", "PUT"): [Case("PUT", "/api/v1/forms/OPCT", only(ADMIN, WRITE, api=True),
                                            json={"due_days": 20, "reason": "Matrix."})],
        ("form_api.WindowExceptions", "GET"): [Case("GET", "/api/v1/forms/OPCT/window-exceptions",
                                                    only(ADMIN, api=True))],
        ("form_api.WindowExceptions", "POST"): [Case("POST", "/api/v1/forms/OPCT/window-exceptions",
                                                     only(ADMIN, WRITE, api=True), json=exception)],
        ("form_api.WindowExceptionItem", "DELETE"): [Case("DELETE", "/api/v1/forms/OPCT/window-exceptions/999999",
                                                          only(ADMIN, HIDDEN, api=True), query={"reason": "Matrix."})],
    }
