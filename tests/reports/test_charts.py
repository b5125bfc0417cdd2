"""SVG charts are well-formed, labelled and show gaps and targets."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.charts import (
    ICONS,
    STATUS_COLOURS,
    STATUS_LABELS,
    bar_chart,
    data_uri,
    hbar_chart,
    icon,
    line_chart,
    status_strip,
    text_boxes,
)

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


# --- bar, horizontal bar and status charts, icons -------------------------------------------------

def size(root: ET.Element) -> tuple[float, float]:
    """A chart's width and height in points (charts are drawn one user unit to the point)."""
    return float(root.get("width").removesuffix("pt")), float(root.get("height").removesuffix("pt"))


def parse(svg: str, *, viewbox: str | None = None) -> ET.Element:
    """The chart as XML, after checking what every chart must have: size, viewBox, role and title first."""
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg" and root.get("role") == "img" and root.get("aria-label")
    assert root[0].tag == f"{NS}title" and root[0].text == root.get("aria-label")
    width, height = (root.get(k).removesuffix("pt") for k in ("width", "height"))
    assert root.get("viewBox") == (viewbox or f"0 0 {width} {height}")
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def assert_text_fits(svg: str) -> ET.Element:
    """No text below 8 pt, none leaves the chart, no two overlap, none is cut short with "…"."""
    root = parse(svg)
    width, height = size(root)
    assert all(float(t.get("font-size")) >= 8 for t in root.iter(f"{NS}text"))
    boxes = text_boxes(svg)
    for b in boxes:
        assert b.inside(width, height), f"{b.text!r} spans {b.left:.1f}..{b.right:.1f}, {b.top:.1f}..{b.bottom:.1f}"
        assert "…" not in b.text
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), f"{a.text!r} overlaps {b.text!r}"
    return root


def bars(root: ET.Element, cls: str = "bar") -> list[ET.Element]:
    return [r for r in root.iter(f"{NS}rect") if r.get("class") == cls]


def test_bar_chart_draws_one_bar_per_known_value_with_heights_in_proportion():
    root = assert_text_fits(bar_chart(["Q1", "Q2", "Q3", "Q4"], [10, 20, None, 40], title="SA02 paid on time",
                                      unit="%"))
    heights = [float(r.get("height")) for r in bars(root)]
    assert len(heights) == 3
    assert abs(heights[1] - 2 * heights[0]) < 0.5 and abs(heights[2] - 4 * heights[0]) < 0.5
    # bars stand on one baseline, and the scale starts at zero (10 is a quarter of 40, not zero)
    assert len({round(float(r.get("y")) + float(r.get("height")), 1) for r in bars(root)}) == 1
    assert {"10%", "20%", "40%", "n/a", "Q1", "Q4"} <= set(texts(root))


def test_bar_chart_target_is_a_labelled_dashed_line_and_large_values_are_abbreviated():
    root = assert_text_fits(bar_chart(["FY23/24", "FY24/25"], [812_000, 1_250_000], title="Paid",
                                      target=1_400_000))
    assert {"812k", "1.25M", "target 1.4M"} <= set(texts(root))
    dashed = [line for line in root.iter(f"{NS}line") if line.get("stroke-dasharray")]
    assert dashed and all(line.get("stroke") == "#8a5a00" for line in dashed)
    # bars stand on zero: their heights are in proportion to the values
    heights = [float(r.get("height")) for r in bars(root)]
    assert abs(heights[1] / heights[0] - 1_250_000 / 812_000) < 0.01
    # the value axis runs past the target to a round tick, and names its ticks
    assert {"0", "500k", "1M", "1.5M"} <= set(texts(root))


def test_bar_chart_highlights_the_latest_bar_unless_asked_not_to():
    fills = [r.get("fill") for r in bars(parse(bar_chart(["a", "b", "c"], [1, 2, 3], title="t")))]
    assert fills[-1] == "#0b6e4f" and fills[0] != fills[-1]
    plain = [r.get("fill") for r in bars(parse(bar_chart(["a", "b", "c"], [1, 2, 3], title="t",
                                                         highlight_last=False)))]
    assert set(plain) == {"#0b6e4f"}


def test_bar_chart_thins_crowded_labels_and_wraps_long_ones_and_titles():
    months = [f"Month {i:02d} of FY2025/26" for i in range(1, 25)]
    title = "A title far too long to fit across the top of a small chart without being cut short"
    root = assert_text_fits(bar_chart(months, [float(i * 1000 + 0.5) for i in range(24)], title=title, width=320))
    named = [t.text for t in root.iter(f"{NS}text") if t.text.startswith("Month")]
    assert 1 < len(named) < 24 and named[-1] == "Month 24 of"  # the latest period is always named, wrapped
    assert "FY2025/26" in texts(root)
    title_lines = [t.text for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold" and t.get("font-size") == "9"]
    assert len(title_lines) >= 2 and " ".join(title_lines) == title  # the whole title, on lines
    assert "23k" in texts(root)  # and the latest value is always labelled
    few = assert_text_fits(bar_chart(months[:3], [1, 2, 3], title="t"))
    assert [t for t in texts(few) if t.startswith("Month")] == ["Month 01 of", "Month 02 of", "Month 03 of"]
    assert texts(few).count("FY2025/26") == 3


def test_bar_chart_handles_negative_and_missing_values():
    root = assert_text_fits(bar_chart(["Q1", "Q2", "Q3"], [-5, 10, None], title="Net change"))
    assert {"-5", "10", "n/a"} <= set(texts(root))
    assert "No figures yet" in texts(parse(bar_chart(["a"], [None], title="x")))


def test_hbar_chart_bar_lengths_are_in_proportion_and_missing_rows_say_so():
    root = assert_text_fits(hbar_chart(["CT-OVC", "OPCT", "PwSD-CT", "HSNP"], [25, 50, None, 100],
                                       title="Returns on time (%)", max_value=100, reference=100))
    widths = [float(r.get("width")) for r in bars(root)]
    assert len(widths) == 3
    assert abs(widths[1] - 2 * widths[0]) < 0.5 and abs(widths[2] - 4 * widths[0]) < 0.5
    assert {"25%", "50%", "100%", "not reported", "target 100%"} <= set(texts(root))
    ref = [line for line in root.iter(f"{NS}line") if line.get("stroke-dasharray")]
    assert len(ref) == 1 and abs(float(ref[0].get("x1")) - (float(bars(root)[0].get("x")) + widths[2])) < 0.5


def test_hbar_chart_grows_with_rows_and_wraps_long_labels():
    short = parse(hbar_chart(["a", "b"], [1, 2], title="t"))
    labels = [f"Programme {i} for the households of the arid and semi-arid lands" for i in range(6)]
    root = assert_text_fits(hbar_chart(labels, [10, 20, 30, 40, 50, 60], title="t"))
    assert size(root)[1] > size(short)[1]
    lines = [t for t in texts(root) if t.startswith("Programme")]
    assert len(lines) == 6 and all(not t.endswith("…") for t in texts(root))
    words = " ".join(t for t in texts(root) if not t.endswith("%") and t not in ("t", "Per cent"))
    assert all(label in words for label in labels)  # every name whole, on as many lines as it needs


def test_hbar_chart_statuses_colour_the_bars_and_are_written_out():
    statuses = ["on_track", "needs_attention", "off_track", "not_reported"]
    root = assert_text_fits(hbar_chart(["SA01", "SA02", "SA07", "SA11"], [104, 81, 40, None], title="t",
                                       statuses=statuses, reference=100))
    assert [r.get("fill") for r in bars(root)] == [STATUS_COLOURS[s] for s in statuses[:3]]
    assert {STATUS_LABELS[s] for s in statuses} <= set(texts(root))
    with pytest.raises(ValueError, match="unknown status"):
        hbar_chart(["a"], [1], title="t", statuses=["late"])


def test_status_strip_segments_are_in_proportion_and_the_legend_counts_them():
    counts = {"on_track": 12, "needs_attention": 3, "off_track": 2, "no_target": 0, "not_reported": 1}
    root = assert_text_fits(status_strip(counts))
    segments = bars(root, "segment")
    assert [s.get("fill") for s in segments] == [STATUS_COLOURS[k] for k in
                                                 ("on_track", "needs_attention", "off_track", "not_reported")]
    widths = [float(s.get("width")) for s in segments]
    unit = widths[-1]
    assert all(abs(w - c * unit) < 0.5 for w, c in zip(widths, (12, 3, 2, 1), strict=True))
    assert {"On track 12", "Needs attention 3", "Off track 2", "Not reported 1"} <= set(texts(root))
    assert not any(t.startswith("No target") for t in texts(root))
    assert root[0].text == "Indicator status: On track 12 · Needs attention 3 · Off track 2 · Not reported 1"


def test_status_strip_legend_wraps_when_it_cannot_fit():
    counts = {"on_track": 120, "needs_attention": 30, "off_track": 20, "no_target": 4, "not_reported": 10}
    wide = assert_text_fits(status_strip(counts, width=640))
    narrow = assert_text_fits(status_strip(counts, width=200))
    assert size(narrow)[1] > size(wide)[1] == 34
    assert len({t.get("y") for t in wide.iter(f"{NS}text") if not t.text.isdigit()}) == 1
    legend = [t for t in narrow.iter(f"{NS}text") if not t.text.isdigit()]
    assert len({t.get("y") for t in legend}) >= 2 and all(float(t.get("font-size")) == 8 for t in legend)


def test_status_strip_without_indicators_and_with_unknown_statuses():
    assert texts(parse(status_strip(dict.fromkeys(STATUS_LABELS, 0)))) == ["No indicators"]
    with pytest.raises(ValueError, match="delayed"):
        status_strip({"delayed": 2})


def test_chart_text_is_escaped():
    root = parse(hbar_chart(["<b>R&D</b>"], [1], title='"A" & <B>'))
    assert root[0].text == '"A" & <B>' and "<b>R&D</b>" in texts(root)


QUARTERS = [f"FY{y}/{(y + 1) % 100:02d} Q{q}" for y in (2024, 2025) for q in range(1, 5)]
LONG_TITLE = "SA01 Number of households enrolled in the cash transfer progr"  # 60, as reports cut them


def circles(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{NS}circle"))


def assert_points_clear_of_title_row(root: ET.Element) -> None:
    """Every dot lies inside the chart and below the title's last line."""
    width, height = size(root)
    titles = [float(t.get("y")) for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold"
              and t.get("font-size") == "9"]
    for c in circles(root):
        cx, cy, r = float(c.get("cx")), float(c.get("cy")), float(c.get("r"))
        assert 0 <= cx - r and cx + r <= width and max(titles) + 0.25 * 9 <= cy - r and cy + r <= height


def test_line_chart_long_title_wraps_and_the_target_line_is_labelled():
    root = assert_text_fits(line_chart(QUARTERS, [100, 120, None, 150, 151, 152, 155, 160], title=LONG_TITLE,
                                       width=250, height=110, target=160))
    lines = [t.text for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold" and t.get("font-size") == "9"]
    assert " ".join(lines) == LONG_TITLE and len(lines) == 2
    assert "target 160" in texts(root) and "160" in texts(root)  # the target, and the latest value by its point
    dashed = [line for line in root.iter(f"{NS}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 1 and dashed[0].get("stroke") == "#8a5a00"
    assert_points_clear_of_title_row(root)


def test_line_chart_names_periods_it_has_room_for_always_the_last_and_the_axes():
    def x_labels(width: int) -> list[str]:
        root = assert_text_fits(line_chart(QUARTERS, range(8), title=LONG_TITLE, width=width, height=110))
        return [t.text for t in root.iter(f"{NS}text") if t.text.startswith("FY")]

    wide, narrow = x_labels(400), x_labels(150)
    assert wide[-1] == narrow[-1] == "FY2025/26 Q4" and len(wide) > len(narrow) >= 1
    one = assert_text_fits(line_chart(["FY2025/26 Q4"], [5], title="t", width=120, height=90))
    assert [t for t in texts(one) if t.startswith("FY")] == ["FY2025/26 Q4"]
    assert {"Quarter", "Number"} <= set(texts(one))  # both axes say what they measure


def test_line_chart_matches_the_other_charts_and_highlights_the_latest_point_in_the_series_colour():
    line, bar = parse(line_chart(QUARTERS, range(8), title="t")), parse(bar_chart(["a"], [1], title="t"))
    assert line.get("font-family") == bar.get("font-family")
    dots = circles(line)
    latest, earlier = dots[-1], dots[:-1]
    assert latest.get("fill") not in set(STATUS_COLOURS.values()) | {"#a4262c"}
    assert latest.get("fill").startswith("#0") and float(latest.get("r")) > float(earlier[0].get("r"))
    assert {c.get("fill") for c in earlier} == {"#0b6e4f"}
    plain = circles(parse(line_chart(QUARTERS, range(8), title="t", highlight_last=False)))
    assert {(c.get("fill"), c.get("r")) for c in plain} == {("#0b6e4f", "2")}


def test_line_chart_value_axis_has_round_ticks_from_zero_past_the_highest_value():
    root = assert_text_fits(line_chart(QUARTERS[:3], [812_000, None, 1_250_000], title=LONG_TITLE, width=250,
                                       height=110, target=1_400_000))
    assert {"0", "500k", "1M", "1.5M", "target 1.4M", "1.25M"} <= set(texts(root))
    flat = assert_text_fits(line_chart(QUARTERS[:2], [0, 0], title="t", width=250, height=110))
    assert [t for t in texts(flat) if t[0].isdigit()][:3] == ["0", "0.5", "1"]
    low = assert_text_fits(line_chart(QUARTERS[:2], [-2e6, 5e10], title="t", width=250, height=110))
    assert "50bn" in texts(low) and any(t.startswith("-") for t in texts(low))


@settings(max_examples=80, deadline=None)
@given(labels=st.lists(st.text(alphabet="abcXYZ &<>/0123456789 ", max_size=16), min_size=1, max_size=30),
       raw=st.lists(st.one_of(st.none(), st.floats(-2e6, 5e10, allow_nan=False)), min_size=30, max_size=30),
       width=st.integers(120, 720), height=st.integers(80, 240),
       target=st.one_of(st.none(), st.floats(0, 1e9)), title=st.text(alphabet="SA0 1xyz&<", max_size=60))
def test_line_chart_text_never_overflows_or_overlaps(labels, raw, width, height, target, title):
    values = raw[:len(labels)]
    root = assert_text_fits(line_chart(labels, values, title=title or "t", width=width, height=height,
                                       target=target))
    assert_points_clear_of_title_row(root)
    assert len(circles(root)) == sum(v is not None for v in values)


@settings(max_examples=60, deadline=None)
@given(labels=st.lists(st.text(alphabet="abcXYZ &<>/0123456789 ", max_size=40), min_size=1, max_size=30),
       raw=st.lists(st.one_of(st.none(), st.floats(-2e6, 5e10, allow_nan=False)), min_size=30, max_size=30),
       width=st.integers(160, 640), height=st.integers(80, 240),
       target=st.one_of(st.none(), st.floats(0, 1e9)), unit=st.sampled_from(["", "%"]))
def test_bar_chart_text_never_overflows_or_overlaps(labels, raw, width, height, target, unit):
    values = raw[:len(labels)]
    root = assert_text_fits(bar_chart(labels, values, title="Any " * 30, width=width, height=height,
                                      target=target, unit=unit))
    assert len(bars(root)) == sum(v is not None for v in values)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.text(alphabet="abc XYZ&<", max_size=60),
                               st.one_of(st.none(), st.floats(0, 1e12)),
                               st.sampled_from(list(STATUS_LABELS))), min_size=1, max_size=12),
       width=st.integers(240, 640), with_status=st.booleans(),
       reference=st.one_of(st.none(), st.floats(0, 200)))
def test_hbar_chart_text_never_overflows_or_overlaps(rows, width, with_status, reference):
    labels, values, statuses = zip(*rows, strict=True)
    assert_text_fits(hbar_chart(labels, values, title="t " * 50, width=width, reference=reference,
                                statuses=statuses if with_status else None))


@settings(max_examples=60, deadline=None)
@given(counts=st.fixed_dictionaries({k: st.integers(0, 100_000) for k in STATUS_LABELS}),
       width=st.integers(120, 640))
def test_status_strip_text_never_overflows_or_overlaps(counts, width):
    assert_text_fits(status_strip(counts, width=width))


def test_every_icon_is_a_titled_svg_and_unknown_names_are_refused():
    for name in ICONS:
        root = parse(icon(name, size=40, colour="#b3261e"), viewbox="0 0 24 24")
        assert root.get("width") == "40" and "#b3261e" in ET.tostring(root, encoding="unicode")
    with pytest.raises(ValueError, match="people.*check"):
        icon("rocket")


def test_data_uri_round_trips():
    svg = bar_chart(["Q1"], [4321], title="Ksh – “quoted”")
    prefix = "data:image/svg+xml;base64,"
    uri = data_uri(svg)
    assert uri.startswith(prefix) and base64.b64decode(uri[len(prefix):]).decode("utf-8") == svg


def test_charts_render_through_weasyprint_with_extractable_value_labels():
    weasyprint = pytest.importorskip("weasyprint")
    pdfplumber = pytest.importorskip("pdfplumber")
    charts = [bar_chart(["Q1", "Q2"], [1200, 4321], title="Paid"),
              hbar_chart(["OPCT"], [96.5], title="On time", reference=100),
              status_strip({"on_track": 3, "off_track": 1}),
              line_chart(["Q1", "Q2"], [1, 2], title="Line"),
              icon("people")]
    images = "".join(f'<p><img src="{data_uri(svg)}"></p>' for svg in charts)
    inline = bar_chart(["Q1", "Q2"], [10, 8765], title="Inline")
    pdf = weasyprint.HTML(string=f"<html><body>{images}<div>{inline}</div></body></html>").write_pdf()
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "".join(page.extract_text() or "" for page in document.pages)
    assert "4,321" in text and "96.5%" in text and "8,765" in text


def test_watermark_is_drawn_with_paths_not_text():
    import xml.etree.ElementTree as ET

    from reports.charts import watermark

    root = ET.fromstring(watermark("DRAFT"))
    tags = [element.tag.split("}")[-1] for element in root.iter()]
    assert tags.count("path") == 5 and "text" not in tags and tags[1] == "title"
    assert ET.fromstring(watermark("RASIMU")).iter()  # the Kiswahili mark has its letters too
    with pytest.raises(ValueError, match="no letter shape"):
        watermark("DRAFTZ")
