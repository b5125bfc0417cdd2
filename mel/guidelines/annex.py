"""The handbook's annex: each active indicator's history across financial years, as plain JSON.

It is `mel.results.history.indicator_history` (the history page's own data: the national figure of
every quarter and year from approved returns, the targets the one rule chooses, each plan's versions,
the data-quality notes of approved returns and the linked evidence), kept in the short form an annex
prints. Messages (where a target came from, why there is none) are kept as data and said in each
language when the handbook is laid out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy.orm import Session

from indicators.explanations import explanation_code, tally
from indicators.messages import as_data
from mel.catalogue.lookup import Catalogue
from mel.results.history import indicator_history
from mel.results.queries import compiled_once

MAX_YEARS = 6  # the last six financial years at most: a handbook, not an archive
FINDINGS_LIMIT = 400  # characters of an evidence item's key findings


def history(session: Session, catalogue: Catalogue, pause: Callable[[], None] | None = None,
            on_indicator: Callable[[int, int], None] | None = None) -> dict:
    """{"years": [fy, ...], "indicators": {code: {"years": [...], "evidence": [...]}}} (see the module).

    `pause`, when given, is called after each indicator: a background run ends its read transaction there,
    so a long gathering never holds the database (SQLite's write lock) for long. `on_indicator(done, total)`
    then says how far the gathering is (a run's progress)."""
    active = sorted(code for code, i in catalogue.indicators.items() if i.is_active is not False)
    found: dict[str, dict] = {}
    years: set[str] = set()
    with compiled_once():  # the quarters' figures are compiled once for all the indicators
        for done, code in enumerate(active, start=1):
            found[code] = _indicator(indicator_history(session, catalogue, code))
            years.update(row["fy"] for row in found[code]["years"])
            if pause is not None:
                pause()
            if on_indicator is not None:
                on_indicator(done, len(active))
    return {"years": sorted(years), "indicators": found}


def _words(value):
    return as_data(value) if value else None


def _indicator(history: dict) -> dict:
    notes_by_year: dict[str, list[dict]] = {}
    for note in history["notes"]:
        from indicators.periods import parse_period

        notes_by_year.setdefault(parse_period(note["period"]).financial_year().id, []).append(note)
    rows = []
    for year in history["years"][-MAX_YEARS:]:
        figure = year["year"]
        revisions = [{"scope": plan["scope"], "version": v["number"], "value": v["year_target"], "reason": v["reason"],
                      "date": (v["created_at"] or "")[:10]}
                     for plan in year["plans"] if any(v["changed"] for v in plan["versions"])
                     for v in plan["versions"] if v["year_target"] is not None]
        rows.append({
            "fy": year["fiscal_year"], "complete": year["complete"],
            "quarters": [{"actual": q["actual"], "received": q["returns_received"], "expected": q["returns_expected"]}
                         for q in year["quarters"]],
            "actual": figure["actual"], "target": figure["target"], "achievement": figure["achievement"],
            "status": figure["status"], "received": figure["returns_received"], "expected": figure["returns_expected"],
            "baseline": figure["baseline"], "baseline_period": figure["baseline_period"],
            "source": _words(figure["target_source"]), "note": _words(figure["target_note"]),
            "revisions": revisions, "quality": _quality(notes_by_year.get(year["fiscal_year"], []))})
    evidence = [{"title": e["title"], "agency": e["agency"] or e["authors"] or "", "date": e["published_on"],
                 "kind": e["kind"], "findings": (e["key_findings"] or "")[:FINDINGS_LIMIT],
                 "findings_sw": (e["key_findings_sw"] or "")[:FINDINGS_LIMIT], "link": e["link"] or ""}
                for e in history["evidence"]]
    return {"years": [r for r in rows if _has_anything(r)], "evidence": evidence}


def _has_anything(row: dict) -> bool:
    return (row["actual"] is not None or row["target"] is not None or bool(row["revisions"])
            or row["status"] == "not_added" or bool(row["quality"])
            or any(q["actual"] is not None for q in row["quarters"]))


def _quality(notes: list[dict]) -> dict | None:
    """A year's data-quality notes counted: warnings (how many explained, by reason), returns sent back,
    approved returns reopened, figures revised after publication."""
    if not notes:
        return None
    kinds = Counter(n["kind"] for n in notes)
    warnings = [n for n in notes if n["kind"] == "warning"]
    explained = [n for n in warnings if (n["explanation"] or "").strip()]
    return {"warnings": len(warnings), "explained": len(explained), "returned": kinds.get("returned", 0),
            "reopened": kinds.get("reopened", 0), "revised": kinds.get("revised", 0),
            "reasons": [{"code": r["code"], "count": r["count"]}
                        for r in tally(explanation_code(n["explanation"]) or "other" for n in explained)]}
