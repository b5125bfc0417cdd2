"""What the scheduler did: one row per job run, with its outcome and duration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mel.catalogue.models import _in
from mel.db import Base, utcnow


class JobRun(Base):
    """One run of a scheduled job (by the scheduler, `mel jobs run` or the admin page)."""

    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint(_in("outcome", ("running", "ok", "error")), name="outcome_known"),
        Index("ix_job_run_job_started", "job_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(10), default="running")
    detail: Mapped[str] = mapped_column(Text, default="")
