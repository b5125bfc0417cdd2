"""Approved figures settled ahead of time (figure_span), as DHIS2 keeps analytics tables, but never stale.

At ward scale a year of a programme is millions of data values; the results of Kenya or a county
read instead, per run of consecutive quarters of a financial year, what every reporting unit's
figures add up to under its county (or Kenya, for national returns): indicators/compile.span_figures,
the one rule, run ahead of time. Both ways time can add are kept (flow, stock), and the indicator's
rule when read picks one, so an indicator redefined later needs nothing settled again.

Never stale: a database trigger lists in `figure_stale` every return that becomes approved or stops
being approved (migration 0035), in the same transaction. Before a session commits, the spans of the
returns it changed are settled again (`refresh`, under a lock on PostgreSQL so that two approvals
in one county never settle from each other's half). Results read the spans only when nothing stale is
listed for their programmes (`readable`), else the data values as before: a change made outside the
application (SQL, a restore) makes results slower until `mel figures refresh`, never wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import (
    String,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from indicators.compile import span_figures
from indicators.periods import PeriodError, PeriodType, parse_period
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import Catalogue
from mel.catalogue.models import OptionCombo, OrgUnit
from mel.returns.models import DataValue, FigureSpan, FigureStale, Return

CHANGED = "mel.figures_changed"  # session.info: this transaction changed returns; settle before commit
LOCK = 7_320_035  # pg_advisory_xact_lock key: one refresh at a time
CHUNK = 400  # returns named per statement when settling


def grain(units: list[tuple[int, int, str]]) -> dict[int, int]:
    """The unit each reporting unit's figures are kept under (ids, from (id, level, path) of every org unit):
    its county; Kenya's own returns, Kenya."""
    by_path = {path.rstrip("/"): unit_id for unit_id, _, path in units}
    return {unit_id: by_path["/" + "/".join(path.strip("/").split("/")[:COUNTY])] if level >= COUNTY else unit_id
            for unit_id, level, path in units}


def span_of(quarters: list[str]) -> tuple[str, str] | None:
    """(first, last) when `quarters` are consecutive quarters of one financial year; else None."""
    try:
        parsed = [parse_period(q) for q in quarters]
        if not parsed or any(p.type is not PeriodType.QUARTER for p in parsed):
            return None
        if any(b != a.shift(1) for a, b in zip(parsed, parsed[1:], strict=False)):
            return None
        if parsed[0].financial_year() != parsed[-1].financial_year():
            return None
    except PeriodError:  # e.g. a year before 1900's quarters: read from the data values, which say nothing
        return None
    return parsed[0].id, parsed[-1].id


def readable(session: Session, catalogue: Catalogue, programmes: list[str]) -> bool:
    """Whether the spans hold every approved figure of these programmes (nothing listed stale for them)."""
    ids = [catalogue.programmes[p].id for p in programmes]
    return session.execute(select(FigureStale.programme_id).where(FigureStale.programme_id.in_(ids))
                           .limit(1)).first() is None


def read(session: Session, catalogue: Catalogue, *, indicators: list[str], programmes: list[str], unit: OrgUnit,
         span: tuple[str, str], by_unit: bool) -> pd.DataFrame:
    """Per indicator, component and programme (and county, `by_unit`), the settled figure of the span:
    its flow or its stock by the indicator's rule. Columns indicator, component, programme, [org_unit,]
    value, with ids (as the database's GROUP BY gives them)."""
    keys = [FigureSpan.indicator_id, FigureSpan.component, FigureSpan.programme_id]
    if by_unit:
        keys.append(FigureSpan.org_unit_id)
    statement = (select(*keys, func.sum(FigureSpan.flow), func.sum(FigureSpan.stock))
                 .where(FigureSpan.first_quarter == span[0], FigureSpan.last_quarter == span[1],
                        FigureSpan.indicator_id.in_([catalogue.indicators[c].id for c in indicators]),
                        FigureSpan.programme_id.in_([catalogue.programmes[p].id for p in programmes]))
                 .group_by(*keys))
    if unit.level > 1:
        statement = statement.where(FigureSpan.org_unit_id == unit.id)
    names = ["indicator", "component", "programme", *(["org_unit"] if by_unit else [])]
    rows = session.connection().execute(statement).fetchall()
    frame = pd.DataFrame(rows, columns=[*names, "flow", "stock"])
    if frame.empty:
        return pd.DataFrame(columns=[*names, "value"])
    stock_ids = {catalogue.indicators[c].id for c in indicators if catalogue.indicators[c].time_aggregation == "last"}
    hundredths = frame["stock"].where(frame["indicator"].isin(stock_ids), frame["flow"])
    frame = frame[hundredths.notna()].copy()
    # Exact sums of hundredths, divided once: the float the data values' exact SUM gives (PostgreSQL).
    frame["value"] = [int(h) / 100 for h in hundredths[hundredths.notna()]]
    return frame[[*names, "value"]]


def _quarters_of(period: str) -> list[str]:
    return [q.id for q in parse_period(period).financial_year().quarters()]


def refresh(session: Session) -> int:
    """Settle again the spans of every return listed stale; the number of (programme, county, year) settled.

    Works with ids read from the database, never a cached catalogue: a programme or option made a moment
    ago in the same transaction is settled like any other."""
    listed = select(FigureStale.programme_id, FigureStale.org_unit_id, FigureStale.period)
    stale = session.execute(listed).all()
    if not stale:
        return 0  # a commit that changed no approval takes no lock
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
        stale = session.execute(listed).all()  # what the commits we waited for left listed, and ours
    kept_under = grain(session.execute(select(OrgUnit.id, OrgUnit.level, OrgUnit.path)).all())
    groups: dict[tuple[int, str], set[int]] = {}  # (programme id, first quarter of the year): counties
    for programme_id, unit_id, period in stale:
        try:
            year = _quarters_of(period)[0]
        except PeriodError:  # a period no quarter holds has no figures to settle
            continue
        groups.setdefault((programme_id, year), set()).add(kept_under[unit_id])
    under: dict[int, list[int]] = {}  # county (or Kenya) → the reporting units kept under it
    for unit_id, kept in kept_under.items():
        under.setdefault(kept, []).append(unit_id)
    for (programme_id, first), counties in groups.items():
        quarters = _quarters_of(first)
        frame = _approved(session, programme_id, quarters, [i for county in counties for i in under[county]],
                          everywhere=len(counties) == len(under))
        figures = span_figures(frame, quarters, kept_under)
        county_ids = sorted(counties)
        for start in range(0, len(county_ids), CHUNK):
            session.execute(delete(FigureSpan).where(
                FigureSpan.programme_id == programme_id, FigureSpan.org_unit_id.in_(county_ids[start:start + CHUNK]),
                FigureSpan.first_quarter.in_(quarters)).execution_options(synchronize_session=False))
        rows = [{"first_quarter": r.first, "last_quarter": r.last, "programme_id": programme_id,
                 "org_unit_id": int(r.org_unit), "indicator_id": int(r.indicator), "component": r.component,
                 "flow": int(r.flow), "stock": None if pd.isna(r.stock) else int(r.stock)}
                for r in figures.itertuples(index=False)]
        for start in range(0, len(rows), 5_000):
            session.execute(insert(FigureSpan), rows[start:start + 5_000])
    for start in range(0, len(stale), CHUNK):
        session.execute(delete(FigureStale).where(tuple_(FigureStale.programme_id, FigureStale.org_unit_id,
                                                         FigureStale.period).in_(stale[start:start + CHUNK]))
                        .execution_options(synchronize_session=False))
    return sum(len(counties) for counties in groups.values())


def rebuild(session: Session) -> int:
    """Settle every approved return's spans again (after figures loaded with the triggers off, as bench/scale.py
    loads them): list them all stale, then refresh."""
    session.execute(delete(FigureSpan))
    session.execute(text("INSERT INTO figure_stale (programme_id, org_unit_id, period) SELECT DISTINCT programme_id, "
                         "org_unit_id, period FROM data_return WHERE state = 'approved' ON CONFLICT DO NOTHING"))
    return refresh(session)


def _approved(session: Session, programme_id: int, quarters: list[str], unit_ids: list[int], *,
              everywhere: bool) -> pd.DataFrame:
    """The approved values of a programme's year at these units, in hundredths, by ids (compile_span's columns;
    option `total` for the total option, else its id)."""
    from indicators.compile import stored_periods
    from mel.results.queries import rows_frame

    statement = (select(DataValue.indicator_id, DataValue.component,
                        case((OptionCombo.is_total, "total"), else_=cast(DataValue.option_combo_id, String)),
                        DataValue.programme_id, DataValue.org_unit_id, DataValue.period, DataValue.value)
                 .join(Return, Return.id == DataValue.return_id)
                 .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
                 .where(Return.state == "approved", DataValue.programme_id == programme_id,
                        DataValue.period.in_(stored_periods(quarters))))
    if not everywhere:
        chunks = [unit_ids[s:s + CHUNK * 5] for s in range(0, len(unit_ids), CHUNK * 5)]
        statement = statement.where(or_(*(DataValue.org_unit_id.in_(c) for c in chunks)))
    names = ["indicator", "component", "option", "programme", "org_unit", "period", "value"]
    frame = rows_frame(session.connection().execute(statement).fetchall(), names)
    if frame.empty:
        return frame
    # Hundredths as whole numbers (values keep two decimals): the spans add up exactly.
    frame["value"] = np.rint(frame["value"].astype(float) * 100).astype(np.int64)
    return frame


def _returns_changed(state) -> None:
    if (state.is_update or state.is_insert or state.is_delete) and any(
            m.class_ is Return for m in state.all_mappers):
        state.session.info[CHANGED] = True


def _flushing(session: Session, _context, _instances) -> None:
    if any(isinstance(o, Return) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[CHANGED] = True


def _committing(session: Session) -> None:
    if session.info.pop(CHANGED, False) and inspect(session.connection()).has_table(FigureStale.__tablename__):
        refresh(session)  # (a database still before migration 0035, e.g. during `mel returns repair`, has none)


def _forget(session: Session, *_args) -> None:
    session.info.pop(CHANGED, None)


def listen() -> None:
    """Settle the spans of the returns a session changed before it commits (every session)."""
    if not event.contains(Session, "before_commit", _committing):
        event.listen(Session, "do_orm_execute", _returns_changed)
        event.listen(Session, "before_flush", _flushing)
        event.listen(Session, "before_commit", _committing)
        event.listen(Session, "after_rollback", _forget)
