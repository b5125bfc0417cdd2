"""History and peer checks: every threshold kind, both directions, seasonal, unchanged, share, copies."""

from __future__ import annotations

import pandas as pd
import pytest

from indicators.history import (
    DEFAULTS,
    HistorySettings,
    Thresholds,
    figure_warnings,
    history_issues,
    thresholds_of,
)
from indicators.periods import parse_period
from indicators.validation import VALUE_KEY, IndicatorSpec, Names, ratio_issues

SPECS = {
    "SA01": IndicatorSpec("SA01", "count", None, ("F_A70P", "M_A70P"), has_total=True),
    "SA10": IndicatorSpec("SA10", "amount", None, ("default",), time_aggregation="sum"),
    "SA12": IndicatorSpec("SA12", "ratio", 100, ("default",)),
    "SPX12": IndicatorSpec("SPX12", "ratio", 1, ("default",)),
    "SA14": IndicatorSpec("SA14", "count", None, ("default",), time_aggregation="sum", seasonal=True),
    "SA15": IndicatorSpec("SA15", "count", None, ("default",), time_aggregation="sum"),
    "SA13": IndicatorSpec("SA13", "amount", None, ("default",), min_change=0.05, min_absolute=50),
}
NAMES = Names(indicators={"SA01": "Number of Inua Jamii beneficiaries paid"},
              options={("SA01", "F_A70P"): "women 70+"}, org_units={"042": "Kisumu", "047": "Nairobi"})
NOW = "2025Q3"
DEFAULT = HistorySettings()


def quarters(n: int, before: str = NOW) -> list[str]:
    """The n quarters before `before`, oldest first."""
    start = parse_period(before)
    return [start.shift(-k).id for k in range(n, 0, -1)]


def rows(indicator: str, component: str, option: str, values: list[float], periods: list[str],
         unit: str = "042") -> list[dict]:
    return [dict(zip(VALUE_KEY, ("OPCT", unit, p, indicator, component, option), strict=True), number=float(v))
            for p, v in zip(periods, values, strict=True)]


def check(indicator: str, history: list[float], now: float, *, component: str = "value", option: str = "default",
          settings: HistorySettings = DEFAULT, specs=SPECS):
    past = pd.DataFrame(rows(indicator, component, option, history, quarters(len(history))))
    current = pd.DataFrame(rows(indicator, component, option, [now], [NOW]))
    return history_issues(current, past, specs, settings, NAMES)


STEADY = [1000, 1010, 990, 1005, 1020, 1000, 995, 1010]


# --------------------------------------------------------------------------- the table of thresholds


@pytest.mark.parametrize(("now", "flagged"), [
    (1015, False),   # ordinary variation
    (1100, False),   # z-score far (MAD ≈ 7.5) but +10% is below the 33% minimum change
    (1300, False),   # +30%: still below
    (1350, True),    # +35% and 350 people: material
    (650, True),     # -35%: a fall counts as much as a rise
    (700, False),    # -30%
])
def test_counts_need_a_relative_change_as_well_as_the_z_score(now, flagged):
    issues = check("SA15", STEADY, now)
    assert [i.code for i in issues] == (["outlier"] if flagged else [])


@pytest.mark.parametrize(("history", "now", "flagged"), [
    ([10, 11, 9, 10, 10, 11, 10, 9], 40, False),    # +300% but 30 people: below the 50 minimum
    ([10, 11, 9, 10, 10, 11, 10, 9], 70, True),     # 60 more people
    ([100, 104, 98, 101, 99, 100, 102, 97], 10, True),  # a dropped zero: 90 fewer
    ([0, 0, 0, 0, 0, 0, 0, 0], 30, False),          # a new small cell
    ([0, 0, 0, 0, 0, 0, 0, 0], 80, True),
])
def test_counts_need_an_absolute_change(history, now, flagged):
    assert bool(check("SA15", history, now)) is flagged


@pytest.mark.parametrize(("history", "now", "flagged"), [
    ([75.3, 75.0, 75.6, 75.2, 75.4, 75.3, 75.5, 75.1], 72.3, False),  # the issue's 3 points
    ([75.3, 75.0, 75.6, 75.2, 75.4, 75.3, 75.5, 75.1], 69.0, True),   # 6.3 points
    ([75.3, 75.0, 75.6, 75.2, 75.4, 75.3, 75.5, 75.1], 81.0, True),   # up as well as down
    ([40.0, 41.0, 39.0, 40.0, 40.5, 39.5, 40.0, 40.0], 44.0, False),  # +10% but 4 points
])
def test_percentages_need_a_change_in_points(history, now, flagged):
    assert bool(check("SA12", history, now, component="ratio")) is flagged


def test_other_ratios_use_the_relative_change():
    days = [26, 25, 27, 26, 26, 25, 27, 26]
    assert check("SPX12", days, 29, component="ratio") == []          # +11%
    assert [i.code for i in check("SPX12", days, 40, component="ratio")] == ["outlier"]  # +54%


def test_the_catalogue_thresholds_replace_the_measure_defaults():
    assert thresholds_of(SPECS["SA15"]) == DEFAULTS["count"]
    assert thresholds_of(SPECS["SA13"]) == Thresholds(0.05, 50, 0.0)
    real_value = [1460, 1462, 1458, 1461, 1459, 1460, 1461, 1460]
    assert check("SA13", real_value, 1560) != []   # +7%, KES 100: material for this indicator
    assert check("SA10", real_value, 1560) == []   # the same change on an amount with defaults is not


def test_short_history_compares_with_the_last_point_by_the_band_and_the_thresholds():
    assert check("SA15", [1000, 1100], 1400) == []                  # +27% within ±50%
    assert check("SA15", [1000, 1000], 1540) != []                  # +54%
    issues = check("SA15", [1000, 1100], 1700)
    assert [i.code for i in issues] == ["change"] and "+55%" in issues[0].message
    assert check("SA15", [10, 11], 40) == []                        # +264% but 29 people


def test_without_thresholds_the_old_check_is_back():
    old = HistorySettings.unfiltered()
    assert [i.code for i in check("SA15", STEADY, 1100, settings=old)] == ["outlier"]
    assert [i.code for i in check("SA15", [500] * 6, 501, settings=old)] == ["outlier"]
    assert check("SA15", [500] * 6, 501) == []


# --------------------------------------------------------------------------- seasonal


def test_seasonal_indicators_compare_the_same_quarter_of_earlier_years():
    # An enrolment wave every April–June (calendar Q2): 5,000 in the wave quarter, 300 otherwise.
    periods = quarters(12, "2025Q2")
    history = [5000 if p.endswith("Q2") else 300 for p in periods]
    past = pd.DataFrame(rows("SA14", "value", "default", history, periods))

    def seasonal(value: float, period: str = "2025Q2", specs=SPECS):
        return history_issues(pd.DataFrame(rows("SA14", "value", "default", [value], [period])), past, specs)

    assert seasonal(5100) == []                      # the wave, as every year
    missing = seasonal(320)                          # no wave this year
    assert [i.code for i in missing] == ["change"] and "from the same quarter last year (5,000)" in missing[0].message
    slip = seasonal(51000)                           # a tenfold slip in the wave quarter
    assert [i.code for i in slip] == ["change"]
    assert [i.code for i in seasonal(3000, "2025Q3")] == ["change"]   # a slip in a quiet quarter
    assert seasonal(310, "2025Q3") == []
    # Compared with the quarters just before, the missing wave would look ordinary.
    plain = {**SPECS, "SA14": IndicatorSpec("SA14", "count", None, ("default",), time_aggregation="sum")}
    assert seasonal(320, specs=plain) == []


def test_a_share_over_few_cases_moves_by_chance():
    # 9 grievances a quarter: one more resolved in time moves the share by 11 points.
    small = pd.DataFrame(rows("SA12", "numerator", "default", [6] * 8, quarters(8))
                         + rows("SA12", "denominator", "default", [9] * 8, quarters(8)))
    now = pd.DataFrame(rows("SA12", "numerator", "default", [8], [NOW]) + rows("SA12", "denominator", "default", [9], [NOW]))
    assert figure_warnings(now, small, SPECS) == []
    large = small.assign(number=small["number"] * 100)
    assert [i.code for i in figure_warnings(now.assign(number=now["number"] * 100), large, SPECS)] == ["outlier"]


# --------------------------------------------------------------------------- unchanged flows


@pytest.mark.parametrize(("indicator", "history", "now", "flagged"), [
    ("SA15", [900, 1200, 1200], 1200, True),     # a flow, third time the same
    ("SA15", [1200, 1100, 1200], 1200, False),   # only twice
    ("SA15", [300, 300, 300], 300, False),       # small counts repeat by chance
    ("SA01", [900, 1200, 1200], 1200, False),    # a stock may stay
])
def test_a_flow_unchanged_for_three_quarters_is_its_own_warning(indicator, history, now, flagged):
    option = "F_A70P" if indicator == "SA01" else "default"
    past = pd.DataFrame(rows(indicator, "value", option, history, quarters(3)))
    current = pd.DataFrame(rows(indicator, "value", option, [now], [NOW]))
    codes = [i.code for i in figure_warnings(current, past, SPECS)]
    assert ("unchanged" in codes) is flagged


# --------------------------------------------------------------------------- peers


COUNTIES = ["001", "002", "003", "004", "005", "042"]


def peer_frame(values_now: dict[str, float], values_before: dict[str, float], indicator: str = "SA15") -> pd.DataFrame:
    records = []
    for unit, v in values_now.items():
        records += rows(indicator, "value", "default", [v], [NOW], unit)
    for unit, v in values_before.items():
        records += rows(indicator, "value", "default", [v], ["2025Q2"], unit)
    return pd.DataFrame(records)


def test_cells_of_one_indicator_that_move_together_are_one_warning():
    periods = quarters(8)
    past = pd.DataFrame(rows("SA01", "value", "F_A70P", STEADY, periods) + rows("SA01", "value", "M_A70P", STEADY, periods))
    drive = pd.DataFrame(rows("SA01", "value", "F_A70P", [2000], [NOW]) + rows("SA01", "value", "M_A70P", [2100], [NOW]))
    issues = history_issues(drive, past, SPECS, names=NAMES)
    assert len(issues) == 1 and "option" not in issues[0].location
    assert "2 of its disaggregated figures are far from their usual levels: women 70+ 2,000 (usually 1,003); " \
           "M_A70P 2,100" in issues[0].message


def test_a_county_share_that_jumps_is_flagged():
    before = {u: 1000.0 for u in COUNTIES}
    now_others = {u: 1010.0 for u in COUNTIES if u != "042"}
    past = pd.DataFrame(rows("SA15", "value", "default", [1000], ["2025Q2"]))
    peers = peer_frame(now_others, {u: v for u, v in before.items() if u != "042"})
    jump = pd.DataFrame(rows("SA15", "value", "default", [2600], [NOW]))
    issues = [i for i in figure_warnings(jump, past, SPECS, peers=peers, names=NAMES) if i.code == "share"]
    assert len(issues) == 1 and "Kisumu's share of the national figure moved from 16.7%" in issues[0].message
    steady = pd.DataFrame(rows("SA15", "value", "default", [1020], [NOW]))
    assert not [i for i in figure_warnings(steady, past, SPECS, peers=peers) if i.code == "share"]
    few = peer_frame({"001": 1010.0}, {"001": 1000.0})
    assert not [i for i in figure_warnings(jump, past, SPECS, peers=few) if i.code == "share"]


def test_a_return_copied_from_another_county_is_flagged():
    figures = [("SA15", 1234.0), ("SA10", 2_500_000.0), ("SA14", 456.0), ("SA11", 3.0)]
    def ret(unit, scale=1.0):
        out = []
        for code, v in figures:
            out += rows(code, "value", "default", [round(v * scale) if code != "SA11" else v], [NOW], unit)
        return pd.DataFrame(out)
    peers = pd.concat([ret("047"), ret("001", 1.3)])
    issues = [i for i in figure_warnings(ret("042"), pd.DataFrame(columns=[*VALUE_KEY, "number"]), SPECS,
                                         peers=peers, names=NAMES) if i.code == "copied"]
    assert len(issues) == 1 and issues[0].location["copied_from"] == "047"
    assert "3 of this return's 3 figures are identical to Nairobi's return" in issues[0].message
    own = ret("042", 0.9)
    assert not [i for i in figure_warnings(own, pd.DataFrame(columns=[*VALUE_KEY, "number"]), SPECS, peers=peers)
                if i.code == "copied"]


# --------------------------------------------------------------------------- planted anomalies


@pytest.mark.parametrize("plant", [lambda x: x * 10, lambda x: x / 10, lambda x: x * 100])
def test_typing_slips_are_caught(plant):
    issues = check("SA15", STEADY, round(plant(1005)))
    assert [i.code for i in issues] == ["outlier"]


def test_swapped_numerator_and_denominator_are_caught():
    swapped = pd.DataFrame(rows("SA12", "numerator", "default", [1000], [NOW])
                           + rows("SA12", "denominator", "default", [850], [NOW]))
    assert [i.code for i in ratio_issues(swapped.assign(value=""), SPECS)] == ["numerator_above_denominator"]
    past = pd.DataFrame(rows("SPX12", "numerator", "default", [2600] * 8, quarters(8))
                        + rows("SPX12", "denominator", "default", [100] * 8, quarters(8)))
    days = pd.DataFrame(rows("SPX12", "numerator", "default", [100], [NOW])
                        + rows("SPX12", "denominator", "default", [2600], [NOW]))
    assert [i.code for i in figure_warnings(days, past, SPECS)] == ["outlier"]


# --------------------------------------------------------------------------- words


def test_messages_name_the_county_period_indicator_and_option():
    issues = check("SA01", STEADY, 1600, option="F_A70P")
    message = issues[0].message
    assert message.startswith("Kisumu, FY2025/26 Q1 — Number of Inua Jamii beneficiaries paid (SA01), women 70+: ")
    assert "median 1,003 over the last 8 quarters; +60%" in message
    assert "explain what happened" in message
    assert issues[0].location == {"programme": "OPCT", "org_unit": "042", "period": NOW, "indicator": "SA01",
                                  "option": "F_A70P"}
    pct = check("SA12", [75.3, 75.0, 75.6, 75.2, 75.4, 75.3, 75.5, 75.1], 60.0, component="ratio")
    assert "60.0% is far from its usual level (median 75.3%" in pct[0].message and "-15.3 points" in pct[0].message
