"""The handbook's annex rows (reports/handbook.py): a year not over says it is a year to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from mel.i18n import compile_catalogues
from reports import handbook, i18n


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("catalogues")
    compile_catalogues(folder)
    return folder


def _row(**changes) -> dict:
    row = {"fy": "2026July", "complete": True, "quarters": [{"actual": 10.0, "received": 4, "expected": 4}] * 4,
           "actual": 40.0, "target": 50.0, "achievement": 80.0, "status": "needs_attention", "received": 16,
           "expected": 16, "baseline": None, "baseline_period": None, "source": "", "note": "", "revisions": [],
           "quality": None}
    return {**row, **changes}


@pytest.mark.parametrize(("complete", "says"), [(True, False), (False, True)])
def test_a_year_not_over_is_marked_as_a_year_to_date(complete, says):
    row = handbook._annex_row(_row(complete=complete), "count", "number", False)
    assert any(note.startswith("Year to date: the year is not over") for note in row["notes"]) is says
    assert row["year"] == "40" and row["achievement"] == "80%"


def test_the_mark_in_kiswahili(catalogues):
    with i18n.speaking("sw", catalogues):
        row = handbook._annex_row(_row(complete=False), "count", "number", False)
    assert row["notes"][0].startswith("Tangu mwanzo wa mwaka: mwaka haujaisha")


def test_a_row_without_the_flag_is_taken_as_a_complete_year():
    row = handbook._annex_row({k: v for k, v in _row().items() if k != "complete"}, "count", "number", False)
    assert not any("Year to date" in note for note in row["notes"])
