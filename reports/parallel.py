"""Lay out the county annex of the sector report in worker processes, then join the pages.

WeasyPrint lays out one document on one core and keeps the whole document in memory. The
main document is laid out with a blank "slot" page for each county (so the contents, the
bookmarks, the links and "of Y" count them); once its page count is known, groups of county
pages are laid out in spawned worker processes, numbered to continue it, while the main
document is written. Each county page is then drawn onto its slot with pypdf. If anything
does not line up (a county needing two pages), None is returned and the caller renders the
report as one document.
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

from reports.model import Report
from reports.render import TEMPLATES, Rendered, local_only_fetcher, render_html, weasyprint_html

log = logging.getLogger(__name__)


class _Worker:
    """A `python -m reports.parallel` process: started early (it imports WeasyPrint meanwhile),
    then given one HTML document on stdin; it writes the PDF to a file and its account to stdout.
    A separate interpreter owns nothing of the caller (no fork of a large process, no __main__ rules).
    """

    def __init__(self, folder: Path, number: int):
        self.target = folder / f"part-{number}.pdf"
        self.process = subprocess.Popen([sys.executable, "-m", "reports.parallel", str(self.target)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, html: str) -> None:
        assert self.process.stdin is not None  # opened with PIPE
        self.process.stdin.write(html.encode("utf-8"))
        self.process.stdin.close()

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


def _work(target: str) -> None:
    """Worker side: read HTML from stdin, lay it out, write the PDF (run as a module)."""
    HTML = weasyprint_html()  # noqa: N806  (WeasyPrint's class)

    html = sys.stdin.buffer.read().decode("utf-8")
    started = time.perf_counter()
    fetcher = local_only_fetcher()
    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher).render()
    document.write_pdf(target)
    print(json.dumps({"pages": len(document.pages), "refused": fetcher.refused,
                      "seconds": time.perf_counter() - started}))


def _lay_onto(writer, slot, page) -> None:
    """Give a blank slot page the drawing of a worker's page; the slot object (and what points at
    it: contents, bookmarks, links) stays. Cheaper than merge_page, which rewrites the streams."""
    from pypdf.generic import NameObject

    copied = writer.add_page(page)  # imports the page's streams and resources as objects of the writer
    for key in ("/Contents", "/Resources", "/Group", "/MediaBox"):
        if key in copied:
            slot[NameObject(key)] = copied.raw_get(key)
    writer.remove_page(len(writer.pages) - 1)


def _groups(items: list, count: int) -> list[list]:
    size = -(-len(items) // count)
    return [items[n:n + size] for n in range(0, len(items), size)]


def render_split(report: Report, workers: int) -> Rendered | None:
    from pypdf import PdfReader, PdfWriter

    HTML = weasyprint_html()  # noqa: N806  (WeasyPrint's class)

    started = time.perf_counter()
    main_html = render_html(report, county_slots=True)
    groups = _groups(report.counties, workers)
    templated = time.perf_counter()
    fetcher = local_only_fetcher()
    with tempfile.TemporaryDirectory(prefix="mel-report-") as folder:
        pool = [_Worker(Path(folder), n) for n in range(len(groups))]
        try:
            document = HTML(string=main_html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher).render()
            laid_out = time.perf_counter()
            where = {anchor: n for n, page in enumerate(document.pages) for anchor in page.anchors}
            found = [where.get(f"county-{c.code}") for c in report.counties]
            slots = [n for n in found if n is not None]
            if len(slots) < len(found) or slots != list(range(slots[0], slots[0] + len(slots))):
                log.warning("county slots are not consecutive pages; rendering the report as one document")
                return None
            total, first = len(document.pages), slots[0]
            start, part_jinja = first, 0.0
            for worker, group in zip(pool, groups, strict=True):
                begin = time.perf_counter()
                worker.send(render_html(report, template="county_part.html", counties=group,
                                        page_start=start + 1, page_total=total))
                part_jinja += time.perf_counter() - begin
                start += len(group)
            main_pdf = document.write_pdf()
            written = time.perf_counter()
            parts = [worker.result() for worker in pool]
        finally:
            for worker in pool:
                worker.stop()
    waited = time.perf_counter()
    if any(pages != len(group) for (_, pages, _, _), group in zip(parts, groups, strict=True)):
        log.warning("a county page overflowed in a worker; rendering the report as one document")
        return None
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(main_pdf)))
    index = first
    for pdf, _, _, _ in parts:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            _lay_onto(writer, writer.pages[index], page)
            index += 1
    out = io.BytesIO()
    writer.write(out)
    joined = time.perf_counter()
    refused = fetcher.refused + [url for _, _, urls, _ in parts for url in urls]
    return Rendered(out.getvalue(), total, {
        "jinja": templated - started + part_jinja, "layout": laid_out - templated,
        "write": written - laid_out - part_jinja, "parts_wait": waited - written, "join": joined - waited,
        "parts_cpu": sum(seconds for _, _, _, seconds in parts)}, refused)


if __name__ == "__main__":
    _work(sys.argv[1])
