"""Benchmark: time and peak memory of reading hostile uploads, before and after the upload limits.

For each hostile file (a 9 MB xlsx whose sheet XML is 90 MB, millions of tiny cells, a lying
<dimension>, a shared-strings bomb, many sheets, a CSV of a million rows, one enormous line, a
wide CSV) it runs, each in a fresh child process, "before" (the plain whole-workbook openpyxl
load and whole-file csv read the readers did before, the same run's baseline) and "after"
(`read_return_file`, and the PMP / work-plan readers for the xlsx files), and prints seconds,
peak RSS over the child's baseline (ru_maxrss) and the after/before ratios.

    python bench/uploads.py                # every case
    python bench/uploads.py big_sheet csv_rows
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "app"))

import hostile_uploads as hostile  # noqa: E402

CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "big_sheet": ("xlsx", lambda: hostile.workbook({"Data": hostile.template_rows(350_000)})),
    "tiny_cells": ("xlsx", lambda: hostile.workbook({"Data": hostile.tiny_cells(6_000_000)})),
    "dimension_lie": ("xlsx", lambda: hostile.workbook({"Data": hostile.far_cells(50_000)},
                                                       dimension="A1:XFD1048576")),
    "shared_strings": ("xlsx", lambda: hostile.workbook({"Data": hostile.template_rows(5)},
                                                        shared_strings=hostile.shared_strings(3_000_000))),
    "many_sheets": ("xlsx", lambda: hostile.workbook({f"S{i}": hostile.tiny_cells(20_000) for i in range(300)}
                                                     | {"Data": hostile.template_rows(5)})),
    "csv_rows": ("csv", lambda: hostile.csv_rows(250_000)),
    "csv_million_rows": ("csv", lambda: b"indicator,option,org_unit,period,value,comment\n" + b"a,b,c,d,e,f\n" * 800_000),
    "csv_one_line": ("csv", lambda: hostile.csv_one_line(9_000_000)),
    "csv_wide": ("csv", lambda: hostile.csv_wide(20_000, 200)),
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _before(data: bytes, name: str) -> str:
    """What the readers did before: the whole workbook (or the whole CSV) loaded at once."""
    import csv
    import io
    import warnings

    import openpyxl

    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        return f"{len(rows)} lines"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=False)
    cells = sum(len(ws._cells) for ws in wb.worksheets)
    return f"{cells} cells"


def _after(reader: str, data: bytes, name: str) -> str:
    from mel.errors import ValidationFailed
    from mel.plans.workbook import read_pmp_file, read_workplan_file
    from mel.returns.workbook import read_return_file

    try:
        if reader == "pmp":
            read_pmp_file(data, name, "FY2025/26", max_bytes=10 * 1024 * 1024)
        elif reader == "workplan":
            read_workplan_file(data, name, max_bytes=10 * 1024 * 1024)
        else:
            return f"{len(read_return_file(data, name))} rows"
    except ValidationFailed as exc:
        return "refused: " + exc.message
    return "read"


def child(reader: str, path: str) -> None:
    """Run one reader on one file and print its time and peak memory as JSON."""
    import openpyxl  # noqa: F401 - imported before the baseline, as in a running server
    import pandas  # noqa: F401

    import mel.plans.workbook  # noqa: F401
    import mel.returns.workbook  # noqa: F401

    data = Path(path).read_bytes()
    name = Path(path).name
    base = _rss_mb()
    start = time.perf_counter()
    outcome = _before(data, name) if reader == "before" else _after(reader, data, name)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": _rss_mb() - base,
                      "outcome": outcome}))


def measure(reader: str, path: Path, timeout: float = 600) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, "--child", reader, str(path)], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "peak_mb": float("nan"), "outcome": "timed out"}
    if done.returncode != 0:
        return {"seconds": float("nan"), "peak_mb": float("nan"),
                "outcome": f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':<18} {'reader':<9} {'MB':>5} {'before s':>9} {'after s':>8} {'ratio':>6} "
              f"{'before MB':>10} {'after MB':>9} {'ratio':>6}  outcome after")
        for name in names or list(CASES):
            kind, build = CASES[name]
            path = Path(tmp) / f"{name}.{kind}"
            path.write_bytes(build())
            before = measure("before", path)
            readers = ["return"] + (["pmp", "workplan"] if kind == "xlsx" else [])
            for reader in readers:
                after = measure(reader, path)
                print(f"{name:<18} {reader:<9} {path.stat().st_size / 1048576:>5.1f} {before['seconds']:>9.2f} "
                      f"{after['seconds']:>8.2f} {after['seconds'] / before['seconds']:>6.3f} "
                      f"{before['peak_mb']:>10.0f} {after['peak_mb']:>9.0f} "
                      f"{after['peak_mb'] / max(before['peak_mb'], 1):>6.3f}  {after['outcome'][:90]}",
                      flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1:])
