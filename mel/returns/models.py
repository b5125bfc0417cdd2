"""Quarterly returns and the data values they carry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
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
RETURN_ADDRESS_KEY = "uq_data_return_id_programme_id_org_unit_id_period"


class Return(Base):
    """One programme × one org unit × one period, with its state and narrative."""

    __tablename__ = "data_return"
    __table_args__ = (
        UniqueConstraint("programme_id", "org_unit_id", "period"),
        CheckConstraint(_in("state", RETURN_STATES), name="state_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_data_return_period_state", "period", "state"),
        # The parent key of DataValue's foreign key to its return's address (a unique index, not a
        # constraint: SQLite can add one without rebuilding data_return, which would cascade).
        Index(RETURN_ADDRESS_KEY, "id", "programme_id", "org_unit_id", "period", unique=True),
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
        # A figure belongs to the return of its own programme, org unit and period, never another.
        ForeignKeyConstraint(
            ["return_id", "programme_id", "org_unit_id", "period"],
            ["data_return.id", "data_return.programme_id", "data_return.org_unit_id", "data_return.period"],
            ondelete="CASCADE",
        ),
        Index("ix_data_value_period_indicator", "period", "indicator_id"),
        # Finds the few `total` figures of a period without scanning the parts (results).
        Index("ix_data_value_combo_period", "option_combo_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(index=True)
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


class FigureSpan(Base):
    """Approved figures settled ahead of time (mel/results/summary.py): per run of consecutive quarters of a
    financial year, indicator, component, programme and county (or Kenya, for national returns), what
    indicators/compile.span_figures adds up: `flow` (every period) and `stock` (each unit's latest period).
    Like DHIS2's analytics tables, but refreshed in the transaction that approves or reopens a return."""

    __tablename__ = "figure_span"
    __table_args__ = (Index("ix_figure_span_group", "programme_id", "org_unit_id", "first_quarter"),)

    first_quarter: Mapped[str] = mapped_column(String(12), primary_key=True)
    last_quarter: Mapped[str] = mapped_column(String(12), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), primary_key=True)
    component: Mapped[str] = mapped_column(String(12), primary_key=True)
    # Hundredths of the figure (values keep two decimals): whole numbers add up exactly, on SQLite too.
    flow: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(BigInteger)


class FigureStale(Base):
    """Returns whose approval changed since figure_span was settled (a database trigger adds them)."""

    __tablename__ = "figure_stale"

    programme_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    org_unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(12), primary_key=True)


CHANNELS = ("web", "excel", "csv", "api", "dhis2", "cli", "system")


class ImportBatch(Base):
    """One file or payload that went through the ingest service, with what happened to it."""

    __tablename__ = "import_batch"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        CheckConstraint(_in("outcome", ("stored", "unchanged", "refused", "checked")), name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    is_dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(10))
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    refused_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ValueChange(Base):
    """Append-only audit of one figure: old and new value, who, when, through which path, why."""

    __tablename__ = "value_change"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        Index("ix_value_change_return_changed", "return_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("data_return.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    component: Mapped[str] = mapped_column(String(12))
    option_combo_id: Mapped[int] = mapped_column(ForeignKey("option_combo.id"))
    old_value: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    new_value: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    old_comment: Mapped[str] = mapped_column(Text, default="")
    new_comment: Mapped[str] = mapped_column(Text, default="")
    explanation: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10))
    return_version: Mapped[int] = mapped_column(Integer, default=1)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    indicator: Mapped[Indicator] = relationship(lazy="raise")
    option_combo: Mapped[OptionCombo] = relationship(lazy="raise")


class ReturnEvent(Base):
    """Append-only record of a return's state changes, with the reason given."""

    __tablename__ = "return_event"
    __table_args__ = (Index("ix_return_event_return_at", "return_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("data_return.id", ondelete="CASCADE"))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_codes: Mapped[str] = mapped_column(String(255), default="")
    channel: Mapped[str] = mapped_column(String(10), default="web")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ValueFlag(Base):
    """A validation warning (history outlier, rule) on a return, with the officer's explanation."""

    __tablename__ = "value_flag"
    __table_args__ = (
        UniqueConstraint("return_id", "flag_key"),
        CheckConstraint(_in("severity", ("error", "warning")), name="severity_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("data_return.id", ondelete="CASCADE"), index=True)
    flag_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), default="warning")
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))
    component: Mapped[str] = mapped_column(String(12), default="value")
    option_combo_id: Mapped[int | None] = mapped_column(ForeignKey("option_combo.id"))
    rule_code: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text)  # in English, as the API and the audit give it
    # The message's words (indicators/messages.py `as_data`), to say it again in the reader's language.
    message_words: Mapped[Any | None] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    # The kind of explanation (indicators/explanations.py), derived from its text when stored.
    explanation_code: Mapped[str] = mapped_column(String(30), default="", server_default="")
    explained_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def is_explained(self) -> bool:
        return bool(self.explanation.strip())

    @property
    def words(self) -> str:
        """The message: English text that a page says again in its language (`said`)."""
        from indicators.messages import restored

        return restored(self.message_words, self.message)

    @property
    def what(self) -> str:
        """The message without its place (county, quarter, figure): what is wrong, in any language."""
        from indicators.messages import after_place

        return after_place(self.words)


class NarrativeChange(Base):
    """Append-only audit of a return's narrative: old and new text, who, when, through which path."""

    __tablename__ = "narrative_change"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        Index("ix_narrative_change_return_changed", "return_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("data_return.id", ondelete="CASCADE"))
    old_text: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10))
    return_version: Mapped[int] = mapped_column(Integer)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
