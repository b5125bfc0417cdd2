"""Notifications: stored for the web (in-app) and sent by e-mail over SMTP when configured."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

import flask_babel
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.periods import parse_period
from mel.accounts.models import User
from mel.catalogue.models import OrgUnit, Programme
from mel.db import utcnow
from mel.returns.models import Return
from mel.review.models import Notification
from mel.unit_of_work import notices_written

log = logging.getLogger(__name__)
# Mail is rendered outside requests too (scheduler, CLI), so it has its own template environment.
# Its messages are translated by Flask-Babel in the language the sender forces (mel/accounts/mail.py).
_EMAIL = Environment(loader=FileSystemLoader(str(Path(__file__).resolve().parents[2] / "templates")),
                     autoescape=select_autoescape(["html"]), keep_trailing_newline=True,
                     extensions=["jinja2.ext.i18n"])
_EMAIL.install_gettext_callables(flask_babel.gettext, flask_babel.ngettext, newstyle=True)  # type: ignore[attr-defined]


def return_link(session: Session, record: Return) -> str:
    programme = session.get(Programme, record.programme_id)
    unit = session.get(OrgUnit, record.org_unit_id)
    return f"/returns/{programme.code}/{unit.code}/{record.period}"


def _store(session: Session, users: list[User], *, kind: str, subject: str, body: str, link: str, dedupe: str) -> list[Notification]:
    notices_written(session)  # e-mailed by the entry point after its commit (mel/unit_of_work.py)
    created = []
    for user in users:
        if dedupe and session.scalar(select(Notification.id).where(Notification.user_id == user.id,
                                                                   Notification.dedupe_key == dedupe)):
            continue
        note = Notification(user_id=user.id, kind=kind, subject=subject[:200], body=body, link=link,
                            dedupe_key=dedupe[:200], created_at=utcnow())
        session.add(note)
        created.append(note)
    session.flush()
    return created


def officers_of(session: Session, record: Return, *, kind: str, subject: str, body: str, dedupe: str) -> list[Notification]:
    """Tell the officers whose scope covers a return."""
    unit = session.get(OrgUnit, record.org_unit_id)
    officers = session.scalars(select(User).where(User.role == "officer", User.is_active.is_(True))
                               .options(selectinload(User.programmes), selectinload(User.org_units)))
    covering = [u for u in officers if record.programme_id in {p.id for p in u.programmes}
                and any(unit.path.startswith(s.path) for s in u.org_units)]
    return _store(session, covering, kind=kind, subject=subject, body=body, link=return_link(session, record),
                  dedupe=dedupe)


def reviewers(session: Session, *, kind: str, subject: str, body: str, record: Return, dedupe: str) -> list[Notification]:
    """Tell the MERL TWG reviewers."""
    people = list(session.scalars(select(User).where(User.role == "reviewer", User.is_active.is_(True))))
    return _store(session, people, kind=kind, subject=subject, body=body, link=return_link(session, record),
                  dedupe=dedupe)


def submitted(session: Session, record: Return, user) -> None:
    programme = session.get(Programme, record.programme_id)
    unit = session.get(OrgUnit, record.org_unit_id)
    label = f"{programme.code} {unit.name} {parse_period(record.period).label}"
    reviewers(session, kind="submitted", subject=f"Submitted for review – {label}",
              body=f"{getattr(user, 'display_name', user.email)} submitted the return{' (late)' if record.is_late else ''}.",
              record=record, dedupe=f"submitted:{record.id}:{record.version}")


def send_pending(session: Session, config: dict) -> int:
    """E-mail the notifications not sent yet; failures are logged and kept for a retry."""
    host = config.get("SMTP_HOST")
    if not host:
        return 0
    pending = session.scalars(select(Notification).where(Notification.emailed_at.is_(None))
                              .order_by(Notification.id).limit(500)).all()
    if not pending:
        return 0
    emails = dict(session.execute(select(User.id, User.email)).all())
    sent = 0
    try:
        smtp = _connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("cannot reach the SMTP server %s: %s", host, exc)
        for note in pending:
            note.email_error = f"SMTP unreachable: {exc}"[:500]
        session.flush()
        return 0
    with smtp:
        for note in pending:
            message = _message(config, emails[note.user_id], note)
            try:
                smtp.send_message(message)
                note.emailed_at, note.email_error = utcnow(), ""
                sent += 1
            except smtplib.SMTPException as exc:
                log.warning("e-mail to %s failed: %s", emails[note.user_id], exc)
                note.email_error = str(exc)[:500]
    session.flush()
    return sent


def _connect(config: dict) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], int(config.get("SMTP_PORT", 25)), 10
    if config.get("SMTP_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config.get("SMTP_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
    if config.get("SMTP_USERNAME"):
        smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD", ""))
    return smtp


def _message(config: dict, to: str, note: Notification) -> EmailMessage:
    """One e-mail: plain text and HTML bodies from templates/email/, with the link made absolute."""
    link = config.get("BASE_URL", "").rstrip("/") + note.link if note.link else ""
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM", "Kenya SP MEL <no-reply@localhost>")
    message["To"] = to
    message["Subject"] = note.subject
    message.set_content(_EMAIL.get_template("email/notice.txt").render(note=note, link=link))
    message.add_alternative(_EMAIL.get_template("email/notice.html").render(note=note, link=link), subtype="html")
    return message
