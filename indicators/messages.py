"""Messages said in English or in the reader's language, without Flask.

A message is its English template, the catalogue's msgid with `%(name)s` placeholders, marked
with `N_` where it is written so that pybabel extracts it (mel/babel.cfg reads indicators/), and
its parameters: data that stays as it is (codes, cell references, numbers, what a person typed)
or other messages, said in the same language. `say(message, gettext)` says it with a translation
function (flask_babel's `gettext`, or a catalogue's); without one it is the English text.

What the checks return keeps its English text as a plain string (`Text`, a `str`), so everything
that stores, logs or sends it as JSON is unchanged; the text remembers its message, so the page
that shows it can say it again in the reader's language: `say(issue.message, gettext)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Gettext = Callable[[str], str]  # a msgid -> its template in the reader's language


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks an English template for extraction where it is written; it is translated where it is said."""
    return message


def english(message: str) -> str:
    return message


@dataclass(frozen=True)
class Message:
    """An English template (the msgid) and its parameters: data, or messages said in the same language."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, gettext: Gettext | None = None) -> str:
        values = {name: say(value, gettext) for name, value in self.params.items()}
        template = (gettext or english)(self.id)
        try:
            return template % values
        except (KeyError, ValueError, TypeError):  # a damaged translation: the English, never a crash
            return self.id % values

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Joined:
    """Parts said one after the other with a separator that no language changes (" — ", ": ")."""

    separator: str
    parts: tuple[Any, ...]

    def text(self, gettext: Gettext | None = None) -> str:
        return self.separator.join(say(part, gettext) for part in self.parts)

    def __str__(self) -> str:
        return self.text()


Words = Message | Joined


def message(template: str, **params: Any) -> Message:
    """`message(N_("row %(row)s"), row=7)`."""
    return Message(template, params)


class Text(str):
    """The English text of a message, which remembers the message to say it in another language."""

    source: Words

    def __new__(cls, source: Words) -> Text:
        text = super().__new__(cls, source.text())
        text.source = source
        return text

    def __reduce__(self) -> tuple[Any, ...]:  # pickled and copied from its message, not its text
        return (Text, (self.source,))


def text(words: Words) -> Text:
    """The English text of `words`, said again in another language by `say`."""
    return Text(words)


def say(value: Any, gettext: Gettext | None = None) -> str:
    """A message (or the `Text` of one) in the language of `gettext`; anything else is data, as it is."""
    if isinstance(value, Text):
        return value.source.text(gettext)
    if isinstance(value, Message | Joined):
        return value.text(gettext)
    return value if isinstance(value, str) else str(value)


MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
          N_("Oct"), N_("Nov"), N_("Dec"))


def period_label(period: Any) -> Words | str:
    """A period's label (`Period.label`, "FY2025/26 Q1 (Jul–Sep 2025)") as a message: its words and
    month names translated, its numbers as they are. Months and years stay plain English text."""
    from indicators.periods import PeriodType

    if period.type is PeriodType.QUARTER:
        start = period.financial_year().year
        return message(N_("FY%(fy)s Q%(quarter)s (%(first)s–%(last)s %(year)s)"), fy=_years(start),
                       quarter=period.fy_quarter, first=Message(MONTHS[3 * period.index - 3]),
                       last=Message(MONTHS[3 * period.index - 1]), year=period.year)
    if period.type is PeriodType.FINANCIAL_YEAR:
        return message(N_("FY%(fy)s (%(first)s %(year)s–%(last)s %(next)s)"), fy=_years(period.year),
                       first=Message(MONTHS[6]), year=period.year, last=Message(MONTHS[5]), next=period.year + 1)
    return str(period.label)


def period_name(period: Any) -> Words | str:
    """A period as sentences name it (`Period.fy_label`, "FY2025/26 Q1") as a message."""
    from indicators.periods import PeriodType

    if period.type is PeriodType.QUARTER:
        return message(N_("FY%(fy)s Q%(quarter)s"), fy=_years(period.financial_year().year),
                       quarter=period.fy_quarter)
    if period.type is PeriodType.FINANCIAL_YEAR:
        return message(N_("FY%(fy)s"), fy=_years(period.year))
    return str(period.fy_label)


def _years(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


# --------------------------------------------------------------------------- kept with what they describe

WORDS_KEY = "words"  # beside a "message" in stored JSON: the message as data, to say it again


def as_data(value: Any) -> Any:
    """A message as JSON data, stored beside its English text and said again later in any language:
    {"m": msgid, "p": {name: data}} or {"j": separator, "parts": [...]}; data stays as it is."""
    if isinstance(value, Text):
        return as_data(value.source)
    if isinstance(value, Message):
        return {"m": value.id, "p": {name: as_data(param) for name, param in value.params.items()}}
    if isinstance(value, Joined):
        return {"j": value.separator, "parts": [as_data(part) for part in value.parts]}
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def from_data(data: Any) -> Any:
    """What `as_data` stored, as messages again (plain data as it is)."""
    if isinstance(data, dict):
        if "m" in data:
            return Message(str(data["m"]), {name: from_data(param) for name, param in (data.get("p") or {}).items()})
        if "j" in data:
            return Joined(str(data["j"]), tuple(from_data(part) for part in data.get("parts") or ()))
    return data


def restored(data: Any, english: str) -> str:
    """A stored message: its `Text` (English, said again by `say`) when its words were kept and still
    give the same English; else the English as stored (kept before words were, or a changed template)."""
    if data is None:
        return english
    try:
        words = from_data(data)
        if isinstance(words, Message | Joined) and words.text() == english:
            return Text(words)
    except (KeyError, ValueError, TypeError):
        pass
    return english


def after_place(value: str) -> str:
    """A located message without its place ("Kisumu, FY2025/26 Q1 — SA01: what is wrong" → "what is
    wrong"), still said in any language when it is a `Text` placed by `Joined(": ", ...)`."""
    source = getattr(value, "source", None)
    if isinstance(source, Joined) and source.separator == ": " and len(source.parts) == 2:
        what = source.parts[1]
        return what if isinstance(what, str) else Text(what)
    return value.split(": ", 1)[-1]


def keeping_words(value: Any) -> Any:
    """JSON-ready data in which every "message" that is a `Text` has its words beside it (WORDS_KEY)."""
    if isinstance(value, dict):
        kept = {key: keeping_words(item) for key, item in value.items()}
        if isinstance(value.get("message"), Text):
            kept[WORDS_KEY] = as_data(value["message"])
        return kept
    if isinstance(value, list | tuple):
        return [keeping_words(item) for item in value]
    return value


def with_words(value: Any) -> Any:
    """`keeping_words` undone: each "message" a `Text` again (English, said in any language), the
    words taken away, so the data reads exactly as before it was kept."""
    if isinstance(value, dict):
        words = value.get(WORDS_KEY)
        back = {key: with_words(item) for key, item in value.items() if key != WORDS_KEY}
        if words is not None and isinstance(value.get("message"), str):
            back["message"] = restored(words, value["message"])
        return back
    if isinstance(value, list):
        return [with_words(item) for item in value]
    return value
