"""Uploaded evidence PDFs: size-limited, type-checked (the `%PDF-` signature, and pypdf opens it and
counts its pages), kept once by SHA-256 in `evidence_file`.

A refused file leaves nothing stored: every check runs on the bytes in memory before a row is added.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.messages import N_, message, text
from mel.db import utcnow
from mel.errors import ErrorDetail, MelError, ValidationFailed
from mel.learning.models import EvidenceFile

PDF_SIGNATURE = b"%PDF-"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # MEL_EVIDENCE_MAX_BYTES
NAME_LIMIT = 255
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


@dataclass(frozen=True)
class CheckedPdf:
    """A PDF that passed the checks: its bytes, digest, size and page count, and the name it came with."""

    content: bytes
    sha256: str
    size: int
    pages: int
    name: str


def megabytes(size: int) -> str:
    """A size in megabytes as people read it: 20, 20.5, 0.1."""
    return f"{size / 1048576:.1f}".removesuffix(".0")


def size_words(size: int) -> str:
    """A file's size as people read it: 850 KB, 3.4 MB (at least 1 KB)."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{megabytes(size)} MB"


def file_name(raw: str | None, fallback: str = "evidence.pdf") -> str:
    """The name to keep and to offer on download: the last part of what the browser sent, without
    control characters or path separators, ending in .pdf."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub(" ", name).strip(" .") or fallback
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    if len(name) > NAME_LIMIT:
        name = name[: NAME_LIMIT - 4].rstrip() + ".pdf"
    return name


def _refused(words) -> ValidationFailed:
    said = text(words)
    return ValidationFailed(said, [ErrorDetail(said, {"field": "file"})])


def check_pdf(content: bytes, raw_name: str | None, limit: int) -> CheckedPdf:
    """The upload as a checked PDF, or ValidationFailed naming the field `file` and saying why."""
    name = file_name(raw_name)
    if len(content) > limit:
        raise _refused(message(N_("file: %(name)s is %(size)s MB; the limit is %(limit)s MB "
                                  "(MEL_EVIDENCE_MAX_BYTES). Compress it, or give a link to it instead; "
                                  "nothing was stored."), name=name, size=megabytes(len(content)),
                               limit=megabytes(limit)))
    if not content:
        raise _refused(message(N_("file: %(name)s is empty; nothing was stored."), name=name))
    if not content.startswith(PDF_SIGNATURE):
        raise _refused(message(N_("file: %(name)s is not a PDF (a PDF starts with %(signature)s); only PDF "
                                  "files are kept. Save the document as PDF and upload that; nothing was "
                                  "stored."), name=name, signature="%PDF-"))
    pages = _page_count(content, name)
    return CheckedPdf(content, hashlib.sha256(content).hexdigest(), len(content), pages, name)


def _page_count(content: bytes, name: str) -> int:
    """The number of pages pypdf reads, or ValidationFailed: a file that only looks like a PDF is refused."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a damaged file is refused below; pypdf's own warnings are noise
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        pages = len(reader.pages)
    except FileNotDecryptedError:
        raise _refused(message(N_("file: %(name)s is protected by a password; upload a copy without one. Nothing "
                                  "was stored."), name=name)) from None
    except Exception as error:  # noqa: BLE001 - any failure to read it means it is not a usable PDF
        raise _refused(message(N_("file: %(name)s starts like a PDF but cannot be read (%(problem)s); save it "
                                  "again as PDF and upload that. Nothing was stored."), name=name,
                               problem=" ".join(str(error).split())[:120] or type(error).__name__)) from None
    finally:
        quiet.setLevel(level)
    if pages < 1:
        raise _refused(message(N_("file: %(name)s has no pages; nothing was stored."), name=name))
    return pages


def stored(session: Session, checked: CheckedPdf, user) -> EvidenceFile:
    """The stored file with these bytes: the one already kept (same SHA-256), else a new row, flushed."""
    found = session.scalar(select(EvidenceFile).where(EvidenceFile.sha256 == checked.sha256))
    if found is not None:
        return found
    row = EvidenceFile(sha256=checked.sha256, size=checked.size, pages=checked.pages, content=checked.content,
                       uploaded_at=utcnow(), uploaded_by_id=getattr(user, "id", None))
    session.add(row)
    session.flush()
    return row


# --------------------------------------------------------------------------- the request body's bound

FORM_MARGIN = 1024 * 1024  # the form's other fields around the file
UPLOAD_ENDPOINTS = {"learning.evidence_new", "learning.evidence_edit", "learning_api.EvidenceFileOne"}


class TooLarge(MelError):
    status = 413
    code = "too_large"


def max_bytes(config) -> int:
    """MEL_EVIDENCE_MAX_BYTES: the largest PDF kept (20 MB by default)."""
    return int(config.get("EVIDENCE_MAX_BYTES") or DEFAULT_MAX_BYTES)


def raise_body_limit() -> None:
    """An evidence PDF may be larger than MEL_MAX_UPLOAD_MB: set these requests' bound before any hook
    reads the body (the app's own hooks parse forms for the CSRF check); a body over the bound is refused
    here, with the setting that bounds it, before anything is read."""
    from flask import current_app, request

    if request.method not in ("POST", "PUT") or request.endpoint not in UPLOAD_ENDPOINTS:
        return
    limit = max_bytes(current_app.config)
    bound = limit + FORM_MARGIN
    if (request.content_length or 0) > bound:
        raise TooLarge(text(message(N_("The upload (%(size)s MB) is over the %(limit)s MB limit of an evidence PDF "
                                       "(MEL_EVIDENCE_MAX_BYTES); nothing was read or stored. Compress the PDF, "
                                       "or give a link to it instead."),
                                    size=megabytes(request.content_length or 0), limit=megabytes(limit))))
    request.max_content_length = bound


def register_body_limit(blueprint) -> None:
    """Run `raise_body_limit` first of the app's before-request hooks (as mel/dhis2/datavalues.py does)."""
    def _first(state) -> None:
        hooks = state.app.before_request_funcs.setdefault(None, [])
        if raise_body_limit not in hooks:
            hooks.insert(0, raise_body_limit)

    blueprint.record_once(_first)


def download(item):
    """The item's PDF as a download: application/pdf, its file name, its SHA-256 (404 when it has none)."""
    from flask import send_file
    from sqlalchemy.orm import object_session

    from mel.errors import NotFound

    if item.file_id is None:
        raise NotFound(text(message(N_("Evidence item %(id)s has no uploaded PDF."), id=item.id)))
    session = object_session(item)
    row = session.execute(select(EvidenceFile.content, EvidenceFile.sha256).where(
        EvidenceFile.id == item.file_id)).one()
    response = send_file(io.BytesIO(row.content), mimetype="application/pdf", as_attachment=True,
                         download_name=item.file_name or f"evidence-{item.id}.pdf", max_age=0)
    response.headers["X-Content-SHA256"] = row.sha256
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
