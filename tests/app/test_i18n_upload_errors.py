"""An upload's problems in the officer's language: a Kiswahili account reads each located error in
Kiswahili, naming the same row, column, county, quarter and indicator as the English page does,
and nothing is stored either way."""

from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
import time_machine
from sqlalchemy import func, select

from mel.accounts.models import User
from mel.returns.models import DataValue
from tests.app.returns_helpers import IN_WINDOW, rows_like
from tests.app.test_i18n import visible_text
from tests.helpers import csrf_token, login

OFFICER = "officer.opct@demo.test"
ENGLISH_WORDS = ("nothing was stored", "has a thousands separator", "is read as text", "Type ", "problem",
                 "the header row", "is missing the column", "is empty", "choose the filled-in file", "row ", "column ")


def _csv(session, change=None) -> bytes:
    rows = rows_like(session, "OPCT", ["042"])
    if change:
        change(rows)
    return rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(index=False).encode()


def _upload(client, session, language: str, body: bytes, name: str = "opct.csv") -> tuple[int, str]:
    session.scalar(select(User).where(User.email == OFFICER)).locale = language
    session.flush()
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        response = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"), "programme": "OPCT",
                                                "file": (BytesIO(body), name)})
    return response.status_code, html.unescape(visible_text(response.get_data(as_text=True)))


def _stored(session) -> int:
    return session.scalar(select(func.count()).select_from(DataValue))


def _thousands(rows) -> None:
    rows.loc[rows.index[4], "value"] = "1,234"  # the sixth line of the file: row 6


@pytest.fixture
def stored_before(session):
    return _stored(session)


def test_a_bad_cell_is_named_in_kiswahili_at_the_same_place_as_in_english(app, client, session, stored_before):
    body = _csv(session, _thousands)
    status, english = _upload(client, session, "en", body)
    assert status == 422
    located = re.search(r"opct\.csv row 6, column E — Kisumu, FY(\d{4}/\d{2}) Q(\d) — ([^:]*\((SA\w+)\)[^:]*): "
                        r"'1,234' has a thousands separator, which is read as text\. Type 1234\.", english)
    assert located, english[:3000]
    years, quarter, figure, code = located.groups()
    assert "opct.csv: nothing was stored: 1 problem in" in english

    status, swahili = _upload(app.test_client(), session, "sw", body)
    assert status == 422
    expected = (f"opct.csv mstari 6, safu E — Kisumu, Robo {quarter}, {years} — {figure}: '1,234' ina kitenganishi "
                f"cha maelfu, kwa hiyo inasomwa kama maandishi. Andika 1234.")
    assert expected in swahili, swahili[:3000]
    assert f"({code})" in swahili
    assert "opct.csv: hakuna kilichohifadhiwa: tatizo 1 katika takwimu" in swahili
    problems = swahili[swahili.index("hakuna kilichohifadhiwa"):]
    assert not [w for w in ENGLISH_WORDS if w in problems.split("Kama zingehifadhiwa")[0]], problems[:1500]
    assert _stored(session) == stored_before


def test_a_file_level_refusal_is_in_kiswahili(app, client, session, stored_before):
    body = _csv(session).replace(b"indicator,option,org_unit,period,value,comment",
                                 b"indicator,option,org_unit,period,amount,comment")
    status, english = _upload(client, session, "en", body)
    assert status == 422
    assert "the header row is missing the column(s) value; use the downloaded template" in english
    assert 'column E ("amount") is an extra column' in english

    status, swahili = _upload(app.test_client(), session, "sw", body)
    assert status == 422
    assert "opct.csv: matatizo 2; hakuna kilichohifadhiwa." in swahili, swahili[:3000]
    assert 'safu E ("amount") ni safu ya ziada; iondoe ili mstari wa vichwa ulingane na kiolezo.' in swahili
    assert "mstari wa vichwa unakosa safu value; tumia kiolezo ulichopakua na usifute safu." in swahili
    assert not [w for w in ENGLISH_WORDS if w in swahili.split("Pakia takwimu")[-1]], swahili[-1500:]
    assert _stored(session) == stored_before


@pytest.mark.parametrize("name, body, words", [
    ("opct.csv", b"", "opct.csv ni tupu (baiti 0); chagua faili lililojazwa kisha ulipakie tena."),
    ("opct.xls", b"\xd0\xcf\x11\xe0rest", "opct.xls: faili za .xlsx (kitabu cha kazi cha Excel) na .csv pekee ndizo "
                                          "zinazokubaliwa, si .xls. Lihifadhi kutoka Excel kama Excel Workbook (.xlsx)."),
    ("opct.xlsx", b"PK\x03\x04 not a zip", "opct.xlsx limeharibika au halijakamilika"),
])
def test_a_refused_file_is_said_in_kiswahili(client, session, stored_before, name, body, words):
    status, swahili = _upload(client, session, "sw", body, name)
    assert status == 422
    assert words in swahili, swahili[-1500:]
    assert _stored(session) == stored_before


def test_the_api_keeps_its_english(client, session):
    """The JSON API answers in English whatever the account's language (its clients parse it)."""
    from mel.returns.ingest import Incoming, ingest
    from tests.app.returns_helpers import user

    rows = rows_like(session, "OPCT", ["042"])
    _thousands(rows)
    session.scalar(select(User).where(User.email == OFFICER)).locale = "sw"
    result = ingest(session, user(session, OFFICER), Incoming(rows, "api", "opct.csv"), programme="OPCT",
                    now=IN_WINDOW)
    body = result.as_dict()
    assert body["message"].startswith("opct.csv: nothing was stored: 1 problem in")
    assert "has a thousands separator" in body["errors"][0]["message"]
