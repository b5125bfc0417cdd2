"""`Catalogue.rules_for` leaves out only rules that `rule_issues` would skip: same issues either way."""

from __future__ import annotations

from itertools import combinations

import pandas as pd
import pytest

from indicators.expressions import Expression
from indicators.validation import VALUE_KEY, Rule, rule_issues
from mel.catalogue.lookup import Catalogue, load_catalogue

STRATEGIES = ("skip_if_any_missing", "skip_if_all_missing", "never_skip")
# Each rule is broken by the figures below whenever it is evaluated (A=5, B=3, C=1, D=2).
SHAPES = [("XA01", "<=", "XB01"), ("XA01 - XC01", "<=", "XB01"), ("XB01", ">=", "XA01 + XD01"),
          ("XC01", ">", "2"), ("XA01", "==", "XA01 + 1")]
RULES = [Rule(f"R{n}{k}", f"rule {n}", Expression.parse(left), op, Expression.parse(right),
              "warning", "medium", strategy)
         for n, (left, op, right) in enumerate(SHAPES) for k, strategy in enumerate(STRATEGIES)]
FIGURES = {"XA01": 5.0, "XB01": 3.0, "XC01": 1.0, "XD01": 2.0}


def _catalogue() -> Catalogue:
    return Catalogue(indicators={}, specs={}, combos={}, combo_codes={}, org_units={}, org_unit_lookup={},
                     programmes={}, forms={}, rules=RULES)


def _frame(codes) -> pd.DataFrame:
    return pd.DataFrame([("P", "001", "2026Q3", code, "value", "default", FIGURES[code]) for code in codes],
                        columns=[*VALUE_KEY, "number"])


SUBSETS = [subset for n in range(1, 5) for subset in combinations(FIGURES, n)]


@pytest.mark.parametrize("codes", SUBSETS, ids="-".join)
def test_same_issues_as_every_rule(codes):
    frame = _frame(codes)
    kept = _catalogue().rules_for(frame["indicator"].unique())
    every = rule_issues(frame, RULES)
    assert [i.message for i in rule_issues(frame, kept)] == [i.message for i in every]
    # Only rules that could not apply were left out, and some were for most subsets.
    assert {i.location["rule"] for i in every} <= {r.code for r in kept}


@pytest.mark.parametrize(("codes", "left_out"), [
    # R<shape><0 any missing, 1 all missing, 2 never skip>
    (["XA01"], {"R00", "R10", "R20", "R30", "R31"}),
    (list(FIGURES), set()),
    (["XD01"], {"R00", "R01", "R10", "R11", "R20", "R30", "R31", "R40", "R41"}),
    ([], {"R00", "R01", "R10", "R11", "R20", "R21", "R30", "R31", "R40", "R41"}),
])
def test_rules_left_out(codes, left_out):
    kept = {r.code for r in _catalogue().rules_for(codes)}
    assert {r.code for r in RULES} - kept == left_out
    assert all(r.code in kept for r in RULES if r.missing_strategy == "never_skip")


def test_seeded_catalogue(session):
    """On the seeded rules: a return of each form gets the same rule issues with the rules kept."""
    catalogue = load_catalogue(session)
    checked = 0
    for programme_id, form in catalogue.forms.items():
        codes = sorted(item.indicator.code for item in form.items_in("2026Q3"))
        frame = pd.DataFrame(
            [(catalogue.programme_codes[programme_id], "001", "2026Q3", code, component, "default", 1.0 + n)
             for n, code in enumerate(codes) for component in catalogue.specs[code].components],
            columns=[*VALUE_KEY, "number"])
        kept = catalogue.rules_for(frame["indicator"].unique())
        assert len(kept) <= len(catalogue.rules)
        assert [i.message for i in rule_issues(frame, kept, catalogue.names)] == \
            [i.message for i in rule_issues(frame, catalogue.rules, catalogue.names)]
        checked += 1
    assert checked == len(catalogue.forms) > 0
