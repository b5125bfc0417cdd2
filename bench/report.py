"""Benchmark: the full sector quarterly report (county annex, maps and charts), the fact sheet and a
county profile, on the demo data.

Each measurement runs in a fresh process, so peak memory (ru_maxrss) is that render's own. The
clock starts where a `mel worker` job starts: with the application built and the render path
imported, as the worker does once when it starts (its start-up is printed apart).
It prints total time, pages per second, peak memory, and where the time went: our share
(query + compile into the snapshot, the report model, Jinja) against WeasyPrint's (layout and
PDF writing). The baseline, timed in the same run and the same way, is WeasyPrint alone laying
out a plain document of the same number of pages (one paragraph per page), so the ratio says
what the report's tables, charts and maps cost over WeasyPrint's floor on this machine. The
machine may be shared: compare the ratios of one run, and run it twice.

    python bench/report.py                       # SQLite demo database in a temporary folder
    python bench/report.py --database-url postgresql://postgres@127.0.0.1:5432/mel_bench
    python bench/report.py --workers 1           # the county annex in the main process, after the main document
    python bench/report.py --accessible          # the tagged PDF/UA variant (always one document)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS, TARGET_MB, TARGET_SHARE = 12.0, 400.0, 15.0  # the sector report (issue 17)
TARGET_SMALL = 3.0  # seconds: the fact sheet, a county profile
SMALL = (("factsheet", "KE", "Fact sheet"), ("county", "042", "County profile, Kisumu"))


def prepare(url: str) -> None:
    from mel.app import create_app
    from mel.catalogue.operations import seed_catalogue
    from mel.db import db
    from mel.demo import load_demo
    from mel.migrate import upgrade

    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        load_demo(db.session, live=False)
        db.session.commit()
        db.engine.dispose()


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [p for child in (task / "children").read_text().split() for p in _tree(int(child))]
        except OSError:
            pass
    return found


class TreeMemory(threading.Thread):
    """Samples the summed RSS of this process and its workers (the memory in use at once)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.done = 0.0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, sum(_rss_mb(p) for p in _tree(os.getpid())))
            self.done.wait(0.05)


def child_report(url: str, period: str, workers: int, accessible: bool, kind: str = "sector",
                 org_unit: str = "KE") -> dict:
    """One report as a `mel worker` job renders it: the worker built the application and imported the
    render path when it started (mel/jobs.run_workers), so the clock starts there; that start-up is
    printed on its own (a worker pays it once, not per report)."""
    sampler = TreeMemory()
    sampler.start()
    started = time.perf_counter()
    from mel.app import create_app
    from mel.catalogue.lookup import load_catalogue
    from mel.db import db
    from mel.jobs import preload_render
    from mel.reporting.snapshot import gather
    from reports.allocation import collecting_less
    from reports.model import build
    from reports.render import render_pdf

    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    preload_render()
    imported = time.perf_counter()
    with app.app_context(), collecting_less():  # as mel/reporting/operations.execute runs a job
        session = db.session
        snapshot = gather(session, load_catalogue(session), kind=kind, period=period, org_unit=org_unit,
                          generated_at=datetime.now(UTC))
        gathered = time.perf_counter()
        model = build(snapshot, is_draft=True, reference="benchmark", accessible=accessible)
        built = time.perf_counter()
        rendered = render_pdf(model, workers=workers)
        finished = time.perf_counter()
    sampler.done.set()
    sampler.join()
    return {"startup": imported - started, "query_compile": gathered - imported, "model": built - gathered,
            **rendered.timings, "total": finished - imported, "pages": rendered.pages, "bytes": len(rendered.pdf),
            "tree_mb": sampler.peak}


def child_baseline(pages: int) -> dict:
    from weasyprint import HTML

    body = "".join(f'<p style="break-after: page">Page {n}: plain text of the same page count.</p>'
                   for n in range(pages))
    started = time.perf_counter()
    document = HTML(string=f"<html><body>{body}</body></html>").render()
    pdf = document.write_pdf()
    return {"total": time.perf_counter() - started, "pages": len(document.pages), "bytes": len(pdf)}


def in_child(args: list[str]) -> dict:
    """Run this script as a child and return its JSON and its peak memory in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    output = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_mb"] = max(peak, before) / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--period", default="2025Q2")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes for the county annex (1: none, laid out here after the main "
                             "document; default: the REPORT_WORKERS default)")
    parser.add_argument("--accessible", action="store_true")
    parser.add_argument("--child", choices=["report", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="sector", help=argparse.SUPPRESS)
    parser.add_argument("--org-unit", default="KE", help=argparse.SUPPRESS)
    parser.add_argument("--pages", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers is None:
        from config import Config

        args.workers = int(Config.REPORT_WORKERS)
    if args.child == "report":
        print(json.dumps(child_report(args.database_url, args.period, args.workers, args.accessible, args.kind,
                                      args.org_unit)))
        return
    if args.child == "baseline":
        print(json.dumps(child_baseline(args.pages)))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        if args.database_url and args.database_url.startswith("postgresql"):
            from tests.helpers import reset_postgres_database

            reset_postgres_database(url)
        print(f"preparing the demo database ({url.split('@')[-1]}) …", flush=True)
        prepare(url)
        # The baseline runs first: ru_maxrss of children is the largest child so far.
        baseline = in_child(["--child", "baseline", "--pages", "64"])
        report = in_child(["--child", "report", "--database-url", url, "--period", args.period,
                           "--workers", str(args.workers)] + (["--accessible"] if args.accessible else []))
        small = [(label, in_child(["--child", "report", "--database-url", url, "--period", args.period,
                                   "--workers", "1", "--kind", kind, "--org-unit", unit]),
                  in_child(["--child", "baseline", "--pages", "2"]))
                 for kind, unit, label in SMALL]
    split = "join" in report
    ours = report["query_compile"] + report["model"] + report["jinja"] + report.get("join", 0.0)
    share = ours / report["total"] * 100
    how = ("one document" if not split else f"county annex in {args.workers} worker processes" if args.workers > 1
           else "county annex laid out in this process after the main document, a few counties at a time")
    print(f"\nSector quarterly report {args.period} with the county annex, {how}"
          f"{', PDF/UA' if args.accessible else ''}  ({os.cpu_count()} cores)")
    print(f"  pages                      {report['pages']}  ({report['bytes'] / 1e6:.1f} MB PDF)")
    print(f"  total                      {report['total']:.2f} s   target {TARGET_SECONDS:.0f} s: "
          f"{report['total'] / TARGET_SECONDS:.2f} of it")
    print(f"  pages per second           {report['pages'] / report['total']:.1f}")
    print(f"  peak memory, one process   {report['peak_mb']:.0f} MB   target {TARGET_MB:.0f} MB: "
          f"{report['peak_mb'] / TARGET_MB:.2f} of it")
    print(f"  peak memory, all at once   {report['tree_mb']:.0f} MB   (the report process and its workers)")
    print(f"  worker start-up (once)     {report['startup']:.2f} s   (application and imports; not in the total)")
    print(f"  query + compile            {report['query_compile']:.2f} s")
    print(f"  report model               {report['model']:.3f} s")
    print(f"  Jinja                      {report['jinja']:.3f} s")
    if split:
        print(f"  main document              layout {report['layout']:.2f} s, write {report['write']:.2f} s")
        if args.workers > 1:
            print(f"  waiting for the workers    {report['parts_wait']:.2f} s  (their CPU: {report['parts_cpu']:.2f} s)")
        else:
            print(f"  county pages               {report['parts_wait']:.2f} s")
        print(f"  joining pages (pikepdf)    {report['join']:.2f} s")
    else:
        print(f"  WeasyPrint                 layout {report['layout']:.2f} s, write {report['write']:.2f} s")
    print(f"  our share of the total     {share:.1f}%   target at most {TARGET_SHARE:.0f}%"
          f"{'  (query + compile + model + Jinja + joining)' if split else ''}")
    print(f"  baseline: WeasyPrint, {baseline['pages']} plain pages: {baseline['total']:.2f} s, "
          f"{baseline['peak_mb']:.0f} MB")
    print(f"  ratio report / baseline    time {report['total'] / baseline['total']:.1f}x, "
          f"memory {report['peak_mb'] / baseline['peak_mb']:.1f}x")
    for label, result, plain in small:
        mine = result["query_compile"] + result["model"] + result["jinja"]
        print(f"\n{label}, {args.period}: {result['pages']} pages")
        print(f"  total                      {result['total']:.2f} s   target {TARGET_SMALL:.0f} s: "
              f"{result['total'] / TARGET_SMALL:.2f} of it")
        print(f"  query + compile {result['query_compile']:.2f} s, model {result['model']:.3f} s, "
              f"Jinja {result['jinja']:.3f} s, WeasyPrint layout {result['layout']:.2f} s, write {result['write']:.2f} s")
        print(f"  our share                  {mine / result['total'] * 100:.1f}%   peak memory {result['tree_mb']:.0f} MB"
              f"   (worker start-up {result['startup']:.2f} s, not in the total)")
        print(f"  ratio to {plain['pages']} plain pages     time {result['total'] / plain['total']:.1f}x")


if __name__ == "__main__":
    main()
