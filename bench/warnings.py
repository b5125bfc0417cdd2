"""Benchmark of the warnings: how often plausible history is flagged, and whether anomalies are caught.

Replays the approved history quarter by quarter through the same checks the ingest service runs
(ratio, total and rule checks of `indicators/validation.py`; history, unchanged, share and copy
checks of `indicators/history.py`), each quarter against the quarters before it, and prints:

- per indicator and overall, the share of returns with at least one warning and the warnings
  per return, *before* (the robust z-score or the ±50% band alone, as the checks were before
  thresholds) and *after* (with the indicators' thresholds, seasonal comparison, and the newer
  kinds); target: at most 0.2 warnings per return after;
- each validation rule's false-positive rate (returns it applies to, returns it fires on);
- recall on planted anomalies: in the last four replayed quarters it plants, one at a time, a
  tenfold jump, a decimal slip (an amount typed without its decimal point, ×100; a count typed
  with a decimal point for a thousands separator, ÷1000), a dropped zero (÷10), numerator and
  denominator swapped, and a return copied from another county of the same programme, and
  counts those caught by an error or a warning on the planted figure (or, for a copy, on the
  return). A figure is planted on only where the anomaly changes it by at least the
  indicator's own minimum change (`indicators/history.py`, Thresholds), i.e. where it matters.
  Target: 100%.

    python bench/warnings.py                                  # the demo history, fresh SQLite
    python bench/warnings.py --database-url sqlite:////path/mel.sqlite3   # a database's history

The database named by --database-url is only read.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indicators.figures import split_code  # noqa: E402
from indicators.history import (  # noqa: E402
    HistorySettings,
    figure_warnings,
    is_percentage,
    thresholds_of,
)
from indicators.periods import parse_period  # noqa: E402
from indicators.validation import (  # noqa: E402
    VALUE_KEY,
    Issue,
    parse_numbers,
    ratio_issues,
    rule_issues,
    total_issues,
    value_issues,
)
from mel.app import create_app  # noqa: E402
from mel.catalogue.lookup import Catalogue, load_catalogue  # noqa: E402
from mel.db import db  # noqa: E402
from mel.returns.models import DataValue, Return  # noqa: E402

RETURN = ["programme", "org_unit", "period"]
HISTORY_QUARTERS = 12
PLANTS_PER_KIND = 60
KINDS = ("tenfold jump", "decimal slip", "dropped zero", "numerator and denominator swapped",
         "copied from another county")


# --------------------------------------------------------------------------- the history


def demo_database(workdir: Path) -> str:
    """A fresh SQLite database with the seeded catalogue and the demo history."""
    url = f"sqlite:///{workdir / 'warnings.sqlite3'}"
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(workdir), LOG_LEVEL="WARNING")
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["seed"], ["demo"]):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(f"mel {' '.join(args)} failed: {result.output}")
    return url


def load(url: str) -> tuple[pd.DataFrame, Catalogue]:
    """Every approved figure, and the catalogue."""
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=tempfile.mkdtemp(), LOG_LEVEL="WARNING")
    with app.app_context():
        catalogue = load_catalogue(db.session)
        frame = approved_values(db.session, catalogue)
        db.session.rollback()
    return frame, catalogue


def approved_values(session, catalogue: Catalogue) -> pd.DataFrame:
    rows = session.execute(
        select(DataValue.programme_id, DataValue.org_unit_id, DataValue.period, DataValue.indicator_id,
               DataValue.component, DataValue.option_combo_id, DataValue.value)
        .join(Return, Return.id == DataValue.return_id).where(Return.state == "approved")).all()
    return pd.DataFrame(
        [(catalogue.programme_codes[p], catalogue.org_unit_codes[o], per, catalogue.indicator_codes[i], comp,
          catalogue.combo_codes[c], float(v)) for p, o, per, i, comp, c, v in rows],
        columns=[*VALUE_KEY, "number"])


# --------------------------------------------------------------------------- the checks, as ingest runs them


def check(current: pd.DataFrame, history: pd.DataFrame, peers: pd.DataFrame, catalogue: Catalogue,
          settings: HistorySettings, *, typed: bool = False) -> list[Issue]:
    """Errors and warnings for the returns in `current`, as the ingest service finds them."""
    names = catalogue.names
    issues: list[Issue] = []
    if typed:  # planted figures go through the cell parser, as a typed file does
        measures = current["indicator"].map(lambda c: catalogue.specs[c].measure)
        parsed = parse_numbers(current.assign(value=current["number"].map(_as_typed)), measures)
        issues += value_issues(parsed, names)
        current = parsed[parsed["problem"] == ""].drop(columns=["value", "problem"])
    issues += ratio_issues(current, catalogue.specs, names) + total_issues(current, catalogue.specs, names)
    issues += rule_issues(current, catalogue.rules, names)
    issues += figure_warnings(current, history, catalogue.specs, settings, names, peers)
    return issues


def _as_typed(number: float) -> str:
    return f"{number:.0f}" if float(number).is_integer() else repr(float(number))


@dataclass
class Replay:
    returns: int = 0
    with_warning: int = 0
    warnings: int = 0
    by_kind: Counter = None  # type: ignore[assignment]
    returns_by_kind: Counter = None  # type: ignore[assignment]
    by_indicator: dict = None  # type: ignore[assignment]  # code -> [returns holding it, returns warned, warnings]
    by_rule: dict = None  # type: ignore[assignment]  # code -> [returns it applies to, returns it fires on]
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.by_kind, self.by_indicator, self.by_rule = Counter(), defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0])
        self.returns_by_kind = Counter()


def windows(values: pd.DataFrame):
    """(programme, period, current, history, peers) for every replayed quarter of every programme."""
    for programme, figures in values.groupby("programme"):
        periods = sorted(figures["period"].unique(), key=lambda p: parse_period(p))
        for period in periods[1:]:
            current = figures[figures["period"] == period]
            first = parse_period(period).shift(-HISTORY_QUARTERS).id
            history = figures[(figures["period"] < period) & (figures["period"] >= first)]
            previous = parse_period(period).previous().id
            peers = figures[figures["period"].isin([period, previous])]
            yield programme, period, current, history, peers


def replay(values: pd.DataFrame, catalogue: Catalogue, settings: HistorySettings) -> Replay:
    result = Replay()
    started = time.perf_counter()
    for _, _, current, history, peers in windows(values):
        issues = [i for i in check(current, history, peers, catalogue, settings) if not i.is_error]
        per_return: dict[tuple, list[Issue]] = defaultdict(list)
        for issue in issues:
            per_return[tuple(issue.location.get(k) for k in RETURN)].append(issue)
        for key, held in current.groupby(RETURN):
            mine = per_return.get(tuple(key), [])
            result.returns += 1
            result.with_warning += bool(mine)
            result.warnings += len(mine)
            warned = Counter(split_code(str(i.location.get("indicator", "")))[0] for i in mine)
            for code in held["indicator"].unique():
                row = result.by_indicator[code]
                row[0] += 1
                row[1] += bool(warned.get(code))
                row[2] += warned.get(code, 0)
            for issue in mine:
                result.by_kind[issue.code] += 1
            for kind in {issue.code for issue in mine}:
                result.returns_by_kind[kind] += 1
            for rule in catalogue.rules:
                if all(r.indicator in set(held["indicator"]) for r in rule.references):
                    result.by_rule[rule.code][0] += 1
                    result.by_rule[rule.code][1] += any(i.location.get("rule") == rule.code for i in mine)
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- planted anomalies


def _touches(issue: Issue, indicator: str, option: str, catalogue: Catalogue) -> bool:
    if issue.code == "rule":
        rule = next((r for r in catalogue.rules if r.code == issue.location.get("rule")), None)
        return rule is not None and indicator in rule.indicators
    code, _ = split_code(str(issue.location.get("indicator", "")))
    return code == indicator and issue.location.get("option", option) in (option, "total")


def _material(spec, before: float, after: float, ratio_before: float | None, ratio_after: float | None) -> bool:
    """Whether a planted change is one the indicator's thresholds call material."""
    th = thresholds_of(spec)
    if ratio_before is not None and ratio_after is not None:
        if is_percentage(spec):
            return abs(ratio_after - ratio_before) >= max(th.min_points, 0.0)
        return abs(ratio_after - ratio_before) >= th.min_change * abs(ratio_before)
    return abs(after - before) >= max(th.min_absolute, 1.0) and abs(after - before) >= th.min_change * abs(before)


def _ratio(frame: pd.DataFrame, indicator: str, option: str, factor: int | None) -> float | None:
    parts = frame[(frame["indicator"] == indicator) & (frame["option"] == option)].set_index("component")["number"]
    if "numerator" not in parts or "denominator" not in parts or not parts["denominator"] > 0:
        return None
    return float(parts["numerator"]) / float(parts["denominator"]) * (factor or 1)


def plant(values: pd.DataFrame, catalogue: Catalogue, settings: HistorySettings, seed: int = 2026,
          per_kind: int = PLANTS_PER_KIND) -> dict:
    """Plant each kind of anomaly `per_kind` times; count how many the checks catch."""
    rng = random.Random(seed)
    all_periods = sorted(values["period"].unique(), key=lambda p: parse_period(p))
    late = set(all_periods[-4:])
    candidates = [w for w in windows(values) if w[1] in late]
    outcome = {kind: {"planted": 0, "caught": 0, "missed": []} for kind in KINDS}
    for kind in KINDS:
        attempts = 0
        while outcome[kind]["planted"] < per_kind and attempts < per_kind * 50:
            attempts += 1
            programme, period, current, history, peers = rng.choice(candidates)
            unit = rng.choice(sorted(current["org_unit"].unique()))
            mine = current[current["org_unit"] == unit].reset_index(drop=True)
            planted = _plant_one(kind, mine, current, catalogue, rng)
            if planted is None:
                continue
            changed, indicator, option = planted
            others = peers[peers["org_unit"] != unit]
            issues = check(changed, history[history["org_unit"] == unit], others, catalogue, settings, typed=True)
            if kind == "copied from another county":
                caught = any(i.code in ("copied", "share") for i in issues)
            else:
                caught = any(_touches(i, indicator, option, catalogue) for i in issues)
            outcome[kind]["planted"] += 1
            outcome[kind]["caught"] += caught
            if not caught and len(outcome[kind]["missed"]) < 5:
                outcome[kind]["missed"].append(f"{programme} {unit} {period} {indicator} {option}")
    return outcome


def _plant_one(kind: str, mine: pd.DataFrame, current: pd.DataFrame, catalogue: Catalogue,
               rng: random.Random) -> tuple[pd.DataFrame, str, str] | None:
    if kind == "copied from another county":
        others = sorted(set(current["org_unit"]) - {mine["org_unit"].iloc[0]})
        if len(others) < 4:  # a national return has no county to copy from
            return None
        source = current[current["org_unit"] == rng.choice(others)]
        copied = source.assign(org_unit=mine["org_unit"].iloc[0])
        if copied[["number"]].reset_index(drop=True).equals(mine[["number"]].reset_index(drop=True)):
            return None
        return copied.reset_index(drop=True), "", ""
    if kind == "numerator and denominator swapped":
        pairs = mine[mine["component"] == "numerator"]
        if pairs.empty:
            return None
        row = pairs.iloc[rng.randrange(len(pairs))]
        indicator, option = row["indicator"], row["option"]
        spec = catalogue.specs[indicator]
        at = (mine["indicator"] == indicator) & (mine["option"] == option)
        n = mine.loc[at & (mine["component"] == "numerator"), "number"]
        d = mine.loc[at & (mine["component"] == "denominator"), "number"]
        if n.empty or d.empty:
            return None
        changed = mine.copy()
        changed.loc[n.index, "number"] = float(d.iloc[0])
        changed.loc[d.index, "number"] = float(n.iloc[0])
        before, after = _ratio(mine, indicator, option, spec.factor), _ratio(changed, indicator, option, spec.factor)
        if before is None or after is None or not _material(spec, 0, 0, before, after):
            return None
        return changed, indicator, option
    index = rng.randrange(len(mine))
    row = mine.iloc[index]
    spec = catalogue.specs[row["indicator"]]
    x = float(row["number"])
    if kind == "tenfold jump":
        y = x * 10
    elif kind == "dropped zero":
        y = round(x / 10, 2) if spec.measure == "amount" and row["component"] == "value" else float(round(x / 10))
    else:  # decimal slip
        y = x * 100 if spec.measure == "amount" and row["component"] == "value" else x / 1000
    changed = mine.copy()
    changed.loc[index, "number"] = y
    if row["component"] == "value":
        if not _material(spec, x, y, None, None):
            return None
    else:
        before = _ratio(mine, row["indicator"], row["option"], spec.factor)
        after = _ratio(changed, row["indicator"], row["option"], spec.factor)
        if before is None or (after is not None and not _material(spec, 0, 0, before, after)):
            return None
    return changed, row["indicator"], row["option"]


# --------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="read this database's approved history instead of the demo's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or demo_database(Path(workdir))
        values, catalogue = load(url)
        returns = values[RETURN].drop_duplicates()
        print(f"History: {len(values):,} approved figures in {len(returns):,} returns, "
              f"{values['period'].min()}–{values['period'].max()} ({'demo' if not args.database_url else url}).")
        before = replay(values, catalogue, HistorySettings.unfiltered())
        after = replay(values, catalogue, HistorySettings())

    print(f"\nWarnings on replayed returns (each quarter against the ones before; {after.returns:,} returns):")
    print(f"{'':34}{'before':>22}{'after':>22}")
    print(f"{'returns with a warning':34}{_share(before.with_warning, before.returns):>22}"
          f"{_share(after.with_warning, after.returns):>22}")
    print(f"{'warnings per return':34}{before.warnings / before.returns:>22.3f}{after.warnings / after.returns:>22.3f}")
    print(f"{'warnings':34}{before.warnings:>22,}{after.warnings:>22,}")
    print("\nBy kind (warnings before → after; returns with one after, on plausible history = false positives):")
    for kind in ("outlier", "change", "unchanged", "share", "copied", "rule"):
        print(f"  {kind:10} {before.by_kind.get(kind, 0):6} → {after.by_kind.get(kind, 0):<6}"
              f"  {_share(after.returns_by_kind.get(kind, 0), after.returns)}")
    print("\nBy indicator (returns holding it; share with a warning on it and warnings per return, before → after):")
    for code in sorted(after.by_indicator):
        held, warned, count = after.by_indicator[code]
        b_held, b_warned, b_count = before.by_indicator[code]
        print(f"  {code:6} {held:5}  {_share(b_warned, b_held):>14} → {_share(warned, held):<14}"
              f"  {b_count / b_held:6.3f} → {count / held:.3f}")
    print("\nRules (returns it applies to; fires on = false positives on plausible history):")
    for rule in catalogue.rules:
        applies, fires = after.by_rule.get(rule.code, [0, 0])
        print(f"  {rule.code:6} {rule.severity:8} {applies:5} applies, fires on {fires:4} "
              f"({_share(fires, applies)})  {rule.name}")

    print(f"\nPlanted anomalies (target: all caught; {PLANTS_PER_KIND} of each, on material figures):")
    recall = plant(values, catalogue, HistorySettings())
    recall_before = plant(values, catalogue, HistorySettings.unfiltered())
    total = caught = 0
    for kind, result in recall.items():
        total += result["planted"]
        caught += result["caught"]
        b = recall_before[kind]
        print(f"  {kind:36} before {b['caught']:3}/{b['planted']:<3}  after {result['caught']:3}/{result['planted']:<3}"
              + (f"  missed e.g. {'; '.join(result['missed'])}" if result["missed"] else ""))
    print(f"\nRecall: {caught}/{total} = {caught / total:.1%}.  Warnings per return: before "
          f"{before.warnings / before.returns:.3f}, after {after.warnings / after.returns:.3f} (target ≤ 0.200)."
          f"  Replay took {before.seconds:.1f} s before, {after.seconds:.1f} s after.")


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "–"


if __name__ == "__main__":
    main()
