"""The org-unit tree down to wards: `mel seed --levels ward` loads the 290 constituencies and 1,450
wards under the counties, DHIS2 serves them, officers of a county reach its wards, and the pages
that list counties still list the 47 counties."""

from __future__ import annotations

import base64
import re

import pytest
import time_machine
from sqlalchemy import func, select

from mel.catalogue.levels import LEVEL_NAMES, iebc_code
from mel.catalogue.models import OrgUnit, Programme, ReportingForm, ReportingFormOrgUnit
from mel.catalogue.operations import seed_catalogue
from mel.catalogue.org_tree import read_wards, seed_org_tree
from mel.demo import DEMO_PASSWORD
from mel.returns.models import Return
from mel.scopes import can_access, scoped_returns
from tests.app.returns_helpers import IN_WINDOW, rows_like, user
from tests.helpers import csrf_token, field_name, login

KISUMU_WARD, MOMBASA_WARD = "W1186", "W0001"  # Kajulu (Kisumu East, 042); Port Reitz (Changamwe, 001)


@pytest.fixture
def wards(session):
    """Sub-counties and wards loaded inside the test's transaction (rolled back after it)."""
    return seed_org_tree(session, 4)


def count(session, **where) -> int:
    return session.scalar(select(func.count()).select_from(OrgUnit).filter_by(**where))


def unit(session, code: str) -> OrgUnit:
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def under(session, code: str, level: int) -> int:
    return session.scalar(select(func.count()).select_from(OrgUnit)
                          .where(OrgUnit.path.startswith(unit(session, code).path), OrgUnit.level == level))


def test_the_seed_loads_290_sub_counties_and_1450_wards_under_their_counties(session, wards):
    assert wards.added == {3: 290, 4: 1450}
    assert count(session, level=3) == 290 and count(session, level=4) == 1450 and count(session, level=2) == 47
    assert [(under(session, c, 3), under(session, c, 4)) for c in ("047", "042", "001")] == [(17, 85), (7, 35), (6, 30)]
    ward, constituency = unit(session, KISUMU_WARD), unit(session, "SC238")
    assert (ward.name, ward.level, ward.path) == ("Kajulu", 4, "/KE/042/SC238/W1186/")
    assert ward.parent_id == constituency.id and constituency.parent_id == unit(session, "042").id
    assert (constituency.name, constituency.path) == ("Kisumu East", "/KE/042/SC238/")
    assert iebc_code(ward.code) == "1186" and iebc_code("SC238") == "238" and iebc_code("042") is None
    # Names as the IEBC list spells them (the SOURCE note: verbatim), the two filled gaps included.
    assert unit(session, "W0001").name == "Port reitz"
    assert unit(session, "W0737").name == "Cherang'any/Chebororwa" and unit(session, "W1344").name == "Kitutu Central"
    assert len(read_wards()) == 1450


def test_a_second_seed_adds_nothing(session, wards):
    again = seed_org_tree(session, 4)
    assert again.added == {3: 0, 4: 0} and again.updated == {3: 0, 4: 0}
    assert "0 added, 0 updated" in again.describe() and "290 sub-counties, 1450 wards" in again.describe()
    assert not seed_catalogue(session, levels=4).changed
    assert count(session) == 1 + 47 + 290 + 1450


def test_a_renamed_ward_is_put_back_and_counted(session, wards):
    unit(session, KISUMU_WARD).name = "Kajulu (typo)"
    session.flush()
    summary = seed_catalogue(session, levels=4)
    assert summary.updated == {"ward": 1} and unit(session, KISUMU_WARD).name == "Kajulu"


def test_sub_counties_only_stop_at_level_3(session):
    tree = seed_org_tree(session, 3)
    assert tree.added == {3: 290} and count(session, level=4) == 0


def test_mel_seed_levels_ward_twice(runner, session):
    first = runner.invoke(args=["seed", "--levels", "ward"])
    assert first.exit_code == 0, first.output
    assert "created 290 sub-county" in first.output and "created 1450 ward" in first.output
    second = runner.invoke(args=["seed", "--levels", "ward"])
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output and "1450 wards; 0 added, 0 updated" in second.output
    assert runner.invoke(args=["seed", "--levels", "province"]).exit_code == 2


def test_level_names_in_english_and_kiswahili(client, swahili, session, wards):
    assert LEVEL_NAMES == {1: "National", 2: "County", 3: "Sub-county (constituency)", 4: "Ward"}
    sw = swahili.get("/counties/042").get_data(as_text=True)
    assert "Kaunti ndogo (eneo bunge)" in sw and "Wadi" in sw and "kaunti ndogo 7" in sw and "wadi 35" in sw
    from tests.helpers import choose_language

    choose_language(client, "en")
    en = client.get("/counties/042").get_data(as_text=True)
    assert "Sub-county (constituency)" in en and "Ward" in en and "7 sub-counties" in en and "35 wards" in en
    assert "Kajulu" in en and "Kisumu East" in en and "Port reitz" not in en


# --------------------------------------------------------------------------- DHIS2


def _basic(email: str = "secretariat@demo.test") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{DEMO_PASSWORD}".encode()).decode()}


def test_dhis2_levels_and_ward_paging(client, session, wards):
    levels = client.get("/api/organisationUnitLevels?fields=level,name&paging=false", headers=_basic()).get_json()
    assert levels["organisationUnitLevels"] == [
        {"level": 1, "name": "National"}, {"level": 2, "name": "County"},
        {"level": 3, "name": "Sub-county (constituency)"}, {"level": 4, "name": "Ward"}]
    page = client.get("/api/organisationUnits?level=4&pageSize=50&page=3&fields=code,level,path,parent[code]",
                      headers=_basic()).get_json()
    assert page["pager"]["total"] == 1450 and page["pager"]["pageCount"] == 29 and page["pager"]["page"] == 3
    assert len(page["organisationUnits"]) == 50
    assert all(u["level"] == 4 and u["code"].startswith("W") for u in page["organisationUnits"])
    counties = client.get("/api/organisationUnits?level=2&paging=false&fields=code", headers=_basic()).get_json()
    assert len(counties["organisationUnits"]) == 47


def test_dhis2_parent_filter_path_and_children(client, session, wards):
    ids = {u.code: u.uid for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(
        ["KE", "042", "SC238", KISUMU_WARD])))}
    found = client.get(f"/api/organisationUnits?filter=parent.id:eq:{ids['SC238']}&paging=false"
                       "&fields=code,name,level,path,parent[id]", headers=_basic()).get_json()["organisationUnits"]
    assert sorted(u["code"] for u in found) == ["W1186", "W1187", "W1188", "W1189", "W1190"]
    kajulu = next(u for u in found if u["code"] == KISUMU_WARD)
    assert kajulu["path"] == f"/{ids['KE']}/{ids['042']}/{ids['SC238']}/{ids[KISUMU_WARD]}"
    assert kajulu["level"] == 4 and kajulu["parent"] == {"id": ids["SC238"]}
    county = client.get(f"/api/organisationUnits/{ids['042']}?fields=children[code],leaf", headers=_basic()).get_json()
    assert sorted(c["code"] for c in county["children"]) == [f"SC{n}" for n in range(238, 245)]
    assert county["leaf"] is False
    ward = client.get(f"/api/organisationUnits/{ids[KISUMU_WARD]}?fields=leaf,children", headers=_basic()).get_json()
    assert ward == {"leaf": True, "children": []}


# --------------------------------------------------------------------------- an officer's county and its wards


def _asks_for(session, programme: str, *codes: str) -> None:
    """The programme's form asks returns of these wards too (forms at ward level are not built yet)."""
    form = session.scalar(select(ReportingForm).join(Programme).where(Programme.code == programme))
    for code in codes:
        session.add(ReportingFormOrgUnit(form_id=form.id, org_unit_id=unit(session, code).id))
    session.flush()


def test_an_officer_of_kisumu_enters_and_reads_a_kisumu_ward_not_a_mombasa_one(client, session, wards):
    officer = user(session, "officer.kisumu@demo.test")  # OPCT and COUNTY in 042
    opct = session.scalar(select(Programme).where(Programme.code == "OPCT"))
    assert can_access(officer, opct.id, unit(session, KISUMU_WARD))
    assert not can_access(officer, opct.id, unit(session, MOMBASA_WARD))
    _asks_for(session, "OPCT", KISUMU_WARD, MOMBASA_WARD)
    rows = rows_like(session, "OPCT", ["042"])
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        assert client.get(f"/returns/OPCT/{MOMBASA_WARD}/2025Q3").status_code == 403
        token = csrf_token(client, f"/returns/OPCT/{KISUMU_WARD}/2025Q3")
        data = {field_name(r["indicator"], r["option"]): r["value"] for r in rows.to_dict("records")}
        data |= {"csrf_token": token, "version": "0", "action": "save", "narrative": "Paid in Kajulu."}
        saved = client.post(f"/returns/OPCT/{KISUMU_WARD}/2025Q3", data=data)
        assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
        refused = client.post(f"/returns/OPCT/{MOMBASA_WARD}/2025Q3", data=data)
        assert refused.status_code == 403
    stored = session.scalar(select(Return).where(Return.org_unit_id == unit(session, KISUMU_WARD).id))
    assert stored is not None and stored.narrative == "Paid in Kajulu."
    assert session.scalar(select(Return).where(Return.org_unit_id == unit(session, MOMBASA_WARD).id)) is None
    readable = set(session.scalars(scoped_returns(officer).with_only_columns(Return.id)))
    assert stored.id in readable
    with time_machine.travel(IN_WINDOW, tick=False):
        assert client.get(f"/returns/OPCT/{KISUMU_WARD}/2025Q3").status_code == 200


# --------------------------------------------------------------------------- the pages that list counties


OPTION = re.compile(r'<option value="([^"]*)"')


def _select(page: str, name: str = "org_unit") -> list[str]:
    match = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', page, re.S)
    assert match, f"no {name} select"
    return [value for value in OPTION.findall(match.group(1)) if value]


@pytest.mark.parametrize("path", ["/", "/dashboard/", "/dashboard/indicators/SA02", "/dashboard/indicators/SA02/history",
                                  "/review/", "/review/data-quality", "/public", "/counties", "/reports/",
                                  "/catalogue/programmes/OPCT/form", "/catalogue/programmes/OPCT/edit"])
def test_the_main_pages_still_list_the_47_counties_when_wards_are_loaded(client, session, wards, path):
    login(client, "secretariat@demo.test")
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    assert "Kajulu" not in page and not re.search(r'value="(W\d{4}|SC\d{3})"', page)
    if path in ("/dashboard/", "/review/", "/dashboard/indicators/SA02/history"):
        counties = [v for v in _select(page) if v != "KE"]
        assert len(counties) == 47 and all(re.fullmatch(r"0\d\d", v) for v in counties)
    if path == "/reports/":
        assert len(_select(page)) == 47
    if path == "/counties":
        assert len(re.findall(r'href="/counties/0\d\d"', page)) == 47
    if path == "/":
        assert re.search(r'<span class="num">47</span>', page)


def test_the_catalogue_finds_counties_by_name_before_a_constituency_of_the_same_name(session, wards):
    from mel.catalogue.lookup import find_org_unit, load_catalogue
    from mel.catalogue.queries import resolve_org_unit

    catalogue = load_catalogue(session)
    assert find_org_unit(catalogue, "Kiambu").code == "022"  # Kiambu is a constituency of Kiambu County too
    assert find_org_unit(catalogue, "Kenya").code == "KE"
    assert find_org_unit(catalogue, "Kajulu").code == KISUMU_WARD  # a ward's own, unshared name
    assert find_org_unit(catalogue, "42").code == "042"
    assert resolve_org_unit(session, "Vihiga").code == "038" and resolve_org_unit(session, "national").code == "KE"


# --------------------------------------------------------------------------- migration 0032


def test_0032_lets_level_4_in_and_keeps_coverage(tmp_path_factory):
    """From 0031 with the catalogue seeded: the level check becomes 1..4 in place (SQLite: no table
    copy that would cascade away programme coverage), wards load, and a downgrade refuses while they exist."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from mel.db import db
    from mel.migrate import alembic_config, upgrade
    from tests.helpers import seeded_app

    app = seeded_app(tmp_path_factory, "m0032")
    with app.app_context():
        engine = db.engine
        coverage = "SELECT count(*) FROM programme_org_unit"
        with engine.connect() as connection:
            covered = connection.execute(text(coverage)).scalar()
        command.downgrade(alembic_config(engine), "0031")
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE org_unit SET level = 4 WHERE code = '042'"))
        upgrade(engine)
        with engine.begin() as connection:
            assert connection.execute(text(coverage)).scalar() == covered > 0
            connection.execute(text("UPDATE org_unit SET level = 4 WHERE code = '042'"))
            connection.execute(text("UPDATE org_unit SET level = 2 WHERE code = '042'"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE org_unit SET level = 5 WHERE code = '042'"))
        result = app.test_cli_runner().invoke(args=["seed", "--levels", "ward"])
        assert result.exit_code == 0, result.output
        with pytest.raises(RuntimeError, match="1450 org units below level 3"):
            command.downgrade(alembic_config(engine), "0031")
        engine.dispose()
