"""Benchmark: the full sector quarterly report (with the 47-page county annex) on the demo data.

Each measurement runs in a fresh process, so peak memory (ru_maxrss) is that render's own.
It prints total time, pages per second, peak memory, and where the time went: our share
(query + compile into the snapshot, the report model, Jinja) against WeasyPrint's (layout and
PDF writing). The baseline, timed in the same run and the same way, is WeasyPrint alone laying
out a plain document of the same number of pages (one paragraph per page), so the ratio says
what the report's tables and charts cost over WeasyPrint's floor on this machine.

    python bench/report.py                       # SQLite demo database in a temporary folder
    python bench/report.py --database-url postgresql://postgres@127.0.0.1:5432/mel_bench
    python bench/report.py --accessible          # the tagged PDF/UA variant
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS, TARGET_MB, TARGET_SHARE = 20.0, 500.0, 10.0


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
        load_demo(db.session)
        db.session.commit()
        db.engine.dispose()


def child_report(url: str, period: str, workers: int, accessible: bool) -> dict:
    started = time.perf_counter()
    from mel.app import create_app
    from mel.db import db
    from mel.reporting.snapshot import gather
    from mel.returns.resolve import load_catalogue
    from reports.model import build
    from reports.render import render_pdf

    imported = time.perf_counter()
    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    with app.app_context():
        session = db.session
        snapshot = gather(session, load_catalogue(session), kind="sector", period=period,
                          generated_at=datetime.now(UTC))
    gathered = time.perf_counter()
    model = build(snapshot, is_draft=True, reference="benchmark", accessible=accessible)
    built = time.perf_counter()
    rendered = render_pdf(model)
    finished = time.perf_counter()
    return {"import": imported - started, "query_compile": gathered - imported, "model": built - gathered,
            **rendered.timings, "total": finished - imported, "pages": rendered.pages, "bytes": len(rendered.pdf)}


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
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--accessible", action="store_true")
    parser.add_argument("--child", choices=["report", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--pages", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "report":
        print(json.dumps(child_report(args.database_url, args.period, args.workers, args.accessible)))
        return
    if args.child == "baseline":
        print(json.dumps(child_baseline(args.pages)))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        if args.database_url and args.database_url.startswith("postgresql"):
            from tests.conftest import reset_postgres_database

            reset_postgres_database(url)
        print(f"preparing the demo database ({url.split('@')[-1]}) …", flush=True)
        prepare(url)
        # The baseline runs first: ru_maxrss of children is the largest child so far.
        baseline = in_child(["--child", "baseline", "--pages", "64"])
        report = in_child(["--child", "report", "--database-url", url, "--period", args.period,
                           "--workers", str(args.workers)] + (["--accessible"] if args.accessible else []))
    ours = report["query_compile"] + report["model"] + report["jinja"]
    weasy = report["total"] - ours
    share = ours / report["total"] * 100
    print(f"\nSector quarterly report {args.period} with the county annex, one process"
          f"{', PDF/UA' if args.accessible else ''}  ({os.cpu_count()} cores)")
    print(f"  pages                      {report['pages']}  ({report['bytes'] / 1e6:.1f} MB PDF)")
    print(f"  total                      {report['total']:.2f} s   target {TARGET_SECONDS:.0f} s: "
          f"{report['total'] / TARGET_SECONDS:.2f} of it")
    print(f"  pages per second           {report['pages'] / report['total']:.1f}")
    print(f"  peak memory                {report['peak_mb']:.0f} MB   target {TARGET_MB:.0f} MB: "
          f"{report['peak_mb'] / TARGET_MB:.2f} of it")
    print(f"  query + compile            {report['query_compile']:.2f} s")
    print(f"  report model               {report['model']:.3f} s")
    print(f"  Jinja                      {report['jinja']:.3f} s")
    print(f"  WeasyPrint layout + write  {weasy:.2f} s  (layout {report['layout']:.2f}, write {report['write']:.2f})")
    print(f"  our share of the total     {share:.1f}%   target at most {TARGET_SHARE:.0f}%")
    print(f"  baseline: WeasyPrint, {baseline['pages']} plain pages: {baseline['total']:.2f} s, "
          f"{baseline['peak_mb']:.0f} MB")
    print(f"  ratio report / baseline    time {report['total'] / baseline['total']:.1f}x, "
          f"memory {report['peak_mb'] / baseline['peak_mb']:.1f}x")


if __name__ == "__main__":
    main()
