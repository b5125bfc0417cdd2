"""The key figures and county map of a published report, from its stored snapshot only.

`report_model` is the one call that builds the report model the page reads; the figures and the map
are what that model (the published report) printed, so the page and the PDF never disagree.
Published runs cannot change (the database refuses it), so what is made of one is kept in memory,
keyed by the run, its checksums and the language.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock

from mel.public.county_map import PublicMap, county_map
from mel.reporting.models import ReportRun
from mel.reporting.operations import speaking_of
from mel.reporting.queries import load_snapshot, reference
from reports.model import KeyFigure, Report, build

FACT_SHEET_FIGURES = 6  # the fact sheet prints its first six key figures (templates/reports/factsheet.html)


@dataclass(frozen=True)
class PublicFigure:
    """One key figure as the published report printed it (text), with whether it has a target."""

    figure: KeyFigure
    has_target: bool


@dataclass(frozen=True)
class Published:
    """What the public page shows of one published run."""

    run_id: int
    figures: tuple[PublicFigure, ...]
    county_map: PublicMap | None
    revision_note: str  # the footnote of targets marked † (reports/revisions.py)
    language: str  # the language the report model's words are in (the page marks them when it differs)


def report_model(run: ReportRun, snapshot: dict, language: str) -> tuple[Report, str]:
    """The published report's model, built from its stored snapshot as its final PDF was (in the run's
    own language, whatever the page's: the page shows what was published), and that language.

    `language` is the page's; the page prefers a run published in it (mel/public/queries.py) and marks
    the report's words when the run is in the other language."""
    del language  # the run's language decides: its PDF printed these words
    with speaking_of(run):
        model = build(snapshot, is_draft=False, reference=reference(run), accessible=run.is_accessible)
    return model, run.language or "en"


_made: dict[tuple[int, str, str, str], Published] = {}
_lock = Lock()
KEEP = 16  # published runs × languages kept in memory


def key_figures(run: ReportRun, language: str) -> Published:
    """The key figures and county map of a published run, in the page's language."""
    if not run.is_published:  # never a draft, whatever the caller did
        raise ValueError(f"report run {run.id} is not published")
    key = (run.id, run.sha256, run.snapshot_sha256, language)
    with _lock:
        found = _made.get(key)
    if found is not None:
        return found
    snapshot = load_snapshot(run)
    model, built_in = report_model(run, snapshot, language)
    shown = model.key_figures[:FACT_SHEET_FIGURES] if run.kind == "factsheet" else model.key_figures
    results = {r["indicator"]: r for r in snapshot.get("results") or []}
    made = Published(
        run_id=run.id,
        figures=tuple(PublicFigure(k, (results.get(k.code) or {}).get("target") is not None) for k in shown),
        county_map=county_map(snapshot, model.maps),
        revision_note=model.revision_note if any(k.target_revised for k in shown) else "", language=built_in)
    with _lock:
        if len(_made) >= KEEP:
            _made.pop(next(iter(_made)))
        _made[key] = made
    return made
