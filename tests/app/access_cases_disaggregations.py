"""Access-matrix cases for disaggregations (mel/catalogue/disaggregation_views.py, disaggregation_api.py):
everyone signed in reads them, only the secretariat changes them (merged by tests/app/test_access_matrix.py).
The writes are sent so that they are refused on their content (no reason, an option figures use, a set
indicators use): the secretariat gets 409 or 422, nothing changes for the other cases."""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, OK, WRITE, Case, only, signed

    base = "/catalogue/disaggregations"
    api = "/api/v1/disaggregations"
    no_reason = {"reason": ""}
    return {
        ("disaggregations.overview", "GET"): [Case("GET", base, signed())],
        ("disaggregations.category_page", "GET"): [Case("GET", f"{base}/categories/age_group", signed()),
                                                   Case("GET", f"{base}/categories/nope", signed(HIDDEN))],
        ("disaggregations.category_new", "GET"): [Case("GET", f"{base}/categories/new", only(ADMIN))],
        ("disaggregations.category_new", "POST"): [Case("POST", f"{base}/categories/new", only(ADMIN, WRITE),
                                                        data={"code": "Bad Code", "name": "", "options": ""})],
        ("disaggregations.category_save", "POST"): [Case("POST", f"{base}/categories/sex", only(ADMIN, WRITE),
                                                         data={"name": "Sex", **no_reason}),
                                                    Case("POST", f"{base}/categories/nope", only(ADMIN, HIDDEN),
                                                         data={"name": "x", "reason": "Matrix."})],
        ("disaggregations.option_retire", "POST"): [Case("POST", f"{base}/categories/age_group/options/A70P/retire",
                                                         only(ADMIN, WRITE), data=no_reason),
                                                    Case("POST", f"{base}/categories/age_group/options/NOPE/retire",
                                                         only(ADMIN, HIDDEN), data={"reason": "Matrix."})],
        ("disaggregations.option_reactivate", "POST"): [Case(
            "POST", f"{base}/categories/age_group/options/A70P/reactivate", only(ADMIN, WRITE), data=no_reason)],
        ("disaggregations.option_delete", "POST"): [Case(
            "POST", f"{base}/categories/age_group/options/A70P/delete", only(ADMIN, WRITE), data={"reason": "Matrix."})],
        ("disaggregations.category_delete", "POST"): [Case("POST", f"{base}/categories/sex/delete",
                                                           only(ADMIN, WRITE), data={"reason": "Matrix."})],
        ("disaggregations.set_new", "GET"): [Case("GET", f"{base}/sets/new", only(ADMIN))],
        ("disaggregations.set_new", "POST"): [Case("POST", f"{base}/sets/new", only(ADMIN, WRITE),
                                                   data={"code": "sex", "name": "Sex", "category.1": "sex"})],
        ("disaggregations.set_page", "GET"): [Case("GET", f"{base}/sets/sex_age", signed()),
                                              Case("GET", f"{base}/sets/nope", signed(HIDDEN))],
        ("disaggregations.set_save", "POST"): [Case("POST", f"{base}/sets/sex_age", only(ADMIN, WRITE),
                                                    data={"name": "Sex and age", "category.1": "age_group",
                                                          "category.2": "sex", "reason": "Matrix."})],
        ("disaggregations.set_delete", "POST"): [Case("POST", f"{base}/sets/sex_age/delete", only(ADMIN, WRITE),
                                                      data={"reason": "Matrix."})],
        ("disaggregations_api.Categories", "GET"): [Case("GET", f"{api}/categories", signed(api=True))],
        ("disaggregations_api.Categories", "POST"): [Case("POST", f"{api}/categories", only(ADMIN, WRITE, api=True),
                                                          json={"code": "sex", "name": "Sex",
                                                                "options": [{"code": "F", "name": "Female"}]})],
        ("disaggregations_api.CategoryItem", "GET"): [Case("GET", f"{api}/categories/sex", signed(api=True)),
                                                      Case("GET", f"{api}/categories/nope", signed(HIDDEN, api=True))],
        ("disaggregations_api.CategoryItem", "PUT"): [Case("PUT", f"{api}/categories/sex",
                                                           only(ADMIN, WRITE, api=True),
                                                           json={"options": [{"code": "F", "name": "Female"}],
                                                                 "reason": "Matrix."})],
        ("disaggregations_api.CategoryItem", "DELETE"): [Case("DELETE", f"{api}/categories/sex",
                                                              only(ADMIN, WRITE, api=True), query={"reason": "Matrix."})],
        ("disaggregations_api.CategoryOptions", "POST"): [Case("POST", f"{api}/categories/sex/options",
                                                               only(ADMIN, WRITE, api=True),
                                                               json={"code": "F", "name": "Again", "reason": "Matrix."})],
        ("disaggregations_api.CategoryOptionItem", "PUT"): [Case(
            "PUT", f"{api}/categories/age_group/options/A70P", only(ADMIN, WRITE, api=True),
            json={"name": "", "reason": "Matrix."})],
        ("disaggregations_api.CategoryOptionItem", "DELETE"): [Case(
            "DELETE", f"{api}/categories/age_group/options/A70P", only(ADMIN, WRITE, api=True),
            query={"reason": "Matrix."}),
            Case("DELETE", f"{api}/categories/age_group/options/NOPE", only(ADMIN, HIDDEN, api=True),
                 query={"reason": "Matrix."})],
        ("disaggregations_api.Sets", "GET"): [Case("GET", f"{api}/sets", signed(OK, api=True))],
        ("disaggregations_api.Sets", "POST"): [Case("POST", f"{api}/sets", only(ADMIN, WRITE, api=True),
                                                    json={"code": "sex", "name": "Sex", "categories": ["sex"]})],
        ("disaggregations_api.SetItem", "GET"): [Case("GET", f"{api}/sets/sex_age", signed(api=True)),
                                                 Case("GET", f"{api}/sets/nope", signed(HIDDEN, api=True))],
        ("disaggregations_api.SetItem", "PUT"): [Case("PUT", f"{api}/sets/sex_age", only(ADMIN, WRITE, api=True),
                                                      json={"categories": ["age_group", "sex"], "reason": "Matrix."})],
        ("disaggregations_api.SetItem", "DELETE"): [Case("DELETE", f"{api}/sets/sex_age", only(ADMIN, WRITE, api=True),
                                                         query={"reason": "Matrix."})],
    }
