"""Kiswahili and English (Flask-Babel): which language a page is in, the catalogues, the switch.

The language of a page: the signed-in person's choice (kept on the account), else the visitor's
choice (kept in the session), else the browser's Accept-Language, else English. Messages are
gettext catalogues in mel/translations/<lang>/LC_MESSAGES/messages.po, extracted from the Python
code and the templates with `mel i18n extract` (pybabel, configured by mel/babel.cfg). The
compiled .mo files are built from the .po files, never committed: when the application starts it
compiles any catalogue whose .mo is missing or older than its .po into the instance folder
(`mel i18n compile` does the same ahead of time, for a read-only install).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel

LANGUAGES: dict[str, str] = {"en": "English", "sw": "Kiswahili"}  # code -> the language's own name
DEFAULT_LANGUAGE = "en"
ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).parent / "translations"  # the .po files (and the glossary of terms)
CONFIG = Path(__file__).parent / "babel.cfg"
SESSION_KEY = "lang"


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks an English message for extraction where it is defined; it is translated where it is shown."""
    return message


def known(code: str | None) -> str | None:
    """A supported language code from what a person or a client sent ("sw", "SW", "sw-KE"), or None."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def select_locale() -> str:
    from flask import has_request_context
    from flask_login import current_user

    if not has_request_context():  # the command line, the scheduler, a worker: English
        return DEFAULT_LANGUAGE
    if current_user and current_user.is_authenticated:
        chosen = known(getattr(current_user, "locale", ""))
        if chosen:
            return chosen
    chosen = known(session.get(SESSION_KEY))
    if chosen:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE)


def compile_catalogues(target: Path, sources: Path = SOURCES) -> list[Path]:
    """Compile each <lang>/LC_MESSAGES/messages.po under `sources` into `target` when its .mo there is
    missing or older; each file is written beside and renamed into place (processes may race)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(sources.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(sources).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=po.parts[-3])
        fd, temporary = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=False)
        os.replace(temporary, mo)
        written.append(mo)
    return written


def compiled_folder(app: Flask) -> Path:
    return Path(app.instance_path) / "translations"


def init_app(app: Flask) -> None:
    folder = compiled_folder(app)
    try:
        compile_catalogues(folder)
    except OSError as exc:  # a read-only instance folder: compile where the process may write
        fallback = Path(tempfile.gettempdir()) / f"mel-translations-{os.getuid() if hasattr(os, 'getuid') else 0}"
        app.logger.warning("translations could not be compiled into %s (%s); using %s", folder, exc, fallback)
        compile_catalogues(fallback)
        folder = fallback
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(folder)
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _languages():
        from flask_babel import get_locale

        from mel.catalogue.language import template_helpers

        return {"LANGUAGES": LANGUAGES, "current_language": str(get_locale() or DEFAULT_LANGUAGE),
                **template_helpers()}  # `localised(entity)`: the catalogue's names in the page's language


def language() -> str:
    """The language of the page or e-mail being made: the request's, or the one forced for an e-mail
    (flask_babel.force_locale, also in the scheduler and the command line); "en" with no application."""
    from flask import has_app_context
    from flask_babel import get_locale

    if not has_app_context():
        return DEFAULT_LANGUAGE
    return str(get_locale() or DEFAULT_LANGUAGE)


def said(value):
    """A message (indicators/messages.py: a `Text`, `Message` or `Joined`: an error's message, a
    target's source) in the page's language, the one rule for pages, flash messages and filters;
    other values as they are. Service errors keep English text (the API's), and the page says them
    again here: `flash(said(exc.message), "error")`, `{{ error.message|said }}`."""
    from flask_babel import gettext

    from indicators.compile import NOT_ADDED_NOTE
    from indicators.messages import say

    if not value:
        return value
    return gettext(value) if value == NOT_ADDED_NOTE else say(value, gettext)


def day(value) -> str:
    """A date as people write it in the page's language: "05 August 2025", "05 Agosti 2025"."""
    from babel.dates import format_date

    return format_date(value, "dd MMMM y", locale=language())


def localised_months(fmt: str, value) -> str:
    """A strftime format with the month names (%b, %B) of `value` already in the page's language
    (strftime itself only knows the C locale's English)."""
    code = language()
    if code == DEFAULT_LANGUAGE or ("%b" not in fmt and "%B" not in fmt):
        return fmt
    from babel.dates import get_month_names

    short = get_month_names("abbreviated", locale=code)[value.month]
    return fmt.replace("%b", short).replace("%B", get_month_names("wide", locale=code)[value.month])


def period_words(period, short: bool = False) -> str:
    """A period's label in the page's language ("FY2025/26 Q1 (Jul–Sep 2025)", "Mwaka wa Fedha …");
    one rule for pages and reports: reports/i18n.py `period_label`, with Flask-Babel's gettext."""
    from flask_babel import gettext

    from reports.i18n import period_label

    return period_label(period, short, gettext=gettext, language_code=language())


def report_catalogues() -> Path:
    """The folder of compiled catalogues for reports (reports/i18n.py `speaking`): the application's
    when there is one, else compiled into the temporary folder (a bare worker or script)."""
    from flask import current_app, has_app_context

    if has_app_context():
        folder = Path(current_app.config.get("BABEL_TRANSLATION_DIRECTORIES") or compiled_folder(current_app))
        if folder.is_dir():
            return folder
    folder = Path(tempfile.gettempdir()) / f"mel-translations-{os.getuid() if hasattr(os, 'getuid') else 0}"
    compile_catalogues(folder)
    return folder


def untranslated(sources: Path = SOURCES) -> dict[str, list[str]]:
    """Each language's messages with no translation (or a fuzzy one), from its .po file."""
    from babel.messages.pofile import read_po

    found = {}
    for po in sorted(sources.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            catalogue = read_po(handle)
        found[po.parts[-3]] = [str(m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue
                               if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string))
                                            or m.fuzzy)]
    return found


def recipient_language(user) -> str:
    """The language of an e-mail to `user`: theirs when they chose one, else the page's that sent it."""
    return known(getattr(user, "locale", "")) or language()
