"""Access-matrix cases for managing people (merged by tests/app/test_access_matrix.py): the
secretariat's alone; a made-up person is "not found"."""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, WRITE, Case, only

    return {
        ("accounts.audit_csv", "GET"): [Case("GET", "/admin/audit.csv", only(ADMIN), query={"action": "sign_in"})],
        ("accounts.change_access", "GET"): [Case("GET", "/admin/users/999999/access", only(ADMIN, HIDDEN))],
        ("accounts.change_access", "POST"): [Case("POST", "/admin/users/999999/access", only(ADMIN, HIDDEN),
                                                  data={"name": "X", "role": "viewer", "reason": "Matrix."})],
        ("users_api.Users", "GET"): [Case("GET", "/api/v1/users", only(ADMIN, api=True))],
        ("users_api.Users", "POST"): [Case("POST", "/api/v1/users", only(ADMIN, WRITE, api=True),
                                           json={"email": "matrix-api@example.org", "name": "Matrix",
                                                 "role": "viewer"})],
        ("users_api.UserOne", "GET"): [Case("GET", "/api/v1/users/999999", only(ADMIN, HIDDEN, api=True))],
        ("users_api.UserOne", "PATCH"): [Case("PATCH", "/api/v1/users/999999", only(ADMIN, HIDDEN, api=True),
                                              json={"reason": "Matrix.", "role": "viewer"})],
    }
