"""E-mails to one person that carry a secret link (invitations, password resets).

They are never stored: each is queued on the session's unit of work together with the transaction
it belongs to, and `send_queued` (called by mel/unit_of_work.py `finish` after the commit) sends
them. A rollback drops the messages queued inside the rolled-back transaction, so an e-mail is
never sent for work that did not happen. Messages marked `background` are sent from a thread so
the answer does not wait for the mail server (a "forgot password" request answers in the same
time whether or not an e-mail goes).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)
OUTBOX_KEY = "mel.mail_outbox"
FAILED_KEY = "mel.mail_failed"
_threads: list[threading.Thread] = []


@dataclass
class Queued:
    message: EmailMessage
    transaction: SessionTransaction | None
    background: bool


def queue(session: Session, config, *, to: str, subject: str, template: str, background: bool = False,
          language: str = "", **context) -> None:
    """Queue an e-mail rendered from templates/email/<template>.txt and .html; sent after the commit.

    `language` is the recipient's (mel/i18n.py): the subject (a lazy string) and the templates'
    messages are translated into it; English when none is given."""
    from flask_babel import force_locale
    from flask_babel.speaklater import LazyString

    from mel.i18n import DEFAULT_LANGUAGE
    from mel.review.notify import _EMAIL

    language = language or DEFAULT_LANGUAGE
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM", "Kenya SP MEL <no-reply@localhost>")
    message["To"] = to
    with force_locale(language):
        message["Subject"] = str(subject)
        context = {k: str(v) if isinstance(v, LazyString) else v for k, v in context.items()} | {"language": language}
        message.set_content(_EMAIL.get_template(f"email/{template}.txt").render(**context))
        message.add_alternative(_EMAIL.get_template(f"email/{template}.html").render(**context), subtype="html")
    session.connection()  # the transaction the message belongs to has begun
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(OUTBOX_KEY, []).append(Queued(message, transaction, background))


def _inside(transaction: SessionTransaction | None, rolled_back: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is rolled_back:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    outbox = session.info.get(OUTBOX_KEY)
    if outbox:
        session.info[OUTBOX_KEY] = [q for q in outbox if not _inside(q.transaction, previous_transaction)]


def send_queued(session: Session, config) -> int:
    """Send the queued messages of committed work; returns how many went at once (not counting
    background ones). Addresses that could not be reached are kept in session.info[FAILED_KEY]."""
    session.info.pop(FAILED_KEY, None)
    outbox = session.info.pop(OUTBOX_KEY, [])
    if not outbox:
        return 0
    settings = dict(config)
    if not settings.get("SMTP_HOST"):
        log.warning("%d e-mail(s) with a link not sent: no SMTP server is set (MEL_SMTP_HOST)", len(outbox))
        session.info[FAILED_KEY] = [q.message["To"] for q in outbox]
        return 0
    now = [q.message for q in outbox if not q.background]
    later = [q.message for q in outbox if q.background]
    if later:
        thread = threading.Thread(target=_send, args=(settings, later), name="mel-mail", daemon=True)
        _threads[:] = [t for t in _threads if t.is_alive()]  # forget the finished ones
        _threads.append(thread)
        thread.start()
    failed = _send(settings, now) if now else []
    if failed:
        session.info[FAILED_KEY] = failed
    return len(now) - len(failed)


def _send(config: dict, messages: list[EmailMessage]) -> list[str]:
    """Send over SMTP; returns the addresses that failed (logged, never with the link)."""
    from mel.review.notify import _connect

    try:
        smtp = _connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("cannot reach the SMTP server %s: %s", config.get("SMTP_HOST"), exc)
        return [m["To"] for m in messages]
    failed = []
    with smtp:
        for message in messages:
            try:
                smtp.send_message(message)
            except smtplib.SMTPException as exc:
                log.warning("e-mail to %s failed: %s", message["To"], exc)
                failed.append(message["To"])
    return failed


def wait_for_background(timeout: float = 10.0) -> None:
    """Wait for the mail threads started so far (tests and orderly shutdown)."""
    while _threads:
        _threads.pop().join(timeout)
