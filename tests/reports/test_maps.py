"""County maps: 47 county paths keyed by code, classes and legend right, credit and sizes on every map."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from reports import maps
from reports.county_maps import county_maps, locator_uri

NS = "{http://www.w3.org/2000/svg}"
CODES = [f"{n:03d}" for n in range(1, 48)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def county_fills(root: ET.Element) -> dict[str, str]:
    return {p.get("data-code"): p.get("fill") for p in root.iter(f"{NS}path") if p.get("class") == "county"}


def legend(root: ET.Element) -> list[str]:
    """The legend's entry lines: the text right of each key swatch."""
    keys = [float(r.get("x")) for r in root.iter(f"{NS}rect") if r.get("class") == "key"]
    return [t.text for t in root.iter(f"{NS}text") if keys and float(t.get("x")) == keys[0] + 22]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def test_the_boundaries_hold_47_counties_keyed_by_code():
    assert [code for code, _, _ in maps.counties()] == CODES
    names = {code: name for code, name, _ in maps.counties()}
    assert names["047"] == "Nairobi City" and names["042"] == "Kisumu" and names["006"] == "Taita/Taveta"


def test_a_choropleth_has_47_county_paths_each_with_its_code_and_figure():
    values = {code: float(n) for n, code in enumerate(CODES)}
    root = parse(maps.choropleth(values, title="SA03 coverage", unit="Per cent (%)", fmt=lambda v: f"{v:.1f}%"))
    fills = county_fills(root)
    assert sorted(fills) == CODES
    assert all(fill.startswith("#") for fill in fills.values())
    tips = {p.get("data-code"): p.find(f"{NS}title").text for p in root.iter(f"{NS}path") if p.get("data-code")}
    assert tips["042"] == "Kisumu (042): 41.0%" and tips["047"] == "Nairobi City (047): 46.0%"
    # darker is higher: the county with the highest figure has the darkest class colour
    assert fills["047"] == maps.PALETTES[5][-1] and fills["001"] == maps.PALETTES[5][0]


def test_every_map_prints_the_osm_credit_a_title_and_text_of_at_least_8_pt():
    for svg in (maps.choropleth({"001": 1.0}, title="T", unit="Number"), maps.locator("047")):
        root = parse(svg)
        assert "© OpenStreetMap contributors" in " ".join(texts(root))  # wrapped or not
        assert root.find(f"{NS}title").text
        sizes = [float(t.get("font-size")) for t in root.iter(f"{NS}text")]
        assert sizes and min(sizes) >= 8
        assert root.get("width").endswith("pt")  # one user unit is one point: the sizes print as given
        assert "DejaVu Sans" in root.get("font-family")


def test_long_titles_wrap_and_are_never_cut():
    title = "SA03 Coverage of persons aged 70+ by the Inua Jamii Older Persons Cash Transfer, by county, " \
            "FY2024/25 Q4 (Apr–Jun 2025)"
    root = parse(maps.choropleth({"001": 1.0}, title=title, unit="Per cent (%)", width=300, map_width=150))
    lines = [t.text for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold"][:-1]
    assert " ".join(lines) == title and len(lines) > 1
    assert "…" not in maps.choropleth({"001": 1.0}, title=title, unit="Per cent (%)")


@pytest.mark.parametrize(("values", "expected"), [
    # all counties equal: one class, its value once
    ({code: 50.0 for code in CODES}, ["50 (47 counties)"]),
    # one county with a figure: one class, 46 hatched "No data"
    ({"042": 12.0}, ["12 (1 county)", "No data (46 counties)"]),
    # zeros are figures, not missing
    ({**{code: 0.0 for code in CODES[:40]}, **{code: 10.0 for code in CODES[40:]}},
     ["10 (7 counties)", "0 (40 counties)"]),
    # negative figures (a fall) class like any other
    ({"001": -5.0, "002": -1.0, "003": 0.0, "004": 3.0, "005": 8.0},
     ["8 (1 county)", "3 (1 county)", "0 (1 county)", "-1 (1 county)", "-5 (1 county)", "No data (42 counties)"]),
    # no figure at all: every county hatched
    ({}, ["No data (47 counties)"]),
    # None and NaN are missing
    ({"001": None, "002": float("nan"), "003": 4.0, "004": 4.0}, ["4 (2 counties)", "No data (45 counties)"]),
])
def test_classes_and_legend_for_awkward_tables(values, expected):
    root = parse(maps.choropleth(values, title="t", unit="Number"))
    assert legend(root) == expected
    fills = county_fills(root)
    missing = [c for c in CODES if values.get(c) is None or values.get(c) != values.get(c)]
    assert all(fills[c] == "url(#nodata)" for c in missing)  # hatched
    assert len(root.findall(f"{NS}defs/{NS}pattern")) == 1


def test_quantile_classes_hold_about_equal_counts_and_ties_stay_together():
    values = {code: float(n // 2) for n, code in enumerate(CODES)}  # 0,0,1,1,…,23
    classes = maps.classify(values)
    assert len(classes) == 5 and sum(c.count for c in classes) == 47
    assert all(8 <= c.count <= 11 for c in classes)
    assert all(a.high < b.low for a, b in zip(classes, classes[1:], strict=False))  # no value in two classes
    assert [c.colour for c in classes] == list(maps.PALETTES[5])
    for value in values.values():
        found = maps.class_of(value, classes)
        assert found is not None and found.low <= value <= found.high


def test_fewer_distinct_values_give_fewer_classes_with_their_palette():
    classes = maps.classify({"001": 1.0, "002": 2.0, "003": 2.0})
    assert [(c.label, c.count) for c in classes] == [("1", 1), ("2", 2)]
    assert [c.colour for c in classes] == list(maps.PALETTES[2])


def test_the_palette_gets_darker_class_by_class_so_it_reads_in_greyscale():
    def luminance(colour: str) -> float:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    for palette in maps.PALETTES.values():
        grey = [luminance(c) for c in palette]
        assert all(a - b > 25 for a, b in zip(grey, grey[1:], strict=False)), palette


def test_the_legend_prints_the_unit_and_formatted_numbers():
    values = {code: n * 1234.5 for n, code in enumerate(CODES)}
    svg = maps.choropleth(values, title="t", unit="Households", fmt=lambda v: f"{v:,.0f}")
    words = texts(parse(svg))
    assert "Households" in words
    assert any(re.fullmatch(r"[\d,]+ – [\d,]+ \(\d+ counties\)", w) for w in words), words


def test_simplified_outlines_keep_every_county_and_stay_small():
    raw = sum(len(ring) for _, _, ring in maps.counties())
    drawn = maps._paths(240, 0.3)
    kept = sum(d.count(",") for _, _, d in drawn)
    assert len(drawn) == 47 and all(d.count(",") >= 3 for _, _, d in drawn)
    assert kept < raw / 2  # the printed map needs far fewer points than the source
    assert len(maps.choropleth({}, title="t", unit="u", map_width=240)) < 60_000


def test_a_locator_fills_only_its_county_and_rings_a_small_one():
    root = parse(maps.locator("047", width=80, caption=""))
    assert county_fills(root) == {"047": "#0b4f3a"}
    shapes = list(root.iter(f"{NS}path"))
    others = [p for p in shapes if p.get("class") == "others"]
    assert len(others) == 1 and others[0].get("d").count("M") == 46  # the other counties, one shape
    assert shapes[-1].get("data-code") == "047"  # drawn last, so its whole border shows
    assert root.find(f"{NS}circle") is not None  # Nairobi is too small to find without a ring
    assert parse(maps.locator("023")).find(f"{NS}circle") is None  # Turkana is not
    assert root.find(f"{NS}title").text == "Nairobi City County within Kenya"
    with pytest.raises(ValueError, match="not a county code"):
        maps.locator("KE")
    assert locator_uri("KE") == "" and locator_uri("042", "Kisumu").startswith("data:image/svg+xml;base64,")


def snapshot_with(by_county: list[dict]) -> dict:
    info = {"name": "Coverage of persons aged 70+", "measure": "ratio", "unit": "percent"}
    count = {"name": "HSNP routine households paid", "measure": "count", "unit": "number"}
    return {"indicators": {"SA03": info, "HI02": info, "SA06": info, "SA07": count},
            "counties": {code: code for code in CODES}, "period_label": "FY2024/25 Q4 (Apr–Jun 2025)",
            "by_county": by_county}


def test_the_report_maps_coverage_first_then_achievement_of_county_targets():
    rows = [{"indicator": "SA03", "org_unit": c, "actual": 50.0 + n, "achievement": None} for n, c in enumerate(CODES)]
    rows += [{"indicator": "SA07", "org_unit": c, "actual": 100.0, "achievement": 90.0 + n} for n, c in enumerate(CODES[:8])]
    rows += [{"indicator": "HI02", "org_unit": "001", "actual": 3.0, "achievement": None}]  # one county: no map
    rows += [{"indicator": "SA03", "org_unit": "KE", "actual": 60.0, "achievement": None}]  # not a county
    made = county_maps(snapshot_with(rows), limit=4)
    assert [m.code for m in made] == ["SA03", "SA07"]
    assert "achievement of the county targets" in made[1].title
    assert "No county target or figure: 39" in made[1].alt
    assert county_maps(snapshot_with(rows), limit=1)[0].code == "SA03"
    assert county_maps(snapshot_with([]), limit=4) == []
