"""DHIS2's metadata query language over tables of dicts: `fields=`, `filter=`, `order=`, paging.

A resource is a table of plain dicts (one per object). A reference to another object is a `Ref`
(rendered `{"id": uid}`, or expanded by nested fields such as `dataSets[id,name]`); a list holds
values, refs or embedded dicts; None values are left out of answers, as DHIS2 leaves out nulls.
Malformed filters raise `QueryError`, which the views answer as DHIS2 does: 409 Conflict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

DEFAULT_PAGE_SIZE = 50
MAX_DEPTH = 10  # of nested fields: a[b[c[…]]]
PRESETS = {
    "id": ["id"], "code": ["code"], "idName": ["id", "displayName"], "all": ["*"],
    "identifiable": ["id", "name", "code", "created", "lastUpdated", "href"],
    "nameable": ["id", "name", "shortName", "description", "code", "created", "lastUpdated"],
}


class QueryError(Exception):
    """A filter, field or paging parameter DHIS2 would refuse (409 Conflict, as its QueryParserException)."""


@dataclass(frozen=True)
class Ref:
    """A reference to another object: its resource (plural, e.g. "dataSets") and uid."""

    resource: str
    uid: str


Resolver = Callable[[Ref], dict | None]  # the full dict of a referenced object


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class Fields:
    """A parsed `fields=` parameter: the properties wanted (with their nested fields) and those excluded."""

    wanted: tuple[tuple[str, Fields | None], ...]
    excluded: frozenset[str] = frozenset()


def parse_fields(text: str | Iterable[str] | None, default: str = "id,displayName") -> Fields:
    """Parse `a,b[c,d],*,:identifiable,!e` (also with parentheses); repeated parameters join."""
    if text is None or isinstance(text, str):
        joined = text if text and text.strip() else default
    else:
        parts = [t for t in text if t and t.strip()]
        joined = ",".join(parts) if parts else default
    joined = joined.replace("(", "[").replace(")", "]")
    depth = 0
    for char in joined:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth > MAX_DEPTH:
            raise QueryError(f"Invalid fields parameter: nested deeper than {MAX_DEPTH} levels.")
    fields, rest = _parse_list(joined, 0)
    if rest < len(joined) and joined[rest:].strip(" ,]"):
        raise QueryError(f"Invalid fields parameter: {joined}")
    return fields


def _parse_list(text: str, pos: int) -> tuple[Fields, int]:
    wanted: list[tuple[str, Fields | None]] = []
    excluded: set[str] = set()
    name = ""
    nested: Fields | None = None

    def close() -> None:
        nonlocal name, nested
        token = name.strip()
        if token:
            token = token.split("~")[0].split("::")[0]  # renames and transformers are not supported: ignored
            if token.startswith("!"):
                excluded.add(token[1:])
            else:
                wanted.append((token, nested))
        name, nested = "", None

    while pos < len(text):
        char = text[pos]
        if char == "[":
            nested, pos = _parse_list(text, pos + 1)
            continue
        if char == "]":
            close()
            return Fields(tuple(wanted), frozenset(excluded)), pos + 1
        if char == ",":
            close()
        else:
            name += char
        pos += 1
    close()
    return Fields(tuple(wanted), frozenset(excluded)), pos


def _expand(fields: Fields, obj: dict) -> list[tuple[str, Fields | None]]:
    """The (property, nested fields) pairs to output for one object, presets and `*` expanded."""
    out: dict[str, Fields | None] = {}
    for name, nested in fields.wanted:
        if name in ("*", ":all"):
            for key in obj:
                out.setdefault(key, None)
        elif name.startswith(":"):
            for key in PRESETS.get(name[1:], []):
                if key == "*":
                    for every in obj:
                        out.setdefault(every, None)
                else:
                    out.setdefault(key, None)
        else:
            out[name] = nested
    return [(k, v) for k, v in out.items() if k not in fields.excluded]


def select(obj: dict, fields: Fields, resolve: Resolver) -> dict:
    """The object as DHIS2 shows it with these fields (unknown properties are left out, as DHIS2 does)."""
    answer: dict = {}
    for name, nested in _expand(fields, obj):
        if name not in obj:
            continue
        value = _render(obj[name], nested, resolve)
        if value is not None:
            answer[name] = value
    return answer


def _render(value, nested: Fields | None, resolve: Resolver):
    if isinstance(value, Ref):
        if nested is None:
            return {"id": value.uid}
        target = resolve(value)
        return select(target, nested, resolve) if target is not None else {"id": value.uid}
    if isinstance(value, list | tuple):
        return [_render(item, nested, resolve) for item in value]
    if isinstance(value, dict):
        if nested is None:
            return {k: _render(v, None, resolve) for k, v in value.items() if v is not None}
        return select(value, nested, resolve)
    return value


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filter:
    path: tuple[str, ...]
    operator: str
    argument: str | None


OPERATORS = {"eq", "ieq", "!eq", "neq", "ne", "gt", "lt", "gte", "ge", "lte", "le", "like", "!like", "$like",
             "!$like", "like$", "!like$", "ilike", "!ilike", "startsWith", "$ilike", "!$ilike", "token", "!token",
             "endsWith", "ilike$", "!ilike$", "in", "!in", "null", "!null", "empty"}


def parse_filter(text: str) -> Filter:
    """`property:operator:value` (the value may contain colons); `property:null` has no value."""
    split = text.split(":")
    if len(split) < 2:
        raise QueryError(f"Invalid filter => {text}")
    prop, operator = split[0], split[1]
    argument = text[len(prop) + len(operator) + 2:] if len(split) >= 3 else None
    if operator not in OPERATORS:
        raise QueryError(f"`{operator}` is not a valid operator.")
    if operator in ("in", "!in") and not _list_argument(argument):
        raise QueryError(f"Invalid argument `{argument}` for in operator.")
    if not prop or any(not part for part in prop.split(".")):
        raise QueryError(f"Unknown path property: {prop}")
    return Filter(tuple(prop.split(".")), operator, argument)


def _list_argument(argument: str | None) -> list[str]:
    if argument is None:
        return []
    text = argument.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [item for item in text.split(",") if item != ""]


def check_path(sample: dict | None, path: tuple[str, ...], resolve_schema: Callable[[str], dict | None]) -> None:
    """Refuse a filter on a property the resource does not have (DHIS2: "Unknown path property")."""
    current = sample
    for position, name in enumerate(path):
        if current is None or name not in current:
            if name == "identifiable" and position == 0 and len(path) == 1:
                return
            raise QueryError(f"Unknown path property: {'.'.join(path)}")
        value = current[name]
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if position == len(path) - 1:
            return
        if isinstance(value, Ref):
            current = resolve_schema(value.resource)
        elif isinstance(value, dict):
            current = value
        elif value is None:
            return  # an empty collection or absent reference: nothing to check further
        else:
            raise QueryError("Simple type was found before finished parsing path expression, please check "
                             "your path string.")


def _values(obj: dict, path: tuple[str, ...], resolve: Resolver) -> tuple[list, bool]:
    """The values at a path (several through collections) and whether the path crossed a collection."""
    current = [obj]
    many = False
    for name in path:
        found = []
        for item in current:
            if isinstance(item, Ref):
                item = resolve(item)
            if not isinstance(item, dict) or name not in item:
                continue
            value = item[name]
            if isinstance(value, list | tuple):
                many = True
                found.extend(value)
            else:
                found.append(value)
        current = found
    return [v.uid if isinstance(v, Ref) else v for v in current], many


def _typed(sample, argument: str):
    """The argument as the property's type (a number for numbers, a boolean for booleans)."""
    if isinstance(sample, bool):
        if argument.lower() not in ("true", "false"):
            raise QueryError(f"Unable to parse `{argument}` as `Boolean`.")
        return argument.lower() == "true"
    if isinstance(sample, int | float):
        try:
            number = float(argument)
        except ValueError:
            raise QueryError(f"Unable to parse `{argument}` as `{type(sample).__name__.capitalize()}`.") from None
        if not math.isfinite(number):
            raise QueryError(f"Unable to parse `{argument}` as `Number`.")
        return number
    return argument


def _compare(value, operator: str, argument: str | None) -> bool:
    if value is None or isinstance(value, dict):
        return False
    if operator in ("in", "!in"):
        found = any(value == _typed(value, item) for item in _list_argument(argument))
        return found if operator == "in" else not found
    arg = _typed(value, argument or "")
    if operator in ("eq",):
        return value == arg
    if operator in ("!eq", "neq", "ne"):
        return value != arg
    if operator == "ieq":
        return str(value).casefold() == str(arg).casefold()
    if operator in ("gt", "lt", "gte", "ge", "lte", "le"):
        if isinstance(value, bool) or type(value) is not type(arg) and not (
                isinstance(value, int | float) and isinstance(arg, int | float)):
            value, arg = str(value), str(arg)
        return {"gt": value > arg, "lt": value < arg, "gte": value >= arg, "ge": value >= arg,
                "lte": value <= arg, "le": value <= arg}[operator]
    text, needle = str(value), str(argument or "")
    negated = operator.startswith("!")
    op = operator.lstrip("!")
    if op in ("ilike", "$ilike", "ilike$", "startsWith", "endsWith", "token"):
        text, needle = text.casefold(), needle.casefold()
    if op in ("like", "ilike"):
        found = needle in text
    elif op in ("$like", "$ilike", "startsWith"):
        found = text.startswith(needle)
    elif op in ("like$", "ilike$", "endsWith"):
        found = text.endswith(needle)
    else:  # token: every word of the argument starts a word of the value
        words = re.split(r"\W+", text)
        found = all(any(w.startswith(t) for w in words) for t in re.split(r"\W+", needle) if t)
    return found != negated


def matches(obj: dict, condition: Filter, resolve: Resolver) -> bool:
    """Whether an object passes one filter (through a collection: whether any item does)."""
    if condition.path == ("identifiable",):
        return any(matches(obj, Filter((name,), condition.operator, condition.argument), resolve)
                   for name in ("id", "code", "name", "shortName") if name in obj)
    values, many = _values(obj, condition.path, resolve)
    operator = condition.operator
    if operator == "null":
        return not values or all(v is None for v in values)
    if operator == "!null":
        return any(v is not None for v in values)
    if operator == "empty":
        return not values
    negative = operator in ("!eq", "neq", "ne", "!in", "!like", "!$like", "!like$", "!ilike", "!$ilike",
                            "!ilike$", "!token")
    if many and negative:  # "not any": no item of the collection matches the positive form
        positive = {"!eq": "eq", "neq": "eq", "ne": "eq", "!in": "in"}.get(operator, operator[1:])
        return not any(_compare(v, positive, condition.argument) for v in values)
    return any(_compare(v, operator, condition.argument) for v in values)


# --------------------------------------------------------------------------- order and paging


def parse_order(params: Iterable[str]) -> list[tuple[str, bool, bool]]:
    """[(property, descending, case-insensitive)] from `order=name:asc,level:desc` (repeatable)."""
    orders = []
    for param in params:
        for part in param.split(","):
            prop, _, direction = part.strip().partition(":")
            if not prop:
                continue
            direction = direction.strip().lower() or "asc"
            if direction not in ("asc", "desc", "iasc", "idesc"):
                direction = "asc"
            orders.append((prop.strip(), direction.endswith("desc"), direction.startswith("i")))
    return orders


def sort_rows(rows: list[dict], orders: list[tuple[str, bool, bool]]) -> list[dict]:
    """Sorted by each order in turn (unknown properties are ignored; absent values last)."""
    for prop, descending, insensitive in reversed(orders):
        if not any(prop in row for row in rows):
            continue

        def key(row, prop=prop, insensitive=insensitive):
            value = row.get(prop)
            if isinstance(value, Ref):
                value = value.uid
            if value is None or isinstance(value, list | tuple | dict):
                return (1, "")
            if isinstance(value, str):
                return (0, value.casefold() if insensitive else value)
            return (0, value)

        present = [r for r in rows if key(r)[0] == 0]
        absent = [r for r in rows if key(r)[0] == 1]
        try:
            present.sort(key=key, reverse=descending)
        except TypeError:  # mixed types: compare as text
            present.sort(key=lambda r, prop=prop: str(r.get(prop)), reverse=descending)
        rows = present + absent
    return rows


def positive_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"Value `{raw}` is not valid for parameter {name}. It should be of type Integer.") from None
    return max(value, 1)


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    pager: dict | None


def paginate(rows: list[dict], *, page: int, page_size: int, paging: bool, base_url: str,
             params: list[tuple[str, str]]) -> Page:
    """One page of rows and DHIS2's pager (page clamped to 1..pageCount; nextPage/prevPage as full URLs)."""
    if not paging:
        return Page(rows, None)
    total = len(rows)
    page_count = math.ceil(total / page_size)
    page = max(min(page, page_count), 1)
    offset = (page - 1) * page_size
    pager: dict = {"page": page, "total": total, "pageSize": page_size, "pageCount": page_count}
    others = [(k, v) for k, v in params if k not in ("page", "pageSize")]
    size = [] if page_size == DEFAULT_PAGE_SIZE else [("pageSize", str(page_size))]
    if page < page_count:
        pager["nextPage"] = base_url + "?" + urlencode([("page", str(page + 1))] + size + others)
    if page > 1:
        before = ([] if page - 1 == 1 else [("page", str(page - 1))]) + size + others
        pager["prevPage"] = base_url + ("?" + urlencode(before) if before else "")
    return Page(rows[offset:offset + page_size], pager)
