"""Making an edition of the reporting guidelines handbook.

`make_edition` gathers the content (queries.handbook_content), compares what the handbook says with
the previous edition (`changes`: indicators added, retired, reactivated, redefined with the fields
that changed; forms added, removed or changed; rules added, removed or changed; other texts), renders
the PDF and the HTML in each language and keeps them in handbook_file, unchanged from then on.

An edition that would say what the previous one says is refused (409, naming that edition and its
catalogue version): the calendar's dates and the annex's figures move with time and alone never make
a new edition. The write flushes; the caller commits (mel/unit_of_work.py).
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from indicators.messages import N_, message, text
from mel import clock
from mel.accounts import audit
from mel.catalogue.indicator_admin import LABELS as INDICATOR_LABELS
from mel.catalogue.rule_admin import LABELS as RULE_LABELS
from mel.errors import Conflict, Forbidden, ValidationFailed
from mel.guidelines import queries
from mel.guidelines.models import HandbookEdition, HandbookFile
from mel.reporting.operations import speaking_in
from mel.scopes import can_administer

log = logging.getLogger(__name__)
NOTE_LIMIT = 2000
RULE_FIELD_LABELS = {**RULE_LABELS, "left": N_("Left side"), "right": N_("Right side"), "is_active": N_("Status")}
FORM_FIELD_LABELS = {"name": N_("Name"), "programme": N_("Programme"), "frequency": N_("Frequency"),
                     "window": N_("Window"), "windows": N_("Window from a quarter on"),
                     "contents": N_("Indicators and org units")}
# Texts beside the catalogue whose change alone is worth an edition, with what the edition says changed.
TEXT_LABELS = {"indicators": N_("Kiswahili names or definitions of indicators"), "pillars": N_("pillar names"),
               "programmes": N_("programme names, agencies or identifiers"),
               "disaggregations": N_("disaggregation options or their names"), "org_units": N_("org units"),
               "rules": N_("validation rules in words"), "roles": N_("role names"),
               "template": N_("the Excel template's columns"), "review_days": N_("the review deadline"),
               "base_url": N_("the service's address"),
               "readme": N_("the rules of compilation and achievement quoted from README")}


def checked_note(note) -> str:
    value = "" if note is None else str(note).strip()
    if len(value) > NOTE_LIMIT:
        raise ValidationFailed(text(message(N_("note: at most %(limit)s characters; this one has %(count)s."),
                                            limit=f"{NOTE_LIMIT:,}", count=f"{len(value):,}")))
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValidationFailed(text(message(N_("note: contains a control character; type or paste the text "
                                               "again."))))
    return value


def check_request(session: Session, user, note: str | None, languages, config, today: date) -> tuple[int, str]:
    """(the number, the catalogue version) a new edition would have, or the refusal: not the secretariat
    (403), a bad note or language (422), nothing changed since the last edition (409). Quick: the annex
    is not gathered."""
    if user is None or not can_administer(user):
        raise Forbidden(text(message(N_("Only the secretariat makes handbook editions."))))
    checked_note(note)
    unknown = [code for code in languages if code not in queries.LANGUAGES]
    if unknown or not languages:
        raise ValidationFailed(text(message(N_("languages: %(given)s; choose among %(known)s."),
                                            given=", ".join(map(str, languages)) or "none",
                                            known=", ".join(queries.LANGUAGES))))
    content = queries.compared_content(session, config, today)
    previous = queries.latest(session)
    if previous is not None and queries.compared(previous.content) == queries.compared(content):
        raise Conflict(text(message(N_("Nothing has changed since edition %(number)s (catalogue version %(version)s): "
                                       "a new edition would say the same. Change an indicator, a form, a rule or "
                                       "a text of the catalogue first."), number=previous.number,
                                    version=previous.catalogue_version)))
    return (previous.number + 1 if previous is not None else 1), content["catalogue_version"]


def make_edition(session: Session, user, note: str | None = "", *, config=None, today: date | None = None,
                 languages: tuple[str, ...] = queries.LANGUAGES, pause=None) -> HandbookEdition:
    """A new edition from the current catalogue (secretariat): content, changes and rendered files, flushed.

    `pause` (a background run's `session.commit`, with nothing written yet) ends the read transaction
    between the annex's indicators and before the files are laid out, so the database is never held for
    the tens of seconds an edition takes (on SQLite every transaction holds the write lock)."""
    from flask import current_app

    config = config if config is not None else current_app.config
    today = today or clock.today(config=config)
    check_request(session, user, note, languages, config, today)
    note = checked_note(note)
    if pause is not None:
        pause()
    content = queries.handbook_content(session, config, today, pause=pause)
    previous = queries.latest(session)
    if pause is not None:
        pause()
    number = previous.number + 1 if previous is not None else 1
    edition = HandbookEdition(number=number, catalogue_version=content["catalogue_version"], content=content,
                              changes=changes(previous.number if previous else None,
                                              previous.content if previous else None, content),
                              note=note, created_by_id=getattr(user, "id", None), created_at=clock_now())
    edition.files = [kept for language in languages for kept in render_files(edition, language)]
    try:
        with session.begin_nested():
            session.add(edition)
            session.flush()
    except IntegrityError:
        raise Conflict(text(message(N_("Edition %(number)s was made by someone else a moment ago: look at it, "
                                       "then make another edition if the catalogue has changed since."),
                                    number=number))) from None
    audit.record(session, "handbook.edition_made", actor=user, object=f"handbook edition {number}",
                 details={"catalogue_version": edition.catalogue_version, "note": note,
                          "changes": summary_counts(edition.changes),
                          "files": {f"{f.language}.{f.format}": f.sha256 for f in edition.files}})
    return edition


def start_edition(app, user, note: str, languages: tuple[str, ...]) -> HandbookEdition | None:
    """Make an edition the way REPORT_EXECUTOR says (a checked request, committed work before it): `inline`
    makes it now and returns it (the caller commits); `thread` in a thread of this process; otherwise in a
    `mel handbook make` process of its own (an edition takes tens of seconds: each language's PDF), which
    commits it and writes what it did to the instance folder's handbook.log. Returns None while it is being made."""
    mode = app.config.get("REPORT_EXECUTOR", "process")
    if mode == "inline":
        from mel.db import db

        return make_edition(db.session, user, note, config=app.config, languages=languages)
    if mode == "thread":
        threading.Thread(target=_make_in_thread, args=(app, getattr(user, "email", ""), note, languages),
                         daemon=True, name="handbook-edition").start()
        return None
    command = [sys.executable, "-c", "from mel.cli import main; main()", "handbook", "make", "--note", note]
    for language in languages:
        command += ["--lang", language]
    if getattr(user, "id", None):
        command += ["--as", user.email]
    from mel.reporting.executor import _environment

    log_path = Path(app.instance_path) / "handbook.log"
    with log_path.open("ab") as output:
        subprocess.Popen(command, env=_environment(app.config), stdout=output, stderr=subprocess.STDOUT,
                         start_new_session=True)
    log.info("handbook edition: being made in a worker process (log: %s)", log_path)
    return None


def release(session: Session):
    """A `pause` for make_edition in a background run (nothing written yet): end the read transaction and
    give a request waiting for the database its turn (SQLite's busy handler polls; without the sleep the
    next read would take the lock again at once)."""

    def pause() -> None:
        session.commit()
        time.sleep(0.05)

    return pause


def _make_in_thread(app, email: str, note: str, languages: tuple[str, ...]) -> None:
    from mel.accounts.operations import load_user, system_actor
    from mel.db import db
    from mel.unit_of_work import finish

    with app.app_context():
        session = db.session
        try:
            user = load_user(session, email) if email and email != "system" else system_actor()
            make_edition(session, user, note, config=app.config, languages=languages, pause=release(session))
            finish(session, app.config)
        except Exception:  # noqa: BLE001 - a thread has no one to raise to: the log says what failed
            session.rollback()
            log.exception("handbook edition failed")
        finally:
            session.close()


def clock_now() -> datetime:
    from mel.db import utcnow

    return utcnow()


def render_files(edition: HandbookEdition, language: str) -> list[HandbookFile]:
    """The PDF and the HTML of an edition in one language (the HTML with its styles inside)."""
    from reports import handbook

    made_on = clock.local(edition.created_at).date().isoformat()
    with speaking_in(language):
        book = handbook.build(edition.content, edition=edition.number, made_on=made_on, note=edition.note,
                              changes=edition.changes)
        pdf, pages = handbook.render_pdf(book)
        html = handbook.render_html(book, preview=True).encode("utf-8")
    log.info("handbook edition %s (%s): %s pages", edition.number, language, pages)
    return [_file(edition, language, "pdf", pdf, pages), _file(edition, language, "html", html, None)]


def _file(edition: HandbookEdition, language: str, file_format: str, data: bytes, pages: int | None) -> HandbookFile:
    return HandbookFile(language=language, format=file_format, content=data,
                        sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pages)


# --------------------------------------------------------------------------- what changed


def changes(previous_number: int | None, before: dict | None, after: dict) -> dict:
    """What the handbook says differently from the previous edition's content (see the module)."""
    if before is None:
        return {"previous": None}
    old, new = before.get("catalogue") or {}, after.get("catalogue") or {}
    return {
        "previous": {"number": previous_number, "catalogue_version": before.get("catalogue_version")},
        "indicators": _indicator_changes(old.get("indicators") or {}, new.get("indicators") or {}),
        "forms": _form_changes(old.get("forms") or {}, new.get("forms") or {}),
        "rules": _rule_changes(old.get("rules") or {}, new.get("rules") or {}),
        "texts": [{"key": key, "label": label} for key, label in TEXT_LABELS.items()
                  if (before.get("texts") or {}).get(key) != (after.get("texts") or {}).get(key)],
    }


def _indicator_changes(before: dict, after: dict) -> dict:
    found: dict[str, list] = {"added": [], "removed": [], "retired": [], "reactivated": [], "redefined": []}
    for code in sorted(after.keys() - before.keys()):
        found["added"].append(code)
    found["removed"] = sorted(before.keys() - after.keys())
    for code in sorted(after.keys() & before.keys()):
        old, new = before[code]["sheet"], after[code]["sheet"]
        was, now = old.get("is_active", True), new.get("is_active", True)
        if was and not now:
            found["retired"].append(code)
        elif now and not was:
            found["reactivated"].append(code)
        fields = [name for name in new if name not in ("is_active", "replaced_by") and old.get(name) != new.get(name)]
        if fields:
            found["redefined"].append({"code": code, "from": before[code]["version"], "to": after[code]["version"],
                                       "fields": [{"name": n, "label": INDICATOR_LABELS.get(n, n)} for n in fields]})
    return found


def _latest_indicators(form: dict) -> list[str]:
    stretches = form.get("contents") or []
    return [i["indicator"] for i in stretches[-1]["indicators"]] if stretches else []


def _form_changes(before: dict, after: dict) -> dict:
    changed = []
    for code in sorted(after.keys() & before.keys()):
        old, new = before[code], after[code]
        fields = [name for name in FORM_FIELD_LABELS if old.get(name) != new.get(name)]
        if not fields:
            continue
        was, now = _latest_indicators(old), _latest_indicators(new)
        changed.append({"code": code, "fields": [{"name": n, "label": FORM_FIELD_LABELS[n]} for n in fields],
                        "added": [c for c in now if c not in was], "removed": [c for c in was if c not in now]})
    return {"added": sorted(after.keys() - before.keys()), "removed": sorted(before.keys() - after.keys()),
            "changed": changed}


def _rule_changes(before: dict, after: dict) -> dict:
    changed = []
    for code in sorted(after.keys() & before.keys()):
        fields = [name for name in after[code] if before[code].get(name) != after[code].get(name)]
        if fields:
            changed.append({"code": code, "fields": [{"name": n, "label": RULE_FIELD_LABELS.get(n, n)} for n in fields],
                            "retired": before[code].get("is_active") and not after[code].get("is_active")})
    return {"added": sorted(after.keys() - before.keys()), "removed": sorted(before.keys() - after.keys()),
            "changed": changed}


def summary_counts(found: dict) -> dict:
    """How many of each kind of change (the audit's details, the API's summary)."""
    if not found.get("previous"):
        return {"first_edition": True}
    counts = {f"indicators_{k}": len(v) for k, v in (found.get("indicators") or {}).items() if v}
    counts.update({f"forms_{k}": len(v) for k, v in (found.get("forms") or {}).items() if v})
    counts.update({f"rules_{k}": len(v) for k, v in (found.get("rules") or {}).items() if v})
    if found.get("texts"):
        counts["texts"] = [t["key"] for t in found["texts"]]
    return counts
