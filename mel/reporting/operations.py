"""Generate, re-run and publish reports. Every run is kept with its parameters and its data.

`request_report` records a queued run; `execute` renders it (in a worker process, a thread or
inline, see executor.py) and commits its progress as it goes, so any web server can show it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
import traceback
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.compile import Thresholds
from mel import clock
from mel.catalogue.lookup import find_org_unit, load_catalogue
from mel.db import utcnow
from mel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mel.periods import quarter as parse_quarter
from mel.reporting.models import REPORT_KINDS, ReportRun
from mel.reporting.snapshot import gather
from mel.scopes import can_administer, sees_published_reports_only

log = logging.getLogger(__name__)


def thresholds(config) -> Thresholds:
    return Thresholds(config["STATUS_ON_TRACK"], config["STATUS_NEEDS_ATTENTION"])


def check_parameters(session: Session, *, kind: str, period: str, programme: str | None = None,
                     org_unit: str | None = None) -> dict:
    """The parameters of a report, resolved, or ValidationFailed naming the one that is wrong."""
    if kind not in REPORT_KINDS:
        raise ValidationFailed(f"kind: {kind!r} is not one of {', '.join(REPORT_KINDS)}.")
    quarter = parse_quarter(period)
    catalogue = load_catalogue(session)
    programme = (programme or "ALL").strip().upper()
    unit_code = "KE"
    if kind == "programme":
        if programme not in catalogue.programmes:
            raise ValidationFailed(f"programme: a programme report needs one of {', '.join(sorted(catalogue.programmes))}"
                                   f"; {programme!r} is not one.")
    else:
        programme = "ALL"
    if kind == "county":
        unit = find_org_unit(catalogue, org_unit or "")
        if unit is None or unit.level != 2:
            raise ValidationFailed(f"org_unit: a county profile needs a county (042, 42 or Kisumu); {org_unit!r} is not one.")
        unit_code = unit.code
    return {"kind": kind, "period": quarter.id, "programme": programme, "org_unit": unit_code,
            "title": _title(kind, quarter.label, programme, catalogue.org_units[unit_code].name)}


def request_report(session: Session, *, kind: str, period: str, programme: str | None = None,
                   org_unit: str | None = None, accessible: bool = False, user=None, trigger: str = "web") -> ReportRun:
    """Check the parameters and record a queued run (flushed, not committed)."""
    params = check_parameters(session, kind=kind, period=period, programme=programme, org_unit=org_unit)
    run = ReportRun(**params, is_accessible=accessible, trigger=trigger, requested_by_id=getattr(user, "id", None),
                    requested_at=utcnow())
    session.add(run)
    session.flush()
    return run


def _title(kind: str, label: str, programme: str, unit_name: str) -> str:
    from reports.model import KIND_TITLES

    scope = {"programme": programme, "county": f"{unit_name} County"}.get(kind, "Kenya")
    return f"{KIND_TITLES[kind]}: {scope}, {label}"


def rerun(session: Session, run: ReportRun, user=None, trigger: str = "web") -> ReportRun:
    """A new run from the same stored data: the same figures, whatever changed since."""
    if run.snapshot is None:
        raise Conflict(f"Report run {run.id} has no stored data to render again (it did not finish).")
    again = ReportRun(kind=run.kind, period=run.period, programme=run.programme, org_unit=run.org_unit,
                      is_accessible=run.is_accessible, trigger=trigger, title=run.title, snapshot=run.snapshot,
                      snapshot_sha256=run.snapshot_sha256, data_as_of=run.data_as_of, source_run_id=run.id,
                      requested_by_id=getattr(user, "id", None), requested_at=utcnow())
    session.add(again)
    session.flush()
    return again


def load_snapshot(run: ReportRun) -> dict:
    return json.loads(gzip.decompress(run.snapshot))


def _store_snapshot(run: ReportRun, snapshot: dict) -> None:
    raw = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    run.snapshot = gzip.compress(raw, mtime=0)
    run.snapshot_sha256 = hashlib.sha256(raw).hexdigest()
    if snapshot.get("data_as_of"):
        run.data_as_of = datetime.fromisoformat(snapshot["data_as_of"])


def reference(run: ReportRun) -> str:
    return f"Report run {run.id}" + (f" (from run {run.source_run_id})" if run.source_run_id else "")


def report_dir(config) -> Path:
    folder = Path(config.get("REPORTS_DIR") or Path(config["INSTANCE_DIR"]) / "reports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _progress(session: Session, run: ReportRun, percent: int, stage: str) -> None:
    run.progress, run.stage, run.heartbeat_at = percent, stage, utcnow()
    session.commit()


def execute(session: Session, run_id: int, config) -> ReportRun:
    """Render a queued run: gather (or reuse) its data, build, lay out, write; commits as it goes."""
    from reports.model import build
    from reports.render import render_pdf

    run = session.get(ReportRun, run_id)
    if run is None:
        raise NotFound(f"No report run {run_id}.")
    if run.state not in ("queued",):
        return run
    started = time.perf_counter()
    run.state, run.started_at = "running", utcnow()
    _progress(session, run, 5, "gathering the approved figures")
    try:
        if run.snapshot is None:
            catalogue = load_catalogue(session)
            snapshot = gather(session, catalogue, kind=run.kind, period=run.period, programme=run.programme,
                              org_unit=run.org_unit, thresholds=thresholds(config), generated_at=clock.local_now(config))
            _store_snapshot(run, snapshot)
        else:
            snapshot = load_snapshot(run)
        _progress(session, run, 25, "building the report")
        model = build(snapshot, is_draft=True, reference=reference(run), accessible=run.is_accessible)
        _progress(session, run, 35, "laying out the pages")
        rendered = render_pdf(model, workers=int(config.get("REPORT_WORKERS", 1)))
        _progress(session, run, 90, "saving the PDF")
        _save_pdf(run, rendered.pdf, config)
        run.page_count = rendered.pages
        run.state, run.progress, run.stage = "done", 100, "done"
    except Exception as exc:  # the run records why it failed; the caller goes on
        session.rollback()
        log.exception("report run %s failed", run_id)
        run = session.get(ReportRun, run_id)
        run.state, run.stage = "failed", "failed"
        run.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"[:4000]
    run.finished_at = utcnow()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    session.commit()
    return run


def _save_pdf(run: ReportRun, pdf: bytes, config, suffix: str = "draft") -> None:
    digest = hashlib.sha256(pdf).hexdigest()
    path = report_dir(config) / f"{run.id:06d}-{run.kind}-{run.period}-{suffix}-{digest[:12]}.pdf"
    if not path.exists():
        temporary = path.with_suffix(".part")
        temporary.write_bytes(pdf)
        temporary.replace(path)
    run.file_path, run.file_size, run.sha256 = str(path), len(pdf), digest


def publish(session: Session, run: ReportRun, user, config) -> ReportRun:
    """Render the run's data once more without the DRAFT mark and make it the immutable published copy."""
    from reports.model import build
    from reports.render import render_pdf

    if user is None or not can_administer(user):
        raise Forbidden("Only the secretariat publishes reports.")
    if run.is_published:
        raise Conflict(f"Report run {run.id} is already published (on {run.published_at:%d %B %Y}); it cannot change.")
    if run.state != "done" or run.snapshot is None:
        raise Conflict(f"Report run {run.id} is {run.state}; only a finished report can be published.")
    rendered = render_pdf(build(load_snapshot(run), is_draft=False, reference=reference(run),
                                accessible=run.is_accessible), workers=int(config.get("REPORT_WORKERS", 1)))
    _save_pdf(run, rendered.pdf, config, suffix="published")
    run.page_count = rendered.pages
    run.published_at, run.published_by_id = utcnow(), user.id
    session.flush()
    return run


def pdf_bytes(run: ReportRun) -> bytes:
    """The stored PDF, checked against its SHA-256 so a changed file is never served."""
    if run.state != "done" or not run.file_path:
        raise NotFound(f"Report run {run.id} has no PDF ({run.state}).")
    path = Path(run.file_path)
    if not path.exists():
        raise NotFound(f"The PDF of report run {run.id} is missing from {path.parent}.")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != run.sha256:
        raise Conflict(f"The PDF of report run {run.id} does not match its recorded SHA-256; it was not served.")
    return data


def visible_runs(session: Session, user, *, limit: int = 100) -> list[ReportRun]:
    """Report runs a user may see: viewers and officers only published ones."""
    query = select(ReportRun).order_by(ReportRun.id.desc()).limit(limit)
    if sees_published_reports_only(user):
        query = query.where(ReportRun.published_at.is_not(None))
    return list(session.scalars(query))


def get_visible(session: Session, user, run_id: int) -> ReportRun:
    run = session.get(ReportRun, run_id)
    if run is None or (sees_published_reports_only(user) and not run.is_published):
        raise NotFound(f"No report run {run_id}.")
    return run


STALE_SECONDS = 900


def effective_state(run: ReportRun) -> str:
    """A running report whose worker stopped sending heartbeats is shown as stopped."""
    if run.state == "running" and run.heartbeat_at is not None:
        beat = run.heartbeat_at if run.heartbeat_at.tzinfo else run.heartbeat_at.replace(tzinfo=utcnow().tzinfo)
        if (utcnow() - beat).total_seconds() > STALE_SECONDS:
            return "stopped"
    return run.state


def run_body(run: ReportRun, emails: dict[int, str] | None = None) -> dict:
    emails = emails or {}
    return {
        "id": run.id, "kind": run.kind, "title": run.title, "period": run.period, "programme": run.programme,
        "org_unit": run.org_unit, "accessible": run.is_accessible, "trigger": run.trigger,
        "state": effective_state(run), "progress": run.progress, "stage": run.stage, "error": run.error or None,
        "requested_by": emails.get(run.requested_by_id, "system") if run.requested_by_id else "system",
        "requested_at": run.requested_at.isoformat() if run.requested_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms, "page_count": run.page_count, "sha256": run.sha256 or None,
        "file_size": run.file_size, "data_as_of": run.data_as_of.isoformat() if run.data_as_of else None,
        "snapshot_sha256": run.snapshot_sha256 or None, "source_run_id": run.source_run_id,
        "published_at": run.published_at.isoformat() if run.published_at else None,
        "is_draft": not run.is_published,
    }
