"""Editions of the reporting guidelines handbook (issue 21).

An edition keeps the content it was made from (`content`: the catalogue, forms and rules as plain
JSON), the catalogue version (`mel/catalogue/versioning.py catalogue_version`), what changed since the
previous edition (`changes`), and its rendered files (PDF and HTML, per language) exactly as they
were made: a previous edition is always downloadable unchanged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.catalogue.models import _in
from mel.db import Base, utcnow

FILE_FORMATS = ("pdf", "html")


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
