"""Performance monitoring plans (baselines and targets, versioned) and joint work plans."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from indicators.workplan import ACTIVITY_STATUSES
from mel.catalogue.models import Indicator, MetadataMixin, OrgUnit, Programme, ResultsNode, _in
from mel.db import Base, utcnow

SECTOR = "SECTOR"
WORKING_GROUPS = {
    "policy": "Policy & System Strengthening",
    "finance": "Finance & Sustainability",
    "shock": "Shock-responsive SP",
    "standards": "Complementary Standards",
    "merl": "MERL",
}
TARGET_TYPE = Numeric(22, 2)


class Pmp(MetadataMixin, Base):
    """A performance monitoring plan: one per programme (or the sector) per financial year."""

    __tablename__ = "pmp"
    __table_args__ = (UniqueConstraint("scope", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))  # a programme code, or SECTOR
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    fiscal_year: Mapped[str] = mapped_column(String(12))  # e.g. 2025July
    title: Mapped[str] = mapped_column(String(200))
    current_version: Mapped[int] = mapped_column(Integer, default=0)

    programme: Mapped[Programme | None] = relationship(lazy="raise")
    versions: Mapped[list[PmpVersion]] = relationship(
        back_populates="pmp", lazy="raise", order_by="PmpVersion.number"
    )

    @property
    def is_sector(self) -> bool:
        return self.scope == SECTOR


class PmpVersion(Base):
    """One revision of a plan: its lines and targets are never edited, only superseded."""

    __tablename__ = "pmp_version"
    __table_args__ = (UniqueConstraint("pmp_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pmp_id: Mapped[int] = mapped_column(ForeignKey("pmp.id"))
    number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10), default="web")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    pmp: Mapped[Pmp] = relationship(back_populates="versions", lazy="raise")
    lines: Mapped[list[PmpLine]] = relationship(
        back_populates="version", lazy="raise", order_by="PmpLine.position"
    )


class PmpLine(Base):
    """An indicator the plan commits to: baseline, method, frequency, responsible officer."""

    __tablename__ = "pmp_line"
    __table_args__ = (
        UniqueConstraint("version_id", "indicator_id"),
        CheckConstraint("baseline_value IS NULL OR baseline_value >= 0", name="baseline_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("pmp_version.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    baseline_value: Mapped[Decimal | None] = mapped_column(TARGET_TYPE)
    baseline_period: Mapped[str] = mapped_column(String(12), default="")
    collection_method: Mapped[str] = mapped_column(Text, default="")
    frequency: Mapped[str] = mapped_column(String(20), default="quarterly")
    responsible: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[PmpVersion] = relationship(back_populates="lines", lazy="raise")
    indicator: Mapped[Indicator] = relationship(lazy="raise")
    targets: Mapped[list[Target]] = relationship(
        back_populates="line", lazy="raise", order_by="Target.period"
    )


class Target(Base):
    """A target of a plan line for an org unit (KE for national) and a quarter or the year."""

    __tablename__ = "target"
    __table_args__ = (
        UniqueConstraint("line_id", "org_unit_id", "period"),
        CheckConstraint("value >= 0", name="value_non_negative"),
        Index("ix_target_period", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("pmp_line.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    period: Mapped[str] = mapped_column(String(12))
    value: Mapped[Decimal] = mapped_column(TARGET_TYPE)

    line: Mapped[PmpLine] = relationship(back_populates="targets", lazy="raise")
    org_unit: Mapped[OrgUnit] = relationship(lazy="raise")


class WorkPlan(MetadataMixin, Base):
    """The sector's joint work plan for a financial year."""

    __tablename__ = "work_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[str] = mapped_column(String(12), unique=True)
    title: Mapped[str] = mapped_column(String(200))

    activities: Mapped[list[Activity]] = relationship(
        back_populates="plan", lazy="raise", order_by="Activity.code"
    )


activity_indicator = Table(
    "activity_indicator",
    Base.metadata,
    Column("activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicator.id"), primary_key=True),
)


class Activity(MetadataMixin, Base):
    """A work-plan activity of a thematic working group, with budget and planned quarters."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("plan_id", "code"),
        CheckConstraint(_in("working_group", tuple(WORKING_GROUPS)), name="working_group_known"),
        CheckConstraint("budget_kes >= 0", name="budget_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("work_plan.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    working_group: Mapped[str] = mapped_column(String(20))
    lead_agency: Mapped[str] = mapped_column(String(200))
    partners: Mapped[str] = mapped_column(Text, default="")
    budget_kes: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=0)
    funding_source: Mapped[str] = mapped_column(String(120), default="")
    planned_quarters: Mapped[str] = mapped_column(String(60), default="")  # e.g. "2025Q3,2025Q4"
    results_node_id: Mapped[int | None] = mapped_column(ForeignKey("results_node.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    plan: Mapped[WorkPlan] = relationship(back_populates="activities", lazy="raise")
    results_node: Mapped[ResultsNode | None] = relationship(lazy="raise")
    indicators: Mapped[list[Indicator]] = relationship(
        secondary=activity_indicator, lazy="raise", order_by="Indicator.code"
    )
    updates: Mapped[list[ActivityUpdate]] = relationship(
        back_populates="activity", lazy="raise", order_by="ActivityUpdate.period"
    )

    @property
    def quarters(self) -> list[str]:
        return [q for q in self.planned_quarters.split(",") if q]

    @property
    def working_group_name(self) -> str:
        return WORKING_GROUPS[self.working_group]


class ActivityUpdate(Base):
    """The lead agency's quarterly report on an activity: a small return of its own."""

    __tablename__ = "activity_update"
    __table_args__ = (
        UniqueConstraint("activity_id", "period"),
        CheckConstraint(_in("status", tuple(ACTIVITY_STATUSES)), name="status_known"),
        CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_range"),
        CheckConstraint("spend_to_date >= 0", name="spend_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    period: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    percent_complete: Mapped[int] = mapped_column(Integer, default=0)
    spend_to_date: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="updates", lazy="raise")

    @property
    def status_label(self) -> str:
        return ACTIVITY_STATUSES[self.status]


class ActivityUpdateChange(Base):
    """Append-only audit of activity updates: every field's old and new value."""

    __tablename__ = "activity_update_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("activity_update.id"), index=True)
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10), default="web")
    version: Mapped[int] = mapped_column(Integer)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
