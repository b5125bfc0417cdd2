"""The catalogue in the page's language: Kiswahili text where it is written, English where it is not.

Indicators, programmes, pillars, results-framework nodes and disaggregations carry a Kiswahili
counterpart of their English text (`name` → `name_sw`, mel/catalogue/models.py). `localised` is the one
answer to "which text does this page show": on a Kiswahili page the Kiswahili text when it is written,
else the English one; `falls_back` says when that happened, so the catalogue pages flag it (never a
silent fallback). Both read plain attributes, so they work on ORM rows, on the shared rows
`load_catalogue` returns, and on any object or mapping with the same field names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from mel.i18n import language

KISWAHILI = "sw"
SUFFIX = "_sw"
# The English fields each kind of catalogue object has a Kiswahili counterpart of (by class name).
TRANSLATED: dict[str, tuple[str, ...]] = {
    "Pillar": ("name", "description"),
    "Programme": ("name", "notes"),
    "ResultsNode": ("name", "description"),
    "Indicator": ("name", "short_name", "definition"),
    "DisaggregationCategory": ("name",),
    "CategoryOption": ("name",),
    "DisaggregationSet": ("name",),
    "OptionCombo": ("name",),
}
# The generated combinations' own names (indicators/disaggregation.py TOTAL_NAME, DEFAULT_NAME).
TOTAL_NAME_SW = "Jumla"
DEFAULT_NAME_SW = "chaguo-msingi (bila mgawanyo)"
SEED_FILE = Path(__file__).resolve().parent / "seed" / "kiswahili.json"


def _value(entity, field: str) -> str:
    raw = entity.get(field) if isinstance(entity, Mapping) else getattr(entity, field, None)
    return raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))


def kiswahili_field(field: str) -> str:
    """The Kiswahili counterpart's name of an English field: name → name_sw."""
    return field + SUFFIX


def localised(entity, field: str = "name", lang: str | None = None) -> str:
    """The text of `field` a page in `lang` shows (None: the page's language, mel.i18n.language()):
    the Kiswahili text on a Kiswahili page when it is written, else the English text."""
    if (lang or language()) == KISWAHILI:
        written = _value(entity, kiswahili_field(field))
        if written:
            return written
    return _value(entity, field)


def falls_back(entity, field: str = "name", lang: str | None = None) -> bool:
    """Whether a page in `lang` (None: the page's) shows the English text of `field` for want of the
    Kiswahili one. An English page never falls back; nor does a field with no English text either."""
    if (lang or language()) != KISWAHILI:
        return False
    return not _value(entity, kiswahili_field(field)) and bool(_value(entity, field))


def fields_of(entity) -> tuple[str, ...]:
    """The English fields of a catalogue object that have a Kiswahili counterpart."""
    return TRANSLATED.get(type(entity).__name__, ("name",))


def missing(entity, fields: Iterable[str] | None = None) -> list[str]:
    """The English fields (of `fields`, default all of the object's) whose Kiswahili text is not
    written, leaving out those with no English text to translate."""
    return [f for f in (fields if fields is not None else fields_of(entity))
            if _value(entity, f) and not _value(entity, kiswahili_field(f))]


def count_missing(entities: Iterable, fields: Iterable[str] | None = None) -> int:
    """How many of these objects lack a Kiswahili text (of `fields`, default all of their own)."""
    wanted = tuple(fields) if fields is not None else None
    return sum(1 for entity in entities if missing(entity, wanted))


def checked_translation(value, field: str, limit: int, problems: list, label: str = "") -> str:
    """A Kiswahili text from a form or a payload: stripped, or a located problem (ErrorDetail) appended
    when it is not text, holds a control character or is too long. Empty is allowed: not translated."""
    from indicators.messages import N_, Joined, Message, message
    from indicators.messages import text as as_text
    from mel.errors import ErrorDetail

    name = label or field  # a label that is a message (or its Text) is said in the page's language; else as it is

    def problem(what) -> None:
        problems.append(ErrorDetail(as_text(Joined(": ", (name, what))), {"field": field}))

    if value is None:
        return ""
    if not isinstance(value, str):
        problem(Message(N_("text, or nothing while it is not translated.")))
        return ""
    text = value.strip()
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        problem(Message(N_("contains a control character; type or paste the text again.")))
    elif len(text) > limit:
        problem(message(N_("at most %(limit)s characters (%(given)s given)."), limit=limit, given=len(text)))
    return text


def combo_name_sw(option_names_sw: Iterable[str], *, is_total: bool = False, is_default: bool = False) -> str:
    """A combination's Kiswahili name from its options' ("Mwanamke, Miaka 70 na zaidi"), as its English
    name is made from theirs; empty while one of them has no Kiswahili name."""
    if is_total:
        return TOTAL_NAME_SW
    if is_default:
        return DEFAULT_NAME_SW
    names = [str(n or "").strip() for n in option_names_sw]
    return ", ".join(names) if names and all(names) else ""


@lru_cache(maxsize=1)
def seed_texts() -> dict:
    """The seeded Kiswahili texts (seed/kiswahili.json), by kind and code."""
    with SEED_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def template_helpers() -> dict:
    """What the templates call: localised(...), falls_back(...), missing_kiswahili(...), count_missing(...)."""
    return {"localised": localised, "falls_back": falls_back, "missing_kiswahili": missing,
            "count_missing_kiswahili": count_missing}
