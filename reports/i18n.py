"""Reports in English and Kiswahili, without Flask: the language a report is written in.

The service names the language and the folder of its compiled gettext catalogues (mel/i18n.py
builds them from mel/translations/); everything that writes words while a report is built or laid
out (reports/model.py, story.py, words.py, the charts and the report templates) takes them from
here, inside `speaking(language, folder)`:

    with speaking("sw", folder):
        report = build(snapshot)          # summary, key messages, labels in Kiswahili
        pdf = render_pdf(report)          # the templates' words too (render_pdf re-enters it)

Messages are the English text, marked for extraction with `_`, `ngettext` or `N_` (pybabel reads
reports/**.py and templates/reports/ through mel/babel.cfg). Outside `speaking`, or in English,
every message is its own English text, so English reports are unchanged. Numbers take the
locale's decimal and group symbols from Babel's CLDR data; period identifiers stay as they are
and the words around them are translated (`period_label`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from gettext import NullTranslations
from pathlib import Path

DEFAULT = "en"
_state: ContextVar[tuple[str, str, NullTranslations]] = ContextVar(
    "report_language", default=(DEFAULT, "", NullTranslations()))
_loaded: dict[tuple[str, str], NullTranslations] = {}


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks an English message where it is defined; it is translated where it is printed (`_(name)`)."""
    return message


def catalogue(language: str, folder: str | Path | None) -> NullTranslations:
    """The compiled catalogue of `language` in `folder` (English, or none found: the messages themselves)."""
    if language == DEFAULT or not folder:
        return NullTranslations()
    key = (language, str(folder))
    if key not in _loaded:
        from babel.support import Translations

        _loaded[key] = Translations.load(str(folder), [language], domain="messages")
    return _loaded[key]


@contextmanager
def speaking(language: str | None = DEFAULT, folder: str | Path | None = None) -> Iterator[None]:
    """Build or lay out a report in `language`, with the catalogues compiled in `folder`."""
    code = language or DEFAULT
    token = _state.set((code, str(folder or ""), catalogue(code, folder)))
    try:
        yield
    finally:
        _state.reset(token)


def language() -> str:
    """The language of the report being made ("en" outside `speaking`)."""
    return _state.get()[0]


def folder() -> str:
    """The catalogues' folder of the report being made, for work handed to another process."""
    return _state.get()[1]


def _(message: str, **params) -> str:
    """`message` in the report's language, with its %(name)s placeholders filled."""
    text = _state.get()[2].gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, count: int, **params) -> str:
    """The singular or plural message for `count` in the report's language; %(num)s is the count."""
    text = _state.get()[2].ngettext(singular, plural, count)
    return text % {"num": number(count), **params}


def template_gettext(message: str) -> str:
    """For Jinja's i18n extension (newstyle: it fills the placeholders and escapes itself)."""
    return _state.get()[2].gettext(message)


def template_ngettext(singular: str, plural: str, count: int) -> str:
    return _state.get()[2].ngettext(singular, plural, count)


def _symbols() -> dict[int, str]:
    code = language()
    if code == DEFAULT:
        return {}
    from babel.numbers import get_decimal_symbol, get_group_symbol

    group, decimal = get_group_symbol(code), get_decimal_symbol(code)
    if (group, decimal) == (",", "."):
        return {}
    return {ord(","): group, ord("."): decimal}


def localised(text: str) -> str:
    """A number printed the English way ("10,204.3") with the report language's symbols (CLDR)."""
    table = _symbols()
    return text.translate(table) if table else text


def number(value: float | int, places: int = 0) -> str:
    """A number with the report language's group and decimal symbols: 12345.6 → "12,345.6" (en, sw)."""
    return localised(f"{value:,.{places}f}")


def period_label(period, short: bool = False, gettext: Callable[..., str] | None = None,
                 language_code: str | None = None) -> str:
    """A quarter's or financial year's label in a language; the identifiers' numbers stay as they are.

    English is indicators/periods.py's own label ("FY2025/26 Q1 (Jul–Sep 2025)"). Other languages
    translate the words around the numbers (the catalogue's "FY%(fy)s Q%(quarter)s …" messages) and
    take the month abbreviations from the locale's CLDR data (Babel). The web pages pass Flask-Babel's
    gettext and the page's language (mel/i18n.py); reports use the report's.
    """
    from babel.dates import get_month_names

    from indicators.periods import PeriodType, parse_period

    if isinstance(period, str):
        period = parse_period(period)
    code = language_code or language()
    if code == DEFAULT or period.type not in (PeriodType.QUARTER, PeriodType.FINANCIAL_YEAR):
        return period.short_label if short else period.label

    def words(message: str, **params) -> str:
        return gettext(message, **params) if gettext else _(message, **params)

    months = get_month_names("abbreviated", locale=code)
    start = period.financial_year().year if period.type is PeriodType.QUARTER else period.year
    years = "%d/%02d" % (start, (start + 1) % 100)  # noqa: UP031 (2025/26, as the English label)
    if short:  # table headers: "FY25/26 Q1"
        brief = "%02d/%02d" % (start % 100, (start + 1) % 100)  # noqa: UP031
        if period.type is PeriodType.QUARTER:
            return words("FY%(fy)s Q%(quarter)s", fy=brief, quarter=period.fy_quarter)
        return words("FY%(fy)s", fy=years)
    if period.type is PeriodType.QUARTER:
        return words("FY%(fy)s Q%(quarter)s (%(first)s–%(last)s %(year)s)", fy=years, quarter=period.fy_quarter,
                     first=months[3 * period.index - 2], last=months[3 * period.index], year=period.year)
    return words("FY%(fy)s (%(first)s %(year)s–%(last)s %(next)s)", fy=years, first=months[7], last=months[6],
                 year=period.year, next=period.year + 1)


def day(moment, with_time: bool = False) -> str:
    """A date (and time) in the report's language: "5 August 2025", "5 Agosti 2025, 14:30"."""
    from babel.dates import format_date

    text = format_date(moment, "d MMMM y", locale=language())
    return f"{text}, {moment:%H:%M}" if with_time else text
