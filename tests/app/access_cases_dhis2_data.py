"""Access-matrix cases for DHIS2 routes (merged by tests/app/test_access_matrix.py): dataValueSets,
dataValues and the task answers of an async import.

Reading follows the returns' rule (viewers: approved figures only; officers: their scope, refused
with DHIS2's E2010/E2012 or 403 outside it). Writing needs an entering role (others: 403); an
officer writing outside their scope gets DHIS2's conflicts (409), never a stored figure.
"""

from __future__ import annotations

from mel.dhis2.ids import load_ids

ENTERING = ("secretariat", "officer", "officer_unit", "officer_programme")
WRITE = {200, 201, 204, 409}


def _expect(table: dict):
    return lambda role: table[role]


def cases(s) -> dict:
    """{(endpoint, method): [Case, ...]} for the routes of this part of the DHIS2 API."""
    from tests.app.test_access_matrix import API_LOGIN, DENIED, Case, by, reads_return

    ids = load_ids(s.session())
    data_set = ids.data_set_for("OPCT").uid
    element = ids.data_element_for("SA01", "value")
    combo = ids.combos_of(element.uid)[0].uid
    aoc = ids.attribute_combo_for("OPCT").uid
    kisumu, mombasa = ids.org_unit_for("042").uid, ids.org_unit_for("001").uid

    def read_set(state: str, unit: str) -> dict:
        # Outside an officer's scope DHIS2 refuses the query (409); a viewer gets the approved values only.
        return {role: ({200} if reads_return(role, state) or role == "viewer" else {409})
                for role in ("secretariat", "reviewer", "officer", "officer_unit", "officer_programme", "viewer")
                } | {"anonymous": API_LOGIN}

    def read_value(state: str) -> dict:
        table = {role: ({200} if reads_return(role, state) else {403})
                 for role in ("secretariat", "reviewer", "officer", "officer_unit", "officer_programme")}
        table["viewer"] = {200} if state == "approved" else {409}  # an unapproved value "does not exist"
        return table | {"anonymous": API_LOGIN}

    writes = by(lambda role: role in ENTERING, ok=WRITE, api=True, otherwise=DENIED)
    value = {"dataElement": element.uid, "period": "2025Q3", "orgUnit": kisumu, "categoryOptionCombo": combo,
             "attributeOptionCombo": aoc, "value": "5"}
    result: dict = {}
    for name, prefix in (("dhis2", "/api"), ("dhis2_41", "/api/41")):
        sets = []
        for suffix in ("", ".json", ".csv"):
            for state, unit in (("approved", kisumu), ("draft", mombasa)):
                sets.append(Case("GET", f"{prefix}/dataValueSets{suffix}", _expect(read_set(state, unit)),
                                 query={"dataSet": data_set, "period": "2025Q3", "orgUnit": unit},
                                 label=f"dataValueSets {state}"))
        result[(f"{name}.data_value_sets_get", "GET")] = sets
        result[(f"{name}.data_value_sets_post", "POST")] = [
            Case("POST", f"{prefix}/dataValueSets{suffix}", writes, json={"dataValues": [value]},
                 label="a value of an approved return")
            for suffix in ("", ".json")]
        values = []
        for state, unit in (("approved", kisumu), ("draft", mombasa)):
            query = {"de": element.uid, "pe": "2025Q3", "ou": unit, "co": combo, "ao": aoc}
            values.append(Case("GET", f"{prefix}/dataValues", _expect(read_value(state)), query=query,
                               label=f"dataValues {state}"))
        result[(f"{name}.data_values_get", "GET")] = values
        single = {"de": element.uid, "pe": "2025Q3", "ou": mombasa, "co": combo, "ao": aoc}
        result[(f"{name}.data_values_post", "POST")] = [
            Case("POST", f"{prefix}/dataValues", writes, query=dict(single, value="5"), label="set a value")]
        result[(f"{name}.data_values_delete", "DELETE")] = [
            Case("DELETE", f"{prefix}/dataValues", writes, query=single, label="delete a value")]
        for endpoint, path in (("system_task", "tasks"), ("system_task_summary", "taskSummaries")):
            result[(f"{name}.{endpoint}", "GET")] = [
                Case("GET", f"{prefix}/system/{path}/DATAVALUE_IMPORT/J0000000001",
                     by(lambda role: True, ok={200}, api=True), label="another's job: nothing")]
    return result
