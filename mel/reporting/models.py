"""Generated reports: each run keeps its parameters, who and when, the PDF's checksum and the data it used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mel.catalogue.models import _in
from mel.db import Base, utcnow

REPORT_KINDS = ("sector", "programme", "county", "factsheet")
RUN_STATES = ("queued", "running", "done", "failed")
# Publishing a finished draft: "" never asked; queued and running while its job makes the final PDF;
# failed (publish_error says why; the draft is unchanged); done once published_at is set.
REPORT_LANGUAGES = ("en", "sw")  # mel/i18n.py LANGUAGES; a quarter's report may be published in each
PUBLISH_STATES = ("", "queued", "running", "failed", "done")


class ReportRun(Base):
    """One generation of a report, from the web, the CLI or the scheduler.

    `snapshot` holds the compiled figures the report was built from (gzip-compressed JSON), so
    rendering it again later prints the same numbers whatever happened to the data since.
    A published run is immutable: the database refuses any change to it. Publishing runs as a
    job (`publish_state`); while it renders, `progress` and `stage` follow it as they followed the
    generation, and `published_at` is set only with the saved final PDF.
    """

    __tablename__ = "report_run"
    __table_args__ = (
        CheckConstraint(_in("kind", REPORT_KINDS), name="kind_known"),
        CheckConstraint(_in("state", RUN_STATES), name="state_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint(_in("publish_state", PUBLISH_STATES), name="publish_state_known"),
        CheckConstraint(_in("language", REPORT_LANGUAGES), name="language_known"),
        Index("ix_report_run_kind_period", "kind", "period"),
        Index("ix_report_run_state", "state"),  # the queue's position: queued runs in order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    period: Mapped[str] = mapped_column(String(12))
    programme: Mapped[str] = mapped_column(String(20), default="ALL")
    org_unit: Mapped[str] = mapped_column(String(12), default="KE")
    is_accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    trigger: Mapped[str] = mapped_column(String(12), default="web")  # web | cli | schedule | api
    title: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(120), default="waiting to start")
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    file_path: Mapped[str] = mapped_column(String(400), default="")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    data_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary)
    snapshot_sha256: Mapped[str] = mapped_column(String(64), default="")
    source_run_id: Mapped[int | None] = mapped_column(ForeignKey("report_run.id"))  # a re-run of this run
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    publish_state: Mapped[str] = mapped_column(String(10), default="")
    publish_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    publish_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    publish_error: Mapped[str] = mapped_column(Text, default="")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
