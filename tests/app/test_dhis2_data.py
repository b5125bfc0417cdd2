"""DHIS2 dataValueSets and dataValues, spoken to by the real DHIS2 client (dhis2-client) over HTTP.

A server on 127.0.0.1 serves a database of its own (seeded, demo history). Its clock for figures
is 5 Oct 2025: the 2025Q3 window is open (opened 30 Sep), earlier quarters are closed for officers.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import httpx
import pytest
from dhis2_client import DHIS2Client
from dhis2_client.errors import DHIS2HTTPError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.serving import make_server

from mel.accounts.operations import create_token
from mel.app import create_app
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from mel.demo import load_demo
from mel.dhis2.ids import load_ids
from mel.migrate import upgrade
from mel.returns.models import DataValue, ImportBatch, Return, ValueChange
from tests.app.returns_helpers import rows_like
from tests.helpers import fresh_database_url

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
NOW = datetime(2025, 10, 5, 9, 0, tzinfo=UTC)
EMAILS = {"secretariat": "secretariat@demo.test", "reviewer": "reviewer@demo.test",
          "officer": "officer.opct@demo.test", "officer_unit": "officer.kisumu@demo.test",
          "officer_programme": "officer.hsnp@demo.test", "viewer": "viewer@demo.test"}


class Live:
    def __init__(self, app, url, tokens):
        self.app, self.url, self.tokens = app, url, tokens

    def client(self, role: str) -> DHIS2Client:
        return DHIS2Client(self.url, token=self.tokens[role], retries=0)

    def http(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"ApiToken {self.tokens[role]}"},
                            timeout=120)

    def count(self, model) -> int:
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))

    def ids(self):
        with self.app.app_context():
            return load_ids(db.session)

    def rows(self, programme: str, units: list[str], period: str = "2025Q3", source: str = "2025Q2"):
        with self.app.app_context():
            return rows_like(db.session, programme, units, source=source, period=period)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setattr("mel.returns.ingest.utcnow", lambda: NOW)
    patch.setattr("mel.returns.operations.utcnow", lambda: NOW)
    patch.setattr("mel.returns.workflow.utcnow", lambda: NOW)
    app = create_app("testing", DATABASE_URL=fresh_database_url(tmp_path_factory, "dhis2data"),
                     INSTANCE_DIR=str(tmp_path_factory.mktemp("dhis2data")), LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        load_demo(db.session, as_of=date(2025, 10, 5), live=False)
        tokens = {role: create_token(db.session, email, name="dhis2 tests").token for role, email in EMAILS.items()}
        db.session.commit()
        db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{server.server_port}", tokens)
    finally:
        server.shutdown()
        patch.undo()
        with app.app_context():
            db.engine.dispose()


def dhis2_values(ids, rows, *, scheme: str = "UID") -> list[dict]:
    """Canonical rows as DHIS2 data values (ids in a scheme)."""
    out = []
    for row in rows.to_dict("records"):
        code = row["indicator"]
        component = {".N": "numerator", ".D": "denominator"}.get(code[-2:], "value")
        indicator = code[:-2] if component != "value" else code
        de = ids.data_element_for(indicator, component)
        coc = ids.option_combo_for(de.uid, row["option"])
        ou = ids.org_unit_for(row["org_unit"])
        aoc = ids.attribute_combo_for(row.get("programme", "OPCT"))
        pick = (lambda obj: obj.uid) if scheme == "UID" else (lambda obj: obj.code)
        out.append({"dataElement": pick(de), "period": row["period"], "orgUnit": pick(ou),
                    "categoryOptionCombo": pick(coc), "attributeOptionCombo": pick(aoc), "value": row["value"]})
    return out


def summary_of(call) -> tuple[int, dict]:
    """(HTTP status, ImportSummary) of a client call; the client raises on 409 WARNING/ERROR."""
    try:
        answer = call()
        return 200, answer["response"]
    except DHIS2HTTPError as exc:
        return exc.status_code, exc.payload.get("response") or exc.payload


def stored(live: Live, programme: str, unit: str, period: str) -> dict:
    with live.app.app_context():
        from mel.catalogue.lookup import load_catalogue

        catalogue = load_catalogue(db.session)
        values = db.session.execute(select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id,
                                           DataValue.value).where(
            DataValue.programme_id == catalogue.programmes[programme].id,
            DataValue.org_unit_id == catalogue.org_units[unit].id, DataValue.period == period)).all()
        return {(i, c, o): v for i, c, o, v in values}


# --------------------------------------------------------------------------- the round trip


def test_post_dry_run_then_real_then_read_back_then_same_again(live):
    ids = live.ids()
    client = live.client("officer")
    values = dhis2_values(ids, live.rows("OPCT", ["042"]))
    payload = {"dataSet": ids.data_set_for("OPCT").uid, "dataValues": values}
    batches, changes = live.count(ImportBatch), live.count(ValueChange)

    dry = client.post("/api/dataValueSets", params={"dryRun": "true"}, json=payload)
    assert dry["httpStatusCode"] == 200 and dry["status"] == "OK"
    summary = dry["response"]
    assert summary["responseType"] == "ImportSummary" and summary["status"] == "SUCCESS"
    assert summary["importCount"] == {"imported": len(values), "updated": 0, "ignored": 0, "deleted": 0}
    assert summary["importOptions"]["dryRun"] is True
    assert stored(live, "OPCT", "042", "2025Q3") == {}

    real = client.post_data_value_set(payload)
    assert real["response"]["importCount"]["imported"] == len(values)
    assert real["response"]["conflicts"] == [] and real["response"]["rejectedIndexes"] == []
    first = stored(live, "OPCT", "042", "2025Q3")
    assert len(first) == len(values)

    ou = ids.org_unit_for("042").uid
    back = client.get_data_value_set({"dataSet": ids.data_set_for("OPCT").uid, "period": "2025Q3", "orgUnit": ou})
    sent = {(v["dataElement"], v["categoryOptionCombo"]): v["value"] for v in values}
    got = {(v["dataElement"], v["categoryOptionCombo"]): v["value"] for v in back["dataValues"]}
    assert got == sent
    assert all(v["orgUnit"] == ou and v["period"] == "2025Q3" for v in back["dataValues"])
    with live.http("officer") as http:
        csv = http.get("/api/dataValueSets.csv", params={"dataSet": ids.data_set_for("OPCT").uid,
                                                         "period": "2025Q3", "orgUnit": ou})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("application/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value")
    assert len(lines) == len(values) + 1

    changes_after = live.count(ValueChange)
    again = client.post_data_value_set(payload)
    assert again["response"]["importCount"] == {"imported": 0, "updated": 0, "ignored": len(values), "deleted": 0}
    assert stored(live, "OPCT", "042", "2025Q3") == first
    assert live.count(ValueChange) == changes_after and changes_after == changes + len(values)
    assert live.count(ImportBatch) == batches + 1


def test_set_get_and_delete_one_value(live):
    ids = live.ids()
    client = live.client("secretariat")
    de = ids.data_element_for("SA01", "value")
    coc = ids.combos_of(de.uid)[0]
    ou = ids.org_unit_for("005").uid
    aoc = ids.attribute_combo_for("OPCT").uid
    assert client.set_data_value(de.uid, "2025Q3", ou, 12, co=coc.uid, ao=aoc) == {}
    assert client.get_data_value(de.uid, "2025Q3", ou, co=coc.uid, ao=aoc) == ["12"]
    with live.http("secretariat") as http:
        answer = http.post("/api/dataValues", params={"de": de.uid, "pe": "2025Q3", "ou": ou, "co": coc.uid,
                                                       "cc": "x", "cp": ids.attribute_combo_for("OPCT").category_option,
                                                       "value": "13"})
        assert answer.status_code == 201, answer.text
    assert client.get_data_value(de.uid, "2025Q3", ou, co=coc.uid, ao=aoc) == ["13"]
    with live.http("secretariat") as http:
        ambiguous = http.delete("/api/dataValues", params={"de": de.uid, "pe": "2025Q3", "ou": ou, "co": coc.uid})
        assert ambiguous.status_code == 409  # SA01 is on several programmes' forms: which one?
        deleted = http.delete("/api/dataValues", params={"de": de.uid, "pe": "2025Q3", "ou": ou, "co": coc.uid,
                                                          "ao": aoc})
        assert deleted.status_code == 204, deleted.text
    with pytest.raises(DHIS2HTTPError) as gone:
        client.get_data_value(de.uid, "2025Q3", ou, co=coc.uid, ao=aoc)
    assert gone.value.status_code == 409 and gone.value.payload["message"] == "Data value does not exist"
    with live.http("secretariat") as http:
        twice = http.delete("/api/dataValues", params={"de": de.uid, "pe": "2025Q3", "ou": ou, "co": coc.uid,
                                                        "ao": aoc})
    assert twice.status_code == 409
    assert twice.json()["message"] == "Data value cannot be deleted because it does not exist"
    with pytest.raises(DHIS2HTTPError) as unknown:
        client.get_data_value("NoSuchDE000", "2025Q3", ou, co=coc.uid)
    assert unknown.value.payload["errorCode"] == "E1100"


def test_a_khis_csv_with_codes_imports(live):
    ids = live.ids()
    rows = live.rows("OPCT", ["006"])
    values = dhis2_values(ids, rows, scheme="CODE")
    lines = ["dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,timestamp,comment"]
    for i, v in enumerate(values):  # codes spelt as KHIS scripts do: any case, spaces around
        de = v["dataElement"].lower() if i % 2 else f" {v['dataElement']} "
        lines.append(f"{de},{v['period']},{v['orgUnit']},{v['categoryOptionCombo'].lower()},"
                     f"{v['attributeOptionCombo']},{v['value']},khis,,")
    with live.http("officer") as http:
        answer = http.post("/api/dataValueSets", params={"idScheme": "CODE"}, content="\n".join(lines) + "\n",
                           headers={"Content-Type": "application/csv"})
    body = answer.json()
    assert answer.status_code == 200, body
    assert body["response"]["importCount"]["imported"] == len(values)
    assert body["response"]["importOptions"]["idSchemes"] == {"idScheme": {"type": "CODE"}}
    assert len(stored(live, "OPCT", "006", "2025Q3")) == len(values)


def test_unknown_element_and_a_word_refuse_their_returns_and_the_rest_imports(live):
    ids = live.ids()
    values = dhis2_values(ids, live.rows("OPCT", ["007", "008", "009"]))
    units = {ids.org_unit_for(c).uid: c for c in ("007", "008", "009")}
    in_007 = [i for i, v in enumerate(values) if units[v["orgUnit"]] == "007"]
    in_008 = [i for i, v in enumerate(values) if units[v["orgUnit"]] == "008"]
    values[in_007[3]]["dataElement"] = "UnknownDE01"
    values[in_008[2]]["value"] = "twelve"
    status, summary = summary_of(lambda: live.client("officer").post_data_value_set({"dataValues": values}))
    assert status == 409 and summary["status"] == "WARNING"
    codes = {c.get("errorCode"): c for c in summary["conflicts"] if c.get("errorCode")}
    assert codes["E7610"]["indexes"] == [in_007[3]] and codes["E7610"]["objects"] == {"dataElement": "UnknownDE01"}
    assert codes["E7619"]["indexes"] == [in_008[2]] and codes["E7619"]["property"] == "value"
    assert summary["rejectedIndexes"] == sorted(in_007 + in_008)
    n_009 = len(values) - len(in_007) - len(in_008)
    assert summary["importCount"] == {"imported": n_009, "updated": 0, "ignored": len(in_007) + len(in_008),
                                      "deleted": 0}
    assert stored(live, "OPCT", "007", "2025Q3") == {} and stored(live, "OPCT", "008", "2025Q3") == {}
    assert len(stored(live, "OPCT", "009", "2025Q3")) == n_009


def test_submitted_approved_and_closed_returns_are_conflicts(live):
    ids = live.ids()
    client = live.client("officer")
    values = dhis2_values(ids, live.rows("OPCT", ["010"]))
    done = client.post_data_value_set({"completeDate": "2025-10-05", "dataValues": values})
    assert done["response"]["dataSetComplete"] == "2025-10-05"
    with live.app.app_context():
        states = set(db.session.scalars(select(Return.state).where(Return.period == "2025Q3")))
    assert "submitted" in states
    changed = [dict(v, value=str(int(float(v["value"])) + 1)) for v in values[:1]]
    status, summary = summary_of(lambda: client.post_data_value_set({"dataValues": changed}))
    assert status == 409 and summary["conflicts"][0]["errorCode"] == "E7642"
    assert "submitted" in summary["conflicts"][0]["value"]
    approved = [dict(v, period="2025Q2", value="1") for v in values[:1]]
    status, summary = summary_of(lambda: live.client("secretariat").post_data_value_set({"dataValues": approved}))
    assert status == 409 and summary["conflicts"][0]["errorCode"] == "E7642"
    assert summary["conflicts"][0]["value"].startswith("Data already approved for data set")
    closed = [dict(v, period="2019Q1") for v in values[:3]]
    status, summary = summary_of(lambda: client.post_data_value_set({"dataValues": closed}))
    assert status == 409 and summary["conflicts"][0]["errorCode"] == "E7640"
    assert summary["rejectedIndexes"] == [0, 1, 2]


@pytest.mark.parametrize("role, status, code", [
    ("viewer", 403, "E1006"), ("reviewer", 403, "E1006"),
    ("officer_programme", 409, "E7616"), ("officer_unit", 409, "E7617"),
])
def test_who_may_post(live, role, status, code):
    ids = live.ids()
    values = dhis2_values(ids, live.rows("OPCT", ["011"]))[:4]
    got, summary = summary_of(lambda: live.client(role).post_data_value_set({"dataValues": values}))
    assert got == status
    if status == 403:
        assert summary["errorCode"] == code
    else:
        assert summary["status"] == "WARNING" and summary["conflicts"][0]["errorCode"] == code
        assert summary["importCount"]["imported"] == 0
    assert stored(live, "OPCT", "011", "2025Q3") == {}


def test_who_may_read(live):
    ids = live.ids()
    ds, kisumu, mombasa = ids.data_set_for("OPCT").uid, ids.org_unit_for("042").uid, ids.org_unit_for("001").uid
    query = {"dataSet": ds, "period": "2025Q3", "orgUnit": kisumu}
    live.client("secretariat").post_data_value_set({"dataValues": dhis2_values(ids, live.rows("OPCT", ["042"]))})
    assert live.client("viewer").get_data_value_set(query)["dataValues"] == []  # a draft: not for viewers
    approved = dict(query, period="2025Q2")
    assert live.client("viewer").get_data_value_set(approved)["dataValues"]
    assert live.client("officer_unit").get_data_value_set(query)["dataValues"]
    with pytest.raises(DHIS2HTTPError) as foreign_unit:
        live.client("officer_unit").get_data_value_set(dict(query, orgUnit=mombasa))
    assert foreign_unit.value.payload["errorCode"] == "E2012"
    with pytest.raises(DHIS2HTTPError) as foreign_set:
        live.client("officer_programme").get_data_value_set(query)
    assert foreign_set.value.payload["errorCode"] == "E2010"
    national = live.client("officer_unit").get_data_value_set(
        {"dataSet": ds, "period": "2025Q2", "orgUnit": ids.org_unit_for("KE").uid, "children": "true"})
    assert {v["orgUnit"] for v in national["dataValues"]} == {kisumu}


@pytest.mark.parametrize("query, code", [
    ({"period": "2025Q3", "orgUnit": "x"}, "E2001"),
    ({"dataSet": "x", "orgUnit": "x"}, "E2002"),
    ({"dataSet": "x", "period": "2025Q3"}, "E2006"),
    ({"dataSet": "x", "period": "2025Q3", "startDate": "2025-01-01", "endDate": "2025-03-31", "orgUnit": "x"},
     "E2003"),
])
def test_required_parameters(live, query, code):
    with pytest.raises(DHIS2HTTPError) as refused:
        live.client("secretariat").get_data_value_set(query)
    assert refused.value.status_code == 409 and refused.value.payload["errorCode"] == code


def test_async_import_is_a_job_to_poll(live):
    ids = live.ids()
    values = dhis2_values(ids, live.rows("OPCT", ["012"]))
    client = live.client("officer")
    started = client.post("/api/dataValueSets", params={"async": "true"}, json={"dataValues": values})
    job = started["response"]
    assert started["message"] == "Initiated DATAVALUE_IMPORT" and job["jobType"] == "DATAVALUE_IMPORT"
    assert job["relativeNotifierEndpoint"] == f"/api/system/tasks/DATAVALUE_IMPORT/{job['id']}"
    with live.http("officer") as http:
        tasks = http.get(f"/api/system/tasks/DATAVALUE_IMPORT/{job['id']}").json()
        summary = http.get(f"/api/system/taskSummaries/DATAVALUE_IMPORT/{job['id']}").json()
    assert tasks[0]["completed"] is True
    assert summary["importCount"]["imported"] == len(values)
    with live.http("officer_unit") as http:  # another's job: nothing known of it
        assert http.get(f"/api/system/tasks/DATAVALUE_IMPORT/{job['id']}").json() == []


def test_bad_payloads_get_dhis2_answers(live):
    with live.http("secretariat") as http:
        broken = http.post("/api/dataValueSets", content=b"{not json", headers={"Content-Type": "application/json"})
        assert broken.status_code == 409 and broken.json()["response"]["status"] == "ERROR"
        assert broken.json()["response"]["description"].startswith("The import process failed")
        xml = http.post("/api/dataValueSets", content=b"<x/>", headers={"Content-Type": "application/xml"})
        assert xml.status_code == 415 and xml.json()["httpStatus"] == "Unsupported Media Type"
        unknown_set = http.post("/api/dataValueSets", json={"dataSet": "NoSuchSet01", "dataValues": []})
        body = unknown_set.json()
        assert unknown_set.status_code == 409 and body["response"]["status"] == "ERROR"
        assert body["response"]["conflicts"][0]["errorCode"] == "E7600"
        strategy = http.post("/api/dataValueSets", params={"importStrategy": "MERGE"}, json={"dataValues": []})
        assert strategy.status_code == 409


# --------------------------------------------------------------------------- generated payloads

COUNTIES = ["013", "014", "015", "016", "017"]
QUARTERS = ["2024Q3", "2024Q4", "2025Q1", "2025Q3"]


@st.composite
def payloads(draw):
    counties = draw(st.lists(st.sampled_from(COUNTIES), min_size=1, max_size=3, unique=True))
    quarters = draw(st.lists(st.sampled_from(QUARTERS), min_size=1, max_size=2, unique=True))
    spelling = draw(st.sampled_from(["uid", "code", "lower", "padded"]))
    factor = draw(st.integers(min_value=1, max_value=5))
    noise = draw(st.sampled_from(["", "abc", "-1", "1,000", "1.5", "  7 "]))
    return counties, quarters, spelling, factor, noise


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=payloads())
def test_generated_payloads_never_fail_and_repeat_as_ignored(live, spec):
    counties, quarters, spelling, factor, noise = spec
    ids = live.ids()
    values = []
    for quarter in quarters:
        rows = live.rows("OPCT", counties, period=quarter, source="2024Q2")
        rows["value"] = [str(int(float(v)) * factor) for v in rows["value"]]
        values += dhis2_values(ids, rows, scheme="UID" if spelling == "uid" else "CODE")
    if spelling == "lower":
        values = [dict(v, dataElement=v["dataElement"].lower(), orgUnit=v["orgUnit"].lower()) for v in values]
    if spelling == "padded":
        values = [dict(v, dataElement=f" {v['dataElement']} ") for v in values]
    if noise:
        values[len(values) // 2]["value"] = noise
    params = {} if spelling == "uid" else {"idScheme": "CODE"}
    with live.http("secretariat") as http:
        first = http.post("/api/dataValueSets", params=params, json={"dataValues": values})
        second = http.post("/api/dataValueSets", params=params, json={"dataValues": values})
    for answer in (first, second):
        assert answer.status_code in (200, 409), answer.text[:300]
        assert answer.json()["response"]["responseType"] == "ImportSummary"
    counts = second.json()["response"]["importCount"]
    assert counts["imported"] == 0 and counts["updated"] == 0 and counts["deleted"] == 0
    assert counts["ignored"] == len(values)
