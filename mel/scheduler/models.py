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


class SchedulerLease(Base):
    """Which scheduler process is active: the holder renews it; another takes over when it expires."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# APScheduler's SQLAlchemyJobStore table, declared here so that migrations own it.
from sqlalchemy import Column, Float, LargeBinary, Table, Unicode  # noqa: E402

apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
