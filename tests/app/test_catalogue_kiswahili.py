"""The catalogue in both languages: Kiswahili names and short definitions seeded and migrated, shown on
Kiswahili pages through `localised`, the English text shown in their place flagged (never silently),
and edited with the catalogue (web and API) without a new indicator version."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text

from mel import clock
from mel.accounts.models import AuditEvent
from mel.accounts.operations import create_token
from mel.catalogue.language import count_missing, falls_back, localised, missing
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import (
    CategoryOption,
    Indicator,
    IndicatorVersion,
    OptionCombo,
    Pillar,
    Programme,
    ResultsNode,
)
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from tests.helpers import csrf_token, login, seeded_app

SECRETARIAT = "secretariat@demo.test"
SW = {"Accept-Language": "sw"}
EN = {"Accept-Language": "en"}
KISWAHILI_SA01 = "Idadi ya wanufaika wa Inua Jamii waliolipwa"
NEW_COLUMNS = {
    "pillar": {"name_sw", "description_sw"}, "programme": {"name_sw", "notes_sw"},
    "results_node": {"name_sw", "description_sw"}, "indicator": {"name_sw", "short_name_sw", "definition_sw"},
    "disaggregation_category": {"name_sw"}, "category_option": {"name_sw"}, "disaggregation_set": {"name_sw"},
    "option_combo": {"name_sw"},
}


def _indicator(session, code: str) -> Indicator:
    return session.scalar(select(Indicator).where(Indicator.code == code))


def _programme(session, code: str) -> Programme:
    return session.scalar(select(Programme).where(Programme.code == code))


def _token(session, email: str = SECRETARIAT) -> dict:
    return {"Authorization": f"Bearer {create_token(session, email, name='kiswahili').token}"}


def _versions(session, indicator: Indicator) -> int:
    return session.scalar(select(func.count()).select_from(IndicatorVersion)
                          .where(IndicatorVersion.indicator_id == indicator.id))


# --------------------------------------------------------------------------- migration and seed


def test_0028_adds_the_columns_fills_the_seeded_codes_and_goes_back(tmp_path_factory):
    from alembic import command

    from mel.migrate import alembic_config, upgrade

    app = seeded_app(tmp_path_factory, "m0028")
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT COUNT(*) FROM indicator_version")).scalar()
        command.downgrade(alembic_config(engine), "0027")
        columns = {table: {c["name"] for c in inspect(engine).get_columns(table)} for table in NEW_COLUMNS}
        assert all(not (columns[table] & wanted) for table, wanted in NEW_COLUMNS.items()), columns
        # A database seeded before 0028 (its rows are there, no Kiswahili yet) gets the seeded codes' text.
        with engine.begin() as connection:
            token = connection.execute(text("SELECT token FROM catalogue_revision")).scalar()
        upgrade(engine)
        columns = {table: {c["name"] for c in inspect(engine).get_columns(table)} for table in NEW_COLUMNS}
        assert all(wanted <= columns[table] for table, wanted in NEW_COLUMNS.items()), columns
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name_sw FROM indicator WHERE code = 'SA01'")).scalar() == KISWAHILI_SA01
            assert connection.execute(text(
                "SELECT COUNT(*) FROM indicator WHERE name_sw = '' OR definition_sw = '' OR short_name_sw = ''")).scalar() == 0
            assert connection.execute(text("SELECT COUNT(*) FROM programme WHERE name_sw = ''")).scalar() == 0
            assert connection.execute(text(
                "SELECT name_sw FROM option_combo WHERE code = 'F_A70P'")).scalar() == "Mwanamke, Miaka 70 na zaidi"
            assert connection.execute(text("SELECT name_sw FROM option_combo WHERE code = 'total' LIMIT 1")).scalar() == "Jumla"
            # No indicator version for a translation; processes read the catalogue again.
            assert connection.execute(text("SELECT COUNT(*) FROM indicator_version")).scalar() == versions
            assert connection.execute(text("SELECT token FROM catalogue_revision")).scalar() != token
        # The seed then finds nothing to add.
        with app.app_context():
            assert not seed_catalogue(db.session).changed
            db.session.rollback()
        engine.dispose()


def test_the_seed_gives_every_indicator_and_programme_a_kiswahili_name_and_definition(session):
    indicators = list(session.scalars(select(Indicator)))
    assert len(indicators) == 40
    assert not [i.code for i in indicators if missing(i)]
    assert all(i.name_sw != i.name for i in indicators)
    programmes = list(session.scalars(select(Programme)))
    assert len(programmes) == 9 and all(p.name_sw and p.notes_sw for p in programmes)
    # Programme names stay as they are; the descriptive words are translated.
    assert "Inua Jamii" in _programme(session, "OPCT").name_sw and "Wazee" in _programme(session, "OPCT").name_sw
    assert "HSNP" in _programme(session, "HSNP").name_sw and "NICHE" in _programme(session, "NICHE").name_sw
    for model in (Pillar, ResultsNode, CategoryOption, OptionCombo):
        rows = list(session.scalars(select(model)))
        assert rows and not [r for r in rows if missing(r)], model.__name__
    assert {i.code: i for i in indicators}["SA01"].name_sw == KISWAHILI_SA01


def test_the_seed_fills_only_empty_kiswahili_text_and_adds_no_version(session):
    sa01, sa02 = _indicator(session, "SA01"), _indicator(session, "SA02")
    versions = _versions(session, sa01)
    sa01.name_sw, sa02.name_sw = "Jina la katibu", ""
    session.flush()
    summary = seed_catalogue(session)
    assert summary.created.get("Kiswahili text") == 1, summary.describe()
    assert sa01.name_sw == "Jina la katibu"  # what the secretariat wrote stays
    assert sa02.name_sw.startswith("Idadi ya wazee")  # an emptied one is filled again
    assert _versions(session, sa01) == versions and sa01.version == versions
    assert not seed_catalogue(session).changed


# --------------------------------------------------------------------------- localised and falls_back


@pytest.mark.parametrize(("kiswahili", "lang", "shown", "fallback"), [
    ("Jina", "sw", "Jina", False),
    ("Jina", "en", "Name", False),
    ("", "sw", "Name", True),
    ("", "en", "Name", False),
    ("   ", "sw", "Name", True),
])
def test_localised_and_falls_back_on_every_kind_of_object(session, kiswahili, lang, shown, fallback):
    programme = _programme(session, "HSNP")
    programme.name, programme.name_sw = "Name", kiswahili
    plain = {"name": "Name", "name_sw": kiswahili}
    for entity in (programme, plain):
        assert localised(entity, "name", lang) == shown
        assert falls_back(entity, "name", lang) is fallback


@pytest.mark.parametrize(("header", "expected"), [("sw", KISWAHILI_SA01), ("en", "Number of Inua Jamii beneficiaries paid")])
def test_localised_follows_the_page_language_and_the_shared_catalogue_carries_the_kiswahili(app, session, header,
                                                                                           expected):
    assert isinstance(app, Flask)
    with app.test_request_context("/", headers={"Accept-Language": header}):
        catalogue = load_catalogue(session)
        sa01 = catalogue.indicators["SA01"]
        assert localised(sa01) == expected
        assert localised(sa01, "definition").startswith(expected)
        assert not falls_back(sa01, "name")
        assert localised(catalogue.programmes["HSNP"]).startswith("Mpango" if header == "sw" else "Hunger")
    # Outside a request: English.
    assert localised(_indicator(session, "SA01")) == "Number of Inua Jamii beneficiaries paid"


# --------------------------------------------------------------------------- the flagged fallback


def test_the_list_and_sheet_pages_show_kiswahili_and_flag_each_english_fallback(app, client, session):
    sa02 = _indicator(session, "SA02")
    sa02.name_sw, sa02.definition_sw = "", ""
    _programme(session, "NICHE").name_sw = ""
    session.flush()
    login(client, "viewer@demo.test")
    page = client.get("/indicators", headers=SW).get_data(as_text=True)
    assert KISWAHILI_SA01 in page
    assert f'<span lang="en">{sa02.name}</span>' in page
    assert page.count('data-kiswahili-missing="name"') == 1 and page.count('data-kiswahili-missing="definition"') == 1
    assert 'data-kiswahili-missing-count="1"' in page
    sheet = client.get("/indicators/SA02", headers=SW).get_data(as_text=True)
    assert 'data-kiswahili-missing="name"' in sheet and 'data-kiswahili-missing="definition"' in sheet
    assert 'data-kiswahili-missing="short_name"' not in sheet
    assert 'data-kiswahili-missing' not in client.get("/indicators/SA01", headers=SW).get_data(as_text=True)
    programmes = client.get("/programmes", headers=SW).get_data(as_text=True)
    assert 'data-kiswahili-missing-count="1"' in programmes and programmes.count('data-kiswahili-missing="name"') == 1
    assert "Mpango wa Kinga dhidi ya Njaa (HSNP)" in programmes
    # An English page shows English and no marker to a reader; the secretariat sees what is untranslated.
    english = client.get("/indicators", headers=EN).get_data(as_text=True)
    assert KISWAHILI_SA01 not in english and "data-kiswahili-missing" not in english
    secretariat = app.test_client()
    login(secretariat, SECRETARIAT)
    english = secretariat.get("/indicators", headers=EN).get_data(as_text=True)
    assert 'data-kiswahili-missing="name"' in english and 'data-kiswahili-missing-count="1"' in english


def test_results_framework_and_disaggregation_pages_show_kiswahili_and_flag_the_fallback(client, session):
    node = session.scalar(select(ResultsNode).where(ResultsNode.code == "O1.1"))
    node.name_sw = ""
    session.flush()
    login(client, "reviewer@demo.test")
    framework = client.get("/results-framework", headers=SW).get_data(as_text=True)
    assert "Kaya maskini na zilizo hatarini" in framework and f'<span lang="en">{node.name}</span>' in framework
    assert 'data-kiswahili-missing-count="1"' in framework
    overview = client.get("/catalogue/disaggregations", headers=SW).get_data(as_text=True)
    assert "Jinsia na kundi la umri" in overview and "Miaka 70 na zaidi" in overview
    assert "data-kiswahili-missing" not in overview
    combos = client.get("/catalogue/disaggregations/sets/sex_age", headers=SW).get_data(as_text=True)
    assert "Mwanamke, Miaka 70 na zaidi" in combos and "Jumla" in combos


def test_count_missing_counts_objects_not_fields(session):
    sa01, sa02 = _indicator(session, "SA01"), _indicator(session, "SA02")
    sa01.name_sw = sa01.definition_sw = ""
    assert missing(sa01) == ["name", "definition"] and missing(sa02) == []
    assert count_missing([sa01, sa02]) == 1


# --------------------------------------------------------------------------- editing


def _edit_form(client, session, code: str, **changes) -> dict:
    from mel.catalogue import indicator_admin

    values = indicator_admin.form_values(session, _indicator(session, code))
    return {"csrf_token": csrf_token(client, f"/catalogue/indicators/{code}/edit"), "reason": "Translators' wording",
            **values, **changes}


def test_the_indicator_editor_saves_kiswahili_without_a_new_version_and_audits_it(client, session):
    login(client, SECRETARIAT)
    sa01 = _indicator(session, "SA01")
    version, count = sa01.version, _versions(session, sa01)
    assert 'name="name_sw"' in client.get("/catalogue/indicators/SA01/edit").get_data(as_text=True)
    response = client.post("/catalogue/indicators/SA01/edit",
                           data=_edit_form(client, session, "SA01", name_sw="Wanufaika wa Inua Jamii waliolipwa"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.refresh(sa01)
    assert sa01.name_sw == "Wanufaika wa Inua Jamii waliolipwa"
    assert (sa01.version, _versions(session, sa01)) == (version, count)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "catalogue.indicator_translated")
                            .order_by(AuditEvent.id.desc())).first()
    assert event.object == "indicator SA01" and event.details["before"]["name_sw"] == KISWAHILI_SA01
    assert event.details["after"]["name_sw"] == "Wanufaika wa Inua Jamii waliolipwa"
    assert "Wanufaika wa Inua Jamii waliolipwa" in client.get("/indicators/SA01", headers=SW).get_data(as_text=True)
    # An English change with it: one version, the translation audited beside it.
    response = client.post("/catalogue/indicators/SA01/edit", data=_edit_form(
        client, session, "SA01", name="Inua Jamii beneficiaries paid", name_sw=KISWAHILI_SA01))
    assert response.status_code == 302
    session.refresh(sa01)
    assert sa01.version == version + 1 and "name_sw" not in session.scalar(
        select(IndicatorVersion.fields).where(IndicatorVersion.indicator_id == sa01.id,
                                              IndicatorVersion.version == sa01.version))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name_sw", "n" * 301, "Name in Kiswahili: at most 300 characters (301 given)"),
    ("short_name_sw", "s" * 121, "Short name in Kiswahili: at most 120 characters"),
    ("definition_sw", "Ufafanuzi\x1b[0m", "Definition in Kiswahili: contains a control character"),
    ("definition_sw", "Ufafanuzi\x00", "contains a NUL character"),
])
def test_the_indicator_editor_refuses_bad_kiswahili_with_a_located_error(client, session, field, value, message):
    login(client, SECRETARIAT)
    response = client.post("/catalogue/indicators/SA01/edit", data=_edit_form(client, session, "SA01", **{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    if "NUL" not in message:  # refused before the editor, for every form (mel/security.py)
        assert f'id="{field}" name="{field}"' in response.get_data(as_text=True)
    assert _indicator(session, "SA01").name_sw == KISWAHILI_SA01


def test_the_indicator_api_exposes_and_accepts_kiswahili(client, session):
    headers = _token(session)
    body = client.get("/api/v1/indicators/SA01", headers=headers).get_json()
    assert body["name_sw"] == KISWAHILI_SA01 and body["definition_sw"] and body["pillar"]["name_sw"]
    version = body["version"]
    response = client.put("/api/v1/indicators/SA01", headers=headers,
                          json={"short_name_sw": "Wanufaika wa Inua Jamii", "reason": "Shorter for tables."})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["short_name_sw"] == "Wanufaika wa Inua Jamii" and response.get_json()["version"] == version
    for payload, status, words in (({"name_sw": 5, "reason": "x"}, 422, "name_sw"),
                                   ({"name_sw": "x" * 700, "reason": "x"}, 422, "name_sw"),
                                   ({"name_sw": "x" * 400, "reason": "x"}, 422, "Name in Kiswahili: at most 300"),
                                   ({"name_sw": "Jina"}, 422, "reason")):
        refused = client.put("/api/v1/indicators/SA01", headers=headers, json=payload)
        assert refused.status_code == status, (payload, refused.get_json())
        assert words in str(refused.get_json())
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "name_sw" in spec["IndicatorChange"]["properties"] and "name_sw" in spec["Indicator"]["properties"]


def test_programmes_take_kiswahili_through_the_form_and_the_api(client, session):
    login(client, SECRETARIAT)
    page = client.get("/catalogue/programmes/HSNP/edit").get_data(as_text=True)
    assert 'name="name_sw"' in page and "Mpango wa Kinga dhidi ya Njaa (HSNP)" in page
    hsnp = _programme(session, "HSNP")
    data = {"csrf_token": csrf_token(client, "/catalogue/programmes/HSNP/edit"), "name": hsnp.name,
            "pillar": "social_assistance", "agency": hsnp.agency, "level": "national", "notes": hsnp.notes,
            "name_sw": "Mpango wa Usalama dhidi ya Njaa (HSNP)", "notes_sw": hsnp.notes_sw,
            "org_units": [u.code for u in hsnp.org_units], "from_period": clock.reporting_quarter().id,
            "reason": "Translators' wording"}
    response = client.post("/catalogue/programmes/HSNP/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _programme(session, "HSNP").name_sw == "Mpango wa Usalama dhidi ya Njaa (HSNP)"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "catalogue.programme_changed")
                            .order_by(AuditEvent.id.desc())).first()
    assert event.details["after"]["name_sw"] == "Mpango wa Usalama dhidi ya Njaa (HSNP)"
    bad = client.post("/catalogue/programmes/HSNP/edit", data={
        **data, "csrf_token": csrf_token(client, "/catalogue/programmes/HSNP/edit"), "name_sw": "j" * 201})
    assert bad.status_code == 422 and "name_sw: at most 200 characters" in bad.get_data(as_text=True)
    headers = _token(session)
    response = client.put("/api/v1/programmes/NICHE", headers=headers,
                          json={"notes_sw": "nyongeza ya lishe", "reason": "Shorter."})
    assert response.status_code == 200 and response.get_json()["notes_sw"] == "nyongeza ya lishe"
    assert client.get("/api/v1/programmes/NICHE", headers=headers).get_json()["name_sw"].endswith("(NICHE)")
    refused = client.put("/api/v1/programmes/NICHE", headers=headers, json={"notes_sw": "x\x01", "reason": "x"})
    assert refused.status_code == 422 and "control character" in str(refused.get_json())


def test_results_framework_nodes_take_kiswahili_through_the_edit_page(client, session):
    login(client, SECRETARIAT)
    assert 'name="name_sw.O1.1"' in client.get("/results-framework/edit").get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, "/results-framework/edit"),
            "name_sw.O1.1": "Malipo kamili kwa ratiba", "description_sw.O1.1": "Orodha ya malipo."}
    assert client.post("/results-framework/edit", data=data).status_code == 302
    node = session.scalar(select(ResultsNode).where(ResultsNode.code == "O1.1"))
    assert (node.name_sw, node.description_sw) == ("Malipo kamili kwa ratiba", "Orodha ya malipo.")
    bad = client.post("/results-framework/edit", data={**data, "csrf_token": csrf_token(client, "/results-framework/edit"),
                                                       "name_sw.O1.1": "m" * 301})
    assert bad.status_code == 422 and "O1.1: the name in Kiswahili: at most 300 characters" in bad.get_data(as_text=True)


def test_options_take_kiswahili_and_their_combinations_follow(client, session):
    headers = _token(session)
    response = client.put("/api/v1/disaggregations/categories/sex", headers=headers, json={
        "name_sw": "Jinsia ya mtu", "reason": "Translators' wording",
        "options": [{"code": "F", "name": "Female", "name_sw": "Wanawake"}, {"code": "M", "name": "Male"}]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name_sw"] == "Jinsia ya mtu" and [o["name_sw"] for o in body["options"]] == ["Wanawake", "Mwanamume"]
    combos = client.get("/api/v1/disaggregations/sets/sex_age", headers=headers).get_json()["combos"]
    assert {c["code"]: c["name_sw"] for c in combos}["F_A70P"] == "Wanawake, Miaka 70 na zaidi"
    refused = client.put("/api/v1/disaggregations/categories/sex/options/F", headers=headers,
                         json={"name_sw": "w" * 121, "reason": "x"})
    assert refused.status_code == 422 and "name_sw" in str(refused.get_json())
    # An option with no Kiswahili name: its combinations have none either, and the page flags them.
    response = client.put("/api/v1/disaggregations/categories/sex/options/M", headers=headers,
                          json={"name_sw": "", "reason": "To be translated again."})
    assert response.status_code == 200
    combos = client.get("/api/v1/disaggregations/sets/sex_age", headers=headers).get_json()["combos"]
    assert {c["code"]: c["name_sw"] for c in combos}["M_A70P"] == ""
    login(client, SECRETARIAT)
    page = client.get("/catalogue/disaggregations/categories/sex", headers=SW).get_data(as_text=True)
    assert 'data-kiswahili-missing="name"' in page and 'name="name_sw.F"' in page
    set_page = client.get("/catalogue/disaggregations/sets/sex_age", headers=SW).get_data(as_text=True)
    assert '<span lang="en">Male, 70 years and above</span>' in set_page


@pytest.mark.parametrize("email", ["reviewer@demo.test", "officer.opct@demo.test", "officer.hsnp@demo.test",
                                   "officer.kisumu@demo.test", "viewer@demo.test"])
def test_only_the_secretariat_edits_kiswahili_text(client, session, email):
    """Every other role, the HSNP officer on HSNP's own programme included, is refused on the web and the API."""
    headers = _token(session, email)
    for path, payload in (("/api/v1/indicators/SA01", {"name_sw": "Jina", "reason": "x"}),
                          ("/api/v1/programmes/HSNP", {"name_sw": "Jina", "reason": "x"}),
                          ("/api/v1/disaggregations/categories/sex", {"name_sw": "Jina", "reason": "x"})):
        assert client.put(path, headers=headers, json=payload).status_code == 403, (email, path)
    login(client, email)
    for path in ("/catalogue/indicators/SA01/edit", "/catalogue/programmes/HSNP/edit"):
        response = client.post(path, data={"csrf_token": csrf_token(client, "/indicators"), "name_sw": "Jina",
                                           "reason": "x"})
        assert response.status_code == 403, (email, path)
    assert _indicator(session, "SA01").name_sw == KISWAHILI_SA01
    assert _programme(session, "HSNP").name_sw == "Mpango wa Kinga dhidi ya Njaa (HSNP)"


def test_signed_out_visitors_are_sent_to_sign_in(client, session):
    for path in ("/catalogue/indicators/SA01/edit", "/catalogue/programmes/HSNP/edit", "/results-framework/edit"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.put("/api/v1/indicators/SA01", json={"name_sw": "Jina", "reason": "x"}).status_code == 401
