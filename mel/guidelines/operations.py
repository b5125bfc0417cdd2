"""Making an edition of the reporting guidelines handbook.

`make_edition` gathers the content (queries.handbook_content), compares what the handbook says with
the previous edition (`changes`: indicators added, retired, reactivated, redefined with the fields
that changed; forms added, removed or changed; rules added, removed or changed; other texts), renders
the PDF and the HTML in each language and keeps them in handbook_file, unchanged from then on.

An edition that would say what the previous one says is refused (409, naming that edition and its
catalogue version): the calendar's dates and the annex's figures move with time and alone never make
a new edition. The write flushes; the caller commits (mel/unit_of_work.py).

The web, the API and the command line ask for an edition with `request_edition`: the request is checked
and kept as a queued run (handbook_run), committed by the caller, which starts it as report runs are
started (mel/reporting/executor.py `start(app, run.id, "handbook")`: the RQ queue, a `mel handbook make
--run ID` process, a thread or inline). `execute_run` makes the edition, committing the run's stage and
progress in short transactions of their own as it goes, then the edition with the run done, or the run
failed with why. One run at a time: another request meanwhile is refused (409, naming the run), unless
the run went quiet (mel/reporting/queries.py `went_quiet`): it is then recorded as failed, saying so.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from indicators.messages import N_, Text, as_data, message, text
from mel import clock
from mel.accounts import audit
from mel.catalogue.indicator_admin import LABELS as INDICATOR_LABELS
from mel.catalogue.rule_admin import LABELS as RULE_LABELS
from mel.db import utcnow
from mel.errors import Conflict, Forbidden, MelError, ValidationFailed
from mel.guidelines import queries
from mel.guidelines.models import IN_FLIGHT, HandbookEdition, HandbookFile, HandbookRun
from mel.reporting.operations import speaking_in
from mel.scopes import can_administer

log = logging.getLogger(__name__)
NOTE_LIMIT = 2000
ERROR_LIMIT = 4000  # characters of a run's error kept
# A failure that is not a refusal: it names the exception, which only the secretariat reads (queries.run_body).
UNEXPECTED = N_("The edition could not be made (%(error)s). Make it again; if it fails again, give the "
                "administrator the run's number (%(id)s): the service's log has the details.")
# The stages a run's page shows while an edition is made (English, stored on the run; translated where shown).
WAITING, GATHERING, ANNEX, SAVING = (N_("waiting to start"), N_("gathering the catalogue"),
                                     N_("gathering each indicator's history for the annex"), N_("saving the edition"))
LAYING_OUT = {"en": N_("laying out the English PDF and HTML"), "sw": N_("laying out the Kiswahili PDF and HTML")}
DONE, FAILED = N_("done"), N_("failed")
Progress = Callable[[int, str], None]  # (percent, stage)
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
                 languages: tuple[str, ...] = queries.LANGUAGES, pause=None,
                 progress: Progress | None = None) -> HandbookEdition:
    """A new edition from the current catalogue (secretariat): content, changes and rendered files, flushed.

    `pause` (a background run's `session.commit`, with nothing written yet) ends the read transaction
    between the annex's indicators and before the files are laid out, so the database is never held for
    the tens of seconds an edition takes (on SQLite every transaction holds the write lock). `progress`
    (a run's) is told how far the making is: through the annex's indicators, before each language is
    laid out and before the edition is saved."""
    from flask import current_app

    config = config if config is not None else current_app.config
    today = today or clock.today(config=config)
    check_request(session, user, note, languages, config, today)
    note = checked_note(note)
    step = progress or (lambda percent, stage: None)
    if pause is not None:
        pause()
    step(10, ANNEX)
    content = queries.handbook_content(session, config, today, pause=pause,
                                       on_indicator=lambda done, total: step(10 + 40 * done // total, ANNEX))
    previous = queries.latest(session)
    if pause is not None:
        pause()
    number = previous.number + 1 if previous is not None else 1
    edition = HandbookEdition(number=number, catalogue_version=content["catalogue_version"], content=content,
                              changes=changes(previous.number if previous else None,
                                              previous.content if previous else None, content),
                              note=note, created_by_id=getattr(user, "id", None), created_at=utcnow())
    files = []
    for index, language in enumerate(languages):
        step(50 + 40 * index // len(languages), LAYING_OUT.get(language, LAYING_OUT["en"]))
        files += render_files(edition, language)
    step(95, SAVING)
    edition.files = files
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


def request_edition(session: Session, user, note: str | None, languages, config, today: date) -> HandbookRun:
    """Ask for an edition: the request checked (`check_request`), then kept as a queued run (flushed and
    audited; the caller commits and starts it). Refused (409, naming the run) while another run is making
    an edition; one that went quiet no longer counts and is recorded as failed here, saying why."""
    languages = tuple(languages)
    number, version = check_request(session, user, note, languages, config, today)
    stopped = []
    for other in queries.in_flight(session):
        if queries.run_state(other) != "stopped":
            raise _busy(session, other)
        stopped.append(other.id)
        _record_failure(session, other.id, queries.stopped_message(other))
    run = HandbookRun(state="queued", stage=WAITING, progress=0, note=checked_note(note), languages=list(languages),
                      number=number, catalogue_version=version, created_by_id=getattr(user, "id", None),
                      created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:  # another request for the same edition was kept a moment before (uq_handbook_run_in_flight)
        raise Conflict(text(message(N_("Edition %(number)s of the handbook was asked for by someone else a moment "
                                       "ago: the handbook page shows its progress."), number=number))) from None
    audit.record(session, "handbook.edition_requested", actor=user, object=f"handbook run {run.id}",
                 details={"number": number, "catalogue_version": version, "languages": list(languages),
                          "note": run.note, **({"stopped_runs": stopped} if stopped else {})})
    return run


def _busy(session: Session, run: HandbookRun) -> Conflict:
    """The refusal of a second request while `run` makes an edition, naming it."""
    who = queries.user_emails(session).get(run.created_by_id, "system") if run.created_by_id else "system"
    return Conflict(text(message(N_("Edition %(number)s of the handbook is being made (run %(id)s, asked for by "
                                    "%(who)s at %(time)s): wait for it to finish; its page shows the progress."),
                                 number=run.number, id=run.id, who=who,
                                 time=f"{clock.local(run.created_at):%H:%M %Z}")))


def execute_run(session: Session, run_id: int, config) -> HandbookRun:
    """Make the edition a queued run asks for, wherever it runs (mel/reporting/executor.py TASKS): the run's
    stage and progress committed as it goes, then the edition and the run done in one commit, or the run
    failed with why: a refusal's own message, or for anything else a plain one (and the log has the
    traceback). A run that is not queued (done, failed, taken by another worker) is left as it is."""
    from mel.accounts.models import User
    from mel.accounts.operations import system_actor
    from mel.unit_of_work import finish

    run = queries.find_run(session, run_id)
    now = utcnow()
    claimed = session.execute(
        update(HandbookRun).where(HandbookRun.id == run_id, HandbookRun.state == "queued")
        .values(state="running", started_at=now, heartbeat_at=now, progress=5, stage=GATHERING)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    session.refresh(run)
    if claimed != 1:
        return run
    try:
        user = (session.get(User, run.created_by_id) if run.created_by_id else None) or system_actor()
        edition = make_edition(session, user, run.note, config=config, languages=tuple(run.languages),
                               pause=release(session), progress=_progress(session, run_id))
        session.execute(update(HandbookRun).where(HandbookRun.id == run_id).values(
            state="done", progress=100, stage=DONE, edition_id=edition.id, number=edition.number,
            catalogue_version=edition.catalogue_version, finished_at=utcnow(), heartbeat_at=utcnow())
            .execution_options(synchronize_session=False))
        finish(session, config)
    except Exception as exc:  # the run records why it failed; the caller goes on
        session.rollback()
        if not isinstance(exc, MelError):
            log.exception("handbook run %s failed", run_id)
        _record_failure(session, run_id, failure(run_id, exc))
        session.commit()
    session.refresh(run)
    return run


def failure(run_id: int, exc: Exception) -> str:
    """Why a run failed, in words: a refusal's own message; for anything else what it was, and what to do."""
    if isinstance(exc, MelError):
        return exc.message
    what = f"{type(exc).__name__}: {exc}"
    return text(message(UNEXPECTED, error=what if len(what) <= 300 else what[:299] + "…", id=run_id))


def _record_failure(session: Session, run_id: int, said: str) -> None:
    """The run failed, with its message in English and as words; only while it is queued or running (a run
    recorded as stopped meanwhile keeps what it says). Flushed."""
    session.execute(update(HandbookRun).where(HandbookRun.id == run_id, HandbookRun.state.in_(IN_FLIGHT)).values(
        state="failed", stage=FAILED, finished_at=utcnow(), error=str(said)[:ERROR_LIMIT],
        error_words=as_data(said) if isinstance(said, Text) else None).execution_options(synchronize_session=False))


def _progress(session: Session, run_id: int) -> Progress:
    """A run's `progress` for make_edition: each step committed in a short transaction of its own (nothing
    else is written before the edition). A run recorded as stopped meanwhile (it went quiet for too long)
    is not made after all: another may have been asked for since."""

    def step(percent: int, stage: str) -> None:
        moved = session.execute(
            update(HandbookRun).where(HandbookRun.id == run_id, HandbookRun.state == "running")
            .values(progress=percent, stage=stage, heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if moved != 1:
            raise Conflict(text(message(N_("Handbook run %(id)s was recorded as stopped while it was being made (there "
                                           "was no sign of it for too long); its edition was not made."), id=run_id)))

    return step


def release(session: Session):
    """A `pause` for make_edition in a background run (nothing written yet): end the read transaction and
    give a request waiting for the database its turn (SQLite's busy handler polls; without the sleep the
    next read would take the lock again at once)."""

    def pause() -> None:
        session.commit()
        time.sleep(0.05)

    return pause


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
