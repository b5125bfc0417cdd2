"""A figure resting on part of the expected returns says so wherever it is shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from mel.catalogue.lookup import load_catalogue
from mel.reporting.snapshot import gather
from reports.model import build
from tests.helpers import flat_rows, login, submit_figures

NOW = datetime(2026, 4, 5, tzinfo=UTC)


@pytest.fixture
def one_return(session):
    """2026Q1: only OPCT Kisumu is approved, out of the 47 OPCT returns expected."""
    submit_figures(session, "OPCT", flat_rows(session, "OPCT", "042", "2026Q1", 1_000), now=NOW, approve=True)


def text_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_the_api_gives_the_returns_behind_each_figure(client, session, one_return):
    login(client, "viewer@demo.test")
    rows = client.get("/api/v1/results?indicator=SA02&period=2026Q1&programme=OPCT").get_json()
    assert (rows[0]["returns_received"], rows[0]["returns_expected"]) == (1, 47)
    assert rows[0]["completeness"] == pytest.approx(100 / 47)


def test_dashboard_tiles_iptt_and_indicator_page_say_partial(client, session, one_return):
    login(client, "viewer@demo.test")
    dashboard = text_of(client.get("/dashboard/?period=2026Q1&programme=OPCT"))
    assert "Partial: 1 of 47 returns" in dashboard  # the key-figure tiles
    assert dashboard.count("1 of 47 returns") >= 2  # …and the IPTT's 2026Q1 cells
    page = text_of(client.get("/dashboard/indicators/SA02?period=2026Q1&programme=OPCT"))
    assert "Partial: 1 of 47 returns" in page
    assert "Kisumu 2,000 – No target 1 of 1 (100%)" in page  # by county: Kisumu's own return is in


def test_report_key_figures_and_tables_say_partial(session, one_return):
    snapshot = gather(session, load_catalogue(session), kind="programme", period="2026Q1", programme="OPCT",
                      generated_at=NOW)
    model = build(snapshot)
    printed = [f for section in model.pillars for f in section.figures if f.value is not None]
    assert printed and all(f.coverage == "1 of 47 returns" for f in printed)


def test_a_figure_not_added_across_programmes_never_reads_not_reported_with_full_completeness(client, session):
    login(client, "viewer@demo.test")
    page = text_of(client.get("/dashboard/indicators/SA01?period=2025Q2&programme=ALL"))
    assert "Not reported" not in page
    assert "Not added" in page and "not added across programmes" in page
    assert "Partial:" not in page
    rows = client.get("/api/v1/results?indicator=SA01&period=2025Q2&programme=ALL").get_json()
    assert rows[0]["status"] == "not_added" and rows[0]["actual"] is None
