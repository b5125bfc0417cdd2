"""SVG charts are well-formed, labelled and show gaps and targets."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports.charts import line_chart

NS = "{http://www.w3.org/2000/svg}"


def test_line_chart_is_valid_svg_with_a_title_and_target():
    svg = line_chart(["FY23/24 Q1", "Q2", "Q3", "FY24/25 Q4"], [100, 120, None, 150], title="SA01 beneficiaries",
                     target=160)
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg" and root.find(f"{NS}title").text == "SA01 beneficiaries"
    assert len(root.findall(f"{NS}polyline")) == 1  # the gap splits the line; a lone point is a dot
    assert len(root.findall(f"{NS}circle")) == 3
    assert "target 160" in svg


def test_line_chart_without_figures_says_so():
    assert "No figures yet" in line_chart(["a", "b"], [None, None], title="x")
