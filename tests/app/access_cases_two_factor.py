"""Access-matrix cases for two-factor sign-in (merged by tests/app/test_access_matrix.py).

The code step is anyone's page (without a password step first it sends back to the sign-in
page, and a signed-in person home); setting it up is one's own; resetting someone's is the
secretariat's (a made-up person is "not found").
"""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, Case, only, signed

    return {
        ("accounts.login_code", "GET"): [Case("GET", "/login/code", lambda role: {302})],
        ("accounts.login_code", "POST"): [Case("POST", "/login/code", lambda role: {302}, data={"code": "123456"})],
        ("accounts.two_factor_setup", "GET"): [Case("GET", "/account/two-factor", signed())],
        ("accounts.two_factor_enable", "POST"): [Case("POST", "/account/two-factor", signed({422}),
                                                      data={"code": "12"})],
        ("accounts.two_factor_codes", "POST"): [Case("POST", "/account/two-factor/recovery-codes", signed({409}),
                                                     data={"code": "123456"})],
        ("accounts.two_factor_disable", "POST"): [Case("POST", "/account/two-factor/off", signed({409}),
                                                       data={"code": "123456"})],
        ("accounts.two_factor_reset", "POST"): [Case("POST", "/admin/users/999999/two-factor/reset",
                                                     only(ADMIN, HIDDEN), data={"reason": "Matrix."})],
    }
