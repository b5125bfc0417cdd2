"""Charts people can read: text at 8 pt or more in the body font, round ticks, whole titles, no label on another."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import charts, trends
from reports.chart_text import MIN_SIZE, nice_ticks, text_width, wrap
from reports.glossary import build as glossary_of
from reports.words import on_time, option_words, plural, quality_words, status_sentence

NS = "{http://www.w3.org/2000/svg}"
QUARTERS = [f"FY{y}/{(y + 1) % 100:02d} Q{q}" for y in (23, 24) for q in range(1, 5)]
LONG = ("Number of households in the arid and semi-arid lands receiving the routine and the drought scale-up "
        "payments of the Hunger Safety Net Programme (HSNP)")

values_st = st.one_of(
    st.none(), st.just(0.0), st.floats(-5e6, -0.01), st.floats(0, 100), st.floats(1e6, 5e12),
    st.floats(-1e3, 1e3),
)
series_st = st.lists(values_st, min_size=1, max_size=12)
title_st = st.one_of(st.just(LONG), st.text(alphabet="abc XYZ&<%()/–0123", min_size=1, max_size=150)
                     .filter(lambda t: t.strip()))


def _size(root: ET.Element) -> tuple[float, float]:
    return float(root.get("width").removesuffix("pt")), float(root.get("height").removesuffix("pt"))


def readable(svg: str, title: str) -> ET.Element:
    """What every chart must be: pt-sized, body font, text ≥ 8 pt, inside, apart, uncut, its title whole."""
    root = ET.fromstring(svg)
    width, height = _size(root)
    assert root.get("viewBox") == f"0 0 {width:g} {height:g}"
    assert root.get("font-family").startswith("DejaVu Sans")
    boxes = charts.text_boxes(svg)
    for element in root.iter(f"{NS}text"):
        assert float(element.get("font-size")) >= MIN_SIZE, element.text
    for n, a in enumerate(boxes):
        assert a.inside(width, height), f"{a.text!r} leaves the {width:g} × {height:g} chart"
        assert "…" not in a.text
        for b in boxes[n + 1:]:
            assert not a.overlaps(b), f"{a.text!r} overlaps {b.text!r}"
    title_lines = [t.text or "" for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold"
                   and t.get("font-size") == "9"]
    assert "".join(title_lines).replace(" ", "") == title.replace(" ", "")  # all of it, wrapped, never cut
    assert root.get("aria-label") == title
    return root


def tick_labels(root: ET.Element) -> list[str]:
    """The value axis' labels (right-aligned in the column left of the plot)."""
    return [t.text for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end" and t.get("fill") == "#555"]


def axis_ticks(root: ET.Element, vertical: bool = False) -> int:
    """Grid lines of the value axis (one per tick)."""
    lines = [e for e in root.iter(f"{NS}line") if not e.get("stroke-dasharray")]
    if vertical:
        return len([e for e in lines if e.get("x1") == e.get("x2")])
    return len([e for e in lines if e.get("y1") == e.get("y2")])


@settings(max_examples=60, deadline=None)
@given(values=series_st, title=title_st, width=st.sampled_from([170, 238, 320, 500]),
       target=st.one_of(st.none(), st.floats(0, 1e9)), unit=st.sampled_from(["", "%"]))
def test_line_chart_is_readable(values, title, width, target, unit):
    labels = (QUARTERS * 2)[:len(values)]
    root = readable(charts.line_chart(labels, values, title=title, width=width, target=target, unit=unit), title)
    if all(v is None for v in values):
        assert "No figures yet" in [t.text for t in root.iter(f"{NS}text")]
        return
    assert axis_ticks(root) >= 3 and len(tick_labels(root)) == axis_ticks(root)  # every tick labelled
    texts = [t.text for t in root.iter(f"{NS}text")]
    latest = next(v for v in reversed(values) if v is not None)
    assert f"{charts._fmt(latest)}{'%' if unit == '%' else ''}" in texts  # the latest value, labelled
    assert labels[-1].replace(" ", "") in "".join(texts).replace(" ", "")  # the latest period, named


@settings(max_examples=60, deadline=None)
@given(values=st.lists(values_st, min_size=1, max_size=5), title=title_st, width=st.sampled_from([170, 238, 400]),
       target=st.one_of(st.none(), st.floats(0, 100)))
def test_point_chart_is_readable_and_labels_every_year_it_can(values, title, width, target):
    years = [f"FY20{20 + n}/{21 + n}" for n in range(len(values))]
    root = readable(charts.point_chart(years, values, title=title, width=width, target=target, unit="%"), title)
    if all(v is None for v in values):
        return
    assert axis_ticks(root) >= 3 and len(tick_labels(root)) >= 3
    assert not list(root.iter(f"{NS}polyline"))  # points, no line between years
    assert len(list(root.iter(f"{NS}circle"))) == sum(v is not None for v in values)
    bold = [t.text for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold" and t.get("font-size") == "8"]
    latest = next(v for v in reversed(values) if v is not None)
    assert bold == [f"{charts._fmt(latest)}%"]


@settings(max_examples=60, deadline=None)
@given(values=series_st, title=title_st, width=st.sampled_from([200, 320, 500]),
       labels=st.sampled_from(["quarters", "names"]), target=st.one_of(st.none(), st.floats(0, 1e7)))
def test_bar_chart_is_readable(values, title, width, labels, target):
    names = ((QUARTERS * 2)[:len(values)] if labels == "quarters"
             else [f"Persons with Severe Disabilities Cash Transfer {n}" for n in range(len(values))])
    root = readable(charts.bar_chart(names, values, title=title, width=width, target=target), title)
    if all(v is None for v in values):
        return
    assert axis_ticks(root) >= 3 and len(tick_labels(root)) >= 3


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["OPCT", "Inua Jamii Older Persons Cash Transfer (70+)",
                                                "Social Health Authority (formerly NHIF)", "x" * 70]),
                               st.one_of(st.none(), st.floats(0, 100), st.floats(0, 1e9))), min_size=1, max_size=10),
       title=title_st, width=st.sampled_from([240, 340, 520]), reference=st.one_of(st.none(), st.floats(0, 100)))
def test_hbar_chart_is_readable(rows, title, width, reference):
    labels, values = zip(*rows, strict=True)
    root = readable(charts.hbar_chart(labels, values, title=title, width=width, reference=reference), title)
    assert axis_ticks(root, vertical=True) >= 3
    words = "".join(t.text or "" for t in root.iter(f"{NS}text"))
    assert all(label.replace(" ", "") in words.replace(" ", "") for label in labels)  # names whole


@settings(max_examples=40, deadline=None)
@given(counts=st.fixed_dictionaries({k: st.integers(0, 100_000) for k in charts.STATUS_LABELS}),
       width=st.integers(120, 520))
def test_status_strip_is_readable(counts, width):
    svg = charts.status_strip(counts, width=width, title="Status")
    root = ET.fromstring(svg)
    w, h = _size(root)
    boxes = charts.text_boxes(svg)
    assert all(float(t.get("font-size")) >= MIN_SIZE for t in root.iter(f"{NS}text"))
    assert all(b.inside(w, h) and "…" not in b.text for b in boxes)
    assert not any(a.overlaps(b) for n, a in enumerate(boxes) for b in boxes[n + 1:])


@settings(max_examples=200, deadline=None)
@given(low=st.floats(-1e12, 1e12), span=st.floats(0, 1e12), most=st.integers(3, 8))
def test_nice_ticks_are_round_cover_the_range_and_number_three_or_more(low, span, most):
    high = low + span
    ticks = nice_ticks(low, high, most)
    assert 3 <= len(ticks) <= max(3, most)
    tolerance = 1e-6 * max(1.0, span)  # below what an axis of this span prints
    assert ticks[0] <= low + tolerance and ticks[-1] >= high - tolerance
    step = ticks[1] - ticks[0]
    assert all(math.isclose(b - a, step, rel_tol=1e-6) for a, b in zip(ticks, ticks[1:], strict=False))
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


def test_nice_ticks_examples():
    assert nice_ticks(0, 1_400_000) == [0, 500_000, 1_000_000, 1_500_000]
    assert nice_ticks(0, 100) == [0, 25, 50, 75, 100]
    assert nice_ticks(-5, 10) == [-5, 0, 5, 10]
    assert nice_ticks(0, 0) == [0, 0.25, 0.5, 0.75, 1] and nice_ticks(0, 0, 3) == [0, 0.5, 1]


def test_wrap_breaks_between_words_and_never_cuts():
    lines = wrap(LONG, 9, 150, bold=True)
    assert " ".join(lines) == LONG and all(text_width(line, 9, True) <= 150 for line in lines)
    assert "".join(wrap("x" * 80, 8, 60)) == "x" * 80  # a word wider than the room is split, not cut


def test_annual_indicators_become_one_point_per_financial_year():
    quarters = ["2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    years, points = trends.annual_points(quarters, [None, None, None, 73.7, None, None, None, 78.1])
    assert years == ["FY2023/24", "FY2024/25"] and points == [73.7, 78.1]
    info = {"unit": "percent", "frequency": "annual"}
    svg = trends.trend_chart(info, "SA03", "OPCT coverage of 70+", quarters, QUARTERS,
                             [None, None, None, 73.7, None, None, None, 78.1], None)
    root = readable(svg, "OPCT coverage of 70+ (SA03)")
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert {"FY2023/24", "FY2024/25", "73.7%", "78.1%", "Financial year", "Per cent"} <= set(texts)
    assert not list(root.iter(f"{NS}polyline"))
    quarterly = trends.trend_chart({"unit": "number", "frequency": "quarterly"}, "SA02", "OPCT beneficiaries",
                                   quarters, QUARTERS, [1, 2, 3, 4, 5, 6, 7, 8], None)
    assert "<polyline" in quarterly and ">Quarter<" in quarterly


def test_returns_chart_names_programmes_in_words():
    returns = {"by_programme": [{"programme": "OPCT", "timeliness": 96.0}, {"programme": "CTOVC", "timeliness": 40.0}]}
    programmes = {"OPCT": {"name": "Inua Jamii Older Persons Cash Transfer (70+)"},
                  "CTOVC": {"name": "Cash Transfer for Orphans and Vulnerable Children"}}
    uri = trends.completeness_chart(returns, programmes)
    import base64

    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    root = readable(svg, "Returns received by the due date, by programme")
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "OPCT" not in texts and "CTOVC" not in texts
    assert "Inua Jamii Older Persons Cash Transfer (70+)".replace(" ", "") in "".join(texts).replace(" ", "")


@pytest.mark.parametrize(("count", "expected"), [(0, "0 indicators"), (1, "1 indicator"), (2, "2 indicators"),
                                                 (1200, "1,200 indicators")])
def test_plural(count, expected):
    assert plural(count, "indicator") == expected


def test_words_for_codes():
    assert option_words("F_A70P") == "Women 70+" and option_words("M_A00_17") == "Boys 0–17"
    assert on_time({"expected": 1, "received": 1, "on_time": 1}) == "on time"
    assert on_time({"expected": 1, "received": 1, "on_time": 0}) == "late"
    assert on_time({"expected": 1, "received": 0, "on_time": 0}) == "not received"
    assert on_time({"expected": 3, "received": 3, "on_time": 2}) == "2 of 3 on time"
    assert on_time(None) == "none expected"
    assert status_sentence({"on_track": 8, "needs_attention": 1, "off_track": 1}, 17) == \
        "8 on track, 1 needs attention, 1 off track of 17 indicators."
    named = quality_words({"unchanged": [{"programme": "OPCT", "indicator": "SA02", "option": "F_A70P",
                                          "option_label": ""}], "approvals_by_programme": {"OPCT": 3}},
                          {"OPCT": {"name": "Inua Jamii 70+"}}, {"SA02": {"short_name": "OPCT beneficiaries"}})
    row = named["unchanged"][0]
    assert (row["programme_name"], row["option_label"], row["indicator_name"]) == \
        ("Inua Jamii 70+", "Women 70+", "OPCT beneficiaries")
    assert named["approvals_by_programme"] == {"Inua Jamii 70+": 3}


def test_glossary_lists_programmes_acronyms_used_and_a_method_line_per_indicator():
    snapshot = {
        "programmes": {"OPCT": {"name": "Inua Jamii Older Persons Cash Transfer (70+)", "agency": "SDSP"}},
        "indicators": {
            "SA03": {"name": "Coverage of persons aged 70+ by OPCT", "short_name": "OPCT coverage", "frequency": "annual",
                     "numerator": "OPCT beneficiaries", "denominator": "Population aged 70+ (KNBS projection)",
                     "disaggregation": "Sex", "reported_by": ["OPCT"], "basis": "adapted", "definition": ""},
            "SA02": {"name": "Number of older persons paid", "short_name": "Paid"},  # a snapshot from before the fields
        },
    }
    found = glossary_of(snapshot, ["SA03", "SA02", "SA03", "XX99"])
    assert [e.term for e in found.programmes] == ["OPCT"]
    terms = {e.term for e in found.acronyms}
    assert {"KNBS", "KES", "PMP", "MERL", "TWG"} <= terms and "NHIF" not in terms and "OPCT" not in terms
    assert [m.code for m in found.methods] == ["SA03", "SA02"]
    sa03 = found.methods[0]
    assert (sa03.frequency, sa03.reported_by, sa03.basis, sa03.denominator) == (
        "Once a year", "OPCT", "Adapted",
        "Population aged 70+ (KNBS projection)")
    assert found.methods[1].numerator == "–" and found.methods[1].reported_by == "–"
