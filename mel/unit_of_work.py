"""The unit of work: operations flush; the entry point commits once, then sends what was collected.

Entry points are the request (committed by `init_app`'s hook when the answer is not an error),
a CLI command, a scheduler job and a report worker (each calls `finish`). Notices written during
the work are rows like any other: a failure before the commit rolls them back and nothing is
sent; after the commit they are e-mailed and the sending is recorded, so a failing mail server
never loses the work it reports on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response
from sqlalchemy.orm import Session

NOTICES_KEY = "mel.notices_pending"


def notices_written(session: Session) -> None:
    """Mark that this unit of work wrote notices to send after its commit."""
    session.info[NOTICES_KEY] = True


def finish(session: Session, config, *, retry_unsent: bool = False) -> int:
    """Commit the work, then e-mail the notices it wrote and record that they went.

    `retry_unsent` (the scheduler's jobs) also sends notices earlier attempts could not. Returns
    how many e-mails went.
    """
    from mel import jobs
    from mel.accounts import mail
    from mel.review import notify

    session.commit()
    mail.send_queued(session, config)  # e-mails with a one-time link: never stored, sent once committed
    sent = 0
    wrote = session.info.pop(NOTICES_KEY, False)
    if retry_unsent:  # a scheduled job: it runs in the background already
        sent = notify.send_pending(session, config)
        session.commit()
    elif wrote:  # a request: the queue's tasks send them when there is one
        sent = jobs.mail_notices(session, config)
        session.commit()
    return sent


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """A step that may be refused without undoing the rest of the work (a savepoint).

    Used where one entry point does several independent things, e.g. storing a file's figures
    and then submitting each of its returns: a refused submission leaves the figures stored.
    """
    with session.begin_nested():
        yield


def init_app(app: Flask) -> None:
    from mel.db import db

    @app.after_request
    def _commit_or_roll_back(response: Response) -> Response:
        session = db.session
        if response.status_code < 400:
            finish(session, app.config)
        else:
            session.rollback()
            session.info.pop(NOTICES_KEY, None)
        return response
