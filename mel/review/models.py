"""The MERL TWG's review: queries on single figures, and notifications to the people involved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.catalogue.models import _in
from mel.db import Base, utcnow
from mel.i18n import N_

QUERY_STATES = ("open", "answered", "closed")
QUERY_STATE_WORDS = {"open": N_("query open"), "answered": N_("query answered"), "closed": N_("query closed")}
RETURN_REASONS = {  # English, marked for the catalogue; translated where shown
    "missing_values": N_("Required figures are missing"),
    "inconsistent": N_("Figures are inconsistent with each other"),
    "outlier": N_("A figure is far from its history or from other counties"),
    "explanation": N_("An explanation is missing or not convincing"),
    "evidence": N_("Supporting evidence is needed"),
    "wrong_scope": N_("Figures belong to another period, county or programme"),
    "other": N_("Other (see the text)"),
}


class ValueQuery(Base):
    """A reviewer's question about one figure of a return, and its thread."""

    __tablename__ = "value_query"
    __table_args__ = (
        CheckConstraint(_in("status", QUERY_STATES), name="status_known"),
        Index("ix_value_query_figure", "return_id", "indicator_id", "component", "option_combo_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("data_return.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    component: Mapped[str] = mapped_column(String(12), default="value")
    option_combo_id: Mapped[int] = mapped_column(ForeignKey("option_combo.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    messages: Mapped[list[QueryMessage]] = relationship(
        back_populates="query", lazy="raise", order_by="QueryMessage.id"
    )


class QueryMessage(Base):
    """One message of a query thread (question, answer, correction, closing note); never edited."""

    __tablename__ = "query_message"
    __table_args__ = (
        CheckConstraint(_in("kind", ("question", "answer", "correction", "close")), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("value_query.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(12))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    query: Mapped[ValueQuery] = relationship(back_populates="messages", lazy="raise")


class Notification(Base):
    """An in-app notice for a user (and whether it was also e-mailed)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    dedupe_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_error: Mapped[str] = mapped_column(Text, default="")
