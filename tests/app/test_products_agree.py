"""One figure, one target, one status: every report kind prints what GET /api/v1/results says.

Each printed line of every report kind for a quarter is a cell (indicator, scope, org unit,
period). The test gathers and renders every kind as people get them, and compares each
printed line with the API's row for the same cell, formatted by the same functions.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from mel.accounts.operations import create_token
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.reporting.snapshot import gather
from reports.format import STATUS_LABELS, achievement
from reports.model import build
from reports.render import render_html

pytestmark = pytest.mark.slow  # the module's fixtures gather and render every report kind

PERIOD = "2025Q2"  # the demo's latest approved quarter
COUNTIES = ("023", "042")  # Turkana (HSNP sets county targets there) and Kisumu
PROGRAMMES = ("OPCT", "HSNP", "CTOVC")


@pytest.fixture(scope="module")
def products(app):
    """Every report kind for the quarter: {(kind, programme, org unit): (model, html)}."""
    made = {}
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        wanted = [("sector", "ALL", "KE"), ("factsheet", "ALL", "KE")]
        wanted += [("programme", p, "KE") for p in PROGRAMMES] + [("county", "ALL", c) for c in COUNTIES]
        for kind, programme, unit in wanted:
            snapshot = gather(session, catalogue, kind=kind, period=PERIOD, programme=programme, org_unit=unit,
                              generated_at=datetime(2025, 8, 20, tzinfo=UTC))
            model = build(snapshot, is_draft=True, reference="test")
            made[(kind, programme, unit)] = (model, render_html(model))
        session.rollback()
    return made


@pytest.fixture
def api(client, session):
    """The results API's rows by cell (indicator, programme, org unit)."""
    headers = {"Authorization": f"Bearer {create_token(session, 'viewer@demo.test').token}"}
    cells = {}

    def get(query):
        response = client.get(f"/api/v1/results?period={PERIOD}&{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_json()

    for row in get("programme=ALL&org_unit=KE"):
        cells[(row["indicator"], "ALL", "KE")] = row
    for row in get("programme=ALL&org_unit=KE&by=org_unit"):
        cells[(row["indicator"], "ALL", row["org_unit"])] = row
    for programme in PROGRAMMES:
        for row in get(f"programme={programme}&org_unit=KE"):
            cells[(row["indicator"], programme, "KE")] = row
    for unit in COUNTIES:
        for row in get(f"programme=ALL&org_unit={unit}&by=programme"):
            cells[(row["indicator"], row["programme"], unit)] = row
    return cells


def printed_lines(products):
    """(product, section, cell, Figure) for every indicator line printed in any report."""
    for (kind, programme, unit), (model, _) in products.items():
        product = f"{kind} {programme} {unit}"
        for section in model.pillars:
            for item in section.figures:
                yield product, section.name, (item.code, programme, unit), item
        for section in model.programmes:  # county profile: one table per programme
            for item in section.figures:
                yield product, section.name, (item.code, section.code, unit), item
        for page in model.counties:  # sector report, county annex
            for item in page.figures:
                yield product, page.name, (item.code, "ALL", page.code), item


def test_every_printed_line_equals_the_results_api(products, api):
    checked = 0
    for product, section, cell, item in printed_lines(products):
        row = api.get(cell)
        where = f"{product} / {section} / {cell}"
        assert row is not None, f"{where}: printed but the API has no figure"
        assert item.value == row["actual"], where
        assert item.target_value == row["target"], where
        assert item.achievement == achievement(row["achievement"]), where
        assert (item.status, item.status_label) == (row["status"], STATUS_LABELS[row["status"]]), where
        checked += 1
    assert checked > 500


def test_key_figures_equal_the_api(products, api):
    checked = 0
    for kind in ("sector", "factsheet"):
        model, _ = products[(kind, "ALL", "KE")]
        for key in model.key_figures:
            row = api[(key.code, "ALL", "KE")]
            assert (key.status, key.achievement) == (row["status"], achievement(row["achievement"])), key.code
            assert (key.target == "no target") == (row["target"] is None), key.code
            checked += 1
    assert checked >= 12


def test_the_same_cell_reads_the_same_in_every_product(products):
    seen: dict[tuple, tuple] = {}
    for product, section, cell, item in printed_lines(products):
        shown = (item.actual, item.target, item.achievement, item.status)
        first = seen.setdefault(cell, (shown, product, section))
        assert first[0] == shown, f"{cell}: {first[1]} / {first[2]} prints {first[0]}, {product} / {section} {shown}"


def test_a_figure_reported_by_one_programme_has_that_programmes_target_in_the_sector_view(api):
    # SA02 (older persons paid) was "No target" in the sector report and "74%" in the OPCT report.
    sector, opct = api[("SA02", "ALL", "KE")], api[("SA02", "OPCT", "KE")]
    assert sector["target"] == opct["target"] is not None
    assert (sector["achievement"], sector["status"]) == (opct["achievement"], opct["status"])
    assert "only programme reporting it" in sector["target_source"]
    # Turkana SA07 (HSNP only): one target in the county profile's two tables.
    assert api[("SA07", "ALL", "023")]["target"] == api[("SA07", "HSNP", "023")]["target"] is not None


def test_the_county_annex_prints_the_hsnp_county_targets(products):
    model, _ = products[("sector", "ALL", "KE")]
    turkana = next(page for page in model.counties if page.code == "023")
    sa07 = next(f for f in turkana.figures if f.code == "SA07")
    assert sa07.target != "–" and sa07.status != "no_target"


def test_the_html_prints_what_the_model_holds(products):
    """Each printed IPTT row carries the line's actual, target and achievement as formatted (the fact
    sheet prints headlines, not tables)."""
    for (kind, _programme, unit), (model, html) in products.items():
        if kind == "factsheet":
            continue
        text = unescape(re.sub(r"<[^>]+>", " ", html))
        words = " ".join(text.split())
        for section in model.pillars:
            for item in section.figures:
                if item.status in ("not_reported", "not_added"):
                    continue
                assert item.actual in words and item.achievement in words, (kind, unit, item.code)


def test_changes_of_percentages_are_in_points_and_of_counts_relative(products, api):
    model, html = products[("sector", "ALL", "KE")]
    cards = {k.code: k for k in model.key_figures}
    ratio, count = cards["SA11"], cards["SA02"]  # payments on schedule (%), older persons paid
    row = api[("SA11", "ALL", "KE")]
    points = row["actual"] - row["last_year"]
    assert ratio.change == f"{points:+.1f} pts" and "pts" in html
    row = api[("SA02", "ALL", "KE")]
    assert count.change == f"{(row['actual'] - row['last_year']) / row['last_year'] * 100:+.1f}%"
