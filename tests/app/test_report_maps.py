"""County maps in the PDFs: 47 county shapes in the sector report and the fact sheet, the OSM credit,
text of at least 8 pt, and the locator map on the county pages."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pdfplumber
import pytest

from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.reporting.snapshot import gather
from reports.model import build
from reports.render import render_pdf

pytestmark = pytest.mark.slow  # WeasyPrint lays out the sector report (its county annex in workers)

PERIOD = "2025Q2"
CREDIT = "© OpenStreetMap contributors"
BORDER = (0.435294, 0.435294, 0.435294)  # reports.maps.BORDER (#6f6f6f), the stroke of every county


@pytest.fixture(scope="module")
def pdfs(app):
    """{kind: PDF bytes} of the sector report, the fact sheet and Kisumu's county profile."""
    made = {}
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        for kind, extra in (("sector", {}), ("factsheet", {}), ("county", {"org_unit": "042"})):
            snapshot = gather(session, catalogue, kind=kind, period=PERIOD,
                              generated_at=datetime(2025, 8, 20, tzinfo=UTC), **extra)
            made[kind] = render_pdf(build(snapshot, is_draft=True, reference="maps"),
                                    workers=2 if kind == "sector" else 1).pdf
        session.rollback()
    return made


def pages_with_maps(pdf: bytes) -> list[dict]:
    """Per page that prints the credit: its text, its county shapes and the sizes of text near them."""
    found = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, start=1):
            text = page.extract_text(x_tolerance=1.5) or ""
            if "OpenStreetMap" not in text:
                continue
            shapes = [c for c in page.curves if c["fill"] and tuple(round(v, 6) for v in c["stroking_color"] or ())
                      == BORDER]
            top, bottom = min(s["top"] for s in shapes), max(s["bottom"] for s in shapes)
            near = {round(ch["size"], 1) for ch in page.chars if top - 30 <= ch["top"] <= bottom + 20}
            found.append({"page": number, "text": text, "shapes": shapes, "sizes": near,
                          "credits": " ".join(text.split()).count(CREDIT)})  # wrapped or not
    return found


def test_the_sector_report_has_maps_of_47_county_shapes_with_legend_and_credit(pdfs):
    maps = [p for p in pages_with_maps(pdfs["sector"]) if "Maps by county" in p["text"] or "by county," in p["text"]]
    assert maps, "no map page in the sector report"
    first = maps[0]
    assert "Maps by county" in first["text"] and "SA03" in first["text"]
    for page in maps:
        assert page["credits"] >= 1 and len(page["shapes"]) == 47 * page["credits"], page["page"]
        assert "No data" in page["text"] or "(47 counties)" in page["text"] or "counties)" in page["text"]
        assert "Per cent" in page["text"]  # the legend's unit
        assert min(page["sizes"]) >= 8, (page["page"], sorted(page["sizes"]))
    total = sum(p["credits"] for p in maps)
    assert 1 <= total <= 4  # a sensible number of maps


def test_the_fact_sheet_has_one_map_and_stays_two_pages(pdfs):
    with pdfplumber.open(io.BytesIO(pdfs["factsheet"])) as document:
        assert len(document.pages) == 2
    maps = pages_with_maps(pdfs["factsheet"])
    assert len(maps) == 1 and maps[0]["credits"] == 1
    assert len(maps[0]["shapes"]) == 47
    assert "by county" in maps[0]["text"] and min(maps[0]["sizes"]) >= 8


def test_county_pages_show_the_county_within_kenya(pdfs):
    maps = pages_with_maps(pdfs["county"])
    # The locator's caption sits beside the summary's text, whose lines extraction may interleave with it:
    # the page is found by its words, the caption itself read from the crop under the map below.
    profile = [p for p in maps if "within Kenya" in p["text"] and "Kisumu County" in p["text"]
               and "by county," not in p["text"]]
    assert len(profile) == 1
    context = [p for p in maps if "by county," in p["text"]]  # its coverage among the other counties
    assert len(context) == 1 and len(context[0]["shapes"]) == 47 and "Kisumu County" in context[0]["text"]
    assert "of 47 counties with a figure" in " ".join(context[0]["text"].split())
    shapes = profile[0]["shapes"]
    with pdfplumber.open(io.BytesIO(pdfs["county"])) as document:  # the words under the locator map
        page = document.pages[profile[0]["page"] - 1]
        box = (min(s["x0"] for s in shapes) - 3, max(s["bottom"] for s in shapes),
               min(page.width, max(s["x1"] for s in shapes) + 3), max(s["bottom"] for s in shapes) + 50)
        caption = " ".join((page.crop(box).extract_text(x_tolerance=1.5) or "").split())
    assert caption == f"Kisumu County within Kenya {CREDIT}"
    dark = [s for s in shapes if s["non_stroking_color"] != shapes[0]["non_stroking_color"]]
    assert len(shapes) == 47 and len(dark) == 1  # the other 46 are one path of 46 parts
    annex = [p for p in pages_with_maps(pdfs["sector"]) if "County annex" in p["text"]]
    assert len(annex) == 47 and all(len(p["shapes"]) == 47 for p in annex)
