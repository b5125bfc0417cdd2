"""The seeded cross-indicator rules (mel/catalogue/seed/validation_rules.csv), one table of cases each.

Every rule gets a consistent return (no rule fires, not this one nor any other) and an inconsistent
one with a realistic slip (a figure typed in thousands, a percentage typed as counts, KES typed
for accounts …), which gives exactly one issue: this rule's, with its reason in the message.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from indicators.expressions import OPERATORS, Expression
from indicators.validation import MISSING_STRATEGIES, VALUE_KEY, Rule, rule_issues

SEED = Path(__file__).resolve().parents[2] / "mel" / "catalogue" / "seed"
COMPONENTS = {"N": "numerator", "D": "denominator"}


def seed_rows() -> list[dict[str, str]]:
    with (SEED / "validation_rules.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def to_rule(row: dict[str, str]) -> Rule:
    return Rule(row["code"], row["name"], Expression.parse(row["left"]), row["operator"],
                Expression.parse(row["right"]), row["severity"], row["importance"],
                row["missing_strategy"], row["description"])


ROWS = seed_rows()
RULES = {row["code"]: to_rule(row) for row in ROWS}


def reported_by() -> dict[str, set[str]]:
    """Indicator code -> the programmes whose forms carry it (indicators.csv)."""
    with (SEED / "indicators.csv").open(newline="", encoding="utf-8") as handle:
        return {row["code"]: set(row["reported_by"].split(";")) for row in csv.DictReader(handle)}


def frame(programme: str, figures: dict[str, float], org_unit: str = "042", period: str = "2025Q2") -> pd.DataFrame:
    """One return's figures, `SA01` for a total or `SA12.N` / `SA12.D` for a ratio's parts."""
    records = []
    for code, number in figures.items():
        indicator, _, suffix = code.partition(".")
        records.append({"programme": programme, "org_unit": org_unit, "period": period,
                        "indicator": indicator, "component": COMPONENTS.get(suffix, "value"),
                        "option": "default", "number": float(number)})
    return pd.DataFrame(records, columns=[*VALUE_KEY, "number"])


# A Kisumu-sized OPCT return (KES 2,000 a month), a CT-OVC and a PWSD-CT one, HSNP in Turkana
# (KES 2,700 a month), NICHE (up to KES 1,000), a county scheme, NSSF, SHA and the national SPS.
OPCT = {"SA01": 20_000, "SA02": 20_000, "SA10": 118_000_000, "SA14": 300, "SA15": 180}
HSNP = {"SA07": 12_000, "SA08": 0, "SA15": 100}

# rule -> (programme, consistent returns, the inconsistent return: a consistent one with one slip)
CASES: dict[str, tuple[str, list[dict[str, float]], dict[str, float]]] = {
    "VR01": ("OPCT", [{"SA01": 20_000, "SA02": 20_000}], {"SA01": 20, "SA02": 20_000}),  # SA01 in thousands
    "VR02": ("NSSF", [{"SS01": 60_000, "SS02": 38_000}], {"SS01": 60, "SS02": 38_000}),
    "VR03": ("OPCT", [{"SA01": 20_000, "SA14": 300, "SA15": 180}], {"SA01": 20_000, "SA14": 30_000, "SA15": 180}),
    "VR04": ("OPCT", [{"SA01": 20_000, "SA10": 118_000_000}], {"SA01": 20_000, "SA10": 1_180_000_000}),
    "VR05": ("HSNP", [{"SA07": 12_000, "SA08": 0}, {"SA07": 12_000, "SA08": 5_400}],
             {"SA07": 12_000, "SA08": 12_000}),  # every routine household counted as scale-up
    "VR06": ("SHA", [{"HI01": 200_000, "HI03": 20_000}], {"HI01": 200_000, "HI03": 2_000_000}),
    "VR07": ("CTOVC", [{"SA01": 9_000, "SA04": 9_000}], {"SA01": 9_000, "SA04": 27_000}),  # children, not households
    "VR08": ("PWSD", [{"SA01": 1_100, "SA05": 1_100}], {"SA01": 1, "SA05": 1_100}),
    "VR09": ("OPCT", [{"SA01": 20_000, "SA15": 180}, {"SA01": 20_000, "SA15": 4_000}],  # a clean-up: a sixth left
             {"SA01": 20_000, "SA15": 18_000}),  # two extra zeros
    "VR10": ("CTOVC", [{"SA01": 9_000, "SA10": 53_000_000},
                       {"SA01": 9_000, "SA10": 36_000_000}],  # one bi-monthly cycle of KES 4,000
             {"SA01": 9_000, "SA10": 53_000}),  # KES thousands
    "VR11": ("OPCT", [{"SA01": 20_000, "SA15": 180, "SA12.N": 18_400, "SA12.D": 20_100}],
             {"SA01": 20_000, "SA15": 180, "SA12.N": 110_400_000, "SA12.D": 120_600_000}),  # KES credited
    "VR12": ("OPCT", [{"SA01": 20_000, "SA12.N": 18_400, "SA12.D": 20_000}],
             {"SA01": 20_000, "SA12.N": 92, "SA12.D": 100}),  # the percentage typed
    "VR13": ("PWSD", [{"SA01": 1_100, "SA15": 12, "SPX08.N": 1_050, "SPX08.D": 1_095}],
             {"SA01": 1_100, "SA15": 12, "SPX08.N": 96, "SPX08.D": 100}),
    "VR14": ("HSNP", [{"SA07": 12_000, "SA14": 150, "SA15": 100}], {"SA07": 12_000, "SA14": 15_000, "SA15": 100}),
    "VR15": ("HSNP", [{"SA07": 12_000, "SA15": 100}], {"SA07": 12_000, "SA15": 10_000}),
    "VR16": ("HSNP", [{"SA07": 12_000, "SA10": 97_200_000}], {"SA07": 12_000, "SA10": 97_200}),
    "VR17": ("HSNP", [{"SA07": 12_000, "SA08": 0, "SA10": 97_200_000},
                      {"SA07": 12_000, "SA08": 5_400, "SA10": 141_000_000}],  # a drought quarter
             {"SA07": 12_000, "SA08": 0, "SA10": 972_000_000}),
    "VR18": ("HSNP", [{"SA07": 12_000, "SA08": 0, "SA09.N": 0, "SA09.D": 0},
                      {"SA07": 12_000, "SA08": 5_400, "SA09.N": 1, "SA09.D": 1}],
             {"SA07": 12_000, "SA08": 5_400, "SA09.N": 0, "SA09.D": 0}),  # scale-up with no trigger
    "VR19": ("HSNP", [{**HSNP, "SA12.N": 11_000, "SA12.D": 12_000}],
             {**HSNP, "SA12.N": 89_100_000, "SA12.D": 97_200_000}),
    "VR20": ("HSNP", [{"SA07": 12_000, "SA12.N": 11_000, "SA12.D": 12_000}],
             {"SA07": 12_000, "SA12.N": 92, "SA12.D": 100}),
    "VR21": ("HSNP", [{"SA07": 12_000, "SA15": 100, "SPX08.N": 11_500, "SPX08.D": 11_950}],
             {"SA07": 12_000, "SA15": 100, "SPX08.N": 96, "SPX08.D": 100}),
    "VR22": ("NICHE", [{"SA16": 900, "SA10": 2_700_000}], {"SA16": 900, "SA10": 27_000_000}),
    "VR23": ("NICHE", [{"SA16": 900, "SA10": 2_700_000}, {"SA16": 900, "SA10": 1_350_000}],  # KES 500 a month
             {"SA16": 900, "SA10": 2_700}),
    "VR24": ("COUNTY", [{"SA17": 4_500, "SA14": 50, "SA15": 40}], {"SA17": 4_500, "SA14": 5_000, "SA15": 40}),
    "VR25": ("COUNTY", [{"SA17": 4_500, "SA15": 40}], {"SA17": 4_500, "SA15": 4_000}),
    "VR26": ("OPCT", [{"SA02": 20_000, "SA03.N": 20_000, "SA03.D": 30_000}],
             {"SA02": 20, "SA03.N": 20_000, "SA03.D": 30_000}),
    "VR27": ("PWSD", [{"SA05": 1_100, "SA06.N": 1_100, "SA06.D": 30_000}],
             {"SA05": 1_100, "SA06.N": 11_000, "SA06.D": 30_000}),  # persons with severe disability counted
    "VR28": ("OPCT", [{"SA10": 118_000_000, "SPX13.N": 30_000_000, "SPX13.D": 500_000_000}],
             {"SA10": 118_000_000, "SPX13.N": 30, "SPX13.D": 500}),  # KES millions
    "VR29": ("NSSF", [{"SS02": 38_000, "SS03": 239_400_000}], {"SS02": 38_000, "SS03": 2_394_000_000}),
    "VR30": ("NSSF", [{"SS02": 38_000, "SS03": 239_400_000}], {"SS02": 38_000, "SS03": 239_400}),
    "VR31": ("SHA", [{"HI01": 200_000, "HI04.N": 9_000, "HI04.D": 20_000}],
             {"HI01": 200, "HI04.N": 9_000, "HI04.D": 20_000}),
    "VR32": ("SPS", [{"SA13": 1_460}, {"SA13": 2_000}], {"SA13": 2_740}),  # inflated, not deflated
    "VR33": ("SPS", [{"SPX06": 4_800_000, "SPX07.N": 4_800_000, "SPX07.D": 12_800_000}],
             {"SPX06": 4_800, "SPX07.N": 4_800_000, "SPX07.D": 12_800_000}),
    "VR34": ("SPS", [{"SPX06": 4_800_000, "SPX09": 45_000}], {"SPX06": 4_800_000, "SPX09": 45_000_000}),
    "VR35": ("SPS", [{"SPX05.N": 11_000_000, "SPX05.D": 52_400_000, "SPX07.N": 4_800_000, "SPX07.D": 12_800_000}],
             {"SPX05.N": 11_000, "SPX05.D": 52_400, "SPX07.N": 4_800_000, "SPX07.D": 12_800_000}),
    "VR36": ("SPS", [{"SPX02.N": 46e9, "SPX02.D": 82e9, "SPX03.N": 17e9, "SPX03.D": 82e9}],
             {"SPX02.N": 46e9, "SPX02.D": 82e9, "SPX03.N": 17e9, "SPX03.D": 90.2e9}),  # last year's total
    "VR37": ("SPS", [{"SPX02.N": 46e9, "SPX02.D": 82e9, "SPX04.N": 19e9, "SPX04.D": 82e9}],
             {"SPX02.N": 46e9, "SPX02.D": 82e9, "SPX04.N": 19e6, "SPX04.D": 82e6}),  # KES thousands
}


def test_every_seeded_rule_has_cases_and_reads_well():
    codes = [row["code"] for row in ROWS]
    assert len(codes) == len(set(codes))
    assert {"VR01", "VR02", "VR03", "VR04", "VR05", "VR06"} <= set(codes)
    assert set(codes) == set(CASES)
    for row in ROWS:
        assert row["operator"] in OPERATORS, row["code"]
        assert row["severity"] in ("error", "warning"), row["code"]
        assert row["importance"] in ("high", "medium", "low"), row["code"]
        assert row["missing_strategy"] in MISSING_STRATEGIES, row["code"]
        assert row["name"].strip() and len(row["name"]) <= 80, row["code"]
        description = row["description"].strip()
        assert description.endswith(".") and len(description.split()) >= 8, row["code"]


def test_each_rule_can_apply_to_some_programme_and_its_case_is_that_programme():
    carried = reported_by()
    for code, rule in RULES.items():
        programmes = set.intersection(*(carried[indicator] for indicator in rule.indicators))
        assert programmes, f"{code}: no programme's form carries {rule.indicators}"
        assert CASES[code][0] in programmes, code


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_consistent_return_gives_no_issue(code):
    programme, consistent, _ = CASES[code]
    for figures in consistent:
        assert rule_issues(frame(programme, figures), list(RULES.values())) == [], (code, figures)


@pytest.mark.parametrize("code", sorted(CASES))
def test_an_inconsistent_return_gives_this_rule_s_issue_with_its_reason(code):
    programme, _, inconsistent = CASES[code]
    rule = RULES[code]
    issues = rule_issues(frame(programme, inconsistent), list(RULES.values()))
    assert [issue.location.get("rule") for issue in issues] == [code]
    issue = issues[0]
    assert issue.code == "rule" and issue.severity == rule.severity
    assert issue.location == {"programme": programme, "org_unit": "042", "period": "2025Q2", "rule": code}
    assert f"{rule.name} ({code})" in issue.message
    assert rule.description.strip().rstrip(".") in issue.message
    assert f"({rule.text})" in issue.message


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_rule_stays_silent_when_one_of_its_figures_is_missing(code):
    programme, _, inconsistent = CASES[code]
    rule = RULES[code]
    assert rule.missing_strategy == "skip_if_any_missing"
    for reference in rule.references:
        figures = {name: value for name, value in inconsistent.items() if name != reference.name}
        assert rule_issues(frame(programme, figures), [rule]) == [], (code, reference.name)


def test_rules_are_evaluated_per_return():
    """Figures of two returns never meet in one rule: Kisumu's payroll does not cover Nairobi's exits."""
    kisumu = frame("OPCT", {"SA01": 20_000, "SA15": 180})
    nairobi = frame("OPCT", {"SA15": 45_000}, org_unit="047")
    assert rule_issues(pd.concat([kisumu, nairobi], ignore_index=True), list(RULES.values())) == []
