"""Render a report model to HTML (browser preview) and to PDF with WeasyPrint.

WeasyPrint gets a URL fetcher that serves only `data:` URIs and files under the report
templates and the static folder: a report never reaches the network or reads other files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, select_autoescape
from markupsafe import Markup

from indicators.workplan import ACTIVITY_STATUSES
from reports import charts, i18n, svg_text, words
from reports.allocation import collecting_less
from reports.charts import STATUS_ORDER
from reports.format import STATUS_LABELS, money_millions, percent_text
from reports.layout import kept_rows
from reports.model import Report

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates" / "reports"
STATIC = ROOT / "mel" / "static"
TEMPLATE_OF = {"sector": "sector.html", "programme": "programme.html", "county": "county.html",
               "factsheet": "factsheet.html"}
ACTIVITY_LABELS = ACTIVITY_STATUSES  # one vocabulary (indicators/workplan.py)

_environment: Environment | None = None


def environment() -> Environment:
    global _environment
    if _environment is None:
        # Compiled templates are kept between processes (Jinja's own cache, in the temporary folder,
        # checked against each template's modification time): a report worker or a `mel report`
        # command no longer spends a second compiling the same templates each time.
        env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                          trim_blocks=True, lstrip_blocks=True, bytecode_cache=FileSystemBytecodeCache(),
                          extensions=["jinja2.ext.i18n"])
        # The words of the templates in the report's language (reports/i18n.py `speaking`)
        env.install_gettext_callables(i18n.template_gettext, i18n.template_ngettext, newstyle=True)  # type: ignore[attr-defined]
        env.filters["millions"] = money_millions
        env.filters["css_string"] = css_string
        env.filters["pct"] = percent_text
        env.filters["number"] = i18n.number
        env.filters["kept_rows"] = kept_rows
        env.filters.update(words.FILTERS)  # plurals, labels, on time / late
        env.globals.update(STATUS_LABELS=STATUS_LABELS, STATUS_ORDER=STATUS_ORDER, ACTIVITY_LABELS=ACTIVITY_LABELS, icon_uri=_icon_uri)
        _environment = env
    return _environment


def css_string(text: str) -> Markup:
    """Text for a CSS string literal inside <style>: quotes, backslashes and markup escaped."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return Markup(escaped.replace("<", "\\3c ").replace(">", "\\3e "))


def _icon_uri(name: str, size: int = 34, colour: str = "#0b6e4f") -> str:
    from reports.icons import icon

    return charts.data_uri(icon(name, size=size, colour=colour))


def render_html(report: Report, *, preview: bool = False, template: str | None = None, **context) -> str:
    """The report as one HTML document; `preview` inlines the styles for a browser."""
    page = environment().get_template(template or TEMPLATE_OF[report.kind])
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8") if preview else ""
    with i18n.speaking(report.language, report.catalogues or i18n.folder()):
        return page.render(report=report, preview=preview, inline_css=css, lang=report.language,
                           draft_uri=_draft_uri(i18n._("DRAFT")), **context)


@lru_cache(maxsize=4)
def _draft_uri(word: str) -> str:
    """The DRAFT mark in the report's language, in block letters (its English when a letter has no shape)."""
    try:
        return charts.data_uri(charts.watermark(word.upper()))
    except ValueError:
        return charts.data_uri(charts.watermark("DRAFT"))


def local_only_fetcher(roots: tuple[Path, ...] = (TEMPLATES, STATIC)):
    """A WeasyPrint URL fetcher for data: URIs and files under the allowed folders only."""
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, timeout=1)
            self.roots = tuple(r.resolve() for r in roots)
            self.refused: list[str] = []

        def allows(self, url: str) -> bool:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return True
            if scheme != "file":
                return False
            path = Path(unquote(urlsplit(url).path)).resolve()
            return any(path.is_relative_to(root) for root in self.roots)

        def fetch(self, url: str, headers=None):
            if not self.allows(url):
                self.refused.append(url)
                log.warning("report rendering refused to fetch %s", url[:200])
                raise ValueError(f"reports fetch only data: URIs and files under the report templates: {url[:200]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher()


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    timings: dict[str, float] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def weasyprint_html():
    """WeasyPrint's HTML class, with chart labels shaped as whole runs (reports/svg_text.py)."""
    from weasyprint import HTML

    svg_text.install()
    return HTML


def weasy_options(report: Report) -> dict:
    return {"pdf_variant": "pdf/ua-1"} if report.accessible else {}


def render_pdf(report: Report, *, html: str | None = None, workers: int = 1, parts: bool = True) -> Rendered:
    """The report as PDF bytes, with page count and where the time went (seconds).

    A sector report's county annex is laid out apart from the main document and joined
    (reports/parallel.py): in `workers` processes beside it when `workers` > 1, else in this
    process after it, a few counties at a time (less memory at once than one document). A tagged
    (accessible) PDF is always one document, because its structure tree cannot be joined from
    parts; `parts=False` asks for one document too.
    """
    with collecting_less(), i18n.speaking(report.language, report.catalogues or i18n.folder()):
        return _render_pdf(report, html, workers, parts)


def _render_pdf(report: Report, html: str | None, workers: int, parts: bool) -> Rendered:
    HTML = weasyprint_html()  # noqa: N806  (WeasyPrint's class)

    if parts and html is None and report.kind == "sector" and not report.accessible \
            and len(report.counties) >= 2 * max(workers, 1):
        from reports.parallel import render_split

        split = render_split(report, workers)
        if split is not None:
            return split
    started = time.perf_counter()
    html = html if html is not None else render_html(report)
    templated = time.perf_counter()
    fetcher = local_only_fetcher()
    options = weasy_options(report)
    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher).render(**options)
    laid_out = time.perf_counter()
    pdf = document.write_pdf(**options)
    written = time.perf_counter()
    return Rendered(pdf, len(document.pages),
                    {"jinja": templated - started, "layout": laid_out - templated, "write": written - laid_out},
                    fetcher.refused)
