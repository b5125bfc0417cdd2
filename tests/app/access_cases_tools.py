"""Access-matrix cases for the reporting tools pack and an indicator's history (issue 21 items 2 and 5),
merged by tests/app/test_access_matrix.py.

The pack: the secretariat and the TWG download every programme's, officers their own programmes' (the
OPCT desks OPCT's, the HSNP desk HSNP's), viewers none. The history: everyone signed in reads it; the
notes of a return not yet approved (the matrix's returned and reopened returns, with their RMARK reasons)
only reach those who read its queries, which the matrix's markers check.
"""

from __future__ import annotations


def cases(s) -> dict:
    """{(endpoint, method): [Case, ...]} for the tools pack's and the history's routes."""
    from tests.app.test_access_matrix import Case, by, signed

    def pack(programme: str):
        readers = {"OPCT": ("secretariat", "reviewer", "officer", "officer_unit"),
                   "HSNP": ("secretariat", "reviewer", "officer_programme")}[programme]
        return lambda role: role in readers

    found: dict = {
        ("tools.index", "GET"): [Case("GET", "/tools/", by(lambda role: role != "viewer"))],
        ("tools.download", "GET"): [Case("GET", "/tools/pack.zip", by(pack(p)), query={"programme": p,
                                                                                        "period": "2025Q3"}, label=p)
                                    for p in ("OPCT", "HSNP")],
        ("tools_api.ToolsPack", "GET"): [Case("GET", "/api/v1/tools-pack", by(pack(p), api=True),
                                              query={"programme": p, "period": "2025Q3"}, label=p)
                                         for p in ("OPCT", "HSNP")],
        ("history.indicator_history_page", "GET"): [
            Case("GET", "/dashboard/indicators/SA02/history", signed(), query=q, label=str(q))
            for q in ({"programme": "OPCT", "org_unit": "042"}, {})],
        ("history_api.IndicatorHistory", "GET"): [
            Case("GET", "/api/v1/indicators/SA02/history", signed(api=True),
                 query={"programme": "OPCT", "org_unit": unit, "format": f}, label=f"{unit} {f}")
            for unit, f in (("042", "json"), ("042", "csv"), ("KE", "xlsx"))],
    }
    return found
