"""The checks that compare a return with other counties' approved returns, through the ingest service.

A return copied from another county is flagged (naming that county); a county whose share of the
national figure jumps is flagged; unapproved figures of other counties are never compared with.
"""

from __future__ import annotations

import pytest

from mel.returns.models import ValueFlag
from tests.app.returns_helpers import IN_WINDOW, rows_like, send
from tests.helpers import submit_figures

COUNTIES = ["001", "002", "003", "004", "005", "006"]


@pytest.fixture
def approved_peers(session):
    """Six counties' OPCT 2025Q3 returns, stored, explained, submitted and approved."""
    for unit in COUNTIES:
        submit_figures(session, "OPCT", rows_like(session, "OPCT", [unit]), now=IN_WINDOW, approve=True)


def test_a_return_copied_from_another_county_is_flagged(session, approved_peers):
    copied = rows_like(session, "OPCT", ["001"]).assign(org_unit="042")
    result = send(session, "officer.opct@demo.test", copied)
    assert result.outcome == "stored"
    flags = [w for w in result.warnings if w.code == "copied"]
    assert len(flags) == 1 and flags[0].location["copied_from"] == "001"
    assert flags[0].message.startswith("Kisumu, FY2025/26 Q1: ")
    assert "figures are identical to Mombasa's return for the same quarter" in flags[0].message
    stored = session.query(ValueFlag).filter(ValueFlag.kind == "copied").one()
    assert stored.flag_key == "copied:001" and stored.indicator_id is None


def test_a_county_return_of_its_own_is_not_flagged_as_a_copy(session, approved_peers):
    own = rows_like(session, "OPCT", ["042"])
    result = send(session, "officer.opct@demo.test", own)
    assert result.outcome == "stored"
    assert not [w for w in result.warnings if w.code in ("copied", "share")]


def test_a_county_share_that_jumps_is_flagged(session, approved_peers):
    # Garissa (007) files three times last quarter's beneficiaries exited; the six others did not move.
    rows = rows_like(session, "OPCT", ["007"])
    exited = rows["indicator"] == "SA15"
    rows.loc[exited, "value"] = str(int(rows.loc[exited, "value"].iloc[0]) * 3)
    result = send(session, "officer.opct@demo.test", rows)
    assert result.outcome == "stored"
    shares = [w for w in result.warnings if w.code == "share"]
    assert len(shares) == 1 and shares[0].location["indicator"] == "SA15"
    assert "Garissa's share of the national figure moved from" in shares[0].message
    assert "among the 7 units that reported both quarters" in shares[0].message


def test_unapproved_returns_of_other_counties_are_not_compared_with(session):
    # Mombasa's figures are stored but not approved: a copy of them is not detected (nor leaked).
    send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["001"]))
    copied = rows_like(session, "OPCT", ["001"]).assign(org_unit="042")
    result = send(session, "officer.opct@demo.test", copied)
    assert result.outcome == "stored"
    assert not [w for w in result.warnings if w.code in ("copied", "share")]


def test_a_flow_unchanged_three_quarters_is_one_rule_for_the_warning_and_the_data_quality_page(session):
    """Nairobi's exits (about 650 a quarter) typed the same three quarters running."""
    from datetime import UTC, datetime

    from mel.catalogue.lookup import load_catalogue
    from mel.review import quality

    warned = []
    for n, (period, now) in enumerate((("2025Q3", datetime(2025, 10, 5, tzinfo=UTC)),
                                       ("2025Q4", datetime(2026, 1, 5, tzinfo=UTC)),
                                       ("2026Q1", datetime(2026, 4, 5, tzinfo=UTC)))):
        rows = rows_like(session, "OPCT", ["047"], period=period, factor=1.01 + n / 100)
        rows.loc[rows["indicator"] == "SA15", "value"] = "650"
        record = submit_figures(session, "OPCT", rows, now=now, approve=True)
        warned.append(session.query(ValueFlag).filter(ValueFlag.return_id == record.id,
                                                       ValueFlag.kind == "unchanged").count())
    assert warned == [0, 0, 1]
    listed = quality.report(session, load_catalogue(session), "2026Q1")["unchanged"]
    assert [(u["org_unit"], u["indicator"], u["value"]) for u in listed] == [("Nairobi City", "SA15", 650.0)]
