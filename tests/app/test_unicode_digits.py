"""Digits that are not numbers: "²", "٤" and "１" pass `str.isdigit` but are not a code, an id or a version
as people type them. Every place that reads a number from text answers them in words (or ignores them),
never with a 500 (found by hypothesis: "²" as an org unit of a new programme)."""

from __future__ import annotations

import pytest

from mel.catalogue.form_contents import checked_units
from mel.converters import is_digits
from mel.errors import ErrorDetail
from tests.helpers import csrf_token

ODD = ["²", "٤٢", "１", "4²"]


@pytest.mark.parametrize(("text", "plain"), [("042", True), ("7", True), ("", False), ("4.2", False),
                                              *[(odd, False) for odd in ODD]])
def test_only_ascii_digits_are_digits(text, plain):
    assert is_digits(text) is plain


@pytest.mark.parametrize("odd", ODD)
def test_an_org_unit_typed_with_odd_digits_is_a_located_problem(session, odd):
    problems: list[ErrorDetail] = []
    assert checked_units(session, [odd], problems) == []
    assert len(problems) == 1 and "is not an org unit" in str(problems[0].message)


@pytest.mark.parametrize("odd", ODD)
def test_odd_digits_in_forms_and_addresses_never_answer_500(as_user, odd):
    client = as_user("secretariat@demo.test")
    token = csrf_token(client, "/review/")
    answers = [
        client.post("/review/bulk-approve", data={"csrf_token": token, "return_id": odd}),
        client.get(f"/review/?org_unit={odd}"),
        client.get(f"/api/v1/org-units/{odd}"),
        client.get(f"/api/analytics?dimension=dx:SA01&dimension=pe:2025Q2&dimension=ou:LEVEL-{odd}"),
        client.post("/api/v1/programmes", json={"code": "ODD", "name": "Odd", "pillar": "social_assistance",
                                                "agency": "Test", "level": "national", "org_units": [odd]}),
    ]
    for answer in answers:
        assert answer.status_code < 500, (answer.request.path, answer.get_data(as_text=True)[:300])
