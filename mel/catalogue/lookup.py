"""The catalogue as one request or command sees it: lookups by code and by id, read once.

`load_catalogue(session)` reads indicators (with their option combos), org units, programmes,
reporting forms, active validation rules and pillar codes in a handful of queries. Each process
keeps the catalogue it read under the stored `catalogue_revision` token and shares it between
requests: a request then reads one row (the token) instead of the whole catalogue, and reads the
catalogue again when the token changed. Every flush that writes a catalogue object changes the
token in the same transaction (the listeners below), so a change made by any process is seen by
all at their next request. The shared rows are detached and read-only: a session that tries to
adopt one raises at once. A transaction that changed the catalogue reads its own copy until it
ends; the catalogue write operations also call `forget_catalogue`. The rows carry their Kiswahili
text (`name_sw`, …): pages show it through mel/catalogue/language.py `localised`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import chain

from flask import g, has_app_context
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from indicators.expressions import Expression
from indicators.figures import option_label
from indicators.validation import IndicatorSpec, Names, Rule
from mel.catalogue import models as catalogue_models
from mel.catalogue.levels import COUNTY, NATIONAL
from mel.catalogue.models import (
    CatalogueRevision,
    Indicator,
    OrgUnit,
    Pillar,
    Programme,
    ReportingForm,
    ValidationRule,
)
from mel.catalogue.queries import (
    CATALOGUE_FORM_LOADERS,
    CATALOGUE_INDICATOR_LOADERS,
    name_key,
    org_unit_names,
)
from mel.db import Base, utcnow

_CACHE = "_mel_catalogue"


@dataclass
class Catalogue:
    """The slice of the catalogue that entry, review, compilation and reports look things up in."""

    indicators: dict[str, Indicator]
    specs: dict[str, IndicatorSpec]
    combos: dict[tuple[str, str], int]  # (indicator code, option code) -> option combo id
    combo_codes: dict[int, str]
    org_units: dict[str, OrgUnit]  # code -> unit
    org_unit_lookup: dict[str, OrgUnit]  # any accepted spelling -> unit
    programmes: dict[str, Programme]
    forms: dict[int, ReportingForm]  # programme id -> form
    rules: list[Rule] = field(default_factory=list)
    pillar_codes: dict[int, str] = field(default_factory=dict)
    retired_combos: dict[int, datetime] = field(default_factory=dict)  # option combo id -> retired since
    names: Names = field(default_factory=Names)  # codes in people's words, for messages
    # By id, built once from the dicts above.
    indicator_by_id: dict[int, Indicator] = field(init=False)
    programme_by_id: dict[int, Programme] = field(init=False)
    org_unit_by_id: dict[int, OrgUnit] = field(init=False)
    indicator_codes: dict[int, str] = field(init=False)  # indicator id -> code
    programme_codes: dict[int, str] = field(init=False)
    org_unit_codes: dict[int, str] = field(init=False)
    _rule_indicators: list[tuple[Rule, frozenset[str]]] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.indicator_by_id = {i.id: i for i in self.indicators.values()}
        self.programme_by_id = {p.id: p for p in self.programmes.values()}
        self.org_unit_by_id = {u.id: u for u in self.org_units.values()}
        self.indicator_codes = {i.id: code for code, i in self.indicators.items()}
        self.programme_codes = {p.id: code for code, p in self.programmes.items()}
        self.org_unit_codes = {u.id: code for code, u in self.org_units.items()}

    def rules_for(self, indicators: Iterable[str]) -> list[Rule]:
        """The rules that can apply to figures of these indicators, in catalogue order.

        The others are skipped by `rule_issues` anyway (a rule skipped when any, or all, of its
        figures are missing); leaving them out spares a validation most of the rules.
        """
        present = set(indicators)
        if self._rule_indicators is None:
            self._rule_indicators = [(rule, frozenset(rule.indicators)) for rule in self.rules]
        return [rule for rule, needed in self._rule_indicators if _may_apply(rule.missing_strategy, needed, present)]

    def form_indicators(self, programme_id: int, period: str) -> set[str]:
        """Codes of the indicators a programme's form asks for in a period (`ReportingForm.items_in`)."""
        form = self.forms.get(programme_id)
        return {item.indicator.code for item in form.items_in(period)} if form else set()

    def form_org_units(self, programme_id: int, period: str) -> set[str]:
        """Codes of the org units a programme's form asks returns of in a period (`ReportingForm.org_units_in`)."""
        form = self.forms.get(programme_id)
        return {unit.code for unit in form.org_units_in(period)} if form else set()


def _may_apply(strategy: str, needed: frozenset[str], present: set[str]) -> bool:
    """Whether a rule over `needed` indicators can apply when only `present` ones have figures
    (the missing-value strategies of `indicators.validation.rule_issues`)."""
    if strategy == "never_skip":
        return True
    if strategy == "skip_if_all_missing":
        return bool(needed & present)
    return needed <= present


def load_catalogue(session: Session) -> Catalogue:
    """The catalogue of this request or command: the process's shared copy while the stored token
    says it is current, read again after a change; this transaction's own copy once it changed it."""
    if not has_app_context():
        return read_catalogue(session)
    cached = g.get(_CACHE)
    if cached is not None and cached[0] is session and (cached[2] or _is_current(cached[1], session)):
        return cached[1]
    shared = _shared_catalogue(session)
    catalogue = shared if shared is not None else read_catalogue(session)
    setattr(g, _CACHE, (session, catalogue, shared is not None))
    return catalogue


def forget_catalogue(session: Session) -> None:
    """Make the next `load_catalogue` read the catalogue again (after the catalogue was written)."""
    session.info[_CHANGED] = True
    if has_app_context():
        cached = g.get(_CACHE)
        if cached is not None and cached[0] is session:
            g.pop(_CACHE)


def _is_current(catalogue: Catalogue, session: Session) -> bool:
    """False once a rollback, `expire_all()` or `close()` has expired or detached the rows read.

    Those expire every object of the session at once; an expired indicator has lost its option
    combos (relationships are lazy="raise"), so one indicator tells for all.
    """
    indicator = next(iter(catalogue.indicators.values()), None)
    if indicator is None:
        return False
    state = inspect(indicator)
    return state.session is session and "disaggregation_set" not in state.unloaded


# --------------------------------------------------------------------------- the process's shared copy

_CHANGED = "mel_catalogue_changed"  # session.info key: this transaction wrote the catalogue
_SHARED_MARK = "_mel_shared_catalogue"
_shared: dict[str, tuple[str, Catalogue]] = {}
_shared_lock = threading.Lock()
_CATALOGUE_CLASSES = tuple(
    cls for cls in vars(catalogue_models).values()
    if isinstance(cls, type) and issubclass(cls, Base) and cls is not Base and cls is not CatalogueRevision
    and cls.__module__ == catalogue_models.__name__
)
_CATALOGUE_TABLES = frozenset(
    table.name for table in Base.metadata.tables.values()
    if table.name in {cls.__table__.name for cls in _CATALOGUE_CLASSES}
    or table is catalogue_models.programme_org_unit
)


def _shared_catalogue(session: Session) -> Catalogue | None:
    """The catalogue kept by this process, read again when the stored token moved; None when this
    transaction has changed the catalogue (it must see its own rows) or the database has no token."""
    if session.info.get(_CHANGED):
        return None
    token = session.scalar(select(CatalogueRevision.token).where(CatalogueRevision.id == 1))
    if token is None:
        return None
    kept = _shared.get("catalogue")
    if kept is not None and kept[0] == token:
        return kept[1]
    with _shared_lock:
        kept = _shared.get("catalogue")
        if kept is not None and kept[0] == token:
            return kept[1]
        # Its own session on this request's connection (so a test's open transaction is seen),
        # closed after reading: the rows stay loaded, detached, never expired by a commit.
        reader = Session(bind=session.connection(), autoflush=False, expire_on_commit=False)
        try:
            catalogue = read_catalogue(reader)
            for obj in list(reader.identity_map.values()):
                object.__setattr__(obj, _SHARED_MARK, True)
        finally:
            reader.close()
        _shared["catalogue"] = (token, catalogue)
        return catalogue


def _bump(connection) -> None:
    connection.execute(update(CatalogueRevision).where(CatalogueRevision.id == 1)
                       .values(token=uuid.uuid4().hex, changed_at=utcnow()))


@event.listens_for(Session, "after_flush")
def _note_catalogue_change(session: Session, _context) -> None:
    """A flush that wrote any catalogue object gives the catalogue a new token (same transaction)."""
    if any(isinstance(obj, _CATALOGUE_CLASSES) for obj in chain(session.new, session.dirty, session.deleted)):
        _bump(session.connection())
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_catalogue_statement(state) -> None:
    """ORM bulk INSERT / UPDATE / DELETE statements on a catalogue table count as a change too."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _CATALOGUE_TABLES:
        _bump(state.session.connection())
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    session.info.pop(_CHANGED, None)


@event.listens_for(Session, "before_attach")
def _refuse_shared_rows(session: Session, instance) -> None:
    """The shared catalogue rows belong to every request of the process: none may adopt one."""
    if getattr(instance, _SHARED_MARK, False):
        raise RuntimeError(
            f"{type(instance).__name__} {getattr(instance, 'code', '')!r} comes from the shared catalogue "
            "(load_catalogue) and is read-only: load the row with this session to change or link it."
        )


@lru_cache(maxsize=4096)
def _expression(text: str) -> Expression:
    """A rule's side parsed once per process: the catalogue is read on every request, its rules rarely change
    (an Expression is immutable; an invalid text raises each time, as it is not cached)."""
    return Expression.parse(text)


def read_catalogue(session: Session) -> Catalogue:
    """Read the catalogue from the database (use `load_catalogue`, which reads it once)."""
    indicators = {i.code: i for i in session.scalars(select(Indicator).options(*CATALOGUE_INDICATOR_LOADERS))}
    specs, combos, combo_codes = {}, {}, {}
    retired: dict[int, datetime] = {}
    option_words: dict[tuple[str, str], str] = {}
    for code, indicator in indicators.items():
        options = indicator.disaggregation_set.combos
        specs[code] = IndicatorSpec(
            code, indicator.measure, indicator.factor,
            tuple(c.code for c in options if not c.is_total and c.is_active), any(c.is_total for c in options),
            time_aggregation=indicator.time_aggregation, min_change=indicator.check_min_change,
            min_absolute=indicator.check_min_absolute, min_points=indicator.check_min_points,
            seasonal=bool(indicator.check_seasonal),
        )
        for combo in options:
            combos[(code, combo.code)] = combo.id
            combo_codes[combo.id] = combo.code
            if not combo.is_active:  # its figures stay and show; no new ones (mel/returns/resolve.py)
                retired[combo.id] = combo.retired_at or utcnow()
            option_words[(code, combo.code)] = option_label(combo.code, combo.name)
    units = list(session.scalars(select(OrgUnit)))
    lookup: dict[str, OrgUnit] = {}
    for unit in units:
        lookup[unit.code] = unit
        lookup[unit.uid] = unit
        if unit.iso_code:
            lookup[unit.iso_code.upper()] = unit
        if unit.level == COUNTY:
            lookup[str(int(unit.code))] = unit
        elif unit.level == NATIONAL:
            lookup["kenya"] = unit
    lookup.update(org_unit_names(units))
    forms = {form.programme_id: form
             for form in session.scalars(select(ReportingForm).options(*CATALOGUE_FORM_LOADERS))}
    rules = [
        Rule(r.code, r.name, _expression(r.left), r.operator, _expression(r.right),
             r.severity, r.importance, r.missing_strategy, r.description or "")
        for r in session.scalars(select(ValidationRule).where(ValidationRule.is_active.is_(True)))
    ]
    programmes = {p.code: p for p in session.scalars(select(Programme))}
    names = Names(
        indicators={code: i.name for code, i in indicators.items()}, options=option_words,
        org_units={u.code: u.name for u in units}, programmes={c: p.name for c, p in programmes.items()},
    )
    return Catalogue(
        indicators=indicators, specs=specs, combos=combos, combo_codes=combo_codes,
        org_units={u.code: u for u in units}, org_unit_lookup=lookup,
        programmes=programmes, forms=forms, rules=rules,
        pillar_codes=dict(session.execute(select(Pillar.id, Pillar.code)).all()), names=names,
        retired_combos=retired,
    )


def find_org_unit(catalogue: Catalogue, raw: str) -> OrgUnit | None:
    """An org unit by any accepted spelling: code (042 or 42), ISO code, UID, name, or Kenya."""
    text = str(raw).strip()
    return (catalogue.org_unit_lookup.get(text) or catalogue.org_unit_lookup.get(text.upper())
            or catalogue.org_unit_lookup.get(name_key(text)))
