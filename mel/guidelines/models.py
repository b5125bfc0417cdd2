"""Editions of the reporting guidelines handbook (issue 21).

An edition keeps the content it was made from (`content`: the catalogue, forms and rules as plain
JSON), the catalogue version (`mel/catalogue/versioning.py catalogue_version`), what changed since the
previous edition (`changes`), and its rendered files (PDF and HTML, per language) exactly as they
were made: a previous edition is always downloadable unchanged.

A run is one request to make an edition, from the web, the API or the command line: its state while
the edition is made in the background (stage and progress), then the edition, or why it failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.catalogue.models import _in
from mel.db import Base, utcnow
from mel.reporting.models import RUN_STATES

FILE_FORMATS = ("pdf", "html")
IN_FLIGHT = ("queued", "running")  # a run in these states is making an edition (or waiting to)
_IN_FLIGHT_SQL = text("state IN ('queued', 'running')")


class HandbookEdition(Base):
    __tablename__ = "handbook_edition"
    __table_args__ = (CheckConstraint("number >= 1", name="number_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    catalogue_version: Mapped[str] = mapped_column(String(40))
    content: Mapped[dict] = mapped_column(JSON)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")  # why this edition (the secretariat's words)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    files: Mapped[list[HandbookFile]] = relationship(lazy="raise", order_by="HandbookFile.id",
                                                     cascade="all, delete-orphan")


class HandbookFile(Base):
    __tablename__ = "handbook_file"
    __table_args__ = (UniqueConstraint("edition_id", "language", "format"),
                      CheckConstraint(_in("format", FILE_FORMATS), name="format_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("handbook_edition.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    format: Mapped[str] = mapped_column(String(8))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandbookRun(Base):
    """One request to make an edition, and how its making went (mel/guidelines/operations.py `execute_run`).

    `number` and `catalogue_version` are what the edition will have, checked when it was asked for. While
    the run is queued or running no other may start (the partial unique index: two requests at the same
    moment ask for the same number); one that went quiet (mel/reporting/queries.py `went_quiet`) is
    recorded as failed when the next is asked for. `error` is in English, as the API gives it;
    `error_words` keeps its message as data (indicators/messages.py `as_data`) for a page to say it in
    its reader's language.
    """

    __tablename__ = "handbook_run"
    __table_args__ = (
        CheckConstraint(_in("state", RUN_STATES), name="state_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("state <> 'done' OR edition_id IS NOT NULL", name="done_has_edition"),
        Index("uq_handbook_run_in_flight", "number", unique=True, sqlite_where=_IN_FLIGHT_SQL,
              postgresql_where=_IN_FLIGHT_SQL),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    stage: Mapped[str] = mapped_column(String(120), default="waiting to start")  # English; translated where shown
    progress: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[list] = mapped_column(JSON)  # the languages asked for, e.g. ["en", "sw"]
    number: Mapped[int] = mapped_column(Integer)  # the number the edition will have
    catalogue_version: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the last sign of progress
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str] = mapped_column(Text, default="")  # in English, as the API gives it
    error_words: Mapped[Any | None] = mapped_column(JSON)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("handbook_edition.id"))

    @property
    def error_message(self) -> str:
        """Why it failed: English text that a page says again in its language (`said`)."""
        from indicators.messages import restored

        return restored(self.error_words, self.error)

    @property
    def last_sign(self) -> datetime | None:
        """When the run was last heard of: asked for while it waits, its last progress while it runs."""
        return self.created_at if self.state == "queued" else self.heartbeat_at if self.state == "running" else None
