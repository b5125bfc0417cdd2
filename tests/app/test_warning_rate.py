"""The targets of the warnings, on the demo history, with the bench's own replay (bench/warnings.py).

At most one warning per five returns on plausible history, no validation rule firing on it, and
every planted anomaly caught. Quality targets, not timings.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from indicators.history import HistorySettings
from mel.catalogue.lookup import load_catalogue

BENCH = Path(__file__).resolve().parents[2] / "bench" / "warnings.py"


def bench_module():
    spec = importlib.util.spec_from_file_location("bench_warnings", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_warnings"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # replays eight quarters of the demo's 2,008 returns
def test_plausible_history_gives_few_warnings_and_every_planted_anomaly_is_caught(session):
    bench = bench_module()
    catalogue = load_catalogue(session)
    values = bench.approved_values(session, catalogue)
    assert len(values) > 60_000
    before = bench.replay(values, catalogue, HistorySettings.unfiltered())
    after = bench.replay(values, catalogue, HistorySettings())
    assert after.returns == before.returns > 1700
    assert after.warnings / after.returns <= 0.2 < before.warnings / before.returns
    assert {code: fired for code, (applies, fired) in after.by_rule.items() if fired} == {}
    recall = bench.plant(values, catalogue, HistorySettings(), per_kind=15)
    assert {kind: (r["caught"], r["planted"]) for kind, r in recall.items()} == {
        kind: (15, 15) for kind in bench.KINDS}
