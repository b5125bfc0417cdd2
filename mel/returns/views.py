"""Web pages of returns: the entry grid, Excel templates, uploads, and the history of a return."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required

from indicators.explanations import compose, reason
from indicators.figures import ingest_frame, ingest_row
from indicators.messages import N_, Joined, Message, say
from indicators.periods import PeriodError, parse_period
from mel import clock, jobs
from mel.accounts.auth import authenticated_user
from mel.catalogue.lookup import load_catalogue
from mel.converters import is_digits
from mel.db import db, utcnow
from mel.errors import Conflict, Forbidden, MelError, NotFound, ValidationFailed
from mel.i18n import period_words
from mel.returns import checks, grid_page, operations, queries
from mel.returns.ingest import Incoming, IngestSettings, describe_outcome, in_language, ingest
from mel.returns.workbook import build_template
from mel.returns.workflow import window_problem
from mel.review import queries as review_queries
from mel.scopes import can_access, can_enter, can_read_queries, is_entering_role
from mel.unit_of_work import attempt

bp = Blueprint("returns", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A warning's explanation is posted as `x.<flag id>` (its words) and `x.<flag id>_reason` (a common
# reason, optional): clients that post the words alone keep working.
REASON_SUFFIX = "_reason"


def _grid_or_404(programme: str, org_unit: str, period: str):
    session = db.session
    user = authenticated_user()
    catalogue = load_catalogue(session)
    try:
        prog, unit, period_id, _found = operations.find_readable(session, catalogue, user, programme, org_unit, period)
    except ValidationFailed as exc:
        raise NotFound(exc.message) from None
    grid = queries.grids(session, catalogue, prog, [unit], period_id, reader=user)[0]
    return user, catalogue, grid


@dataclass(frozen=True)
class Access:
    """What the signed-in user may do on one return, decided before anything is written.

    A refused save rolls the session back, which expires every loaded object; the page shown
    after it reads these flags, never the user's scope again (its relationships are lazy="raise").
    """

    can_edit: bool
    can_answer: bool
    can_read_queries: bool
    closed: str = ""  # why the window refuses this user's figures today ("" when it does not)


def _access(user, grid, catalogue) -> Access:
    may_enter = can_enter(user, grid.programme.id, grid.org_unit)
    closed = window_problem(catalogue.forms[grid.programme.id], grid.period, user, clock.today(), grid.org_unit.id) or "" \
        if may_enter else ""
    return Access(can_edit=may_enter and not closed and (grid.record is None or grid.record.is_editable),
                  can_answer=may_enter, can_read_queries=can_read_queries(user, grid.programme.id, grid.org_unit),
                  closed=closed)


def _linked(grid, errors, keys) -> list[dict]:
    """The error summary's lines, each linked to its figure's field when it has one (`keys`: the
    "indicator|option" of each error, as the cells key them)."""
    fields = {f"{cell.code}|{cell.option}": cell.field for block in grid.blocks for cell in block.cells}
    keys = list(keys or [])
    return [{"text": text, "field": fields.get(keys[n]) if n < len(keys) else None} for n, text in enumerate(errors)]


def _page(address: tuple[str, str, str], access: Access, *, grid=None, form=None, errors=(), cell_errors=None,
          warnings=(), status=200, stale=False, error_keys=()):
    """The return page, on GET and after a refused or checked save (with what was typed and where each
    problem is).

    After a refused save the session was rolled back, which expired every loaded object: no `grid` is
    given, the catalogue and the grid are read again from the address (programme, org unit, period
    codes), and the user's rights come from `access`, decided before the save. `form` is the posted
    form: its figures, comments, explanations, narrative and the version they were typed against are
    shown as typed (a stale version stays stale, so saving again conflicts).
    """
    session = db.session
    catalogue = load_catalogue(session)
    if grid is None:
        programme, org_unit, period = address
        grid = queries.grids(session, catalogue, catalogue.programmes[programme], [catalogue.org_units[org_unit]],
                             period)[0]
    if grid.window.exception:  # the page writes the window exception's words as they are: in its language
        grid = replace(grid, window=replace(grid.window, exception=say(grid.window.exception, _)))
    record = grid.record
    typed = {k: v for k, v in form.items() if k.startswith(("v.", "c.", "x."))} if form is not None else {}
    if form is not None and "narrative" in form:
        narrative = form["narrative"]
    else:
        narrative = record.narrative if record else ""
    # The version the typed figures were based on (after a stale save: the one the officer chose against).
    posted = (form.get("resolved_version") or form.get("version")) if form is not None else None
    version = posted or (record.version if record else 0)
    threads = review_queries.return_threads(session, catalogue, record.id) if record and access.can_read_queries else []
    row_flags, loose_flags = grid_page.flags_by_row(grid, catalogue)
    row_threads, loose_threads = grid_page.threads_by_row(grid, threads)
    return render_template(
        "returns/grid.html", grid=grid, history=queries.history(session, record) if record else [],
        can_edit=access.can_edit, can_answer=access.can_answer, closed=access.closed,
        contact=grid_page.secretariat_contact(session, current_app.config) if access.closed else "",
        closed_words=grid_page.closed_words(grid.window, grid.period, clock.today()) if access.closed else "",
        previous_period=parse_period(grid.period).previous().id,
        threads=threads, row_threads=row_threads, loose_threads=loose_threads,
        row_flags=row_flags, loose_flags=loose_flags, sums=grid_page.part_sums(grid, typed),
        stale=stale and record is not None, choices=grid_page.figure_choices(grid, typed) if stale and record else [],
        rules=grid_page.browser_rules(), words=grid_page.browser_words(), row_key=grid_page.row_key,
        typed=typed, narrative=narrative, version=version, errors=_linked(grid, errors, error_keys),
        cell_errors=cell_errors or {},
        warnings=list(warnings), today=clock.today(), explanation_choices=grid_page.explanation_choices(),
        explained=reason, reason_label=grid_page.reason_words, reason_suffix=REASON_SUFFIX), status


@bp.route("/returns/<programme>/<org_unit>/<return_period:period>", methods=["GET"])
@login_required
def return_page(programme: str, org_unit: str, period: str):
    user, catalogue, grid = _grid_or_404(programme, org_unit, period)
    return _page((grid.programme.code, grid.org_unit.code, grid.period), _access(user, grid, catalogue), grid=grid)


def _explanations(form) -> dict[int, str]:
    """Flag id → the explanation to store: the reason chosen, then the words typed beside it."""
    ids = {key[2:].removesuffix(REASON_SUFFIX) for key in form if key.startswith("x.")}
    return {int(i): compose(form.get(f"x.{i}{REASON_SUFFIX}", ""), form.get(f"x.{i}", ""))
            for i in ids if is_digits(i)}


# What the grid says instead of a conflict's RELOAD_ADVICE: it keeps what was typed.
KEPT_BELOW = N_("Nothing of yours was saved yet: what you typed is kept below, with a choice for each figure "
                "that differs.")


def _kept_below(words):
    """A conflict's message (checks.conflict_message) ending with KEPT_BELOW instead of its RELOAD_ADVICE."""
    source = getattr(words, "source", None)
    if isinstance(source, Joined) and source.parts and source.parts[-1] == Message(checks.RELOAD_ADVICE):
        return Joined(source.separator, (*source.parts[:-1], Message(KEPT_BELOW)))
    return words


def _typed_rows(form, grid) -> pd.DataFrame:
    records = []
    for cell in grid.cells():
        if cell.field not in form:
            continue
        records.append(ingest_row(cell.code, cell.option, grid.org_unit.code, grid.period,
                                  grid_page.chosen_value(form, cell.field, cell.value),
                                  comment=form.get("c." + cell.field[2:], "").strip()))
    return ingest_frame(records)


@bp.route("/returns/<programme>/<org_unit>/<return_period:period>", methods=["POST"])
@login_required
def save_return(programme: str, org_unit: str, period: str):
    user, catalogue, grid = _grid_or_404(programme, org_unit, period)
    access = _access(user, grid, catalogue)
    # A save that only the window refuses is refused by the ingest (422), with what was typed kept.
    if not access.can_edit and not (access.closed and (grid.record is None or grid.record.is_editable)):
        raise Forbidden(_("You cannot change this return in its current state."))
    session = db.session
    form = request.form
    action = form.get("action", "save")
    address = (grid.programme.code, grid.org_unit.code, grid.period)
    rows = _typed_rows(form, grid)
    # After a stale save the officer chose figure by figure against the version shown then.
    based_on = grid_page.version_posted(form, "resolved_version")
    based_on = grid_page.version_posted(form, "version") if based_on is None else based_on
    expected = based_on if based_on is not None and grid.record else None
    record = grid.record
    explained = 0
    shown_flags = {flag.id: flag.flag_key for flag in grid.flags}  # a save of figures stores them anew
    narrative_changes = "narrative" in form and form["narrative"].strip() != ((record.narrative or "") if record else "")
    try:
        result = ingest(session, user, Incoming(rows, "web"), programme=grid.programme.code,
                        dry_run=action == "check", delete_empty=True, expected_version=expected,
                        settings=IngestSettings.from_config(current_app.config))
        if not result.errors and action != "check":
            # A form without the field (an old page, a script) leaves the narrative as it was.
            if "narrative" in form:
                record = operations.save_narrative(session, user, catalogue, grid.programme, grid.org_unit,
                                                   grid.period, form["narrative"], channel="web") or record
            record = record or operations.find_return(session, catalogue, *address).record
            explanations = _explanations(form)
            if explanations and record is not None:
                explained = operations.explain_flags(session, user, record, explanations, shown=shown_flags)
    except (Conflict, ValidationFailed) as exc:
        session.rollback()
        message = say(_kept_below(exc.message) if isinstance(exc, Conflict) else exc.message, _)
        return _page(address, access, form=form, errors=[message],
                     status=409 if isinstance(exc, Conflict) else 422, stale=isinstance(exc, Conflict))
    if result.errors:
        session.rollback()
        cell_errors: dict[str, list[str]] = {}
        for issue in result.errors:
            key = f"{issue.location.get('indicator', '')}|{issue.location.get('option', '')}"
            cell_errors.setdefault(key, []).append(issue.text(_).split(": ", 1)[-1])
        return _page(address, access, form=form, errors=[e.text(_) for e in result.errors],
                     cell_errors=cell_errors, status=422,
                     error_keys=[f"{e.location.get('indicator', '')}|{e.location.get('option', '')}"
                                 for e in result.errors])
    # What happened, in the page's language (worked out apart: pybabel loses a message whose call
    # passes `_` itself as an argument).
    described = result.in_language(_, ngettext).describe()
    if action == "check":
        session.rollback()
        # English says "warning(s)" in both forms, as it always has; other languages get their plural.
        flash(_("Check only: %(result)s", result=described) + " " + (
            ngettext("%(num)s warning(s) will need an explanation.", "%(num)s warning(s) will need an explanation.",
                     len(result.warnings)) if result.warnings else _("No problems found.")),
            "info")
        return _page(address, access, form=form, warnings=[w.text(_) for w in result.warnings])
    message = _("Saved: %(result)s", result=described) if result.outcome == "stored" else _(
        "Nothing changed in the figures.")
    flash(message + (" " + _("The narrative was saved.") if narrative_changes else "")
          + (" " + ngettext("%(num)s explanation saved.", "%(num)s explanations saved.", explained)
             if explained else ""), "info")
    if action == "submit":
        try:
            with attempt(session):  # a refused submission leaves the saved figures saved
                record = record or operations.ensure_return(session, catalogue, grid.programme, grid.org_unit,
                                                            grid.period)
                operations.submit(session, user, record, channel="web", catalogue=catalogue)
            flash(_("Submitted to the MERL TWG for review."), "info")
        except (ValidationFailed, Conflict) as exc:
            flash(say(exc.message, _), "error")
            for detail in exc.details[:20]:
                flash(say(detail.message, _), "error")
    return redirect(url_for("returns.return_page", programme=address[0], org_unit=address[1], period=address[2]))


@bp.route("/returns/<programme>/<org_unit>/<return_period:period>/template.xlsx")
@login_required
def return_template(programme: str, org_unit: str, period: str):
    _, _, grid = _grid_or_404(programme, org_unit, period)
    return _send_template([grid], f"{grid.programme.code}_{grid.org_unit.code}_{grid.period}.xlsx")


@bp.route("/programmes/<programme>/template.xlsx")
@login_required
def programme_template(programme: str):
    session = db.session
    user = authenticated_user()
    catalogue = load_catalogue(session)
    prog = catalogue.programmes.get(programme.upper())
    if prog is None:
        raise NotFound(_("Programme %(code)s is not known.", code=repr(programme)))
    try:
        period = parse_period(request.args.get("period") or clock.reporting_quarter().id).id
    except PeriodError as exc:
        raise ValidationFailed(exc.message) from None
    asked = catalogue.forms[prog.id].org_units_in(period) if prog.id in catalogue.forms else []
    if not asked:
        raise NotFound(_("The %(programme)s form asks no returns for %(period)s.", programme=prog.code,
                         period=period_words(parse_period(period))))
    units = [u for u in asked if can_access(user, prog.id, u)]
    if not units:
        raise Forbidden(_("You may not see %(programme)s returns.", programme=prog.code))
    # Each org unit's figures as this user may see them: viewers (and officers beyond their scope)
    # get approved figures only, this quarter's and last quarter's.
    grids = queries.grids(session, catalogue, prog, units, period, reader=user)
    return _send_template(grids, f"{prog.code}_{period}.xlsx")


def _send_template(grids, filename: str):
    from io import BytesIO

    from mel.guidelines.content import catalogue_content, catalogue_version
    from mel.returns.template_guide import request_links, template_guide, template_title

    first = grids[0]
    title, now = template_title(grids, _), utcnow()
    # The same instructions and Indicators sheet as the reporting tools pack's (mel/guidelines/tools_pack.py).
    guide = template_guide(load_catalogue(db.session), grids, title=title, generated_at=now,
                           contact=grid_page.secretariat_contact(db.session, current_app.config),
                           links=request_links(grids), catalogue_version=catalogue_version(catalogue_content(db.session)),
                           gettext=_)
    data = build_template(queries.template_rows(grids), title=title, programme=first.programme.name,
                          period_label=first.period_label, generated_at=now, guide=guide)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload():
    user = authenticated_user()
    if not is_entering_role(user):
        raise Forbidden(_("Only officers and the secretariat upload returns."))
    session = db.session
    catalogue = load_catalogue(session)
    programmes = sorted(catalogue.programmes.values(), key=lambda p: p.code)
    quarter = clock.reporting_quarter().id  # the programmes whose current form this user can fill
    programmes = [p for p in programmes if p.id in catalogue.forms
                  and any(can_enter(user, p.id, unit) for unit in catalogue.forms[p.id].org_units_in(quarter))]
    result, error = None, None
    if request.method == "POST":
        upload_file = request.files.get("file")
        if not upload_file or not upload_file.filename:
            error = MelError(_("Choose a file to upload (.xlsx template or .csv)."))
        else:
            data = upload_file.read()
            if jobs.import_in_background(current_app.config, data):  # too large for one request
                job = jobs.start_import(session, current_app.config, user, data, upload_file.filename,
                                        channel="web", programme=request.form.get("programme") or None,
                                        dry_run=bool(request.form.get("check_only")))
                return redirect(url_for("returns.import_job", job_id=job.id))
            try:
                result = operations.import_file(session, user, data, upload_file.filename,
                                                settings=IngestSettings.from_config(current_app.config),
                                                programme=request.form.get("programme") or None,
                                                dry_run=bool(request.form.get("check_only")))
                if result.outcome != "stored":
                    session.rollback()
            except MelError as exc:
                session.rollback()
                error = exc
    status = 422 if (error or (result and result.errors)) else 200
    if isinstance(error, Forbidden):
        status = 403
    # The problems in the page's language (the API and the command line keep them in English).
    result = result.in_language(_, ngettext) if result else None
    error = in_language(error, _) if error else None
    return render_template("returns/upload.html", programmes=programmes, result=result, error=error,
                           quarter=clock.reporting_quarter()), status


@bp.route("/imports/<int:job_id>")
@login_required
def import_job(job_id: int):
    """A background import's progress, then its result (the uploader and the secretariat)."""
    session = db.session
    job = jobs.visible_import(session, authenticated_user(), job_id)
    result = jobs.stored_answer(job.result)
    if result and "outcome" in result:  # what happened, said again in the page's language
        result["message"] = describe_outcome(result["outcome"], result.get("returns") or [],
                                             len(result.get("errors") or []), int(result.get("refused") or 0),
                                             job.filename, _, ngettext)
    return render_template("returns/import_job.html", job=jobs.import_body(session, job), result=result)


@bp.route("/imports/<int:job_id>/status")
@login_required
def import_status(job_id: int):
    session = db.session
    return jsonify(jobs.import_body(session, jobs.visible_import(session, authenticated_user(), job_id)))
