"""Achievement and status: the whole table of cases, and properties over generated figures."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indicators.compile import Rule, Thresholds, achievement, score, status_of
from indicators.display import achievement as achievement_text

UP = Rule("UP", "count", None, "sum", True, "increase")
DOWN = Rule("DOWN", "count", None, "sum", True, "decrease")
RULES = {"UP": UP, "DOWN": DOWN}


def met(direction: str, actual: float, target: float) -> bool:
    return actual >= target if direction == "increase" else actual <= target


# (direction, baseline, target, actual, expected achievement, expected method)
TABLE = [
    # increase: target above / below / equal to baseline, baseline present or absent
    ("increase", 100, 200, 250, 125.0, "actual ÷ target"),
    ("increase", 100, 200, 200, 100.0, "actual ÷ target"),
    ("increase", 100, 200, 150, 75.0, "actual ÷ target"),
    ("increase", 100, 200, 0, 0.0, "actual ÷ target"),
    ("increase", 300, 200, 150, 75.0, "actual ÷ target"),  # target below baseline: still actual ÷ target
    ("increase", 200, 200, 220, 110.0, "actual ÷ target"),
    ("increase", None, 200, 180, 90.0, "actual ÷ target"),
    ("increase", None, 0, 0, 100.0, "actual ÷ target (target is zero)"),
    ("increase", None, 0, 5, 100.0, "actual ÷ target (target is zero)"),
    # decrease with the target below the baseline: progress from the baseline
    ("decrease", 25, 15, 20, 50.0, "progress from baseline to target"),
    ("decrease", 25, 15, 15, 100.0, "progress from baseline to target"),
    ("decrease", 25, 15, 10, 150.0, "progress from baseline to target"),
    ("decrease", 25, 15, 0, 250.0, "progress from baseline to target"),
    ("decrease", 25, 15, 30, -50.0, "progress from baseline to target"),  # worse than the baseline
    # decrease with the target above or equal to the baseline (SA15: 8,597 → 8,752): target ÷ actual
    ("decrease", 8597, 8752, 9060, 8752 / 9060 * 100, "target ÷ actual"),
    ("decrease", 8597, 8752, 8752, 100.0, "target ÷ actual"),
    ("decrease", 8597, 8752, 8000, 8752 / 8000 * 100, "target ÷ actual"),
    ("decrease", 100, 100, 120, 100 / 120 * 100, "target ÷ actual"),
    # decrease without a baseline
    ("decrease", None, 15, 20, 75.0, "target ÷ actual"),
    ("decrease", None, 15, 12, 125.0, "target ÷ actual"),
    ("decrease", None, 15, 0, 100.0, "target ÷ actual (actual is zero)"),
    ("decrease", None, 0, 0, 100.0, "target ÷ actual (actual is zero)"),
    ("decrease", None, 0, 3, 0.0, "target ÷ actual"),
]


@pytest.mark.parametrize(("direction", "baseline", "target", "actual", "expected", "method"), TABLE)
def test_every_case_of_the_achievement_table(direction, baseline, target, actual, expected, method):
    value, used = score(direction, float(actual), float(target), None if baseline is None else float(baseline))
    assert value == pytest.approx(expected)
    assert used == method
    if met(direction, actual, target):
        assert value >= 100
    else:
        assert value < 100


def test_sa15_exits_above_a_rising_target_are_no_longer_299_percent():
    # The case: baseline 8,597, target 8,752, actual 9,060 printed "299% On track".
    value, method = score("decrease", 9060.0, 8752.0, 8597.0)
    assert value < 100 and method == "target ÷ actual"
    assert achievement_text(value) == "96%"


def test_missing_parts_give_no_achievement_and_the_right_status():
    frame = pd.DataFrame({"indicator": ["UP", "UP", "UP", "DOWN"],
                          "actual": [float("nan"), 50.0, 50.0, float("nan")],
                          "target": [100.0, float("nan"), 100.0, 10.0],
                          "baseline": [float("nan")] * 4,
                          "note": ["", "", "", "not added across programmes: the same people can be in several"]})
    result = achievement(RULES, frame)
    assert result["status"].tolist() == ["not_reported", "no_target", "off_track", "not_added"]
    assert result["achievement"].isna().tolist() == [True, True, False, True]
    assert result["achievement_method"].tolist() == ["", "", "actual ÷ target", ""]


@pytest.mark.parametrize(("achieved", "status"), [(None, "no_target"), (150.0, "on_track"), (90.0, "on_track"),
                                                   (89.99, "needs_attention"), (70.0, "needs_attention"),
                                                   (69.9, "off_track"), (-20.0, "off_track")])
def test_status_bands_follow_the_configured_thresholds(achieved, status):
    assert status_of(achieved, True, Thresholds(90, 70)) == status


# Figures as stored: counts, and amounts or percentages with at most two decimals.
amounts = st.one_of(st.integers(0, 10**9).map(float), st.integers(0, 10**11).map(lambda cents: cents / 100))
positive = st.one_of(st.integers(1, 10**9).map(float), st.integers(1, 10**11).map(lambda cents: cents / 100))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["increase", "decrease"]), st.one_of(st.none(), amounts), amounts, amounts)
def test_achievement_is_at_least_100_exactly_when_the_target_is_met(direction, baseline, target, actual):
    value, _ = score(direction, actual, target, baseline)
    assert value is not None and math.isfinite(value)
    if met(direction, actual, target):
        assert value >= 100, (direction, baseline, target, actual, value)
    else:
        assert value < 100, (direction, baseline, target, actual, value)
    # What is printed agrees: a missed target never reads 100% or more, a met one never less.
    printed = int(achievement_text(value).rstrip("%").replace(",", ""))
    assert (printed >= 100) == met(direction, actual, target)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["increase", "decrease"]), st.one_of(st.none(), amounts), amounts, positive, positive)
def test_a_better_figure_never_scores_lower(direction, baseline, target, first, second):
    # (A zero actual of a falling indicator meets any target and scores 100: the ratio has no bound.)
    assume(first != second)
    better, worse = (max(first, second), min(first, second)) if direction == "increase" else (
        min(first, second), max(first, second))
    assert score(direction, better, target, baseline)[0] >= score(direction, worse, target, baseline)[0]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["increase", "decrease"]), st.one_of(st.none(), amounts), amounts, amounts,
       st.floats(min_value=1, max_value=99))
def test_status_follows_the_bands_and_a_met_target_is_on_track(direction, baseline, target, actual, attention):
    thresholds = Thresholds(max(attention, 90.0), min(attention, 90.0))
    value, _ = score(direction, actual, target, baseline)
    status = status_of(value, True, thresholds)
    if met(direction, actual, target):
        assert status == "on_track"
    expected = ("on_track" if value >= thresholds.on_track else
                "needs_attention" if value >= thresholds.needs_attention else "off_track")
    assert status == expected
