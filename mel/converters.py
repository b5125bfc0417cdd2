"""Identifiers at the edges: URL converters, and the bounded integer of API schemas and query strings.

A route writes `<quarter:period>`, `<return_period:period>` (a quarter or a month), `<fy:fiscal_year>` or
`<int:run_id>` and its view receives
the canonical value (`2025Q3`, `2025July`, a key the database can hold); a malformed one is
answered before the view runs: 422 naming the value for a period, 404 for an id out of range.
Ids and version numbers in a body or a query string use `Key` (schemas) or `key_arg` (`type=` of
`request.args.get`), so no integer a key column cannot hold ever reaches the database.
Programme and org-unit codes need the catalogue and are resolved by the views' one resolver
(`mel.returns.operations.find_return`).
"""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from mel import periods
from mel.errors import ValidationFailed


def is_digits(text: str) -> bool:
    """Whether `text` is a plain number as people type it: ASCII digits only. `str.isdigit` also says yes
    to "²" and "٤", which `int()` refuses or reads as another number: never a code, an id or a version."""
    return text.isascii() and text.isdigit()

MAX_ID = 2**31 - 1  # the largest key an INTEGER column holds on PostgreSQL

# What the API document states a period parameter looks like (the years mel.periods accepts).
_YEAR = r"(190[1-9]|19[1-9][0-9]|2[0-8][0-9]{2}|29[0-8][0-9]|299[0-8])"  # mel.periods: 1901–2998
_QUARTER = rf"{_YEAR}Q[1-4]"
_FY = rf"{_YEAR}July"
PATTERNS = {
    "quarter": rf"^{_QUARTER}$",
    "financial_year": rf"^{_FY}$",
    "quarter_or_financial_year": rf"^({_QUARTER}|{_FY})$",
    "return_period": rf"^{_YEAR}(Q[1-4]|0[1-9]|1[0-2])$",
    "any": rf"^({_YEAR}(Q[1-4]|0[1-9]|1[0-2])?|{_FY})$",
}
_EXAMPLES = {"quarter": "2025Q3", "return_period": "2025Q3 or 202509", "financial_year": "2025July", "quarter_or_financial_year": "2025Q3 or 2025July",
             "any": "2025Q3, 2025July, 202509 or 2025"}


class _PeriodCheck(ma.validate.Regexp):
    """A period of a kind: parsed for a clear message (`'2025-Q3' … did you mean '2025Q3'`), and a
    Regexp so that the OpenAPI document states the pattern."""

    def __init__(self, kind: str) -> None:
        super().__init__(PATTERNS[kind], error=f"Expected a period of the form {_EXAMPLES[kind]}.")
        self.kind = kind

    def __call__(self, value: str) -> str:
        try:
            parsed = {"quarter": periods.quarter, "financial_year": periods.financial_year}.get(
                self.kind, periods.period)(value)
        except ValidationFailed as exc:
            raise ma.ValidationError(exc.message) from None
        if self.kind == "quarter_or_financial_year" and parsed.type.value not in ("quarter", "financial_year"):
            raise ma.ValidationError(f"{value!r} is neither a quarter (2025Q3) nor a financial year (2025July).")
        return super().__call__(value)


class PeriodField(ma.fields.String):
    """A period in a query string or body: `kind` is quarter, financial_year,
    quarter_or_financial_year or any; a located 422 otherwise, and its pattern in the document."""

    def __init__(self, kind: str = "quarter", **kwargs) -> None:
        kwargs.setdefault("validate", _PeriodCheck(kind))
        super().__init__(**kwargs)


class BadIdentifier(UnprocessableEntity):
    """A malformed identifier met while matching a URL. Routing only carries HTTP errors, so this one
    carries the ValidationFailed it stands for; mel.errors_views answers it like any other."""

    def __init__(self, error: ValidationFailed) -> None:
        super().__init__(error.message)
        self.error = error


class QuarterConverter(BaseConverter):
    """A calendar quarter: `2025Q3`."""

    parse = staticmethod(periods.quarter)

    def to_python(self, value: str) -> str:
        try:
            return self.parse(value).id
        except ValidationFailed as exc:
            raise BadIdentifier(exc) from None

    def to_url(self, value) -> str:
        return str(getattr(value, "id", value))


class ReturnPeriodConverter(QuarterConverter):
    """A return's period: a quarter (`2025Q3`), or a month (`202509`) for a monthly form; which of the two
    a programme's form asks is checked with the return's address (mel.returns.operations.find_return)."""

    parse = staticmethod(periods.quarter_or_month)


class FinancialYearConverter(QuarterConverter):
    """A July–June financial year: `2025July`."""

    parse = staticmethod(periods.financial_year)


class IdConverter(IntegerConverter):
    """A database key: 1 up to what a key column holds; zero, negative or larger ids are simply not found.

    Signed, so that `-1` is read (and refused) as an id rather than matching another route.
    """

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = True) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Key(ma.fields.Integer):
    """An id or version number from a request: 0 up to what an INTEGER column holds, else a located 422."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("validate", ma.validate.Range(min=0, max=MAX_ID))
        super().__init__(**kwargs)


def key_arg(value: str) -> int:
    """`type=` for `request.args.get`: an id or version number; anything else is ignored (ValueError)."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError(f"{value!r} is not an id or version number")
    return number


def document(api) -> None:
    """State the converters' patterns in the OpenAPI document (flask-smorest)."""
    api.register_converter(QuarterConverter, lambda converter: {"type": "string", "pattern": PATTERNS["quarter"]})
    api.register_converter(ReturnPeriodConverter, lambda converter: {"type": "string", "pattern": PATTERNS["return_period"]})
    api.register_converter(FinancialYearConverter,
                           lambda converter: {"type": "string", "pattern": PATTERNS["financial_year"]})


def init_app(app: Flask) -> None:
    """Register the converters; call before any blueprint adds its rules."""
    app.url_map.converters["quarter"] = QuarterConverter
    app.url_map.converters["return_period"] = ReturnPeriodConverter
    app.url_map.converters["fy"] = FinancialYearConverter
    app.url_map.converters["id"] = IdConverter
    # Every integer in this service's URLs is a database key.
    app.url_map.converters["int"] = IdConverter
