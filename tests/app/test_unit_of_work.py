"""The unit of work: a request commits once when it succeeds, then sends what it collected."""

from __future__ import annotations

import time_machine
from sqlalchemy import func, select

from mel.accounts.operations import create_token
from mel.review.models import Notification, ValueQuery
from mel.unit_of_work import NOTICES_KEY
from tests.app.returns_helpers import IN_WINDOW
from tests.app.smtp_helpers import free_port
from tests.helpers import submitted_return

BASE = "/api/v1/returns/OPCT/042/2025Q3"


def notices(session) -> int:
    return session.scalar(select(func.count()).select_from(Notification))


def raise_query(app, client, session, monkeypatch, smtp_port: int, text: str):
    """With mail sent to `smtp_port`, a reviewer raises a query on a submitted OPCT Kisumu return."""
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_port)
    submitted_return(session)
    reviewer = {"Authorization": f"Bearer {create_token(session, 'reviewer@demo.test').token}"}
    with time_machine.travel(IN_WINDOW, tick=False):
        return client.post(f"{BASE}/queries", json={"indicator": "SA10", "text": text}, headers=reviewer)


def test_a_successful_request_commits_and_e_mails_its_notices(app, client, session, smtp_server, monkeypatch):
    inbox, port = smtp_server
    raised = raise_query(app, client, session, monkeypatch, port, "Disbursement is high.")
    assert raised.status_code == 201
    # The officer's notice was written in the request, committed, then e-mailed once.
    assert inbox.bodies("officer.opct@demo.test") and "Disbursement is high." in inbox.bodies(
        "officer.opct@demo.test")[-1]
    sent = session.scalars(select(Notification).where(Notification.kind == "query")).all()
    assert sent and all(note.emailed_at is not None for note in sent)  # one per officer of the return
    assert NOTICES_KEY not in session.info


def test_a_refused_request_keeps_nothing_and_sends_nothing(app, client, session, smtp_server, monkeypatch):
    inbox, port = smtp_server
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    submitted_return(session)
    session.commit()  # the submission was an earlier request's work: committed (the fixture still undoes it)
    before = notices(session)
    inbox.messages.clear()
    reviewer = {"Authorization": f"Bearer {create_token(session, 'reviewer@demo.test').token}"}
    with time_machine.travel(IN_WINDOW, tick=False):
        # Return with an unknown reason code: refused (422) after nothing was decided.
        refused = client.post(f"{BASE}/return", json={"reasons": ["nope"], "text": "x"}, headers=reviewer)
    assert refused.status_code == 422
    assert notices(session) == before and not inbox.messages


def test_a_mail_server_that_is_down_never_loses_the_work(app, client, session, monkeypatch):
    raised = raise_query(app, client, session, monkeypatch, free_port(), "Please check.")  # nobody listens
    assert raised.status_code == 201
    assert session.scalar(select(func.count()).select_from(ValueQuery)) == 1  # the query is kept
    kept = session.scalars(select(Notification).where(Notification.kind == "query")).all()
    assert kept and all(n.emailed_at is None and "SMTP unreachable" in n.email_error for n in kept)  # retried later
