"""Property: whatever a file holds, every stored figure sits in the return of its own
programme, org unit and period, and sending the same file again changes nothing.

Files mix counties × quarters × indicators of one programme in any row order, with each
county spelt as its code (042), its number (42), its name (Kisumu) or its ISO code (KE-17).
Each example is imported through the ingest service, then re-sent through `mel import` and
`POST /api/v1/returns:import` after the returns have moved to various states.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mel.accounts.operations import create_token
from mel.catalogue.models import Indicator, OptionCombo, OrgUnit, Programme
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import DataValue, Return, ValueChange
from mel.returns.workbook import read_return_file
from mel.returns.workflow import move
from tests.app.returns_helpers import user

PROGRAMME = "OPCT"
# FY2025/26: the demo history ends with 2025Q2, so these returns start empty.
QUARTERS = ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
# Every window of FY2025/26 has opened; all but the last have closed (the secretariat may send).
NOW = datetime(2026, 7, 5, 9, 0, tzinfo=UTC)
COUNTIES = ["042", "001", "047", "023", "030"]
# Figures of OPCT indicators that no error rule ties together (VR01 ties SA02 to SA01).
FIGURES = {
    "SPX10": [("SPX10", "F"), ("SPX10", "M")],
    "SA14": [("SA14", "F_A70P"), ("SA14", "M_A70P"), ("SA14", "F_A60_69")],
    "SA15": [("SA15", "default")],
    "SA10": [("SA10", "default")],
    "SPX12": [("SPX12.N", "default"), ("SPX12.D", "default")],
}
SPELLINGS = ("code", "number", "name", "iso")
STATES = ("draft", "submitted", "approved", "returned", "reopened")
PATHS = {"submitted": ["submitted"], "approved": ["submitted", "approved"],
         "returned": ["submitted", "returned"], "reopened": ["submitted", "approved", "reopened"]}


def spelt(unit: OrgUnit, how: str) -> str:
    return {"code": unit.code, "number": str(int(unit.code)), "name": unit.name,
            "iso": unit.iso_code}[how]


@st.composite
def files(draw):
    """A set of figures of one programme, with the row order and spellings of one file."""
    counties = draw(st.lists(st.sampled_from(COUNTIES), min_size=1, max_size=3, unique=True))
    quarters = draw(st.lists(st.sampled_from(QUARTERS), min_size=1, max_size=4, unique=True))
    indicators = draw(st.lists(st.sampled_from(sorted(FIGURES)), min_size=1, max_size=4, unique=True))
    figures = {}
    for county in counties:
        for quarter in quarters:
            for indicator in indicators:
                if indicator == "SPX12":
                    denominator = draw(st.integers(1, 50))
                    figures[(county, quarter, "SPX12.N", "default")] = str(draw(st.integers(0, 500)))
                    figures[(county, quarter, "SPX12.D", "default")] = str(denominator)
                    continue
                for code, option in FIGURES[indicator]:
                    if code == "SA10":
                        value = f"{draw(st.integers(0, 10**9))}.{draw(st.integers(0, 99)):02d}"
                    else:
                        value = str(draw(st.integers(0, 200_000)))
                    figures[(county, quarter, code, option)] = value
    # Some figures come twice, the county spelt another way: the same figure, merged.
    repeated = draw(st.lists(st.sampled_from(sorted(figures)), max_size=3))
    rows = [(key, draw(st.sampled_from(SPELLINGS))) for key in [*sorted(figures), *repeated]]
    order = draw(st.permutations(rows))
    states = {(county, quarter): draw(st.sampled_from(STATES)) for county in counties for quarter in quarters}
    return figures, list(order), states


def to_csv(session, figures, rows) -> bytes:
    """A CSV of `rows` ((county, quarter, code, option), spelling), in their order."""
    units = {u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(COUNTIES)))}
    frame = pd.DataFrame(
        [{"indicator": code, "option": option, "org_unit": spelt(units[county], how),
          "period": quarter, "value": figures[key], "comment": ""}
         for key, how in rows for county, quarter, code, option in [key]])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def misplaced(session) -> int:
    """Stored figures whose return is of another programme, org unit or period."""
    return session.scalar(
        select(func.count()).select_from(DataValue).join(Return, Return.id == DataValue.return_id)
        .where(or_(Return.programme_id != DataValue.programme_id, Return.org_unit_id != DataValue.org_unit_id,
                   Return.period != DataValue.period)))


def stored(session) -> dict:
    """The programme's FY2025/26 figures by (county, quarter, code, option), with their own return's key."""
    suffix = {"numerator": ".N", "denominator": ".D", "value": ""}
    rows = session.execute(
        select(OrgUnit.code, DataValue.period, Indicator.code, DataValue.component, OptionCombo.code,
               DataValue.value, Return.org_unit_id, DataValue.org_unit_id, Return.period)
        .join(OrgUnit, OrgUnit.id == DataValue.org_unit_id)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
        .join(Programme, Programme.id == DataValue.programme_id)
        .join(Return, Return.id == DataValue.return_id)
        .where(Programme.code == PROGRAMME, DataValue.period.in_(QUARTERS))).all()
    for row in rows:
        assert (row[6], row[8]) == (row[7], row[1]), f"{row} sits in another return"
    return {(unit, period, code + suffix[component], option): Decimal(value)
            for unit, period, code, component, option, value, *_ in rows}


def snapshot(session) -> tuple:
    """Everything a no-op import must leave as it was."""
    session.expire_all()
    values = session.execute(
        select(DataValue.id, DataValue.return_id, DataValue.value, DataValue.comment, DataValue.explanation,
               DataValue.updated_at).where(DataValue.period.in_(QUARTERS)).order_by(DataValue.id)).all()
    returns = session.execute(
        select(Return.id, Return.state, Return.version, Return.updated_at)
        .where(Return.period.in_(QUARTERS)).order_by(Return.id)).all()
    audit = session.scalar(select(func.count()).select_from(ValueChange))
    return values, returns, audit


def set_states(session, states) -> None:
    secretariat = user(session, "secretariat@demo.test")
    units = dict(session.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.in_(COUNTIES))).all())
    programme_id = session.scalar(select(Programme.id).where(Programme.code == PROGRAMME))
    for (county, quarter), state in states.items():
        record = session.scalar(select(Return).where(and_(
            Return.programme_id == programme_id, Return.org_unit_id == units[county], Return.period == quarter)))
        for step in PATHS.get(state, []):
            move(session, record, step, secretariat, reason="property test", now=NOW)
    session.commit()


@pytest.mark.slow
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(drawn=files())
def test_every_figure_lands_in_its_own_return_and_resending_changes_nothing(drawn, session, client, runner,
                                                                             tmp_path):
    figures, rows, states = drawn
    session.rollback()
    example = session.bind.begin_nested()  # each example starts from the fixture's database
    try:
        data = to_csv(session, figures, rows)
        first = ingest(session, user(session, "secretariat@demo.test"),
                       Incoming(read_return_file(data, "year.csv"), "csv", "year.csv", data),
                       programme=PROGRAMME, now=NOW)
        assert first.outcome == "stored", [e.message for e in first.errors]
        assert first.total("created") == len(figures)
        session.commit()
        assert misplaced(session) == 0
        assert stored(session) == {key: Decimal(value) for key, value in figures.items()}
        assert len({(o.org_unit, o.period) for o in first.returns}) == len(first.returns) == len(states)

        set_states(session, states)
        before = snapshot(session)
        path = tmp_path / "year.csv"
        path.write_bytes(data)
        token = create_token(session, "secretariat@demo.test").token
        session.commit()
        with time_machine.travel(NOW, tick=False):
            again = runner.invoke(args=["import", str(path), "--programme", PROGRAMME])
            assert again.exit_code == 0, again.output
            assert f"0 created, 0 updated, 0 deleted, {len(figures)} unchanged" in again.output
            assert snapshot(session) == before
            posted = client.post(f"/api/v1/returns:import?programme={PROGRAMME}",
                                 data={"file": (io.BytesIO(data), "year.csv")},
                                 headers={"Authorization": f"Bearer {token}"})
            assert posted.status_code == 200, posted.get_json()
            body = posted.get_json()
            assert (body["created"], body["updated"], body["deleted"]) == (0, 0, 0)
            assert body["unchanged"] == len(figures)
        assert snapshot(session) == before
        assert misplaced(session) == 0
        assert stored(session) == {key: Decimal(value) for key, value in figures.items()}
    finally:
        session.rollback()
        example.rollback()
        session.expire_all()


def test_a_year_for_one_county_fills_four_returns(session):
    """The issue's example, pinned: four quarters of one county are four returns, not one."""
    figures = {("042", quarter, "SA15", "default"): str(100 + n) for n, quarter in enumerate(QUARTERS)}
    order = [(key, "code") for key in sorted(figures)]
    random.Random(4).shuffle(order)
    data = to_csv(session, figures, order)
    result = ingest(session, user(session, "secretariat@demo.test"),
                    Incoming(read_return_file(data, "kisumu.csv"), "csv", "kisumu.csv", data),
                    programme=PROGRAMME, now=NOW)
    assert result.outcome == "stored", [e.message for e in result.errors]
    assert misplaced(session) == 0
    assert stored(session) == {key: Decimal(v) for key, v in figures.items()}
    per_return = dict(session.execute(
        select(Return.period, func.count(DataValue.id)).join(DataValue, DataValue.return_id == Return.id)
        .where(Return.period.in_(QUARTERS)).group_by(Return.period)).all())
    assert per_return == dict.fromkeys(QUARTERS, 1)


def test_the_database_refuses_a_figure_filed_in_another_quarters_return(session):
    """The invariant is the database's, not only the ingest service's."""
    figures = {("042", quarter, "SA15", "default"): "7" for quarter in QUARTERS[:2]}
    data = to_csv(session, figures, [(key, "code") for key in sorted(figures)])
    ingest(session, user(session, "secretariat@demo.test"),
           Incoming(read_return_file(data, "two.csv"), "csv", "two.csv", data), programme=PROGRAMME, now=NOW)
    session.flush()
    first, second = session.scalars(select(Return).where(Return.period.in_(QUARTERS[:2])).order_by(Return.period))
    value = session.scalar(select(DataValue).where(DataValue.return_id == first.id))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(update(DataValue).where(DataValue.id == value.id).values(return_id=second.id))
    session.expire_all()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(DataValue).values(
            return_id=second.id, indicator_id=value.indicator_id, component="value",
            option_combo_id=value.option_combo_id, programme_id=value.programme_id,
            org_unit_id=value.org_unit_id, period="2026Q1", value=Decimal(1), comment="", explanation="",
            created_at=NOW, updated_at=NOW))


def test_an_officer_may_resend_unchanged_figures_after_the_window_closed_but_not_change_them(session):
    figures = {(county, quarter, "SA15", "default"): "31" for county in ("042", "001") for quarter in QUARTERS[:2]}
    data = to_csv(session, figures, [(key, "name") for key in sorted(figures)])
    in_window = datetime(2025, 10, 5, tzinfo=UTC)  # 2025Q3 open; 2025Q4 not yet: send it later
    officer = user(session, "officer.opct@demo.test")
    early = ingest(session, officer, Incoming(read_return_file(data, "o.csv"), "csv", "o.csv", data),
                   programme=PROGRAMME, now=in_window)
    assert early.outcome == "refused" and all("opens on" in e.message for e in early.errors)
    both_open = datetime(2026, 1, 5, tzinfo=UTC)  # 2025Q3 closed (14 Nov) for officers; 2025Q4 open
    refused = ingest(session, officer, Incoming(read_return_file(data, "o.csv"), "csv", "o.csv", data),
                     programme=PROGRAMME, now=both_open)
    assert refused.outcome == "refused" and all("closed on 14 November 2025" in e.message for e in refused.errors)
    stored_by_secretariat = ingest(session, user(session, "secretariat@demo.test"),
                                   Incoming(read_return_file(data, "o.csv"), "csv", "o.csv", data),
                                   programme=PROGRAMME, now=both_open)
    assert stored_by_secretariat.outcome == "stored"
    again = ingest(session, officer, Incoming(read_return_file(data, "o.csv"), "csv", "o.csv", data),
                   programme=PROGRAMME, now=both_open)
    assert again.outcome == "unchanged", [e.message for e in again.errors]
    assert again.describe().endswith("0 created, 0 updated, 0 deleted, 4 unchanged.")
    changed = data.replace(b",31,", b",32,", 1)
    late = ingest(session, officer, Incoming(read_return_file(changed, "o.csv"), "csv", "o.csv", changed),
                  programme=PROGRAMME, now=both_open)
    assert late.outcome == "refused" and "closed on 14 November 2025" in late.errors[0].message
