"""Chart labels shaped as whole runs (reports/svg_text.py): placed where SVG says, read back from the PDF."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pdfplumber
import pytest

from reports import svg_text
from reports.render import weasyprint_html

SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="200pt" height="120pt" viewBox="0 0 200 120"
 font-family="DejaVu Sans" font-size="9">
<text x="10" y="20">Start Wajir 12,345</text>
<text x="100" y="40" text-anchor="middle">Middle Tana River</text>
<text x="190" y="60" text-anchor="end">End 78.7%</text>
<text x="10 60 110" y="80">XYZ</text>
<text x="10" y="100"><tspan>Women</tspan> <tspan font-weight="bold">70+</tspan></text>
</svg>"""


def _lines(svg: str) -> list[list]:
    import base64

    source = base64.b64encode(svg.encode()).decode()
    page = "<style>@page { margin: 0 } body { margin: 0 } img { display: block }</style>"
    html = f'<html><head>{page}</head><body><img src="data:image/svg+xml;base64,{source}"></body></html>'
    pdf = weasyprint_html()(string=html).write_pdf()
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        chars = document.pages[0].chars
    lines: dict[int, list] = {}
    for char in chars:
        lines.setdefault(round(char["top"]), []).append(char)
    return [sorted(line, key=lambda c: c["x0"]) for _, line in sorted(lines.items())]


@pytest.fixture(scope="module")
def lines():
    assert svg_text.install(), "the whole-run drawing is written for the pinned WeasyPrint"
    return _lines(SVG)


def _text(line: list) -> str:
    return "".join(c["text"] for c in line)


def test_every_label_reads_back_whole_at_its_size(lines):
    assert [_text(line).replace(" ", "") for line in lines] == [
        "StartWajir12,345", "MiddleTanaRiver", "End78.7%", "XYZ", "Women70+"]
    assert all(round(c["size"], 1) == 9.0 for line in lines for c in line)


def test_anchors_place_the_run_as_svg_says(lines):
    start, middle, end = lines[0], lines[1], lines[2]
    assert start[0]["x0"] == pytest.approx(10, abs=0.6)
    assert (middle[0]["x0"] + middle[-1]["x1"]) / 2 == pytest.approx(100, abs=0.8)
    assert end[-1]["x1"] == pytest.approx(190, abs=0.8)
    for line in lines[:3]:  # glyphs follow each other (kerning pulls "Wa" and "Ta" closer, as type should)
        for left, right in zip(line, line[1:], strict=False):
            assert left["x0"] < right["x0"] and right["x0"] >= left["x1"] - 2.0
            assert right["x0"] - left["x1"] < 4


def test_glyph_positions_stay_with_weasyprint(lines):
    xyz = lines[3]
    assert [round(c["x0"]) for c in xyz] == [10, 60, 110]
    node = ET.fromstring('<text x="10 60 110" y="80">XYZ</text>')
    assert not svg_text.whole_run(type("Node", (), {"attrib": node.attrib})())


@pytest.mark.parametrize("attributes, whole", [
    ({}, True), ({"x": "3", "y": "4"}, True), ({"dx": "1", "dy": "2"}, True),
    ({"x": "1 2"}, False), ({"y": "1,2"}, False), ({"rotate": "90"}, False),
    ({"textLength": "40"}, False), ({"letter-spacing": "2"}, False),
])
def test_only_runs_without_glyph_placement_are_whole(attributes, whole):
    assert svg_text.whole_run(type("Node", (), {"attrib": attributes})()) is whole


def test_text_on_a_path_and_links_stay_with_weasyprint():
    for tag in ("textPath", "a"):
        assert not svg_text.whole_run(type("Node", (), {"tag": tag, "attrib": {}})())
