"""Who is reached (reports/disaggregation.py), its charts (reports/breakdown_charts.py) and money
(reports/money.py, reports/format.kes): plain data in, words and figures out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import breakdown_charts as bc
from reports.disaggregation import breakdown, label, split_combo, who_is_reached
from reports.format import headline, kes
from reports.money import absorption, programme_money, workplan_money

NS = "{http://www.w3.org/2000/svg}"
SEX = {"code": "sex", "name": "Sex", "options": [{"code": "F", "name": "Female"}, {"code": "M", "name": "Male"}]}
AGES = [("A00_17", "0-17 years"), ("A18_34", "18-34 years"), ("A35_59", "35-59 years"), ("A60_69", "60-69 years"),
        ("A70P", "70 years and above")]
AGE = {"code": "age_group", "name": "Age group", "options": [{"code": c, "name": n} for c, n in AGES]}
SEX_AGE = {"name": "Sex and age group", "categories": [SEX, AGE],
           "combos": {f"{s}_{a}": f"{s}, {a}" for s in "FM" for a, _ in AGES} | {"total": "Total"}}
SETS = {"sex": {"name": "Sex", "categories": [SEX], "combos": {"F": "Female", "M": "Male", "total": "Total"}},
        "sex_age": SEX_AGE,
        "age": {"name": "Age group", "categories": [AGE], "combos": {a: n for a, n in AGES}},
        "disability": {"name": "Disability", "categories": [
            {"code": "disability", "name": "Disability", "options": [{"code": "D", "name": "With a disability"},
                                                                      {"code": "ND", "name": "Without"}]}],
            "combos": {"D": "With a disability", "ND": "Without"}}}
COUNT = {"short_name": "Beneficiaries paid", "measure": "count", "unit": "number", "factor": None}
RATIO = {"short_name": "Coverage", "measure": "ratio", "unit": "percent", "factor": 100}
CODE = re.compile(r"\b[FM]_A\d\d|\bA\d\d_\d\d\b|\bA\d\dP\b")


def rows(values: dict[str, float | None], **extra) -> list[dict]:
    return [{"indicator": "X1", "option": o, "actual": v, **extra} for o, v in values.items()]


def uses(set_code: str) -> dict:
    return {"sets": SETS, "indicators": {"X1": set_code}}


def test_combos_split_into_the_options_of_their_categories():
    assert split_combo("F_A70P", [SEX, AGE]) == {"sex": "F", "age_group": "A70P"}
    assert split_combo("M_A00_17", [SEX, AGE]) == {"sex": "M", "age_group": "A00_17"}
    assert split_combo("A18_34", [AGE]) == {"age_group": "A18_34"}
    assert split_combo("X_A70P", [SEX, AGE]) is None
    assert split_combo("F_A70", [SEX, AGE]) is None


def test_options_are_words_with_a_capital():
    assert label("sex", "F", "Female") == "Women"
    assert label("age_group", "A70P", "70 years and above") == "Aged 70+"
    assert label("age_group", "A00_17", "") == "Aged 0–17"
    assert label("disability", "D", "With a disability") == "With a disability"  # not "women"


def test_sa02_women_men_and_the_share_of_women():
    item = breakdown("X1", rows({"F": 578659, "M": 436542}, last_year=None), COUNT, uses("sex"))
    sex = item.split("sex")
    assert [(p.label, p.text, p.share_text) for p in sex.parts] == [("Women", "578,659", "57.0%"),
                                                                    ("Men", "436,542", "43.0%")]
    assert item.total == "1,015,201" and item.women_share_text == "57.0%"


def test_sex_by_age_adds_up_each_category_and_ratios_divide_their_summed_parts():
    values = {f"{s}_{a}": (10 if s == "F" else 30) for s in "FM" for a, _ in AGES}
    item = breakdown("X1", rows(values), COUNT, uses("sex_age"))
    assert [p.text for p in item.split("sex").parts] == ["50", "150"]
    assert [p.text for p in item.split("age_group").parts] == ["40"] * 5
    assert item.women_share_text == "25.0%"
    parts = [{"indicator": "X1", "option": "F_A70P", "actual": 50.0, "numerator": 1, "denominator": 2},
             {"indicator": "X1", "option": "F_A60_69", "actual": 100.0, "numerator": 3, "denominator": 3}]
    ratio_item = breakdown("X1", parts, RATIO, uses("sex_age"))
    assert [p.text for p in ratio_item.split("sex").parts] == ["80.0%"]  # (1 + 3) ÷ (2 + 3), not the mean 75%
    assert ratio_item.women_share is None  # shares are of counts and amounts, not of ratios


def test_a_part_reported_as_a_total_only_is_said_not_broken_down():
    item = breakdown("X1", rows({"F": 10, "M": 30, "total": 25}), COUNT, uses("sex"))
    assert item.not_split == "25" and item.total == "40"


def test_unknown_option_codes_fall_back_to_their_names():
    sets = {**SETS, "odd": {"name": "Odd", "categories": [SEX], "combos": {"QQ": "Refugees", "F": "Female"}}}
    item = breakdown("X1", rows({"QQ": 5, "F": 5, "ZZ9": 1}), COUNT, {"sets": sets, "indicators": {"X1": "odd"}})
    assert [p.label for p in item.splits[0].parts] == ["Refugees", "Women", "ZZ9"]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(SEX_AGE["combos"])),
                       st.one_of(st.none(), st.integers(min_value=0, max_value=10**7)), max_size=11))
def test_any_mix_of_options_breaks_down_without_losing_a_figure(values):
    item = breakdown("X1", rows(values), COUNT, uses("sex_age"))
    parts = {k: v for k, v in values.items() if k != "total" and v is not None}
    if not parts:
        assert item is None
        return
    for split in item.splits:
        assert sum(p.value or 0 for p in split.parts) == sum(parts.values())
        shares = [p.share for p in split.parts if p.share is not None]
        if sum(parts.values()) > 0:
            assert sum(shares) == pytest.approx(100)
        else:
            assert shares == []  # a zero total has no shares, and no division by zero
        assert not any(CODE.search(p.label) for p in split.parts)
    sexes = {k.split("_")[0] for k in parts}
    if sexes == {"F"} and sum(parts.values()) > 0:
        assert item.women_share_text == "100.0%"
    if sexes == {"M"}:
        assert item.women_share is None or item.women_share == 0


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from([a for a, _ in AGES]), st.integers(min_value=0, max_value=10**6),
                       min_size=1))
def test_age_only_sets_have_an_age_split_and_no_share_of_women(values):
    item = breakdown("X1", rows(values), COUNT, uses("age"))
    assert [s.category for s in item.splits] == ["age_group"] and item.women_share is None
    assert all(p.label.startswith("Aged ") for p in item.splits[0].parts)


def snapshot(by_option, history=None, indicators=None) -> dict:
    info = {"X1": COUNT, "X2": RATIO, "X3": {**COUNT, "short_name": "Members"}}
    return {"period_label": "FY2024/25 Q4", "indicators": info, "by_option": by_option,
            "disaggregation": {"sets": SETS, "indicators": indicators or {"X1": "sex_age", "X2": "sex", "X3": "age"}},
            "option_history": history}


def test_the_report_part_has_tables_charts_and_age_trends():
    values = {f"{s}_{a}": 100 * (n + 1) for s in "FM" for n, (a, _) in enumerate(AGES)}
    history = {"quarters": ["2025Q1", "2025Q2"], "labels": ["FY24/25 Q3", "FY24/25 Q4"],
               "series": {"X1": {o: {"actual": [v - 10, v], "numerator": [None, None], "denominator": [None, None]}
                                 for o, v in values.items()}}}
    by_option = rows(values) + [{"indicator": "X2", "option": "F", "actual": 60.0, "numerator": 6, "denominator": 10},
                                {"indicator": "X3", "option": "A70P", "actual": 7.0}]
    found = who_is_reached(snapshot(by_option, history))
    assert [b.code for b in found.by_sex] == ["X1", "X2"]
    assert found.age_groups == ["Aged 0–17", "Aged 18–34", "Aged 35–59", "Aged 60–69", "Aged 70+"]
    assert [cells for b, cells in found.by_age if b.code == "X3"] == [["–", "–", "–", "–", "7 (100.0%)"]]
    assert found.sex_chart and len(found.pyramids) == 1 and len(found.trends) == 1
    assert found.women_shares == {"X1": "50.0%"}


def test_nothing_to_break_down_gives_no_part():
    assert who_is_reached(snapshot([])) is None
    assert who_is_reached({**snapshot(rows({"F": 1})), "disaggregation": {}}) is None
    assert who_is_reached(snapshot(rows({"F": None, "M": None}), indicators={"X1": "sex"})) is None


def svg_texts(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f".//{NS}text")


@pytest.mark.parametrize("svg", [
    bc.split_bars([("OPCT beneficiaries (70+) (SA02)", [("Women", 578659), ("Men", 436542)])], title="Women and men"),
    bc.pyramid(["Aged 0–17", "Aged 70+"], [10, None], [20, 30], title="By sex and age group, a long title " * 3),
    bc.trend_lines(["Q1", "Q2", "Q3"], [("Aged 70+", [1, 2, 3]), ("Aged 60–69", [1, 2, 3.01])], title="Trend"),
    bc.budget_bars([("Policy & System Strengthening", 79.3e6, 77.8e6), ("MERL", 0, None)], title="Budget", money=kes),
])
def test_chart_text_prints_at_8_pt_or_more_and_titles_wrap_whole(svg):
    root = ET.fromstring(svg)
    width = float(root.get("width").removesuffix("pt"))
    assert root.get("width").endswith("pt") and root.get("viewBox").split()[2] == f"{width:g}"  # 1 unit = 1 pt
    texts = svg_texts(svg)
    assert texts and all(float(t.get("font-size")) >= 8 for t in texts)
    assert not any("…" in (t.text or "") for t in texts)
    assert not any(CODE.search(t.text or "") for t in texts)


def test_line_end_labels_never_overlap():
    svg = bc.trend_lines(["Q1", "Q2"], [(f"Aged {n}", [5, 5]) for n in range(5)], title="All equal", height=120)
    ends = sorted(float(t.get("y")) for t in svg_texts(svg) if (t.text or "").startswith("Aged"))
    assert all(b - a >= bc.SIZE for a, b in zip(ends, ends[1:], strict=False))
    assert ends[-1] <= 120


@pytest.mark.parametrize("height", [120, 190])
def test_line_end_labels_stay_inside_the_chart_and_near_their_lines(height):
    """One group far above four near zero (Inua Jamii by age group): the top label stays by its line
    inside the chart, the four stack up from the bottom, not halfway up."""
    series = [("Aged 70+", [770_000, 790_000, 950_000])] + [(f"Aged {g}", [0, 10, 20]) for g in
                                                           ("0–17", "18–34", "35–59", "60–69")]
    svg = bc.trend_lines(["Q1", "Q2", "Q3"], series, title="Beneficiaries paid by age group", height=height)
    texts = {t.text: float(t.get("y")) for t in svg_texts(svg) if (t.text or "").startswith("Aged")}
    lines = [float(v) for line in ET.fromstring(svg).findall(f".//{NS}polyline")
             for v in line.get("points").split()[-1].split(",")[1:]]
    top_line, zero_line = lines[0], lines[1]
    ends = sorted(texts.values())
    assert all(b - a >= bc.SIZE for a, b in zip(ends, ends[1:], strict=False))
    assert all(bc.SIZE <= y <= height for y in ends)  # every label drawn inside the chart
    title_bottom = max(float(t.get("y")) for t in svg_texts(svg) if "Beneficiaries" in (t.text or ""))
    assert texts["Aged 70+"] > title_bottom and abs(texts["Aged 70+"] - 3 - top_line) <= bc.SIZE
    low = [texts[f"Aged {g}"] for g in ("0–17", "18–34", "35–59", "60–69")]
    assert max(low) >= zero_line - bc.SIZE  # the stack ends by the zero line
    assert zero_line - min(low) <= 4 * (bc.SIZE + 2) + bc.SIZE  # and rises only as far as it must


def test_kes_has_one_notation_in_cards_tables_and_charts():
    assert kes(10_204_300_000) == "KES 10,204.3 m"
    assert kes(240_500_000) == "KES 240.5 m"
    assert kes(2000) == "KES 2,000"
    assert kes(None) == "–"
    assert headline(10_204_300_000, "amount", "KES") == kes(10_204_300_000)  # the card
    svg = bc.budget_bars([("MERL", 69.3e6, 69.0e6)], title="Budget", money=kes)
    assert "KES 69.0 m of KES 69.3 m · 99.6%" in [t.text for t in svg_texts(svg)]


def test_absorption_is_spend_over_budget_by_working_group_and_activity():
    plan = {"fiscal_year_label": "FY2024/25", "working_groups": {"POL": "Policy", "MERL": "MERL", "FIN": "Finance"},
            "activities": [
                {"code": "POL-01", "title": "Bill", "working_group": "POL", "budget_kes": "18000000.00",
                 "current": {"spend_to_date": "9000000.00"}},
                {"code": "POL-02", "title": "Policy", "working_group": "POL", "budget_kes": "2000000", "current": None},
                {"code": "MER-01", "title": "Launch", "working_group": "MERL", "budget_kes": "0",
                 "current": {"spend_to_date": "500"}}]}
    money = workplan_money({"workplan": plan, "period_label": "FY2024/25 Q4"})
    assert [(g.name, g.budget_text, g.spent_text, g.absorption_text, g.count) for g in money.lines] == [
        ("Policy", "KES 20.0 m", "KES 9.0 m", "45.0%", 2), ("MERL", "KES 0", "KES 500", "–", 1)]
    assert money.activities["POL-01"].absorption_text == "50.0%" and money.activities["POL-02"].spent_text == "–"
    assert money.total.absorption == pytest.approx(9_000_500 / 20_000_000 * 100)
    assert absorption(0, 5) is None and absorption(10, None) is None


def test_a_programme_budget_is_the_pmp_target_labelled_as_such():
    snap = {"period_label": "FY2024/25 Q4",
            "indicators": {"SA10": {"short_name": "Cash transfers disbursed", "measure": "amount", "unit": "KES"}},
            "ytd": [{"indicator": "SA10", "actual": 30e9}],
            "budgets": [{"indicator": "SA10", "fiscal_year": "2024July", "fiscal_year_label": "FY2024/25",
                         "budget": 40e9, "source": "", "plan": "OPCT 2024July", "note": ""}]}
    line = programme_money(snap).lines[0]
    assert (line.budget_text, line.spent_text, line.absorption_text) == ("KES 40,000.0 m", "KES 30,000.0 m", "75.0%")
    assert line.note == "budget (PMP target for FY2024/25)"
    none = programme_money({**snap, "budgets": [{**snap["budgets"][0], "budget": None, "note": "no line"}]}).lines[0]
    assert none.budget_text == "–" and none.note == "no budget: no line"
    assert programme_money({**snap, "budgets": []}) is None
