"""The report form proposes the latest quarter with enough approved returns and shows, per quarter,
how many returns are approved before anything is generated; publishing needs a confirmation."""

from __future__ import annotations

import re

from mel.catalogue.lookup import load_catalogue
from mel.results.queries import approved_coverage, well_covered_quarter
from tests.app.returns_helpers import IN_WINDOW, rows_like
from tests.helpers import submit_figures


def test_the_form_proposes_the_latest_well_covered_quarter(client, session, as_user):
    as_user("secretariat@demo.test")
    page = client.get("/reports/").get_data(as_text=True)
    select = page.split('id="period"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\d{4}Q\d)" ?(selected)?>[^<]* — (\d+) of (\d+) returns approved</option>',
                         select)
    assert len(options) == 8
    chosen = [n for n, (_, selected, _, _) in enumerate(options) if selected]
    assert len(chosen) == 1
    quarter, _, done, expected = options[chosen[0]]
    assert int(done) >= int(expected) / 2  # enough approved returns (the demo approves every 2025Q2 return)
    assert all(int(d) < int(e) / 2 for _, _, d, e in options[:chosen[0]])  # every later quarter has fewer


def test_the_rule_table_of_the_default():
    quarters = ["2025Q4", "2025Q3", "2025Q2", "2025Q1"]  # newest first, as the form lists them
    assert well_covered_quarter(quarters, {"2025Q4": (3, 251), "2025Q3": (200, 251), "2025Q2": (251, 251),
                                       "2025Q1": (251, 251)}) == "2025Q3"
    assert well_covered_quarter(quarters, {"2025Q4": (125, 251), "2025Q3": (126, 251), "2025Q2": (0, 251),
                                       "2025Q1": (0, 251)}) == "2025Q3"  # half is enough; less is not
    assert well_covered_quarter(quarters, {q: (5, 251) if q == "2025Q1" else (0, 251) for q in quarters}) == "2025Q1"
    assert well_covered_quarter(quarters, {q: (0, 251) for q in quarters}) is None
    assert well_covered_quarter(quarters, {q: (0, 0) for q in quarters}) is None


def test_coverage_counts_approved_returns_against_the_forms(app, session):
    catalogue = load_catalogue(session)
    coverage = approved_coverage(session, catalogue, ["2025Q2", "2027Q1"])
    expected = sum(len(form.org_units_in("2027Q1")) for form in catalogue.forms.values())
    assert coverage["2027Q1"] == (0, expected)
    assert 0 < coverage["2025Q2"][0] <= expected


def test_the_dashboards_open_on_the_well_covered_quarter_not_the_one_being_reported(client, session, as_user):
    """A few approved returns of the quarter being reported do not make it the quarter people read
    first: its "Off track" on 6 of 47 counties would be read as the quarter's result."""
    for unit in ("001", "002", "003", "004", "005", "006"):
        submit_figures(session, "OPCT", rows_like(session, "OPCT", [unit]), now=IN_WINDOW, approve=True)
    as_user("viewer@demo.test")
    for path in ("/dashboard/", "/dashboard/indicators/SA02"):
        page = client.get(path).get_data(as_text=True)
        assert "FY2024/25 Q4 (Apr–Jun 2025)" in page, path  # 2025Q2: every return approved
        assert "Partial:" not in page, path
    chosen = client.get("/dashboard/?period=2025Q3").get_data(as_text=True)  # still one choice away
    assert "FY2025/26 Q1 (Jul–Sep 2025)" in chosen
    assert well_covered_quarter(["2025Q3", "2025Q2"], approved_coverage(session, load_catalogue(session),
                                                                        ["2025Q3", "2025Q2"])) == "2025Q2"
