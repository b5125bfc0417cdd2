"""The reporting tools pack: for one quarter, the Excel return template of every org unit of a
programme's form (or of every programme: a folder each), with the form's Indicators sheet and an
Instructions sheet, in one zip with a manifest (manifest.json and README.txt) recording the catalogue
version, the quarter, the programme, when it was made and each file's SHA-256.

Each template is the one the return page offers (`mel/returns/views.py return_template`): the same rows
(`queries.grids` with the reader: figures the reader may not see unapproved are left out), the same
guide (`mel/returns/template_guide.py`), so every file imports back through the normal upload.

Two steps: `plan_pack` reads everything from the database and decides who gets what (plain data, in the
reader's language); `stream_pack` then writes the zip file by file, handing each part on as soon as it is
written, so a pack of 47 counties × 9 programmes is never held whole in memory and no database work
happens while it streams. Templates are stored in the zip as they are (an .xlsx is compressed already).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from indicators.messages import N_, Gettext, message, period_label, say, text
from indicators.periods import Period
from mel import clock
from mel.accounts.models import User
from mel.catalogue.language import localised
from mel.catalogue.lookup import Catalogue
from mel.errors import ErrorDetail, Forbidden, NotFound, ValidationFailed
from mel.periods import quarter
from mel.returns import queries
from mel.returns.template_guide import Links, form_window_words, template_guide, template_title
from mel.returns.template_sheets import TemplateGuide
from mel.returns.workbook import TemplateRow, build_template
from mel.scopes import can_access, can_download_tools

ALL = "ALL"
MANIFEST = "manifest.json"
README = "README.txt"
MANIFEST_FORMAT = 1
NOT_YOURS = N_("The reporting tools are for those who report and review returns: officers (their own programmes), "
               "the MERL TWG and the secretariat.")
QUARTERS_AHEAD = 1  # packs are made up to the quarter after the one being reported


@dataclass(frozen=True)
class PackFile:
    """One template of the pack: where it goes in the zip and what it holds."""

    path: str
    programme: str
    org_unit: str
    org_unit_name: str
    title: str
    programme_name: str
    period_label: str
    rows: Sequence[TemplateRow]
    guide: TemplateGuide


@dataclass(frozen=True)
class Pack:
    """A planned pack: its files and what the manifest records, read and decided before any byte is written."""

    filename: str
    programme: str  # a programme's code, or ALL
    period: str
    period_label: str
    catalogue_version: str
    generated_at: datetime
    generated_by: str
    language: str
    files: Sequence[PackFile]
    programmes: dict[str, dict] = field(default_factory=dict)  # code -> name, window, org units
    readme_head: Sequence[str] = ()  # README.txt's words before its list of files (said in the pack's language)


def _programmes(catalogue: Catalogue, user: User, code: str, period: Period) -> list:
    """The programmes of the pack, each with the org units its templates are for; refusals name what is wrong."""
    if not can_download_tools(user):
        raise Forbidden(text(message(NOT_YOURS)))
    if code == ALL:
        chosen = [p for _, p in sorted(catalogue.programmes.items()) if can_download_tools(user, p.id)]
    else:
        programme = catalogue.programmes.get(code)
        if programme is None:
            raise NotFound(text(message(N_("Programme %(code)s is not known."), code=repr(code))))
        if not can_download_tools(user, programme.id):
            raise Forbidden(text(message(N_("You may not download the reporting tools of %(programme)s: officers "
                                            "download those of their own programmes."), programme=programme.code)))
        chosen = [programme]
    found = []
    for programme in chosen:
        form = catalogue.forms.get(programme.id)
        asked = form.org_units_in(period.id) if form else []
        units = [u for u in asked if can_access(user, programme.id, u)]
        if units:
            found.append((programme, units))
        elif code != ALL and not asked:
            raise NotFound(text(message(N_("The %(programme)s form asks no returns for %(period)s."),
                                        programme=programme.code, period=period_label(period))))
        elif code != ALL:
            raise Forbidden(text(message(N_("None of the org units the %(programme)s form asks returns of in "
                                            "%(period)s is yours."), programme=programme.code,
                                         period=period_label(period))))
    if not found:
        raise NotFound(text(message(N_("No programme you report for asks returns for %(period)s."),
                                    period=period_label(period))))
    return found


def plan_pack(session: Session, catalogue: Catalogue, user: User, *, programme: str, period: str, contact: str,
              links: Callable[[list], Links], catalogue_version: str, generated_at: datetime,
              gettext: Gettext | None = None, language: str = "en") -> Pack:
    """Everything a pack holds, read now: `programme` a code or ALL (the programmes the user may download),
    `period` a quarter; `links(grids)` gives each template's links; words said with `gettext`.

    Refused with a located 422 for a malformed quarter or one beyond the next (QUARTERS_AHEAD), 404 for an unknown programme or a form asking no
    returns that quarter, 403 for a programme (or org units) beyond the user's scope (`can_download_tools`).
    """
    code = (programme or "").strip().upper() or ALL
    asked_period = quarter(period)
    last = clock.reporting_quarter().shift(QUARTERS_AHEAD)
    if asked_period > last:
        said = text(message(N_("%(period)s is too far ahead: packs are made up to %(last)s, the quarter after the one "
                               "being reported (a later quarter's form may still change)."),
                            period=repr(asked_period.id), last=period_label(last)))
        raise ValidationFailed(said, [ErrorDetail(said, {"field": "period", "value": asked_period.id})])
    chosen = _programmes(catalogue, user, code, asked_period)
    nested = code == ALL
    files: list[PackFile] = []
    programmes: dict[str, dict] = {}
    for prog, units in chosen:
        grids = queries.grids(session, catalogue, prog, units, asked_period.id, reader=user)
        name = localised(prog)
        programmes[prog.code] = {"name": prog.name, "window": form_window_words(catalogue.forms[prog.id],
                                                                                asked_period.id),
                                 "org_units": [u.code for u in units]}
        for grid in grids:
            title = template_title([grid], gettext)
            guide = template_guide(catalogue, [grid], title=title, generated_at=generated_at, contact=contact,
                                   links=links([grid]), catalogue_version=catalogue_version, gettext=gettext)
            filename = f"{prog.code}_{grid.org_unit.code}_{asked_period.id}.xlsx"
            files.append(PackFile(f"{prog.code}/{filename}" if nested else filename, prog.code, grid.org_unit.code,
                                  grid.org_unit.name, title, name, grid.period_label, queries.template_rows([grid]),
                                  guide))
    said_period = say(period_label(asked_period), gettext)
    pack = Pack(f"tools_{code}_{asked_period.id}.zip", code, asked_period.id, said_period, catalogue_version,
                generated_at, user.email, language, files, programmes)
    return Pack(**{**pack.__dict__, "readme_head": _readme_head(pack, gettext)})


def _readme_head(pack: Pack, gettext: Gettext | None) -> list[str]:
    """README.txt before its list of files: what the pack is, for which quarter, from which catalogue."""
    def said(template: str, **params) -> str:
        return say(message(template, **params), gettext)

    scope = (said(N_("all programmes (a folder each)")) if pack.programme == ALL
             else f"{pack.programme} – {pack.programmes[pack.programme]['name']}")
    head = [
        said(N_("Reporting tools pack")),
        "",
        said(N_("Programme: %(programme)s"), programme=scope),
        said(N_("Quarter: %(period)s (%(code)s)"), period=pack.period_label, code=pack.period),
        said(N_("Catalogue version: %(version)s"), version=pack.catalogue_version),
        said(N_("Made at: %(time)s UTC, for %(person)s"), time=f"{pack.generated_at:%Y-%m-%d %H:%M:%S}",
             person=pack.generated_by),
        said(N_("Templates: %(count)s"), count=len(pack.files)),
        "",
    ]
    for code, found in pack.programmes.items():
        window = found["window"]
        head.append(said(N_("%(programme)s: the window opens on %(opens)s, the return is due on %(due)s and the "
                            "window closes on %(closes)s."), programme=code, opens=window["opens"],
                         due=window["due"], closes=window["closes"]))
    head += [
        "",
        said(N_("Each template is the Excel file of one return (programme, org unit, quarter). Fill in its Data "
                "sheet as its Instructions sheet says and upload it; the Indicators sheet defines every figure.")),
        said(N_("%(manifest)s records the same in a form programs read. The list below gives each file's SHA-256: "
                "check it with \"sha256sum -c README.txt\" (the lines above the list are ignored) or compare it "
                "with the manifest."), manifest=MANIFEST),
        "",
    ]
    return head


class _Sink(io.RawIOBase):
    """Where the zip is written: it keeps what was written since the last `take` (the zip is never seeked)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        chunk = bytes(data)
        self._parts.append(chunk)
        self._offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._offset

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _entry(path: str, when: datetime, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def manifest(pack: Pack, entries: Sequence[dict]) -> dict:
    """manifest.json: what the pack is and each file with its size and SHA-256."""
    return {"format": MANIFEST_FORMAT, "kind": "reporting_tools_pack", "catalogue_version": pack.catalogue_version,
            "period": pack.period, "period_label": pack.period_label, "programme": pack.programme,
            "programmes": pack.programmes, "generated_at": pack.generated_at.isoformat(timespec="seconds"),
            "generated_by": pack.generated_by, "language": pack.language, "files": list(entries)}


def stream_pack(pack: Pack) -> Iterator[bytes]:
    """The pack's zip, part by part: each template as soon as it is built, then the manifest and README."""
    sink = _Sink()
    entries = []
    with zipfile.ZipFile(sink, "w") as archive:
        for item in pack.files:
            data = build_template(item.rows, title=item.title, programme=item.programme_name,
                                  period_label=item.period_label, generated_at=pack.generated_at, guide=item.guide)
            archive.writestr(_entry(item.path, pack.generated_at, compress=False), data)
            entries.append({"path": item.path, "programme": item.programme, "org_unit": item.org_unit,
                            "org_unit_name": item.org_unit_name, "rows": len(item.rows), "size": len(data),
                            "sha256": hashlib.sha256(data).hexdigest()})
            yield sink.take()
        body = json.dumps(manifest(pack, entries), indent=2, ensure_ascii=False).encode()
        archive.writestr(_entry(MANIFEST, pack.generated_at, compress=True), body)
        listing = [f"{e['sha256']}  {e['path']}" for e in entries]
        listing.append(f"{hashlib.sha256(body).hexdigest()}  {MANIFEST}")
        readme = "\n".join([*pack.readme_head, *listing]) + "\n"
        archive.writestr(_entry(README, pack.generated_at, compress=True), readme.encode())
    yield sink.take()


def pack_bytes(pack: Pack) -> bytes:
    """The whole zip at once (the command line, tests)."""
    return b"".join(stream_pack(pack))

