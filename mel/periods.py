"""Periods as the service's edges receive them: a bad identifier becomes a located 422 error.

Every period that arrives from outside (URL path, query string, form, JSON body, CLI option) is
parsed here, so a malformed one is always the same ValidationFailed naming the value and what
was expected, never a PeriodError escaping as a 500.
"""

from __future__ import annotations

from indicators.messages import N_, Words, message, period_label, text
from indicators.periods import Period, PeriodError, PeriodType, parse_period, quarter_of
from mel.errors import ErrorDetail, ValidationFailed


def _refuse(words: Words | str, value: object, field: str) -> ValidationFailed:
    """The error and its one located detail; its words a message the page says in its language."""
    said = words if isinstance(words, str) else text(words)
    return ValidationFailed(said, [ErrorDetail(said, {"field": field, "value": str(value)})])


# The years a request may name: each period then has a previous year, a financial year and a
# next one that are periods too (indicators.periods holds 1900–2999).
FIRST_YEAR, LAST_YEAR = 1901, 2998


def period(value: str | Period, field: str = "period") -> Period:
    """Any DHIS2 period identifier, or ValidationFailed quoting it and the accepted forms."""
    try:
        parsed = parse_period(value)
    except PeriodError as exc:
        raise _refuse(exc.message, value, field) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise _refuse(message(N_("%(value)s is outside the years this service reports on (%(first)s–%(last)s)."),
                              value=repr(value), first=FIRST_YEAR, last=LAST_YEAR), value, field)
    return parsed


def financial_year(value: str | Period, field: str = "fiscal_year") -> Period:
    """A July–June financial year such as 2025July."""
    parsed = period(value, field)
    if parsed.type is not PeriodType.FINANCIAL_YEAR:
        raise _refuse(message(N_("%(value)s is not a financial year: use the form 2025July."), value=repr(value)),
                      value, field)
    return parsed


def quarter(value: str | Period, field: str = "period") -> Period:
    """A calendar quarter such as 2025Q3 (shown as FY2025/26 Q1)."""
    parsed = period(value, field)
    if parsed.type is not PeriodType.QUARTER:
        raise _refuse(message(N_("%(value)s is not a quarter; use the form 2025Q3."), value=repr(value)), value, field)
    return parsed


def quarter_or_month(value: str | Period, field: str = "period") -> Period:
    """A return's period as a URL names it: a quarter (2025Q3), or a month (202509) for a monthly form."""
    parsed = period(value, field)
    if parsed.type not in (PeriodType.QUARTER, PeriodType.MONTH):
        raise _refuse(message(N_("%(value)s is not a quarter or a month: returns are kept per quarter (2025Q3) or, "
                                 "for a monthly form, per month (202509)."), value=repr(value)), value, field)
    return parsed


def return_period(value: str | Period, form, programme: str, field: str = "period") -> Period:
    """The period of a return on `form` (a ReportingForm, or None): a quarter where the form asks quarterly
    figures, a month where it asks monthly ones (ReportingForm.frequency_in) — or ValidationFailed saying which."""
    parsed = quarter_or_month(value, field)
    problem = period_problem(parsed, form, programme)
    if problem is not None:
        raise _refuse(problem, value, field)
    return parsed


def period_problem(parsed: Period, form, programme: str):
    """Why a quarter or a month is not a period `form` asks returns for (a message), or None."""
    if form is None:
        return None
    quarter = parsed if parsed.type is PeriodType.QUARTER else quarter_of(parsed.start)
    monthly = form.frequency_in(quarter.id) == "monthly"
    if monthly and parsed.type is PeriodType.QUARTER:
        months = [m.id for m in parsed.months()]
        return message(N_("%(programme)s reports monthly in %(quarter)s: give the month, %(first)s, %(second)s or "
                          "%(third)s, not the quarter %(value)s."), programme=programme, quarter=period_label(parsed),
                       first=months[0], second=months[1], third=months[2], value=repr(parsed.id))
    if not monthly and parsed.type is PeriodType.MONTH:
        return message(N_("%(programme)s reports quarterly in %(quarter)s: give the quarter %(code)s, not the month "
                          "%(value)s."), programme=programme, quarter=period_label(quarter), code=quarter.id,
                       value=repr(parsed.id))
    return None
