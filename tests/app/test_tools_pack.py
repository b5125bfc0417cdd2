"""The reporting tools pack (issue 21 item 2): one zip per programme (or of every programme, a folder
each) with the Excel template of every org unit of the form for a quarter, each with its Indicators and
Instructions sheets, and a manifest recording the catalogue version and each file's SHA-256.

The issue's check: the pack opens with openpyxl and every template in it imports back (after filling)
through the normal upload."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import openpyxl
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from indicators.periods import parse_period
from mel.accounts.operations import create_token, load_user
from mel.catalogue.lookup import load_catalogue
from mel.errors import ValidationFailed
from mel.guidelines.content import catalogue_content, catalogue_version
from mel.guidelines.tools_pack import MANIFEST, README, pack_bytes, plan_pack
from mel.returns import operations
from mel.returns.ingest import IngestSettings
from mel.returns.models import DataValue, Return
from mel.returns.template_guide import Links
from mel.returns.workbook import read_return_file
from tests.app.returns_helpers import IN_WINDOW
from tests.app.tools_helpers import data_rows, fill_template, history_values, sheet_text, unzip
from tests.helpers import csrf_token, login

PACK = "/tools/pack.zip"
API = "/api/v1/tools-pack"


@pytest.fixture
def in_window():
    """Every request of the test on 5 October 2025: 2025Q3 is being reported, its window open."""
    with time_machine.travel(IN_WINDOW, tick=False):
        yield


def _signed_in(client, email):
    assert login(client, email).status_code == 302
    return client


def _units(session, programme: str, period: str = "2025Q3") -> list[str]:
    catalogue = load_catalogue(session)
    return [u.code for u in catalogue.forms[catalogue.programmes[programme].id].org_units_in(period)]


def test_a_programmes_pack_holds_each_org_units_template_and_a_manifest(client, session, in_window):
    _signed_in(client, "secretariat@demo.test")
    response = client.get(PACK, query_string={"programme": "OPCT", "period": "2025Q3"})
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/zip" and response.is_streamed
    assert 'filename="tools_OPCT_2025Q3.zip"' in response.headers["Content-Disposition"]
    members = unzip(response.data)
    units = _units(session, "OPCT")
    assert len(units) == 47
    assert set(members) == {f"OPCT_{u}_2025Q3.xlsx" for u in units} | {MANIFEST, README}
    version = catalogue_version(catalogue_content(session))
    manifest = json.loads(members[MANIFEST])
    assert (manifest["catalogue_version"], manifest["period"], manifest["programme"]) == (version, "2025Q3", "OPCT")
    assert manifest["generated_at"].startswith("2025-10-05T09:00") and manifest["generated_by"] == "secretariat@demo.test"
    assert response.headers["X-Catalogue-Version"] == version
    assert manifest["programmes"]["OPCT"]["window"] == {"opens": "2025-09-30", "due": "2025-10-15",
                                                        "closes": "2025-11-14"}
    assert [f["path"] for f in manifest["files"]] == sorted(f"OPCT_{u}_2025Q3.xlsx" for u in units)
    readme = members[README].decode()
    assert version in readme and "FY2025/26 Q1 (Jul–Sep 2025)" in readme
    catalogue = load_catalogue(session)
    form = catalogue.forms[catalogue.programmes["OPCT"].id]
    codes = [item.indicator.code for item in form.items_in("2025Q3")]
    for entry in manifest["files"]:
        data = members[entry["path"]]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
        assert f"{entry['sha256']}  {entry['path']}" in readme
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["Data", "Instructions", "Indicators"]
        rows = list(book["Data"].iter_rows(min_row=2, values_only=True))
        assert len(rows) == entry["rows"] > 0 and {r[0] for r in rows} == {entry["org_unit"]}
        assert [r[0] for r in book["Indicators"].iter_rows(min_row=2, values_only=True)] == codes
    assert f"{hashlib.sha256(members[MANIFEST]).hexdigest()}  {MANIFEST}" in readme


def test_each_template_says_how_to_fill_it_when_and_where_to_send_it_and_defines_each_indicator(
        client, session, in_window):
    _signed_in(client, "officer.kisumu@demo.test")
    members = unzip(client.get(PACK, query_string={"programme": "OPCT", "period": "2025Q3"}).data)
    template = members["OPCT_042_2025Q3.xlsx"]
    instructions = sheet_text(template, "Instructions")
    for phrase in ("OPCT quarterly return, FY2025/26 Q1 (Jul–Sep 2025), Kisumu", "opens on 30 September 2025",
                   "due on 15 October 2025", "closes on 14 November 2025", "I (value), J (comment), K (explanation)",
                   "http://localhost/upload", "http://localhost/returns/OPCT/042/2025Q3",
                   "http://localhost/api/v1/returns:import", "secretariat@demo.test",
                   catalogue_version(catalogue_content(session)), "thousands separators", "Drought scale-up"):
        assert phrase in instructions, phrase
    book = openpyxl.load_workbook(io.BytesIO(template))
    header, *rows = list(book["Indicators"].iter_rows(values_only=True))
    assert header[:8] == ("Code", "Indicator", "Definition", "Numerator", "Denominator", "Unit",
                          "Disaggregation options", "Desired direction")
    assert "Means of verification" in header and "Data source" in header
    catalogue = load_catalogue(session)
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    ratio = next(code for code in by_code if catalogue.indicators[code].measure == "ratio")
    sheet = catalogue.indicators[ratio]
    assert by_code[ratio]["Numerator"] == sheet.numerator and by_code[ratio]["Denominator"] == sheet.denominator
    assert by_code[ratio]["Rows in the Data sheet"] == f"{ratio}.N, {ratio}.D"
    sexed = next(code for code in by_code if catalogue.indicators[code].disaggregation_set.code != "none")
    options = [c.name for c in catalogue.indicators[sexed].disaggregation_set.combos if not c.is_total]
    assert by_code[sexed]["Disaggregation options"] == "; ".join(options)
    for code, row in by_code.items():
        indicator = catalogue.indicators[code]
        assert row["Definition"] == indicator.definition and row["Data source"] == indicator.data_source
        assert row["Means of verification"] == indicator.means_of_verification
        assert row["Desired direction"] == indicator.direction.capitalize()
    assert book["Indicators"].protection.sheet and book["Data"].protection.sheet


def test_the_packs_template_is_the_one_the_return_page_offers(client, session, in_window):
    _signed_in(client, "officer.opct@demo.test")
    members = unzip(client.get(PACK, query_string={"programme": "OPCT", "period": "2025Q3"}).data)
    from_grid = client.get("/returns/OPCT/042/2025Q3/template.xlsx").data
    packed = members["OPCT_042_2025Q3.xlsx"]
    assert data_rows(packed) == data_rows(from_grid)
    assert sheet_text(packed, "Indicators") == sheet_text(from_grid, "Indicators")
    assert sheet_text(packed, "Instructions") == sheet_text(from_grid, "Instructions")  # the same instant


def _upload(client, data: bytes, name: str, programme: str):
    """The upload page's form as a browser sends it: the file and the programme chosen (the template says which)."""
    return client.post("/upload", data={"file": (io.BytesIO(data), name), "programme": programme,
                                        "csrf_token": csrf_token(client, "/upload")}, content_type="multipart/form-data")


def _stored(session, programme: str, unit: str, period: str) -> int:
    catalogue = load_catalogue(session)
    return session.scalar(select(func.count()).select_from(DataValue).where(
        DataValue.programme_id == catalogue.programmes[programme].id,
        DataValue.org_unit_id == catalogue.org_units[unit].id, DataValue.period == period))


@pytest.mark.slow  # some 250 templates filled and uploaded one by one
def test_every_template_of_the_secretariats_pack_imports_back_through_the_upload_page(client, session, in_window):
    _signed_in(client, "secretariat@demo.test")
    response = client.get(PACK, query_string={"programme": "ALL", "period": "2025Q3"})
    members = unzip(response.data)
    manifest = json.loads(members[MANIFEST])
    catalogue = load_catalogue(session)
    assert set(manifest["programmes"]) == {p for p in catalogue.programmes
                                           if catalogue.forms.get(catalogue.programmes[p].id)
                                           and _units(session, p)}
    assert len(manifest["files"]) == sum(len(_units(session, p)) for p in manifest["programmes"]) > 200
    history = history_values(session)
    for entry in manifest["files"]:
        assert entry["path"] == f"{entry['programme']}/{entry['programme']}_{entry['org_unit']}_2025Q3.xlsx"
        filled, count = fill_template(session, members[entry["path"]], entry["programme"], history)
        assert count > 0, entry["path"]
        assert f"choose {entry['programme']} under Programme" in sheet_text(filled, "Instructions")
        page = _upload(client, filled, entry["path"].split("/")[-1], entry["programme"])
        assert page.status_code == 200, (entry["path"], page.get_data(as_text=True)[:600])
        assert _stored(session, entry["programme"], entry["org_unit"], "2025Q3") == count, entry["path"]


def test_an_officers_pack_imports_back_through_the_import_api(client, session, in_window):
    """officer.kisumu reports OPCT and the county scheme in Kisumu: their pack of every programme holds
    those two templates, each filled and sent to POST /api/v1/returns:import."""
    _signed_in(client, "officer.kisumu@demo.test")
    members = unzip(client.get(PACK, query_string={"programme": "ALL", "period": "2025Q3"}).data)
    assert set(members) == {"OPCT/OPCT_042_2025Q3.xlsx", "COUNTY/COUNTY_042_2025Q3.xlsx", MANIFEST, README}
    token = create_token(session, "officer.kisumu@demo.test").token
    history = history_values(session)
    for path in ("OPCT/OPCT_042_2025Q3.xlsx", "COUNTY/COUNTY_042_2025Q3.xlsx"):
        programme = path.split("/")[0]
        filled, count = fill_template(session, members[path], programme, history)
        assert f"returns:import?programme={programme}" in sheet_text(filled, "Instructions")
        answer = client.post(f"/api/v1/returns:import?programme={programme}", headers={"Authorization": f"Bearer {token}"},
                             data={"file": (io.BytesIO(filled), path.split("/")[1])}, content_type="multipart/form-data")
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["outcome"] == "stored"
        assert _stored(session, programme, "042", "2025Q3") == count > 0


@pytest.mark.parametrize(("email", "programme", "status"), [
    ("secretariat@demo.test", "HSNP", 200), ("reviewer@demo.test", "HSNP", 200), ("officer.hsnp@demo.test", "HSNP", 200),
    ("officer.opct@demo.test", "HSNP", 403), ("officer.kisumu@demo.test", "HSNP", 403), ("viewer@demo.test", "HSNP", 403),
    ("viewer@demo.test", "ALL", 403), ("officer.hsnp@demo.test", "ALL", 200),
])
def test_who_may_download_which_pack(client, session, in_window, email, programme, status):
    _signed_in(client, email)
    query = {"programme": programme, "period": "2025Q3"}
    assert client.get(PACK, query_string=query).status_code == status
    token = create_token(session, email).token
    answer = client.get(API, query_string=query, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == status
    if status == 403:
        said = answer.get_json()["message"]
        assert ("HSNP" in said if email != "viewer@demo.test" else "the MERL TWG and the secretariat" in said), said
    page = client.get("/tools/")
    assert page.status_code == (403 if email == "viewer@demo.test" else 200)
    assert ('href="/tools/"' in client.get("/").get_data(as_text=True)) is (email != "viewer@demo.test")


def test_anonymous_is_sent_to_sign_in_and_the_api_wants_a_token(client, in_window):
    assert client.get("/tools/").status_code == 302
    assert client.get(PACK, query_string={"programme": "OPCT", "period": "2025Q3"}).status_code == 302
    assert client.get(API, query_string={"programme": "OPCT", "period": "2025Q3"}).status_code == 401


def test_an_officers_pack_holds_their_own_org_units_and_nobody_elses_figures(client, session, in_window):
    """A draft of OPCT Mombasa (001) with a marker figure: the OPCT desk's pack carries it (their own return),
    Kisumu's OPCT officer never gets Mombasa's template, and the HSNP desk no OPCT template at all."""
    from tests.app.returns_helpers import send
    from tests.helpers import flat_rows

    result = send(session, "officer.opct@demo.test", flat_rows(session, "OPCT", "001", "2025Q3", 7777771))
    assert result.outcome == "stored"
    session.commit()
    _signed_in(client, "officer.opct@demo.test")
    mine = unzip(client.get(PACK, query_string={"programme": "OPCT", "period": "2025Q3"}).data)
    assert 7777771 in [row[8] for row in data_rows(mine["OPCT_001_2025Q3.xlsx"])]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    _signed_in(client, "officer.kisumu@demo.test")
    theirs = unzip(client.get(PACK, query_string={"programme": "OPCT", "period": "2025Q3"}).data)
    assert set(theirs) == {"OPCT_042_2025Q3.xlsx", MANIFEST, README}
    assert all(b"7777771" not in data for data in theirs.values())
    assert json.loads(theirs[MANIFEST])["programmes"]["OPCT"]["org_units"] == ["042"]


@pytest.mark.parametrize(("query", "status", "named"), [
    ({"programme": "OPCT", "period": "2025Q9"}, 422, "2025Q9"),
    ({"programme": "OPCT", "period": "2025July"}, 422, "2025July"),
    ({"programme": "OPCT", "period": "2027Q1"}, 422, "2027Q1"),
    ({"programme": "NOPE", "period": "2025Q3"}, 404, "NOPE"),
    ({"programme": "OPCT", "period": ""}, 422, "period"),
])
def test_a_bad_programme_or_quarter_is_refused_by_name_and_nothing_changes(client, session, in_window, query, status,
                                                                        named):
    before = session.scalar(select(func.count()).select_from(Return))
    token = create_token(session, "secretariat@demo.test").token
    answer = client.get(API, query_string=query, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    body = answer.get_json()
    assert named in json.dumps(body)
    if status == 422 and query["period"]:
        assert body["details"][0]["location"]["field"] == "period"
    _signed_in(client, "secretariat@demo.test")
    page = client.get(PACK, query_string=query)
    assert page.status_code == (status if query["period"] else 200 if status == 422 else status)
    assert session.scalar(select(func.count()).select_from(Return)) == before


def test_the_tools_page_offers_each_programme_with_its_window(client, session, in_window):
    _signed_in(client, "officer.kisumu@demo.test")
    page = client.get("/tools/").get_data(as_text=True)
    assert "All programmes (a folder each)" in page and 'value="OPCT"' in page and 'value="COUNTY"' in page
    assert 'value="HSNP"' not in page
    assert "Window: opens 30 September 2025, due 15 October 2025, closes 14 November 2025." in page
    assert "2 templates." in page
    assert catalogue_version(catalogue_content(session)) in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    _signed_in(client, "reviewer@demo.test")
    page = client.get("/tools/", query_string={"programme": "OPCT", "period": "2025Q2"}).get_data(as_text=True)
    assert "47 templates." in page and 'value="HSNP"' in page


def _user_pack(session, email: str, programme: str, period: str):
    links = Links(upload="https://mel.example/upload", catalogue="https://mel.example/indicators",
                  api="https://mel.example/api/v1/returns:import")
    return plan_pack(session, load_catalogue(session), load_user(session, email), programme=programme, period=period,
                     contact="sps@example.org", links=lambda grids: links,
                     catalogue_version=catalogue_version(catalogue_content(session)),
                     generated_at=IN_WINDOW)


QUARTERS = [parse_period("2023Q3").shift(n).id for n in range(11)]  # 2023Q3 … 2026Q1


@pytest.mark.slow  # each example builds a pack of up to 47 templates
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(programme=st.sampled_from(["COUNTY", "CTOVC", "HSNP", "NICHE", "NSSF", "OPCT", "PWSD", "SHA", "SPS"]),
       quarter=st.sampled_from(QUARTERS))
def test_any_programmes_pack_of_any_quarter_opens_and_imports_back(app, session, programme, quarter):
    """Whatever the programme and quarter: each template of the pack opens with openpyxl and is read by the
    upload's own reader into the form's figures for its org unit; the first, filled, goes through the
    import as a dry run: accepted when its return is open, refused because it is approved when it is."""
    period = parse_period(quarter)
    with app.test_request_context(), time_machine.travel(period.end + timedelta(days=5), tick=False):
        pack = _user_pack(session, "secretariat@demo.test", programme, quarter)
        members = unzip(pack_bytes(pack))
        catalogue = load_catalogue(session)
        form = catalogue.forms[catalogue.programmes[programme].id]
        units = [u.code for u in form.org_units_in(quarter)]
        assert sorted(members) == sorted([f"{programme}_{u}_{quarter}.xlsx" for u in units] + [MANIFEST, README])
        manifest = json.loads(members[MANIFEST])
        asked = {item.indicator.code for item in form.items_in(quarter)
                 if item.indicator.frequency != "annual" or period.fy_quarter == 4}
        for entry in manifest["files"]:
            data = members[entry["path"]]
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["Data", "Instructions", "Indicators"]
            frame = read_return_file(data, entry["path"])
            assert len(frame) == entry["rows"] and set(frame["org_unit"]) == {entry["org_unit"]}
            assert set(frame["period"]) == {quarter} and {c.split(".")[0] for c in frame["indicator"]} == asked
        first = manifest["files"][0]
        filled, count = fill_template(session, members[first["path"]], programme, history_values(session))
        assert count > 0
        result = operations.import_file(session, load_user(session, "secretariat@demo.test"), filled, first["path"],
                                        settings=IngestSettings.from_config(app.config), programme=programme,
                                        dry_run=True)
        approved = session.scalar(select(Return.state).where(
            Return.programme_id == catalogue.programmes[programme].id, Return.period == quarter,
            Return.org_unit_id == catalogue.org_units[first["org_unit"]].id)) == "approved"
        if approved:
            assert result.errors and "approved" in result.errors[0].message
        else:
            assert not result.errors, [e.message for e in result.errors][:3]
            assert sum(r.created for r in result.returns) == count


def test_a_quarter_too_far_ahead_is_refused_before_anything_is_built(app, session):
    with app.test_request_context(), time_machine.travel(IN_WINDOW, tick=False):
        with pytest.raises(ValidationFailed) as refused:
            _user_pack(session, "secretariat@demo.test", "OPCT", "2026Q1")
        assert "2026Q1" in refused.value.message and "FY2025/26 Q2" in refused.value.message
        assert _user_pack(session, "secretariat@demo.test", "OPCT", "2025Q4").files


def test_the_pack_speaks_the_readers_language_and_the_api_english(client, session, in_window):
    _signed_in(client, "officer.kisumu@demo.test")
    client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": csrf_token(client, "/")})
    query = {"programme": "OPCT", "period": "2025Q3"}
    page = client.get("/tools/").get_data(as_text=True)
    assert "Vifaa vya kuripoti" in page and "Download the pack" not in page
    members = unzip(client.get(PACK, query_string=query).data)
    instructions = sheet_text(members["OPCT_042_2025Q3.xlsx"], "Instructions")
    assert "Jinsi ya kulijaza" in instructions and "How to fill it in" not in instructions
    assert "Drought scale-up:" in instructions  # the reasons are read in English: they stay English
    assert "Kifurushi cha vifaa vya kuripoti" in members[README].decode()
    assert json.loads(members[MANIFEST])["language"] == "sw"
    token = create_token(session, "officer.kisumu@demo.test").token
    english = unzip(client.get(API, query_string=query, headers={"Authorization": f"Bearer {token}"}).data)
    assert "How to fill it in" in sheet_text(english["OPCT_042_2025Q3.xlsx"], "Instructions")
    assert json.loads(english[MANIFEST])["language"] == "en"
    # The Data sheet is the same whatever the language: it is what the upload reads.
    assert data_rows(english["OPCT_042_2025Q3.xlsx"])[0] == data_rows(members["OPCT_042_2025Q3.xlsx"])[0]
