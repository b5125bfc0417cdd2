"""The reporting guidelines handbook (issue 21, item 1): editions made from the catalogue, with a
reference sheet for every active indicator read back from the PDF, what changed since the previous
edition, files kept byte for byte, the web pages, the API and the CLI for every role.

One edition is made once for the module (committed, removed afterwards): rendering a handbook in two
languages takes tens of seconds. Everything else runs in the usual rolled-back transaction.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date

import pdfplumber
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from mel.accounts.models import AuditEvent, User
from mel.accounts.operations import create_token
from mel.catalogue.indicator_admin import change_indicator
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Indicator, OptionCombo, ReportingForm, ValidationRule
from mel.catalogue.rule_admin import change_rule
from mel.db import db
from mel.errors import Conflict, Forbidden, ValidationFailed
from mel.guidelines import operations, readme
from mel.guidelines.models import HandbookEdition, HandbookFile
from tests.helpers import csrf_token, login

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

ROLES = {"secretariat": "secretariat@demo.test", "reviewer": "reviewer@demo.test",
         "officer": "officer.opct@demo.test", "viewer": "viewer@demo.test"}
TODAY = date(2025, 10, 5)  # the demo history's date: 2025Q3 is the quarter being reported
SHEET_LABELS = ("Short name", "Definition", "Numerator", "Denominator", "Unit", "Over time", "Desired direction",
                "Disaggregation", "Data source", "Means of verification", "Responsible agency", "Reported by",
                "Validation rules")


def squash(text: str) -> str:
    """Text without its line breaks and repeated spaces, as a PDF's words read in order."""
    return re.sub(r"\s+", " ", text).strip()


def pdf_pages(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [squash(page.extract_text() or "") for page in pdf.pages]


@pytest.fixture(scope="module")
def first(app):
    """Edition 1, made and committed once (English and Kiswahili); its files' bytes as they were made."""
    with app.app_context():
        session = db.session
        secretariat = session.scalar(select(User).where(User.email == ROLES["secretariat"]))
        edition = operations.make_edition(session, secretariat, "First edition for the 2025 training.",
                                          config=app.config, today=TODAY)
        session.commit()
        files = {(f.language, f.format): bytes(f.content) for f in edition.files}
        made = {"number": edition.number, "catalogue_version": edition.catalogue_version, "files": files,
                "content": edition.content}
        session.close()
    yield made
    with app.app_context():
        session = db.session
        session.execute(delete(HandbookFile))
        session.execute(delete(HandbookEdition))
        session.commit()
        session.close()


def test_the_pdf_has_a_reference_sheet_for_every_active_indicator_with_its_fields(first, session):
    pages = pdf_pages(first["files"][("en", "pdf")])
    text = " ".join(pages)
    active = session.scalars(select(Indicator).where(Indicator.is_active.is_(True)).order_by(Indicator.code)).all()
    assert len(active) == 40
    forms = {f.code: f for f in session.scalars(select(ReportingForm))}
    rules = session.scalars(select(ValidationRule).where(ValidationRule.is_active.is_(True))).all()
    content = first["content"]
    for number, indicator in enumerate(active, start=1):
        heading = f"8.{number} {indicator.code} {indicator.name}"
        found = [p for p in pages if heading in p]
        assert found, f"no reference sheet headed {heading!r}"
        sheet = found[0]
        for label in SHEET_LABELS:
            assert label in sheet, (indicator.code, label)
        for field in (indicator.definition, indicator.data_source, indicator.means_of_verification,
                      indicator.responsible_agency):
            assert squash(field)[:60] in sheet, (indicator.code, field[:60])
        if indicator.measure == "ratio":
            assert squash(indicator.numerator)[:40] in sheet and f"{indicator.code}.N" in sheet
            assert squash(indicator.denominator)[:40] in sheet and f"{indicator.code}.D" in sheet
        else:
            assert "Not a ratio: the figure itself is reported." in sheet
        assert ("Flow: quarters add up" if indicator.time_aggregation == "sum" else "Stock: the financial-year") in sheet
        assert ("Increase" if indicator.direction == "increase" else "Decrease") in sheet
        reporters = [code for code, form in content["catalogue"]["forms"].items()
                     if any(i["indicator"] == indicator.code for s in form["contents"] if s["until"] is None
                            for i in s["indicators"])]
        assert reporters, indicator.code
        for code in reporters:
            assert f"({code}" in sheet, (indicator.code, code)
            assert forms[code].code == code
        touching = [r.code for r in rules if re.search(rf"\b{re.escape(indicator.code)}\b", f"{r.left} {r.right}")]
        for code in touching:
            assert f"{code} (" in sheet, (indicator.code, code)
        if not touching:
            assert "No validation rule names it" in sheet
        combos = session.scalars(select(OptionCombo).where(OptionCombo.set_id == indicator.disaggregation_set_id)).all()
        for combo in combos:
            assert combo.code in text
    assert "Contents" in pages[1] and "8.40 SS04" in pages[1]
    assert all(p.startswith(f"Reporting guidelines handbook · Edition 1 · Catalogue {first['catalogue_version']}")
               for p in pages[1:])
    assert re.search(rf"Page 3 of {len(pages)}$", pages[2])


def test_the_rules_of_compilation_and_achievement_are_readmes_words(first):
    text = " ".join(pdf_pages(first["files"][("en", "pdf")]))
    passages = readme.quoted()
    assert [p["name"] for p in passages] == ["compilation", "achievement"]
    achievement = passages[1]["text"]
    assert achievement.startswith("### Targets, achievement and status")
    for sentence in ("It is at least 100%", "exactly when the target is met (rise: actual ≥ target; fall: actual ≤ target)",
                     "Rounding", "happens once, when a figure is printed",
                     "ratios add numerators and denominators and then divide"):
        assert sentence in squash(" ".join(p["text"] for p in passages))
        assert sentence in text, sentence
    # The quotation is README's, not a restatement: its bold words and code spans keep README's text.
    assert "Own plan. The current version of the scope's own PMP" in text
    assert "indicators/targets.py" in text


def test_the_calendar_gives_each_forms_window_and_the_review_deadline(first):
    pages = pdf_pages(first["files"][("en", "pdf")])
    cycle = next(p for p in pages if "2.2 Calendar of the next four quarters" in p)
    calendar = cycle[cycle.index("2.2 Calendar"):]
    # The test database is dated 5 October 2025: the quarter being reported is 2025Q3 (FY2025/26 Q1).
    for quarter, due, review in (("2025Q3", "15 October 2025", "30 October 2025"),
                                 ("2025Q4", "15 January 2026", "30 January 2026"),
                                 ("2026Q1", "15 April 2026", "30 April 2026"),
                                 ("2026Q2", "15 July 2026", "30 July 2026")):
        row = calendar[calendar.index(quarter):]
        assert due in row[:200] and review in row[:220], quarter
    assert "OPCT-QR" in cycle and "The review deadline is 30 days after the quarter ends" in cycle


def test_the_kiswahili_handbook_uses_the_catalogues_kiswahili(first, session):
    pages = pdf_pages(first["files"][("sw", "pdf")])
    text = " ".join(pages)
    sa02 = session.scalar(select(Indicator).where(Indicator.code == "SA02"))
    assert sa02.name_sw and squash(sa02.name_sw) in text
    assert squash(sa02.definition_sw)[:50] in text
    assert "Hakuna maandishi ya Kiswahili" not in text  # every name and definition of the seed is translated
    assert "Ukurasa 3 kati ya" in pages[2]  # the page numbers in Kiswahili
    html = first["files"][("sw", "html")].decode()
    assert '<html lang="sw">' in html and sa02.name_sw in html


def test_a_redefined_indicator_is_listed_as_changed_and_the_first_edition_stays_as_it_was(first, session, client):
    secretariat = session.scalar(select(User).where(User.email == ROLES["secretariat"]))
    before = {(f.language, f.format): (f.sha256, f.size) for f in session.scalars(select(HandbookFile))}
    assert change_indicator(session, secretariat, "SA12", {
        "definition": "Share of credited beneficiary accounts with a withdrawal within the payment window.",
        "name_sw": "", "definition_sw": ""}, "Clearer definition agreed at the TWG") == 3
    rule = session.scalar(select(ValidationRule).where(ValidationRule.code == "VR11"))
    change_rule(session, load_catalogue(session), secretariat, "VR11", {"severity": "warning" if rule.severity ==
                                                                          "error" else "error"}, "Severity reviewed")
    second = operations.make_edition(session, secretariat, "After the TWG's review", config=client.application.config,
                                     today=TODAY)
    assert second.number == 2 and second.catalogue_version != first["catalogue_version"]
    redefined = second.changes["indicators"]["redefined"]
    assert [(r["code"], r["from"], r["to"], [f["name"] for f in r["fields"]]) for r in redefined] == [
        ("SA12", 1, 2, ["definition"])]
    assert [c["code"] for c in second.changes["rules"]["changed"]] == ["VR11"]
    assert second.changes["previous"] == {"number": 1, "catalogue_version": first["catalogue_version"]}
    assert "indicators" in {t["key"] for t in second.changes["texts"]}  # the Kiswahili texts of SA12
    pages = pdf_pages(next(f.content for f in second.files if (f.language, f.format) == ("en", "pdf")))
    about = next(p for p in pages if "1.1 What changed since the previous edition" in p)
    assert ("SA12 (% of credited payments withdrawn within the payment window) redefined, version 1 → 2: "
            "Definition.") in about
    assert "Validation rule VR11 changed: Severity." in about
    sheet = next(p for p in pages if "SA12 % of credited payments withdrawn" in p and "Definition" in p)
    assert "Share of credited beneficiary accounts with a withdrawal within the payment window." in sheet
    sw = " ".join(pdf_pages(next(f.content for f in second.files if (f.language, f.format) == ("sw", "pdf"))))
    assert "% of credited payments withdrawn within the payment window (Hakuna maandishi ya Kiswahili" in sw
    # The first edition: the same rows and bytes, downloadable from the web, the API and the CLI.
    assert {(f.language, f.format): (f.sha256, f.size) for f in session.scalars(
        select(HandbookFile).join(HandbookEdition).where(HandbookEdition.number == 1))} == before
    login(client, ROLES["viewer"])
    for (language, file_format), data in first["files"].items():
        answer = client.get(f"/guidelines/editions/1/{language}.{file_format}")
        assert answer.status_code == 200 and answer.get_data() == data
        assert answer.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    token = create_token(session, ROLES["officer"], name="tests").token
    answer = client.get("/api/v1/handbook/1/files/en/pdf", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_data() == first["files"][("en", "pdf")]
    listed = client.get("/api/v1/handbook", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [(e["number"], e["summary"]) for e in listed] == [(2, "1 indicator redefined · 1 rule changed · other texts "
                                                                 "changed"), (1, "First edition")]
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "handbook.edition_made")
                            .order_by(AuditEvent.id)).all()
    assert [a.object for a in audit][-1] == "handbook edition 2"
    assert audit[-1].details["changes"] == {"indicators_redefined": 1, "rules_changed": 1, "texts": ["indicators"]}


def test_an_edition_that_would_say_the_same_is_refused(first, session, client):
    secretariat = session.scalar(select(User).where(User.email == ROLES["secretariat"]))
    with pytest.raises(Conflict) as refused:
        operations.make_edition(session, secretariat, "", config=client.application.config)
    assert refused.value.message == (
        f"Nothing has changed since edition 1 (catalogue version {first['catalogue_version']}): a new edition would "
        "say the same. Change an indicator, a form, a rule or a text of the catalogue first.")
    token = create_token(session, ROLES["secretariat"], name="tests").token
    answer = client.post("/api/v1/handbook", json={"note": "again"}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 409 and answer.get_json()["message"] == refused.value.message
    login(client, ROLES["secretariat"])
    page = client.post("/guidelines/editions", data={"csrf_token": csrf_token(client, "/guidelines/"), "note": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Nothing has changed since edition 1" in page
    assert session.scalar(select(HandbookEdition.number).order_by(HandbookEdition.number.desc())) == 1


def test_bad_requests_name_the_field_and_store_nothing(first, session, client):
    token = create_token(session, ROLES["secretariat"], name="tests").token
    auth = {"Authorization": f"Bearer {token}"}
    long_note = client.post("/api/v1/handbook", json={"note": "x" * 2001}, headers=auth)
    assert long_note.status_code == 422 and "note" in str(long_note.get_json())
    wrong_language = client.post("/api/v1/handbook", json={"languages": ["fr"]}, headers=auth)
    assert wrong_language.status_code == 422 and "languages" in str(wrong_language.get_json())
    not_a_list = client.post("/api/v1/handbook", json={"languages": "en"}, headers=auth)
    assert not_a_list.status_code == 422
    secretariat = session.scalar(select(User).where(User.email == ROLES["secretariat"]))
    with pytest.raises(ValidationFailed, match="note: contains a control character"):
        operations.make_edition(session, secretariat, "bad\x00note", config=client.application.config)
    with pytest.raises(Forbidden):
        operations.make_edition(session, session.scalar(select(User).where(User.email == ROLES["reviewer"])), "",
                                config=client.application.config)
    for path in ("/api/v1/handbook/1/files/fr/pdf", "/api/v1/handbook/1/files/en/docx", "/api/v1/handbook/99",
                 "/api/v1/handbook/99/files/en/pdf", "/api/v1/handbook/0", "/api/v1/handbook/99999999999"):
        answer = client.get(path, headers=auth)
        assert answer.status_code == 404 and answer.get_json()["error"] == "not_found", path
    assert session.scalar(select(HandbookEdition.number).order_by(HandbookEdition.number.desc())) == 1


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_every_route_answers_each_role(first, session, client, role):
    token = None
    if role != "anonymous":
        login(client, ROLES[role])
        token = create_token(session, ROLES[role], name="tests").token
    api = {"Authorization": f"Bearer {token}"} if token else {}
    web_ok = 302 if role == "anonymous" else 200
    for path in ("/guidelines/", "/guidelines/editions/1", "/guidelines/editions/1/en.pdf",
                 "/guidelines/editions/1/sw.pdf?download=1", "/guidelines/editions/1/en.html",
                 "/guidelines/editions/1/sw.html", "/guidelines/handbook", "/guidelines/handbook?lang=sw"):
        answer = client.get(path)
        assert answer.status_code == web_ok, (role, path, answer.status_code)
        if role == "anonymous":
            assert "/login" in answer.headers["Location"]
    for path in ("/guidelines/editions/2", "/guidelines/editions/1/fr.pdf", "/guidelines/editions/1/en.docx"):
        assert client.get(path).status_code == (302 if role == "anonymous" else 404), (role, path)
    for path in ("/api/v1/handbook", "/api/v1/handbook/1", "/api/v1/handbook/1/files/sw/html"):
        assert client.get(path, headers=api).status_code == (401 if role == "anonymous" else 200), (role, path)
    made = client.post("/api/v1/handbook", json={"note": "x"}, headers=api)
    assert made.status_code == {"anonymous": 401, "secretariat": 409}.get(role, 403), (role, made.get_json())
    form = {"note": "x", "csrf_token": csrf_token(client, "/login" if role == "anonymous" else "/guidelines/")}
    web = client.post("/guidelines/editions", data=form)
    assert web.status_code == {"anonymous": 302, "secretariat": 302}.get(role, 403), role
    if role == "anonymous":
        assert "/login" in web.headers["Location"]
    if role != "anonymous":
        index = client.get("/guidelines/").get_data(as_text=True)
        assert ("Make a new edition" in index) == (role == "secretariat")
        assert "/guidelines/editions/1/sw.pdf" in index and first["catalogue_version"] in index
        assert 'href="/guidelines/"' in client.get("/").get_data(as_text=True)  # in the navigation
    assert session.scalar(select(HandbookEdition.number).order_by(HandbookEdition.number.desc())) == 1


def test_the_current_handbook_in_the_browser(first, session, client):
    login(client, ROLES["officer"])
    answer = client.get("/guidelines/handbook")
    page = answer.get_data(as_text=True)
    assert "Current catalogue (not an edition)" in page and "No indicator, form or rule changed." in page
    assert "'sha256-" in answer.headers["Content-Security-Policy"]
    assert page.count('class="sheet"') == 40
    sw = client.get("/guidelines/handbook?lang=sw").get_data(as_text=True)
    sa02 = session.scalar(select(Indicator).where(Indicator.code == "SA02"))
    assert '<html lang="sw">' in sw and sa02.name_sw in sw


def test_the_cli_lists_gets_and_refuses(first, runner, tmp_path):
    listed = runner.invoke(args=["handbook", "list"])
    assert listed.exit_code == 0 and "1  " in listed.output and first["catalogue_version"] in listed.output
    assert "First edition" in listed.output and "en.pdf" in listed.output and "sw.html" in listed.output
    target = tmp_path / "handbook.html"
    got = runner.invoke(args=["handbook", "get", "1", "--lang", "sw", "--format", "html", "-o", str(target)])
    assert got.exit_code == 0, got.output
    assert target.read_bytes() == first["files"][("sw", "html")]
    missing = runner.invoke(args=["handbook", "get", "7", "-o", str(tmp_path / "x.pdf")])
    assert missing.exit_code == 1 and "There is no handbook edition 7." in missing.output
    again = runner.invoke(args=["handbook", "make", "--note", "again", "--lang", "en"])
    assert again.exit_code == 1 and "Nothing has changed since edition 1" in again.output
    wrong = runner.invoke(args=["handbook", "make", "--lang", "fr"])
    assert wrong.exit_code == 2 and "fr" in wrong.output


def test_the_cli_makes_an_edition(first, runner, session, tmp_path):
    secretariat = session.scalar(select(User).where(User.email == ROLES["secretariat"]))
    change_indicator(session, secretariat, "SS04", {"means_of_verification": "NSSF pension payroll"}, "Source named")
    made = runner.invoke(args=["handbook", "make", "--note", "CLI edition", "--lang", "en", "--as", ROLES["secretariat"]])
    assert made.exit_code == 0, made.output
    assert "Handbook edition 2 made from catalogue version c-" in made.output and "en.pdf: " in made.output
    edition = session.scalar(select(HandbookEdition).where(HandbookEdition.number == 2))
    assert edition.note == "CLI edition" and edition.created_by_id == secretariat.id
    assert [r["code"] for r in edition.changes["indicators"]["redefined"]] == ["SS04"]
    target = tmp_path / "second.pdf"
    assert runner.invoke(args=["handbook", "get", "2", "-o", str(target)]).exit_code == 0
    assert "NSSF pension payroll" in " ".join(pdf_pages(target.read_bytes()))
    assert runner.invoke(args=["handbook", "get", "2", "--lang", "sw", "-o", str(target)]).exit_code == 1


def test_the_pages_and_their_refusals_in_kiswahili(first, session, client):
    login(client, ROLES["secretariat"])
    response = client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    index = client.get("/guidelines/").get_data(as_text=True)
    assert "Mwongozo wa kuripoti" in index and "Tengeneza toleo jipya" in index and "Toleo la kwanza" in index
    assert "Make a new edition" not in index
    refused = client.post("/guidelines/editions", data={"csrf_token": csrf_token(client, "/guidelines/"), "note": ""},
                          follow_redirects=True).get_data(as_text=True)
    assert f"Hakuna kilichobadilika tangu toleo la 1 (toleo la orodha ya viashiria {first['catalogue_version']})" in refused
    assert "Nothing has changed" not in refused
    edition = client.get("/guidelines/editions/1").get_data(as_text=True)
    assert "Toleo la 1 la mwongozo" in edition and "Kilichobadilika tangu toleo lililopita" in edition
    token = create_token(session, ROLES["secretariat"], name="tests").token
    api = client.post("/api/v1/handbook", json={}, headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 409 and api.get_json()["message"].startswith("Nothing has changed since edition 1")


@given(st.text(max_size=2100))
def test_a_note_is_kept_stripped_or_refused_naming_the_field(note):
    try:
        kept = operations.checked_note(note)
    except ValidationFailed as refused:
        assert refused.message.startswith("note: ")
        assert len(note.strip()) > operations.NOTE_LIMIT or any(ord(c) < 32 and c not in "\t\n\r" for c in note)
    else:
        assert kept == note.strip() and len(kept) <= operations.NOTE_LIMIT
