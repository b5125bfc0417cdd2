"""Rounding once, at display: percentages, achievement, changes in points or per cent."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.display import achievement, change, percent, returns_coverage, round_half_up


def test_timeliness_172_of_251_prints_69_not_68():
    # 68.526…% was rounded to 68.5 in the data and then to 68 (half to even) on the page.
    assert percent(172 / 251 * 100) == "69%"
    assert percent(68.5) == "69%"
    assert percent(0.5) == "1%"
    assert percent(None) == "–"
    assert percent(float("nan")) == "–"


@pytest.mark.parametrize(("value", "printed"), [(95.0, "95%"), (94.99999999999997, "95%"), (99.96, "99%"),
                                                (99.4, "99%"), (100.0, "100%"), (89.99, "89%"), (250.5, "250%"),
                                                (-50.0, "-50%"), (None, "–")])
def test_achievement_is_truncated_so_a_missed_target_never_prints_as_reached(value, printed):
    assert achievement(value) == printed


def test_a_change_of_a_percentage_is_in_points_and_of_a_count_relative():
    assert change(96.2, 69.4, "ratio") == "+26.8 pts"  # not "+38.6%"
    assert change(69.4, 96.2, "ratio") == "-26.8 pts"
    assert change(50.0, 50.0, "ratio") == "±0.0 pts"
    assert change(1_150, 1_000, "count") == "+15.0%"
    assert change(900, 1_000, "amount") == "-10.0%"
    assert change(5, 0, "count") == "–"
    assert change(None, 1, "count") == "–"


def test_coverage_is_said_only_when_returns_are_missing():
    assert returns_coverage(1, 251) == "1 of 251 returns"
    assert returns_coverage(1_000, 1_200) == "1,000 of 1,200 returns"
    assert returns_coverage(251, 251) == ""
    assert returns_coverage(None, None) == ""


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 100_000))
def test_a_share_of_returns_is_rounded_once_half_up_as_on_paper(received, expected):
    share = Fraction(received * 100, expected)  # the exact share
    printed = int(percent(received / expected * 100).rstrip("%").replace(",", ""))
    assert printed == math.floor(share + Fraction(1, 2))


def test_half_way_shares_round_up_despite_binary_noise():
    assert 57 / 200 * 100 < 28.5  # 28.499999999999996 in floating point
    assert percent(57 / 200 * 100) == "29%"
    assert round_half_up(2.5) == 3.0 and round_half_up(-2.5) == -3.0 and round_half_up(0.125, 2) == 0.13
