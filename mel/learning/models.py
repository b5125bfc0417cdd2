"""Learning questions and evidence items (issue 21).

An evidence item keeps what it is (kind, title, authors and agency, date), where to read it (a link,
an uploaded PDF kept in `evidence_file`, or both) and what it found (`key_findings`), and is linked to
the indicators, results-framework nodes and learning questions it speaks to. Nothing is deleted:
an item is withdrawn (`withdrawn_at`, with a reason) and stays in the register's history; the audit
keeps every change.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.catalogue.models import Indicator, MetadataMixin, ResultsNode, _in, kiswahili
from mel.db import Base

EVIDENCE_KINDS = ("evaluation", "study", "policy_brief", "twg_record", "other")
QUESTION_STATUSES = ("open", "answered", "retired")

evidence_indicator = Table(
    "evidence_indicator", Base.metadata,
    Column("evidence_id", ForeignKey("evidence_item.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicator.id"), primary_key=True, index=True),
)
evidence_node = Table(
    "evidence_node", Base.metadata,
    Column("evidence_id", ForeignKey("evidence_item.id", ondelete="CASCADE"), primary_key=True),
    Column("node_id", ForeignKey("results_node.id"), primary_key=True, index=True),
)
evidence_question = Table(
    "evidence_question", Base.metadata,
    Column("evidence_id", ForeignKey("evidence_item.id", ondelete="CASCADE"), primary_key=True),
    Column("question_id", ForeignKey("learning_question.id"), primary_key=True, index=True),
)
question_node = Table(
    "learning_question_node", Base.metadata,
    Column("question_id", ForeignKey("learning_question.id", ondelete="CASCADE"), primary_key=True),
    Column("node_id", ForeignKey("results_node.id"), primary_key=True, index=True),
)


class LearningQuestion(MetadataMixin, Base):
    """A question of the sector's learning agenda ("Does the top-up reach households in drought
    counties in time?"), tied to the results-framework nodes it is about."""

    __tablename__ = "learning_question"
    __table_args__ = (CheckConstraint(_in("status", QUESTION_STATUSES), name="status_known"),
                      CheckConstraint("question <> ''", name="question_given"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # LQ01
    question: Mapped[str] = mapped_column(Text)
    question_sw: Mapped[str] = kiswahili()
    why: Mapped[str] = mapped_column(Text, default="")  # why it matters, who asked it
    status: Mapped[str] = mapped_column(String(10), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")  # what the evidence says so far
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    nodes: Mapped[list[ResultsNode]] = relationship(secondary=question_node, lazy="raise",
                                                    order_by=ResultsNode.sort_order)


class EvidenceFile(Base):
    """An uploaded PDF, kept once by its SHA-256 (two items may cite the same file)."""

    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EvidenceItem(MetadataMixin, Base):
    """One piece of evidence in the register."""

    __tablename__ = "evidence_item"
    __table_args__ = (CheckConstraint(_in("kind", EVIDENCE_KINDS), name="kind_known"),
                      CheckConstraint("title <> ''", name="title_given"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(400))
    authors: Mapped[str] = mapped_column(String(400), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    link: Mapped[str] = mapped_column(String(1000), default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_file.id"))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    key_findings: Mapped[str] = mapped_column(Text, default="")
    key_findings_sw: Mapped[str] = kiswahili()
    # A TWG meeting's record points at its meeting (mel/meetings/models.py).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("twg_meeting.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    file: Mapped[EvidenceFile | None] = relationship(lazy="raise")
    indicators: Mapped[list[Indicator]] = relationship(secondary=evidence_indicator, lazy="raise",
                                                       order_by=Indicator.code)
    nodes: Mapped[list[ResultsNode]] = relationship(secondary=evidence_node, lazy="raise",
                                                    order_by=ResultsNode.sort_order)
    questions: Mapped[list[LearningQuestion]] = relationship(secondary=evidence_question, lazy="raise",
                                                             order_by=LearningQuestion.code)


# `evidence_item.meeting_id` refers to `twg_meeting`: its table must be in the metadata wherever items are written.
from mel.meetings import models as _meetings  # noqa: E402,F401
