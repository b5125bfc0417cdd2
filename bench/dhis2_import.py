"""Benchmark: a bulk DHIS2 CSV (all counties × several quarters × several programmes) posted to
/api/dataValueSets, against a raw COPY of the same rows into a bare table, in the same run.

The server is a werkzeug process of its own on 127.0.0.1 (one request at a time, as a worker of
gunicorn would serve it) against a fresh PostgreSQL database; its peak RSS (VmHWM) is read from
/proc when the import is done. The figures are the demo generator's (complete, consistent
returns), written with DHIS2 UIDs as a KHIS script would send them; the secretariat sends them
(closed windows accept the secretariat). The issue's target: at most 3× the COPY, < 1 GB.
It then times the database alone storing the same rows again (storage_floor): the keys, foreign
keys, guard trigger and audit rows the service keeps cost more than 3× the bare COPY by themselves.

    python bench/dhis2_import.py --database-url postgresql://postgres@127.0.0.1:5432/mel_dhis2_bench
    python bench/dhis2_import.py --values 100000 ...           # smaller; the default is 1,000,000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rush import fresh_database  # noqa: E402 - the rush's fresh PostgreSQL database

from indicators.periods import parse_period  # noqa: E402
from mel.accounts.operations import create_token, create_user  # noqa: E402
from mel.app import create_app  # noqa: E402
from mel.catalogue.models import (  # noqa: E402
    DisaggregationSet,
    Indicator,
    ReportingForm,
    ReportingFormIndicator,
    ReportingFormOrgUnit,
)
from mel.catalogue.operations import seed_catalogue  # noqa: E402
from mel.db import db, make_engine  # noqa: E402
from mel.dhis2.ids import load_ids  # noqa: E402
from mel.migrate import upgrade  # noqa: E402

PROGRAMMES = ("OPCT", "CTOVC", "PWSD", "NSSF", "SHA")  # the national ones: all 47 counties each


def quarters_back(count: int) -> list[str]:
    """`count` quarters ending 2025Q2, oldest first."""
    found, year, q = [], 2025, 2
    for _ in range(count):
        found.append(f"{year}Q{q}")
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return found[::-1]


def build_csv(app, wanted: int) -> tuple[bytes, int, int]:
    """(CSV, values, returns): whole returns, quarter after quarter, until `wanted` values."""
    from rush import _figures

    with app.app_context():
        session = db.session
        ids = load_ids(session)
        forms = {f.programme.code: f for f in session.scalars(select(ReportingForm).options(
            selectinload(ReportingForm.programme),
            selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
            selectinload(ReportingForm.items).selectinload(ReportingFormIndicator.indicator)
            .selectinload(Indicator.disaggregation_set).selectinload(DisaggregationSet.combos)))}
        lines = ["dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value"]
        returns = 0
        cache: dict[tuple, list[dict]] = {}
        for period in quarters_back(40):
            quarter = parse_period(period)
            for code in PROGRAMMES:
                form = forms[code]
                aoc = ids.attribute_combo_for(code).uid
                asked = form.org_units_in(quarter.id)
                for unit in asked:
                    if len(lines) - 1 >= wanted:
                        return ("\n".join(lines) + "\n").encode(), len(lines) - 1, returns
                    key = (code, unit.code, quarter.fy_quarter)
                    if key not in cache:
                        cache[key] = _figures(form, unit, quarter, len(asked))
                    ou = ids.org_unit_for(unit.code).uid
                    for figure in cache[key]:
                        name = figure["indicator"]
                        component = {".N": "numerator", ".D": "denominator"}.get(name[-2:], "value")
                        element = ids.data_element_for(name[:-2] if component != "value" else name, component)
                        combo = ids.option_combo_for(element.uid, figure["option"])
                        lines.append(f"{element.uid},{period},{ou},{combo.uid},{aoc},{figure['value']}")
                    returns += 1
    raise SystemExit("not enough quarters for the values asked for")


def serve(url: str, port: int) -> None:
    """The server process: the app on 127.0.0.1:port, one request at a time."""
    from werkzeug.serving import make_server

    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING", DHIS2_MAX_UPLOAD_MB=256)
    make_server("127.0.0.1", port, app, threaded=False).serve_forever()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 7200) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request(method, path, body=body, headers=headers or {})
    answer = connection.getresponse()
    return answer.status, answer.read()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def copy_baseline(url: str, data: bytes) -> float:
    """COPY the same CSV into a bare table (no keys, no checks): the floor of any import."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_raw"))
        conn.execute(text("CREATE TABLE bench_raw (data_element text, period text, org_unit text, "
                          "category_option_combo text, attribute_option_combo text, value text)"))
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor, cursor.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(data)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()


VALUE_COLUMNS = ("return_id, indicator_id, component, option_combo_id, programme_id, org_unit_id, period, value, "
                 "comment, explanation, updated_by_id, created_at, updated_at")
AUDIT_COLUMNS = ("return_id, indicator_id, component, option_combo_id, old_value, new_value, old_comment, "
                 "new_comment, explanation, reason, channel, return_version, batch_id, changed_by_id, changed_at")


def storage_floor(url: str) -> dict[str, float]:
    """What PostgreSQL alone takes to store the rows the import stored: the same rows COPYed back (in a
    transaction that is rolled back) into a bare table of data_value's columns, into a copy with its
    keys, indexes and checks, into data_value itself (foreign keys and the guard trigger that refuses
    values of a submitted or approved return), and the audit rows into value_change. No parsing,
    no validation, no Python: the least any import keeping those guarantees can cost."""
    import io

    engine = make_engine(url)
    raw = engine.raw_connection()
    times: dict[str, float] = {}
    try:
        with raw.cursor() as cursor:
            rows, audit = io.BytesIO(), io.BytesIO()
            with cursor.copy(f"COPY (SELECT {VALUE_COLUMNS} FROM data_value) TO STDOUT") as copy:  # noqa: S608 (constants)
                for chunk in copy:
                    rows.write(chunk)
            with cursor.copy(f"COPY (SELECT {AUDIT_COLUMNS} FROM value_change) TO STDOUT") as copy:  # noqa: S608 (constants)
                for chunk in copy:
                    audit.write(chunk)
            raw.rollback()
            steps = [
                ("bare", "CREATE TEMPORARY TABLE floor_table AS SELECT * FROM data_value WITH NO DATA",
                 "floor_table", VALUE_COLUMNS, rows),
                ("keys", "CREATE TEMPORARY TABLE floor_table (LIKE data_value INCLUDING DEFAULTS INCLUDING "
                         "CONSTRAINTS INCLUDING INDEXES INCLUDING IDENTITY)", "floor_table", VALUE_COLUMNS, rows),
                ("data_value", "DELETE FROM data_value", "data_value", VALUE_COLUMNS, rows),
                ("value_change", None, "value_change", AUDIT_COLUMNS, audit),
            ]
            for name, prepare, table, columns, data in steps:
                if prepare:
                    cursor.execute(prepare)
                started = time.perf_counter()
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write(data.getvalue())
                times[name] = time.perf_counter() - started
                raw.rollback()
    finally:
        raw.close()
        engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL (the database is recreated)")
    parser.add_argument("--values", type=int, default=1_000_000, help="data values to post (default 1,000,000)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    url = fresh_database(args.database_url)
    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        create_user(db.session, "bench@example.test", "secretariat", password="benchmark-password")
        token = create_token(db.session, "bench@example.test", name="bench").token
        db.session.commit()
    started = time.perf_counter()
    data, values, returns = build_csv(app, args.values)
    with app.app_context():
        db.engine.dispose()
    print(f"payload: {values:,} values in {returns:,} returns, {len(data) / 1e6:.1f} MB "
          f"(built in {time.perf_counter() - started:.1f} s)")

    port = args.port or 18000 + os.getpid() % 1000
    server = subprocess.Popen([sys.executable, __file__, "--database-url", args.database_url,
                               "--serve", url, str(port)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        headers = {"Authorization": f"ApiToken {token}"}
        while True:
            try:
                request(port, "GET", "/api/dataValueSets", headers=headers, timeout=10)  # warm: E2001
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.3)
        idle = peak_rss_mb(server.pid)
        started = time.perf_counter()
        status, body = request(port, "POST", "/api/dataValueSets", data,
                               headers | {"Content-Type": "application/csv"})
        posted = time.perf_counter() - started
        peak = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = json.loads(body)
    response = summary.get("response", {})
    counts = response.get("importCount")
    print(f"POST /api/dataValueSets: HTTP {status} {response.get('status')} {counts} in {posted:.1f} s "
          f"({values / posted:,.0f} values/s)")
    if response.get("conflicts"):
        print("  first conflicts:", json.dumps(response["conflicts"][:3])[:600])
    copied = copy_baseline(url, data)
    print(f"COPY into a bare table: {copied:.2f} s ({values / copied:,.0f} values/s)")
    print(f"ratio: {posted / copied:.1f}x the COPY (target <= 3x)")
    floor = storage_floor(url)
    stored = floor["data_value"] + floor["value_change"]
    print("the database alone, the stored rows COPYed again (rolled back):")
    print(f"  into a bare table of data_value's columns        {floor['bare']:.2f} s")
    print(f"  + keys, indexes and checks                       {floor['keys']:.2f} s")
    print(f"  into data_value (+ foreign keys, guard trigger)  {floor['data_value']:.2f} s")
    print(f"  audit rows into value_change                     {floor['value_change']:.2f} s")
    print(f"  storing values and audit: {stored:.2f} s = {stored / copied:.1f}x the COPY: the least any import "
          f"keeping keys, guards and audit can take; the import is {posted / stored:.1f}x that")
    print(f"server peak RSS: {peak:,.0f} MB (idle {idle:,.0f} MB; target < 1024 MB)")


if __name__ == "__main__":
    main()
