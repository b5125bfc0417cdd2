"""The four report kinds read back from their PDFs: chart text at 8 pt or more, words instead of codes, a glossary."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pdfplumber
import pytest

from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.reporting.snapshot import gather
from reports.model import build
from reports.render import render_pdf

pytestmark = pytest.mark.slow  # WeasyPrint lays out all four kinds, the sector report with workers

PERIOD = "2025Q2"  # FY2024/25 Q4, the demo's latest approved quarter
PAPER = (1.0, 1.0, 0.996)  # reports/charts.py PAPER, #fffffe: the background of each chart
OPTION_CODE = re.compile(r"\b[FM]_A\d{2}(?:_\d{2}|P)\b|\b[FM]_A\d")
KINDS = {"sector": {}, "programme": {"programme": "OPCT"}, "county": {"org_unit": "042"}, "factsheet": {}}


@pytest.fixture(scope="module")
def reports(app):
    """kind -> (snapshot, pdf bytes) for the demo's latest quarter."""
    found = {}
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        snapshots = {kind: gather(session, catalogue, kind=kind, period=PERIOD,
                                  generated_at=datetime(2025, 8, 20, tzinfo=UTC), **extra)
                     for kind, extra in KINDS.items()}
        session.rollback()
    for kind, snapshot in snapshots.items():
        rendered = render_pdf(build(snapshot, is_draft=True, reference="test run"),
                              workers=2 if kind == "sector" else 1)
        found[kind] = (snapshot, rendered.pdf)
    return found


def _paper(rect: dict) -> bool:
    colour = rect.get("non_stroking_color")
    return isinstance(colour, tuple | list) and len(colour) == 3 and all(
        abs(a - b) < 0.002 for a, b in zip(colour, PAPER, strict=True))


def chart_regions(pdf: bytes) -> list[tuple[int, list[dict], list[str]]]:
    """Each chart of the report: (page number, its characters, its lines of text)."""
    regions = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, start=1):
            for rect in filter(_paper, page.rects):
                box = (max(rect["x0"], 0), max(rect["top"], 0), min(rect["x1"], page.width),
                       min(rect["bottom"], page.height))
                crop = page.within_bbox(box)
                lines = [line["text"] for line in crop.extract_text_lines()]
                regions.append((number, crop.chars, lines))
    return regions


def full_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


@pytest.mark.parametrize("kind", list(KINDS))
def test_chart_text_prints_at_8_pt_or_more_in_the_body_font(reports, kind):
    _, pdf = reports[kind]
    regions = chart_regions(pdf)
    assert len(regions) >= {"sector": 30, "programme": 8, "county": 1, "factsheet": 5}[kind]
    chars = [c for _, found, _ in regions for c in found if c["text"].strip()]
    assert chars
    small = sorted({(round(c["size"], 2), c["text"], page) for page, found, _ in regions for c in found
                    if c["text"].strip() and c["size"] < 7.99})
    assert not small, small[:10]
    assert all("DejaVu" in c["fontname"] for c in chars), {c["fontname"] for c in chars}


@pytest.mark.parametrize("kind", list(KINDS))
def test_words_not_codes(reports, kind):
    snapshot, pdf = reports[kind]
    text = full_text(pdf)
    assert "…" not in text
    assert not OPTION_CODE.search(text), OPTION_CODE.findall(text)[:5]
    for wrong in ("1 indicators", "1 need attention", "1 are on track", "1 are off track", "1 have no",
                  "1 were reported", "1 expected returns"):
        assert not re.search(rf"(?<![\d,.]){wrong}", text), wrong  # "11 indicators" is right
    codes = set(snapshot["programmes"])
    for page, _, lines in chart_regions(pdf):
        alone = [line for line in lines if line.strip() in codes]
        assert not alone, f"programme code as a chart label on page {page}: {alone}"


def test_returns_chart_and_county_table_name_programmes_and_say_on_time(reports):
    snapshot, pdf = reports["sector"]
    # the words of the charts without their figures (a bar's value shares a text line with its name)
    words = "".join(re.sub(r"\S*\d\S*", "", line) for _, _, found in chart_regions(pdf) for line in found)
    words = words.replace(" ", "")
    for name in ("National Social Security Fund", "Hunger Safety Net Programme"):  # wrapped onto lines, whole
        assert name.replace(" ", "") in words
    text = full_text(reports["programme"][1])
    assert "By the due date" in text and re.search(r"\b(on time|late|not received)\b", text)
    assert not re.search(r"\b[01]/1\b", text)


@pytest.mark.parametrize("kind", ["sector", "programme", "county"])
def test_glossary_annex_names_acronyms_and_each_indicators_source_and_method(reports, kind):
    snapshot, pdf = reports[kind]
    text = full_text(pdf)
    start = text.index("The programmes and abbreviations named in this report")
    annex = text[start:]
    assert "Kenya shillings" in annex and "Performance monitoring plan" in annex and "Thematic working group" in annex
    for code, programme in snapshot["programmes"].items():
        assert code in annex and programme["name"].split(" (")[0][:30] in annex.replace("\n", " ")
    shown = {r["indicator"] for r in snapshot["results"]}
    flat = annex.replace("\n", " ")
    for code in shown:
        assert f"({code})" in flat, code
    assert flat.count("Reported by:") == len(shown) and flat.count("Frequency:") == len(shown)
    assert "Numerator:" in flat and "Denominator:" in flat and "Basis:" in flat and "Once a year" in flat
