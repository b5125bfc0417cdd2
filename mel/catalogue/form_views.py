"""Web pages of the secretariat's form administration: a programme's form window and frequency, and
its window exceptions (URL rules and rendering only; the writes are in form_admin.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from indicators.periods import parse_period
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.catalogue import form_admin
from mel.db import db
from mel.errors import MelError
from mel.returns.workflow import window_for

bp = Blueprint("form_admin", __name__, url_prefix="/catalogue")

FORM_FIELDS = ("frequency", "opens_days", "due_days", "closes_days", "reason")
EXCEPTION_FIELDS = ("org_unit", "period", "closes_on", "reason")


def _form_page(code: str, *, error: MelError | None = None, entered: dict | None = None,
               section: str = "window"):
    session = db.session
    form = form_admin.form_of(session, code)
    quarter = clock.reporting_quarter()
    exceptions = [(g, parse_period(g.period).label,
                   window_for(form, g.period).closes) for g in form.window_exceptions]
    return render_template(
        "catalogue/form_edit.html", form=form, programme=form.programme, error=error, section=section,
        entered=entered or {}, frequencies=form_admin.FORM_FREQUENCIES, exceptions=exceptions,
        quarter=quarter, example=window_for(form, quarter.id),
        window_values=entered if section == "window" and entered else form_admin.form_settings(form),
    ), (error.status if error else 200)


@bp.route("/programmes/<code>/form", methods=["GET", "POST"])
@login_required
def form_edit(code: str):
    user = authenticated_user()
    form_admin.require_admin(user, "changes reporting forms")
    if request.method == "GET":
        return _form_page(code)
    entered = {name: request.form.get(name, "") for name in FORM_FIELDS}
    try:
        form = form_admin.save_window(db.session, user, code, entered)
    except MelError as exc:
        db.session.rollback()
        return _form_page(code, error=exc, entered=entered)
    flash(f"The window of {form.code} is saved: it opens {form.opens_days}, falls due {form.due_days} and "
          f"closes {form.closes_days} days after each quarter.", "info")
    return redirect(url_for("form_admin.form_edit", code=code))


@bp.route("/programmes/<code>/form/exceptions", methods=["POST"])
@login_required
def exception_add(code: str):
    user = authenticated_user()
    form_admin.require_admin(user, "grants window exceptions")
    entered = {name: request.form.get(name, "") for name in EXCEPTION_FIELDS}
    try:
        granted = form_admin.add_window_exception(db.session, user, code, entered)
    except MelError as exc:
        db.session.rollback()
        return _form_page(code, error=exc, entered=entered, section="exception")
    flash(f"{granted.org_unit.name} may send its {parse_period(granted.period).label} return until "
          f"{granted.closes_on:%d %B %Y}.", "info")
    return redirect(url_for("form_admin.form_edit", code=code) + "#exceptions")


@bp.route("/programmes/<code>/form/exceptions/<int:exception_id>/remove", methods=["POST"])
@login_required
def exception_remove(code: str, exception_id: int):
    user = authenticated_user()
    form_admin.require_admin(user, "removes window exceptions")
    try:
        granted = form_admin.remove_window_exception(db.session, user, code, exception_id,
                                                     request.form.get("reason", ""))
    except MelError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _form_page(code, error=exc, section="exceptions")
    flash(f"The exception for {granted.org_unit.name}, {parse_period(granted.period).label} is removed: its "
          "return closes with the form's window again.", "info")
    return redirect(url_for("form_admin.form_edit", code=code) + "#exceptions")
