"""DHIS2 relative periods (LAST_4_QUARTERS, THIS_FINANCIAL_YEAR, ...) as DHIS2 2.41 expands them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators.periods import (
    RELATIVE_PERIODS,
    PeriodError,
    PeriodType,
    is_relative_period,
    parse_period,
    relative_period_name,
    relative_periods,
)

DAY = date(2025, 11, 4)  # FY2025/26 Q2 (Oct–Dec 2025)


@pytest.mark.parametrize(("keyword", "expected"), [
    ("THIS_QUARTER", ["2025Q4"]),
    ("LAST_QUARTER", ["2025Q3"]),
    ("LAST_4_QUARTERS", ["2024Q4", "2025Q1", "2025Q2", "2025Q3"]),
    ("QUARTERS_THIS_YEAR", ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]),
    ("QUARTERS_LAST_YEAR", ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]),
    ("THIS_MONTH", ["202511"]),
    ("LAST_MONTH", ["202510"]),
    ("LAST_3_MONTHS", ["202508", "202509", "202510"]),
    ("THIS_YEAR", ["2025"]),
    ("LAST_YEAR", ["2024"]),
    ("LAST_5_YEARS", ["2020", "2021", "2022", "2023", "2024"]),
    ("THIS_FINANCIAL_YEAR", ["2025July"]),
    ("LAST_FINANCIAL_YEAR", ["2024July"]),
    ("LAST_5_FINANCIAL_YEARS", ["2020July", "2021July", "2022July", "2023July", "2024July"]),
])
def test_expansions(keyword: str, expected: list[str]) -> None:
    assert [p.id for p in relative_periods(keyword, DAY)] == expected


def test_financial_year_turns_on_the_first_of_july() -> None:
    assert [p.id for p in relative_periods("THIS_FINANCIAL_YEAR", date(2025, 6, 30))] == ["2024July"]
    assert [p.id for p in relative_periods("THIS_FINANCIAL_YEAR", date(2025, 7, 1))] == ["2025July"]
    assert [p.id for p in relative_periods("LAST_4_QUARTERS", date(2025, 1, 1))] == [
        "2024Q1", "2024Q2", "2024Q3", "2024Q4"]


def test_last_12_months_crosses_the_year() -> None:
    months = relative_periods("LAST_12_MONTHS", date(2025, 3, 15))
    assert months[0].id == "202403" and months[-1].id == "202502" and len(months) == 12


def test_unknown_keywords_are_refused() -> None:
    for bad in ("LAST_2_SIXMONTHS", "last_4_quarters", "", "2025Q3", None):
        assert not is_relative_period(bad)
        with pytest.raises(PeriodError):
            relative_periods(bad, DAY)  # type: ignore[arg-type]


def test_names_read_like_dhis2() -> None:
    assert relative_period_name("LAST_4_QUARTERS") == "Last 4 quarters"
    assert relative_period_name("THIS_FINANCIAL_YEAR") == "This financial year"


@given(st.dates(min_value=date(1911, 1, 1), max_value=date(2990, 12, 31)), st.sampled_from(sorted(RELATIVE_PERIODS)))
def test_every_expansion_is_ordered_distinct_and_parses(day: date, keyword: str) -> None:
    periods = relative_periods(keyword, day)
    assert periods == sorted(set(periods))
    assert all(parse_period(p.id) == p for p in periods)
    if keyword.startswith("LAST_"):
        assert all(p.end < day for p in periods)  # "last" periods end before the current one begins
    if keyword.startswith("THIS_"):
        assert periods[0].start <= day <= periods[0].end
    if "QUARTER" in keyword:
        assert {p.type for p in periods} == {PeriodType.QUARTER}


def test_out_of_range_is_a_period_error() -> None:
    with pytest.raises(PeriodError):
        relative_periods("LAST_10_YEARS", date(1901, 6, 1))
