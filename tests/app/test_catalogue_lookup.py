"""The catalogue is read once per process and kept across requests while its token says it is
current; a transaction that changes it reads its own copy, and every process reads it again after."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import delete, event, select, update

from mel.accounts.operations import create_token
from mel.catalogue import lookup
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import CatalogueRevision, Pillar, Programme, ValidationRule
from mel.catalogue.operations import seed_catalogue
from tests.app.returns_helpers import IN_WINDOW, rows_like
from tests.helpers import PAGE, grid_form, login

WHOLE_INDICATOR_TABLE = re.compile(r"\bFROM indicator\s*$")


@pytest.fixture
def reads(monkeypatch) -> list:
    """Every read of the catalogue from the database, as it happens (the process's copy dropped first)."""
    monkeypatch.setattr(lookup, "_shared", {})
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


def _put(client, session, unit: str, token: str):
    rows = rows_like(session, "OPCT", [unit])
    payload = {"version": 0, "values": [{"indicator": r["indicator"], "option": r["option"], "value": r["value"]}
                                        for r in rows.to_dict("records")]}
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put(f"/api/v1/returns/OPCT/{unit}/2025Q3", json=payload,
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    assert response.json["created"] == len(rows)


def test_puts_of_figures_read_the_catalogue_once_per_process(client, session, reads, statements):
    # The API resolves the return's address, then ingest() resolves every figure: one read for both,
    # and none for the next request while the catalogue is unchanged.
    issued = create_token(session, "officer.opct@demo.test")
    _put(client, session, "042", issued.token)
    assert len(reads) == 1
    assert len([s for s in statements if WHOLE_INDICATOR_TABLE.search(s)]) == 1
    statements.clear()
    _put(client, session, "001", issued.token)
    assert len(reads) == 1
    assert not [s for s in statements if WHOLE_INDICATOR_TABLE.search(s)]
    assert len([s for s in statements if "FROM catalogue_revision" in s]) == 1  # the one row read instead


def test_a_saved_grid_and_a_refused_one_use_the_kept_catalogue(client, session, reads):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.opct@demo.test")
        data = grid_form(session, client)
        reads.clear()
        assert client.post(PAGE, data=data).status_code == 302
        assert len(reads) <= 1
        # A refused save rolls back; the kept catalogue is not the request's rows, so the page shown
        # after it needs no second read.
        data = grid_form(session, client, version="1")
        reads.clear()
        data["v.SA02.value.F"] = "12x"
        response = client.post(PAGE, data=data)
    assert response.status_code == 422, response.get_data(as_text=True)[:2000]
    assert "12x" in response.get_data(as_text=True) and not reads


def test_a_transaction_that_changes_the_catalogue_reads_its_own_until_it_ends(app, session, reads):
    with app.app_context():
        kept = load_catalogue(session)
        assert len(reads) == 1
    code = session.scalars(select(ValidationRule.code).order_by(ValidationRule.code)).first()
    session.execute(delete(ValidationRule).where(ValidationRule.code == code))
    with app.app_context():
        first = load_catalogue(session)
        assert first is not kept and load_catalogue(session) is first and len(reads) == 2
        assert code not in {rule.code for rule in first.rules}
        seed_catalogue(session)  # puts the rule back
        seeded = load_catalogue(session)
        assert seeded is not first and len(reads) == 3
        assert code in {rule.code for rule in seeded.rules}
        session.rollback()
        after = load_catalogue(session)
        assert after is kept and len(reads) == 3  # the change was undone: the token is the kept one
        opct = after.programmes["OPCT"]
        assert "SA01" in after.form_indicators(opct.id, "2025Q3")  # the forms' items are loaded, not expired
    with app.app_context():
        assert load_catalogue(session) is kept and len(reads) == 3


def test_a_change_committed_by_another_process_is_read_at_the_next_request(app, session, reads):
    with app.app_context():
        kept = load_catalogue(session)
    # What another process's catalogue change leaves behind: a new token in the row.
    session.execute(update(CatalogueRevision).values(token="f" * 32))
    with app.app_context():
        again = load_catalogue(session)
    assert again is not kept and len(reads) == 2
    assert again.indicators.keys() == kept.indicators.keys()


def test_rows_of_the_kept_catalogue_cannot_be_adopted_by_a_session(app, session, reads):
    with app.app_context():
        programme = load_catalogue(session).programmes["OPCT"]
    with pytest.raises(RuntimeError, match="shared catalogue"):
        session.add(programme)


def test_a_new_programme_is_seen_by_the_next_request(as_user, session):
    # The tests share one session across requests: the catalogue must not live on it.
    client = as_user("reviewer@demo.test")
    assert "Pilot scheme (PILOT)</option>" not in client.get("/review/?period=2025Q3").get_data(as_text=True)
    pillar = session.scalars(select(Pillar)).first()
    session.add(Programme(code="PILOT", name="Pilot scheme", pillar_id=pillar.id, agency="SPS", level="national"))
    session.flush()
    assert "Pilot scheme (PILOT)</option>" in client.get("/review/?period=2025Q3").get_data(as_text=True)


def test_lookups_by_id_agree_with_lookups_by_code(session):
    catalogue = load_catalogue(session)
    for code, indicator in catalogue.indicators.items():
        assert catalogue.indicator_by_id[indicator.id] is indicator and catalogue.indicator_codes[indicator.id] == code
    for code, programme in catalogue.programmes.items():
        assert catalogue.programme_by_id[programme.id] is programme
        assert catalogue.programme_codes[programme.id] == code
    for code, unit in catalogue.org_units.items():
        assert catalogue.org_unit_by_id[unit.id] is unit and catalogue.org_unit_codes[unit.id] == code
