"""Demo history: eight approved quarters, plausible and internally consistent."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from mel.catalogue.models import Indicator, OptionCombo, Programme
from mel.returns.models import DataValue, Return


def test_eight_quarters_of_two_financial_years(session):
    periods = list(session.scalars(select(Return.period).distinct().order_by(Return.period)))
    assert periods == ["2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    states = set(session.scalars(select(Return.state).distinct()))
    assert states == {"approved"}


def test_every_expected_return_exists(session):
    # OPCT reports for 47 counties in each of 8 quarters.
    opct = session.scalar(select(Programme).where(Programme.code == "OPCT"))
    count = session.scalar(select(func.count()).select_from(Return).where(Return.programme_id == opct.id))
    assert count == 47 * 8


def test_percentages_never_have_a_numerator_above_the_denominator(session):
    rows = session.execute(
        select(DataValue.indicator_id, DataValue.option_combo_id, DataValue.org_unit_id,
               DataValue.programme_id, DataValue.period, DataValue.component, DataValue.value)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(Indicator.factor == 100)
    ).all()
    pairs: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
    for *key, component, value in rows:
        pairs[tuple(key)][component] = value
    assert pairs
    for key, pair in pairs.items():
        assert set(pair) == {"numerator", "denominator"}, key
        assert pair["numerator"] <= pair["denominator"], key
        assert pair["denominator"] > 0 or pair["numerator"] == 0, key


def test_counts_are_whole_numbers_and_the_june_2024_enrolment_shows(session):
    sa02 = session.scalar(select(Indicator).where(Indicator.code == "SA02"))
    totals = dict(session.execute(
        select(DataValue.period, func.sum(DataValue.value))
        .where(DataValue.indicator_id == sa02.id).group_by(DataValue.period)
    ).all())
    assert all(Decimal(v) == int(v) for v in totals.values())
    assert 700_000 < totals["2023Q3"] < 900_000
    assert totals["2024Q2"] > totals["2024Q1"] * Decimal("1.15")


def test_annual_indicators_are_reported_with_the_april_june_return(session):
    spx13 = session.scalar(select(Indicator).where(Indicator.code == "SPX13"))
    periods = set(session.scalars(select(DataValue.period).where(DataValue.indicator_id == spx13.id)))
    assert periods == {"2024Q2", "2025Q2"}


def test_totals_are_not_stored_next_to_their_parts(session):
    total_values = session.scalar(
        select(func.count()).select_from(DataValue)
        .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
        .where(OptionCombo.is_total.is_(True))
    )
    assert total_values == 0
