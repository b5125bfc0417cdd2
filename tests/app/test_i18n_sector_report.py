"""The sector quarterly progress report and the programme report in Kiswahili: the PDFs read back hold
none of their English template words, print the same figures as the English ones, and the sector
report's county pages laid out in worker processes come out in Kiswahili as those laid out here."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pdfplumber
import pytest

from indicators.workplan import ACTIVITY_STATUSES
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.i18n import compile_catalogues
from mel.reporting.snapshot import gather
from reports import i18n
from reports.model import ACTIVITY_WORDS, build
from reports.render import render_html, render_pdf
from tests.app.report_language_helpers import NUMBER, assert_same_key_figures

pytestmark = pytest.mark.slow  # WeasyPrint lays out five long reports

PERIOD = "2025Q2"
WHEN = datetime(2025, 8, 20, tzinfo=UTC)
PROGRAMME = "HSNP"
# Words of the two reports' templates (and the macros only they use) that must not be left in English.
COMMON = ("Contents", "Key messages", "Summary", "Who is reached", "Eight-quarter trends", "Annex ", "Data quality",
          "Notes on method", "Glossary and indicator definitions", "Republic of Kenya", "Prepared by", "Data as of",
          "Generated", "DRAFT", "Page ", "Performance at a glance", "Indicator", "Baseline", "Actual", "achieved",
          "Last quarter", "Same qtr", "Year to date", "YTD", "On track", "Needs attention", "Off track", "No target",
          "Not reported", "Status bands", "Target ")
ENGLISH = {
    "sector": COMMON + (
        "Social protection sector", "Executive summary", "Reporting completeness and timeliness", "Maps by county",
        "Joint work plan progress", "County pages", "Key figures against their target", "Pillar",
        "expected returns received", "of the required figures are filled in", "By programme", "By county",
        "Expected", "Received", "On time", "Complete", "Timely", "Darker shades", "performance tracking table",
        "Activities of the thematic working groups", "Budget, spend to date", "Absorption", "Thematic working group",
        "All working groups", "activities, budget", "Lead agency", "Spent to date", "Not started", "Delayed",
        "Completed", "Dropped", "One page per county", "Returns:", "No returns expected", "No county targets",
        "No approved figures", "Social Protection Sector Quarterly Progress Report", "Kenya, all programmes"),
    "programme": COMMON + (
        "Programme report", "Indicator performance:", "Results and reporting by county", "against the programme's PMP",
        "the programme's indicators", "Disbursement against budget", "Disbursed to date", "County", "Returns",
        "By the due date", "Columns are the programme's first indicators", " on time", "late", "not received",
        "none expected", "Programme Progress Report"),
}


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


@pytest.fixture(scope="module")
def made(app, tmp_path_factory):
    """{(kind, language[, workers]): ...}: the models, their PDFs' text and the plans' own words."""
    folder = tmp_path_factory.mktemp("catalogues")
    compile_catalogues(folder)
    out: dict = {}
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        for kind, extra in (("sector", {}), ("programme", {"programme": PROGRAMME})):
            for language in ("en", "sw"):
                snapshot = gather(session, catalogue, kind=kind, period=PERIOD, generated_at=WHEN,
                                  language=language, **extra)
                snapshot["voices"] = []  # officers' own words are printed as they wrote them
                with i18n.speaking(language, folder):
                    report = build(snapshot, is_draft=True)
                rendered = render_pdf(report)
                out[kind, language] = (report, _text(rendered.pdf))
                out[kind, language, "timings"] = rendered.timings
                out[kind, language, "data"] = snapshot
    sector = out["sector", "sw"][0]
    rendered = render_pdf(sector, workers=2)  # the county pages in two worker processes
    out["sector", "sw", 2] = _text(rendered.pdf)
    out["sector", "sw", 2, "timings"] = rendered.timings
    return out


def _stored_words(snapshot: dict) -> list[str]:
    """Words printed as the secretariat stored them: the plans' titles and reasons, the work plan's
    working groups, activities, lead agencies and notes, the targets' sources and notes (indicators/targets.py)."""
    words = [(snapshot.get("pmp") or {}).get(key) for key in ("title", "reason")]
    plan = snapshot.get("workplan") or {}
    words += [plan.get("title"), *plan.get("working_groups", {}).values()]
    for activity in plan.get("activities", []):
        words += [activity.get("title"), activity.get("lead_agency"), (activity.get("current") or {}).get("note")]
    for row in snapshot.get("results", []) + snapshot.get("ytd", []):
        words += [row.get("target_source"), row.get("target_note"), row.get("note")]
    return sorted({w for w in words if w}, key=len, reverse=True)


@pytest.mark.parametrize("kind", ["sector", "programme"])
def test_the_kiswahili_report_holds_no_english_template_words(made, kind):
    _, text = made[kind, "sw"]
    _, english = made[kind, "en"]
    # The glossary annex: the catalogue's technical fields (numerator, denominator, source) and the official
    # English names of agencies are printed as they are kept; the sector report's county pages follow it.
    start = text.index("Mipango na vifupisho vilivyotajwa")
    end = text.index("Ukurasa mmoja kwa kila kaunti") if kind == "sector" else len(text)
    flat = " ".join((text[:start] + " " + text[end:]).split())
    for data in _stored_words(made[kind, "sw", "data"]):
        flat = flat.replace(" ".join(data.split()), "")
    english_flat = " ".join(english.split())
    left = [word for word in ENGLISH[kind] if word in flat and word in english_flat]
    assert left == [], [(word, flat[max(0, flat.index(word) - 60):flat.index(word) + 60]) for word in left]
    assert "Mwaka wa Fedha 2024/25, Robo ya 4" in flat


@pytest.mark.parametrize("kind", ["sector", "programme"])
def test_the_kiswahili_report_prints_the_english_reports_figures(made, kind):
    english, _ = made[kind, "en"]
    swahili, _ = made[kind, "sw"]
    assert_same_key_figures(english, swahili)
    columns = ("code", "baseline", "target", "actual", "achievement", "status", "previous", "last_year",
               "ytd_target", "ytd_actual", "ytd_achievement")

    def lines(report):
        return [tuple(getattr(f, c) for c in columns) for p in report.pillars for f in p.figures]

    assert lines(english) == lines(swahili)
    assert english.status_counts == swahili.status_counts
    # the tables only these reports have: the county pages, the county table, the work plan and its money
    # (amounts in words differ, "KES 79.3 m" and "KES milioni 79.3": their numbers do not)

    def figures(items):
        return [NUMBER.findall(str(item)) if isinstance(item, str) else item for item in items]

    assert [(c.code, [figures((f.code, f.actual, f.target, f.status)) for f in c.figures], c.returns)
            for c in english.counties] == [(c.code, [figures((f.code, f.actual, f.target, f.status)) for f in c.figures],
                                            c.returns) for c in swahili.counties]
    assert [(c["code"], figures(c["cells"]), c["returns"]) for c in english.county_table] \
        == [(c["code"], figures(c["cells"]), c["returns"]) for c in swahili.county_table]
    assert [(g.code, figures([g.budget]), g.status_counts, [a["code"] for a in g.activities]) for g in english.workplan] \
        == [(g.code, figures([g.budget]), g.status_counts, [a["code"] for a in g.activities]) for g in swahili.workplan]
    if english.money:
        assert [figures((m.budget_text, m.spent_text, m.absorption_text)) for m in english.money.lines] \
            == [figures((m.budget_text, m.spent_text, m.absorption_text)) for m in swahili.money.lines]
    assert kind != "sector" or (english.counties and english.workplan)
    assert kind != "programme" or english.county_table


def test_the_sector_reports_county_pages_are_kiswahili_in_worker_processes_too(made):
    report, here = made["sector", "sw"]
    assert made["sector", "sw", 2] == here
    assert "Kurasa za kaunti" in here and "No approved figures" not in here
    # a county page of the annex, as the worker laid it out: the county's words in Kiswahili
    part = render_html(report, template="county_part.html", counties=report.counties[:2])
    assert "Ripoti:" in part or "Hakuna ripoti zinazotarajiwa" in part
    assert "Returns:" not in part and "Indicator" not in part


def test_the_county_pages_are_laid_out_apart_in_kiswahili(made):
    """The split layout (reports/parallel.py) holds in Kiswahili with one worker (the default) and two: no
    county page overflows its one-page slot, so neither falls back to laying out one document."""
    assert "parts_wait" in made["sector", "sw", "timings"]
    assert "parts_wait" in made["sector", "sw", 2, "timings"]


def test_the_activity_statuses_are_extracted_for_translation():
    assert sorted(ACTIVITY_WORDS) == sorted(ACTIVITY_STATUSES.values())
