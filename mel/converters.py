"""Identifiers at the edges: URL converters, and the bounded integer of API schemas and query strings.

A route writes `<quarter:period>`, `<fy:fiscal_year>` or `<int:run_id>` and its view receives
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

MAX_ID = 2**31 - 1  # the largest key an INTEGER column holds on PostgreSQL


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


def init_app(app: Flask) -> None:
    """Register the converters; call before any blueprint adds its rules."""
    app.url_map.converters["quarter"] = QuarterConverter
    app.url_map.converters["fy"] = FinancialYearConverter
    app.url_map.converters["id"] = IdConverter
    # Every integer in this service's URLs is a database key.
    app.url_map.converters["int"] = IdConverter
