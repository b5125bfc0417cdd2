"""DHIS2 period identifiers (month, quarter, July financial year, year) with Kenyan labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import total_ordering

from indicators.messages import N_, Joined, Message, Words, message
from indicators.messages import text as message_text

__all__ = [
    "MAX_YEAR", "MIN_YEAR", "Period", "PeriodError", "PeriodType",
    "financial_year_of", "financial_year_quarters", "is_valid_period", "month_of",
    "parse_period", "period_range", "quarter_of", "year_to_date",
    "RELATIVE_PERIODS", "is_relative_period", "relative_period_name", "relative_periods",
]  # fmt: skip

MIN_YEAR = 1900
MAX_YEAR = 2999

ACCEPTED_FORMS = N_(
    "Use 2025Q3 (quarter), 2025July (financial year July–June), 202509 (month) or 2025 (year)."
)

# Hard-coded rather than calendar.month_name, which follows the process locale.
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_ABBR = tuple(name[:3] for name in _MONTH_NAMES)

_SEPARATORS = re.compile(r"[\s_/.\-]+")
_SHORT_YEAR = re.compile(r"[0-9]{1,3}(?:Q[0-9]|July)?", re.IGNORECASE)


class PeriodError(ValueError):
    """Signal an invalid period identifier or an operation a period type does not support.

    Its words are a message (indicators/messages.py): `str(error)` is the English text, and
    `error.message` the `Text` that a page says again in the reader's language."""

    def __init__(self, words: Words | str = "") -> None:
        super().__init__(message_text(words) if isinstance(words, Message | Joined) else words)

    @property
    def message(self) -> str:
        """The English text, which remembers its message (a `Text`) when it was made from one."""
        return self.args[0] if self.args else ""

    @classmethod
    def invalid(cls, value: object, reason: Words | str) -> PeriodError:
        """Build the error for an identifier that cannot be parsed."""
        template = (N_("%(value)s is not a valid period: %(reason)s") if str(reason).endswith(("?", "."))
                    else N_("%(value)s is not a valid period: %(reason)s."))
        return cls(Joined(" ", (message(template, value=repr(value), reason=reason), Message(ACCEPTED_FORMS))))


class PeriodType(StrEnum):
    """Kinds of DHIS2 period supported by the service."""

    MONTH = "month"
    QUARTER = "quarter"
    FINANCIAL_YEAR = "financial_year"
    YEAR = "year"


# [0-9] rather than \d, which would also accept non-ASCII digits such as '２０２５'.
_SHAPES: tuple[tuple[re.Pattern[str], PeriodType], ...] = (
    (re.compile(r"([0-9]{4})([0-9]{2})"), PeriodType.MONTH),
    (re.compile(r"([0-9]{4})Q([0-9]+)"), PeriodType.QUARTER),
    (re.compile(r"([0-9]{4})July"), PeriodType.FINANCIAL_YEAR),
    (re.compile(r"([0-9]{4})"), PeriodType.YEAR),
)
_PER_YEAR = {
    PeriodType.MONTH: 12,
    PeriodType.QUARTER: 4,
    PeriodType.FINANCIAL_YEAR: 1,
    PeriodType.YEAR: 1,
}
_TYPE_ORDER = {ptype: position for position, ptype in enumerate(PeriodType)}


def _format_id(ptype: PeriodType, year: int, index: int) -> str:
    """Render the canonical DHIS2 identifier for the given parts."""
    if ptype is PeriodType.MONTH:
        return f"{year:04d}{index:02d}"
    if ptype is PeriodType.QUARTER:
        return f"{year:04d}Q{index}"
    if ptype is PeriodType.FINANCIAL_YEAR:
        return f"{year:04d}July"
    return f"{year:04d}"


def _problem(ptype: PeriodType, year: int, index: int) -> Message | None:
    """Explain why the parts do not form a valid period, or return None if they do."""
    if ptype is PeriodType.MONTH and not 1 <= index <= 12:
        return message(N_("month must be 01–12"))
    if ptype is PeriodType.QUARTER and not 1 <= index <= 4:
        return message(N_("quarter must be 1–4"))
    if ptype in (PeriodType.FINANCIAL_YEAR, PeriodType.YEAR) and index != 0:
        return message(N_("index must be 0 for a financial year or year"))
    # A FY starting in 2999 would end in 3000, so every sub-period of a valid period stays valid.
    if ptype is PeriodType.FINANCIAL_YEAR and not MIN_YEAR <= year <= MAX_YEAR - 1:
        return message(N_("financial year must start in %(first)s–%(last)s"), first=MIN_YEAR, last=MAX_YEAR - 1)
    if not MIN_YEAR <= year <= MAX_YEAR:
        return message(N_("year must be %(first)s–%(last)s"), first=MIN_YEAR, last=MAX_YEAR)
    return None


def _month_end(year: int, month: int) -> date:
    """Return the last day of a calendar month."""
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _fy_suffix(start_year: int) -> str:
    """Return the two-digit end-year suffix used in FY labels (1999 -> '00')."""
    return f"{(start_year + 1) % 100:02d}"


@total_ordering
@dataclass(frozen=True)
class Period:
    """One DHIS2 period; equal by (type, year, index), ordered by (start, end, type)."""

    type: PeriodType
    year: int
    index: int

    def __post_init__(self) -> None:
        """Coerce the type and reject impossible periods."""
        if not isinstance(self.type, PeriodType):
            try:
                object.__setattr__(self, "type", PeriodType(self.type))
            except ValueError:
                raise PeriodError(message(N_("unknown period type %(type)s"), type=repr(self.type))) from None
        parts = (self.year, self.index)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in parts):
            raise PeriodError(message(N_("period year and index must be integers, got %(parts)s"),
                                      parts=repr(parts)))
        reason = _problem(self.type, self.year, self.index)
        if reason is not None:
            raise PeriodError.invalid(_format_id(self.type, self.year, self.index), reason)

    @property
    def id(self) -> str:
        """Return the canonical DHIS2 identifier."""
        return _format_id(self.type, self.year, self.index)

    @property
    def start(self) -> date:
        """Return the first day of the period."""
        if self.type is PeriodType.MONTH:
            return date(self.year, self.index, 1)
        if self.type is PeriodType.QUARTER:
            return date(self.year, 3 * self.index - 2, 1)
        if self.type is PeriodType.FINANCIAL_YEAR:
            return date(self.year, 7, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """Return the last day of the period (inclusive)."""
        if self.type is PeriodType.MONTH:
            return _month_end(self.year, self.index)
        if self.type is PeriodType.QUARTER:
            return _month_end(self.year, 3 * self.index)
        if self.type is PeriodType.FINANCIAL_YEAR:
            return date(self.year + 1, 6, 30)
        return date(self.year, 12, 31)

    @property
    def fy_quarter(self) -> int | None:
        """Return the 1–4 position of a quarter within its July–June FY, else None."""
        if self.type is not PeriodType.QUARTER:
            return None
        return (self.index + 1) % 4 + 1

    @property
    def label(self) -> str:
        """Return the full Kenyan label shown to people."""
        if self.type is PeriodType.QUARTER:
            first, last = _MONTH_ABBR[3 * self.index - 3], _MONTH_ABBR[3 * self.index - 1]
            return f"{self.fy_label} ({first}–{last} {self.year})"
        if self.type is PeriodType.FINANCIAL_YEAR:
            return f"{self.fy_label} (Jul {self.year}–Jun {self.year + 1})"
        if self.type is PeriodType.MONTH:
            return f"{_MONTH_NAMES[self.index - 1]} {self.year}"
        return str(self.year)

    @property
    def fy_label(self) -> str:
        """The financial-year name people use in sentences: `FY2025/26 Q1` for a quarter."""
        if self.type is PeriodType.QUARTER:
            fy = self.financial_year().year
            return f"FY{fy}/{_fy_suffix(fy)} Q{self.fy_quarter}"
        if self.type is PeriodType.FINANCIAL_YEAR:
            return f"FY{self.year}/{_fy_suffix(self.year)}"
        return self.label

    @property
    def short_label(self) -> str:
        """Return a compact label for table headers."""
        if self.type is PeriodType.QUARTER:
            fy = self.financial_year().year
            return f"FY{fy % 100:02d}/{_fy_suffix(fy)} Q{self.fy_quarter}"
        if self.type is PeriodType.FINANCIAL_YEAR:
            return f"FY{self.year}/{_fy_suffix(self.year)}"
        if self.type is PeriodType.MONTH:
            return f"{_MONTH_ABBR[self.index - 1]} {self.year}"
        return str(self.year)

    def _ordinal(self) -> int:
        """Return a running count of periods of this type, for arithmetic."""
        return self.year * _PER_YEAR[self.type] + max(self.index, 1) - 1

    def shift(self, n: int) -> Period:
        """Return the period of the same type n steps later (earlier if n < 0)."""
        per_year = _PER_YEAR[self.type]
        year, offset = divmod(self._ordinal() + n, per_year)
        return Period(self.type, year, offset + 1 if per_year > 1 else 0)

    def next(self) -> Period:
        """Return the following period of the same type."""
        return self.shift(1)

    def previous(self) -> Period:
        """Return the preceding period of the same type."""
        return self.shift(-1)

    def same_period_last_year(self) -> Period:
        """Return the same month, quarter or year one year earlier."""
        return self.shift(-_PER_YEAR[self.type])

    def financial_year(self) -> Period:
        """Return the July–June FY containing this month or quarter (a FY returns itself)."""
        if self.type is PeriodType.FINANCIAL_YEAR:
            return self
        if self.type is PeriodType.YEAR:
            raise PeriodError(message(N_("calendar year %(period)s spans two financial years"), period=repr(self.id)))
        return financial_year_of(self.start)

    def quarters(self) -> list[Period]:
        """Return the calendar quarters inside this FY, year or quarter, in time order."""
        if self.type is PeriodType.MONTH:
            raise PeriodError(message(N_("month %(period)s is shorter than a quarter"), period=repr(self.id)))
        first = quarter_of(self.start)
        return [first.shift(i) for i in range(12 // _PER_YEAR[self.type] // 3)]

    def months(self) -> list[Period]:
        """Return the months inside this period, in time order."""
        first = month_of(self.start)
        return [first.shift(i) for i in range(12 // _PER_YEAR[self.type])]

    def contains(self, other: Period) -> bool:
        """Tell whether other's date span lies entirely within this period."""
        return self.start <= other.start and other.end <= self.end

    def _sort_key(self) -> tuple[date, date, int]:
        """Return the key that orders periods across types."""
        return (self.start, self.end, _TYPE_ORDER[self.type])

    def __lt__(self, other: object) -> bool:
        """Order by start, then end, then type."""
        if not isinstance(other, Period):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    def __str__(self) -> str:
        """Return the canonical DHIS2 identifier."""
        return self.id


def _match(text: str) -> Period | Words | None:
    """Parse a stripped identifier: a Period, a reason if a known shape is broken, else None."""
    for pattern, ptype in _SHAPES:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        year = int(found[1])
        index = 0
        if found.lastindex == 2:
            # Reject zero-padded quarters such as Q01 so every id has one canonical spelling.
            if ptype is PeriodType.QUARTER and len(found[2]) != 1:
                return message(N_("quarter must be 1–4"))
            index = int(found[2])
        return _problem(ptype, year, index) or Period(ptype, year, index)
    return None


def _diagnose(text: str) -> Words:
    """Explain why a stripped identifier matches none of the accepted shapes."""
    joined = _SEPARATORS.sub("", text)
    candidate = re.sub(r"(?i)july$", "July", re.sub(r"(?i)q(?=[0-9]+$)", "Q", joined))
    if candidate != text:
        result = _match(candidate)
        if isinstance(result, Period):
            problem = N_("periods are case-sensitive") if joined == text else N_("no separators allowed")
            return message(N_("%(problem)s; did you mean %(candidate)s?"), problem=Message(problem),
                           candidate=repr(candidate))
        if result is not None:
            return result
    if _SHORT_YEAR.fullmatch(joined):
        return message(N_("year must have four digits"))
    return message(N_("unrecognised format"))


def parse_period(value: str | int | Period) -> Period:
    """Parse a DHIS2 period id; a Period passes through and an int is read as its digits."""
    return _parse(value)


def _parse(value: object) -> Period:
    """Parse any object, so callers holding untyped input need no cast."""
    if isinstance(value, Period):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise PeriodError.invalid(value, message(N_("expected a string, got %(type)s"), type=type(value).__name__))
    if not text:
        raise PeriodError.invalid(value, message(N_("it is empty")))
    result = _match(text)
    if isinstance(result, Period):
        return result
    raise PeriodError.invalid(value, result if result is not None else _diagnose(text))


def is_valid_period(value: object) -> bool:
    """Tell whether value parses as a period."""
    try:
        _parse(value)
    except PeriodError:
        return False
    return True


def month_of(d: date) -> Period:
    """Return the month containing a date."""
    return Period(PeriodType.MONTH, d.year, d.month)


def quarter_of(d: date) -> Period:
    """Return the calendar quarter containing a date."""
    return Period(PeriodType.QUARTER, d.year, (d.month - 1) // 3 + 1)


def financial_year_of(d: date) -> Period:
    """Return the July–June financial year containing a date."""
    return Period(PeriodType.FINANCIAL_YEAR, d.year if d.month >= 7 else d.year - 1, 0)


def period_range(first: str | Period, last: str | Period) -> list[Period]:
    """Return the periods from first to last inclusive; both must be the same type."""
    start, stop = parse_period(first), parse_period(last)
    if start.type is not stop.type:
        raise PeriodError(message(
            N_("period range needs one type, got %(first)s (%(first_type)s) and %(last)s (%(last_type)s)"),
            first=repr(start.id), first_type=start.type.value, last=repr(stop.id), last_type=stop.type.value))
    count = stop._ordinal() - start._ordinal() + 1
    return [start.shift(i) for i in range(max(count, 0))]


def financial_year_quarters(fy: str | Period) -> list[Period]:
    """Return the four quarters, in FY order, of a FY or of the FY containing a month/quarter."""
    return parse_period(fy).financial_year().quarters()


def year_to_date(quarter: str | Period) -> list[Period]:
    """Return the FY's quarters from its first quarter up to and including this one."""
    current = parse_period(quarter)
    if current.fy_quarter is None:
        raise PeriodError(message(N_("year_to_date needs a quarter, got %(period)s"), period=repr(current.id)))
    return current.financial_year().quarters()[: current.fy_quarter]


# --------------------------------------------------------------------------- DHIS2 relative periods

def _this(ptype: PeriodType, today: date) -> Period:
    """The period of a type that contains a day."""
    if ptype is PeriodType.MONTH:
        return month_of(today)
    if ptype is PeriodType.QUARTER:
        return quarter_of(today)
    if ptype is PeriodType.FINANCIAL_YEAR:
        return financial_year_of(today)
    return Period(PeriodType.YEAR, today.year, 0)


def _rolling(ptype: PeriodType, count: int, today: date) -> list[Period]:
    """The `count` periods of a type that end just before the one containing the day, oldest first."""
    current = _this(ptype, today)
    return [current.shift(-n) for n in range(count, 0, -1)]


def _within(ptype: PeriodType, year_back: int, today: date) -> list[Period]:
    """The months or quarters of the calendar year `year_back` years before the day's."""
    year = Period(PeriodType.YEAR, today.year - year_back, 0)
    return year.months() if ptype is PeriodType.MONTH else year.quarters()


# DHIS2 2.41's relative periods (RelativePeriodEnum) that the service's period types can express;
# the financial year is July–June (DHIS2's analytics financial year start FINANCIAL_YEAR_JULY).
# Like DHIS2, "last N" periods end with the period before the one containing the reference day.
RELATIVE_PERIODS = {
    "THIS_MONTH": lambda d: [_this(PeriodType.MONTH, d)],
    "LAST_MONTH": lambda d: _rolling(PeriodType.MONTH, 1, d),
    "LAST_3_MONTHS": lambda d: _rolling(PeriodType.MONTH, 3, d),
    "LAST_6_MONTHS": lambda d: _rolling(PeriodType.MONTH, 6, d),
    "LAST_12_MONTHS": lambda d: _rolling(PeriodType.MONTH, 12, d),
    "MONTHS_THIS_YEAR": lambda d: _within(PeriodType.MONTH, 0, d),
    "MONTHS_LAST_YEAR": lambda d: _within(PeriodType.MONTH, 1, d),
    "THIS_QUARTER": lambda d: [_this(PeriodType.QUARTER, d)],
    "LAST_QUARTER": lambda d: _rolling(PeriodType.QUARTER, 1, d),
    "LAST_4_QUARTERS": lambda d: _rolling(PeriodType.QUARTER, 4, d),
    "QUARTERS_THIS_YEAR": lambda d: _within(PeriodType.QUARTER, 0, d),
    "QUARTERS_LAST_YEAR": lambda d: _within(PeriodType.QUARTER, 1, d),
    "THIS_YEAR": lambda d: [_this(PeriodType.YEAR, d)],
    "LAST_YEAR": lambda d: _rolling(PeriodType.YEAR, 1, d),
    "LAST_5_YEARS": lambda d: _rolling(PeriodType.YEAR, 5, d),
    "LAST_10_YEARS": lambda d: _rolling(PeriodType.YEAR, 10, d),
    "THIS_FINANCIAL_YEAR": lambda d: [_this(PeriodType.FINANCIAL_YEAR, d)],
    "LAST_FINANCIAL_YEAR": lambda d: _rolling(PeriodType.FINANCIAL_YEAR, 1, d),
    "LAST_5_FINANCIAL_YEARS": lambda d: _rolling(PeriodType.FINANCIAL_YEAR, 5, d),
    "LAST_10_FINANCIAL_YEARS": lambda d: _rolling(PeriodType.FINANCIAL_YEAR, 10, d),
}


def is_relative_period(value: object) -> bool:
    """Whether a value is one of the supported DHIS2 relative period keywords (exact spelling)."""
    return isinstance(value, str) and value in RELATIVE_PERIODS


def relative_periods(keyword: str, today: date) -> list[Period]:
    """The periods a DHIS2 relative period keyword stands for on a reference day, oldest first."""
    expand = RELATIVE_PERIODS.get(keyword) if isinstance(keyword, str) else None
    if expand is None:
        raise PeriodError(message(N_("%(keyword)s is not a supported relative period: use one of %(keywords)s."),
                                  keyword=repr(keyword), keywords=", ".join(RELATIVE_PERIODS)))
    try:
        return expand(today)
    except PeriodError:
        raise PeriodError(message(N_("%(keyword)s on %(day)s falls outside the years %(first)s–%(last)s."),
                                  keyword=keyword, day=today.isoformat(), first=MIN_YEAR, last=MAX_YEAR)) from None


def relative_period_name(keyword: str) -> str:
    """The name DHIS2 shows for a relative period keyword: LAST_4_QUARTERS is "Last 4 quarters"."""
    return keyword.replace("_", " ").capitalize()
