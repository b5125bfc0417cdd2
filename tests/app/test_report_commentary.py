"""The story of a report: key messages naming every off-track indicator the results API reports, the
secretariat's commentary typed in a draft, stored with its figures (a new checksum) and printed in the
published PDF; a published report refuses changes; malformed commentary is refused by field."""

from __future__ import annotations

import gzip
import io
import json
import re
from datetime import UTC, datetime

import pdfplumber
import pytest
from sqlalchemy import select

from mel.accounts.operations import create_token
from mel.catalogue.lookup import load_catalogue
from mel.reporting import operations, queries
from mel.reporting.actions import ReportAction
from mel.reporting.models import ReportRun
from mel.reporting.snapshot import gather
from reports.model import build
from reports.render import render_pdf
from tests.helpers import csrf_token

pytestmark = pytest.mark.slow  # WeasyPrint lays out the reports

PERIOD = "2025Q2"


def page_texts(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


def flat(text: str) -> str:
    """PDF text with its line breaks and hyphen-less wraps joined, for phrase checks."""
    return re.sub(r"\s+", " ", text)


def headers(session, email: str) -> dict:
    return {"Authorization": f"Bearer {create_token(session, email, name='tests').token}"}


def _key_message_page(pdf: bytes) -> str:
    pages = [t for t in page_texts(pdf) if "Key messages" in t and "•" in t]
    assert pages, "no key messages page"
    return flat(pages[0])


@pytest.mark.parametrize("kind, programme", [("sector", "ALL"), ("programme", "HSNP"), ("programme", "OPCT")])
def test_key_messages_name_every_off_track_indicator_the_results_api_reports(client, session, kind, programme):
    auth = headers(session, "reviewer@demo.test")
    snapshot = gather(session, load_catalogue(session), kind=kind, period=PERIOD, programme=programme,
                      generated_at=datetime(2025, 8, 20, tzinfo=UTC))
    report = build(snapshot, is_draft=True, reference="test")
    report.counties = []  # the county annex is the same as ever; the story is up front
    text = _key_message_page(render_pdf(report).pdf)
    query = f"/api/v1/results?period={PERIOD}&org_unit=KE&programme={programme}"
    if kind == "programme":
        query += "&indicator=" + ",".join(snapshot["carried"])
    rows = client.get(query, headers=auth).get_json()
    named = {status: [r for r in rows if r["status"] == status] for status in ("off_track", "needs_attention")}
    assert named["off_track"] or named["needs_attention"] or "No indicator is off track" in text
    for status, found in named.items():
        for row in found:
            name = snapshot["indicators"][row["indicator"]]["short_name"]
            assert name in text, f"{status} {row['indicator']} ({name}) is not in the key messages: {text[:600]}"
    if named["off_track"]:
        count = len(named["off_track"])
        assert f"{count} indicator{' is' if count == 1 else 's are'} off track:" in text
    else:
        assert "No indicator is off track" in text


def _latest(session) -> ReportRun:
    return session.scalars(select(ReportRun).order_by(ReportRun.id.desc())).first()


COMMENTARY = {
    "key_messages": ["Kisumu paid 4 in 5 older persons on time (KMSG-1).", "Enrolment lagged its target (KMSG-2)."],
    "pillars": {"social_assistance": "Payments were regular; the PARA-SA paragraph explains why enrolment slowed."},
    "variance": {"SA02": "VAR-SA02: the enrolment drive moved to the next quarter."},
    "recommendations": [{"text": "Run the REC-1 enrolment drive in every sub-county", "owner": "SDSPSCA",
                         "due": "2025Q4"}],
}


def test_commentary_typed_in_the_draft_is_printed_in_the_published_pdf(client, session, as_user):
    as_user("secretariat@demo.test")
    token = csrf_token(client, "/reports/")
    assert client.post("/reports/", data={"csrf_token": token, "kind": "county", "period": PERIOD,
                                          "org_unit": "042"}).status_code == 302
    run = _latest(session)
    assert run.state == "done"
    auth = headers(session, "secretariat@demo.test")
    before = client.get(f"/api/v1/reports/{run.id}/commentary", headers=auth).get_json()
    assert before["is_saved"] is False and before["generated"] and before["key_messages"] == before["generated"]
    draft_text = flat(" ".join(page_texts(queries.pdf_bytes(run))))
    assert all(m in draft_text for m in before["generated"][:2]), "the generated messages are in the draft"
    old_checksum, old_pdf = run.snapshot_sha256, run.sha256

    saved = client.put(f"/api/v1/reports/{run.id}/commentary", json=COMMENTARY, headers=auth)
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    session.refresh(run)
    assert body["is_saved"] and body["state"] == "done" and run.state == "done"
    assert run.snapshot_sha256 != old_checksum and run.sha256 != old_pdf
    stored = json.loads(gzip.decompress(run.snapshot))
    assert stored["commentary"]["key_messages"] == COMMENTARY["key_messages"]
    assert body["snapshot_sha256"] == run.snapshot_sha256
    preview = client.get(f"/reports/runs/{run.id}/preview").get_data(as_text=True)
    assert "KMSG-1" in preview and "PARA-SA" in preview and "VAR-SA02" in preview and "REC-1" in preview

    published = client.post(f"/api/v1/reports/{run.id}/publish", headers=auth)
    assert published.status_code == 202 and published.get_json()["publish_state"] == "done"  # inline in tests
    session.refresh(run)
    assert run.snapshot_sha256 == body["snapshot_sha256"]  # publishing prints the same data
    pages = page_texts(queries.pdf_bytes(run))
    text = flat(" ".join(pages))
    first = next(n for n, t in enumerate(pages) if "Key messages" in t and "KMSG-1" in t)
    assert first <= 2, "key messages come right after the cover and contents"
    for marker in ("KMSG-1", "KMSG-2", "PARA-SA", "VAR-SA02", "REC-1", "SDSPSCA"):
        assert marker in text, marker
    assert "Generated from the figures" not in text and "DRAFT" not in text

    # The recommendation is now an open action of Kisumu's county scope.
    action = session.scalar(select(ReportAction).where(ReportAction.raised_run_id == run.id))
    assert (action.status, action.scope, action.scope_code, action.due_period, action.raised_period) == (
        "open", "county", "042", "2025Q4", PERIOD)

    again = client.put(f"/api/v1/reports/{run.id}/commentary", json=COMMENTARY, headers=auth)
    assert again.status_code == 409 and "published" in again.get_json()["message"]
    web = client.post(f"/reports/runs/{run.id}/commentary", data={"csrf_token": csrf_token(client, "/reports/"),
                                                                  "key_messages": "Changed."})
    assert web.status_code == 409
    page = client.get(f"/reports/runs/{run.id}").get_data(as_text=True)
    assert 'id="commentary"' not in page


def test_the_run_page_form_saves_commentary_and_keeps_what_was_typed_when_refused(client, session, as_user):
    as_user("secretariat@demo.test")
    token = csrf_token(client, "/reports/")
    client.post("/reports/", data={"csrf_token": token, "kind": "factsheet", "period": PERIOD})
    run = _latest(session)
    page = client.get(f"/reports/runs/{run.id}").get_data(as_text=True)
    assert 'id="commentary"' in page and "generated from the figures" in page
    form = {"csrf_token": csrf_token(client, f"/reports/runs/{run.id}"),
            "key_messages": "FORM-MSG one\n\nFORM-MSG two", "pillar_social_assistance": "FORM-PARA", "variance_SA02": "",
            "rec_text_1": "FORM-REC", "rec_owner_1": "MERL TWG", "rec_due_1": "2025Q9"}
    refused = client.post(f"/reports/runs/{run.id}/commentary", data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "recommendations[1].due" in text and "FORM-PARA" in text
    old = run.snapshot_sha256
    form["rec_due_1"] = "2025Q3"
    saved = client.post(f"/reports/runs/{run.id}/commentary", data=form)
    assert saved.status_code == 302
    session.refresh(run)
    assert run.snapshot_sha256 != old and run.state == "done"
    text = flat(" ".join(page_texts(queries.pdf_bytes(run))))
    assert "FORM-MSG one" in text and "FORM-MSG two" in text
    page = client.get(f"/reports/runs/{run.id}").get_data(as_text=True)
    assert "FORM-MSG one\nFORM-MSG two" in page and "as saved" in page and "FORM-REC" in page

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    as_user("reviewer@demo.test")
    page = client.get(f"/reports/runs/{run.id}").get_data(as_text=True)
    assert 'id="commentary"' not in page
    refused = client.post(f"/reports/runs/{run.id}/commentary",
                          data={"csrf_token": csrf_token(client, "/reports/"), "key_messages": "Mine."})
    assert refused.status_code == 403


@pytest.fixture
def stored_draft(session):
    """A finished draft with its figures stored (no PDF needed: malformed commentary never renders)."""
    run = operations.request_report(session, kind="county", period=PERIOD, org_unit="042")
    snapshot = gather(session, load_catalogue(session), kind="county", period=PERIOD, org_unit="042",
                      generated_at=datetime(2025, 8, 20, tzinfo=UTC))
    operations._store_snapshot(run, snapshot)
    run.state = "done"
    session.flush()
    return run


@pytest.mark.parametrize("payload, field", [
    ({"key_messages": "one message"}, "key_messages"),
    ({"key_messages": [1, 2]}, "key_messages"),
    ({"key_messages": ["x" * 1001]}, "key_messages[1]"),
    ({"pillars": {"XX": "Nothing."}}, "pillars.XX"),
    ({"pillars": ["SA"]}, "pillars"),
    ({"variance": {"ZZ99": "A note."}}, "variance.ZZ99"),
    ({"variance": {"SA02": 5}}, "variance"),
    ({"recommendations": [{"owner": "SPS"}]}, "text"),
    ({"recommendations": [{"text": "Do it", "due": "2025Q9"}]}, "due"),
    ({"recommendations": [{"text": "Do it", "due": "2025"}]}, "due"),
    ({"recommendations": "do it"}, "recommendations"),
    ({"recommendations": [{"text": "Do it"}] * 21}, "recommendations"),
    ({"colour": "red"}, "colour"),
])
def test_malformed_commentary_is_refused_with_its_field(client, session, stored_draft, payload, field):
    before = stored_draft.snapshot_sha256
    response = client.put(f"/api/v1/reports/{stored_draft.id}/commentary", json=payload,
                          headers=headers(session, "secretariat@demo.test"))
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert field in json.dumps(response.get_json()), response.get_json()
    session.refresh(stored_draft)
    assert stored_draft.snapshot_sha256 == before and stored_draft.state == "done"


def test_commentary_is_the_secretariats_and_only_on_a_finished_draft(client, session, stored_draft):
    path = f"/api/v1/reports/{stored_draft.id}/commentary"
    assert client.put(path, json=COMMENTARY, headers=headers(session, "reviewer@demo.test")).status_code == 403
    assert client.get(path, headers=headers(session, "viewer@demo.test")).status_code == 404
    assert client.get(path, headers=headers(session, "reviewer@demo.test")).get_json()["generated"]
    stored_draft.state = "running"
    session.flush()
    busy = client.put(path, json=COMMENTARY, headers=headers(session, "secretariat@demo.test"))
    assert busy.status_code == 409 and "running" in busy.get_json()["message"]
    not_json = client.put(path, data="{", headers={**headers(session, "secretariat@demo.test"),
                                                   "Content-Type": "application/json"})
    assert not_json.status_code in (400, 422)
