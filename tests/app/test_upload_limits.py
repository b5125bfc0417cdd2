"""Upload limits: hostile files are refused before parsing, by name and limit, within a memory ceiling.

The memory test runs each reader in a child process on files the test writes (a sheet of tens of
MB, millions of tiny cells, a lying <dimension>, a shared-strings bomb, many sheets, CSVs of many
rows, one enormous line, thousands of columns) and reads the child's peak RSS (ru_maxrss).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mel.accounts.operations import create_token
from mel.errors import ValidationFailed
from mel.plans.models import PmpVersion
from mel.plans.workbook import read_pmp_file, read_workplan_file
from mel.returns.models import DataValue
from mel.returns.upload_limits import UploadLimits, check_upload
from mel.returns.workbook import read_return_file
from tests.app import hostile_uploads as hostile
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import csrf_token, login

ROOT = Path(__file__).resolve().parents[2]
CEILING_MB = 200  # a reader's peak memory over its process's baseline, whatever the file
DEFAULTS = UploadLimits()

# name -> (file name, builder, what the refusal names; None: read in full)
HOSTILE = {
    "sheet_xml_54mb": ("big.xlsx", lambda: hostile.workbook({"Data": hostile.template_rows(220_000)}),
                       "MEL_UPLOAD_MAX_SHEET_MB"),
    "tiny_cells_2m": ("tiny.xlsx", lambda: hostile.workbook({"Data": hostile.tiny_cells(2_100_000)}),
                      "MEL_UPLOAD_MAX_CELLS"),
    "dimension_lie": ("far.xlsx", lambda: hostile.workbook({"Data": hostile.far_cells(20_000)},
                                                           dimension="A1:XFD1048576"), None),
    "shared_strings": ("sst.xlsx", lambda: hostile.workbook({"Data": hostile.template_rows(3)},
                                                            shared_strings=hostile.shared_strings(2_100_000)),
                       "MEL_UPLOAD_MAX_CELLS"),
    "many_sheets": ("sheets.xlsx", lambda: hostile.workbook(
        {f"S{i}": hostile.tiny_cells(11_000, per_row=500) for i in range(200)} | {"Data": hostile.template_rows(3)}),
        "MEL_UPLOAD_MAX_CELLS"),
    "largest_sheet": ("ok.xlsx", lambda: hostile.workbook({"Data": hostile.template_rows(100_000)}), None),
    "csv_largest": ("ok.csv", lambda: hostile.csv_rows(DEFAULTS.max_rows - 1000), None),
    "csv_rows": ("rows.csv", lambda: b"indicator,option,org_unit,period,value,comment\n" + b"a,b,c,d,e,f\n" * 800_000,
                 "MEL_UPLOAD_MAX_"),
    "csv_one_line": ("line.csv", lambda: hostile.csv_one_line(9_000_000), "characters long"),
    "csv_wide": ("wide.csv", lambda: hostile.csv_wide(20_000, 200), "columns in its header row"),
}

CHILD = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    import pandas, openpyxl
    from mel.errors import ValidationFailed
    from mel.plans.workbook import read_pmp_file, read_workplan_file
    from mel.returns.workbook import read_return_file
    reader, path = sys.argv[1], Path(sys.argv[2])
    data = path.read_bytes()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        if reader == "pmp":
            read_pmp_file(data, path.name, "2024July")
        elif reader == "workplan":
            read_workplan_file(data, path.name)
        else:
            outcome = f"{len(read_return_file(data, path.name))} rows"
    except ValidationFailed as exc:
        outcome = "refused: " + exc.message
    else:
        outcome = locals().get("outcome", "read")
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    print(json.dumps({"peak_mb": peak, "outcome": outcome}))
""")


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for case, (filename, build, _) in HOSTILE.items():
        files[case] = folder / filename
        files[case].write_bytes(build())
        assert files[case].stat().st_size < DEFAULTS.max_bytes, case  # under the upload size: other limits bite
    return files


def _child(reader: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, reader, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(HOSTILE))
def test_every_reader_stays_under_the_memory_ceiling_and_refuses_by_name(hostile_files, case):
    filename, _, refusal = HOSTILE[case]
    readers = ["return", "pmp", "workplan"] if filename.endswith(".xlsx") else ["return"]
    for reader in readers:
        measured = _child(reader, hostile_files[case])
        assert measured["peak_mb"] < CEILING_MB, (case, reader, measured)
        outcome = measured["outcome"]
        if refusal is not None:
            assert outcome.startswith(f"refused: {filename}") and refusal in outcome, (case, reader, outcome)
        elif reader == "return":
            assert outcome.endswith(" rows") and not outcome.startswith("refused"), (case, outcome)
    if refusal is not None and filename.endswith(".xlsx"):
        # The same refusal comes before any parsing, e.g. before a file is queued for the background.
        with pytest.raises(ValidationFailed) as caught:
            check_upload(hostile_files[case].read_bytes(), filename, DEFAULTS)
        assert refusal in caught.value.message


def _shape(rows: int, cols: int, kind: str) -> bytes:
    """A return file of `rows` data rows: a CSV of the six columns, or a sheet `cols` (≥ 12) wide."""
    if kind == "csv":
        return ("indicator,option,org_unit,period,value,comment\n"
                + "SA01,default,042,2025Q3,1,c\n" * rows).encode()
    return hostile.workbook({"Data": [hostile._header_row()] + [
        "".join(f'<row r="{r}">' + "".join(f"<c><v>{c}</v></c>" for c in range(cols)) + "</row>"
                for r in range(2, rows + 2)).encode()]})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(1, 60), cols=st.integers(12, 40), max_rows=st.integers(1, 80),
       max_cells=st.integers(20, 3000), kind=st.sampled_from(["csv", "xlsx"]))
def test_a_file_is_refused_exactly_when_it_passes_a_limit(rows, cols, max_rows, max_cells, kind):
    limits = UploadLimits(max_rows=max_rows, max_cells=max_cells)
    data = _shape(rows, cols, kind)
    cells = (rows + 1) * 6 if kind == "csv" else rows * cols + 12  # the xlsx header holds 12 cells
    try:
        frame = read_return_file(data, f"shape.{kind}", limits=limits)
    except ValidationFailed as exc:
        message = exc.message
        assert cells > max_cells or rows > max_rows, message
        assert message.startswith(f"shape.{kind} has more than") and "split the file" in message
        assert (f"more than {max_cells:,} cells" in message and "MEL_UPLOAD_MAX_CELLS" in message
                and cells > max_cells) or (f"more than {max_rows:,} data rows" in message
                                           and "MEL_UPLOAD_MAX_ROWS" in message and rows > max_rows)
    else:
        assert cells <= max_cells and rows <= max_rows
        assert len(frame) == rows


@pytest.mark.parametrize("limit, value, words", [
    ("UPLOAD_MAX_CELLS", 50, "more than 50 cells"),
    ("UPLOAD_MAX_ROWS", 5, "more than 5 data rows"),
    ("UPLOAD_MAX_SHEET_MB", 1, "over the 1 MB limit (MEL_UPLOAD_MAX_SHEET_MB)"),
    ("UPLOAD_MAX_UNPACKED_MB", 1, "over the 1.0 MB limit (MEL_UPLOAD_MAX_UNPACKED_MB)"),
])
@pytest.mark.parametrize("channel", ["api", "web"])
def test_uploads_over_a_configured_limit_get_422_naming_file_and_limit(client, session, app, monkeypatch,
                                                                        limit, value, words, channel):
    monkeypatch.setitem(app.config, limit, value)
    kind = "csv" if limit in ("UPLOAD_MAX_CELLS", "UPLOAD_MAX_ROWS") else "xlsx"
    data = (hostile.csv_rows(40) if kind == "csv"
            else hostile.workbook({"Data": hostile.template_rows(6000)}))
    before = session.scalar(select(func.count()).select_from(DataValue))
    filename = f"opct.{kind}"
    with time_machine.travel(IN_WINDOW, tick=False):
        if channel == "api":
            token = create_token(session, "officer.opct@demo.test").token
            response = client.post("/api/v1/returns:import", query_string={"programme": "OPCT"},
                                   data={"file": (io.BytesIO(data), filename)},
                                   headers={"Authorization": f"Bearer {token}"})
            text = response.json["message"]
        else:
            login(client, "officer.opct@demo.test")
            response = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"),
                                                    "programme": "OPCT", "file": (io.BytesIO(data), filename)})
            text = response.get_data(as_text=True).replace("&#39;", "'").replace("&amp;", "&")
    assert response.status_code == 422, text[:500]
    assert filename in text and words in text and f"MEL_{limit}" in text
    assert session.scalar(select(func.count()).select_from(DataValue)) == before


@pytest.mark.parametrize("plan", ["pmp", "workplan"])
def test_plan_uploads_over_the_cell_limit_get_422_naming_file_and_limit(client, session, hostile_files, plan):
    login(client, "secretariat@demo.test")
    page = "/plans/pmps/PWSD/2024July" if plan == "pmp" else "/plans/workplans/2024July"
    versions = session.scalar(select(func.count()).select_from(PmpVersion))
    data = hostile_files["tiny_cells_2m"].read_bytes()
    response = client.post(page, data={"csrf_token": csrf_token(client, page), "reason": "hostile",
                                       "file": (io.BytesIO(data), "plan.xlsx")})
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:500]
    assert "plan.xlsx has more than 2,000,000 cells" in text and "MEL_UPLOAD_MAX_CELLS" in text
    assert session.scalar(select(func.count()).select_from(PmpVersion)) == versions


@pytest.mark.parametrize("channel", ["api", "web", "pmp"])
def test_a_request_over_the_upload_size_gets_a_clean_413(client, session, app, monkeypatch, channel):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    data = b"x" * (2 * 1024 * 1024)
    if channel == "api":
        token = create_token(session, "officer.opct@demo.test").token
        response = client.post("/api/v1/returns:import", data={"file": (io.BytesIO(data), "big.csv")},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 413 and response.json["error"] == "too_large"
        text = response.json["message"]
    else:
        login(client, "secretariat@demo.test" if channel == "pmp" else "officer.opct@demo.test")
        page = "/plans/pmps/PWSD/2024July" if channel == "pmp" else "/upload"
        token = csrf_token(client, page)
        response = client.post(page, data={"csrf_token": token, "file": (io.BytesIO(data), "big.csv")})
        assert response.status_code == 413
        text = response.get_data(as_text=True)
    assert "over the 1 MB limit (MEL_MAX_UPLOAD_MB)" in text and "split the file" in text


def test_limits_come_from_the_configuration(app):
    limits = UploadLimits.from_config(app.config)
    assert (limits.max_cells, limits.max_rows) == (app.config["UPLOAD_MAX_CELLS"], app.config["UPLOAD_MAX_ROWS"])
    assert limits.max_part == app.config["UPLOAD_MAX_SHEET_MB"] * 1024 * 1024
    with pytest.raises(ValidationFailed, match="MEL_UPLOAD_MAX_ROWS"):
        read_pmp_file(hostile.workbook({"Targets": hostile.template_rows(3)}), "p.xlsx", "2024July",
                      limits=UploadLimits(max_rows=2))
    with pytest.raises(ValidationFailed, match="MEL_UPLOAD_MAX_CELLS"):
        read_workplan_file(hostile.workbook({"Activities": hostile.template_rows(30)}), "w.xlsx",
                           limits=UploadLimits(max_cells=100))
