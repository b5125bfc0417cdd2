"""The evidence register and the learning agenda: items with a link or an uploaded PDF (size-limited,
type-checked, kept once by SHA-256), their findings on the indicator page and in the next sector report,
withdrawal with a reason, learning questions, and the audit of every change."""

from __future__ import annotations

import hashlib
import io
import re

import pdfplumber
import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from mel.accounts.models import AuditEvent
from mel.accounts.operations import create_token
from mel.learning.models import EvidenceFile, EvidenceItem, LearningQuestion
from mel.reporting import queries as report_queries
from mel.reporting.models import ReportRun
from tests.app.test_i18n import visible_text
from tests.helpers import csrf_token, login

KEEPER = "reviewer@demo.test"


def pdf_bytes(pages: int = 2, padding: int = 0, marker: str = "") -> bytes:
    """A real PDF of `pages` blank pages; `padding` bytes of attachment make it as large as a test needs."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if padding:
        writer.add_attachment("padding.bin", bytes(range(256)) * (padding // 256 + 1))
    if marker:
        writer.add_metadata({"/Title": marker})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def headers(session, email: str) -> dict:
    return {"Authorization": f"Bearer {create_token(session, email, name='learning tests').token}"}


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(EvidenceItem)),
            session.scalar(select(func.count()).select_from(EvidenceFile)))


def form(client, **fields) -> dict:
    """The add form's fields (CSRF token included), with `fields` over the defaults."""
    data = {"csrf_token": csrf_token(client, "/learning/evidence/new"), "kind": "evaluation",
            "title": "Payment timeliness review (test)", "authors": "Test team", "agency": "SDSPSCA",
            "published_on": "2025-05-02", "link": "", "key_findings": "Findings.", "key_findings_sw": ""}
    data.update(fields)
    return data


def pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in document.pages))


def logout(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def audit_actions(session, obj: str) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.object == obj).order_by(AuditEvent.id)))


# --------------------------------------------------------------------------- the check


@pytest.mark.slow  # renders the sector report
def test_an_evidence_item_linked_to_an_indicator_shows_on_its_page_and_in_the_next_sector_report(client, session):
    login(client, KEEPER)
    findings = ("EVIDMARK payments after the enrolment wave were late in arid counties.\n\n"
                "A caregiver for every beneficiary over 80 raised withdrawals.")
    sent = client.post("/learning/evidence/new", data={
        **form(client, title="OPCT payment process evaluation EVIDTITLE", key_findings=findings),
        "indicators": ["SA11"], "nodes": ["O1.1"], "file": (io.BytesIO(pdf_bytes(3)), "opct-evaluation.pdf")},
        content_type="multipart/form-data")
    assert sent.status_code == 302, visible_text(sent.get_data(as_text=True))[:600]
    item = session.scalar(select(EvidenceItem).where(EvidenceItem.title.contains("EVIDTITLE")))
    assert item.file_name == "opct-evaluation.pdf"

    sheet = client.get("/indicators/SA11").get_data(as_text=True)
    block = sheet[sheet.index('id="evidence"'):]
    assert "What the evidence says" in block and "EVIDTITLE" in block and "EVIDMARK payments" in block
    assert f'href="/learning/evidence/{item.id}"' in block
    assert "EVIDTITLE" not in client.get("/indicators/SA01").get_data(as_text=True)

    logout(client)
    auth = headers(session, "secretariat@demo.test")
    run = client.post("/api/v1/reports", json={"kind": "sector", "period": "2025Q2"}, headers=auth).get_json()
    assert run["state"] == "done", run
    text = pdf_text(report_queries.pdf_bytes(session.get(ReportRun, run["id"])))
    social_assistance = text[text.index("Indicator performance tracking table: social assistance"):]
    evidence = social_assistance[social_assistance.index("What the evidence says"):]
    assert "OPCT payment process evaluation EVIDTITLE" in evidence
    assert "(Evaluation, SDSPSCA, 2025; Test team)" in evidence
    assert "EVIDMARK payments after the enrolment wave were late in arid counties." in evidence
    assert "A caregiver for every beneficiary over 80 raised withdrawals." in evidence
    # Only the pillar of its indicator and node says it: the other pillars' sections do not.
    assert text.count("EVIDTITLE") == 1
    # The contents list the block under its pillar, with the page it is on.
    contents = text[text.index("Contents"):text.index("Executive summary", text.index("Contents") + 200)]
    listed = re.search(r"Social assistance\.+\s*(\d+)\s*What the evidence says\.+\s*(\d+)\s*Social security", contents)
    assert listed and int(listed[1]) <= int(listed[2]), contents[:1500]
    assert contents.count("What the evidence says") == 1


def test_withdrawn_evidence_leaves_the_indicator_page_and_the_report_but_stays_in_the_register(client, session):
    from mel.catalogue.lookup import load_catalogue
    from mel.reporting.snapshot import gather

    login(client, KEEPER)
    auth = headers(session, KEEPER)
    item = client.post("/api/v1/evidence", json={"kind": "study", "title": "WDMARK study", "indicators": ["SA02"],
                                                 "key_findings": "WDMARK findings."}, headers=auth).get_json()
    assert "WDMARK study" in client.get("/indicators/SA02").get_data(as_text=True)
    from datetime import UTC, datetime

    snapshot = gather(session, load_catalogue(session), kind="sector", period="2025Q2",
                      generated_at=datetime(2025, 8, 20, tzinfo=UTC))
    assert [e["title"] for e in snapshot["evidence"]["social_assistance"]] == ["WDMARK study"]

    token = csrf_token(client, f"/learning/evidence/{item['id']}")
    refused = client.post(f"/learning/evidence/{item['id']}/withdraw", data={"csrf_token": token, "reason": "  "})
    assert refused.status_code == 422 and "reason: say why" in refused.get_data(as_text=True)
    assert session.get(EvidenceItem, item["id"]).withdrawn_at is None
    done = client.post(f"/learning/evidence/{item['id']}/withdraw",
                       data={"csrf_token": token, "reason": "Superseded by the endline evaluation."})
    assert done.status_code == 302
    kept = session.get(EvidenceItem, item["id"])
    assert kept.withdrawn_at is not None and kept.withdrawn_reason == "Superseded by the endline evaluation."
    assert "WDMARK" not in client.get("/indicators/SA02").get_data(as_text=True)
    assert "WDMARK" not in client.get("/learning/evidence").get_data(as_text=True)
    shown = client.get("/learning/evidence?withdrawn=1").get_data(as_text=True)
    assert "WDMARK study" in shown and "Withdrawn" in shown
    page = visible_text(client.get(f"/learning/evidence/{item['id']}").get_data(as_text=True))
    assert "Superseded by the endline evaluation." in page and "Withdrawn on" in page
    snapshot = gather(session, load_catalogue(session), kind="sector", period="2025Q2",
                      generated_at=datetime(2025, 8, 20, tzinfo=UTC))
    assert "evidence" not in snapshot  # nothing linked: the snapshot (and the report) as before the register
    again = client.post(f"/api/v1/evidence/{item['id']}/withdraw", json={"reason": "Again."}, headers=auth)
    assert again.status_code == 200 and again.get_json()["withdrawn_reason"] == "Superseded by the endline evaluation."
    changed = client.patch(f"/api/v1/evidence/{item['id']}", json={"title": "New title"}, headers=auth)
    assert changed.status_code == 409 and "withdrawn" in changed.get_json()["message"]
    assert audit_actions(session, f"evidence {item['id']}") == ["evidence.created", "evidence.withdrawn"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.withdrawn",
                                                    AuditEvent.object == f"evidence {item['id']}"))
    assert event.details["reason"] == "Superseded by the endline evaluation." and event.actor == KEEPER


# --------------------------------------------------------------------------- uploads


def test_a_pdf_is_kept_once_and_downloaded_as_it_was_sent(client, session):
    auth = headers(session, KEEPER)
    content = pdf_bytes(4, marker="DOWNLOADMARK")
    ids = []
    for title in ("First citing item", "Second citing item"):
        made = client.post("/api/v1/evidence", json={"kind": "policy_brief", "title": title}, headers=auth).get_json()
        sent = client.put(f"/api/v1/evidence/{made['id']}/file", data={"file": (io.BytesIO(content), "brief ñ.pdf")},
                          headers=auth, content_type="multipart/form-data")
        assert sent.status_code == 200, sent.get_json()
        body = sent.get_json()
        assert body["file"]["pages"] == 4 and body["file"]["size"] == len(content)
        assert body["file"]["sha256"] == hashlib.sha256(content).hexdigest()
        ids.append(made["id"])
    digest = hashlib.sha256(content).hexdigest()
    assert session.scalar(select(func.count()).select_from(EvidenceFile).where(EvidenceFile.sha256 == digest)) == 1
    assert session.get(EvidenceItem, ids[0]).file_id == session.get(EvidenceItem, ids[1]).file_id

    for path in (f"/api/v1/evidence/{ids[0]}/file",):
        got = client.get(path, headers=auth)
        assert got.status_code == 200 and got.data == content
        assert got.headers["Content-Type"] == "application/pdf"
        assert got.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''brief%20%C3%B1.pdf" in got.headers["Content-Disposition"]
        assert got.headers["X-Content-SHA256"] == digest
    login(client, "viewer@demo.test")  # everyone signed in reads the register and its files
    web = client.get(f"/learning/evidence/{ids[1]}/file")
    assert web.status_code == 200 and web.data == content and web.mimetype == "application/pdf"
    page = visible_text(client.get(f"/learning/evidence/{ids[1]}").get_data(as_text=True))
    assert "brief ñ.pdf" in page and "4 pages" in page
    none = client.post("/api/v1/evidence", json={"kind": "study", "title": "No file"}, headers=auth).get_json()
    assert client.get(f"/api/v1/evidence/{none['id']}/file", headers=auth).status_code == 404
    assert client.get(f"/learning/evidence/{none['id']}/file").status_code == 404


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 400 + b"This program cannot be run in DOS mode."
REFUSED = [
    ("exe", EXE, "setup.pdf", "not a PDF"),
    ("broken", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without xref or trailer\n", "report.pdf",
     "cannot be read"),
    ("truncated", pdf_bytes(2)[:300], "cut.pdf", "cannot be read"),
    ("empty", b"", "empty.pdf", "is empty"),
    ("oversize", pdf_bytes(1, padding=150_000), "big.pdf", "the limit is 0.1 MB (MEL_EVIDENCE_MAX_BYTES)"),
]


@pytest.fixture
def small_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 100_000)


@pytest.mark.parametrize("name, content, filename, words", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_upload_leaves_nothing_stored(client, session, small_limit, name, content, filename, words):
    before = counts(session)
    login(client, KEEPER)
    web = client.post("/learning/evidence/new", data={**form(client, title=f"Refused {name}"), "indicators": ["SA11"],
                                                      "file": (io.BytesIO(content), filename)},
                      content_type="multipart/form-data")
    page = web.get_data(as_text=True)
    assert web.status_code == 422 and words in page and 'id="file-error"' in page, visible_text(page)[:500]
    assert "Refused" in page  # the form keeps what was typed
    assert counts(session) == before
    auth = headers(session, KEEPER)
    made = client.post("/api/v1/evidence", json={"kind": "study", "title": f"API {name}"}, headers=auth).get_json()
    before = counts(session)
    api = client.put(f"/api/v1/evidence/{made['id']}/file", data={"file": (io.BytesIO(content), filename)},
                     headers=auth, content_type="multipart/form-data")
    assert api.status_code == 422 and words in api.get_json()["message"]
    assert api.get_json()["details"][0]["location"] == {"field": "file"}
    assert counts(session) == before and session.get(EvidenceItem, made["id"]).file_id is None


def test_a_body_over_the_bound_is_refused_before_it_is_read(client, session, small_limit):
    before = counts(session)
    login(client, KEEPER)
    big = pdf_bytes(1, padding=1_300_000)  # over the limit and the form's margin
    web = client.post("/learning/evidence/new", data={**form(client), "file": (io.BytesIO(big), "big.pdf")},
                      content_type="multipart/form-data")
    assert web.status_code == 413
    assert "over the 0.1 MB limit of an evidence PDF (MEL_EVIDENCE_MAX_BYTES)" in web.get_data(as_text=True)
    auth = headers(session, KEEPER)
    made = client.post("/api/v1/evidence", json={"kind": "study", "title": "Bound"}, headers=auth).get_json()
    api = client.put(f"/api/v1/evidence/{made['id']}/file", data={"file": (io.BytesIO(big), "big.pdf")},
                     headers=auth, content_type="multipart/form-data")
    assert api.status_code == 413 and api.get_json()["error"] == "too_large"
    assert counts(session) == (before[0] + 1, before[1])


def test_a_pdf_larger_than_the_general_upload_limit_is_kept_up_to_its_own(client, session, app):
    assert app.config["EVIDENCE_MAX_BYTES"] == 20 * 1024 * 1024 > app.config["MAX_CONTENT_LENGTH"]
    content = pdf_bytes(1, padding=12 * 1024 * 1024)
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]
    login(client, KEEPER)
    sent = client.post("/learning/evidence/new", data={**form(client, title="Large annexes"),
                                                       "file": (io.BytesIO(content), "annexes.pdf")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    item = session.scalar(select(EvidenceItem).where(EvidenceItem.title == "Large annexes"))
    assert session.get(EvidenceFile, item.file_id).size == len(content)


# --------------------------------------------------------------------------- fields, links, forms


@pytest.mark.parametrize("fields, field, words", [
    ({"link": "javascript:alert(1)"}, "link", "is not a web address"),
    ({"link": "ftp://files.example.org/report.pdf"}, "link", "is not a web address"),
    ({"link": "https://"}, "link", "is not a web address"),
    ({"title": "   "}, "title", "title: required."),
    ({"kind": "rumour"}, "kind", "one of: evaluation, study, policy_brief, twg_record, other."),
    ({"published_on": "2024-13-01"}, "published_on", "is not a date"),
    ({"indicators": ["SA11", "XX99"]}, "indicators", "indicators: not in the catalogue: XX99."),
    ({"nodes": ["O9"]}, "nodes", "nodes: not nodes of the results framework: O9."),
    ({"questions": ["LQ99"]}, "questions", "questions: not learning questions: LQ99."),
    ({"key_findings": "x" * 8001}, "key_findings", "at most 8,000 characters"),
])
def test_a_bad_field_is_refused_naming_it_and_nothing_changes(client, session, fields, field, words):
    before = counts(session)
    auth = headers(session, KEEPER)
    body = {"kind": "study", "title": "Field test", **fields}
    api = client.post("/api/v1/evidence", json=body, headers=auth)
    assert api.status_code == 422, api.get_json()
    answer = api.get_json()
    assert any(d["location"].get("field") == field for d in answer.get("details", [])), answer
    assert words in api.get_data(as_text=True)
    login(client, KEEPER)
    data = {**form(client), **{k: v for k, v in fields.items()}}
    web = client.post("/learning/evidence/new", data=data)
    assert web.status_code == 422 and f'id="{field}-error"' in web.get_data(as_text=True)
    assert counts(session) == before


def test_a_control_character_is_refused_by_the_form_naming_the_field(client, session):
    before = counts(session)
    login(client, KEEPER)
    web = client.post("/learning/evidence/new", data=form(client, title="Bell\x07 title", agency="Tab\x0bagency"))
    page = web.get_data(as_text=True)
    assert web.status_code == 422 and 'id="title-error"' in page and 'id="agency-error"' in page
    assert "contains a control character" in page and counts(session) == before


def test_a_link_only_item_and_its_changes_are_audited_before_and_after(client, session):
    auth = headers(session, KEEPER)
    made = client.post("/api/v1/evidence", json={
        "kind": "evaluation", "title": "Link only", "link": "https://example.org/evaluation",
        "indicators": ["sa02", "SA11"], "nodes": ["o1.1"], "published_on": "2024-11-15"}, headers=auth)
    assert made.status_code == 201 and made.headers["Location"].endswith(f"/api/v1/evidence/{made.get_json()['id']}")
    body = made.get_json()
    assert (body["indicators"], body["nodes"], body["year"], body["file"]) == (["SA02", "SA11"], ["O1.1"], 2024, None)
    item_id = body["id"]
    changed = client.patch(f"/api/v1/evidence/{item_id}", json={"indicators": ["SA11"], "agency": "SDSPSCA"},
                           headers=auth).get_json()
    assert changed["indicators"] == ["SA11"] and changed["agency"] == "SDSPSCA" and changed["updated_by"] == KEEPER
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.updated",
                                                    AuditEvent.object == f"evidence {item_id}"))
    assert event.details == {"before": {"agency": "", "indicators": ["SA02", "SA11"]},
                             "after": {"agency": "SDSPSCA", "indicators": ["SA11"]}}
    same = client.patch(f"/api/v1/evidence/{item_id}", json={"agency": "SDSPSCA"}, headers=auth)
    assert same.status_code == 200
    assert audit_actions(session, f"evidence {item_id}") == ["evidence.created", "evidence.updated"]
    login(client, KEEPER)
    page = client.get(f"/learning/evidence/{item_id}").get_data(as_text=True)
    assert 'href="https://example.org/evaluation" rel="noopener noreferrer nofollow"' in page


def test_the_edit_form_changes_an_item_and_replaces_its_pdf(client, session):
    login(client, KEEPER)
    first, second = pdf_bytes(1), pdf_bytes(5)
    client.post("/learning/evidence/new", data={**form(client, title="Editable"),
                                                "file": (io.BytesIO(first), "v1.pdf")},
                content_type="multipart/form-data")
    item = session.scalar(select(EvidenceItem).where(EvidenceItem.title == "Editable"))
    page = client.get(f"/learning/evidence/{item.id}/edit").get_data(as_text=True)
    assert 'value="Editable"' in page and "Now: v1.pdf" in page
    token = csrf_token(client, f"/learning/evidence/{item.id}/edit")
    saved = client.post(f"/learning/evidence/{item.id}/edit", data={
        **form(client, title="Edited", kind="study", key_findings_sw="Matokeo."), "csrf_token": token,
        "nodes": ["O1.2"], "file": (io.BytesIO(second), "v2.pdf")}, content_type="multipart/form-data")
    assert saved.status_code == 302
    session.expire_all()
    kept = session.get(EvidenceItem, item.id)
    assert (kept.title, kept.kind, kept.key_findings_sw, kept.file_name) == ("Edited", "study", "Matokeo.", "v2.pdf")
    assert session.get(EvidenceFile, kept.file_id).pages == 5
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.updated",
                                                    AuditEvent.object == f"evidence {item.id}"))
    assert event.details["before"]["file"].startswith("v1.pdf") and event.details["after"]["file"].startswith("v2.pdf")
    assert set(event.details["after"]) == {"title", "kind", "key_findings_sw", "nodes", "file"}


# --------------------------------------------------------------------------- learning questions


def test_learning_questions_are_added_changed_and_show_their_evidence(client, session):
    auth = headers(session, KEEPER)
    made = client.post("/api/v1/learning-questions", json={
        "question": "Does the top-up reach households in drought counties in time?", "nodes": ["O1.3"],
        "why": "Asked by the Shock-responsive SP working group."}, headers=auth)
    assert made.status_code == 201, made.get_json()
    question = made.get_json()
    assert question["code"].startswith("LQ") and question["status"] == "open" and question["nodes"] == ["O1.3"]
    item = client.post("/api/v1/evidence", json={"kind": "policy_brief", "title": "QMARK brief",
                                                 "questions": [question["code"]]}, headers=auth).get_json()
    assert item["questions"] == [question["code"]]
    again = client.get(f"/api/v1/learning-questions/{question['id']}", headers=auth).get_json()
    assert again["evidence"] == [item["id"]]
    changed = client.patch(f"/api/v1/learning-questions/{question['id']}", json={
        "status": "answered", "answer": "Mostly within six weeks."}, headers=auth).get_json()
    assert changed["status"] == "answered"
    listed = client.get("/api/v1/learning-questions?status=answered", headers=auth).get_json()
    assert question["id"] in [q["id"] for q in listed]
    duplicate = client.post("/api/v1/learning-questions", json={"question": "Again?", "code": question["code"]},
                            headers=auth)
    assert duplicate.status_code == 422 and duplicate.get_json()["details"][0]["location"] == {"field": "code"}
    bad = client.post("/api/v1/learning-questions", json={"question": "", "nodes": ["NOPE"]}, headers=auth)
    assert bad.status_code == 422 and {d["location"]["field"] for d in bad.get_json()["details"]} == {"question", "nodes"}
    assert audit_actions(session, f"learning question {question['code']}") == ["question.created", "question.updated"]

    login(client, "officer.opct@demo.test")  # reads the agenda, writes nothing
    page = visible_text(client.get(f"/learning/questions/{question['id']}").get_data(as_text=True))
    assert "Does the top-up reach households" in page and "QMARK brief" in page and "Mostly within six weeks." in page
    assert "Edit" not in page
    listing = visible_text(client.get("/learning/questions").get_data(as_text=True))
    assert question["code"] in listing and "Add a learning question" not in listing

    logout(client)
    login(client, KEEPER)
    token = csrf_token(client, "/learning/questions/new")
    created = client.post("/learning/questions/new", data={"csrf_token": token, "code": "", "question": "Web question?",
                                                           "status": "open", "nodes": ["O4.3"]})
    assert created.status_code == 302
    web = session.scalar(select(LearningQuestion).where(LearningQuestion.question == "Web question?"))
    assert web.code.startswith("LQ")
    assert client.get(f"/api/v1/learning-questions/{web.id}", headers=auth).get_json()["nodes"] == ["O4.3"]
    edited = client.post(f"/learning/questions/{web.id}/edit", data={
        "csrf_token": token, "code": web.code, "question": "Web question, edited?", "status": "retired",
        "nodes": []})
    assert edited.status_code == 302
    answer = client.get(f"/api/v1/learning-questions/{web.id}", headers=auth).get_json()
    assert (answer["status"], answer["nodes"], answer["question"]) == ("retired", [], "Web question, edited?")
    refused = client.post(f"/learning/questions/{web.id}/edit", data={"csrf_token": token, "question": "",
                                                                       "status": "closed"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'id="question-error"' in text and 'id="status-error"' in text


def test_the_demo_adds_its_agenda_and_register_once(session):
    from mel.learning.demo import ITEMS, QUESTIONS, load_learning

    assert load_learning(session) == (len(QUESTIONS), len(ITEMS))
    assert load_learning(session) == (0, 0)
    items = session.scalars(select(EvidenceItem).where(EvidenceItem.title.like("%(demo%"))).all()
    assert len(items) == len(ITEMS) and all(not i.link for i in items)
    assert all("emonstration" in i.key_findings or "Demonstration" in i.key_findings for i in items)


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_the_demo_meeting_record_moves_with_the_calendar_and_the_studies_keep_their_dates(session, shift):
    from mel.learning.demo import ITEMS, load_learning

    load_learning(session, shift=shift)
    for spec in ITEMS:
        item = session.scalar(select(EvidenceItem).where(EvidenceItem.title == spec["title"]))
        moved = shift if spec.get("with_calendar") else 0
        assert item.published_on == spec["published_on"].replace(year=spec["published_on"].year + moved), spec["title"]
    assert any(spec.get("with_calendar") for spec in ITEMS) and not all(spec.get("with_calendar") for spec in ITEMS)
