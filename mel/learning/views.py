"""Web pages of the evidence register and the learning agenda: the register (search and filters), an
item's page, the add and edit form with its PDF, withdrawal; learning questions. URL rules and rendering
only; the writes are in operations.py, the reading in queries.py."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required
from sqlalchemy import extract, select

from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.catalogue.models import Indicator, Pillar, ResultsNode
from mel.db import db
from mel.errors import MelError, ValidationFailed
from mel.i18n import N_, said
from mel.learning import files, operations, queries
from mel.learning.models import EVIDENCE_KINDS, QUESTION_STATUSES, EvidenceItem, LearningQuestion
from mel.meetings import queries as meeting_queries
from mel.meetings.models import Meeting
from mel.scopes import can_keep_evidence
from reports.evidence import EVIDENCE_KINDS as KIND_LABELS

bp = Blueprint("learning", __name__, url_prefix="/learning")
files.register_body_limit(bp)
# A learning question's status in words (translated where shown).
STATUS_LABELS = {"open": N_("Open"), "answered": N_("Answered"), "retired": N_("Retired")}


def _problems(error: MelError | None) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for detail in getattr(error, "details", []):
        problems.setdefault(detail.location.get("field", ""), []).append(said(detail.message))
    return problems


def _choices() -> dict:
    """What the filters and the form offer: kinds, indicators by pillar, results-framework nodes, questions."""
    session = db.session
    pillars = session.scalars(select(Pillar).order_by(Pillar.sort_order)).all()
    indicators = session.scalars(select(Indicator).order_by(Indicator.code)).all()
    by_pillar = [(p, [i for i in indicators if i.pillar_id == p.id]) for p in pillars]
    return {"kinds": [(k, KIND_LABELS[k]) for k in EVIDENCE_KINDS], "indicators": indicators,
            "indicators_by_pillar": [(p, found) for p, found in by_pillar if found],
            "nodes": session.scalars(select(ResultsNode).order_by(ResultsNode.sort_order, ResultsNode.code)).all(),
            "questions": session.scalars(select(LearningQuestion).order_by(LearningQuestion.code)).all()}


def _emails() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.email)).all())


# --------------------------------------------------------------------------- the register


@bp.route("/evidence")
@login_required
def evidence_list():
    user = authenticated_user()
    session = db.session
    try:
        filters = queries.filters_from(session, request.args)
    except ValidationFailed as error:
        flash(said(error.message), "error")
        filters = queries.EvidenceFilters()
    try:
        page_number = int(request.args.get("page", "1"))
    except ValueError:
        page_number = 1
    found = queries.register(session, filters, page_number)
    years = sorted({int(y) for y in session.scalars(select(extract("year", EvidenceItem.published_on)).where(
        EvidenceItem.published_on.is_not(None)).distinct()) if y is not None}, reverse=True)
    return render_template("learning/evidence_list.html", page=found, filters=filters, years=years,
                           terms=queries.search_terms(filters.q), can_edit=can_keep_evidence(user),
                           kind_labels=KIND_LABELS, **_choices())


@bp.route("/evidence/<int:evidence_id>")
@login_required
def evidence_page(evidence_id: int):
    return _item_page(queries.item(db.session, evidence_id))


def _item_page(item: EvidenceItem, error: MelError | None = None, reason: str = ""):
    user = authenticated_user()
    session = db.session
    meeting = session.get(Meeting, item.meeting_id) if item.meeting_id else None
    emails = _emails()
    return render_template("learning/evidence_item.html", item=item, meeting=meeting, error=error, reason=reason,
                           problems=_problems(error), can_edit=can_keep_evidence(user), kind_labels=KIND_LABELS,
                           size=files.size_words(item.file.size) if item.file is not None else "",
                           was_changed=bool(item.updated_at and item.created_at
                                            and (item.updated_at - item.created_at).total_seconds() > 60),
                           created_by=emails.get(item.created_by_id or 0, ""),
                           updated_by=emails.get(item.updated_by_id or 0, "")), (error.status if error else 200)


@bp.route("/evidence/<int:evidence_id>/file")
@login_required
def evidence_file(evidence_id: int):
    return files.download(queries.item(db.session, evidence_id))


def _form_values(item: EvidenceItem | None) -> dict:
    if request.method == "POST":
        form = request.form
        values = {name: form.get(name, "") for name in
                  ("kind", "title", "authors", "agency", "published_on", "link", "key_findings", "key_findings_sw")}
        values.update({name: form.getlist(name) for name in ("indicators", "nodes", "questions")})
        values["meeting_id"] = form.get("meeting_id", "").strip()
        return values
    if item is None:  # a link may choose the kind, links and meeting (a meeting's page: "Add its record")
        chosen = {name: [c for c in request.args.getlist(name) if c] for name in ("indicators", "nodes", "questions")}
        return {"kind": request.args.get("kind") if request.args.get("kind") in EVIDENCE_KINDS else "evaluation",
                "title": "", "authors": "", "agency": "", "published_on": "", "link": "", "key_findings": "",
                "key_findings_sw": "", "meeting_id": request.args.get("meeting_id", "").strip(), **chosen}
    return {"kind": item.kind, "title": item.title, "authors": item.authors, "agency": item.agency,
            "published_on": item.published_on.isoformat() if item.published_on else "", "link": item.link,
            "key_findings": item.key_findings, "key_findings_sw": item.key_findings_sw,
            "indicators": [i.code for i in item.indicators], "nodes": [n.code for n in item.nodes],
            "questions": [q.code for q in item.questions], "meeting_id": str(item.meeting_id or "")}


def _checked_upload():
    """The PDF sent with the form, checked (None when no file was chosen); ValidationFailed if refused."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    limit = files.max_bytes(current_app.config)
    return files.check_pdf(upload.read(limit + 1), upload.filename, limit)


def _evidence_form(item: EvidenceItem | None):
    user = authenticated_user()
    operations.require_keeper(user, "add_item" if item is None else "change_item")
    session = db.session
    values = _form_values(item)
    error = None
    if request.method == "POST":
        try:
            upload, refused = None, None
            try:
                upload = _checked_upload()
            except ValidationFailed as problem:
                refused = problem
            if refused is not None:  # the fields' own problems are listed with the file's
                try:
                    operations.validate_item(session, values)
                except ValidationFailed as problem:
                    raise ValidationFailed(problem.message, problem.details + refused.details) from None
                raise refused
            if item is None:
                created = operations.create_item(session, user, values, upload)
                flash(gettext("Evidence item %(num)s added to the register.", num=created.id), "info")
                return redirect(url_for("learning.evidence_page", evidence_id=created.id))
            changed = operations.update_item(session, user, item, values, upload)
            if changed:
                flash(ngettext("Evidence item %(id)s saved (%(num)s field changed).",
                               "Evidence item %(id)s saved (%(num)s fields changed).", len(changed), id=item.id), "info")
            else:
                flash(gettext("Evidence item %(id)s: nothing changed.", id=item.id), "info")
            return redirect(url_for("learning.evidence_page", evidence_id=item.id))
        except MelError as exc:
            if exc.status in (403, 404):
                raise
            session.rollback()
            error = exc
            if item is not None:
                item = queries.item(session, item.id)
    return render_template("learning/evidence_form.html", item=item, values=values, error=error,
                           problems=_problems(error), limit=files.megabytes(files.max_bytes(current_app.config)),
                           meetings=meeting_queries.choices(session), **_choices()), (error.status if error else 200)


@bp.route("/evidence/new", methods=["GET", "POST"])
@login_required
def evidence_new():
    return _evidence_form(None)


@bp.route("/evidence/<int:evidence_id>/edit", methods=["GET", "POST"])
@login_required
def evidence_edit(evidence_id: int):
    operations.require_keeper(authenticated_user(), "change_item")
    return _evidence_form(queries.item(db.session, evidence_id))


@bp.route("/evidence/<int:evidence_id>/withdraw", methods=["POST"])
@login_required
def evidence_withdraw(evidence_id: int):
    user = authenticated_user()
    operations.require_keeper(user, "withdraw_item")
    session = db.session
    item = queries.item(session, evidence_id)
    reason = request.form.get("reason", "")
    try:
        done = operations.withdraw_item(session, user, item, reason)
    except ValidationFailed as exc:
        session.rollback()
        return _item_page(queries.item(session, evidence_id), exc, reason)
    flash(gettext("Evidence item %(id)s is withdrawn: it stays in the register, marked, and no longer shows on "
                  "indicator pages or in reports.", id=item.id) if done
          else gettext("Evidence item %(id)s was already withdrawn.", id=item.id), "info")
    return redirect(url_for("learning.evidence_page", evidence_id=item.id))


# --------------------------------------------------------------------------- learning questions


@bp.route("/questions")
@login_required
def question_list():
    user = authenticated_user()
    session = db.session
    status = request.args.get("status") if request.args.get("status") in QUESTION_STATUSES else None
    return render_template("learning/questions.html", questions=queries.questions(session, status), status=status,
                           counts=queries.evidence_counts(session), statuses=STATUS_LABELS,
                           can_edit=can_keep_evidence(user))


@bp.route("/questions/<int:question_id>")
@login_required
def question_page(question_id: int):
    user = authenticated_user()
    session = db.session
    question = queries.question(session, question_id)
    evidence = queries.for_question(session, question.id)
    return render_template("learning/question.html", question=question, evidence=evidence, statuses=STATUS_LABELS,
                           kind_labels=KIND_LABELS, can_edit=can_keep_evidence(user))


def _question_form(question: LearningQuestion | None):
    user = authenticated_user()
    operations.require_keeper(user, "add_question" if question is None else "change_question")
    session = db.session
    if request.method == "POST":
        form = request.form
        values = {name: form.get(name, "") for name in ("code", "question", "question_sw", "why", "status", "answer")}
        values["nodes"] = form.getlist("nodes")
    elif question is None:
        values = {"code": operations.next_code(session), "question": "", "question_sw": "", "why": "",
                  "status": "open", "answer": "", "nodes": [c for c in request.args.getlist("nodes") if c]}
    else:
        values = {"code": question.code, "question": question.question, "question_sw": question.question_sw,
                  "why": question.why, "status": question.status, "answer": question.answer,
                  "nodes": [n.code for n in question.nodes]}
    error = None
    if request.method == "POST":
        try:
            if question is None:
                created = operations.create_question(session, user, values)
                flash(gettext("Learning question %(code)s added.", code=created.code), "info")
                return redirect(url_for("learning.question_page", question_id=created.id))
            changed = operations.update_question(session, user, question, values)
            flash(ngettext("%(code)s saved (%(num)s field changed).", "%(code)s saved (%(num)s fields changed).",
                           len(changed), code=question.code) if changed
                  else gettext("%(code)s: nothing changed.", code=question.code), "info")
            return redirect(url_for("learning.question_page", question_id=question.id))
        except MelError as exc:
            if exc.status in (403, 404):
                raise
            session.rollback()
            error = exc
            if question is not None:
                question = queries.question(session, question.id)
    nodes = session.scalars(select(ResultsNode).order_by(ResultsNode.sort_order, ResultsNode.code)).all()
    return render_template("learning/question_form.html", question=question, values=values, error=error,
                           problems=_problems(error), nodes=nodes, statuses=STATUS_LABELS), (error.status if error else 200)


@bp.route("/questions/new", methods=["GET", "POST"])
@login_required
def question_new():
    return _question_form(None)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def question_edit(question_id: int):
    operations.require_keeper(authenticated_user(), "change_question")
    return _question_form(queries.question(db.session, question_id))


def evidence_context(session, indicator) -> dict:
    """What an indicator's reference sheet shows under "What the evidence says" (templates/learning/
    _indicator_evidence.html): the items linked to it, newest first, and whether the reader may add one."""
    return {"evidence": queries.for_indicator(session, indicator.id), "evidence_kinds": KIND_LABELS,
            "can_add_evidence": can_keep_evidence(authenticated_user())}
