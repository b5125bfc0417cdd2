"""The DHIS2 metadata dialect, as a DHIS2 client sees it: system info, /api/me, paged metadata lists
with fields/filter/order, 401s and 404s (the real `dhis2-client` against a live server on 127.0.0.1)."""

from __future__ import annotations

import base64

import httpx
import pytest
from dhis2_client import DHIS2Client
from dhis2_client.errors import DHIS2HTTPError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mel.accounts.operations import create_token
from mel.db import db
from mel.demo import DEMO_PASSWORD
from mel.uid import stable_uid
from tests.helpers import serving

OFFICER = "officer.kisumu@demo.test"  # OPCT in Kisumu (042) only


@pytest.fixture(scope="module")
def live_server(app):
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def tokens(app) -> dict[str, str]:
    with app.app_context():
        issued = {email: create_token(db.session, email, name="dhis2 meta test").token
                  for email in (OFFICER, "viewer@demo.test", "secretariat@demo.test")}
        db.session.commit()
    return issued


@pytest.fixture(scope="module")
def basic(live_server):
    client = DHIS2Client(live_server, username=OFFICER, password=DEMO_PASSWORD, retries=0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def token_client(live_server, tokens):
    client = DHIS2Client(live_server, token=tokens["viewer@demo.test"], retries=0)
    yield client
    client.close()


def test_system_info_speaks_dhis2_2_41(basic, live_server):
    info = basic.get_system_info()
    assert info["version"].startswith("2.41.")
    assert info["calendar"] == "iso8601" and info["dateFormat"] == "yyyy-mm-dd"
    assert info["serverTimeZoneId"] == "Africa/Nairobi"
    assert info["contextPath"] == live_server
    assert info["systemName"] and info["systemId"] and info["serverDate"][:2] == "20"
    assert basic.get("/api/41/system/info.json", params={"fields": "version,calendar"}) == {
        "version": info["version"], "calendar": "iso8601"}


def test_me_with_basic_auth_names_the_officers_org_units_and_authorities(basic):
    me = basic.get_current_user(fields="id,username,email,organisationUnits[id,name,level],authorities,userRoles")
    assert me["username"] == OFFICER == me["email"]
    assert me["organisationUnits"] == [{"id": me["organisationUnits"][0]["id"], "name": "Kisumu", "level": 2}]
    assert "F_DATAVALUE_ADD" in me["authorities"] and "ALL" not in me["authorities"]
    assert set(me) == {"id", "username", "email", "organisationUnits", "authorities", "userRoles"}


def test_me_with_an_api_token(token_client):
    me = token_client.get_current_user()
    assert me["username"] == "viewer@demo.test"
    assert "F_VIEW_UNAPPROVED_DATA" not in me["authorities"]
    assert token_client.get("/api/me/authorization") == me["authorities"]


def test_paging_through_org_units_finds_every_county_and_kenya(basic):
    pages = []
    params = {"fields": "id,code,name,level,parent[id],path"}
    first = basic.get("/api/organisationUnits", params=params | {"pageSize": 10})
    assert first["pager"] == {"page": 1, "total": 48, "pageSize": 10, "pageCount": 5,
                              "nextPage": first["pager"]["nextPage"]}
    assert "page=2" in first["pager"]["nextPage"] and "pageSize=10" in first["pager"]["nextPage"]
    for unit in basic.list_paged("/api/organisationUnits", params=params, page_size=10, item_key="organisationUnits"):
        pages.append(unit)
    codes = {u["code"] for u in pages}
    assert codes == {"KE"} | {f"{n:03d}" for n in range(1, 48)} and len(pages) == 48
    kenya = next(u for u in pages if u["code"] == "KE")
    kisumu = next(u for u in pages if u["code"] == "042")
    assert kisumu["parent"] == {"id": kenya["id"]} and kisumu["path"] == f"/{kenya['id']}/{kisumu['id']}"
    everything = basic.get("/api/organisationUnits.json", params={"paging": "false"})
    assert "pager" not in everything and len(everything["organisationUnits"]) == 48
    assert set(everything["organisationUnits"][0]) == {"id", "displayName"}


CASES = [
    # (resource, params, check)
    ("organisationUnits", {"filter": "level:eq:1", "fields": "code"}, lambda r: r == [{"code": "KE"}]),
    ("organisationUnits", {"filter": ["level:eq:2", "name:ilike:kis"], "fields": "name", "order": "name:desc"},
     lambda r: r == [{"name": "Kisumu"}, {"name": "Kisii"}]),
    ("organisationUnits", {"filter": ["code:eq:001", "code:eq:047"], "rootJunction": "OR", "fields": "code",
                           "order": "code:asc"}, lambda r: r == [{"code": "001"}, {"code": "047"}]),
    ("organisationUnits", {"filter": "code:in:[042,045]", "fields": "code", "order": "code"},
     lambda r: r == [{"code": "042"}, {"code": "045"}]),
    ("organisationUnits", {"filter": "parent:null", "fields": "code"}, lambda r: r == [{"code": "KE"}]),
    ("organisationUnits", {"filter": "parent:!null", "fields": "code"}, lambda r: len(r) == 47),
    ("organisationUnits", {"filter": "level:gt:1", "fields": "code"}, lambda r: len(r) == 47),
    ("organisationUnits", {"filter": "name:$ilike:nair", "fields": "name"}, lambda r: r == [{"name": "Nairobi City"}]),
    ("organisationUnits", {"level": "2", "fields": "id", "filter": "code:!in:[001,002]"}, lambda r: len(r) == 45),
    ("dataElements", {"filter": "code:like:SA02", "fields": "code,valueType,categoryCombo[id]"},
     lambda r: [e["code"] for e in r] == ["SA02"] and r[0]["valueType"] == "INTEGER_ZERO_OR_POSITIVE"),
    ("dataElements", {"filter": "code:like$:.N", "fields": "code"},
     lambda r: r and all(e["code"].endswith(".N") for e in r)),
    ("dataSets", {"fields": "code,categoryCombo[name],dataSetElements[dataElement[code]],periodType",
                  "filter": "code:ilike:opct"},
     lambda r: len(r) == 1 and r[0]["periodType"] == "Quarterly" and r[0]["categoryCombo"] == {"name": "Programme"}
     and {"dataElement": {"code": "SA02"}} in r[0]["dataSetElements"]),
    ("categoryCombos", {"filter": "code:eq:default", "fields": "id,categoryOptionCombos[id,code]"},
     lambda r: r == [{"id": "bjDvmb4bfuf", "categoryOptionCombos": [{"id": "HllvX50cXC0", "code": "default"}]}]),
    ("categoryOptionCombos", {"filter": "code:eq:SEX_F", "fields": "code,name,categoryOptions[code]"},
     lambda r: r == [{"code": "SEX_F", "name": "Female", "categoryOptions": [{"code": "F"}]}]),
    ("categoryOptionCombos", {"filter": "categoryCombo.code:eq:PROGRAMME", "fields": "code"},
     lambda r: {"OPCT", "HSNP"} <= {c["code"] for c in r}),
    ("indicators", {"filter": "code:eq:SA02", "fields": ":identifiable,numerator,!href"},
     lambda r: len(r) == 1 and r[0]["code"] == "SA02" and r[0]["numerator"].startswith("#{")
     and "href" not in r[0] and {"id", "name", "code"} <= set(r[0])),
    ("organisationUnitLevels", {"fields": "level,name"},
     lambda r: r == [{"level": 1, "name": "National"}, {"level": 2, "name": "County"}]),
    ("dataElements", {"filter": "dataSetElements.dataSet.code:eq:OPCT-QR", "fields": "code"},
     lambda r: "SA02" in {e["code"] for e in r}),
]


@pytest.mark.parametrize(("resource", "params", "check"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_fields_filters_and_order(basic, resource, params, check):
    found = basic.get(f"/api/{resource}", params=params | {"paging": "false"})[resource]
    assert check(found), found


def test_one_object_and_an_unknown_uid(basic):
    uid = stable_uid("dataElement", "SA02")
    element = basic.get_data_element(uid)
    assert element["code"] == "SA02" and element["domainType"] == "AGGREGATE"
    assert basic.get_data_element(uid, fields="id,name").keys() == {"id", "name"}
    with pytest.raises(DHIS2HTTPError) as refused:
        basic.get_data_element("abcdefghijk")
    assert refused.value.status_code == 404
    assert refused.value.payload == {"httpStatus": "Not Found", "httpStatusCode": 404, "status": "ERROR",
                                     "errorCode": "E1005",
                                     "message": "DataElement with id abcdefghijk could not be found."}


def test_the_versioned_prefix_answers_the_same(basic):
    plain = basic.get("/api/dataSets", params={"fields": "id,code", "paging": "false"})
    versioned = basic.get("/api/41/dataSets.json", params={"fields": "id,code", "paging": "false"})
    assert plain == versioned and plain["dataSets"]
    tree = basic.get_org_unit_tree(levels=2)["organisationUnits"]
    assert len(tree) == 1 and len(tree[0]["children"]) == 47


@pytest.mark.parametrize("headers", [
    {"Authorization": "Basic " + base64.b64encode(f"{OFFICER}:wrong password".encode()).decode()},
    {"Authorization": "Basic not-base64!"},
    {"Authorization": "ApiToken not-a-token"},
    {"Authorization": "Bearer not-a-token"},
    {"X-Requested-With": "XMLHttpRequest"},
    {},
])
def test_unauthenticated_requests_get_dhis2s_401(live_server, headers):
    answer = httpx.get(f"{live_server}/api/system/info", headers=headers)
    assert answer.status_code == 401
    body = answer.json()
    assert (body["httpStatus"], body["httpStatusCode"], body["status"], body["message"]) == (
        "Unauthorized", 401, "ERROR", "Unauthorized")


def test_the_root_still_leads_a_client_to_the_sign_in_page(live_server):
    """Clients that find the base URL by following `GET /` to the login page keep working: the
    redirect stays on this server, and the API next to it answers."""
    answer = httpx.get(f"{live_server}/", follow_redirects=True)
    assert answer.status_code == 200 and answer.url.path == "/login"
    assert str(answer.url).startswith(live_server)
    assert httpx.get(f"{live_server}/api/me").status_code == 401


@pytest.fixture(scope="module")
def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['secretariat@demo.test']}"}


FILTERS = st.one_of(
    st.text(max_size=40),
    st.builds(lambda p, o, v: f"{p}:{o}:{v}",
              st.sampled_from(["name", "code", "level", "parent.id", "children.code", "x", "path.y", "leaf", ""]),
              st.sampled_from(["eq", "!eq", "ne", "like", "ilike", "in", "!in", "gt", "le", "null", "!null", "zz",
                               "$like", "token", "empty", ""]),
              st.text(max_size=12)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=st.lists(FILTERS, min_size=1, max_size=3), order=st.text(max_size=15),
       fields=st.text(max_size=20))
def test_any_filter_gets_a_list_or_dhis2s_error_never_a_crash(client, bearer, filters, order, fields):
    answer = client.get("/api/organisationUnits", headers=bearer,
                        query_string=[("filter", f) for f in filters] + [("order", order), ("fields", fields)])
    assert answer.status_code in (200, 409), answer.get_data(as_text=True)[:300]
    body = answer.get_json()
    if answer.status_code == 409:
        assert body["httpStatus"] == "Conflict" and body["status"] == "ERROR" and body["message"]
    else:
        assert isinstance(body["organisationUnits"], list)


@pytest.mark.parametrize(("params", "message"), [
    ({"fields": "id," + "a[" * 40 + "b" + "]" * 40}, "nested deeper"),
    ({"fields": "id]],name"}, "Invalid fields parameter"),
    ({"filter": "name"}, "Invalid filter => name"),
    ({"filter": "level:eq:two"}, "Unable to parse `two`"),
    ({"filter": "code:in:[]"}, "Invalid argument `[]` for in operator."),
    ({"filter": "name.id:eq:x"}, "Simple type was found"),
    ({"pageSize": "ten"}, "pageSize"),
])
def test_malformed_queries_get_a_409_webmessage(client, bearer, params, message):
    answer = client.get("/api/41/organisationUnits", headers=bearer, query_string=params)
    assert answer.status_code == 409
    assert message in answer.get_json()["message"]


def test_a_route_that_does_not_exist_or_a_metadata_write_gets_a_webmessage(client, bearer):
    missing = client.get("/api/programs", headers=bearer)
    assert missing.status_code == 404 and missing.get_json()["httpStatus"] == "Not Found"
    write = client.post("/api/dataElements", headers=bearer, json={"name": "x"})
    assert write.status_code == 405 and write.get_json()["httpStatusCode"] == 405
