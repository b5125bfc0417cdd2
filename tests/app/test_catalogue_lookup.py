"""The catalogue is read once per request or command, and read again after it changes."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import delete, event, select

from mel.accounts.operations import create_token
from mel.catalogue import lookup
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Pillar, Programme, ValidationRule
from mel.catalogue.operations import seed_catalogue
from tests.app.returns_helpers import IN_WINDOW, rows_like
from tests.helpers import PAGE, grid_form, login

WHOLE_INDICATOR_TABLE = re.compile(r"\bFROM indicator\s*$")


@pytest.fixture
def reads(monkeypatch) -> list:
    """Every read of the catalogue from the database, as it happens."""
    calls: list = []
    read = lookup.read_catalogue

    def counted(session):
        calls.append(session)
        return read(session)

    monkeypatch.setattr(lookup, "read_catalogue", counted)
    return calls


@pytest.fixture
def statements(session) -> list[str]:
    """The SQL the test session sends from here on."""
    sent: list[str] = []
    event.listen(session.connection(), "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: sent.append(statement))
    return sent


def test_a_put_of_figures_reads_the_catalogue_once(client, session, reads, statements):
    # The API resolves the return's address, then ingest() resolves every figure: one read for both.
    rows = rows_like(session, "OPCT", ["042"])
    issued = create_token(session, "officer.opct@demo.test")
    payload = {"version": 0, "values": [{"indicator": r["indicator"], "option": r["option"], "value": r["value"]}
                                        for r in rows.to_dict("records")]}
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put("/api/v1/returns/OPCT/042/2025Q3", json=payload,
                              headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 200, response.json
    assert response.json["created"] == len(rows)
    assert len(reads) == 1
    assert len([s for s in statements if WHOLE_INDICATOR_TABLE.search(s)]) == 1


def test_a_saved_grid_reads_the_catalogue_once_and_a_refused_one_again_after_the_rollback(client, session, reads):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.opct@demo.test")
        data = grid_form(session, client)
        reads.clear()
        assert client.post(PAGE, data=data).status_code == 302
        assert len(reads) == 1
        # A refused save rolls back, which expires what was read: the page shown after it reads
        # the catalogue again rather than touching expired rows.
        data = grid_form(session, client, version="1")
        reads.clear()
        data["v.SA02.value.F"] = "12x"
        response = client.post(PAGE, data=data)
    assert response.status_code == 422, response.get_data(as_text=True)[:2000]
    assert len(reads) == 2


def test_inside_a_command_the_catalogue_is_read_again_after_seeding_or_a_rollback(app, session, reads):
    code = session.scalars(select(ValidationRule.code).order_by(ValidationRule.code)).first()
    session.execute(delete(ValidationRule).where(ValidationRule.code == code))
    with app.app_context():
        first = load_catalogue(session)
        assert load_catalogue(session) is first and len(reads) == 1
        assert code not in {rule.code for rule in first.rules}
        seed_catalogue(session)  # puts the rule back
        seeded = load_catalogue(session)
        assert seeded is not first and len(reads) == 2
        assert code in {rule.code for rule in seeded.rules}
        session.rollback()
        after = load_catalogue(session)
        assert after is not seeded and len(reads) == 3
        opct = after.programmes["OPCT"]
        assert "SA01" in after.form_indicators(opct.id)  # the forms' items are loaded, not expired
    with app.app_context():
        assert load_catalogue(session) is not after and len(reads) == 4


def test_a_new_programme_is_seen_by_the_next_request(as_user, session):
    # The tests share one session across requests: the catalogue must not live on it.
    client = as_user("reviewer@demo.test")
    assert "<option >PILOT</option>" not in client.get("/review/?period=2025Q3").get_data(as_text=True)
    pillar = session.scalars(select(Pillar)).first()
    session.add(Programme(code="PILOT", name="Pilot scheme", pillar_id=pillar.id, agency="SPS", level="national"))
    session.flush()
    assert "<option >PILOT</option>" in client.get("/review/?period=2025Q3").get_data(as_text=True)


def test_lookups_by_id_agree_with_lookups_by_code(session):
    catalogue = load_catalogue(session)
    for code, indicator in catalogue.indicators.items():
        assert catalogue.indicator_by_id[indicator.id] is indicator and catalogue.indicator_codes[indicator.id] == code
    for code, programme in catalogue.programmes.items():
        assert catalogue.programme_by_id[programme.id] is programme
        assert catalogue.programme_codes[programme.id] == code
    for code, unit in catalogue.org_units.items():
        assert catalogue.org_unit_by_id[unit.id] is unit and catalogue.org_unit_codes[unit.id] == code
