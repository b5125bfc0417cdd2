"""Return files: the .xlsx template round trip and every structural refusal, without a database."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mel.errors import ValidationFailed
from mel.returns.workbook import (
    CANONICAL_COLUMNS,
    MAX_UNCOMPRESSED_BYTES,
    TEMPLATE_COLUMNS,
    TemplateRow,
    build_template,
    read_return_file,
)

GENERATED = datetime(2025, 10, 3, 9, 30, tzinfo=UTC)
CSV_HEADER = "indicator,option,org_unit,period,value,comment"


def template_rows() -> list[TemplateRow]:
    """About twenty realistic rows, with ratio parts, Decimals, an empty value and a risky name."""
    rows = []
    options = [("F_A70P", "Female 70+"), ("M_A70P", "Male 70+"), ("total", "Total")]
    for unit, unit_name in [("042", "Kisumu"), ("047", "Nairobi")]:
        for code, option_name in options:
            rows.append(TemplateRow(unit, unit_name, "2025Q3", "Jul-Sep 2025", "SA01",
                                    "Beneficiaries paid", code, option_name,
                                    value=Decimal("1234.00"), previous_value=1200))
            rows.append(TemplateRow(unit, unit_name, "2025Q3", "Jul-Sep 2025", "SA05",
                                    "Amount paid (KES)", code, option_name,
                                    value=Decimal("2500000.50"), previous_value=12.5))
        rows.append(TemplateRow(unit, unit_name, "2025Q3", "Jul-Sep 2025", "SA12.N",
                                "Paid on time (numerator)", "default", "default", value=45))
        rows.append(TemplateRow(unit, unit_name, "2025Q3", "Jul-Sep 2025", "SA12.D",
                                "Paid on time (denominator)", "default", "default", value=None,
                                comment="+ check with county"))
    rows.append(TemplateRow("042", "=HYPERLINK(\"http://x\")", "2025Q3", "Jul-Sep 2025", "SA02",
                            "-Grievances", "default", "@default", value="7", explanation="-"))
    rows.append(TemplateRow("42", "Kisumu", "2025Q3", "Jul-Sep 2025", "SA03", "Caseload",
                            "default", "default", value=Decimal("0.25")))
    return rows


def make_template(rows: list[TemplateRow] | None = None) -> bytes:
    return build_template(template_rows() if rows is None else rows, title="CT-OVC return",
                          programme="Inua Jamii", period_label="Jul-Sep 2025",
                          generated_at=GENERATED)


def edit(data: bytes, change: Callable[[openpyxl.Workbook], None]) -> bytes:
    """The template after an officer's edit, made with openpyxl."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def refusal(data: bytes, filename: str, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        read_return_file(data, filename, **kwargs)
    return caught.value


def text_of(error: ValidationFailed) -> str:
    return error.message + "\n" + "\n".join(d.message for d in error.details)


def expected_value(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, Decimal):
        return str(int(raw)) if raw == raw.to_integral_value() else format(raw.normalize(), "f")
    return str(raw)


# ---------------------------------------------------------------- round trip


def test_template_round_trips_to_canonical_rows():
    rows = template_rows()
    frame = read_return_file(make_template(rows), "opct.xlsx")
    assert list(frame.columns) == list(CANONICAL_COLUMNS)
    assert not frame.isna().any().any() and frame["row"].dtype == "int64"
    assert all(isinstance(v, str) for c in CANONICAL_COLUMNS if c != "row" for v in frame[c])
    assert [tuple(r) for r in frame[["indicator", "option", "org_unit", "period"]].values] == [
        (r.indicator, r.option, r.org_unit, r.period) for r in rows]
    assert list(frame["value"]) == [expected_value(r.value) for r in rows]
    assert list(frame["value"][:2]) == ["1234", "2500000.5"]
    assert frame["value"].iloc[-1] == "0.25"
    assert list(frame["row"]) == list(range(2, len(rows) + 2))
    assert set(frame["column"]) == {"I"} and set(frame["sheet"]) == {"Data"}
    assert set(frame["file"]) == {"opct.xlsx"}
    assert {"SA12.N", "SA12.D"} <= set(frame["indicator"]) and "F_A70P" in set(frame["option"])
    assert frame.loc[frame["indicator"] == "SA12.D", "comment"].tolist() == [
        "+ check with county"] * 2
    assert frame["explanation"].iloc[-2] == "-"
    assert frame["org_unit"].iloc[-1] == "42" and frame["org_unit"].iloc[0] == "042"


def test_template_is_protected_safe_and_explained():
    wb = openpyxl.load_workbook(io.BytesIO(make_template()))
    assert wb.sheetnames == ["Data", "Instructions"]
    ws = wb["Data"]
    assert [c.value for c in ws[1]] == list(TEMPLATE_COLUMNS)
    assert all(c.font.bold for c in ws[1])
    assert ws.protection.sheet and ws.freeze_panes == "A2"
    for cell in ws[3]:
        assert cell.protection.locked is (cell.column_letter not in "IJK"), cell.coordinate
    assert ws["I2"].value == 1234 and isinstance(ws["I2"].value, int)
    assert ws["I3"].value == 2500000.5 and ws["L3"].value == 12.5
    assert ws["A2"].value == "042" and ws["A2"].number_format == "@"
    risky = ws.cell(row=len(template_rows()), column=2)
    assert risky.value.startswith("=HYPERLINK") and risky.data_type == "s" and risky.quotePrefix
    assert ws.column_dimensions["F"].width > ws.column_dimensions["A"].width
    text = " ".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)
    for phrase in ("Inua Jamii", "Jul-Sep 2025", "2025-10-03", ".N", ".D", "formulas",
                   "thousands separators", "explanation", "nothing is stored"):
        assert phrase in text, phrase


def test_template_refuses_non_finite_numbers():
    row = template_rows()[0]
    with pytest.raises(ValueError, match="non-finite"):
        make_template([TemplateRow(**{**row.__dict__, "value": Decimal("NaN")})])


CODES = st.text(alphabet="ABCS0129._", min_size=1, max_size=6)
NAMES = st.text(alphabet="ab =+-@", max_size=8)
VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-10**12, max_value=10**12),
    st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False,
                allow_infinity=False),
)
ROWS = st.builds(TemplateRow, org_unit=CODES, org_unit_name=NAMES, period=CODES,
                 period_label=NAMES, indicator=CODES, indicator_name=NAMES, option=CODES,
                 option_name=NAMES, value=VALUES, comment=NAMES, previous_value=VALUES)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROWS, min_size=1, max_size=12))
def test_round_trip_property(rows):
    frame = read_return_file(make_template(rows), "p.xlsx")
    got = [tuple(r) for r in frame[["indicator", "option", "org_unit", "period", "value"]].values]
    assert got == [(r.indicator, r.option, r.org_unit, r.period, expected_value(r.value))
                   for r in rows]


# ---------------------------------------------------------------- xlsx refusals


def test_formula_cells_are_all_named():
    def change(wb):
        wb["Data"]["I7"] = "=SUM(I2:I6)"
        wb["Data"]["J9"] = "=A1"
    error = refusal(edit(make_template(), change), "opct.xlsx")
    assert error.message == "opct.xlsx: 2 problems; nothing was stored."
    first = error.details[0]
    assert first.message == "Data!I7 holds a formula (=SUM(I2:I6)); type the number instead."
    assert first.location == {"file": "opct.xlsx", "sheet": "Data", "row": 7, "column": "I",
                              "cell": "Data!I7"}
    assert error.details[1].location["cell"] == "Data!J9"


def test_values_read_as_their_text():
    def change(wb):
        ws = wb["Data"]
        ws["I2"], ws["I3"], ws["I4"] = True, datetime(2025, 7, 1), 1e-05
        ws["I5"], ws["I6"] = "1,234", " 12 "
    frame = read_return_file(edit(make_template(), change), "opct.xlsx")
    assert list(frame["value"][:5]) == ["TRUE", "2025-07-01", "0.00001", "1,234", " 12 "]


def test_merged_header_is_named():
    error = refusal(edit(make_template(), lambda wb: wb["Data"].merge_cells("A1:C1")), "m.xlsx")
    merged = [d for d in error.details if d.location.get("range") == "A1:C1"]
    assert merged and merged[0].location["cell"] == "Data!A1:C1"
    assert "Data!A1:C1 is a merged range" in merged[0].message
    assert error.message.startswith("m.xlsx:")


def test_merged_data_cells_are_named():
    error = refusal(edit(make_template(), lambda wb: wb["Data"].merge_cells("I3:J4")), "m.xlsx")
    assert error.details[0].location["cell"] == "Data!I3:J4"
    assert "m.xlsx: Data!I3:J4 is a merged range" in error.message


def patch_sheet(data: bytes, old: bytes, new: bytes) -> bytes:
    """The workbook with raw XML of the Data sheet replaced, as a hand-crafted upload would be."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for member in src.infolist():
            body = src.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                assert old in body
                body = body.replace(old, new)
            dst.writestr(member, body)
    return out.getvalue()


@pytest.mark.parametrize("tag", [
    b'<mergeCell ref="A30:XFD1048576"/>',
    b"<mergeCell ref='&#65;30:XFD1048576'/>",
    b'<mergeCell ref="C:C"/>',
])
def test_huge_merged_range_is_refused_before_loading(tag):
    data = patch_sheet(make_template(), b"</worksheet>",
                       b'<mergeCells count="1">' + tag + b"</mergeCells></worksheet>")
    started = time.perf_counter()
    error = refusal(data, "huge.xlsx")
    assert time.perf_counter() - started < 5
    assert "huge.xlsx has merged cells covering more than 10000 cells" in error.message


def test_stray_far_cell_does_not_blow_up():
    def change(wb):
        wb["Data"]["XFD1048576"] = "x"
    started = time.perf_counter()
    frame = read_return_file(edit(make_template(), change), "far.xlsx")
    assert time.perf_counter() - started < 5
    assert len(frame) == len(template_rows())


def test_missing_data_sheet_names_the_sheets_found():
    def change(wb):
        wb["Data"].title = "Sheet1"
    error = refusal(edit(make_template(), change), "opct.xlsx")
    assert 'opct.xlsx has no sheet named "Data"' in error.message
    assert '"Sheet1", "Instructions"' in error.message


def test_extra_column_is_named_with_its_letter():
    def change(wb):
        wb["Data"]["M1"] = "Notes"
    error = refusal(edit(make_template(), change), "x.xlsx")
    assert error.details[0].location == {"file": "x.xlsx", "sheet": "Data", "row": 1,
                                         "column": "M", "cell": "Data!M1"}
    assert 'column M ("notes") is an extra column' in error.message


def test_missing_column_is_named():
    error = refusal(edit(make_template(), lambda wb: wb["Data"].delete_cols(12)), "x.xlsx")
    assert "missing the column(s) previous_value" in error.message
    assert error.message.startswith("x.xlsx:")


def test_reordered_columns_are_refused():
    def change(wb):
        ws = wb["Data"]
        ws["I1"], ws["J1"] = "comment", "value"
    error = refusal(edit(make_template(), change), "x.xlsx")
    assert 'wrong order: "comment" is in column I but belongs in column J' in error.message
    assert error.details[0].location["cell"] == "Data!I1"
    inserted = refusal(edit(make_template(), lambda wb: wb["Data"].insert_cols(3)), "x.xlsx")
    assert '"period" is in column D but belongs in column C' in inserted.message


def test_csv_renamed_xlsx_is_refused():
    error = refusal(f"{CSV_HEADER}\nSA01,default,042,2025Q3,5,\n".encode(), "r.xlsx")
    assert "r.xlsx is not an Excel .xlsx workbook" in error.message
    assert "CSV" in error.message


def test_legacy_xls_is_refused_with_advice():
    error = refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.xlsx")
    assert "old.xlsx" in error.message and "save it as .xlsx" in error.message
    assert error.details[0].location == {"file": "old.xlsx"}


@pytest.mark.parametrize("filename", ["e.xlsx", "e.csv"])
def test_empty_file_is_refused(filename):
    assert f"{filename} is empty (0 bytes)" in refusal(b"", filename).message


def test_header_only_files_have_no_data_rows():
    assert "h.xlsx has no data rows" in refusal(make_template([]), "h.xlsx").message
    error = refusal(f"{CSV_HEADER}\n\n,,,,,\n".encode(), "h.csv")
    assert "h.csv has no data rows" in error.message


def test_oversized_file_is_refused_with_sizes_in_mb():
    error = refusal(b"x" * (3 * 1024 * 1024 // 2), "big.csv", max_bytes=1024 * 1024)
    assert "big.csv is 1.5 MB, over the 1.0 MB limit" in error.message


def _bomb(member_mb: int, *, members: int = 1) -> bytes:
    """A zip whose members inflate to member_mb of zeros each, written in streaming chunks."""
    out = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for n in range(members):
            with zf.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as f:
                for _ in range(member_mb):
                    f.write(chunk)
    return out.getvalue()


def test_zip_bomb_is_refused_before_decompression():
    bomb = _bomb(210)
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        error = refusal(bomb, "bomb.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    assert "bomb.xlsx unpacks to 210.0 MB, over the 100.0 MB limit" in error.message
    assert MAX_UNCOMPRESSED_BYTES == 100 * 1024 * 1024


def test_small_uncompressed_limit_ratio_and_member_count():
    small = _bomb(3)
    assert "unpacks to 3.0 MB" in refusal(small, "b.xlsx", max_uncompressed=1024 * 1024).message
    assert "compressed" in refusal(small, "b.xlsx").message
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in range(1001):
            zf.writestr(f"p{n}.xml", b"")
    assert "b.xlsx holds 1001 parts" in refusal(out.getvalue(), "b.xlsx").message


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not a workbook"])
def test_corrupt_zip_is_refused_without_traceback(damage):
    data = make_template()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = b"PK\x03\x04" + b"\x13\x37" * 500
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            zf.writestr("readme.txt", "hello")
        data = out.getvalue()
    error = refusal(data, "c.xlsx")
    assert "c.xlsx is damaged or incomplete" in error.message


def test_wrong_extension_is_refused():
    error = refusal(b"%PDF-1.7", "report.PDF")
    assert "report.PDF: only .xlsx (Excel workbook) and .csv files are accepted" in error.message
    assert "save" not in error.message.lower()
    assert "Excel Workbook (.xlsx)" in refusal(b"x", "old.xls").message


def test_upper_case_extension_and_windows_path_are_accepted():
    frame = read_return_file(make_template(), "C:\\fakepath\\OPCT.XLSX")
    assert set(frame["file"]) == {"OPCT.XLSX"}


# ---------------------------------------------------------------- csv


def test_binary_csv_is_refused():
    error = refusal(make_template(), "data.csv")
    assert "data.csv: this is not a CSV file, it looks like an Excel workbook" in error.message
    assert "binary" in refusal(b"indicator\0option", "n.csv").message


def test_csv_reads_raw_text_with_locations():
    data = (f"{CSV_HEADER},explanation\r\n"
            'SA01,F_A70P,042,2025Q3,"1,234",,\r\n'
            "\r\n"
            "SA12.N,default,Kisumu,2025Q3,007,\"multi\nline\",why\r\n"
            "SA12.D,default,42,2025Q3,,,\r\n").encode()
    frame = read_return_file(data, "flat.csv")
    assert list(frame.columns) == list(CANONICAL_COLUMNS)
    assert list(frame["value"]) == ["1,234", "007", ""]
    assert list(frame["org_unit"]) == ["042", "Kisumu", "42"]
    assert list(frame["row"]) == [2, 4, 5]
    assert set(frame["column"]) == {"E"} and set(frame["sheet"]) == {""}
    assert list(frame["comment"]) == ["", "multi\nline", ""]
    assert list(frame["explanation"]) == ["", "why", ""]
    assert not frame.isna().any().any()


def test_csv_header_is_forgiving_about_case_spaces_bom_and_cp1252():
    data = ("\ufeffIndicator , OPTION,org_unit,period,value,comment\n"
            "SA01,default,042,2025Q3,5,Nairobi \u2013 caf\u00e9\n").encode("utf-8")
    frame = read_return_file(data, "bom.csv")
    assert frame["comment"].iloc[0] == "Nairobi \u2013 caf\u00e9"
    assert frame["explanation"].iloc[0] == ""
    windows = f"{CSV_HEADER}\nSA01,default,042,2025Q3,5,caf\u00e9 \u2013 ok\n".encode("cp1252")
    assert read_return_file(windows, "win.csv")["comment"].iloc[0] == "caf\u00e9 \u2013 ok"
    error = refusal(f"{CSV_HEADER}\n".encode() + b"SA01,default,042,2025Q3,5,\x81\x8d\xff\xfe\n",
                    "bad.csv")
    assert "bad.csv is neither UTF-8 nor Windows (cp1252) text" in error.message


def test_csv_wrong_field_count_names_every_row():
    data = f"{CSV_HEADER}\nSA01,default,042,2025Q3,5,\nSA02,default,042,2025Q3,1,234,x\nSA03\n"
    error = refusal(data.encode(), "f.csv")
    assert error.message == "f.csv: 2 problems; nothing was stored."
    assert [d.location for d in error.details] == [
        {"file": "f.csv", "sheet": "", "row": 3}, {"file": "f.csv", "sheet": "", "row": 4}]
    assert error.details[0].message.startswith("row 3 has 7 fields but the header has 6")


def test_csv_missing_and_extra_columns_are_named():
    error = refusal(b"indicator,option,org_unit,value,notes\nSA01,default,042,5,x\n", "c.csv")
    messages = text_of(error)
    assert 'column E ("notes") is an extra column' in messages
    assert "missing the column(s) period, comment" in messages
    assert error.message.startswith("c.csv: 2 problems")
    semicolons = refusal(b"indicator;option;org_unit;period;value;comment\n", "s.csv")
    assert "';'" in semicolons.message


def test_details_are_capped():
    rows = "".join(f"SA{n},default\n" for n in range(250))
    error = refusal(f"{CSV_HEADER}\n{rows}".encode(), "many.csv")
    assert len(error.details) == 200
    assert error.message == "many.csv: 250 problems (the first 200 are listed); nothing was stored."
