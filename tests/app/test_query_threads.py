"""A return's query threads come with their authors in a fixed number of queries."""

from __future__ import annotations

import re

import time_machine
from sqlalchemy import event

from mel.accounts.operations import create_token, load_user
from mel.catalogue.lookup import load_catalogue
from mel.review import operations as review
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import submitted_return

THREADS = "/api/v1/returns/OPCT/042/2025Q3/queries"


def read_threads(client, session, token: str) -> tuple[list[dict], list[str]]:
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_):
        sent.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        response = client.get(THREADS, headers={"Authorization": f"Bearer {token}"})
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert response.status_code == 200, response.json
    return response.json, sent


def test_reading_more_threads_sends_no_more_queries(client, session):
    catalogue = load_catalogue(session)
    reviewer = load_user(session, "reviewer@demo.test")
    officer = load_user(session, "officer.opct@demo.test")
    record = submitted_return(session)
    token = create_token(session, "reviewer@demo.test").token
    with time_machine.travel(IN_WINDOW, tick=False):
        first = review.raise_query(session, catalogue, reviewer, record, "SA14", "F_A70P", "Low enrolment?")
        review.answer_query(session, catalogue, officer, first, "Checked against the payroll.")
        one, sent_for_one = read_threads(client, session, token)
        for code, option in (("SA01", "F_A70P"), ("SA02", "F")):
            query = review.raise_query(session, catalogue, reviewer, record, code, option, f"{code}?")
            review.answer_query(session, catalogue, officer, query, "Right as sent.")
        three, sent_for_three = read_threads(client, session, token)
    assert len(one) == 1 and len(three) == 3
    assert [[m["author"] for m in thread["messages"]] for thread in three] == [
        ["reviewer@demo.test", "officer.opct@demo.test"]] * 3
    # The threads, then their messages joined to their authors: two queries for one thread or three.
    for sent in (sent_for_one, sent_for_three):
        assert len([s for s in sent if "value_query" in s or "query_message" in s]) == 2
        assert not [s for s in sent if re.search(r"FROM user_account\s*$", s)]  # never every user's e-mail
