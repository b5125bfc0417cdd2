"""Notifications: stored for the web (in-app) and sent by e-mail over SMTP when configured.

A notice is written in its recipient's language (mel/i18n.py `recipient_language`: theirs when they
chose one, else the language of the page that caused it): its subject and body may be given as a
function that makes the words, called once per recipient with their language forced. The e-mail
around a notice is rendered in the recipient's language too."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import flask_babel
from flask_babel import force_locale, gettext
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from indicators.periods import parse_period
from mel.accounts.models import User
from mel.catalogue.models import OrgUnit, Programme
from mel.db import utcnow
from mel.i18n import known, language, period_words, recipient_language
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


# A notice's subject or body: the words themselves, or a function making them in the language forced.
Words = str | Callable[[], str]


def _words(words: Words, language_code: str) -> str:
    if isinstance(words, str):
        return words
    with force_locale(language_code):
        return str(words())


def _store(session: Session, users: list[User], *, kind: str, subject: Words, body: Words, link: str,
           dedupe: str) -> list[Notification]:
    notices_written(session)  # e-mailed by the entry point after its commit (mel/unit_of_work.py)
    created = []
    for user in users:
        if dedupe and session.scalar(select(Notification.id).where(Notification.user_id == user.id,
                                                                   Notification.dedupe_key == dedupe)):
            continue
        spoken = recipient_language(user)
        note = Notification(user_id=user.id, kind=kind, subject=_words(subject, spoken)[:200],
                            body=_words(body, spoken), link=link, dedupe_key=dedupe[:200], created_at=utcnow())
        session.add(note)
        created.append(note)
    session.flush()
    return created


def officers_of(session: Session, record: Return, *, kind: str, subject: Words, body: Words,
                dedupe: str) -> list[Notification]:
    """Tell the officers whose scope covers a return."""
    unit = session.get(OrgUnit, record.org_unit_id)
    officers = session.scalars(select(User).where(User.role == "officer", User.is_active.is_(True))
                               .options(selectinload(User.programmes), selectinload(User.org_units)))
    covering = [u for u in officers if record.programme_id in {p.id for p in u.programmes}
                and any(unit.path.startswith(s.path) for s in u.org_units)]
    return _store(session, covering, kind=kind, subject=subject, body=body, link=return_link(session, record),
                  dedupe=dedupe)


def reviewers(session: Session, *, kind: str, subject: Words, body: Words, record: Return,
              dedupe: str) -> list[Notification]:
    """Tell the MERL TWG reviewers."""
    people = list(session.scalars(select(User).where(User.role == "reviewer", User.is_active.is_(True))))
    return _store(session, people, kind=kind, subject=subject, body=body, link=return_link(session, record),
                  dedupe=dedupe)


def return_label(session: Session, record: Return) -> Callable[[], str]:
    """A return's name in notices ("OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025)"), made in the language forced."""
    programme = session.get(Programme, record.programme_id)
    unit = session.get(OrgUnit, record.org_unit_id)
    period = parse_period(record.period)
    return lambda: f"{programme.code} {unit.name} {period_words(period)}"


def submitted(session: Session, record: Return, user) -> None:
    label = return_label(session, record)
    name = getattr(user, "display_name", user.email)
    late = record.is_late
    reviewers(session, kind="submitted", subject=lambda: gettext("Submitted for review – %(label)s", label=label()),
              body=lambda: (gettext("%(name)s submitted the return (late).", name=name) if late
                            else gettext("%(name)s submitted the return.", name=name)),
              record=record, dedupe=f"submitted:{record.id}:{record.version}")


def query_raised(session: Session, record: Return, user, *, code: str, option: str, text: str,
                 query_id: int) -> None:
    """Tell the officers a reviewer asks about one figure (the question in the reviewer's words)."""
    label = return_label(session, record)
    officers_of(session, record, kind="query",
                subject=lambda: gettext("Query on %(figure)s %(option)s – %(label)s", figure=code, option=option,
                                        label=label()),
                body=lambda: gettext("%(name)s asks: %(text)s", name=user.display_name, text=text.strip()),
                dedupe=f"query:{query_id}")


def query_answered(session: Session, record: Return, user, *, text: str, message_id: int) -> None:
    """Tell the reviewers an officer answered a query (the answer in the officer's words)."""
    label = return_label(session, record)
    reviewers(session, kind="query_answered", subject=lambda: gettext("Query answered – %(label)s", label=label()),
              body=f"{user.display_name}: {text.strip()}", record=record, dedupe=f"answer:{message_id}")


def returned(session: Session, record: Return, *, reasons: list[str], text: str, event_id: int) -> None:
    """Tell the officers their return came back, with the reviewer's reasons and words."""
    from mel.review.models import RETURN_REASONS

    label = return_label(session, record)
    officers_of(session, record, kind="returned",
                subject=lambda: gettext("Returned for correction – %(label)s", label=label()),
                body=lambda: gettext("Reasons: %(reasons)s. %(text)s", text=text,
                                     reasons="; ".join(gettext(RETURN_REASONS[c]) for c in reasons)),
                dedupe=f"returned:{event_id}")


def reopened(session: Session, record: Return, *, text: str, event_id: int) -> None:
    """Tell the officers the secretariat reopened their return (the reason in its words)."""
    label = return_label(session, record)
    officers_of(session, record, kind="reopened", subject=lambda: gettext("Reopened – %(label)s", label=label()),
                body=text, dedupe=f"reopened:{event_id}")


def send_pending(session: Session, config: dict) -> int:
    """E-mail the notifications not sent yet; failures are logged and kept for a retry."""
    host = config.get("SMTP_HOST")
    if not host:
        return 0
    # Two workers sending at once each take rows the other has not locked (PostgreSQL), so none goes twice.
    pending = session.scalars(select(Notification).where(Notification.emailed_at.is_(None))
                              .order_by(Notification.id).limit(500).with_for_update(skip_locked=True)).all()
    if not pending:
        return 0
    people = {user_id: (email, locale) for user_id, email, locale in session.execute(
        select(User.id, User.email, User.locale).where(User.id.in_(sorted({note.user_id for note in pending}))))}
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
            email, locale = people[note.user_id]
            message = _message(config, email, note, known(locale) or language())
            try:
                smtp.send_message(message)
                note.emailed_at, note.email_error = utcnow(), ""
                sent += 1
            except smtplib.SMTPException as exc:
                log.warning("e-mail to %s failed: %s", email, exc)
                note.email_error = str(exc)[:500]
    session.flush()
    return sent


def unsent(session: Session, config: dict) -> int:
    """How many notices wait for their e-mail (0 when no mail server is set)."""
    if not config.get("SMTP_HOST"):
        return 0
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.emailed_at.is_(None))) or 0


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


def _message(config: dict, to: str, note: Notification, language_code: str) -> EmailMessage:
    """One e-mail: plain text and HTML bodies from templates/email/, with the link made absolute, around
    the notice's words in the recipient's language (the notice itself was written in it)."""
    link = config.get("BASE_URL", "").rstrip("/") + note.link if note.link else ""
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM", "Kenya SP MEL <no-reply@localhost>")
    message["To"] = to
    message["Subject"] = note.subject
    with force_locale(language_code):
        context = {"note": note, "link": link, "language": language_code}
        message.set_content(_EMAIL.get_template("email/notice.txt").render(**context))
        message.add_alternative(_EMAIL.get_template("email/notice.html").render(**context), subtype="html")
    return message
