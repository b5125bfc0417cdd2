"""Quarterly returns and the data values they carry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.catalogue.models import (
    COMPONENTS,
    Indicator,
    OptionCombo,
    OrgUnit,
    Programme,
    ReportingForm,
    _in,
)
from mel.db import Base, utcnow

RETURN_STATES = ("draft", "submitted", "returned", "approved", "reopened")
EDITABLE_STATES = ("draft", "returned", "reopened")

# Exact decimal storage: counts are whole numbers, KES amounts keep cents.
VALUE_TYPE = Numeric(22, 2)


class Return(Base):
    """One programme × one org unit × one period, with its state and narrative."""

    __tablename__ = "data_return"
    __table_args__ = (
        UniqueConstraint("programme_id", "org_unit_id", "period"),
        CheckConstraint(_in("state", RETURN_STATES), name="state_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_data_return_period_state", "period", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    period: Mapped[str] = mapped_column(String(12))
    form_id: Mapped[int] = mapped_column(ForeignKey("reporting_form.id"))
    state: Mapped[str] = mapped_column(String(12), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    narrative: Mapped[str] = mapped_column(Text, default="")
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    programme: Mapped[Programme] = relationship(lazy="raise")
    org_unit: Mapped[OrgUnit] = relationship(lazy="raise")
    form: Mapped[ReportingForm] = relationship(lazy="raise")

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES


class DataValue(Base):
    """One figure: indicator × component × option combo × programme × org unit × period."""

    __tablename__ = "data_value"
    __table_args__ = (
        UniqueConstraint(
            "indicator_id", "component", "option_combo_id", "programme_id", "org_unit_id", "period"
        ),
        CheckConstraint(_in("component", COMPONENTS), name="component_known"),
        CheckConstraint("value >= 0", name="value_non_negative"),
        Index("ix_data_value_period_indicator", "period", "indicator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("data_return.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    component: Mapped[str] = mapped_column(String(12), default="value")
    option_combo_id: Mapped[int] = mapped_column(ForeignKey("option_combo.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    period: Mapped[str] = mapped_column(String(12))
    value: Mapped[Decimal] = mapped_column(VALUE_TYPE)
    comment: Mapped[str] = mapped_column(Text, default="")
    explanation: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    indicator: Mapped[Indicator] = relationship(lazy="raise")
    option_combo: Mapped[OptionCombo] = relationship(lazy="raise")
