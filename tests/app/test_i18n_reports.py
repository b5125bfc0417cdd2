"""The fact sheet and the county profile in Kiswahili: the PDFs read back hold none of the English
template words, print the same figures as the English ones (numbers with the locale's symbols), and
`mel report factsheet --lang sw` records its language; both languages of one quarter can be published."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pdfplumber
import pytest
from babel.numbers import get_decimal_symbol, get_group_symbol
from sqlalchemy import select

from mel.accounts.models import User
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.i18n import compile_catalogues
from mel.reporting import operations
from mel.reporting.models import ReportRun
from mel.reporting.snapshot import gather
from reports import i18n
from reports.model import build
from reports.render import render_pdf
from tests.app.report_language_helpers import NUMBER, assert_same_key_figures

pytestmark = pytest.mark.slow  # WeasyPrint lays out four reports

PERIOD = "2025Q2"
WHEN = datetime(2025, 8, 20, tzinfo=UTC)
# Words of the report templates and of the model's sentences that must not be left in English.
ENGLISH = ("Key messages", "Performance at a glance", "Trends by pillar", "Women and men reached", "Reporting",
           "A year earlier", "Target ", "Source: quarterly returns", "Fact sheet of the National",
           "approved figures as of", "Social protection in Kenya", "On track", "Needs attention", "Off track",
           "not reported", " million", " billion", "Status of all indicators", "Page ", " of ", "Contents",
           "Summary", "Annex", "Notes on method", "Data quality", "Glossary and indicator definitions",
           "Returns this quarter", "Trends and the county", "All programmes together", "By programme",
           "Who is reached", "Expected", "Received", "On time", "Indicator", "Baseline", "Actual", "Status bands",
           "Largest rise", "Largest fall", "expected return", "by the due date", "Republic of Kenya",
           "Prepared by", "Data as of", "Generated", "DRAFT – not", "County Social Protection Profile",
           "Fact Sheet", "Kenya, all programmes", "Counts and amounts", "Approved figures only", "Quarter",
           "FY2024/25", "the only programme reporting it", "sum of programme targets", "sum of county targets",
           "PMP sets no", "not added across programmes", "Women", "Men ", "Older persons paid", "Grievances", "Cash transfers")


@pytest.fixture(scope="module")
def made(app, tmp_path_factory):
    """{(kind, language): (report model, PDF text)} for the fact sheet and Kisumu's profile."""
    folder = tmp_path_factory.mktemp("catalogues")
    compile_catalogues(folder)
    out = {}
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        for kind, extra in (("factsheet", {}), ("county", {"org_unit": "042"})):
            for language in ("en", "sw"):
                snapshot = gather(session, catalogue, kind=kind, period=PERIOD, generated_at=WHEN,
                                  language=language, **extra)
                snapshot["voices"] = []  # officers' own words are printed as they wrote them
                with i18n.speaking(language, folder):
                    report = build(snapshot, is_draft=True)
                pdf = render_pdf(report).pdf
                with pdfplumber.open(io.BytesIO(pdf)) as document:
                    text = "\n".join(page.extract_text() or "" for page in document.pages)
                out[kind, language] = (report, text)
                out[kind, language, "plan"] = snapshot.get("pmp") or {}
    return out


@pytest.mark.parametrize("kind", ["factsheet", "county"])
def test_the_kiswahili_report_holds_no_english_template_words(made, kind):
    _, text = made[kind, "sw"]
    _, english = made[kind, "en"]
    # The glossary annex ends the county profile: the catalogue's technical fields (numerator,
    # denominator, source) and the official English names of agencies are printed as they are kept.
    text = text[:text.index("Mipango na vifupisho vilivyotajwa")] if kind == "county" else text
    flat = " ".join(text.split())
    plan = made[kind, "sw", "plan"]  # the plan's title and reason are the secretariat's words, as stored
    for data in (plan.get("title"), plan.get("reason")):
        flat = flat.replace(data, "") if data else flat
    left = [word for word in ENGLISH if word in flat and word in " ".join(english.split())]
    assert left == [], [(word, flat[max(0, flat.index(word) - 60):flat.index(word) + 60]) for word in left]
    assert "Mwaka wa Fedha 2024/25, Robo ya 4" in flat  # the period's words, its numbers as they are


@pytest.mark.parametrize("kind", ["factsheet", "county"])
def test_the_kiswahili_report_prints_the_english_reports_figures(made, kind):
    english, _ = made[kind, "en"]
    swahili, _ = made[kind, "sw"]
    assert_same_key_figures(english, swahili)
    lines = {(f.code, f.actual, f.target, f.achievement, f.status) for p in english.pillars for f in p.figures}
    assert lines == {(f.code, f.actual, f.target, f.achievement, f.status) for p in swahili.pillars for f in p.figures}
    assert english.status_counts == swahili.status_counts
    assert len(english.story.key_messages) == len(swahili.story.key_messages)
    for en, sw in zip(english.story.key_messages, swahili.story.key_messages, strict=True):
        assert sorted(NUMBER.findall(en)) == sorted(NUMBER.findall(sw))


def test_numbers_use_the_locales_symbols():
    """Kiswahili writes numbers as English does (CLDR: "," groups, "." decimals); a language that does not
    gets its own symbols from the same function, and the rounding stays indicators/display.py's."""
    assert (get_group_symbol("sw"), get_decimal_symbol("sw")) == (",", ".")
    with i18n.speaking("sw"):
        assert i18n.number(1234567.25, 1) == "1,234,567.2"
    with i18n.speaking("de"):  # not a language of the service: only to show the symbols are the locale's
        assert i18n.number(1234567.25, 1) == "1.234.567,2"
        assert i18n.localised("10,204.3") == "10.204,3"
    assert i18n.number(1234567.25, 1) == "1,234,567.2"


def test_english_reports_are_written_as_before(made):
    report, text = made["factsheet", "en"]
    assert report.language == "en"
    assert "Key messages" in text and "Performance at a glance" in text
    assert report.period_label == "FY2024/25 Q4 (Apr–Jun 2025)"


def test_the_cli_writes_a_kiswahili_fact_sheet_and_both_languages_can_be_published(app, tmp_path):
    runner = app.test_cli_runner()
    for language in ("en", "sw"):
        out = tmp_path / f"factsheet-{language}.pdf"
        result = runner.invoke(args=["report", "factsheet", "--period", PERIOD, "--lang", language, "-o", str(out)])
        assert result.exit_code == 0, result.output
        with pdfplumber.open(out) as document:
            first = document.pages[0].extract_text() or ""
        assert ("Ujumbe mkuu" in first) == (language == "sw")
    unknown = runner.invoke(args=["report", "factsheet", "--period", PERIOD, "--lang", "fr", "-o", str(tmp_path / "y.pdf")])
    assert unknown.exit_code != 0 and "language" in unknown.output
    with app.app_context():
        session = db.session
        runs = session.scalars(select(ReportRun).where(ReportRun.kind == "factsheet", ReportRun.period == PERIOD,
                                                       ReportRun.trigger == "cli").order_by(ReportRun.id.desc())).all()
        latest = {}
        for run in runs:
            latest.setdefault(run.language, run)
        assert set(latest) == {"en", "sw"}
        assert latest["sw"].title.startswith("Muhtasari wa Takwimu za Hifadhi ya Jamii")
        secretariat = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
        try:  # published in this transaction only: a published run can never be removed from the suite's database
            for run in latest.values():
                operations.publish(session, run, secretariat, app.config)
            session.flush()
            assert all(session.get(ReportRun, run.id).is_published for run in latest.values())
            again = operations.rerun(session, latest["sw"], secretariat)
            assert again.language == "sw" and again.title == latest["sw"].title
        finally:
            session.rollback()
