"""Periods as the service's edges receive them: a bad identifier becomes a located 422 error."""

from __future__ import annotations

from indicators.periods import Period, PeriodError, PeriodType, parse_period
from mel.errors import ValidationFailed


def period(value: str) -> Period:
    """Any DHIS2 period identifier, or ValidationFailed quoting it and the accepted forms."""
    try:
        return parse_period(value)
    except PeriodError as exc:
        raise ValidationFailed(str(exc)) from None


def financial_year(value: str) -> Period:
    """A July–June financial year such as 2025July."""
    parsed = period(value)
    if parsed.type is not PeriodType.FINANCIAL_YEAR:
        raise ValidationFailed(f"{value!r} is not a financial year: use the form 2025July.")
    return parsed


def quarter(value: str) -> Period:
    """A calendar quarter such as 2025Q3 (shown as FY2025/26 Q1)."""
    parsed = period(value)
    if parsed.type is not PeriodType.QUARTER:
        raise ValidationFailed(f"{value!r} is not a quarter; use the form 2025Q3.")
    return parsed
