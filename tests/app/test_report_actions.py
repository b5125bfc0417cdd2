"""Recommendations and actions: kept in the database with an API and a web list, read within the
reader's scope, written by the secretariat, and carried from one quarter's report to the next."""

from __future__ import annotations

import io
import re

import pdfplumber
import pytest
from sqlalchemy import inspect, select

from mel.accounts.operations import create_token
from mel.app import create_app
from mel.db import db
from mel.reporting import queries
from mel.reporting.actions import ReportAction
from mel.reporting.models import ReportRun
from tests.helpers import csrf_token, fresh_database_url


def headers(session, email: str) -> dict:
    return {"Authorization": f"Bearer {create_token(session, email, name='tests').token}"}


def add(client, auth, **fields):
    body = {"text": "Publish the payment calendar", "owner": "SDSPSCA", "due": "2025Q3", "raised_period": "2025Q2",
            **fields}
    return client.post("/api/v1/actions", json=body, headers=auth)


@pytest.fixture
def scoped(client, session):
    """Actions of five scopes, each with a marker text."""
    auth = headers(session, "secretariat@demo.test")
    made = {}
    for name, scope, code in (("sector", "sector", "KE"), ("kisumu", "county", "Kisumu"), ("mombasa", "county", "001"),
                              ("opct", "programme", "OPCT"), ("hsnp", "programme", "hsnp")):
        response = add(client, auth, text=f"ACT-{name} follow up", scope=scope, scope_code=code)
        assert response.status_code == 201, response.get_json()
        made[name] = response.get_json()
    return made


def test_the_secretariat_records_and_updates_actions(client, session, scoped):
    auth = headers(session, "secretariat@demo.test")
    kisumu = scoped["kisumu"]
    assert (kisumu["scope"], kisumu["scope_code"], kisumu["status"], kisumu["due_label"]) == (
        "county", "042", "open", "FY2025/26 Q1 (Jul–Sep 2025)")
    assert scoped["hsnp"]["scope_code"] == "HSNP"
    changed = client.patch(f"/api/v1/actions/{kisumu['id']}", json={"status": "in_progress", "owner": "Kisumu CSPO"},
                           headers=auth)
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["status"], body["status_label"], body["owner"], body["updated_by"]) == (
        "in_progress", "In progress", "Kisumu CSPO", "secretariat@demo.test")
    done = client.patch(f"/api/v1/actions/{kisumu['id']}", json={"status": "done"}, headers=auth).get_json()
    assert done["status"] == "done"
    listed = client.get("/api/v1/actions?status=done", headers=auth).get_json()
    assert [a["id"] for a in listed] == [kisumu["id"]]
    county = client.get("/api/v1/actions?scope=county&scope_code=Kisumu", headers=auth).get_json()
    assert [a["id"] for a in county] == [kisumu["id"]]
    overdue = client.get("/api/v1/actions?overdue_at=2025Q3", headers=auth).get_json()
    assert kisumu["id"] not in [a["id"] for a in overdue] and scoped["sector"]["id"] in [a["id"] for a in overdue]
    assert client.get("/api/v1/actions?overdue_at=2025Q2", headers=auth).get_json() == []


@pytest.mark.parametrize("fields, field", [
    ({"text": ""}, "text"),
    ({"text": None}, "text"),
    ({"status": "finished"}, "status"),
    ({"scope": "ward"}, "scope"),
    ({"scope": "county", "scope_code": "999"}, "scope_code"),
    ({"scope": "programme", "scope_code": "NOPE"}, "scope_code"),
    ({"due": "2025Q5"}, "due"),
    ({"due": "2025July"}, "due"),
    ({"raised_period": None}, "raised_period"),
    ({"owner": "x" * 201}, "owner"),
    ({"priority": "high"}, "priority"),
])
def test_a_malformed_action_is_refused_with_its_field(client, session, fields, field):
    response = add(client, headers(session, "secretariat@demo.test"), **fields)
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert field in response.get_data(as_text=True)


@pytest.mark.parametrize("change, field", [({"status": "closed"}, "status"), ({"due": "Q3"}, "due"),
                                           ({"text": ""}, "text"), ({"raised_run_id": 5}, "raised_run_id")])
def test_a_malformed_update_is_refused_with_its_field(client, session, scoped, change, field):
    action = scoped["sector"]
    response = client.patch(f"/api/v1/actions/{action['id']}", json=change,
                            headers=headers(session, "secretariat@demo.test"))
    assert response.status_code in (400, 422) and field in response.get_data(as_text=True)
    assert session.get(ReportAction, action["id"]).status == "open"


def test_others_read_what_their_scope_allows_and_write_nothing(client, session, scoped):
    everything = {a["text"] for a in scoped.values()}
    for email, sees in (("reviewer@demo.test", everything), ("viewer@demo.test", everything),
                        ("officer.kisumu@demo.test", {"ACT-sector follow up", "ACT-kisumu follow up",
                                                      "ACT-opct follow up"})):
        auth = headers(session, email)
        assert {a["text"] for a in client.get("/api/v1/actions", headers=auth).get_json()} == sees, email
        for name, action in scoped.items():
            one = client.get(f"/api/v1/actions/{action['id']}", headers=auth)
            assert one.status_code == (200 if action["text"] in sees else 404), (email, name)
        assert add(client, auth).status_code == 403
        patch = client.patch(f"/api/v1/actions/{scoped['sector']['id']}", json={"status": "done"}, headers=auth)
        assert patch.status_code == 403
    hidden = client.patch(f"/api/v1/actions/{scoped['hsnp']['id']}", json={"status": "done"},
                          headers=headers(session, "officer.kisumu@demo.test"))
    assert hidden.status_code == 404
    assert client.get("/api/v1/actions/999999", headers=headers(session, "reviewer@demo.test")).status_code == 404


def test_the_web_list_adds_and_updates_actions_for_the_secretariat_only(client, session, as_user, scoped):
    as_user("officer.kisumu@demo.test")
    page = client.get("/reports/actions").get_data(as_text=True)
    assert "ACT-kisumu" in page and "ACT-opct" in page and "ACT-mombasa" not in page and "ACT-hsnp" not in page
    assert "Add an action" not in page
    refused = client.post(f"/reports/actions/{scoped['kisumu']['id']}",
                          data={"csrf_token": csrf_token(client, "/reports/actions"), "status": "done"})
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    as_user("secretariat@demo.test")
    token = csrf_token(client, "/reports/actions")
    created = client.post("/reports/actions", data={"csrf_token": token, "text": "WEB-ACT train county officers",
                                                    "owner": "MERL TWG", "raised_period": "2025Q2", "due": "2025Q4",
                                                    "scope": "county", "county": "042"})
    assert created.status_code == 302
    action = session.scalar(select(ReportAction).where(ReportAction.text == "WEB-ACT train county officers"))
    assert (action.scope, action.scope_code, action.due_period) == ("county", "042", "2025Q4")
    updated = client.post(f"/reports/actions/{action.id}", data={"csrf_token": token, "status": "dropped"})
    assert updated.status_code == 302
    assert session.get(ReportAction, action.id).status == "dropped"
    bad = client.post("/reports/actions", data={"csrf_token": token, "text": "x", "raised_period": "soon"})
    assert bad.status_code == 422 and "raised_period" in bad.get_data(as_text=True)
    bad_status = client.post(f"/reports/actions/{action.id}", data={"csrf_token": token, "status": "gone"})
    assert bad_status.status_code == 422 and "status" in bad_status.get_data(as_text=True)
    listing = client.get("/reports/actions?status=dropped&scope=county").get_data(as_text=True)
    assert "WEB-ACT" in listing and "ACT-kisumu" not in listing


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in document.pages))


@pytest.mark.slow  # renders three county profiles
def test_recommendations_are_carried_to_the_next_quarters_report(client, session):
    auth = headers(session, "secretariat@demo.test")
    first = client.post("/api/v1/reports", json={"kind": "county", "period": "2025Q1", "org_unit": "042"},
                        headers=auth).get_json()
    assert first["state"] == "done"
    recommendations = [{"text": f"CARRY-{n} recommendation", "owner": "Kisumu CSPO", "due": "2025Q2"}
                       for n in range(1, 6)]
    saved = client.put(f"/api/v1/reports/{first['id']}/commentary", json={"recommendations": recommendations},
                       headers=auth)
    assert saved.status_code == 200
    assert client.post(f"/api/v1/reports/{first['id']}/publish", headers=auth).status_code == 202
    raised = client.get("/api/v1/actions?scope=county&scope_code=042&period=2025Q1", headers=auth).get_json()
    assert sorted(a["text"] for a in raised) == [r["text"] for r in recommendations]
    assert {a["raised_run_id"] for a in raised} == {first["id"]}
    by_text = {a["text"]: a for a in raised}
    for n in (1, 2, 3):
        client.patch(f"/api/v1/actions/{by_text[f'CARRY-{n} recommendation']['id']}", json={"status": "done"},
                     headers=auth)
    client.patch(f"/api/v1/actions/{by_text['CARRY-5 recommendation']['id']}", json={"status": "in_progress"},
                 headers=auth)

    second = client.post("/api/v1/reports", json={"kind": "county", "period": "2025Q2", "org_unit": "042"},
                         headers=auth).get_json()
    text = _text(queries.pdf_bytes(session.get(ReportRun, second["id"])))
    assert "3 of 5 actions from earlier reports done; 2 overdue." in text
    assert "CARRY-4 recommendation" in text and "CARRY-5 recommendation" in text and "(overdue)" in text
    assert "CARRY-1 recommendation" not in text  # done: counted, not listed
    # Another county's profile and the quarter that raised them carry none of them.
    other = client.post("/api/v1/reports", json={"kind": "county", "period": "2025Q2", "org_unit": "001"},
                        headers=auth).get_json()
    assert "CARRY-" not in _text(queries.pdf_bytes(session.get(ReportRun, other["id"])))


def test_migration_0017_upgrades_and_downgrades(tmp_path_factory):
    from alembic import command

    from mel.migrate import alembic_config, upgrade

    url = fresh_database_url(tmp_path_factory, "m0017")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("m17")))
    with app.app_context():
        engine = db.engine
        upgrade(engine, "0017")
        assert "report_action" in inspect(engine).get_table_names()
        checks = {c["name"] for c in inspect(engine).get_check_constraints("report_action")}
        assert {"ck_report_action_status_known", "ck_report_action_scope_known"} <= checks
        command.downgrade(alembic_config(engine), "0016")
        assert "report_action" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert "report_action" in inspect(engine).get_table_names()
        engine.dispose()
