"""TWG meetings and their actions (issue 21).

A meeting has an agenda (items in order), who attended (an account, or a named person and their
organisation), its decisions (numbered) and actions. An action has one owner (an account: the one
reminded when it is overdue), a due date and a status, and is linked to the returns, indicators,
report recommendations (mel/reporting/actions.py `ReportAction`) and evidence items it is about.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.accounts.models import User
from mel.catalogue.models import MetadataMixin, _in
from mel.db import Base

MEETING_STATUSES = ("planned", "held", "cancelled")
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")

action_return = Table(
    "twg_action_return", Base.metadata,
    Column("action_id", ForeignKey("twg_action.id", ondelete="CASCADE"), primary_key=True),
    Column("return_id", ForeignKey("data_return.id"), primary_key=True, index=True),
)
action_indicator = Table(
    "twg_action_indicator", Base.metadata,
    Column("action_id", ForeignKey("twg_action.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicator.id"), primary_key=True, index=True),
)
action_recommendation = Table(
    "twg_action_recommendation", Base.metadata,
    Column("action_id", ForeignKey("twg_action.id", ondelete="CASCADE"), primary_key=True),
    Column("report_action_id", ForeignKey("report_action.id"), primary_key=True, index=True),
)
action_evidence = Table(
    "twg_action_evidence", Base.metadata,
    Column("action_id", ForeignKey("twg_action.id", ondelete="CASCADE"), primary_key=True),
    Column("evidence_id", ForeignKey("evidence_item.id"), primary_key=True, index=True),
)


class Meeting(MetadataMixin, Base):
    __tablename__ = "twg_meeting"
    __table_args__ = (CheckConstraint(_in("status", MEETING_STATUSES), name="status_known"),
                      CheckConstraint("title <> ''", name="title_given"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    venue: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="planned")
    agenda: Mapped[list] = mapped_column(JSON, default=list)  # the items, in order (texts)
    minutes: Mapped[str] = mapped_column(Text, default="")
    period: Mapped[str | None] = mapped_column(String(12))  # the quarter it reviewed, if any
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    attendees: Mapped[list[Attendee]] = relationship(lazy="raise", order_by="Attendee.id",
                                                     cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(lazy="raise", order_by="Decision.number",
                                                     cascade="all, delete-orphan")
    actions: Mapped[list[MeetingAction]] = relationship(lazy="raise", order_by="MeetingAction.id",
                                                        back_populates="meeting")


class Attendee(Base):
    """Who attended (or sent apologies): an account, or a person named with their organisation."""

    __tablename__ = "twg_attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("twg_meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    present: Mapped[bool] = mapped_column(Boolean, default=True)  # False: sent apologies

    user: Mapped[User | None] = relationship(lazy="raise")


class Decision(Base):
    __tablename__ = "twg_decision"
    __table_args__ = (UniqueConstraint("meeting_id", "number"), CheckConstraint("text <> ''", name="text_given"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("twg_meeting.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class MeetingAction(MetadataMixin, Base):
    """An action agreed at a meeting: who does what by when, and where it stands."""

    __tablename__ = "twg_action"
    __table_args__ = (CheckConstraint(_in("status", ACTION_STATUSES), name="status_known"),
                      CheckConstraint("text <> ''", name="text_given"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("twg_meeting.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("twg_decision.id"))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    progress: Mapped[str] = mapped_column(Text, default="")  # the owner's latest note
    done_on: Mapped[date | None] = mapped_column(Date)
    last_reminded_on: Mapped[date | None] = mapped_column(Date)  # the scheduler's reminders, once a day at most
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    meeting: Mapped[Meeting] = relationship(lazy="raise", back_populates="actions")
    decision: Mapped[Decision | None] = relationship(lazy="raise")
    owner: Mapped[User] = relationship(lazy="raise", foreign_keys=[owner_id])
    # Its links (returns, indicators, report recommendations, evidence) are read and written through the
    # link tables above (mel/meetings/links.py): relationships to those models would tie the order in
    # which the feature packages' models must be imported.

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "in_progress")

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on < today

