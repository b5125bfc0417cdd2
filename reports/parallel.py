"""Lay out the county annex of the sector report in worker processes, then join the pages.

WeasyPrint lays out one document on one core and keeps the whole document in memory. The
main document is laid out with a "slot" page for each county: the county's running head, page
number and draft mark, and a hidden heading, so the contents, the bookmarks, the links and
"of Y" count it. The county pages themselves (no running head, no page number: they need no
number, so they start at once) are laid out in spawned worker processes while the main document
is laid out and written. Each county page is then drawn onto its slot with pikepdf (qpdf) as an
overlay: a form XObject with its own resources, after the slot's own drawing. If anything does not line up (a county needing two pages),
None is returned and the caller renders the report as one document.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reports.allocation import collecting_less
from reports.model import Report
from reports.render import TEMPLATES, Rendered, local_only_fetcher, render_html, weasyprint_html

log = logging.getLogger(__name__)


class _Worker:
    """A `python -m reports.parallel` process given one HTML document in a file: it lays it out, writes
    the PDF to a file and its account to stdout. A separate interpreter owns nothing of the caller
    (no fork of a large process, no __main__ rules); the caller goes on with the main document.
    """

    def __init__(self, folder: Path, number: int, html: str):
        source, self.target = folder / f"part-{number}.html", folder / f"part-{number}.pdf"
        source.write_text(html, encoding="utf-8")
        self.process = subprocess.Popen([sys.executable, "-m", "reports.parallel", str(source), str(self.target)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def result(self) -> tuple[bytes, int, list[str], float]:
        assert self.process.stdout is not None and self.process.stderr is not None  # opened with PIPE
        out, err = self.process.stdout.read(), self.process.stderr.read()
        if self.process.wait() != 0:
            raise RuntimeError(f"a report worker failed: {err.decode(errors='replace')[-2000:]}")
        account = json.loads(out.decode().strip().splitlines()[-1])
        return self.target.read_bytes(), account["pages"], account["refused"], account["seconds"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _lay_out(html: str) -> tuple[bytes, int, list[str], float]:
    """County pages: (PDF, pages, refused URLs, seconds), in a worker or in this process."""
    HTML = weasyprint_html()  # noqa: N806  (WeasyPrint's class)
    started = time.perf_counter()
    fetcher = local_only_fetcher()
    with collecting_less():
        document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher).render()
        pdf = document.write_pdf()
    return pdf, len(document.pages), fetcher.refused, time.perf_counter() - started


def _work(source: str, target: str) -> None:
    """Worker side: lay out the HTML of `source`, write the PDF to `target` (run as a module)."""
    pdf, pages, refused, seconds = _lay_out(Path(source).read_text(encoding="utf-8"))
    Path(target).write_bytes(pdf)
    print(json.dumps({"pages": pages, "refused": refused, "seconds": seconds}))


def _groups(items: list, count: int) -> list[list]:
    size = -(-len(items) // count)
    return [items[n:n + size] for n in range(0, len(items), size)]


PART_COUNTIES = 16  # with one worker: county pages laid out at a time, after the main document


def render_split(report: Report, workers: int) -> Rendered | None:
    """The sector report from a main document with slot pages and the county pages laid out apart: in
    `workers` processes beside the main document, or (one worker) in this process after it, a few
    counties at a time, so that no two large layouts are held in memory at once."""
    import pikepdf

    HTML = weasyprint_html()  # noqa: N806  (WeasyPrint's class)

    started = time.perf_counter()
    here = workers <= 1
    groups = _groups(report.counties, -(-len(report.counties) // PART_COUNTIES) if here else workers)
    fetcher = local_only_fetcher()
    with tempfile.TemporaryDirectory(prefix="mel-report-") as folder:
        pool: list[_Worker] = []
        try:
            part_html = [render_html(report, template="county_part.html", counties=group) for group in groups]
            if not here:  # the county pages start first
                pool = [_Worker(Path(folder), number, html) for number, html in enumerate(part_html)]
                part_html = []
            main_html = render_html(report, county_slots=True)
            templated = time.perf_counter()
            document = HTML(string=main_html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher).render()
            laid_out = time.perf_counter()
            where = {anchor: n for n, page in enumerate(document.pages) for anchor in page.anchors}
            found = [where.get(f"county-{c.code}") for c in report.counties]
            slots = [n for n in found if n is not None]
            if len(slots) < len(found) or slots != list(range(slots[0], slots[0] + len(slots))):
                log.warning("county slots are not consecutive pages; rendering the report as one document")
                return None
            total, first = len(document.pages), slots[0]
            main_pdf = document.write_pdf()
            del document, main_html  # before the county pages are laid out here
            written = time.perf_counter()
            parts = [worker.result() for worker in pool] if pool else []
            while part_html:
                parts.append(_lay_out(part_html.pop(0)))
        finally:
            for worker in pool:
                worker.stop()
    waited = time.perf_counter()
    if any(pages != len(group) for (_, pages, _, _), group in zip(parts, groups, strict=True)):
        log.warning("a county page overflowed its slot; rendering the report as one document")
        return None
    # Each worker page becomes a form XObject (its content with its own resources, so no name is shared
    # with the slot's) drawn after the slot's own drawing (running head, page number, draft mark), which
    # pikepdf wraps in q/Q. The slot page object, and what points at it (contents, links), stays.
    with pikepdf.open(io.BytesIO(main_pdf)) as joined_pdf:
        index = first
        for pdf, _, _, _ in parts:
            with pikepdf.open(io.BytesIO(pdf)) as part:
                for page in part.pages:
                    slot = joined_pdf.pages[index]
                    slot.add_overlay(page, pikepdf.Rectangle(slot.mediabox))
                    index += 1
        out = io.BytesIO()
        joined_pdf.save(out)
    joined = time.perf_counter()
    refused = fetcher.refused + [url for _, _, urls, _ in parts for url in urls]
    return Rendered(out.getvalue(), total, {
        "jinja": templated - started, "layout": laid_out - templated, "write": written - laid_out,
        "parts_wait": waited - written, "join": joined - waited,
        "parts_cpu": sum(seconds for _, _, _, seconds in parts)}, refused)


if __name__ == "__main__":
    _work(sys.argv[1], sys.argv[2])
