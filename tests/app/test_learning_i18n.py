"""The evidence register in Kiswahili: pages and refusals in the reader's language, findings in Kiswahili
where they are written and in English, marked, where they are not; the API keeps English; the sector
report's "What the evidence says" follows the same rule, and adds nothing when no evidence is linked."""

from __future__ import annotations

import html
import io
import json
from datetime import UTC, datetime

import pytest

from mel.catalogue.lookup import load_catalogue
from mel.i18n import compile_catalogues
from mel.learning.demo import load_learning
from mel.reporting.snapshot import gather
from reports import evidence, i18n
from reports.model import build
from reports.render import render_html
from tests.app.test_i18n import visible_text
from tests.app.test_learning import headers
from tests.helpers import csrf_token, login

KEEPER = "reviewer@demo.test"
WHEN = datetime(2025, 8, 20, tzinfo=UTC)


def _words(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


@pytest.fixture
def sw(client, session):
    load_learning(session)
    login(client, KEEPER)
    answer = client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert answer.status_code == 302
    return client


def test_the_register_speaks_kiswahili_and_marks_english_findings(sw, session):
    from sqlalchemy import select

    from mel.learning.models import EvidenceItem

    page = _words(sw.get("/learning/evidence"))
    for words in ("Daftari la ushahidi", "Maswali ya mafunzo", "Ongeza ushahidi", "Onyesha vipengele vilivyoondolewa",
                  "Tathmini", "Muhtasari wa sera", "Utafiti"):
        assert words in page, words
    for english in ("Evidence register", "Show withdrawn items", "Add evidence", "Policy brief"):
        assert english not in page, english
    assert "Haya ni maudhui ya mfano, si tathmini halisi." in page  # the OPCT evaluation's Kiswahili findings
    study = session.scalar(select(EvidenceItem).where(EvidenceItem.title.like("Enrolling cash-transfer%")))
    item = sw.get(f"/learning/evidence/{study.id}").get_data(as_text=True)
    assert "Demonstration content, not a real study." in item  # no Kiswahili: the English, marked
    assert 'data-kiswahili-missing="key_findings"' in item and "Matokeo makuu" in html.unescape(item)
    sheet = _words(sw.get("/indicators/SA11"))
    assert "Ushahidi unasema nini" in sheet and "Haya ni maudhui ya mfano" in sheet
    questions = _words(sw.get("/learning/questions"))
    assert "Ajenda ya mafunzo" in questions and "Je, malipo ya Inua Jamii yanawafikia wazee kwa wakati" in questions


def test_refusals_are_said_in_kiswahili_on_the_page_and_in_english_by_the_api(sw, session, app, monkeypatch):
    token = csrf_token(sw, "/learning/evidence/new")
    page = sw.post("/learning/evidence/new", data={
        "csrf_token": token, "kind": "study", "title": "", "link": "javascript:alert(1)", "indicators": ["XX99"],
        "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "setup.pdf")}, content_type="multipart/form-data")
    assert page.status_code == 422
    words = _words(page)
    assert "Kipengele cha ushahidi hakikuhifadhiwa: sahihisha sehemu zilizo hapa chini." in words
    assert "title: inahitajika." in words
    assert "si anwani ya mtandao" in words and "haviko kwenye orodha ya viashiria: XX99." in words
    assert "file: setup.pdf si PDF" in words
    assert "is not a web address" not in words and "is not a PDF" not in words
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 100_000)
    refused = sw.post("/learning/evidence/new", data={"csrf_token": token, "kind": "study", "title": "x",
                                                      "file": (io.BytesIO(b"%PDF-" + b"0" * 1_200_000), "big.pdf")},
                      content_type="multipart/form-data")
    assert refused.status_code == 413 and "MEL_EVIDENCE_MAX_BYTES" in _words(refused)
    assert "Faili lililopakiwa" in _words(refused)
    auth = headers(session, KEEPER)
    api = sw.post("/api/v1/evidence", json={"kind": "study", "title": "T", "link": "javascript:x"}, headers=auth)
    assert api.status_code == 422
    assert api.get_json()["message"] == "The evidence item was not saved: correct the fields below."
    assert "is not a web address" in api.get_json()["details"][0]["message"]
    made = sw.post("/api/v1/evidence", json={"kind": "study", "title": "T"}, headers=auth).get_json()
    upload = sw.put(f"/api/v1/evidence/{made['id']}/file", data={"file": (io.BytesIO(b"MZ"), "x.pdf")},
                    headers=auth, content_type="multipart/form-data")
    assert "is not a PDF" in upload.get_json()["message"]
    officer = headers(session, "viewer@demo.test")
    assert sw.post("/api/v1/evidence", json={"kind": "study", "title": "T"}, headers=officer).get_json()["message"] == (
        "Only the MERL TWG and the secretariat add evidence to the register.")


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogues")
    compile_catalogues(folder)
    return folder


def test_the_kiswahili_report_prints_kiswahili_findings_and_marks_english_ones(session, catalogues):
    load_learning(session)
    catalogue = load_catalogue(session)
    english = gather(session, catalogue, kind="sector", period="2025Q2", generated_at=WHEN)
    swahili = gather(session, catalogue, kind="sector", period="2025Q2", generated_at=WHEN, language="sw")
    assert set(english["evidence"]) == set(swahili["evidence"]) == {"social_assistance", "health_insurance",
                                                                      "cross_cutting"}
    opct = next(e for e in swahili["evidence"]["social_assistance"] if "OPCT" in e["title"])
    assert opct["findings"].startswith("Haya ni maudhui ya mfano") and not opct["in_english"]
    study = swahili["evidence"]["health_insurance"][0]
    assert study["findings"].startswith("Demonstration content") and study["in_english"]
    assert not any(e["in_english"] for items in english["evidence"].values() for e in items)
    # newest first: the 2025 policy brief before the 2024 evaluation before the 2023 one
    years = [e["published_on"][:4] for e in english["evidence"]["social_assistance"]]
    assert years == sorted(years, reverse=True)
    with i18n.speaking("sw", catalogues):
        report = build(swahili, is_draft=True)
    pillars = {p.code: p for p in report.pillars}
    notes = pillars["health_insurance"].evidence.notes
    assert notes[0].kind == "Utafiti" and notes[0].in_english and notes[0].year == "2025"
    assert pillars["social_assistance"].evidence.notes[0].kind == "Muhtasari wa sera"
    page = render_html(report)
    assert "Ushahidi unasema nini" in page and "Matokeo makuu kwa Kiingereza" in page
    assert '<p lang="en">Demonstration content, not a real study.' in page


def test_no_evidence_linked_leaves_the_snapshot_and_the_english_report_as_they_were(session):
    catalogue = load_catalogue(session)
    before = gather(session, catalogue, kind="sector", period="2025Q2", generated_at=WHEN)
    assert "evidence" not in before
    kept = json.dumps(before, sort_keys=True)  # building the report adds words to its snapshot's rows
    html_before = render_html(build(before, is_draft=True, reference="same"))
    assert "What the evidence says" not in html_before and "evidence-note" not in html_before
    load_learning(session)
    after = gather(session, catalogue, kind="sector", period="2025Q2", generated_at=WHEN)
    assert json.dumps({k: v for k, v in after.items() if k != "evidence"}, sort_keys=True) == kept
    assert render_html(build(after, is_draft=True, reference="same")) != html_before


def test_the_report_block_cuts_long_findings_and_counts_the_rest():
    long = " ".join(["word"] * 400)
    snapshot = {"evidence": {"P": [{"title": f"T{n}", "kind": "study", "findings": long, "published_on": "2024-01-02"}
                                   for n in range(7)]}}
    block = evidence.for_pillar(snapshot, "P")
    assert [n.title for n in block.notes] == ["T0", "T1", "T2", "T3", "T4"] and block.more == 2
    assert block.notes[0].findings[0].endswith(" [...]") and len(block.notes[0].findings[0]) <= evidence.FINDINGS_LENGTH + 6
    assert block.notes[0].kind == "Study" and block.notes[0].year == "2024"
    assert evidence.for_pillar(snapshot, "Q") is None and evidence.for_pillar({}, "P") is None
    assert evidence.shortened("One.\n\nTwo  words.\r\n\r\nThree.") == ["One.", "Two words.", "Three."]
