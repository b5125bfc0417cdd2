"""Page layout of the fact sheet and the county profile, read back from the PDFs: two full pages, text
inside its cards, no heading left at the foot of a page, programme headings repeated on the pages a
table runs to, no page with a single row of a table, and targets of a revised plan footnoted."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pdfplumber
import pytest

from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.plans.operations import content_of, get_pmp, load_version, revise
from mel.reporting.snapshot import gather
from reports.layout import kept_rows
from reports.model import build
from reports.render import render_pdf

pytestmark = pytest.mark.slow  # WeasyPrint lays out several reports

PERIOD = "2025Q2"
WHEN = datetime(2025, 8, 20, tzinfo=UTC)
CARD_BORDER = (0.788235, 0.839216, 0.811765)  # report.css .big border (#c9d6cf)
MM = 72 / 25.4
TOP, BOTTOM = 17 * MM, 16 * MM  # the page margins (report.css @page): the running heads lie outside
ROW = re.compile(r"^[A-Z]{2,3}\d{2}\b")  # a row of an indicator table starts with the indicator's code
REASON = "Mid-year review after the supplementary budget"


def snapshot_of(kind: str, **extra) -> dict:
    session = db.session
    return gather(session, load_catalogue(session), kind=kind, period=PERIOD, generated_at=WHEN, **extra)


@pytest.fixture(scope="module")
def pdfs(app):
    """{name: PDF bytes}: the fact sheet, Kisumu's profile, a profile with a long programme table, and the
    fact sheet and profile after the sector plan was revised (rolled back afterwards)."""
    made = {}
    with app.app_context():
        made["factsheet"] = render_pdf(build(snapshot_of("factsheet"))).pdf
        late = snapshot_of("factsheet")  # every programme late, those with the longest names the latest
        rows = sorted(late["returns"]["by_programme"], key=lambda r: -len(late["programmes"][r["programme"]]["name"]))
        for number, row in enumerate(rows):
            row["timeliness"] = float(number * 9)
        made["all late"] = render_pdf(build(late)).pdf
        county = snapshot_of("county", org_unit="042")
        made["county"] = render_pdf(build(county)).pdf
        long = build(county)
        longest = max(long.programmes, key=lambda p: len(p.figures))
        longest.figures = longest.figures * (-(-90 // len(longest.figures)))  # 90 rows or more: it must break
        made["long"] = render_pdf(long).pdf
        session = db.session
        catalogue = load_catalogue(session)
        pmp = get_pmp(session, catalogue, "SECTOR", "2024July")
        content = content_of(load_version(session, pmp))
        content.targets["value"] = [str(round(float(v) * 0.9)) if v not in ("", None) else v
                                    for v in content.targets["value"]]
        assert revise(session, catalogue, load_user(session, "secretariat@demo.test"), pmp, content,
                      reason=REASON) is not None
        made["revised"] = render_pdf(build(snapshot_of("factsheet"))).pdf
        session.rollback()
    return made


def body_lines(page) -> list[dict]:
    """The page's text lines between the running head and foot, top to bottom."""
    lines = page.extract_text_lines(x_tolerance=1.5)
    return [ln for ln in lines if ln["top"] > TOP - 2 and ln["bottom"] < page.height - BOTTOM + 2]


def is_heading(line: dict) -> bool:
    chars = [c for c in line["chars"] if c["text"].strip()]
    return bool(chars) and all("Bold" in c["fontname"] and c["size"] >= 9.4 for c in chars)


def test_the_first_two_and_last_two_rows_of_a_table_stay_together():
    assert [kept for _, kept in kept_rows(range(6))] == [False, True, False, False, False, True]
    assert [kept for _, kept in kept_rows(range(3))] == [False, True, True]
    assert [kept for _, kept in kept_rows(range(1))] == [False]
    assert kept_rows([]) == []


@pytest.mark.parametrize("name", ["factsheet", "all late"])
def test_the_fact_sheet_is_two_full_pages(pdfs, name):
    """Two full pages, however many programmes were late (the three least on time are named)."""
    with pdfplumber.open(io.BytesIO(pdfs[name])) as document:
        assert len(document.pages) == 2
        for page in document.pages:
            lowest = max(ln["bottom"] for ln in body_lines(page))
            assert lowest > page.height * 0.6, (page.page_number, lowest, page.height)  # not a half-empty page
        last = " ".join(ln["text"] for ln in body_lines(document.pages[1]))
        assert "Source: quarterly returns of the programmes" in last
        if name == "all late":
            assert "Least on time:" in last and "more programmes were late too" in last


def test_the_fact_sheet_opens_with_its_key_messages_and_ends_with_women_and_men(pdfs):
    with pdfplumber.open(io.BytesIO(pdfs["factsheet"])) as document:
        first, second = ([ln["text"] for ln in body_lines(page)] for page in document.pages)
    heading = next(n for n, line in enumerate(first) if line.startswith("Key messages"))
    glance = next(n for n, line in enumerate(first) if "Performance at a glance" in line)
    assert heading < glance and heading <= 3, first[:6]  # under the title band, before the cards
    assert any(line.startswith("Women and men among those reached: the 5 largest figures") for line in second)
    assert not any(line.startswith("Key messages") for line in second)


def test_every_fact_sheet_card_holds_its_text(pdfs):
    with pdfplumber.open(io.BytesIO(pdfs["factsheet"])) as document:
        page = document.pages[0]
        edges = [r for r in page.rects if r["fill"] and tuple(round(v, 6) for v in r["non_stroking_color"] or ())
                 == CARD_BORDER and r["width"] > 100 and r["height"] > 60]
        # a border is drawn as its outer and inner edge: the card is the outer one
        cards = [r for r in edges if not any(o is not r and o["x0"] <= r["x0"] and r["x1"] <= o["x1"]
                                            and o["top"] <= r["top"] and r["bottom"] <= o["bottom"] for o in edges)]
        assert len(cards) == 6, [(round(r["width"]), round(r["height"])) for r in cards]
        grid_top = min(c["top"] for c in cards)
        after = min(ln["top"] for ln in body_lines(page) if "Performance at a glance" in ln["text"])
        inside = 0
        for char in page.chars:
            if not char["text"].strip() or not grid_top <= char["top"] < after:
                continue
            home = [c for c in cards if c["x0"] - 0.5 <= char["x0"] and char["x1"] <= c["x1"] + 0.5
                    and c["top"] - 0.5 <= char["top"] and char["bottom"] <= c["bottom"] + 0.5]
            assert home, f"{char['text']!r} at ({char['x0']:.0f}, {char['top']:.0f}) lies outside every card"
            inside += 1
        assert inside > 200  # every card's value, label and details were looked at


@pytest.mark.parametrize("name", ["factsheet", "county", "long"])
def test_no_heading_is_the_last_text_on_a_page(pdfs, name):
    with pdfplumber.open(io.BytesIO(pdfs[name])) as document:
        for page in document.pages[1:]:  # the cover of a profile has no running head
            lines = body_lines(page)
            if lines:
                assert not is_heading(lines[-1]), (name, page.page_number, lines[-1]["text"])


def table_parts(pdf: bytes) -> list[dict]:
    """Every indicator table's part on each page: its page, the heading above its head and its rows."""
    parts: list[dict] = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            lines = body_lines(page)
            current = None
            for n, line in enumerate(lines):
                text = line["text"]
                if text.startswith("Code Indicator"):
                    head = n - 1 if n and lines[n - 1]["text"].startswith("%") else n  # "% Last Same qtr" above
                    above = lines[head - 1]["text"] if head else ""
                    current = {"page": page.page_number, "heading": above, "rows": 0, "x0": line["x0"],
                               "first": head <= 1}
                    parts.append(current)
                elif current is not None and ROW.match(text) and abs(line["x0"] - current["x0"]) < 3:
                    current["rows"] += 1
                elif current is not None and abs(line["x0"] - current["x0"]) < 3 and not ROW.match(text):
                    current = None  # the table ended; a wrapped cell starts further right
    return parts


def test_a_programme_table_broken_across_pages_repeats_its_heading(pdfs):
    parts = [p for p in table_parts(pdfs["long"]) if re.search(r"\([A-Z]+\)$", p["heading"])]
    longest = max({p["heading"] for p in parts}, key=lambda h: sum(p["rows"] for p in parts if p["heading"] == h))
    pages = [p["page"] for p in parts if p["heading"] == longest]
    assert len(pages) >= 2 and pages == list(range(pages[0], pages[0] + len(pages))), (longest, pages)
    for part in (p for p in parts if p["heading"] == longest and p["page"] != pages[0]):
        assert part["first"], part  # the heading and the table head open the next page


@pytest.mark.parametrize("name", ["county", "long"])
def test_no_page_holds_a_single_row_of_a_table(pdfs, name):
    parts = table_parts(pdfs[name])
    assert sum(p["rows"] for p in parts) > 30
    by_table: dict[tuple[str, int], list[dict]] = {}
    start = 0
    for n, part in enumerate(parts):  # a table continues on the next page with the same heading
        if not (n and part["first"] and part["heading"] == parts[n - 1]["heading"]
                and part["page"] == parts[n - 1]["page"] + 1):
            start = n
        by_table.setdefault((part["heading"], start), []).append(part)
    broken = [found for found in by_table.values() if len(found) > 1]
    assert broken or name == "county"
    for found in broken:
        assert all(p["rows"] >= 2 for p in found), [(p["page"], p["heading"], p["rows"]) for p in found]


def test_targets_of_a_revised_plan_are_footnoted_with_the_revision_and_its_reason(pdfs):
    note = f"Targets marked † come from revision 2 of the Sector PMP FY2024/25: {REASON}."
    with pdfplumber.open(io.BytesIO(pdfs["revised"])) as document:
        text = " ".join(" ".join((p.extract_text(x_tolerance=1.5) or "") for p in document.pages).split())
    assert note in text
    assert re.search(r"Target [^ ]+( million| billion| m)?† ·", text), "no target carries the mark"
    with pdfplumber.open(io.BytesIO(pdfs["factsheet"])) as document:  # the plan as adopted: no footnote
        text = " ".join((p.extract_text() or "") for p in document.pages)
    assert "†" not in text and "revision" not in text
