"""Access-matrix cases for validation rules (merged by tests/app/test_access_matrix.py): the
secretariat's alone; everyone else gets 403, a made-up rule is "not found"."""

from __future__ import annotations


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, WRITE, Case, only

    rule = {"name": "Matrix", "left": "SA02", "operator": "<=", "right": "SA01", "severity": "warning",
            "importance": "low", "missing_strategy": "skip_if_any_missing"}
    return {
        ("rules.rule_list", "GET"): [Case("GET", "/catalogue/validation-rules", only(ADMIN),
                                          query={"status": "retired"})],
        ("rules.rule_new", "GET"): [Case("GET", "/catalogue/validation-rules/new", only(ADMIN))],
        ("rules.rule_new", "POST"): [Case("POST", "/catalogue/validation-rules/new", only(ADMIN, WRITE),
                                          data={**rule, "code": "VR99", "action": "try"})],
        ("rules.rule_page", "GET"): [Case("GET", "/catalogue/validation-rules/VR01", only(ADMIN)),
                                     Case("GET", "/catalogue/validation-rules/NOPE", only(ADMIN, HIDDEN))],
        ("rules.rule_edit", "GET"): [Case("GET", "/catalogue/validation-rules/VR01/edit", only(ADMIN))],
        ("rules.rule_edit", "POST"): [Case("POST", "/catalogue/validation-rules/VR01/edit", only(ADMIN, WRITE),
                                           data={**rule, "action": "save", "reason": "Matrix."})],
        ("rules.rule_retire", "POST"): [Case("POST", "/catalogue/validation-rules/VR01/retire", only(ADMIN, WRITE),
                                             data={"reason": "Matrix."})],
        ("rules.rule_reactivate", "POST"): [Case("POST", "/catalogue/validation-rules/VR01/reactivate",
                                                 only(ADMIN, WRITE), data={"reason": "Matrix."})],
        ("rules_api.Rules", "GET"): [Case("GET", "/api/v1/validation-rules", only(ADMIN, api=True))],
        ("rules_api.Rules", "POST"): [Case("POST", "/api/v1/validation-rules", only(ADMIN, WRITE, api=True),
                                           json={**rule, "code": "VR99"})],
        ("rules_api.RuleOne", "GET"): [Case("GET", "/api/v1/validation-rules/VR01", only(ADMIN, api=True)),
                                       Case("GET", "/api/v1/validation-rules/NOPE", only(ADMIN, HIDDEN, api=True))],
        ("rules_api.RuleOne", "PUT"): [Case("PUT", "/api/v1/validation-rules/VR01", only(ADMIN, WRITE, api=True),
                                            json={"is_active": False, "reason": "Matrix."})],
        ("rules_api.RuleTry", "POST"): [Case("POST", "/api/v1/validation-rules/try", only(ADMIN, api=True),
                                             json={"left": "SA02", "operator": "<=", "right": "SA01"})],
    }
