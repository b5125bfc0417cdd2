"""Explaining a warning is quick: a common reason chosen beside the words, kept as a code.

VR03 (`SA14 - SA15 <= SA01`, warning) fires on the figures below. The returns are for 2023Q1,
before the demo history starts, so no history warning fires: the rule is the only warning. The
window closed long ago, so the secretariat sends and explains.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO

import pytest
import time_machine
from sqlalchemy import select

from mel.accounts.operations import create_token, load_user
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import OrgUnit, Programme
from mel.returns import operations as return_ops
from mel.returns.ingest import IngestSettings
from mel.returns.models import DataValue, Return, ValueFlag
from tests.app.returns_helpers import rule_breaking_rows, send
from tests.helpers import csrf_token, login, textarea

PERIOD = "2023Q1"
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
PAGE = f"/returns/OPCT/042/{PERIOD}"
WORDS = "Rains failed; 3,200 households added in Turbo (NDMA list of 4 March)."
COLUMNS = ["indicator", "option", "org_unit", "period", "value", "comment", "explanation"]


def explained(rows, text: str, indicator: str = "SA15"):
    rows = rows.copy()
    rows.loc[rows.index[rows["indicator"] == indicator][0], "explanation"] = text
    return rows


def the_return(session, unit: str = "042") -> Return:
    return session.scalar(select(Return).join(Programme, Programme.id == Return.programme_id)
                          .join(OrgUnit, OrgUnit.id == Return.org_unit_id)
                          .where(Programme.code == "OPCT", OrgUnit.code == unit, Return.period == PERIOD))


def rule_flag(session, unit: str = "042") -> ValueFlag:
    flag = session.scalar(select(ValueFlag).where(ValueFlag.return_id == the_return(session, unit).id,
                                                  ValueFlag.flag_key == "rule:VR03"))
    session.refresh(flag)
    return flag


@pytest.fixture
def warned(session):
    """OPCT Kisumu 2023Q1 stored as a draft with one warning (VR03) not yet explained."""
    result = send(session, "secretariat@demo.test", rule_breaking_rows(session, PERIOD), now=NOW)
    assert result.outcome == "stored", [e.message for e in result.errors]
    assert not rule_flag(session).is_explained
    return rule_flag(session)


def grid_figures(page: str) -> dict[str, str]:
    """The figures of the grid page as the browser posts them back (unchanged)."""
    return dict(re.findall(r'<input class="num[^"]*" name="(v\.[^"]+)"[^>]*value="([^"]*)"', page))


def post_grid(client, fields: dict, action: str = "save"):
    page = client.get(PAGE).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    data = grid_figures(page) | {"csrf_token": csrf_token(client, PAGE), "version": version, "action": action}
    return client.post(PAGE, data=data | fields)


def selected_reason(page: str, name: str) -> str | None:
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select {name} on the page"
    chosen = re.search(r'<option value="([^"]*)" selected>', match.group(1))
    return chosen.group(1) if chosen else ""


# --------------------------------------------------------------------------- the web grid


def test_the_grid_offers_the_reasons_beside_each_explanation(client, warned):
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
    # the warning (under its figure, or in the box when it is about several) with its two fields
    box = re.search(r'<div class="flag-item[^"]*">.*?</textarea>', page, re.S).group(0)
    assert f'<select id="x.{warned.id}_reason" name="x.{warned.id}_reason"' in box
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', box)
    assert options[0] == ("", "Choose a common reason…")
    assert [label for _, label in options[1:]] == [
        "Payroll cleaning", "New enrolment wave", "Drought scale-up", "Data entry correction",
        "Arrears paid or payment delayed", "Change in who reports or how", "Other"]
    assert textarea(page, f"x.{warned.id}") == ""
    # each warning on the box's full width: not the 18px-wide .flag icon of the top bar
    assert 'class="flag-item' in box and 'class="flag"' not in box


def test_a_reason_chosen_on_the_grid_is_stored_with_its_code_and_the_words(client, session, warned):
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        response = post_grid(client, {f"x.{warned.id}": WORDS, f"x.{warned.id}_reason": "drought_scale_up"})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        page = client.get(PAGE).get_data(as_text=True)
    flag = rule_flag(session)
    assert flag.explanation == f"Drought scale-up: {WORDS}"
    assert flag.explanation_code == "drought_scale_up"
    assert flag.explained_by_id == load_user(session, "secretariat@demo.test").id
    assert "Nothing changed in the figures. 1 explanation saved." in page
    # the page shows the reason chosen and the words apart; saving again changes nothing
    assert selected_reason(page, f"x.{flag.id}_reason") == "drought_scale_up"
    assert textarea(page, f"x.{flag.id}") == WORDS
    with time_machine.travel(NOW, tick=False):
        again = post_grid(client, {f"x.{flag.id}": WORDS, f"x.{flag.id}_reason": "drought_scale_up"})
        assert again.status_code == 302
        assert "explanation saved" not in client.get(PAGE).get_data(as_text=True)
    assert rule_flag(session).explanation == f"Drought scale-up: {WORDS}"


def test_a_reason_alone_explains_the_warning_and_the_return_can_be_submitted(client, session, warned):
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        response = post_grid(client, {f"x.{warned.id}": "", f"x.{warned.id}_reason": "payroll_cleaning"},
                             action="submit")
    assert response.status_code == 302
    flag = rule_flag(session)
    assert (flag.explanation, flag.explanation_code) == ("Payroll cleaning", "payroll_cleaning")
    session.refresh(the_return(session))
    assert the_return(session).state == "submitted"


def test_the_words_alone_still_explain_as_before(client, session, warned):
    """Clients that post the text field only (scripts, older pages) keep working; the text is "other"."""
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        assert post_grid(client, {f"x.{warned.id}": WORDS}).status_code == 302
    flag = rule_flag(session)
    assert (flag.explanation, flag.explanation_code) == (WORDS, "other")


def test_other_without_words_leaves_the_warning_unexplained(client, session, warned):
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        assert post_grid(client, {f"x.{warned.id}": " ", f"x.{warned.id}_reason": "other"}).status_code == 302
    flag = rule_flag(session)
    assert (flag.explanation, flag.explanation_code) == ("", "")
    assert not flag.is_explained


def test_a_checked_page_keeps_the_reason_and_words_as_typed(client, session, warned):
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        response = post_grid(client, {f"x.{warned.id}": "typed, not saved", f"x.{warned.id}_reason": "arrears_paid"},
                             action="check")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert selected_reason(page, f"x.{warned.id}_reason") == "arrears_paid"
    assert textarea(page, f"x.{warned.id}") == "typed, not saved"
    assert not rule_flag(session).is_explained  # a check stores nothing


def test_a_figure_corrected_and_a_warning_explained_in_one_save(client, session, warned):
    """Typing a figure and an explanation together is one save (the warning's flag is stored again
    by the figure's write, under a new id)."""
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
        figures = grid_figures(page)
        sa01 = next(name for name in figures if name.startswith("v.SA01.value."))
        figures[sa01] = str(int(figures[sa01]) + 1)
        data = figures | {"csrf_token": csrf_token(client, PAGE), "version": "1", "action": "save",
                          f"x.{warned.id}": WORDS, f"x.{warned.id}_reason": "enrolment_wave"}
        response = client.post(PAGE, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    flag = rule_flag(session)
    assert (flag.explanation, flag.explanation_code) == (f"New enrolment wave: {WORDS}", "enrolment_wave")


def test_an_explanation_of_a_warning_that_a_correction_removes_is_dropped(client, session, warned):
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        figures = grid_figures(client.get(PAGE).get_data(as_text=True))
        for name in figures:
            if name.startswith("v.SA14.value."):
                figures[name] = "0"  # no new enrolments: VR03 holds again
        data = figures | {"csrf_token": csrf_token(client, PAGE), "version": "1", "action": "save",
                          f"x.{warned.id}": WORDS, f"x.{warned.id}_reason": "enrolment_wave"}
        response = client.post(PAGE, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert session.scalar(select(ValueFlag).where(ValueFlag.return_id == the_return(session).id)) is None


def test_a_flag_of_another_return_is_refused(client, session, warned):
    result = send(session, "secretariat@demo.test", rule_breaking_rows(session, PERIOD, "001"), now=NOW)
    assert result.outcome == "stored"
    foreign = rule_flag(session, "001")
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        response = post_grid(client, {f"x.{foreign.id}": WORDS, f"x.{foreign.id}_reason": "drought_scale_up"})
    assert response.status_code == 404
    assert rule_flag(session, "001").explanation == ""


# --------------------------------------------------------------------------- the review side


@pytest.fixture
def two_explained(client, session, warned):
    """Kisumu's warning explained on the grid with a reason; another county's in free text."""
    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        assert post_grid(client, {f"x.{warned.id}": WORDS, f"x.{warned.id}_reason": "drought_scale_up"}
                         ).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    result = send(session, "secretariat@demo.test", rule_breaking_rows(session, PERIOD, "001"), now=NOW)
    assert result.outcome == "stored", [e.message for e in result.errors]
    secretariat = load_user(session, "secretariat@demo.test")
    other = the_return(session, "001")
    return_ops.explain_flags(session, secretariat, other, {rule_flag(session, "001").id: "A new MIS export."})
    return warned


def test_the_data_quality_page_counts_explanations_by_reason(client, two_explained):
    login(client, "reviewer@demo.test")
    page = client.get(f"/review/data-quality?period={PERIOD}").get_data(as_text=True)
    table = re.search(r"<h2>Explanations by reason</h2>.*?</table>", page, re.S).group(0)
    rows = re.findall(r"<tr><td>([^<]*)</td><td[^>]*>(\d+)</td><td[^>]*>([^<]*)</td></tr>", table)
    assert rows == [("Drought scale-up", "1", "50%"), ("Other", "1", "50%")]
    assert f'<span class="badge reason">Drought scale-up</span> <em>{WORDS}</em>' in page


def test_the_reviewer_sees_the_kind_of_explanation_before_its_words(client, two_explained):
    login(client, "reviewer@demo.test")
    page = client.get(PAGE.replace("/returns/", "/review/")).get_data(as_text=True)
    assert f'<strong>Officer:</strong> <span class="badge reason">Drought scale-up</span> {WORDS}' in page


def test_the_report_annex_counts_explanations_by_reason_in_words(session, two_explained):
    import pdfplumber

    from mel.reporting.snapshot import gather
    from reports.model import build
    from reports.render import render_pdf

    snapshot = gather(session, load_catalogue(session), kind="programme", programme="OPCT", period=PERIOD,
                      generated_at=NOW)
    assert sorted((f["return"], f["explanation_code"]) for f in snapshot["quality"]["flags"]) == [
        ("OPCT Kisumu", "drought_scale_up"), ("OPCT Mombasa", "other")]
    report = build(snapshot)
    assert [(r["label"], r["count"]) for r in report.quality["by_reason"]] == [("Drought scale-up", 1), ("Other", 1)]
    with pdfplumber.open(BytesIO(render_pdf(report).pdf)) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    annex = text[text.index("Explanations by reason"):]
    assert re.search(r"^Drought scale-up 1 50%$", annex, re.M) and re.search(r"^Other 1 50%$", annex, re.M)
    assert "drought_scale_up" not in text


def test_a_snapshot_taken_before_reasons_were_kept_is_counted_from_its_texts():
    from reports.model import _quality

    flags = [{"return": "OPCT Kisumu", "kind": "rule", "message": "m", "explanation": "Payroll cleaning: exits"},
             {"return": "OPCT Kisumu", "kind": "rule", "message": "m", "explanation": ""}]
    assert [(r["label"], r["count"]) for r in _quality({"flags": flags})["by_reason"]] == [("Payroll cleaning", 1)]


# --------------------------------------------------------------------------- API and files


def test_an_explanation_sent_as_text_through_the_api_gets_its_reason(client, session):
    """The JSON API and files carry free text: a text led by a reason's label is that reason."""
    rows = explained(rule_breaking_rows(session, PERIOD), f"Drought scale-up: {WORDS}")
    token = create_token(session, "secretariat@demo.test").token
    payload = {"version": 0, "values": [
        {"indicator": r["indicator"], "option": r["option"], "value": r["value"], "explanation": r["explanation"]}
        for r in rows.to_dict("records")]}
    with time_machine.travel(NOW, tick=False):
        written = client.put(f"/api/v1/returns/OPCT/042/{PERIOD}", json=payload,
                             headers={"Authorization": f"Bearer {token}"})
    assert written.status_code == 200, written.get_json()
    flag = rule_flag(session)
    assert flag.explanation == f"Drought scale-up: {WORDS}"
    assert flag.explanation_code == "drought_scale_up"


def test_an_explanation_typed_in_a_csv_file_gets_its_reason(session):
    rows = explained(rule_breaking_rows(session, PERIOD), f"new enrollment wave - {WORDS}", indicator="SA14")
    data = rows[COLUMNS].to_csv(index=False).encode()
    with time_machine.travel(NOW, tick=False):
        result = return_ops.import_file(session, load_user(session, "secretariat@demo.test"), data,
                                        "opct_kisumu.csv", settings=IngestSettings(), programme="OPCT")
    assert result.outcome == "stored", [e.message for e in result.errors]
    assert rule_flag(session).explanation_code == "enrolment_wave"
    stored = session.scalar(select(DataValue.explanation).where(
        DataValue.return_id == the_return(session).id, DataValue.explanation != ""))
    assert stored == f"new enrollment wave - {WORDS}"  # the file's text is kept as typed


def test_the_excel_template_and_the_api_document_name_the_reasons(client, session):
    import openpyxl

    with time_machine.travel(NOW, tick=False):
        login(client, "secretariat@demo.test")
        template = client.get(f"{PAGE}/template.xlsx")
    book = openpyxl.load_workbook(BytesIO(template.data))
    instructions = " ".join(str(c.value) for row in book.worksheets[1].iter_rows() for c in row if c.value)
    assert "Drought scale-up" in instructions and "Change in who reports or how" in instructions
    spec = client.get("/api/v1/openapi.json").get_json()
    described = str(spec)
    assert "Arrears paid or payment delayed" in described


# --------------------------------------------------------------------------- who sees what

REVIEW = PAGE.replace("/returns/", "/review/")
QUALITY = f"/review/data-quality?period={PERIOD}"
BADGE = '<span class="badge reason">Drought scale-up</span>'
SELECT = 'name="x.'


@pytest.mark.parametrize(("email", "path", "status", "shows", "hides"), [
    # the grid: those who may enter choose a reason; the TWG reads it, and so do officers once the
    # window has closed (2023Q1's closed long before NOW: the grid is read-only for them)
    ("secretariat@demo.test", PAGE, 200, [SELECT, "Choose a common reason…"], []),
    ("officer.opct@demo.test", PAGE, 200, [f"{BADGE} {WORDS}", "This return is read-only for you."], [SELECT]),
    ("officer.kisumu@demo.test", PAGE, 200, [f"{BADGE} {WORDS}", "This return is read-only for you."], [SELECT]),
    ("reviewer@demo.test", PAGE, 200, [f"{BADGE} {WORDS}"], [SELECT, "Choose a common reason…"]),
    ("officer.hsnp@demo.test", PAGE, 403, [], [WORDS]),
    ("viewer@demo.test", PAGE, 403, [], [WORDS]),  # not approved
    # the review of the return and the data-quality page: the TWG and the secretariat only
    ("reviewer@demo.test", REVIEW, 200, [f"{BADGE} {WORDS}"], []),
    ("secretariat@demo.test", REVIEW, 200, [f"{BADGE} {WORDS}"], []),
    ("officer.opct@demo.test", REVIEW, 403, [], [WORDS]),
    ("viewer@demo.test", REVIEW, 403, [], [WORDS]),
    ("reviewer@demo.test", QUALITY, 200, ["Explanations by reason", BADGE], []),
    ("secretariat@demo.test", QUALITY, 200, ["Explanations by reason", BADGE], []),
    ("officer.opct@demo.test", QUALITY, 403, [], [WORDS]),
    ("viewer@demo.test", QUALITY, 403, [], [WORDS]),
])
def test_each_role_sees_what_it_should(client, two_explained, email, path, status, shows, hides):
    with time_machine.travel(NOW, tick=False):
        login(client, email)
        response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:1000]
    assert all(text in page for text in shows), [text for text in shows if text not in page]
    assert not any(text in page for text in hides), [text for text in hides if text in page]
