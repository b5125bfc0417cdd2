"""Tests for DHIS2 period parsing, arithmetic and Kenyan FY labels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators.periods import (
    Period,
    PeriodError,
    PeriodType,
    financial_year_of,
    financial_year_quarters,
    is_valid_period,
    month_of,
    parse_period,
    period_range,
    quarter_of,
    year_to_date,
)

ACCEPTED = (
    "2025Q3 (quarter)",
    "2025July (financial year July–June)",
    "202509 (month)",
    "2025 (year)",
)


def ids(periods: list[Period]) -> list[str]:
    """Turn periods into their ids for readable assertions."""
    return [p.id for p in periods]


# --- labels -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pid", "label", "short"),
    [
        ("2025Q3", "FY2025/26 Q1 (Jul–Sep 2025)", "FY25/26 Q1"),
        ("2025Q4", "FY2025/26 Q2 (Oct–Dec 2025)", "FY25/26 Q2"),
        ("2026Q1", "FY2025/26 Q3 (Jan–Mar 2026)", "FY25/26 Q3"),
        ("2026Q2", "FY2025/26 Q4 (Apr–Jun 2026)", "FY25/26 Q4"),
        ("2025July", "FY2025/26 (Jul 2025–Jun 2026)", "FY2025/26"),
        ("1999July", "FY1999/00 (Jul 1999–Jun 2000)", "FY1999/00"),
        ("2000Q1", "FY1999/00 Q3 (Jan–Mar 2000)", "FY99/00 Q3"),
        ("202509", "September 2025", "Sep 2025"),
        ("202501", "January 2025", "Jan 2025"),
        ("2025", "2025", "2025"),
    ],
)
def test_labels(pid: str, label: str, short: str) -> None:
    period = parse_period(pid)
    assert period.label == label
    assert period.short_label == short
    assert str(period) == period.id == pid


def test_labels_use_en_dash() -> None:
    assert "\u2013" in parse_period("2025Q3").label
    assert "-" not in parse_period("2025July").label


# --- parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pid", "ptype", "year", "index"),
    [
        ("202509", PeriodType.MONTH, 2025, 9),
        ("2025Q3", PeriodType.QUARTER, 2025, 3),
        ("2025July", PeriodType.FINANCIAL_YEAR, 2025, 0),
        ("2025", PeriodType.YEAR, 2025, 0),
        ("  2025Q3\n", PeriodType.QUARTER, 2025, 3),
        ("1900", PeriodType.YEAR, 1900, 0),
        ("299912", PeriodType.MONTH, 2999, 12),
    ],
)
def test_parse_accepted_forms(pid: str, ptype: PeriodType, year: int, index: int) -> None:
    assert parse_period(pid) == Period(ptype, year, index)


def test_parse_passes_period_through_and_accepts_int() -> None:
    period = Period(PeriodType.QUARTER, 2025, 3)
    assert parse_period(period) is period
    assert parse_period(2025) == Period(PeriodType.YEAR, 2025, 0)
    assert parse_period(202509) == Period(PeriodType.MONTH, 2025, 9)


def test_is_valid_period() -> None:
    assert is_valid_period("2025Q3")
    assert not is_valid_period("2025q3")
    assert not is_valid_period(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("2025Q0", "quarter must be 1–4"),
        ("2025Q5", "quarter must be 1–4"),
        ("2025Q01", "quarter must be 1–4"),
        ("202513", "month must be 01–12"),
        ("202500", "month must be 01–12"),
        ("2025july", "did you mean '2025July'?"),
        ("2025JULY", "did you mean '2025July'?"),
        ("2025q3", "did you mean '2025Q3'?"),
        ("25Q3", "four digits"),
        ("2025-Q3", "did you mean '2025Q3'?"),
        ("2025 Q3", "did you mean '2025Q3'?"),
        ("1899", "year must be 1900–2999"),
        ("3000Q1", "year must be 1900–2999"),
        ("2999July", "financial year must start in 1900–2998"),
        ("abcd", "unrecognised"),
        ("2025Q3x", "unrecognised"),
        (None, "got NoneType"),
        (20.25, "got float"),
        (True, "got bool"),
    ],
)
def test_parse_errors_quote_input_and_list_forms(bad: object, reason: str) -> None:
    with pytest.raises(PeriodError) as excinfo:
        parse_period(bad)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert message.startswith(f"{bad!r} is not a valid period: ")
    assert reason in message
    for form in ACCEPTED:
        assert form in message


def test_parse_error_message_exact() -> None:
    with pytest.raises(PeriodError) as excinfo:
        parse_period("2025Q5")
    assert str(excinfo.value) == (
        "'2025Q5' is not a valid period: quarter must be 1–4. Use 2025Q3 (quarter), "
        "2025July (financial year July–June), 202509 (month) or 2025 (year)."
    )


def test_period_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="not a valid period"):
        parse_period("2025Q5")


def test_direct_construction_is_validated() -> None:
    with pytest.raises(PeriodError, match="'202513'"):
        Period(PeriodType.MONTH, 2025, 13)
    with pytest.raises(PeriodError, match="integers"):
        Period(PeriodType.MONTH, "2025", 1)  # type: ignore[arg-type]
    assert Period("quarter", 2025, 3).type is PeriodType.QUARTER  # type: ignore[arg-type]


# --- dates, FY boundaries and leap years --------------------------------------------


@pytest.mark.parametrize(
    ("pid", "start", "end"),
    [
        ("2025Q3", date(2025, 7, 1), date(2025, 9, 30)),
        ("2025Q4", date(2025, 10, 1), date(2025, 12, 31)),
        ("2025July", date(2025, 7, 1), date(2026, 6, 30)),
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("202402", date(2024, 2, 1), date(2024, 2, 29)),
        ("202502", date(2025, 2, 1), date(2025, 2, 28)),
        ("190002", date(1900, 2, 1), date(1900, 2, 28)),
        ("200002", date(2000, 2, 1), date(2000, 2, 29)),
        ("202412", date(2024, 12, 1), date(2024, 12, 31)),
    ],
)
def test_start_and_end(pid: str, start: date, end: date) -> None:
    period = parse_period(pid)
    assert (period.start, period.end) == (start, end)


def test_leap_year_financial_year_length() -> None:
    assert (parse_period("2023July").end - parse_period("2023July").start).days + 1 == 366
    assert (parse_period("2024July").end - parse_period("2024July").start).days + 1 == 365


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        (date(2025, 6, 30), "2024July"),
        (date(2025, 7, 1), "2025July"),
        (date(2025, 1, 1), "2024July"),
        (date(2025, 12, 31), "2025July"),
        (date(2024, 2, 29), "2023July"),
    ],
)
def test_financial_year_of_boundaries(day: date, fy: str) -> None:
    assert financial_year_of(day).id == fy


def test_month_and_quarter_of() -> None:
    assert month_of(date(2024, 2, 29)).id == "202402"
    assert quarter_of(date(2025, 6, 30)).id == "2025Q2"
    assert quarter_of(date(2025, 7, 1)).id == "2025Q3"


def test_financial_year_of_june_and_july_months() -> None:
    assert parse_period("202606").financial_year().id == "2025July"
    assert parse_period("202607").financial_year().id == "2026July"
    assert parse_period("2026Q2").financial_year().id == "2025July"
    assert parse_period("2026Q3").financial_year().id == "2026July"
    fy = parse_period("2025July")
    assert fy.financial_year() is fy


def test_calendar_year_has_no_financial_year() -> None:
    with pytest.raises(PeriodError):
        parse_period("2025").financial_year()


# --- quarters, months, ranges ---------------------------------------------------------


def test_quarters_of_financial_year_are_in_fy_order() -> None:
    assert ids(parse_period("2025July").quarters()) == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert ids(financial_year_quarters("2025July")) == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert ids(financial_year_quarters("2026Q1")) == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def test_quarters_of_year_and_quarter() -> None:
    assert ids(parse_period("2025").quarters()) == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert ids(parse_period("2025Q3").quarters()) == ["2025Q3"]
    with pytest.raises(PeriodError):
        parse_period("202509").quarters()


def test_months() -> None:
    assert ids(parse_period("2025Q3").months()) == ["202507", "202508", "202509"]
    assert ids(parse_period("202509").months()) == ["202509"]
    fy_months = parse_period("2025July").months()
    assert (fy_months[0].id, fy_months[-1].id, len(fy_months)) == ("202507", "202606", 12)
    assert len(parse_period("2025").months()) == 12


@pytest.mark.parametrize(
    ("pid", "expected"),
    [("2025Q3", ["2025Q3"]), ("2025Q4", ["2025Q3", "2025Q4"]),
     ("2026Q1", ["2025Q3", "2025Q4", "2026Q1"]), ("2026Q2", ["2025Q3", "2025Q4", "2026Q1", "2026Q2"])],
)  # fmt: skip
def test_year_to_date(pid: str, expected: list[str]) -> None:
    assert ids(year_to_date(pid)) == expected


def test_year_to_date_needs_a_quarter() -> None:
    with pytest.raises(PeriodError):
        year_to_date("2025July")


def test_fy_quarter() -> None:
    assert [parse_period(f"2025Q{i}").fy_quarter for i in range(1, 5)] == [3, 4, 1, 2]
    assert parse_period("2025July").fy_quarter is None
    assert parse_period("202509").fy_quarter is None


def test_period_range() -> None:
    assert ids(period_range("2025Q3", "2026Q2")) == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert ids(period_range("202511", "202602")) == ["202511", "202512", "202601", "202602"]
    assert ids(period_range("2025", "2025")) == ["2025"]
    assert period_range("2026Q2", "2025Q3") == []
    with pytest.raises(PeriodError, match="one type"):
        period_range("2025Q3", "202509")


# --- arithmetic ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pid", "prev", "nxt"),
    [
        ("202501", "202412", "202502"),
        ("202512", "202511", "202601"),
        ("2025Q1", "2024Q4", "2025Q2"),
        ("2025Q4", "2025Q3", "2026Q1"),
        ("2025July", "2024July", "2026July"),
        ("2025", "2024", "2026"),
    ],
)
def test_previous_and_next(pid: str, prev: str, nxt: str) -> None:
    period = parse_period(pid)
    assert period.previous().id == prev
    assert period.next().id == nxt


def test_shift() -> None:
    assert parse_period("2025Q3").shift(5).id == "2026Q4"
    assert parse_period("202503").shift(-14).id == "202401"
    assert parse_period("2025Q3").shift(0).id == "2025Q3"


@pytest.mark.parametrize(
    ("pid", "expected"),
    [("202402", "202302"), ("2025Q3", "2024Q3"), ("2025July", "2024July"), ("2025", "2024")],
)
def test_same_period_last_year(pid: str, expected: str) -> None:
    assert parse_period(pid).same_period_last_year().id == expected


def test_shift_beyond_supported_years_raises() -> None:
    with pytest.raises(PeriodError):
        parse_period("2999").next()
    with pytest.raises(PeriodError):
        parse_period("190001").previous()


def test_contains() -> None:
    fy = parse_period("2025July")
    assert fy.contains(parse_period("2025Q3"))
    assert fy.contains(parse_period("202606"))
    assert not fy.contains(parse_period("202607"))
    assert not fy.contains(parse_period("2025"))
    assert parse_period("2025").contains(parse_period("2025Q2"))
    assert fy.contains(fy)


def test_ordering_across_types_and_hashing() -> None:
    shuffled = [parse_period(p) for p in ["2026", "2025July", "202507", "2025Q3", "2025", "202512"]]
    assert ids(sorted(shuffled)) == ["2025", "202507", "2025Q3", "2025July", "202512", "2026"]
    assert len({parse_period("2025Q3"), parse_period(" 2025Q3 ")}) == 1
    assert parse_period("2025July") != parse_period("2025")


# --- properties ---------------------------------------------------------------------


def periods(first_year: int = 1900, last_year: int = 2998) -> st.SearchStrategy[Period]:
    """Generate periods of every type starting within the given years."""

    def build(ptype: PeriodType, index: int) -> st.SearchStrategy[Period]:
        # A financial year starting in 2999 would end in 3000, which is out of range.
        last = min(last_year, 2998) if ptype is PeriodType.FINANCIAL_YEAR else last_year
        return st.integers(first_year, last).map(lambda y: Period(ptype, y, index))

    return st.one_of(
        st.integers(1, 12).flatmap(lambda m: build(PeriodType.MONTH, m)),
        st.integers(1, 4).flatmap(lambda q: build(PeriodType.QUARTER, q)),
        build(PeriodType.FINANCIAL_YEAR, 0),
        build(PeriodType.YEAR, 0),
    )


quarters = st.builds(
    Period, st.just(PeriodType.QUARTER), st.integers(1901, 2998), st.integers(1, 4)
)
financial_years = st.builds(
    Period, st.just(PeriodType.FINANCIAL_YEAR), st.integers(1900, 2998), st.just(0)
)


@given(periods(1900, 2999))
def test_round_trip(period: Period) -> None:
    assert parse_period(period.id) == period
    assert parse_period(str(period)) == period


@given(periods(1901, 2997))
def test_next_then_previous(period: Period) -> None:
    assert period.next().previous() == period
    assert period.previous().next() == period


@given(periods(1960, 2940), st.integers(-50, 50))
def test_shift_inverse(period: Period, n: int) -> None:
    assert period.shift(n).shift(-n) == period


@given(periods(), periods())
def test_ordering_agrees_with_start_dates(a: Period, b: Period) -> None:
    if a.start < b.start:
        assert a < b and b > a and a != b
    assert sum([a < b, a == b, b < a]) == 1
    assert [p.start for p in sorted([a, b])] == sorted([a.start, b.start])


@given(periods(1900, 2997))
def test_consecutive_periods_are_contiguous(period: Period) -> None:
    assert period.next().start == period.end + timedelta(days=1)


@given(quarters)
def test_quarter_in_its_financial_year_exactly_once(quarter: Period) -> None:
    fy = quarter.financial_year()
    assert fy.contains(quarter)
    assert fy.quarters().count(quarter) == 1
    assert fy.quarters()[quarter.fy_quarter - 1] == quarter  # type: ignore[operator]


@given(financial_years)
def test_quarters_tile_financial_year(fy: Period) -> None:
    qs = fy.quarters()
    assert len(qs) == 4
    assert qs[0].start == fy.start
    assert qs[-1].end == fy.end
    for earlier, later in zip(qs, qs[1:], strict=False):
        assert later.start == earlier.end + timedelta(days=1)
    assert ids(year_to_date(qs[-1])) == ids(qs)
