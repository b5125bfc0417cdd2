"""The review page compares figures compiled by the published rules, not by arithmetic of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
import time_machine

from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.returns.ingest import Incoming, ingest
from mel.review.queries import compiled_figures
from tests.helpers import flat_rows, login

NOW = datetime(2026, 4, 5, tzinfo=UTC)  # inside the 2026Q1 window


@pytest.fixture
def parts_and_totals(session):
    """HSNP 2026Q1: Turkana gives SA07 by sex (2 × 100), Wajir gives only its total (500)."""
    secretariat = load_user(session, "secretariat@demo.test")
    turkana = flat_rows(session, "HSNP", "023", "2026Q1", 100)
    wajir = flat_rows(session, "HSNP", "008", "2026Q1", 300)
    first = wajir[wajir["indicator"] == "SA07"].iloc[[0]].assign(option="total", value="500")
    wajir = pd.concat([wajir[wajir["indicator"] != "SA07"], first])
    with time_machine.travel(NOW, tick=False):
        for rows in (turkana, wajir):
            result = ingest(session, secretariat, Incoming(rows, "api"), programme="HSNP", now=NOW)
            assert result.outcome == "stored", [e.message for e in result.errors]


def test_the_national_figure_takes_each_units_total_or_its_parts(session, parts_and_totals):
    catalogue = load_catalogue(session)
    hsnp = catalogue.programmes["HSNP"].id
    national = compiled_figures(session, catalogue, hsnp, None, ["2026Q1"])
    # Turkana's parts (200) plus Wajir's total (500): not Wajir's total alone, as the page had it.
    assert national[("SA07", "2026Q1")] == 200 + 500
    turkana = compiled_figures(session, catalogue, hsnp, [catalogue.org_units["023"].id], ["2026Q1"])
    assert turkana[("SA07", "2026Q1")] == 200
    # Ratios: the ratio of the summed parts (both counties give 50 of 100 / 150 of 300).
    assert national[("SA11", "2026Q1")] == pytest.approx((50 + 150) / (100 + 300) * 100)


def test_the_review_page_prints_turkanas_share_of_the_national_figure(client, session, parts_and_totals):
    login(client, "reviewer@demo.test")
    page = client.get("/review/HSNP/023/2026Q1")
    assert page.status_code == 200
    text = " ".join(page.get_data(as_text=True).split())
    assert "28.6%" in text  # 200 of 700; the old arithmetic gave 40.0% (200 of Wajir's 500)
