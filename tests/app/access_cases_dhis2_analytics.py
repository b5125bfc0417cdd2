"""Access-matrix cases for DHIS2 routes (merged by tests/app/test_access_matrix.py).

GET /api/analytics (.json, .csv) answers everyone signed in with approved figures only, as
/api/v1/results does: the matrix's submitted, returned and draft markers (OPCT 2025Q3 in counties
001–003) must never appear, for any role; anonymous requests get DHIS2's 401. With includeUnapproved
(ours) the figures not yet approved come in for those /api/v1/results' include=submitted allows (403
for the others).
"""

from __future__ import annotations


def cases(s) -> dict:
    """{(endpoint, method): [Case, ...]} for the routes of this part of the DHIS2 API."""
    from tests.app.test_access_matrix import Case, by, signed

    # SA02 (a count): the marker figures' own indicator, by county and for Kenya, in the marked quarter.
    queries = {
        "by county": {"dimension": ["dx:SA02", "pe:2025Q3;2025Q2", "ou:001;002;003;042;KE"],
                      "inputIdScheme": "CODE", "outputIdScheme": "CODE", "includeNumDen": "true"},
        "whole year, unit filter": {"dimension": "dx:SA02,pe:2025July;2024July", "filter": "ou:002",
                                    "inputIdScheme": "CODE"},
    }
    # includeUnapproved (ours): as /api/v1/results' include=submitted, for OPCT in 042 and 002.
    unapproved = {"dimension": ["dx:SA02", "pe:2025Q3", "ou:042;002"], "filter": "ao:OPCT", "inputIdScheme": "CODE",
                  "includeUnapproved": "true"}
    found: dict = {}
    for prefix, base in (("dhis2", "/api"), ("dhis2_41", "/api/41")):
        for endpoint, suffix in (("analytics", ""), ("analytics_json", ".json"), ("analytics_csv", ".csv")):
            found[(f"{prefix}.{endpoint}", "GET")] = [
                Case("GET", f"{base}/analytics{suffix}", signed(api=True), query=query, label=label)
                for label, query in queries.items()] + [
                Case("GET", f"{base}/analytics{suffix}", by(lambda role: role in ("secretariat", "reviewer", "officer"),
                                                            api=True), query=unapproved, label="includeUnapproved")]
    return found
