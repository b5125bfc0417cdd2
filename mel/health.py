"""`GET /healthz` for the load balancer: can this node serve?

Answers 200 when the database answers, its schema is at the migrations' head and the reports
folder's disk has at least `MEL_HEALTH_MIN_FREE_MB` free; otherwise 503, so the balancer stops
sending people to a node that would fail them. The scheduler runs in its own process: a lapsed
scheduler lease is reported ("degraded", still 200), because web requests are served without it.
No sign-in; nothing but these facts is shown.
"""

from __future__ import annotations

import shutil

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text

from mel.db import db, utcnow

bp = Blueprint("health", __name__)


def _database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure of the database is the answer
        db.session.rollback()
        return {"ok": False, "detail": type(exc).__name__}


def _migrations() -> dict:
    from alembic.runtime.migration import MigrationContext

    from mel.migrate import heads

    try:  # on the request's own connection (SQLite's writer lock is the session's)
        current, head = MigrationContext.configure(db.session.connection()).get_current_revision(), heads()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return {"ok": False, "detail": type(exc).__name__}
    return {"ok": current in head, "revision": current, "head": head[0] if head else None}


def _scheduler() -> dict:
    from mel.scheduler.models import SchedulerLease
    from mel.scheduler.process import LEASE

    try:
        until = db.session.scalar(select(SchedulerLease.expires_at).where(SchedulerLease.name == LEASE))
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return {"ok": False, "detail": type(exc).__name__}
    if until is None:
        return {"ok": False, "detail": "no scheduler has started"}
    if until.tzinfo is None:  # SQLite gives naive UTC
        from datetime import UTC

        until = until.replace(tzinfo=UTC)
    alive = until >= utcnow()
    return {"ok": alive, "lease_until": until.isoformat(timespec="seconds")}


def _disk() -> dict:
    from mel.reporting.operations import report_dir

    try:
        free_mb = shutil.disk_usage(report_dir(current_app.config)).free // (1024 * 1024)
    except OSError as exc:
        return {"ok": False, "detail": type(exc).__name__}
    return {"ok": free_mb >= int(current_app.config["HEALTH_MIN_FREE_MB"]), "free_mb": int(free_mb)}


@bp.route("/healthz")
def healthz():
    checks = {"database": _database()}
    checks["migrations"] = _migrations() if checks["database"]["ok"] else {"ok": False, "detail": "no database"}
    checks["scheduler"] = _scheduler() if checks["database"]["ok"] else {"ok": False, "detail": "no database"}
    checks["disk"] = _disk()
    serving = all(checks[name]["ok"] for name in ("database", "migrations", "disk"))
    status = "fail" if not serving else ("ok" if checks["scheduler"]["ok"] else "degraded")
    response = jsonify({"status": status, "checks": checks})
    response.status_code = 200 if serving else 503
    response.headers["Cache-Control"] = "no-store"
    return response
