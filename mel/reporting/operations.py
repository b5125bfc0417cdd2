"""Generate, re-run and publish reports. Every run is kept with its parameters and its data.

`request_report` records a queued run; `execute` renders it (in a worker process, a thread or
inline, see executor.py) and commits its progress as it goes, so any web server can show it.
Publishing goes the same way: `request_publish` records the request, `run_publish` makes the final
PDF as a job; `publish` does both at once for the CLI and the demo loader.
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

from sqlalchemy import update
from sqlalchemy.orm import Session

from indicators.compile import Thresholds
from indicators.messages import message, text
from mel import clock
from mel.accounts import audit
from mel.catalogue.lookup import find_org_unit, load_catalogue
from mel.db import utcnow
from mel.errors import Conflict, Forbidden, MelError, ValidationFailed
from mel.i18n import N_, report_catalogues
from mel.periods import quarter as parse_quarter
from mel.reporting import commentary
from mel.reporting.models import REPORT_KINDS, REPORT_LANGUAGES, ReportRun
from mel.reporting.queries import (
    day_words,
    is_publishing,
    load_snapshot,
    no_run,
    reference,
    state_words,
)
from mel.reporting.snapshot import gather
from mel.scopes import can_administer
from mel.unit_of_work import finish
from reports.allocation import collecting_less

log = logging.getLogger(__name__)


# The stages a run's page shows while it renders or publishes (English, stored on the run;
# translated where shown: the run page, the reports list and the page's progress script).
STAGES = (N_("waiting to start"), N_("waiting for a worker"), N_("gathering the approved figures"),
          N_("building the report"), N_("laying out the pages"), N_("saving the PDF"), N_("done"), N_("failed"),
          N_("building the final report"), N_("laying out the final pages"), N_("saving the final PDF"),
          N_("making it the published copy"), N_("trying again: the worker that had it stopped"))


def thresholds(config) -> Thresholds:
    return Thresholds(config["STATUS_ON_TRACK"], config["STATUS_NEEDS_ATTENTION"])




def check_parameters(session: Session, *, kind: str, period: str, programme: str | None = None,
                     org_unit: str | None = None, language: str | None = None) -> dict:
    """The parameters of a report, resolved, or ValidationFailed naming the one that is wrong."""
    if kind not in REPORT_KINDS:
        raise ValidationFailed(text(message(N_("kind: %(kind)s is not one of %(kinds)s."), kind=repr(kind),
                                            kinds=", ".join(REPORT_KINDS))))
    language = (language or "en").strip().lower()
    if language not in REPORT_LANGUAGES:
        raise ValidationFailed(text(message(N_("language: %(language)s is not one of %(languages)s (en English, sw "
                                               "Kiswahili)."), language=repr(language),
                                            languages=", ".join(REPORT_LANGUAGES))))
    quarter = parse_quarter(period)
    catalogue = load_catalogue(session)
    programme = (programme or "ALL").strip().upper()
    unit_code = "KE"
    if kind == "programme":
        if programme not in catalogue.programmes:
            raise ValidationFailed(text(message(N_("programme: a programme report needs one of %(programmes)s; "
                                                   "%(programme)s is not one."),
                                                programmes=", ".join(sorted(catalogue.programmes)),
                                                programme=repr(programme))))
    else:
        programme = "ALL"
    if kind == "county":
        unit = find_org_unit(catalogue, org_unit or "")
        if unit is None or unit.level != 2:
            raise ValidationFailed(text(message(N_("org_unit: a county profile needs a county (042, 42 or Kisumu); "
                                                   "%(org_unit)s is not one."), org_unit=repr(org_unit))))
        unit_code = unit.code
    return {"kind": kind, "period": quarter.id, "programme": programme, "org_unit": unit_code, "language": language,
            "title": _title(kind, quarter, programme, catalogue.org_units[unit_code].name, language)}


def request_report(session: Session, *, kind: str, period: str, programme: str | None = None,
                   org_unit: str | None = None, accessible: bool = False, user=None, trigger: str = "web",
                   language: str | None = None) -> ReportRun:
    """Check the parameters and record a queued run (flushed, not committed)."""
    params = check_parameters(session, kind=kind, period=period, programme=programme, org_unit=org_unit,
                              language=language)
    run = ReportRun(**params, is_accessible=accessible, trigger=trigger, requested_by_id=getattr(user, "id", None),
                    requested_at=utcnow())
    session.add(run)
    session.flush()
    return run


def _title(kind: str, quarter, programme: str, unit_name: str, language: str = "en") -> str:
    """The run's title in its language ("Social Protection Fact Sheet: Kenya, FY2025/26 Q1 (Jul–Sep 2025)")."""
    from reports.i18n import _, period_label
    from reports.model import KIND_TITLES

    with speaking_in(language):
        scope = {"programme": programme, "county": _("%(county)s County", county=unit_name)}.get(kind, "Kenya")
        return f"{_(KIND_TITLES[kind])}: {scope}, {period_label(quarter)}"


def rerun(session: Session, run: ReportRun, user=None, trigger: str = "web") -> ReportRun:
    """A new run from the same stored data: the same figures, whatever changed since."""
    if run.snapshot is None:
        raise Conflict(text(message(N_("Report run %(id)s has no stored data to render again (it did not finish)."),
                                    id=run.id)))
    again = ReportRun(kind=run.kind, period=run.period, programme=run.programme, org_unit=run.org_unit,
                      is_accessible=run.is_accessible, language=run.language, trigger=trigger, title=run.title, snapshot=run.snapshot,
                      snapshot_sha256=run.snapshot_sha256, data_as_of=run.data_as_of, source_run_id=run.id,
                      requested_by_id=getattr(user, "id", None), requested_at=utcnow())
    session.add(again)
    session.flush()
    return again


def _store_snapshot(run: ReportRun, snapshot: dict) -> None:
    raw = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    run.snapshot = gzip.compress(raw, mtime=0)
    run.snapshot_sha256 = hashlib.sha256(raw).hexdigest()
    if snapshot.get("data_as_of"):
        run.data_as_of = datetime.fromisoformat(snapshot["data_as_of"])


def speaking_in(language: str | None):
    """Build a report in `language` (reports/i18n.py), with the service's compiled catalogues."""
    from reports.i18n import speaking

    language = language or "en"
    return speaking(language, report_catalogues() if language != "en" else None)


def speaking_of(run: ReportRun):
    """Build a run's report in its language."""
    return speaking_in(run.language)


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
        raise no_run(run_id)
    if run.state not in ("queued",):
        return run
    started = time.perf_counter()
    run.state, run.started_at = "running", utcnow()
    _progress(session, run, 5, "gathering the approved figures")
    try:
        with collecting_less():  # one stretch of allocation-heavy work (reports/allocation.py)
            if run.snapshot is None:
                catalogue = load_catalogue(session)
                snapshot = gather(session, catalogue, kind=run.kind, period=run.period, programme=run.programme,
                                  org_unit=run.org_unit, thresholds=thresholds(config),
                                  generated_at=clock.local_now(config), language=run.language)
                _store_snapshot(run, snapshot)
            else:
                snapshot = load_snapshot(run)
            _progress(session, run, 25, "building the report")
            with speaking_of(run):
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


# --------------------------------------------------------------------------- publishing
# The web and the API ask (request_publish) and a job publishes (run_publish, through executor.start);
# the CLI and the demo loader publish inline (publish). All three share the checks and the last step.


def _check_publishable(run: ReportRun, user) -> None:
    if user is None or not can_administer(user):
        raise Forbidden(text(message(N_("Only the secretariat publishes reports."))))
    if run.is_published:
        raise Conflict(text(message(N_("Report run %(id)s is already published (on %(date)s); it cannot change."),
                                    id=run.id, date=day_words(run.published_at))))
    if run.state != "done" or run.snapshot is None:
        raise Conflict(text(message(N_("Report run %(id)s is %(state)s; only a finished report can be published."),
                                    id=run.id, state=state_words(run.state))))


def _check_not_publishing(run: ReportRun) -> None:
    if is_publishing(run):
        template = (N_("Report run %(id)s is already being published (asked at %(time)s); wait for it to finish: "
                       "its page shows the progress.") if run.publish_requested_at else
                    N_("Report run %(id)s is already being published (asked); wait for it to finish: its page shows "
                       "the progress."))
        when = f"{clock.local(run.publish_requested_at):%H:%M %Z}" if run.publish_requested_at else ""
        raise Conflict(text(message(template, id=run.id, **({"time": when} if when else {}))))


def request_publish(session: Session, run: ReportRun, user) -> ReportRun:
    """Record that `user` asks to publish a finished draft (flushed, not committed); the caller commits
    and starts the job (executor.start(app, run.id, "publish")). A second request while one is
    under way is a Conflict, even from two requests at the same moment."""
    _check_publishable(run, user)
    _check_not_publishing(run)
    claimed = session.execute(
        update(ReportRun).where(ReportRun.id == run.id, ReportRun.publish_state == run.publish_state,
                                ReportRun.published_at.is_(None))
        .values(publish_state="queued", publish_requested_by_id=user.id, publish_requested_at=utcnow(),
                publish_error="", progress=0, stage="waiting for a worker")
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise Conflict(text(message(N_("Report run %(id)s was asked to be published by someone else a moment ago; "
                                       "its page shows the progress."), id=run.id)))
    session.refresh(run)
    return run


def run_publish(session: Session, run_id: int, config) -> ReportRun:
    """The publishing job: make the final PDF of a run asked to be published, then publish it; commits
    as it goes (progress on the run, as `execute` does). A failure leaves the draft as it was and
    records why; nothing is published unless the final PDF was saved."""
    from mel.accounts.models import User

    run = session.get(ReportRun, run_id)
    if run is None:
        raise no_run(run_id)
    if run.publish_state != "queued" or run.is_published:
        return run  # published, failed, or another job has it
    user = session.get(User, run.publish_requested_by_id) if run.publish_requested_by_id else None
    run.publish_state = "running"
    _progress(session, run, 5, "building the final report")
    written: list[Path] = []
    try:
        _check_publishable(run, user)
        rendered = _render_final(run, config, lambda percent, stage: _progress(session, run, percent, stage))
        _progress(session, run, 95, "making it the published copy")
        _make_published(session, run, user, rendered, config, written)
        session.flush()
        finish(session, config)
    except Exception as exc:  # the run keeps its draft and says why; the caller goes on
        session.rollback()
        for path in written:  # a final PDF nothing points at
            path.unlink(missing_ok=True)
        if not isinstance(exc, MelError):
            log.exception("publishing report run %s failed", run_id)
        run = session.get(ReportRun, run_id)
        run.publish_state, run.progress, run.stage = "failed", 100, "done"
        run.publish_error = _publish_failure(run, exc)
        session.commit()
    return run


def _publish_failure(run: ReportRun, exc: Exception) -> str:
    if isinstance(exc, MelError):
        return f"{exc.message} Nothing was published; the draft is unchanged."
    return (f"The final PDF could not be made or saved ({type(exc).__name__}: {exc}). Nothing was published; "
            f"the draft is unchanged. Publish again to retry; if it fails again, give the administrator "
            f"the run's number ({run.id}): the log has the details.")[:4000]


def publish(session: Session, run: ReportRun, user, config) -> ReportRun:
    """Render the final PDF and publish it now, in this process (CLI, demo loader); flushes, the caller commits."""
    _check_publishable(run, user)
    _check_not_publishing(run)
    _make_published(session, run, user, _render_final(run, config), config)
    return run


def _render_final(run: ReportRun, config, progress=None):
    """The run's data laid out once more without the DRAFT mark."""
    from reports.model import build
    from reports.render import render_pdf

    with collecting_less(), speaking_of(run):
        model = build(load_snapshot(run), is_draft=False, reference=reference(run), accessible=run.is_accessible)
        if progress:
            progress(35, "laying out the final pages")
        rendered = render_pdf(model, workers=int(config.get("REPORT_WORKERS", 1)))
    if progress:
        progress(90, "saving the final PDF")
    return rendered


def _make_published(session: Session, run: ReportRun, user, rendered, config, written: list[Path] | None = None) -> None:
    """Save the final PDF and, in the same flush, make the run the immutable published copy; its
    recommendations become open actions; audited. Flushes."""
    before = run.file_path
    _save_pdf(run, rendered.pdf, config, suffix="published")
    if written is not None and run.file_path != before:
        written.append(Path(run.file_path))
    run.page_count = rendered.pages
    run.publish_state, run.progress, run.stage, run.publish_error = "done", 100, "done", ""
    run.publish_requested_by_id = run.publish_requested_by_id or user.id
    run.publish_requested_at = run.publish_requested_at or utcnow()
    run.published_at, run.published_by_id = utcnow(), user.id
    session.flush()  # one UPDATE: from now on the database refuses any change to the run
    commentary.publish_recommendations(session, load_catalogue(session), run, user)  # open actions
    audit.record(session, "report.published", actor=user, object=f"report run {run.id}",
                 details={"kind": run.kind, "period": str(run.period)})
