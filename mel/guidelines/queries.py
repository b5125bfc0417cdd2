"""What a handbook edition is made from, as plain JSON, and the editions kept.

`handbook_content` gathers it: the catalogue (`content.catalogue_content`, whose digest is the
catalogue version), the texts the handbook prints beside it (Kiswahili names, DHIS2 identifiers,
each validation rule in words, the template's columns, README's rules of compilation and
achievement), the calendar of the next four quarters and the annex of each indicator's history.
Messages (a rule in words, where a target came from) are kept as data (indicators/messages.py
`as_data`) and said in each language when the handbook is laid out.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.explanations import REASON_LABELS
from indicators.expressions import Expression
from indicators.messages import N_, Message, Text, as_data, message, text
from mel import clock
from mel.accounts.models import ROLE_LABELS
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import Catalogue, load_catalogue
from mel.catalogue.models import DisaggregationSet, Indicator, Pillar, ReportingForm, ValidationRule
from mel.catalogue.queries import CATALOGUE_FORM_LOADERS
from mel.catalogue.rule_admin import in_words
from mel.dhis2.ids import (
    DEFAULT_CODE,
    DEFAULT_COMBO_UID,
    NO_DISAGGREGATION,
    build_ids,
    global_combo_code,
)
from mel.errors import NotFound
from mel.guidelines import annex, readme
from mel.guidelines.content import catalogue_content, catalogue_version
from mel.guidelines.models import (
    FILE_FORMATS,
    IN_FLIGHT,
    HandbookEdition,
    HandbookFile,
    HandbookRun,
)
from mel.reporting.queries import STALE_SECONDS, went_quiet
from mel.returns.workbook import (
    CSV_COLUMNS,
    CSV_OPTIONAL_COLUMNS,
    DATA_SHEET,
    EDITABLE_COLUMNS,
    INSTRUCTIONS_SHEET,
    TEMPLATE_COLUMNS,
)
from mel.returns.workflow import window_for
from mel.scopes import can_administer

SCHEMA = 1
LANGUAGES = ("en", "sw")
CALENDAR_QUARTERS = 4
# What the handbook says that an edition compares with the one before it; the calendar's dates and the
# annex's figures move with time and alone never make a new edition.
COMPARED = ("catalogue", "texts")


def handbook_content(session: Session, config, today: date, *, with_annex: bool = True, pause=None,
                     on_indicator=None) -> dict:
    """Everything an edition prints, as plain JSON (see the module's docstring). The annex takes most of
    the time (every indicator's history); `with_annex=False` leaves it out (the browser's current view);
    `pause` and `on_indicator(done, total)` are called between indicators (annex.history)."""
    content = compared_content(session, config, today)
    quarter = clock.reporting_quarter(today)
    catalogue = load_catalogue(session)
    if pause is not None:
        pause()
    content.update({"calendar": calendar(session, config, quarter),
                    "annex": annex.history(session, catalogue, pause, on_indicator) if with_annex else None,
                    "as_of": today.isoformat()})
    return content


def compared_content(session: Session, config, today: date) -> dict:
    """The part of the content an edition compares with the previous one (quick to gather)."""
    stored = catalogue_content(session)
    return {"schema": SCHEMA, "catalogue": stored, "catalogue_version": catalogue_version(stored),
            "texts": texts(session, load_catalogue(session), config, clock.reporting_quarter(today).id)}


def compared(content: dict) -> dict:
    """The part of an edition's content that says something new when it changes."""
    return {key: content.get(key) for key in COMPARED}


def texts(session: Session, catalogue: Catalogue, config, quarter: str) -> dict:
    """What the handbook prints beside the versioned catalogue: names in both languages, identifiers,
    rules in words, the Excel tool's columns, README's rules, the review deadline's days."""
    ids = build_ids(session, catalogue, quarter)
    indicators = {}
    for indicator in session.scalars(select(Indicator).order_by(Indicator.code).options(
            selectinload(Indicator.results_node))):
        node = indicator.results_node
        indicators[indicator.code] = {
            "uid": indicator.uid, "name": indicator.name, "name_sw": indicator.name_sw or "",
            "short_name": indicator.short_name, "short_name_sw": indicator.short_name_sw or "",
            "definition": indicator.definition, "definition_sw": indicator.definition_sw or "",
            "results_node": {"code": node.code, "name": node.name, "name_sw": node.name_sw or ""} if node else None,
            "elements": [{"component": element.component, "code": element.code, "uid": element.uid}
                         for component in indicator.components
                         for element in (ids.data_element_for(indicator.code, component),)],
        }
    pillars = {p.code: {"name": p.name, "name_sw": p.name_sw or ""}
               for p in session.scalars(select(Pillar).order_by(Pillar.sort_order, Pillar.code))}
    forms = {form.programme_id: form for form in session.scalars(select(ReportingForm))}
    programmes = {}
    for code, programme in sorted(catalogue.programmes.items()):
        form = forms.get(programme.id)
        data_set = ids.data_set_for(code) if form is not None else None
        programmes[code] = {
            "name": programme.name, "name_sw": programme.name_sw or "", "agency": programme.agency,
            "pillar": catalogue.pillar_codes.get(programme.pillar_id, ""), "level": programme.level,
            "uid": programme.uid, "attribute_uid": ids.attribute_combo_for(code).uid,
            "form": form.code if form else None, "data_set_uid": data_set.uid if data_set else None}
    return {
        "indicators": indicators, "pillars": pillars, "programmes": programmes,
        "disaggregations": _disaggregations(session),
        "org_units": [{"code": u.code, "name": u.name, "iso_code": u.iso_code or "", "uid": u.uid, "level": u.level}
                      for u in sorted(catalogue.org_units.values(), key=lambda u: (u.level, u.code)) if u.level <= COUNTY],
        "rules": _rules(session, catalogue),
        "roles": dict(ROLE_LABELS),
        "template": {"data_sheet": DATA_SHEET, "instructions_sheet": INSTRUCTIONS_SHEET,
                     "columns": list(TEMPLATE_COLUMNS), "editable": list(EDITABLE_COLUMNS),
                     "csv": list(CSV_COLUMNS), "csv_optional": list(CSV_OPTIONAL_COLUMNS),
                     "reasons": list(REASON_LABELS)},
        "review_days": int(config.get("REVIEW_DAYS", 30)),
        "base_url": str(config.get("BASE_URL") or "").rstrip("/"),
        "readme": readme.quoted(),
    }


def _disaggregations(session: Session) -> dict:
    """Each disaggregation set with its option combinations: our code, DHIS2's code and uid (mel/dhis2/ids.py:
    the `none` set's one combination is DHIS2's default), names."""
    found = {}
    for dset in session.scalars(select(DisaggregationSet).order_by(DisaggregationSet.code).options(
            selectinload(DisaggregationSet.combos))):
        combos = []
        default = dset.code == NO_DISAGGREGATION
        for combo in sorted(dset.combos, key=lambda c: (c.is_total, c.sort_order, c.code)):
            combos.append({"code": combo.code, "name": combo.name, "name_sw": combo.name_sw or "",
                           "is_total": bool(combo.is_total), "is_active": combo.is_active is not False,
                           "dhis2_code": DEFAULT_CODE if default else global_combo_code(dset.code, combo.code),
                           "uid": DEFAULT_COMBO_UID if default else combo.uid})
        found[dset.code] = {"name": dset.name, "name_sw": dset.name_sw or "", "uid": dset.uid, "combos": combos}
    return found


def _rules(session: Session, catalogue: Catalogue) -> dict:
    """Each validation rule in words (`rule_admin.in_words`, said in each language later) and the
    indicators it names."""
    found = {}
    for rule in session.scalars(select(ValidationRule).order_by(ValidationRule.code)):
        try:
            codes = [ref.indicator for side in (rule.left, rule.right) for ref in Expression.parse(side).references()]
        except (ValueError, SyntaxError, RecursionError):
            codes = []
        found[rule.code] = {"words": as_data(in_words(rule, catalogue)), "indicators": list(dict.fromkeys(codes))}
    return found


def calendar(session: Session, config, first: object) -> dict:
    """The next four quarters from the one being reported: each form's window (opens, due, closes) and
    the MERL TWG's review deadline (`MEL_REVIEW_DAYS` after the quarter ends, as the scheduler drafts the
    sector report the day after it)."""
    review_days = int(config.get("REVIEW_DAYS", 30))
    forms = list(session.scalars(select(ReportingForm).order_by(ReportingForm.code).options(*CATALOGUE_FORM_LOADERS)))
    quarters = []
    for step in range(CALENDAR_QUARTERS):
        quarter = first.shift(step)  # type: ignore[attr-defined]
        windows = {}
        for form in forms:
            window = window_for(form, quarter.id)
            windows[form.code] = {"opens": window.opens.isoformat(), "due": window.due.isoformat(),
                                  "closes": window.closes.isoformat()}
        quarters.append({"quarter": quarter.id, "ends": quarter.end.isoformat(),
                         "review_deadline": (quarter.end + timedelta(days=review_days)).isoformat(),
                         "windows": windows})
    return {"review_days": review_days, "quarters": quarters}


# --------------------------------------------------------------------------- editions kept


def editions(session: Session) -> list[HandbookEdition]:
    """Every edition, newest first, with its files' rows (not their bytes' use)."""
    return list(session.scalars(select(HandbookEdition).order_by(HandbookEdition.number.desc())
                                .options(selectinload(HandbookEdition.files))))


def latest(session: Session) -> HandbookEdition | None:
    return session.scalar(select(HandbookEdition).order_by(HandbookEdition.number.desc()).limit(1))


def edition(session: Session, number: int) -> HandbookEdition:
    found = session.scalar(select(HandbookEdition).where(HandbookEdition.number == number)
                           .options(selectinload(HandbookEdition.files)))
    if found is None:
        raise NotFound(text(message(N_("There is no handbook edition %(number)s."), number=number)))
    return found


def edition_file(session: Session, number: int, language: str, file_format: str) -> HandbookFile:
    """One rendered file of an edition, exactly as it was made."""
    found = edition(session, number)
    for kept in found.files:
        if kept.language == language and kept.format == file_format:
            return kept
    raise NotFound(text(message(N_("Edition %(number)s of the handbook has no %(format)s file in %(language)s "
                                   "(it has: %(files)s)."), number=number, format=str(file_format)[:8],
                                language=str(language)[:8],
                                files=", ".join(f"{f.language}.{f.format}" for f in found.files) or "none")))


def is_known_file(language: str, file_format: str) -> bool:
    return language in LANGUAGES and file_format in FILE_FORMATS


def edition_body(edition: HandbookEdition, emails: dict[int, str], file_url, language: str = "en") -> dict:
    """An edition as the API and the pages show it; `file_url(number, language, format)` links each file."""
    from mel.reporting.operations import speaking_in
    from reports.handbook import change_lines, change_summary, names

    with speaking_in(language):
        summary = change_summary(edition.changes)
        lines = change_lines(edition.changes, names(edition.content))
    return {"number": edition.number, "catalogue_version": edition.catalogue_version,
            "created_at": edition.created_at.isoformat(), "created_by": emails.get(edition.created_by_id, "system"),
            "note": edition.note, "summary": summary, "changes": edition.changes, "lines": lines,
            "files": [{"language": f.language, "format": f.format, "size": f.size, "pages": f.pages,
                       "sha256": f.sha256, "url": file_url(edition.number, f.language, f.format)}
                      for f in sorted(edition.files, key=lambda f: (LANGUAGES.index(f.language)
                                                                     if f.language in LANGUAGES else 9, f.format))]}


def user_emails(session: Session) -> dict[int, str]:
    from mel.accounts.models import User

    return dict(session.execute(select(User.id, User.email)).all())


# --------------------------------------------------------------------------- runs: editions being made

RUN_LIMIT = 50


def run_state(run: HandbookRun) -> str:
    """A run's state as it is shown: queued, running, done, failed, or stopped when it went quiet (no
    worker took it, or its making stopped giving signs: mel/reporting/queries.py `went_quiet`)."""
    return "stopped" if run.state in IN_FLIGHT and went_quiet(run.last_sign) else run.state


def stopped_message(run: HandbookRun) -> Text:
    """Why a run that went quiet did not make its edition (said on its page, kept when it is recorded failed)."""
    return text(message(N_("The making of edition %(number)s stopped without finishing: there was no sign of it for "
                           "%(minutes)s minutes (its process was stopped, or the server restarted). Nothing was kept; "
                           "make the edition again."), number=run.number, minutes=STALE_SECONDS // 60))


def no_run(run_id: int) -> NotFound:
    return NotFound(text(message(N_("There is no handbook run %(id)s."), id=run_id)))


def find_run(session: Session, run_id: int) -> HandbookRun:
    """A run (everyone signed in sees them, as the editions), or NotFound."""
    found = session.get(HandbookRun, run_id)
    if found is None:
        raise no_run(run_id)
    return found


def runs(session: Session, limit: int = RUN_LIMIT) -> list[HandbookRun]:
    """The latest runs, newest first."""
    return list(session.scalars(select(HandbookRun).order_by(HandbookRun.id.desc()).limit(limit)))


def in_flight(session: Session) -> list[HandbookRun]:
    """The runs recorded as queued or running (some may have gone quiet: `run_state`), oldest first, as the
    database has them now (their workers write with statements)."""
    return list(session.scalars(select(HandbookRun).where(HandbookRun.state.in_(IN_FLIGHT)).order_by(HandbookRun.id)
                                .execution_options(populate_existing=True)))


def runs_to_show(session: Session) -> tuple[list[HandbookRun], HandbookRun | None]:
    """What the handbook page shows of the runs: those being made, and the last one that failed (or
    stopped) unless a later one made its edition."""
    latest = runs(session)
    making = [r for r in latest if run_state(r) in IN_FLIGHT]
    finished = [r for r in latest if run_state(r) not in IN_FLIGHT]
    failed = finished[0] if finished and finished[0].state != "done" else None
    return making, failed


def run_body(run: HandbookRun, emails: dict[int, str], edition_url, reader=None) -> dict:
    """A run as the API and the pages show it; `edition_url(number)` links the edition it made. `error`
    is English text (a page says it again in its language with `said`). A failure that names an exception
    (operations.UNEXPECTED) is the secretariat's to read: other `reader`s are told only that the edition
    could not be made (`reader` None: the command line, which is the secretariat's)."""
    state = run_state(run)
    error = run.error_message if run.error else stopped_message(run) if state == "stopped" else None
    if error is not None and reader is not None and not can_administer(reader) and _unexpected(run):
        error = text(Message(N_("The edition could not be made. The secretariat can make it again and has the "
                                "details.")))
    made = run.edition_id is not None and run.state == "done"

    def moment(value):
        return value.isoformat() if value else None

    return {"id": run.id, "state": state, "stage": run.stage, "progress": run.progress, "note": run.note,
            "languages": list(run.languages or ()), "number": run.number, "catalogue_version": run.catalogue_version,
            "created_by": emails.get(run.created_by_id, "system") if run.created_by_id else "system",
            "created_at": moment(run.created_at), "started_at": moment(run.started_at),
            "finished_at": moment(run.finished_at), "error": error,
            "edition": run.number if made else None, "edition_url": edition_url(run.number) if made else None}


def _unexpected(run: HandbookRun) -> bool:
    """Whether a run failed for something other than a refusal (its words are operations.UNEXPECTED's)."""
    from mel.guidelines.operations import UNEXPECTED

    return isinstance(run.error_words, dict) and run.error_words.get("m") == UNEXPECTED
