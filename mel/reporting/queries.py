"""Reads of report runs: which runs a user may see, their state and body, their PDF and figures."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, object_session

from indicators.messages import N_, Joined, Message, message, text
from mel.db import utcnow
from mel.errors import Conflict, NotFound
from mel.reporting.models import ReportRun
from mel.scopes import sees_published_reports_only

MONTH_NAMES = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
               N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


def day_words(moment) -> Joined:
    """A date as the messages write it ("05 August 2025", `%d %B %Y`), its month said in the reader's language."""
    return Joined(" ", (f"{moment:%d}", Message(MONTH_NAMES[moment.month - 1]), str(moment.year)))


RUN_STATES = {"queued": N_("queued"), "running": N_("running"), "done": N_("done"), "failed": N_("failed")}


def state_words(state: str):
    """A run's state as messages quote it ("failed"), in the reader's language when it is a known one."""
    return Message(RUN_STATES[state]) if state in RUN_STATES else state


def no_run(run_id: int) -> NotFound:
    return NotFound(text(message(N_("No report run %(id)s."), id=run_id)))


def load_snapshot(run: ReportRun) -> dict:
    return json.loads(gzip.decompress(run.snapshot))


def reference(run: ReportRun) -> str:
    """ "Report run 12 (from run 9)", in the language of the report being built (reports/i18n.py)."""
    from reports.i18n import _

    if run.source_run_id:
        return _("Report run %(id)s (from run %(source)s)", id=run.id, source=run.source_run_id)
    return _("Report run %(id)s", id=run.id)


def pdf_bytes(run: ReportRun) -> bytes:
    """The stored PDF, checked against its SHA-256 so a changed file is never served."""
    if run.state != "done" or not run.file_path:
        raise NotFound(text(message(N_("Report run %(id)s has no PDF (%(state)s)."), id=run.id, state=state_words(run.state))))
    path = Path(run.file_path)
    if not path.exists():
        raise NotFound(text(message(N_("The PDF of report run %(id)s is missing from %(folder)s."), id=run.id,
                                    folder=str(path.parent))))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != run.sha256:
        raise Conflict(text(message(N_("The PDF of report run %(id)s does not match its recorded SHA-256; it was not "
                                       "served."), id=run.id)))
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
        raise no_run(run_id)
    return run


STALE_SECONDS = 900


def went_quiet(since) -> bool:
    """Whether background work last heard of at `since` has gone quiet: no sign of it for STALE_SECONDS
    (its process was stopped, its server restarted, no worker took it). The one rule for report runs,
    their publishing and handbook runs (mel/guidelines/queries.py): such work shows as stopped and may be
    asked again."""
    if since is None:
        return False
    since = since if since.tzinfo else since.replace(tzinfo=utcnow().tzinfo)
    return (utcnow() - since).total_seconds() > STALE_SECONDS


def effective_state(run: ReportRun) -> str:
    """A running report whose worker stopped sending heartbeats is shown as stopped."""
    if run.state == "running" and went_quiet(run.heartbeat_at):
        return "stopped"
    return run.state


PUBLISH_PENDING = ("queued", "running")


def publish_state(run: ReportRun) -> str | None:
    """Where publishing a run stands: None (never asked), queued, running, failed, done, or stopped
    when its job went quiet (no heartbeat, or still waiting, after STALE_SECONDS): it may be asked again."""
    if run.is_published:
        return "done"
    state = run.publish_state or None
    since = run.heartbeat_at if state == "running" else run.publish_requested_at if state == "queued" else None
    return "stopped" if went_quiet(since) else state


def is_publishing(run: ReportRun) -> bool:
    """Whether a job is making the run's final PDF now: the run must not change meanwhile."""
    return publish_state(run) in PUBLISH_PENDING


def queue_position(session: Session, run: ReportRun) -> tuple[int, int]:
    """(k, n): the run is k-th of the n runs waiting to render, oldest first (0, n when not waiting)."""
    # One statement, so both counts see the same moment: a worker taking a run between two counts
    # made the last of six read "5 of 6" (seen on PostgreSQL in CI).
    waiting, ahead = session.execute(
        select(func.count(), func.coalesce(func.sum(case((ReportRun.id < run.id, 1), else_=0)), 0))
        .select_from(ReportRun).where(ReportRun.state == "queued")).one()
    if run.state != "queued":
        return 0, waiting or 0
    return (ahead or 0) + 1, waiting or 0


def run_body(run: ReportRun, emails: dict[int, str] | None = None) -> dict:
    emails = emails or {}
    position, waiting = (0, 0)
    if run.state == "queued":
        session = object_session(run)
        if session is not None:
            position, waiting = queue_position(session, run)
    return {
        "id": run.id, "kind": run.kind, "title": run.title, "period": run.period, "programme": run.programme,
        "org_unit": run.org_unit, "accessible": run.is_accessible, "language": run.language or "en",
        "trigger": run.trigger,
        "state": effective_state(run), "progress": run.progress, "stage": run.stage, "error": run.error or None,
        "requested_by": emails.get(run.requested_by_id, "system") if run.requested_by_id else "system",
        "requested_at": run.requested_at.isoformat() if run.requested_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms, "page_count": run.page_count, "sha256": run.sha256 or None,
        "file_size": run.file_size, "data_as_of": run.data_as_of.isoformat() if run.data_as_of else None,
        "snapshot_sha256": run.snapshot_sha256 or None, "source_run_id": run.source_run_id,
        "published_at": run.published_at.isoformat() if run.published_at else None,
        "is_draft": not run.is_published,
        "publish_state": publish_state(run), "publish_error": run.publish_error or None,
        "publish_requested_by": emails.get(run.publish_requested_by_id, "system") if run.publish_requested_by_id
        else None,
        "publish_requested_at": run.publish_requested_at.isoformat() if run.publish_requested_at else None,
        "position": position or None, "waiting": waiting or None,
    }
