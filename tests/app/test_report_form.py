"""The report form proposes the latest quarter with enough approved returns and shows, per quarter,
how many returns are approved before anything is generated; publishing needs a confirmation."""

from __future__ import annotations

import re

from mel.catalogue.lookup import load_catalogue
from mel.reporting.views import _approved_coverage, _default_quarter


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
    assert _default_quarter(quarters, {"2025Q4": (3, 251), "2025Q3": (200, 251), "2025Q2": (251, 251),
                                       "2025Q1": (251, 251)}) == "2025Q3"
    assert _default_quarter(quarters, {"2025Q4": (125, 251), "2025Q3": (126, 251), "2025Q2": (0, 251),
                                       "2025Q1": (0, 251)}) == "2025Q3"  # half is enough; less is not
    assert _default_quarter(quarters, {q: (5, 251) if q == "2025Q1" else (0, 251) for q in quarters}) == "2025Q1"
    assert _default_quarter(quarters, {q: (0, 251) for q in quarters}) is None
    assert _default_quarter(quarters, {q: (0, 0) for q in quarters}) is None


def test_coverage_counts_approved_returns_against_the_forms(app, session):
    catalogue = load_catalogue(session)
    with app.test_request_context():
        coverage = _approved_coverage(catalogue, ["2025Q2", "2027Q1"])
    expected = sum(len(form.org_units) for form in catalogue.forms.values())
    assert coverage["2027Q1"] == (0, expected)
    assert 0 < coverage["2025Q2"][0] <= expected
