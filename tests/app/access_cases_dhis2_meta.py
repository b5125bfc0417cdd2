"""Access-matrix cases for DHIS2 routes (merged by tests/app/test_access_matrix.py).

Metadata, /api/system/info and /api/me: every signed-in role reads them (metadata is the
catalogue, public to signed-in users as /api/v1's is); anonymous requests get DHIS2's 401.
"""

from __future__ import annotations

from mel.uid import stable_uid

RESOURCES = ("organisationUnits", "organisationUnitLevels", "dataElements", "dataSets", "categoryCombos",
             "categoryOptionCombos", "categories", "categoryOptions", "indicators", "indicatorTypes")
UNKNOWN = "abcdefghijk"


def cases(s) -> dict:
    """{(endpoint, method): [Case, ...]} for the routes of this part of the DHIS2 API."""
    from tests.app.test_access_matrix import HIDDEN, Case, signed

    found: dict = {}
    for name, prefix in (("dhis2", "/api"), ("dhis2_41", "/api/41")):
        found[(f"{name}.system_info", "GET")] = [Case("GET", f"{prefix}/system/info", signed(api=True)),
                                                 Case("GET", f"{prefix}/system/info.json", signed(api=True))]
        found[(f"{name}.me", "GET")] = [Case("GET", f"{prefix}/me", signed(api=True),
                                             query={"fields": "id,username,organisationUnits[id,name]"})]
        found[(f"{name}.me_authorization", "GET")] = [Case("GET", f"{prefix}/me/authorization", signed(api=True))]
        for resource in RESOURCES:
            found[(f"{name}.{resource}", "GET")] = [
                Case("GET", f"{prefix}/{resource}", signed(api=True), query={"fields": "*", "pageSize": "5"}),
                Case("GET", f"{prefix}/{resource}.json", signed(api=True), query={"paging": "false"})]
            found[(f"{name}.{resource}_item", "GET")] = [
                Case("GET", f"{prefix}/{resource}/{UNKNOWN}", signed(HIDDEN, api=True), label="unknown uid")]
        found[(f"{name}.dataElements_item", "GET")].append(
            Case("GET", f"{prefix}/dataElements/{stable_uid('dataElement', 'SA02')}.json", signed(api=True)))
    return found
