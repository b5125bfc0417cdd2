"""Every route of the URL map, for every role, with malformed identifiers: never a 500.

Each URL variable is filled in turn with malformed values (the others valid, so the request
reaches the view), GET routes get malformed identifiers in the query string, and routes with a
JSON or form body get them in the body. A malformed identifier is the caller's mistake: it
must get a 4xx (422 naming the value, 404, or 401/403/405/400), never a 500.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import marshmallow as ma
import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from mel.accounts.operations import create_token
from mel.plans.models import Activity
from tests.helpers import csrf_token, login

ROLES = {
    "secretariat": "secretariat@demo.test",
    "reviewer": "reviewer@demo.test",
    "officer": "officer.opct@demo.test",
    "viewer": "viewer@demo.test",
    "anonymous": None,
}

# Malformed values by URL variable name; every one of them is a caller's mistake.
BAD = {
    "period": ["2025Q9", "abc", "2025July", "2025-Q3", "2025Q0"],
    "fiscal_year": ["2025Q3", "abc", "2025Q9", "25July"],
    "programme": ["NOPE", "2025Q3"],
    "scope": ["NOPE", "2025Q3"],
    "org_unit": ["999", "xx", "KE-99", "0"],
    "code": ["NOPE", "999"],
    "job_id": ["nope"],
    # The admin jobs page's failed list (/admin/jobs/failed/<queue_kind>/<rq_id>/<action>).
    "queue_kind": ["nope", "x" * 300], "rq_id": ["nope", "x" * 300], "action": ["nope", "x" * 300],
    "job_type": ["NOPE", "x" * 300],  # DHIS2 task answers (/api/system/tasks/<job_type>/<job_id>)
    "uid": ["abcdefghijk", "NOPE", "x" * 300],  # DHIS2 metadata objects (/api/<resource>/<uid>)
    "token": ["nope", "x" * 300, "WzEsIngiXQ.abc.def"],  # one-time links (/reset-password/<token>)
    "option": ["NOPE", "x" * 300],  # a category's option (/catalogue/disaggregations/categories/<code>/options/<option>)
    # A handbook edition's file (/guidelines/editions/<n>/<lang>.<file_format>, /api/v1/handbook/<n>/files/…).
    "lang": ["fr", "x" * 300, "EN"], "language": ["fr", "x" * 300], "file_format": ["docx", "x" * 300],
}
BAD_IDS = ["0", "999999999", "-1", "99999999999"]  # the last one overflows a 32-bit key
VALID = {"period": "2025Q2", "fiscal_year": "2024July", "programme": "OPCT", "scope": "OPCT",
         "org_unit": "042", "job_id": "prune", "run_id": "1", "query_id": "1",
         "uid": "HllvX50cXC0", "job_type": "DATAVALUE_IMPORT", "token": "nope",
         "token_id": "1", "user_id": "1", "action_id": "1", "exception_id": "1",
         "option": "A70P", "number": "1", "meeting_id": "1",
         "evidence_id": "1", "question_id": "1", "lang": "en", "language": "en", "file_format": "pdf",
         "queue_kind": "tasks", "rq_id": "nope", "action": "retry"}
CODE_BY_ENDPOINT = {"catalogue.indicator_sheet": "SA01", "catalogue_api.IndicatorItem": "SA01",
                    "results.indicator": "SA01", "catalogue.programme_detail": "OPCT",
                    "catalogue_api.ProgrammeItem": "OPCT", "catalogue.county_detail": "042",
                    "rules.rule_page": "VR01", "rules.rule_edit": "VR01", "rules.rule_retire": "VR01",
                    "rules.rule_reactivate": "VR01", "rules_api.RuleOne": "VR01",
                    **dict.fromkeys(("form_admin.programme_edit", "form_admin.form_contents_save",
                                     "form_api.ProgrammeChange"), "OPCT"),
                    **{f"disaggregations.{e}": "age_group" for e in (
                        "category_page", "category_save", "option_retire", "option_reactivate", "option_delete",
                        "category_delete")},
                    **{f"disaggregations_api.{e}": "age_group" for e in (
                        "CategoryItem", "CategoryOptions", "CategoryOptionItem")},
                    **{f"disaggregations.{e}": "sex_age" for e in ("set_page", "set_save", "set_delete")},
                    "disaggregations_api.SetItem": "sex_age",
                    **dict.fromkeys(("indicator_admin.indicator_edit", "indicator_admin.indicator_retire",
                                     "indicator_admin.indicator_reactivate", "indicator_admin.indicator_versions",
                                     "indicator_admin.indicator_version", "indicator_api.IndicatorOne",
                                     "indicator_api.IndicatorVersions", "indicator_api.IndicatorVersionOne"), "SA01")}

# Identifiers read from the query string or a body, with malformed values (three variants).
FIELD_BAD = {
    "period": ["2025Q9", "abc", None], "fy": ["2025Q3", "abc", "20x5July"],
    "fiscal_year": ["2025Q3", "abc", "20x5July"], "programme": ["NOPE", "2025Q3", "NOPE"],
    "scope": ["NOPE", "2025Q3", "NOPE"], "org_unit": ["999", "xx", "KE-99"],
    "indicator": ["XX99", "999", "NOPE"], "kind": ["nope", "nope", "nope"], "parent": ["999", "xx", "NOPE"],
    "version": ["0", "999999999", "99999999999"], "level": ["9", "-1", "99999999999"],
    "by": ["nope", "period", "nope"], "state": ["nope", "nope", "nope"], "pillar": ["NOPE", "NOPE", "NOPE"],
    "include": ["nope", "nope", "nope"], "type": ["nope", "nope", "nope"],
}
FIELD_VALID = {"period": "2025Q2", "fy": "2024July", "fiscal_year": "2024July", "version": "1"}
SAMPLE = {"version": 1, "narrative": "Sweep.", "values": [], "reason": "Sweep.", "lines": [], "title": "Sweep",
          "working_group": "MERL", "lead_agency": "SPS", "status": "on_track", "percent_complete": 10,
          "spend_to_date": 0, "reasons": ["explanation"], "text": "Sweep.", "indicator": "SA01",
          "kind": "sector", "period": "2025Q2"}
# Plain Flask views: the query-string and form fields they read (flask-smorest ones are introspected).
WEB_FIELDS = {
    "review.queue": ["period", "programme", "org_unit", "pillar", "state"],
    "review.data_quality": ["period"],
    "review.bulk_approve": ["period"],
    "review.bulk_return": ["period"],
    "results.sector": ["period", "programme", "org_unit"],
    "results.indicator": ["period", "programme", "org_unit"],
    "reporting.live_preview": ["kind", "period", "programme", "org_unit"],
    "reporting.generate": ["kind", "period", "programme", "org_unit"],
    "returns.upload": ["programme"],
    "plans.index": ["fiscal_year"],
    "plans.activity_page": ["period"],
    "plans.pmp_page": ["version"],
    "plans.pmp_template": ["version"],
    "catalogue.indicator_list": ["pillar"],
    "returns.programme_template": ["period"],
}
SKIP = {"static", "accounts.logout", "accounts.login"}
VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _build(rule: str, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: quote(values[m.group(2)], safe=""), rule)


def _arguments(app, rule, method):
    """flask-smorest argument schemas of a route's method: [(location, schema)]."""
    view = app.view_functions[rule.endpoint]
    handler = getattr(getattr(view, "view_class", None), method.lower(), None)
    params = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    found = []
    for param in params:
        schema = param["schema"]
        schema = schema() if isinstance(schema, type) else schema
        location = param.get("in") or ("query" if method == "GET" else "json")
        found.append((location, schema))
    return found


def _sample(schema: ma.Schema) -> dict:
    body = {}
    for name, field in schema.fields.items():
        if not field.required:
            continue
        if name in SAMPLE:
            body[name] = SAMPLE[name]
        elif isinstance(field, ma.fields.List):
            body[name] = []
        elif isinstance(field, ma.fields.Integer):
            body[name] = 1
        elif isinstance(field, ma.fields.Boolean):
            body[name] = False
        else:
            body[name] = "x"
    return body


def _field_variants(names: list[str], base: dict) -> list[dict]:
    """The fields with malformed identifiers: all bad at once, then the period kept valid."""
    names = [n for n in names if n in FIELD_BAD]
    if not names:
        return []
    variants = []
    for index in range(3):
        values = dict(base)
        for name in names:
            bad = FIELD_BAD[name][index]
            if bad is None:
                values[name] = FIELD_VALID.get(name, values.get(name))
            else:
                values[name] = bad
        values = {k: v for k, v in values.items() if v is not None}
        variants.append(values)
    return variants


def _requests(app, activity: str):
    """(method, path, request kwargs, the malformed path value or None) for every route."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIP:
            continue
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            valid = dict(VALID, code=CODE_BY_ENDPOINT.get(rule.endpoint, activity))
            arguments = _arguments(app, rule, method)
            body_kwargs = {}
            for location, schema in arguments:
                if location == "json":
                    body_kwargs["json"] = _sample(schema)
                elif location == "files":
                    body_kwargs["upload"] = True
            # One URL variable at a time malformed, the others valid.
            for name in rule.arguments:
                if name not in rule._converters:  # a rule's default (e.g. a .json/.csv suffix), not in the URL
                    continue
                is_id = isinstance(rule._converters[name], IntegerConverter)
                bad_values = BAD_IDS if is_id else BAD[name]
                for bad in bad_values:
                    yield method, _build(rule.rule, {**valid, name: bad}), dict(body_kwargs), bad
            # Identifiers in the query string or the body, the URL valid.
            path = _build(rule.rule, valid)
            for location, schema in arguments:
                base = _sample(schema) if location == "json" else {}
                for values in _field_variants(list(schema.fields), base):
                    if location == "query":
                        yield method, path, dict(body_kwargs, query_string=values), None
                    elif location == "json":
                        yield method, path, dict(body_kwargs, json=values), None
            if not arguments and rule.endpoint in WEB_FIELDS:
                for values in _field_variants(WEB_FIELDS[rule.endpoint], {}):
                    key = "query_string" if method == "GET" else "data"
                    yield method, path, {key: values}, None


@pytest.mark.slow  # every route, for every role
@pytest.mark.parametrize("role", list(ROLES))
def test_no_route_answers_a_malformed_identifier_with_500(app, client, session, role):
    email = ROLES[role]
    headers = {}
    token = None
    if email:
        assert login(client, email).status_code == 302
        token = csrf_token(client, "/")
        headers = {"Authorization": f"Bearer {create_token(session, email, name='sweep').token}"}
    activity = session.scalar(select(Activity.code).order_by(Activity.code).limit(1))
    failures, count = [], 0
    for method, path, kwargs, bad in _requests(app, activity):
        if kwargs.pop("upload", False):
            kwargs["data"] = {"file": (io.BytesIO(b"indicator,option,org_unit,period,value\n"
                                                  b"SA01,default,042,2025Q9,1\n"), "sweep.csv")}
        if path.startswith("/api/"):
            kwargs["headers"] = headers
        elif method != "GET" and token:
            kwargs["data"] = {"csrf_token": token, **kwargs.get("data", {})}
            kwargs.pop("json", None)
        response = client.open(path, method=method, **kwargs)
        count += 1
        where = f"{method} {path} {kwargs.get('query_string') or kwargs.get('json') or ''}"
        if response.status_code >= 500:
            failures.append(f"{where} -> {response.status_code}")
        elif response.status_code == 422 and bad and bad not in response.get_data(as_text=True):
            failures.append(f"{where} -> 422 without naming {bad!r}")
    assert count > 300
    assert not failures, f"{len(failures)} of {count} requests failed:\n" + "\n".join(failures)


@pytest.fixture
def reviewer_token(session):
    return {"Authorization": f"Bearer {create_token(session, 'reviewer@demo.test').token}"}


@pytest.mark.parametrize("method, suffix", [("post", "/approve"), ("get", "/queries"), ("post", "/reopen"),
                                            ("get", "")])
@pytest.mark.parametrize("bad", ["2025Q9", "abc", "2025July"])
def test_a_malformed_period_in_a_return_address_is_a_located_422(client, reviewer_token, method, suffix, bad):
    response = getattr(client, method)(f"/api/v1/returns/OPCT/042/{bad}{suffix}", headers=reviewer_token,
                                       json={"reason": "x"} if suffix == "/reopen" else None)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["error"] == "validation_failed" and bad in response.json["message"]
    assert response.json["details"][0]["location"] == {"field": "period", "value": bad}


def test_the_review_page_answers_a_malformed_period_with_422(as_user):
    client = as_user("reviewer@demo.test")
    response = client.get("/review/OPCT/042/2025Q9")
    assert response.status_code == 422
    assert "2025Q9" in response.get_data(as_text=True) and "quarter must be 1–4" in response.get_data(as_text=True)
    assert client.get("/review/?period=2025Q9").status_code == 422
    assert client.get("/review/NOPE/042/2025Q2").status_code == 404
    assert client.get("/review/OPCT/999/2025Q2").status_code == 404


@pytest.mark.parametrize("run_id", ["0", "-1", "99999999999"])
def test_an_id_no_key_can_hold_is_not_found(client, reviewer_token, run_id):
    response = client.get(f"/api/v1/reports/{run_id}", headers=reviewer_token)
    assert response.status_code == 404 and response.is_json


def test_an_unexpected_error_under_the_api_is_a_json_500(client, reviewer_token, monkeypatch):
    from mel.review import queries

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "review_queue", broken)
    response = client.get("/api/v1/review-queue?period=2025Q2", headers=reviewer_token)
    assert response.status_code == 500 and response.is_json
    assert response.json["error"] == "internal_error" and "boom" not in response.json["message"]
    assert response.json["request_id"] == response.headers["X-Request-ID"]


def test_an_unexpected_error_on_a_page_gives_the_help_desk_a_reference(client, session, monkeypatch):
    from mel.review import queries
    from tests.helpers import login

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    login(client, "reviewer@demo.test")
    monkeypatch.setattr(queries, "review_queue", broken)
    response = client.get("/review/?period=2025Q2", headers={"X-Request-ID": "desk-ref-1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "boom" not in page
    assert "Reference for the help desk: <code>desk-ref-1</code>" in page
