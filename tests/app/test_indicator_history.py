"""An indicator's whole history (issue 21 item 5): each financial year's quarters and year compiled as the
results pages compile them, the targets with their revisions, the data-quality notes (warnings and their
explanations, returns and reopenings with reasons, figures revised after publication) and linked
evidence, on one page, in its API, and exported to CSV and Excel with every note."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pandas as pd
import pytest
import time_machine
from sqlalchemy import insert, select

from indicators.figures import figure_code
from indicators.periods import parse_period
from mel.accounts.operations import create_token, load_user
from mel.catalogue.lookup import load_catalogue
from mel.learning.models import EvidenceItem, evidence_indicator
from mel.reporting.models import ReportRun
from mel.results.history import indicator_history
from mel.results.history_export import ROW_COLUMNS, history_rows, note_line
from mel.returns import operations as return_ops
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import DataValue, Return, ValueFlag
from mel.review import operations as review
from tests.app.test_i18n import visible_text
from tests.helpers import csrf_token, explain_all, login

API = "/api/v1/indicators/{code}/history"
PAGE = "/dashboard/indicators/{code}/history"
PUBLISHED = datetime(2025, 2, 20, 9, 0, tzinfo=UTC)  # 2024Q4's sector report
REVISED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LATER = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)
SCOPES = [("KE", "ALL"), ("KE", "OPCT"), ("042", "OPCT"), ("042", "ALL"), ("023", "HSNP")]
# Both directions, counts and ratios, flows and stocks: SA01 (stock), SA14 (flow), SA15 (a count to bring
# down), SA12 (a percentage), SPX12 (a percentage to bring down), SA10 (KES).
INDICATORS = ["SA01", "SA14", "SA15", "SA12", "SPX12", "SA10"]


def _return(session, programme: str, unit: str, period: str) -> Return:
    catalogue = load_catalogue(session)
    return session.scalar(select(Return).where(Return.programme_id == catalogue.programmes[programme].id,
                                               Return.org_unit_id == catalogue.org_units[unit].id,
                                               Return.period == period))


def _sa01_row(session, option: str, period: str, value: int) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": "SA01", "option": option, "org_unit": "042", "period": period,
                          "value": str(value), "comment": "", "explanation": "", "file": "", "sheet": "",
                          "row": 2, "column": "E"}])


@pytest.fixture
def noted(session):
    """Notes on OPCT Kisumu's SA01: an explained warning on approved 2025Q2; 2024Q4 reopened after its
    report was published, an SA01 figure revised, queried (answered, closed) and approved again; 2025Q1
    reopened, resubmitted, queried (left open) and returned (not approved: its notes are for readers of its
    queries only). Evidence linked to SA01."""
    catalogue = load_catalogue(session)
    secretariat, reviewer = load_user(session, "secretariat@demo.test"), load_user(session, "reviewer@demo.test")
    approved = _return(session, "OPCT", "042", "2025Q2")
    session.add(ValueFlag(return_id=approved.id, flag_key="history:SA01:value:x", kind="history", severity="warning",
                          indicator_id=catalogue.indicators["SA01"].id, component="value",
                          option_combo_id=catalogue.combos[("SA01", catalogue.specs["SA01"].options[0])],
                          message="Kisumu, FY2024/25 Q4 — SA01: far from its history (FLAGMARK).",
                          explanation="Drought scale-up: EXPLMARK households added",
                          explanation_code="drought_scale_up"))
    session.add(ReportRun(kind="sector", period="2024Q4", title="Sector report", state="done", progress=100,
                          stage="done", requested_at=PUBLISHED, finished_at=PUBLISHED, published_at=PUBLISHED,
                          published_by_id=secretariat.id))
    revised = _return(session, "OPCT", "042", "2024Q4")
    old, combo = session.execute(select(DataValue.value, DataValue.option_combo_id).where(
        DataValue.return_id == revised.id, DataValue.indicator_id == catalogue.indicators["SA01"].id)
        .order_by(DataValue.value.desc())).first()
    option = catalogue.combo_codes[combo]
    with time_machine.travel(REVISED, tick=False):
        review.reopen(session, catalogue, secretariat, revised, "REOPENMARK payroll recount", now=REVISED)
        result = ingest(session, secretariat, Incoming(_sa01_row(session, option, "2024Q4", int(old) + 321), "api"),
                        programme="OPCT", now=REVISED)
        assert result.outcome == "stored", [e.message for e in result.errors]
        explain_all(session, secretariat, revised)
        return_ops.submit(session, secretariat, revised, now=REVISED)
        query = review.raise_query(session, catalogue, reviewer, revised, "SA01", option, "QUERYMARK why 321 more?",
                                   now=REVISED)
        review.answer_query(session, catalogue, secretariat, query, "ANSWERMARK payroll recount", now=REVISED)
        review.close_query(session, reviewer, query, "CLOSEMARK agreed", now=REVISED)
        review.approve(session, catalogue, reviewer, revised, now=REVISED)
    hidden = _return(session, "OPCT", "042", "2025Q1")
    with time_machine.travel(LATER, tick=False):
        review.reopen(session, catalogue, secretariat, hidden, "HIDDENMARK reopened", now=LATER)
        return_ops.submit(session, secretariat, hidden, now=LATER)
        review.raise_query(session, catalogue, reviewer, hidden, "SA01", option, "QUERYHIDDEN still open", now=LATER)
        review.return_to_officer(session, catalogue, reviewer, hidden, ["outlier"], "RETURNMARK check SA01", now=LATER)
    item = EvidenceItem(kind="evaluation", title="EVIDMARK OPCT impact evaluation", agency="KIPPRA",
                        published_on=date(2024, 11, 1), key_findings="FINDMARK transfers reached 94% on time",
                        link="https://example.org/opct.pdf")
    gone = EvidenceItem(kind="study", title="GONEMARK withdrawn study", withdrawn_at=LATER, withdrawn_reason="dup")
    session.add_all([item, gone])
    session.flush()
    for evidence in (item, gone):
        session.execute(insert(evidence_indicator).values(evidence_id=evidence.id,
                                                          indicator_id=catalogue.indicators["SA01"].id))
    session.commit()
    return {"old": int(old), "new": int(old) + 321}


def _token(session, email: str) -> dict:
    return {"Authorization": f"Bearer {create_token(session, email).token}"}


def _close(first, second) -> bool:
    if first is None or second is None:
        return first is None and second is None
    return math.isclose(first, second, rel_tol=1e-12, abs_tol=1e-9)


@pytest.mark.parametrize("code", INDICATORS)
def test_every_figure_equals_the_results_api_for_the_same_span(client, session, code):
    headers = _token(session, "reviewer@demo.test")
    compared = 0
    for org_unit, programme in SCOPES:
        history = client.get(API.format(code=code), query_string={"org_unit": org_unit, "programme": programme},
                             headers=headers).get_json()
        assert history["years"], (code, org_unit, programme)
        for year in history["years"]:
            for figure in [*year["quarters"], year["year"]]:
                rows = client.get("/api/v1/results", headers=headers, query_string={
                    "indicator": code, "period": figure["period"], "org_unit": org_unit,
                    "programme": programme}).get_json()
                assert len(rows) <= 1
                if not rows:
                    assert figure["actual"] is None and figure["status"] == "not_reported", figure
                    continue
                row = rows[0]
                for key in ("actual", "numerator", "denominator", "target", "achievement", "completeness"):
                    assert _close(figure[key], row[key]), (code, org_unit, programme, figure["period"], key)
                for key in ("status", "target_source", "target_note", "returns_received", "returns_expected",
                            "pmp", "pmp_version", "achievement_method"):
                    assert figure[key] == row[key], (code, org_unit, programme, figure["period"], key)
                compared += 1
    assert compared >= 3 * len(SCOPES)


def test_years_run_from_the_first_approved_figure_and_a_year_compiles_its_quarters(session):
    catalogue = load_catalogue(session)
    history = indicator_history(session, catalogue, "SA14", org_unit="042", programme="OPCT")
    assert [y["fiscal_year"] for y in history["years"]] == ["2023July", "2024July"]
    for year in history["years"]:
        assert [q["period"] for q in year["quarters"]] == [f"{int(year['fiscal_year'][:4]) + (n > 1)}Q{(n + 2) % 4 + 1}"
                                                           for n in range(4)]
        assert year["complete"] and year["year"]["period"] == year["fiscal_year"]
        # SA14 is a flow: the year is the sum of its quarters (the rule of indicators/compile.py).
        assert _close(year["year"]["actual"], sum(q["actual"] for q in year["quarters"]))
    stock = indicator_history(session, catalogue, "SA01", org_unit="042", programme="OPCT")
    for year in stock["years"]:  # a stock: the year is its last quarter
        assert _close(year["year"]["actual"], year["quarters"][-1]["actual"])


def test_targets_carry_every_plan_version_with_its_reason(session):
    history = indicator_history(session, load_catalogue(session), "SA01", programme="OPCT")
    year = next(y for y in history["years"] if y["fiscal_year"] == "2024July")
    (plan,) = year["plans"]
    assert plan["scope"] == "OPCT" and plan["current_version"] == 2
    assert [v["number"] for v in plan["versions"]] == [1, 2]
    assert "Mid-year review" in plan["versions"][1]["reason"] and plan["versions"][1]["is_current"]
    assert plan["versions"][1]["year_target"] == year["year"]["target"]
    assert set(plan["versions"][1]["quarter_targets"]) == {"2024Q3", "2024Q4", "2025Q1", "2025Q2"}
    sector = indicator_history(session, load_catalogue(session), "SA14")
    scopes = [p["scope"] for p in sector["years"][0]["plans"]]
    assert scopes[0] == "SECTOR" and "OPCT" in scopes


def _notes(client, session, email: str, **query) -> list[dict]:
    answer = client.get(API.format(code="SA01"), headers=_token(session, email),
                        query_string={"programme": "OPCT", **query})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.get_json()["notes"]


def test_notes_gather_warnings_returns_reopenings_and_revisions_after_publication(client, session, noted):
    notes = _notes(client, session, "reviewer@demo.test", org_unit="042")
    kinds = [(n["period"], n["kind"]) for n in notes]
    assert ("2024Q4", "reopened") in kinds and ("2024Q4", "revised") in kinds
    assert ("2025Q1", "reopened") in kinds and ("2025Q1", "returned") in kinds and ("2025Q2", "warning") in kinds
    warning = next(n for n in notes if n["kind"] == "warning" and "FLAGMARK" in n["text"])
    assert "FLAGMARK" in warning["text"] and warning["explanation"].endswith("EXPLMARK households added")
    assert warning["reasons"] == ["Drought scale-up"] and warning["org_unit_name"] == "Kisumu"
    revision = next(n for n in notes if n["kind"] == "revised")
    assert f"{noted['old']:,}" in revision["text"] and f"{noted['new']:,}" in revision["text"]
    assert "2025-02-20" in revision["text"] and revision["by"] == "secretariat@demo.test"
    returned = next(n for n in notes if n["kind"] == "returned")
    assert returned["text"] == "RETURNMARK check SA01"
    queried = next(n for n in notes if n["kind"] == "query" and n["period"] == "2024Q4")
    assert queried["text"] == "QUERYMARK why 321 more?" and queried["by"] == "reviewer@demo.test"
    assert queried["explanation"] == ("secretariat@demo.test: ANSWERMARK payroll recount / "
                                      "reviewer@demo.test: CLOSEMARK agreed")
    assert queried["reasons"] == ["query closed"] and queried["indicator_figure"] == "SA01"
    assert [n["reasons"] for n in notes if n["kind"] == "query" and n["period"] == "2025Q1"] == [["query open"]]
    assert returned["reasons"] == ["A figure is far from its history or from other counties"]
    history = client.get(API.format(code="SA01"), headers=_token(session, "reviewer@demo.test"),
                         query_string={"programme": "OPCT", "org_unit": "042"}).get_json()
    quarter = next(q for y in history["years"] for q in y["quarters"] if q["period"] == "2024Q4")
    assert quarter["notes"] == len([n for n in notes if n["period"] == "2024Q4"]) >= 2
    # The figure after the revision is the one the results use (approved again).
    assert history["evidence"][0]["title"] == "EVIDMARK OPCT impact evaluation"
    assert [e["title"] for e in history["evidence"]] == ["EVIDMARK OPCT impact evaluation"]  # not the withdrawn one
    national = _notes(client, session, "reviewer@demo.test", org_unit="KE")
    assert len(national) == len(notes)  # Kisumu lies in Kenya
    elsewhere = _notes(client, session, "reviewer@demo.test", org_unit="001")
    assert elsewhere == []


@pytest.mark.parametrize(("email", "sees_unapproved"), [
    ("secretariat@demo.test", True), ("reviewer@demo.test", True), ("officer.opct@demo.test", True),
    ("officer.kisumu@demo.test", True), ("officer.hsnp@demo.test", False), ("viewer@demo.test", False)])
def test_a_returns_notes_before_its_approval_are_for_readers_of_its_queries_only(client, session, noted, email,
                                                                                 sees_unapproved):
    notes = _notes(client, session, email, org_unit="042")
    texts = " ".join(str(n["text"]) for n in notes)
    assert "REOPENMARK" in texts and "FLAGMARK" in texts  # approved returns: everyone's (the annex prints them)
    assert ("HIDDENMARK" in texts) is sees_unapproved and ("RETURNMARK" in texts) is sees_unapproved
    # Query threads are their readers' only, even once the return is approved (viewers never read them).
    assert ("QUERYMARK" in texts) is sees_unapproved and ("QUERYHIDDEN" in texts) is sees_unapproved
    login(client, email)
    page = client.get(PAGE.format(code="SA01"), query_string={"programme": "OPCT", "org_unit": "042"})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "REOPENMARK" in body and ("HIDDENMARK" in body) is sees_unapproved and "EVIDMARK" in body
    assert "GONEMARK" not in body
    exported = client.get(API.format(code="SA01"), query_string={"programme": "OPCT", "org_unit": "042",
                                                                 "format": "csv"}).get_data(as_text=True)
    assert "REOPENMARK" in exported and ("HIDDENMARK" in exported) is sees_unapproved


def test_a_published_annex_reads_approved_returns_notes_only(session, noted):
    history = indicator_history(session, load_catalogue(session), "SA01", org_unit="042", programme="OPCT")
    texts = " ".join(str(n["text"]) for n in history["notes"])
    assert "REOPENMARK" in texts and "HIDDENMARK" not in texts and "RETURNMARK" not in texts
    assert "QUERYMARK" not in texts and "QUERYHIDDEN" not in texts


def test_the_csv_export_reads_back_as_the_history_with_its_notes(client, session, noted):
    headers = _token(session, "secretariat@demo.test")
    query = {"programme": "OPCT", "org_unit": "042"}
    history = client.get(API.format(code="SA01"), headers=headers, query_string=query).get_json()
    answer = client.get(API.format(code="SA01"), headers=headers, query_string={**query, "format": "csv"})
    assert answer.mimetype == "text/csv"
    assert 'filename="history_SA01_042_OPCT.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert list(rows[0]) == list(ROW_COLUMNS)
    expected = history_rows(history)
    assert len(rows) == len(expected) == 5 * len(history["years"])
    for row, want in zip(rows, expected, strict=True):
        for key in ROW_COLUMNS:
            value = want.get(key)
            if isinstance(value, float):
                assert _close(float(row[key]), value), key
            else:
                assert row[key] == ("" if value is None else str(value)), key
    revised = next(r for r in rows if r["period"] == "2024Q4")
    assert int(revised["notes_count"]) >= 2 and "REOPENMARK" in revised["notes"] and "[revised]" in revised["notes"]
    year = next(r for r in rows if r["period"] == "2024July")
    assert year["span"] == "year" and year["target_revisions"] == ""  # OPCT's plan sets no Kisumu target
    national = client.get(API.format(code="SA01"), headers=headers, query_string={"programme": "OPCT", "format": "csv"})
    year = next(r for r in csv.DictReader(io.StringIO(national.get_data(as_text=True))) if r["period"] == "2024July")
    assert year["target_revisions"].startswith("OPCT PMP 2024July: v1 1,078,308 (Adopted by the MERL TWG); v2 1,078,308")
    assert "Mid-year review" in year["target_revisions"]


def test_the_excel_export_reads_back_with_a_sheet_of_notes(client, session, noted):
    headers = _token(session, "secretariat@demo.test")
    query = {"programme": "OPCT", "org_unit": "042"}
    history = client.get(API.format(code="SA01"), headers=headers, query_string=query).get_json()
    answer = client.get(API.format(code="SA01"), headers=headers, query_string={**query, "format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["History", "Notes", "Targets", "Evidence"]
    header, *rows = list(book["History"].iter_rows(values_only=True))
    assert header == ROW_COLUMNS
    expected = history_rows(history)
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        got = dict(zip(header, row, strict=True))
        assert got["period"] == want["period"] and _close(got["actual"], want["actual"])
        assert _close(got["target"], want["target"]) and (got["notes"] or "") == want["notes"]
    note_header, *notes = list(book["Notes"].iter_rows(values_only=True))
    assert len(notes) == len(history["notes"]) >= 5
    for got, want in zip(notes, history["notes"], strict=True):
        got = dict(zip(note_header, got, strict=True))
        assert (got["period"], got["kind"], got["text"] or "") == (want["period"], want["kind"], want["text"] or "")
    assert any("REOPENMARK" in note_line(n) for n in history["notes"])
    assert len(list(book["Targets"].iter_rows())) == 1  # a header: OPCT's plan sets no Kisumu target
    national = openpyxl.load_workbook(io.BytesIO(client.get(API.format(code="SA01"), headers=headers, query_string={
        "programme": "OPCT", "format": "xlsx"}).data))
    header, *targets = list(national["Targets"].iter_rows(values_only=True))
    versions = [dict(zip(header, row, strict=True)) for row in targets if row[0] == "2024July"]
    assert [(v["scope"], v["version"], v["is_current"]) for v in versions] == [("OPCT", 1, False), ("OPCT", 2, True)]
    assert "Mid-year review" in versions[1]["reason"] and versions[1]["year_target"] == 1078308
    evidence = list(book["Evidence"].iter_rows(values_only=True))
    assert evidence[1][2] == "EVIDMARK OPCT impact evaluation"


def test_a_note_that_looks_like_a_formula_is_exported_as_text(client, session, noted):
    catalogue = load_catalogue(session)
    record = _return(session, "OPCT", "042", "2024Q3")
    session.add(ValueFlag(return_id=record.id, flag_key="formula", kind="history", severity="warning",
                          indicator_id=catalogue.indicators["SA01"].id, message="x",
                          explanation='=HYPERLINK("http://evil.example","click")'))
    session.commit()
    headers = _token(session, "secretariat@demo.test")
    query = {"programme": "OPCT", "org_unit": "042"}
    book = openpyxl.load_workbook(io.BytesIO(client.get(API.format(code="SA01"), headers=headers,
                                                        query_string={**query, "format": "xlsx"}).data))
    cells = [c for row in book["Notes"].iter_rows() for c in row if str(c.value or "").startswith("=HYPER")]
    assert cells and all(c.data_type == "s" for c in cells)
    text = client.get(API.format(code="SA01"), headers=headers, query_string={**query, "format": "csv"})
    cells = [cell for row in csv.reader(io.StringIO(text.get_data(as_text=True))) for cell in row]
    assert any("=HYPERLINK" in cell for cell in cells)
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]  # Excel runs none of them


@pytest.mark.parametrize("email", ["secretariat@demo.test", "reviewer@demo.test", "officer.opct@demo.test",
                                   "officer.hsnp@demo.test", "viewer@demo.test"])
def test_every_signed_in_role_reads_the_page_and_the_api(client, session, email):
    login(client, email)
    page = client.get(PAGE.format(code="SA14"))
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    assert "FY2024/25 (Jul 2024–Jun 2025)" in text and "Targets and their revisions" in text
    assert page.get_data(as_text=True).count("<svg") == 4  # two charts, each for a laptop and for a phone
    for fmt, mimetype in (("json", "application/json"), ("csv", "text/csv"),
                          ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        answer = client.get(API.format(code="SA14"), query_string={"format": fmt}, headers=_token(session, email))
        assert answer.status_code == 200 and answer.mimetype == mimetype


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(PAGE.format(code="SA01")).status_code == 302
    assert client.get(API.format(code="SA01")).status_code == 401


@pytest.mark.parametrize(("path", "query", "status", "named"), [
    (PAGE.format(code="NOPE"), {}, 404, "NOPE"),
    (PAGE.format(code="SA01"), {"org_unit": "999"}, 404, "999"),
    (PAGE.format(code="SA01"), {"programme": "NOPE"}, 404, "NOPE"),
    (API.format(code="NOPE"), {}, 404, "NOPE"),
    (API.format(code="SA01"), {"org_unit": "999"}, 404, "999"),
    (API.format(code="SA01"), {"programme": "NOPE"}, 422, "NOPE"),
    (API.format(code="SA01"), {"format": "pdf"}, 422, "format"),
    (PAGE.format(code="SA01"), {"org_unit": "9" * 41}, 404, "org unit and programme"),
    (API.format(code="SA01"), {"org_unit": "9" * 41}, 422, "org_unit"),
])
def test_bad_input_is_refused_by_name(client, session, path, query, status, named):
    login(client, "reviewer@demo.test")
    answer = client.get(path, query_string=query)
    assert answer.status_code == status
    assert named in answer.get_data(as_text=True)


def test_the_page_and_the_api_read_a_programme_however_it_is_spelt(client, session):
    login(client, "reviewer@demo.test")
    for spelt in ("opct", " OPCT ", "Opct"):
        api = client.get(API.format(code="SA11"), query_string={"programme": spelt, "org_unit": "042"})
        assert api.status_code == 200 and api.get_json()["programme"] == "OPCT", spelt
        page = client.get(PAGE.format(code="SA11"), query_string={"programme": spelt, "org_unit": "042"})
        assert page.status_code == 200, spelt


def test_the_years_chart_marks_a_year_not_over_as_its_year_to_date(client, session):
    login(client, "reviewer@demo.test")
    last = client.get(API.format(code="SA11")).get_json()["years"][-1]
    assert last["complete"] and f"{last['label'].split(' (')[0]} to date" not in client.get(
        PAGE.format(code="SA11")).get_data(as_text=True)
    # In the second quarter of that year, the year has only its first quarter reported: a year to date.
    first = parse_period(last["fiscal_year"]).quarters()[0]
    with time_machine.travel(datetime.combine(first.end + timedelta(days=20), datetime.min.time(), UTC), tick=False):
        login(client, "reviewer@demo.test")  # a session of that day
        years = client.get(API.format(code="SA11")).get_json()["years"]
        body = client.get(PAGE.format(code="SA11")).get_data(as_text=True)
    assert not years[-1]["complete"] and all(y["complete"] for y in years[:-1])
    for year in years:
        label = year["label"].split(" (")[0]
        assert (f"{label} to date" in body) is (not year["complete"]), year["fiscal_year"]


def test_the_indicator_sheet_and_its_results_page_link_to_the_history(client, session):
    login(client, "viewer@demo.test")
    assert 'href="/dashboard/indicators/SA01/history"' in client.get("/indicators/SA01").get_data(as_text=True)
    results = client.get("/dashboard/indicators/SA01", query_string={"programme": "OPCT", "org_unit": "042"})
    assert "/dashboard/indicators/SA01/history?programme=OPCT&amp;org_unit=042" in results.get_data(as_text=True)


def test_an_indicator_without_figures_or_plans_says_so(client, session):
    """An indicator added today has no history yet: the page says so and the exports have a header only."""
    from mel.catalogue.models import Indicator

    catalogue = load_catalogue(session)
    source = catalogue.indicators["SA02"]
    fresh = Indicator(code="SA99", name="A new count", short_name="New", definition="New.", level="output",
                      unit="number", measure="count", time_aggregation="sum", direction="increase",
                      frequency="quarterly", pillar_id=source.pillar_id,
                      disaggregation_set_id=source.disaggregation_set_id)
    session.add(fresh)
    session.commit()
    login(client, "reviewer@demo.test")
    page = client.get(PAGE.format(code="SA99"))
    assert page.status_code == 200 and "No approved figure and no plan line" in page.get_data(as_text=True)
    exported = client.get(API.format(code="SA99"), query_string={"format": "csv"}).get_data(as_text=True)
    assert exported.strip() == ",".join(ROW_COLUMNS)
    assert client.get(API.format(code="SA99")).get_json()["years"] == []


def test_the_page_in_kiswahili(client, session, noted):
    login(client, "reviewer@demo.test")
    client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": csrf_token(client, "/")})
    page = client.get(PAGE.format(code="SA01"), query_string={"programme": "OPCT", "org_unit": "042"})
    text = visible_text(page.get_data(as_text=True))
    for english in ("Targets and their revisions", "Data-quality notes", "Linked evidence", "Download CSV",
                    "Revised after publication", "Returns behind it"):
        assert english not in text, english
    assert "EVIDMARK" in text and figure_code("SA01", "value") in text
    api = client.get(API.format(code="SA01"), query_string={"programme": "OPCT", "org_unit": "042"}).get_json()
    assert any(n["kind"] == "revised" and "changed from" in n["text"] for n in api["notes"])  # the API: English
