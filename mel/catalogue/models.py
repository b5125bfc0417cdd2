"""Metadata of the sector MEL framework: org units, programmes, indicators, disaggregations, forms."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from indicators.periods import PeriodType, parse_period, quarter_of
from mel.db import Base, utcnow
from mel.uid import generate_uid

MEASURES = ("count", "amount", "ratio")
TIME_AGGREGATIONS = ("sum", "last")
DIRECTIONS = ("increase", "decrease")
LEVELS = ("impact", "outcome", "output", "process")
FREQUENCIES = ("quarterly", "annual")  # an indicator's
QUARTERLY, MONTHLY = "quarterly", "monthly"
FORM_FREQUENCIES = (QUARTERLY, MONTHLY)  # a reporting form's: a return per quarter, or per month
NODE_KINDS = ("goal", "outcome", "output")
COMPONENTS = ("value", "numerator", "denominator")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def kiswahili(length: int | None = None) -> Mapped[str]:
    """A Kiswahili counterpart of an English text column (`name` → `name_sw`): empty until translated.

    Pages in Kiswahili show it through mel/catalogue/language.py `localised`, which falls back to the
    English text (and the catalogue pages flag that) while it is empty."""
    return mapped_column(String(length) if length else Text, default="", server_default="")


class MetadataMixin:
    """Columns every metadata object carries: a DHIS2-style UID, a code and timestamps."""

    uid: Mapped[str] = mapped_column(String(11), unique=True, default=generate_uid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class OrgUnit(MetadataMixin, Base):
    """A node of the org-unit tree: Kenya (level 1) → counties (2) → sub-counties, that is IEBC
    constituencies (3) → wards (4); mel/catalogue/levels.py names the levels."""

    __tablename__ = "org_unit"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    iso_code: Mapped[str | None] = mapped_column(String(10), unique=True)
    former_province: Mapped[str | None] = mapped_column(String(40))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], lazy="raise")

    @property
    def is_national(self) -> bool:
        return self.level == 1


class Pillar(MetadataMixin, Base):
    """A pillar of the sector (social assistance, social security, health insurance, cross-cutting)."""

    __tablename__ = "pillar"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    name_sw: Mapped[str] = kiswahili(120)
    description_sw: Mapped[str] = kiswahili()


programme_org_unit = Table(
    "programme_org_unit",
    Base.metadata,
    Column("programme_id", ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True),
    Column("org_unit_id", ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True),
)


class Programme(MetadataMixin, Base):
    """A reporting entity: a national or county programme, or SPS for sector-wide figures.

    `notes` is the programme's short description (who gets what); `name_sw` and `notes_sw` are their
    Kiswahili text. Programme names (Inua Jamii, HSNP, NICHE) stay as they are in Kiswahili."""

    __tablename__ = "programme"
    __table_args__ = (CheckConstraint(_in("level", ("national", "county")), name="level_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    pillar_id: Mapped[int] = mapped_column(ForeignKey("pillar.id"), index=True)
    agency: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    name_sw: Mapped[str] = kiswahili(200)
    notes_sw: Mapped[str] = kiswahili()

    pillar: Mapped[Pillar] = relationship(lazy="raise")
    org_units: Mapped[list[OrgUnit]] = relationship(
        secondary=programme_org_unit, lazy="raise", order_by="OrgUnit.code"
    )


class ResultsNode(MetadataMixin, Base):
    """A node of the sector results framework: goal → outcomes → outputs."""

    __tablename__ = "results_node"
    __table_args__ = (CheckConstraint(_in("kind", NODE_KINDS), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("results_node.id"), index=True)
    pillar_id: Mapped[int | None] = mapped_column(ForeignKey("pillar.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    name_sw: Mapped[str] = kiswahili(300)
    description_sw: Mapped[str] = kiswahili()

    parent: Mapped[ResultsNode | None] = relationship(remote_side=[id], lazy="raise")


class DisaggregationCategory(MetadataMixin, Base):
    """A dimension such as sex or age group."""

    __tablename__ = "disaggregation_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_sw: Mapped[str] = kiswahili(120)

    options: Mapped[list[CategoryOption]] = relationship(
        back_populates="category", lazy="raise", order_by="CategoryOption.sort_order"
    )


class CategoryOption(MetadataMixin, Base):
    """One option of a category (Female, 70 years and above, ...)."""

    __tablename__ = "category_option"
    __table_args__ = (UniqueConstraint("category_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("disaggregation_category.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    name_sw: Mapped[str] = kiswahili(120)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # A retired option keeps its figures and takes no new ones (mel/catalogue/disaggregation_admin.py).
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    category: Mapped[DisaggregationCategory] = relationship(back_populates="options", lazy="raise")


class DisaggregationSetCategory(Base):
    """The position of a category inside a disaggregation set."""

    __tablename__ = "disaggregation_set_category"

    set_id: Mapped[int] = mapped_column(ForeignKey("disaggregation_set.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("disaggregation_category.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)

    category: Mapped[DisaggregationCategory] = relationship(lazy="raise")


class DisaggregationSet(MetadataMixin, Base):
    """Categories crossed into option combinations (DHIS2's category combination)."""

    __tablename__ = "disaggregation_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_sw: Mapped[str] = kiswahili(120)

    categories: Mapped[list[DisaggregationSetCategory]] = relationship(
        lazy="raise", order_by="DisaggregationSetCategory.position", cascade="all, delete-orphan"
    )
    combos: Mapped[list[OptionCombo]] = relationship(
        back_populates="set", lazy="raise", order_by="OptionCombo.sort_order"
    )


class OptionCombo(MetadataMixin, Base):
    """One cell of a disaggregation: option codes joined by `_` in category order, or `total`.

    Its names, English and Kiswahili, are generated from its options' (disaggregation_combos.sync_combos):
    `name_sw` stays empty while one of its options has no Kiswahili name."""

    __tablename__ = "option_combo"
    __table_args__ = (UniqueConstraint("set_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("disaggregation_set.id"))
    code: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    name_sw: Mapped[str] = kiswahili(200)
    is_total: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Inactive while one of its options is retired (indicators/disaggregation.py).
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    set: Mapped[DisaggregationSet] = relationship(back_populates="combos", lazy="raise")


class Indicator(MetadataMixin, Base):
    """An indicator with the fields of a Performance Indicator Reference Sheet.

    The sheet's English text is what versioning protects (mel/catalogue/versioning.py): a change of it
    is a new version, and reports keep the version they used. The Kiswahili text (`name_sw`,
    `short_name_sw`, `definition_sw`) is a translation of that sheet, not part of it: it is kept
    outside the version snapshot, so a translation fix needs no new version (it is audited as
    `catalogue.indicator_translated`). While it is empty, Kiswahili pages show the English text and
    the catalogue pages flag it (mel/catalogue/language.py).
    """

    __tablename__ = "indicator"
    __table_args__ = (
        CheckConstraint(_in("measure", MEASURES), name="measure_known"),
        CheckConstraint(_in("time_aggregation", TIME_AGGREGATIONS), name="time_aggregation_known"),
        CheckConstraint(_in("direction", DIRECTIONS), name="direction_known"),
        CheckConstraint(_in("level", LEVELS), name="level_known"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency_known"),
        CheckConstraint("measure <> 'ratio' OR factor IS NOT NULL", name="ratio_has_factor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(120))
    definition: Mapped[str] = mapped_column(Text)
    name_sw: Mapped[str] = kiswahili(300)
    short_name_sw: Mapped[str] = kiswahili(120)
    definition_sw: Mapped[str] = kiswahili()
    rationale: Mapped[str] = mapped_column(Text, default="")
    pillar_id: Mapped[int] = mapped_column(ForeignKey("pillar.id"), index=True)
    results_node_id: Mapped[int | None] = mapped_column(ForeignKey("results_node.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    unit: Mapped[str] = mapped_column(String(20))
    measure: Mapped[str] = mapped_column(String(10))
    factor: Mapped[int | None] = mapped_column(Integer)
    numerator: Mapped[str] = mapped_column(Text, default="")
    denominator: Mapped[str] = mapped_column(Text, default="")
    calculation: Mapped[str] = mapped_column(Text, default="")
    time_aggregation: Mapped[str] = mapped_column(String(10))
    is_additive_across_programmes: Mapped[bool] = mapped_column(Boolean, default=True)
    disaggregation_set_id: Mapped[int] = mapped_column(ForeignKey("disaggregation_set.id"))
    direction: Mapped[str] = mapped_column(String(10))
    frequency: Mapped[str] = mapped_column(String(10))
    data_source: Mapped[str] = mapped_column(Text, default="")
    collection_method: Mapped[str] = mapped_column(Text, default="")
    means_of_verification: Mapped[str] = mapped_column(Text, default="")
    responsible_agency: Mapped[str] = mapped_column(String(200), default="")
    limitations: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When a figure far from its history is worth a warning (indicators/history.py); empty
    # means the default for the indicator's measure.
    check_min_change: Mapped[float | None] = mapped_column(Float)  # share of the usual level, 0.25 = 25%
    check_min_absolute: Mapped[float | None] = mapped_column(Float)  # in the indicator's unit
    check_min_points: Mapped[float | None] = mapped_column(Float)  # percentage points, for percentages
    check_seasonal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # compare with the same quarter
    check_note: Mapped[str] = mapped_column(Text, default="", server_default="")  # why these thresholds
    # The reference sheet's version: every change through the editor (mel/catalogue/indicator_admin.py)
    # or the seed adds an IndicatorVersion and moves this on; reports keep the number they used.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A retired indicator may name the active one that took its place (results and reports link them).
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))

    pillar: Mapped[Pillar] = relationship(lazy="raise")
    results_node: Mapped[ResultsNode | None] = relationship(lazy="raise")
    disaggregation_set: Mapped[DisaggregationSet] = relationship(lazy="raise")
    replaced_by: Mapped[Indicator | None] = relationship(remote_side=[id], back_populates="replaces", lazy="raise")
    replaces: Mapped[list[Indicator]] = relationship(back_populates="replaced_by", lazy="raise",
                                                     order_by="Indicator.code")

    @property
    def is_ratio(self) -> bool:
        return self.measure == "ratio"

    @property
    def check_settings(self) -> dict:
        """The history-check columns, for the API's `checks` object."""
        return {name: getattr(self, name) for name in (
            "check_min_change", "check_min_absolute", "check_min_points", "check_seasonal", "check_note")}

    @property
    def components(self) -> tuple[str, ...]:
        """The figures a person types for one cell: numerator and denominator for ratios."""
        return ("numerator", "denominator") if self.is_ratio else ("value",)


def in_force(from_period: str | None, until_period: str | None, quarter: str) -> bool:
    """Whether a form row stated to apply from `from_period` until (not including) `until_period`
    applies to a quarter (ids such as 2026Q3, which sort in time order; None: open on that side)."""
    return (from_period is None or from_period <= quarter) and (until_period is None or quarter < until_period)


@lru_cache(maxsize=512)
def quarters_of(period: str) -> tuple[str, ...]:
    """The quarter ids a period covers: itself for a quarter, the quarter of a month, four for a year."""
    parsed = parse_period(period)
    if parsed.type is PeriodType.MONTH:
        return (quarter_of(parsed.start).id,)
    return tuple(q.id for q in parsed.quarters())


class IndicatorVersion(Base):
    """One version of an indicator's reference sheet: every field as it then stood, why and by whom."""

    __tablename__ = "indicator_version"
    __table_args__ = (
        UniqueConstraint("indicator_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict] = mapped_column(JSON)  # mel/catalogue/versioning.py `sheet`
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(254))  # an e-mail, or "reference catalogue" for the seed
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReportingFormIndicator(Base):
    """An indicator on a reporting form, in order, whether its cells are required, and the quarters
    it is asked for: from `from_period` until (not including) `until_period`; None is open-ended."""

    __tablename__ = "reporting_form_item"
    __table_args__ = (
        UniqueConstraint("form_id", "indicator_id", "from_period"),
        CheckConstraint("from_period IS NULL OR until_period IS NULL OR from_period < until_period",
                        name="periods_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("reporting_form.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    is_required: Mapped[bool] = mapped_column(Boolean, default=True)
    from_period: Mapped[str | None] = mapped_column(String(10))
    until_period: Mapped[str | None] = mapped_column(String(10))

    indicator: Mapped[Indicator] = relationship(lazy="raise")

    def applies(self, quarter: str) -> bool:
        return in_force(self.from_period, self.until_period, quarter)


class ReportingFormOrgUnit(Base):
    """An org unit a reporting form asks returns of, for the quarters from `from_period` until
    (not including) `until_period`; None is open-ended."""

    __tablename__ = "reporting_form_unit"
    __table_args__ = (
        UniqueConstraint("form_id", "org_unit_id", "from_period"),
        CheckConstraint("from_period IS NULL OR until_period IS NULL OR from_period < until_period",
                        name="periods_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("reporting_form.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    from_period: Mapped[str | None] = mapped_column(String(10))
    until_period: Mapped[str | None] = mapped_column(String(10))

    org_unit: Mapped[OrgUnit] = relationship(lazy="raise")

    def applies(self, quarter: str) -> bool:
        return in_force(self.from_period, self.until_period, quarter)


class ReportingFormWindow(Base):
    """A form's window days (opens, due, closes after the quarter ends) for the quarters from
    `from_period` on, until the form's next window row; before its first row the form's own columns apply."""

    __tablename__ = "reporting_form_window"
    __table_args__ = (
        UniqueConstraint("form_id", "from_period"),
        CheckConstraint("opens_days <= due_days AND due_days <= closes_days", name="window_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("reporting_form.id", ondelete="CASCADE"), index=True)
    from_period: Mapped[str] = mapped_column(String(10))
    opens_days: Mapped[int] = mapped_column(Integer)
    due_days: Mapped[int] = mapped_column(Integer)
    closes_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str | None] = mapped_column(String(20))  # None: the form's own column


class ReportingForm(MetadataMixin, Base):
    """What a programme reports: indicators × org units, at a frequency, within a window."""

    __tablename__ = "reporting_form"
    __table_args__ = (
        # The name is older than monthly forms (migration 0033 widened the check, kept the name).
        CheckConstraint("frequency IN ('quarterly', 'monthly')", name="frequency_quarterly"),
        CheckConstraint(
            "opens_days <= due_days AND due_days <= closes_days", name="window_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    frequency: Mapped[str] = mapped_column(String(20), default="quarterly")
    # The window days of every quarter before the form's first `windows` row (read them through
    # `window_days_in` with a period).
    opens_days: Mapped[int] = mapped_column(Integer, default=0)
    due_days: Mapped[int] = mapped_column(Integer, default=15)
    closes_days: Mapped[int] = mapped_column(Integer, default=45)

    programme: Mapped[Programme] = relationship(lazy="raise")
    # Every row of every quarter: read them through `items_in` and `org_units_in` with a period.
    items: Mapped[list[ReportingFormIndicator]] = relationship(
        lazy="raise", order_by=[ReportingFormIndicator.position, ReportingFormIndicator.id],
        cascade="all, delete-orphan",
    )
    units: Mapped[list[ReportingFormOrgUnit]] = relationship(
        lazy="raise", order_by="ReportingFormOrgUnit.id", cascade="all, delete-orphan"
    )
    window_exceptions: Mapped[list[WindowException]] = relationship(
        lazy="raise", order_by="WindowException.period",
        cascade="all, delete-orphan",
    )
    # The window days stated from a quarter on, oldest first: read them through `window_days_in`.
    windows: Mapped[list[ReportingFormWindow]] = relationship(
        lazy="raise", order_by=ReportingFormWindow.from_period, cascade="all, delete-orphan",
    )

    def window_row_in(self, period: str) -> ReportingFormWindow | None:
        """The window row in force in a period (its last quarter's): the latest stated from that
        quarter or before; None when the form's own days apply."""
        quarter = quarters_of(period)[-1]
        chosen = None
        for row in self.windows:
            if row.from_period <= quarter and (chosen is None or row.from_period > chosen.from_period):
                chosen = row
        return chosen

    def frequency_in(self, period: str) -> str:
        """quarterly or monthly: how often the form asks figures in a period's quarter (its window row's, else
        the form's own). It changes only from the first quarter of a financial year (form_admin.save_window)."""
        row = self.window_row_in(period)
        return row.frequency if row is not None and row.frequency else self.frequency

    def periods_in(self, quarter: str) -> list[str]:
        """The periods a return is asked for in a quarter: the quarter itself, or its three months."""
        if self.frequency_in(quarter) == MONTHLY:
            return [month.id for month in parse_period(quarter).months()]
        return [quarter]

    def window_days_in(self, period: str) -> tuple[int, int, int]:
        """The days after a period ends that its window opens, falls due and closes: the one answer
        every reader (window_for: grid, imports, home page, review, reminders; DHIS2) uses, so a
        change of the window stated from a quarter on leaves earlier quarters' windows as they were."""
        source = self.window_row_in(period) or self
        return source.opens_days, source.due_days, source.closes_days

    def items_in(self, period: str) -> list[ReportingFormIndicator]:
        """The indicators this form asks for in a period, in form order: the one answer every reader
        (grid, template, ingest, checks, completeness, review, reports, DHIS2) uses, so a return keeps
        the form of its own quarter. A period longer than a quarter gets every indicator asked in one
        of its quarters (the row of its latest quarter when they differ)."""
        quarters = quarters_of(period)
        chosen: dict[int, ReportingFormIndicator] = {}
        for quarter in quarters:
            for item in self.items:
                if item.applies(quarter):
                    chosen[item.indicator_id] = item
        return sorted(chosen.values(), key=lambda item: (item.position, item.indicator_id))

    def org_units_in(self, period: str) -> list[OrgUnit]:
        """The org units this form asks returns of in a period (any of its quarters), by code."""
        quarters = quarters_of(period)
        units = {row.org_unit_id: row.org_unit for row in self.units
                 if any(row.applies(quarter) for quarter in quarters)}
        return sorted(units.values(), key=lambda unit: unit.code)


class WindowException(Base):
    """A later closing date for one org unit's return of one period (DHIS2's lock exception)."""

    __tablename__ = "window_exception"
    __table_args__ = (UniqueConstraint("form_id", "org_unit_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("reporting_form.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    closes_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(254))  # the e-mail of who granted it (the audit has the rest)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    org_unit: Mapped[OrgUnit] = relationship(lazy="raise")


RULE_OPERATORS = ("<=", "<", ">=", ">", "==", "!=")
SEVERITIES = ("error", "warning")
IMPORTANCES = ("high", "medium", "low")
MISSING_STRATEGIES = ("skip_if_any_missing", "skip_if_all_missing", "never_skip")


class ValidationRule(MetadataMixin, Base):
    """A DHIS2-style rule `left operator right` over indicator codes, kept as data."""

    __tablename__ = "validation_rule"
    __table_args__ = (
        CheckConstraint(_in("operator", RULE_OPERATORS), name="operator_known"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity_known"),
        CheckConstraint(_in("importance", IMPORTANCES), name="importance_known"),
        CheckConstraint(_in("missing_strategy", MISSING_STRATEGIES), name="missing_strategy_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    left: Mapped[str] = mapped_column(String(400))
    operator: Mapped[str] = mapped_column(String(2))
    right: Mapped[str] = mapped_column(String(400))
    severity: Mapped[str] = mapped_column(String(10), default="error")
    importance: Mapped[str] = mapped_column(String(10), default="medium")
    missing_strategy: Mapped[str] = mapped_column(String(24), default="skip_if_any_missing")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class CatalogueRevision(Base):
    """One row whose token changes, in the same transaction, with every change to the catalogue.

    Each process keeps the catalogue it read (mel/catalogue/lookup.py) and reads it again when the
    token it read it under is no longer the stored one. A token, not a counter: a rolled-back
    change cannot leave a number that a later, different change would reuse. A data migration that
    writes catalogue rows with `op.execute` must set a new token too (processes restart after
    migrations anyway).
    """

    __tablename__ = "catalogue_revision"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
