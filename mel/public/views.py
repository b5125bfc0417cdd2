"""/public: the published results for anyone, no sign-in; and the published reports' PDFs.

The page is made from published report runs only (mel/public/queries.py). It is the same for every
visitor in a language, so shared caches may keep it: an ETag of the published runs and the language,
304 when it still holds. Its language is `?lang=` (the page's own links), else the visitor's choice
or the browser's (mel/i18n.py); the header's language form is not used here because its CSRF token
would give every visitor a session cookie and make the page uncacheable.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import force_locale, format_decimal, gettext
from sqlalchemy import select

from mel import __version__, clock
from mel.catalogue.models import OrgUnit, Programme
from mel.db import db
from mel.i18n import N_, day, known, period_words, select_locale
from mel.public import queries
from mel.public.figures import key_figures
from mel.reporting.models import ReportRun
from mel.reporting.queries import pdf_bytes

bp = Blueprint("public", __name__)
MAX_AGE = 300  # seconds a cache may serve the page without asking again (a newly published report waits)
PDF_MAX_AGE = 86400  # a published PDF never changes; a day, so a withdrawn one does not linger for long
KIND_LABELS = {"factsheet": N_("Fact sheet"), "sector": N_("Sector quarterly progress report"),
               "programme": N_("Programme report"), "county": N_("County profile")}
LANGUAGE_NAMES = {"en": N_("English"), "sw": N_("Kiswahili")}  # in the page's language
STATUS_WORDS = {"on_track": N_("On track"), "needs_attention": N_("Needs attention"), "off_track": N_("Off track"),
                "no_target": N_("No target"), "not_added": N_("Not added"), "not_reported": N_("Not reported")}
SOURCE_WORDS = {"factsheet": N_("Approved figures, as published in the quarter’s fact sheet on %(date)s."),
                "sector": N_("Approved figures, as published in the quarter’s sector progress report on %(date)s.")}
UNIT_WORDS = {"%": N_("Per cent (%)"), "KES m": N_("Millions of Kenya shillings (KES m)"),
              "KES": N_("Kenya shillings (KES)"), "number": N_("Number"), "days": N_("Days")}


def _language() -> str:
    return known(request.args.get("lang")) or select_locale()


def _release(language: str) -> str:
    """What else the page is made of: the release, its template and the language's compiled catalogue
    (a translation fixed without a new release still changes the ETag)."""
    folder = Path(current_app.config.get("BABEL_TRANSLATION_DIRECTORIES") or ".")
    sources = [Path(current_app.root_path, current_app.template_folder or "templates", "public", "index.html"),
               folder / language / "LC_MESSAGES" / "messages.mo"]
    return ":".join([__version__] + [str(p.stat().st_mtime_ns) if p.exists() else "-" for p in sources])


def _cached(response: Response, tag: str, max_age: int) -> Response:
    response.set_etag(tag)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.route("/public")
def index():
    session = db.session
    language = _language()
    runs = queries.published_runs(session)
    tag = queries.etag(runs, language, _release(language))
    if request.if_none_match.contains(tag):
        return _cached(Response(status=304), tag, MAX_AGE)
    featured = queries.featured_run(runs, language)
    with force_locale(language):
        html = render_template("public/index.html", lang=language, featured=_featured(featured, language),
                               groups=_groups(session, runs), status_words=_words(STATUS_WORDS),
                               unit_words=_words(UNIT_WORDS))
    response = Response(html, mimetype="text/html")
    response.content_language = [language]
    return _cached(response, tag, MAX_AGE)


@bp.route("/public/reports/<int:run_id>.pdf")
def report_pdf(run_id: int):
    """A published report's final PDF (404 for anything not published)."""
    run = queries.published_run(db.session, run_id)
    data = pdf_bytes(run)
    scope = ("" if run.programme == "ALL" else "-" + run.programme) + ("" if run.org_unit == "KE" else "-" + run.org_unit)
    response = Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{run.kind}-{run.period}{scope}-{run.language}.pdf"',
        "X-Content-SHA256": run.sha256})
    return _cached(response, run.sha256, PDF_MAX_AGE).make_conditional(request)


def _words(words: dict[str, str]) -> dict[str, str]:
    """Labels in the page's language (gettext here: a template's `_` would read "%" as a placeholder)."""
    return {key: gettext(text) for key, text in words.items()}


def _when(moment: datetime | None) -> str:
    return day(clock.local(moment)) if moment else "–"


def _quarter(period: str) -> str:
    from indicators.periods import parse_period

    return period_words(parse_period(period))


def _featured(run: ReportRun | None, language: str) -> dict | None:
    if run is None:
        return None
    return {"run": run, "published": key_figures(run, language), "quarter": _quarter(run.period),
            "source": gettext(SOURCE_WORDS[run.kind], date=_when(run.published_at)),
            "data_as_of": _when(run.data_as_of),
            "other_language": gettext(LANGUAGE_NAMES[run.language]) if run.language != language else ""}


def _size(size: int) -> str:
    if size >= 1_000_000:
        return gettext("%(size)s MB", size=format_decimal(size / 1_000_000, "#,##0.0"))
    return gettext("%(size)s KB", size=format_decimal(max(1, round(size / 1000)), "#,##0"))


def _groups(session, runs: list[ReportRun]) -> list[tuple[str, list[dict]]]:
    """The published reports by quarter, latest first, each with its words in the page's language."""
    programmes = dict(session.execute(select(Programme.code, Programme.name).where(
        Programme.code.in_({r.programme for r in runs if r.kind == "programme"}))).all())
    counties = dict(session.execute(select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.code.in_({r.org_unit for r in runs if r.kind == "county"}))).all())
    groups: dict[str, list[dict]] = {}
    for run in runs:
        title = gettext(KIND_LABELS[run.kind])
        if run.kind == "programme":
            title += f": {programmes.get(run.programme, run.programme)} ({run.programme})"
        elif run.kind == "county":
            title += ": " + gettext("%(county)s County", county=counties.get(run.org_unit, run.org_unit))
        groups.setdefault(run.period, []).append({
            "id": run.id, "title": title, "language": run.language,
            "language_name": gettext(LANGUAGE_NAMES.get(run.language, run.language)),
            "published_on": _when(run.published_at), "size": _size(run.file_size), "pages": run.page_count})
    return [(_quarter(period), items) for period, items in groups.items()]
