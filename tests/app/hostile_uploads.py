"""Hostile upload files, written in a streaming way: used by test_upload_limits.py and bench/uploads.py.

Each builder returns the file's bytes (at most a few MB compressed) while its sheet XML, shared
strings or CSV text may be tens of MB: what an attacker or an unlucky export can send.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterable, Iterator

from mel.returns.workbook import TEMPLATE_COLUMNS

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _header_row() -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in TEMPLATE_COLUMNS)
    return f'<row r="1">{cells}</row>'.encode()


def workbook(sheets: dict[str, Iterable[bytes]], *, shared_strings: Iterable[bytes] | None = None,
             dimension: str = "") -> bytes:
    """An .xlsx whose sheets' <sheetData> bodies (and shared strings) are streamed from chunks."""
    out = io.BytesIO()
    names = list(sheets)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT_SHEET}"/>'
                            for i in range(1, len(names) + 1))
        if shared_strings is not None:
            overrides += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT_STRINGS}"/>'
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' + overrides + "</Types>"))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
            f'.org/package/2006/relationships"><Relationship Id="rId1" Type="{_REL_NS}/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>'))
        sheet_list = "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>'
                             for i, n in enumerate(names, start=1))
        zf.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} xmlns:r="{_REL_NS}"><sheets>'
            f"{sheet_list}</sheets></workbook>"))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(names) + 1))
        if shared_strings is not None:
            rels += (f'<Relationship Id="rId{len(names) + 1}" Type="{_REL_NS}/sharedStrings" '
                     'Target="sharedStrings.xml"/>')
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
            f'.org/package/2006/relationships">{rels}</Relationships>'))
        for i, name in enumerate(names, start=1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                part.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}>'.encode())
                if dimension:
                    part.write(f'<dimension ref="{dimension}"/>'.encode())
                part.write(b"<sheetData>")
                for chunk in sheets[name]:
                    part.write(chunk)
                part.write(b"</sheetData></worksheet>")
        if shared_strings is not None:
            with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}>'.encode())
                for chunk in shared_strings:
                    part.write(chunk)
                part.write(b"</sst>")
    return out.getvalue()


def _batched(items: Iterator[str], size: int = 2000) -> Iterator[bytes]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def template_rows(rows: int, *, seed: int = 1) -> Iterator[bytes]:
    """The header row, then `rows` full template rows with random figures (a big legitimate sheet)."""
    rng = random.Random(seed)
    yield _header_row()

    def lines() -> Iterator[str]:
        for r in range(2, rows + 2):
            yield (f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{rng.randint(1, 47):03d}</t></is></c>'
                   f'<c r="C{r}" t="inlineStr"><is><t>2025Q3</t></is></c>'
                   f'<c r="E{r}" t="inlineStr"><is><t>SA{rng.randint(1, 99):02d}</t></is></c>'
                   f'<c r="I{r}"><v>{rng.randint(0, 99)}</v></c>'
                   f'<c r="J{r}" t="inlineStr"><is><t>c{rng.randint(0, 9)}</t></is></c></row>')
    yield from _batched(lines())


def tiny_cells(cells: int, *, per_row: int = 1000, seed: int = 2) -> Iterator[bytes]:
    """The header row, then `cells` tiny numeric cells without references (<c><v>n</v></c>)."""
    rng = random.Random(seed)
    yield _header_row()

    def lines() -> Iterator[str]:
        for start in range(0, cells, per_row):
            n = min(per_row, cells - start)
            yield "<row>" + "".join(f"<c><v>{rng.randint(0, 9)}</v></c>" for _ in range(n)) + "</row>"
    yield from _batched(lines(), 20)


def far_cells(rows: int) -> Iterator[bytes]:
    """The header row, then rows each holding a cell in column A and one in XFD (the last column)."""
    yield _header_row()
    yield from _batched(f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="XFD{r}"><v>2</v></c></row>'
                        for r in range(2, rows + 2))


def shared_strings(count: int, *, seed: int = 3) -> Iterator[bytes]:
    """`count` distinct shared strings."""
    rng = random.Random(seed)
    yield from _batched(f"<si><t>s{i}{rng.randint(0, 9)}</t></si>" for i in range(count))


def csv_rows(rows: int, *, seed: int = 4) -> bytes:
    """A flat return CSV with `rows` lines of distinct figures."""
    rng = random.Random(seed)
    lines = ["indicator,option,org_unit,period,value,comment"]
    lines += [f"SA{rng.randint(1, 99):02d},,0{rng.randint(10, 47)},2025Q3,{rng.randint(0, 10**6)},"
              for _ in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def csv_one_line(size: int) -> bytes:
    """The header, then one line of `size` bytes made of short comma-separated fields."""
    return b"indicator,option,org_unit,period,value,comment\n" + b"1," * (size // 2)


def csv_wide(columns: int, rows: int) -> bytes:
    """A CSV `columns` wide (the six known columns, then unknown ones) and `rows` lines long."""
    header = "indicator,option,org_unit,period,value,comment," + ",".join(f"x{i}" for i in range(columns - 6))
    line = "SA01,,030,2025Q3,1," + ",1" * (columns - 5)
    return (header + "\n" + "\n".join([line] * rows) + "\n").encode()
