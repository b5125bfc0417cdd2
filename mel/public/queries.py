"""Which runs the public page may show: published ones only, and the one whose key figures it shows."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from indicators.messages import N_, message, text
from mel.errors import NotFound
from mel.reporting.models import ReportRun

# The kinds whose snapshot holds the sector's key figures and a county map, the fact sheet first
# (the short report written for the public), then the sector report.
FEATURED_KINDS = ("factsheet", "sector")


def published_runs(session: Session) -> list[ReportRun]:
    """Every published report run, latest quarter first (their snapshots are loaded only when read)."""
    return list(session.scalars(
        select(ReportRun).options(defer(ReportRun.snapshot))
        .where(ReportRun.published_at.is_not(None), ReportRun.state == "done")
        .order_by(ReportRun.period.desc(), ReportRun.published_at.desc(), ReportRun.id.desc())))


def featured_run(runs: list[ReportRun], language: str) -> ReportRun | None:
    """The run whose key figures the page shows: of the latest quarter with a published fact sheet or
    sector report, the one in the page's language if there is one, a fact sheet before a sector report,
    the latest published first."""
    candidates = [r for r in runs if r.kind in FEATURED_KINDS and r.is_published and r.snapshot_sha256]
    if not candidates:
        return None
    latest = max(r.period for r in candidates)
    return min((r for r in candidates if r.period == latest),
               key=lambda r: (r.language != language, FEATURED_KINDS.index(r.kind), -r.published_at.timestamp(),
                              -r.id))


def published_run(session: Session, run_id: int) -> ReportRun:
    """A published run, or NotFound: a draft, a run being published or a failed one is not public."""
    run = session.get(ReportRun, run_id, options=[defer(ReportRun.snapshot)])
    if run is None or not run.is_published or run.state != "done":
        raise NotFound(text(message(N_("No published report %(number)s."), number=run_id)))
    return run


def etag(runs: list[ReportRun], language: str, version: str) -> str:
    """What the page is made from: the published runs (their ids and checksums), the language, the release."""
    parts = [version, language] + [f"{r.id}:{r.sha256}:{r.snapshot_sha256}:{r.language}" for r in runs]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
