"""Limits on uploaded files, checked before parsing: sizes, parts, cells, shared strings, merges.

An .xlsx is a zip of XML parts. Before openpyxl reads anything, `check_workbook` looks at the
declared sizes (zipfile never inflates a part beyond its declared size), then streams each part
once through a byte scanner that counts cells (`<c>` elements), shared strings (`<si>`) and
merged areas and stops as soon as a limit is passed. The readers count again while they stream
(mel/returns/workbook.py), so a file that passes the scan still cannot use more than the limits.

A refusal's words are a message (indicators/messages.py): English text, which the upload page says
in the reader's language.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import NoReturn

from openpyxl.utils import range_boundaries

from config import Config
from indicators.messages import N_, Message, Words, message, text
from mel.errors import ErrorDetail, ValidationFailed

MB = 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 200
MAX_MERGED_CELLS = 10_000
MAX_LINE_CHARS = 1_000_000  # one CSV line; a template row is under 1 000
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_CHUNK = MB
# Elements, with or without a namespace prefix: <c r="A1">, <x:c>, <c/>; <si>; <mergeCell ref=...>.
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([^\"']*)")
DAMAGED = N_("%(name)s is damaged or incomplete and could not be opened as an Excel workbook (the "
             "download or upload may have been cut off); open it in Excel, save it as .xlsx and "
             "upload it again.")
SPLIT = N_("split the file (by quarter, programme or county) and upload each part, or send the "
           "figures through the API (POST /api/v1/returns:import)")


@dataclass(frozen=True)
class UploadLimits:
    """What an uploaded file may hold (config.py: MEL_MAX_UPLOAD_MB, MEL_UPLOAD_MAX_*)."""

    max_bytes: int = Config.MAX_UPLOAD_MB * MB
    max_unpacked: int = Config.UPLOAD_MAX_UNPACKED_MB * MB
    max_part: int = Config.UPLOAD_MAX_SHEET_MB * MB
    max_cells: int = Config.UPLOAD_MAX_CELLS
    max_rows: int = Config.UPLOAD_MAX_ROWS

    @classmethod
    def from_config(cls, config) -> UploadLimits:
        return cls(int(config["MAX_UPLOAD_MB"]) * MB, int(config["UPLOAD_MAX_UNPACKED_MB"]) * MB,
                   int(config["UPLOAD_MAX_SHEET_MB"]) * MB, int(config["UPLOAD_MAX_CELLS"]),
                   int(config["UPLOAD_MAX_ROWS"]))


def refuse(name: str, said: Words | str, **where: object) -> NoReturn:
    """Raise a file-level refusal (`said`: a message, or text as it is)."""
    words = said if isinstance(said, str) else text(said)
    raise ValidationFailed(words, [ErrorDetail(words, {"file": name, **where})])


def damaged(name: str) -> Message:
    return message(DAMAGED, name=name)


def check_size(data: bytes, name: str, limits: UploadLimits) -> None:
    """Refuse an empty file or one over the upload size."""
    if not data:
        refuse(name, message(N_("%(name)s is empty (0 bytes); choose the filled-in file and upload it again."),
                             name=name))
    if len(data) > limits.max_bytes:
        refuse(name, message(N_("%(name)s is %(size)s MB, over the %(limit)s MB limit (MEL_MAX_UPLOAD_MB); "
                                "%(split)s."),
                             name=name, size=f"{len(data) / MB:.1f}", limit=f"{limits.max_bytes / MB:.1f}",
                             split=Message(SPLIT)))


def too_many_cells(name: str, where: Words | str, limits: UploadLimits) -> NoReturn:
    refuse(name, message(N_("%(name)s has more than %(limit)s cells (%(where)s), over the limit "
                            "(MEL_UPLOAD_MAX_CELLS); %(split)s."),
                         name=name, limit=f"{limits.max_cells:,}", where=where, split=Message(SPLIT)))


def too_many_rows(name: str, where: Words | str, limits: UploadLimits) -> NoReturn:
    refuse(name, message(N_("%(name)s has more than %(limit)s data rows (%(where)s), over the limit "
                            "(MEL_UPLOAD_MAX_ROWS); %(split)s."),
                         name=name, limit=f"{limits.max_rows:,}", where=where, split=Message(SPLIT)))


def check_workbook(data: bytes, name: str, limits: UploadLimits) -> None:
    """Refuse non-zip, damaged, bomb-like or oversized workbooks before openpyxl reads anything."""
    if data.startswith(OLE_MAGIC):
        refuse(name, message(N_("%(name)s is an old-style Excel .xls file (or a password-protected workbook); "
                                "open it in Excel, remove any password and save it as .xlsx (Excel Workbook)."),
                             name=name))
    if not data.startswith(ZIP_MAGIC):
        kind = N_("a CSV or text file") if b"\0" not in data[:4096] else N_("some other kind of file")
        refuse(name, message(N_("%(name)s is not an Excel .xlsx workbook (it looks like %(kind)s); upload the "
                                "template saved as .xlsx, or name a CSV file .csv."), name=name, kind=Message(kind)))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except Exception:  # any zip parse failure means a damaged file, never a traceback
        refuse(name, damaged(name))
    if len(members) > MAX_ZIP_MEMBERS:
        refuse(name, message(N_("%(name)s holds %(parts)s parts, more than an Excel workbook plausibly has "
                                "(%(limit)s); upload the template saved from Excel."),
                             name=name, parts=len(members), limit=MAX_ZIP_MEMBERS))
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked:
        refuse(name, message(N_("%(name)s unpacks to %(size)s MB, over the %(limit)s MB limit "
                                "(MEL_UPLOAD_MAX_UNPACKED_MB); remove unrelated sheets, or %(split)s."),
                             name=name, size=f"{total / MB:.1f}", limit=f"{limits.max_unpacked / MB:.1f}",
                             split=Message(SPLIT)))
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > MB and ratio > MAX_COMPRESSION_RATIO:
            refuse(name, message(N_("%(name)s has a part (%(part)s) compressed %(ratio)s times, which is not a "
                                    "normal workbook; upload the template saved from Excel."),
                                 name=name, part=m.filename, ratio=f"{ratio:.0f}"))
        if m.file_size > limits.max_part and not m.filename.lower().endswith(_BINARY_PARTS):
            refuse(name, message(N_("%(name)s: %(part)s is %(size)s MB of XML unpacked, over the %(limit)s MB "
                                    "limit (MEL_UPLOAD_MAX_SHEET_MB); %(split)s."),
                                 name=name, part=_part_label(m.filename), size=f"{m.file_size / MB:.1f}",
                                 limit=f"{limits.max_part / MB:.0f}", split=Message(SPLIT)), part=m.filename)
    scan = _Scan(name, limits)
    # Every part, not just xl/worksheets/: the workbook's rels may point a sheet anywhere.
    for m in members:
        if not m.filename.lower().endswith(_BINARY_PARTS):
            scan.part(zf, m)


_BINARY_PARTS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf", ".bin", ".tif", ".tiff")


def _part_label(filename: str) -> Message:
    if "sharedstrings" in filename.lower():
        return message(N_("the shared text table (%(part)s)"), part=filename)
    return message(N_("the part %(part)s"), part=filename)


class _Scan:
    """Counts cells, shared strings and merged areas across parts, stopping at the first limit."""

    def __init__(self, name: str, limits: UploadLimits) -> None:
        self.name, self.limits = name, limits
        self.cells = self.strings = self.merged = 0

    def part(self, zf: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
        try:
            with zf.open(member) as stream:
                pending = b""
                first = True
                while chunk := stream.read(_CHUNK):
                    if first and (chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\0" in chunk[:64]):
                        # UTF-16 XML would hide its elements from this scan; Excel writes UTF-8.
                        refuse(self.name, message(N_("%(name)s: the part %(part)s is not UTF-8 XML, which is "
                                                     "not a normal workbook; open the file in Excel and save "
                                                     "it as .xlsx."), name=self.name, part=member.filename))
                    first = False
                    text = pending + chunk
                    cut = text.rfind(b">") + 1  # scan whole tags only; the rest waits for the next chunk
                    self._count(text[:cut], member.filename)
                    pending = text[cut:]
                self._count(pending, member.filename)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
            return  # a damaged part: openpyxl decides whether it matters, and the reader counts again

    def _count(self, text: bytes, part: str) -> None:
        if not text:
            return
        self.cells += len(_CELL.findall(text))
        if self.cells > self.limits.max_cells:
            too_many_cells(self.name, message(N_("counted up to %(part)s"), part=part), self.limits)
        self.strings += len(_STRING.findall(text))
        if self.strings > self.limits.max_cells:
            refuse(self.name, message(N_("%(name)s holds more than %(limit)s different texts (its shared text "
                                         "table, %(part)s), over the cell limit (MEL_UPLOAD_MAX_CELLS); %(split)s."),
                                      name=self.name, limit=f"{self.limits.max_cells:,}", part=part,
                                      split=Message(SPLIT)), part=part)
        for match in _MERGE.finditer(text):
            # Attribute values may spell characters as references (&#65;30 is A30).
            ref = html.unescape(match.group(1).decode("utf-8", "replace"))
            try:
                lo_col, lo_row, hi_col, hi_row = range_boundaries(ref)
            except (ValueError, TypeError):  # openpyxl ignores or rejects it on load too
                continue
            # Open-ended refs (A:A, 3:3) span the whole sheet, as openpyxl would expand them.
            self.merged += ((hi_col or 16384) - (lo_col or 1) + 1) * ((hi_row or 1048576) - (lo_row or 1) + 1)
            if self.merged > MAX_MERGED_CELLS:
                refuse(self.name, message(N_("%(name)s has merged cells covering more than %(limit)s cells "
                                             "(range %(range)s); unmerge them (Home > Merge & Center) and upload "
                                             "again."), name=self.name, limit=MAX_MERGED_CELLS, range=ref))


def check_upload(data: bytes, filename: str, limits: UploadLimits) -> None:
    """The checks that need no parsing (size; an .xlsx's parts, cells and merges): before queueing a file."""
    name = filename.replace("\\", "/").rpartition("/")[2] or "upload"
    check_size(data, name, limits)
    if name.lower().endswith(".xlsx"):
        check_workbook(data, name, limits)
