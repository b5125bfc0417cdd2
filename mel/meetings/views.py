"""Web pages of MERL TWG meetings: the list, a meeting's record (and its printable minutes), the form
that records or changes one, an action's page and the list of actions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.routing import BuildError

from indicators.messages import message, text
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.catalogue.lookup import load_catalogue
from mel.converters import key_arg
from mel.db import db
from mel.errors import Forbidden, MelError
from mel.i18n import said
from mel.learning.models import EvidenceItem
from mel.meetings import operations, present, queries
from mel.meetings.models import ACTION_STATUSES
from mel.meetings.words import ACTION_STATUS_LABELS, MEETING_STATUS_LABELS
from mel.reporting import actions as report_actions
from mel.scopes import can_keep_evidence, can_record_meetings
from reports.story import quarter_label

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
BLANK_ATTENDEES, BLANK_DECISIONS = 4, 2  # empty rows a form offers for more


def _recorder():
    user = authenticated_user()
    if not can_record_meetings(user):
        raise Forbidden(text(message(operations.RECORDERS_ONLY)))
    return user


def evidence_url(evidence_id: int) -> str | None:
    """The evidence register's page of an item (mel/learning/views.py), where the register is served."""
    try:
        return url_for("learning.evidence_page", evidence_id=evidence_id)
    except BuildError:
        return None


# --------------------------------------------------------------------------- meetings


@bp.route("/")
@login_required
def index():
    session = db.session
    today = clock.today()
    found = queries.meetings(session)
    upcoming = sorted((m for m in found if m.held_on >= today and m.status == "planned"), key=lambda m: m.held_on)
    past = [m for m in found if m not in upcoming]
    return render_template("meetings/index.html", upcoming=upcoming, past=past,
                           counts=queries.action_counts(session, today), statuses=MEETING_STATUS_LABELS,
                           can_record=can_record_meetings(authenticated_user()))


def _meeting_form_state(meeting=None, form=None) -> dict:
    """What the meeting form shows: the meeting's record, or what was typed (a refused form)."""
    if form is not None:
        attendees = [{"user": u, "name": n, "organisation": o, "present": p != "apologies"}
                     for u, n, o, p in zip(form.getlist("att_user"), form.getlist("att_name"),
                                           form.getlist("att_org"), form.getlist("att_present"), strict=False)
                     if u or n or o]
        decisions = [{"number": n, "text": t} for n, t in zip(form.getlist("decision_number"),
                                                              form.getlist("decision_text"), strict=False)
                     if n or t.strip()]
        return {"title": form.get("title", ""), "held_on": form.get("held_on", ""), "venue": form.get("venue", ""),
                "status": form.get("status", "planned"), "period": form.get("period", ""),
                "agenda": form.get("agenda", ""), "minutes": form.get("minutes", ""),
                "attendees": attendees, "decisions": decisions}
    if meeting is None:
        return {"title": "", "held_on": "", "venue": "", "status": "planned", "period": "", "agenda": "",
                "minutes": "", "attendees": [], "decisions": []}
    return {"title": meeting.title, "held_on": meeting.held_on.isoformat(), "venue": meeting.venue,
            "status": meeting.status, "period": meeting.period or "", "agenda": "\n".join(meeting.agenda or []),
            "minutes": meeting.minutes,
            "attendees": [{"user": str(a.user_id or ""), "name": a.name, "organisation": a.organisation,
                           "present": a.present} for a in meeting.attendees],
            "decisions": [{"number": str(d.number), "text": d.text} for d in meeting.decisions]}


def _meeting_input(form) -> dict:
    state = _meeting_form_state(form=form)
    return {**{k: state[k] for k in ("title", "held_on", "venue", "status", "period", "agenda", "minutes")},
            "attendees": state["attendees"],
            "decisions": state["decisions"]}


def _meeting_form(meeting, state: dict, error=None):
    return render_template("meetings/edit.html", meeting=meeting, state=state, error=error,
                           accounts=queries.accounts(db.session), statuses=MEETING_STATUS_LABELS,
                           blank_attendees=BLANK_ATTENDEES, blank_decisions=BLANK_DECISIONS), 422 if error else 200


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_meeting():
    user = _recorder()
    session = db.session
    if request.method == "POST":
        try:
            meeting = operations.create_meeting(session, user, _meeting_input(request.form))
        except MelError as error:
            session.rollback()
            return _meeting_form(None, _meeting_form_state(form=request.form), error)
        flash(_("Meeting recorded: %(title)s.", title=meeting.title), "info")
        return redirect(url_for("meetings.meeting_page", meeting_id=meeting.id))
    return _meeting_form(None, _meeting_form_state())


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit_meeting(meeting_id: int):
    session = db.session
    meeting = operations.get_meeting(session, meeting_id)
    user = _recorder()
    if request.method == "POST":
        try:
            operations.update_meeting(session, user, meeting, _meeting_input(request.form))
        except MelError as error:
            session.rollback()
            return _meeting_form(operations.get_meeting(session, meeting_id), _meeting_form_state(form=request.form),
                                 error)
        flash(_("Meeting saved: %(title)s.", title=meeting.title), "info")
        return redirect(url_for("meetings.meeting_page", meeting_id=meeting.id))
    return _meeting_form(meeting, _meeting_form_state(meeting))


def _choices(session) -> dict:
    """What the action form offers: accounts, report recommendations and evidence items."""
    catalogue = load_catalogue(session)
    recommendations = session.scalars(select(report_actions.ReportAction)
                                      .order_by(report_actions.ReportAction.id.desc()).limit(300)).all()
    evidence = session.execute(select(EvidenceItem.id, EvidenceItem.title).where(EvidenceItem.withdrawn_at.is_(None))
                               .order_by(EvidenceItem.id.desc()).limit(300)).all()
    return {"accounts": queries.accounts(session), "statuses": ACTION_STATUS_LABELS,
            "recommendations": [{"id": r.id, "text": r.text, "raised": quarter_label(r.raised_period, short=True),
                                 "scope": said(report_actions.scope_name(catalogue, r))} for r in recommendations],
            "evidence": [{"id": i, "title": t} for i, t in evidence]}


def _action_state(row: dict | None = None, form=None) -> dict:
    """What the action form shows: the action's values, or what was typed."""
    if form is not None:
        return {"text": form.get("text", ""), "owner": form.get("owner", ""), "due_on": form.get("due_on", ""),
                "status": form.get("status", "open"), "progress": form.get("progress", ""),
                "decision": form.get("decision", ""), "returns": form.get("returns", ""),
                "indicators": form.get("indicators", ""), "recommendations": form.getlist("recommendations"),
                "evidence": form.getlist("evidence")}
    if row is None:
        return {"text": "", "owner": "", "due_on": "", "status": "open", "progress": "", "decision": "",
                "returns": "", "indicators": "", "recommendations": [], "evidence": []}
    return {"text": row["text"], "owner": str(row["owner_id"]), "due_on": row["due_on"].isoformat(),
            "status": row["status"], "progress": row["progress"], "decision": str(row["decision"] or ""),
            "returns": "\n".join(f"{r['programme']}/{r['org_unit']}/{r['period']}" for r in row["returns"]),
            "indicators": ", ".join(i["code"] for i in row["indicators"]),
            "recommendations": [str(r["id"]) for r in row["recommendations"]],
            "evidence": [str(e["id"]) for e in row["evidence"]]}


def _action_input(form, *, full: bool) -> dict:
    raw = {"status": form.get("status", ""), "progress": form.get("progress", "")}
    if full:
        raw |= {"text": form.get("text", ""), "owner": form.get("owner", ""), "due_on": form.get("due_on", ""),
                "decision": form.get("decision", ""), "returns": form.get("returns", ""),
                "indicators": form.get("indicators", ""), "recommendations": form.getlist("recommendations"),
                "evidence": form.getlist("evidence")}
    return raw


def _meeting_view(meeting_id: int, *, action_state: dict | None = None, error=None):
    session = db.session
    user = authenticated_user()
    meeting = operations.get_meeting(session, meeting_id)
    body = present.meeting_body(session, load_catalogue(session), user, meeting, clock.today())
    can_record = can_record_meetings(user)
    return render_template("meetings/meeting.html", meeting=body, can_record=can_record,
                           action_state=action_state or _action_state(), error=error,
                           decisions=[(d["number"], d["text"]) for d in body["decisions"]],
                           choices=_choices(session) if can_record else {}, statuses=MEETING_STATUS_LABELS,
                           action_statuses=ACTION_STATUS_LABELS, evidence_url=evidence_url,
                           can_add_evidence=can_keep_evidence(user)), 422 if error else 200


@bp.route("/<int:meeting_id>")
@login_required
def meeting_page(meeting_id: int):
    return _meeting_view(meeting_id)


@bp.route("/<int:meeting_id>/minutes")
@login_required
def minutes(meeting_id: int):
    session = db.session
    meeting = operations.get_meeting(session, meeting_id)
    body = present.meeting_body(session, load_catalogue(session), authenticated_user(), meeting, clock.today())
    return render_template("meetings/minutes.html", meeting=body, statuses=MEETING_STATUS_LABELS,
                           action_statuses=ACTION_STATUS_LABELS, printed=clock.local_now(), evidence_url=evidence_url)


@bp.route("/<int:meeting_id>/actions", methods=["POST"])
@login_required
def add_action(meeting_id: int):
    session = db.session
    meeting = operations.get_meeting(session, meeting_id)
    user = _recorder()
    try:
        action = operations.create_action(session, load_catalogue(session), user, meeting,
                                          _action_input(request.form, full=True))
    except MelError as error:
        session.rollback()
        return _meeting_view(meeting_id, action_state=_action_state(form=request.form), error=error)
    flash(_("Action %(num)s added.", num=action.id), "info")
    return redirect(url_for("meetings.meeting_page", meeting_id=meeting.id, _anchor=f"action-{action.id}"))


# --------------------------------------------------------------------------- actions


def _plain(value) -> str:
    if value is None or value == "" or value == []:
        return "–"
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _status_words(key: str, value):
    return _(ACTION_STATUS_LABELS[value]) if key == "status" and value in ACTION_STATUS_LABELS else value


def _history(events) -> list[dict]:
    """An action's audit events as the page lists them: who, when, what changed from what to what."""
    rows = []
    for event in events:
        before, after = event.details.get("before") or {}, event.details.get("after") or {}
        rows.append({"at": event.occurred_at, "who": event.actor, "action": event.action,
                     "days": int(event.details.get("days_overdue") or 0),
                     "changes": [(key, _plain(_status_words(key, before.get(key))), _plain(_status_words(key, after.get(key))))
                                 for key in after]})
    return rows


def _action_filters() -> dict:
    args = request.args
    user = authenticated_user()
    found: dict = {}
    owner = args.get("owner", "")
    if owner == "me":
        found["owner_id"] = user.id
    elif args.get("owner", type=key_arg):
        found["owner_id"] = args.get("owner", type=key_arg)
    if args.get("status") in ACTION_STATUSES:
        found["status"] = args["status"]
    if args.get("overdue") in ("1", "true", "on"):
        found["overdue"] = True
    if args.get("meeting", type=key_arg):
        found["meeting_id"] = args.get("meeting", type=key_arg)
    return found


@bp.route("/actions")
@login_required
def action_list():
    session = db.session
    user = authenticated_user()
    today = clock.today()
    filters = _action_filters()
    rows = present.action_rows(session, load_catalogue(session), user, queries.actions(session, today, **filters), today)
    return render_template("meetings/actions.html", actions=rows, filters=filters, owners=queries.owners(session),
                           meetings=queries.meetings(session), statuses=ACTION_STATUS_LABELS, today=today,
                           evidence_url=evidence_url)


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def action_page(action_id: int):
    session = db.session
    user = authenticated_user()
    action = operations.get_action(session, action_id)
    error, state = None, None
    if request.method == "POST":
        if not can_record_meetings(user, action):
            raise Forbidden(text(message(operations.NOT_YOURS)))
        full = can_record_meetings(user)
        try:
            operations.update_action(session, load_catalogue(session), user, action,
                                     _action_input(request.form, full=full))
            flash(_("Action %(num)s saved: %(status)s.", num=action.id,
                    status=_(ACTION_STATUS_LABELS[action.status]).lower()), "info")
            return redirect(url_for("meetings.action_page", action_id=action.id))
        except MelError as exc:
            session.rollback()
            action = operations.get_action(session, action_id)
            error, state = exc, _action_state(form=request.form)
    today = clock.today()
    row = present.action_rows(session, load_catalogue(session), user, [action], today)[0]
    can_record = can_record_meetings(user)
    meeting = operations.get_meeting(session, action.meeting_id)
    return render_template(
        "meetings/action.html", action=row, state=state or _action_state(row), error=error, can_record=can_record,
        is_owner=action.owner_id == user.id, can_update=can_record_meetings(user, action),
        decisions=[(d.number, d.text) for d in meeting.decisions], choices=_choices(session) if can_record else {},
        action_statuses=ACTION_STATUS_LABELS, history=_history(queries.history(session, f"meeting_action {action.id}")),
        evidence_url=evidence_url, today=today), 422 if error else 200

