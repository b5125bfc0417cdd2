"""Web pages of the secretariat's programme and form administration: create and edit a programme; a
programme's form: its indicators and org units from a quarter on, window and frequency, window
exceptions (URL rules and rendering only; the writes are in programme_admin.py, form_contents.py and
form_admin.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from indicators.periods import PeriodError, PeriodType, parse_period
from mel import clock
from mel.accounts.auth import authenticated_user
from mel.catalogue import form_admin, form_contents, programme_admin, queries
from mel.catalogue.levels import COUNTY
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.errors import ErrorDetail, MelError, ValidationFailed
from mel.i18n import day, period_words, said
from mel.returns.workflow import window_for

bp = Blueprint("form_admin", __name__, url_prefix="/catalogue")

FORM_FIELDS = ("frequency", "opens_days", "due_days", "closes_days", "from_period", "reason")
EXCEPTION_FIELDS = ("org_unit", "period", "closes_on", "reason")
PROGRAMME_FIELDS = ("code", "name", "pillar", "agency", "level", "notes", "name_sw", "notes_sw", "from_period", "reason")


def _shown_quarter(current):
    """The quarter whose form the page shows (?quarter=2026Q4), the one being reported by default."""
    raw = request.args.get("quarter", "")
    try:
        shown = parse_period(raw) if raw else current
    except (PeriodError, ValueError):
        return current
    return shown if shown.type is PeriodType.QUARTER else current


def _contents_rows(session, form, shown: str, entered: dict | None) -> list[dict]:
    """Every indicator of the catalogue as a row of the contents table: on the form (in order) first."""
    items = {item.indicator.code: (position, item.is_required) for position, item in enumerate(form.items_in(shown))}
    if entered is not None:  # a refused change: show what was typed
        items = {code: (entered["order"].get(code, ""), code in entered["required"]) for code in entered["codes"]}
    rows = []
    for _, indicator in sorted(load_catalogue(session).indicators.items()):
        on = indicator.code in items
        if not on and not indicator.is_active:
            continue
        position, required = items.get(indicator.code, ("", True))
        rows.append({"indicator": indicator, "on": on, "required": bool(required),
                     "order": (position + 1) if isinstance(position, int) else position})
    return sorted(rows, key=lambda r: (not r["on"], _number(r["order"]) if r["on"] else 0, r["indicator"].code))


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("inf")


def _form_page(code: str, *, error: MelError | None = None, entered: dict | None = None,
               section: str = "window"):
    session = db.session
    form = form_admin.form_of(session, code)
    quarter = clock.reporting_quarter()
    shown = _shown_quarter(quarter)
    exceptions = [(g, parse_period(g.period).label,
                   window_for(form, g.period).closes) for g in form.window_exceptions]
    contents_entered = entered if section == "contents" else None
    window_entered = entered if section == "window" and entered else None
    window_from = max(shown.id, quarter.id)
    return render_template(
        "catalogue/form_edit.html", form=form, programme=form.programme, error=error, section=section,
        entered=entered or {}, frequencies=form_admin.FORM_FREQUENCIES, exceptions=exceptions,
        quarter=quarter, example=window_for(form, quarter.id), shown=shown,
        asked_items=form.items_in(shown.id), asked_units=form.org_units_in(shown.id),
        exception_units=form.org_units_in(quarter.id), versions=form_contents.versions(form),
        contents_rows=_contents_rows(session, form, shown.id, contents_entered),
        all_units=queries.org_units(session, max_level=COUNTY),
        chosen_units=set(contents_entered["org_units"]) if contents_entered else
        {u.code for u in form.org_units_in(shown.id)},
        deeper_units=contents_entered["deeper_units"] if contents_entered else
        ", ".join(u.code for u in form.org_units_in(shown.id) if u.level > COUNTY),
        from_period=(contents_entered or {}).get("from_period") or max(shown.id, quarter.id),
        window_values=window_entered or {**form_admin.form_settings(form, window_from), "from_period": window_from},
        window_versions=form_admin.window_versions(form),
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
    quarter = form_admin.window_quarter(entered["from_period"], [])
    assert quarter is not None  # save_window accepted it
    opens, due, closes = form.window_days_in(quarter.id)
    flash(gettext("From %(quarter)s on the window of %(form)s opens %(opens)s, falls due %(due)s and closes "
                  "%(closes)s days after each quarter; earlier quarters keep their window.",
                  quarter=period_words(quarter), form=form.code, opens=opens, due=due, closes=closes), "info")
    return redirect(url_for("form_admin.form_edit", code=code, quarter=quarter.id) + "#window")


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
    flash(gettext("%(unit)s may send its %(quarter)s return until %(date)s.", unit=granted.org_unit.name,
                  quarter=period_words(parse_period(granted.period)), date=day(granted.closes_on)), "info")
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
    flash(gettext("The exception for %(unit)s, %(quarter)s is removed: its return closes with the form's window "
                  "again.", unit=granted.org_unit.name, quarter=period_words(parse_period(granted.period))), "info")
    return redirect(url_for("form_admin.form_edit", code=code) + "#exceptions")


def _entered_contents() -> dict:
    """The contents form as typed: ticked indicators with their order numbers, required ones, org units."""
    codes = request.form.getlist("indicator")
    return {"codes": codes, "order": {c: request.form.get(f"order.{c}", "").strip() for c in codes},
            "required": set(request.form.getlist("required")),
            "org_units": request.form.getlist("org_units") + _codes(request.form.get("deeper_units", "")),
            "deeper_units": request.form.get("deeper_units", ""),
            "from_period": request.form.get("from_period", ""), "reason": request.form.get("reason", "")}


def _codes(typed: str) -> list[str]:
    """Codes or names typed in a box, separated by commas, semicolons or new lines."""
    return [part.strip() for part in typed.replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def _contents_values(entered: dict) -> dict:
    """The change for form_contents.save_contents: indicators in the order typed, org units ticked."""
    problems = []
    for code, text in entered["order"].items():
        if text and _number(text) == float("inf"):
            problems.append(ErrorDetail(gettext("order.%(code)s: %(text)s is not a number; give the indicator's place on "
                                                "the form (1, 2, 3 …).", code=code, text=repr(text)),
                                        {"field": f"order.{code}", "indicator": code}))
    if problems:
        raise ValidationFailed(gettext("The indicators and org units were not saved."), problems)
    ordered = sorted(enumerate(entered["codes"]), key=lambda pair: (_number(entered["order"][pair[1]]), pair[0]))
    return {"from_period": entered["from_period"], "reason": entered["reason"],
            "indicators": [{"indicator": code, "required": code in entered["required"]} for _, code in ordered],
            "org_units": entered["org_units"]}


@bp.route("/programmes/<code>/form/contents", methods=["POST"])
@login_required
def form_contents_save(code: str):
    user = authenticated_user()
    form_admin.require_admin(user, "changes reporting forms")
    entered = _entered_contents()
    try:
        form = form_contents.save_contents(db.session, user, code, _contents_values(entered))
    except MelError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _form_page(code, error=exc, entered=entered, section="contents")
    quarter = parse_period(entered["from_period"].strip())
    flash(gettext("From %(quarter)s on the %(form)s form asks for %(indicators)s indicators of %(units)s org units; "
                  "earlier quarters keep their form.", quarter=period_words(quarter), form=form.code,
                  indicators=len(form.items_in(quarter.id)), units=len(form.org_units_in(quarter.id))), "info")
    return redirect(url_for("form_admin.form_edit", code=code, quarter=quarter.id) + "#contents")


def _programme_page(programme=None, *, error: MelError | None = None, entered: dict | None = None):
    session = db.session
    quarter = clock.reporting_quarter()
    if entered is None:
        entered = ({name: "" for name in PROGRAMME_FIELDS} | {"level": "national", "org_units": []}
                   if programme is None else
                   {"code": programme.code, "name": programme.name, "pillar": programme.pillar.code,
                    "agency": programme.agency, "level": programme.level, "notes": programme.notes or "",
                    "name_sw": programme.name_sw or "", "notes_sw": programme.notes_sw or "",
                    "org_units": [u.code for u in programme.org_units], "reason": ""})
        entered["from_period"] = quarter.id
    problems: dict[str, list[str]] = {}
    for detail in getattr(error, "details", None) or []:
        field = str(detail.location.get("field", "")).split("[")[0]
        problems.setdefault(field, []).append(said(detail.message))  # in the page's language
    return render_template(
        "catalogue/programme_form.html", programme=programme, values=entered, error=error, problems=problems,
        pillars=queries.pillars(session), levels=form_admin.PROGRAMME_LEVELS, level_words=programme_admin.LEVEL_WORDS,
        units=queries.org_units(session, max_level=COUNTY), quarter=quarter,
    ), (error.status if error else 200)


def _entered_programme() -> dict:
    entered = {name: request.form.get(name, "") for name in PROGRAMME_FIELDS}
    entered["org_units"] = request.form.getlist("org_units")
    return entered


@bp.route("/programmes/new", methods=["GET", "POST"])
@login_required
def programme_new():
    user = authenticated_user()
    form_admin.require_admin(user, "creates programmes")
    if request.method == "GET":
        return _programme_page()
    entered = _entered_programme()
    try:
        created = programme_admin.create_programme(db.session, user, entered)
    except MelError as exc:
        db.session.rollback()
        return _programme_page(error=exc, entered=entered)
    flash(ngettext("Programme %(code)s is created. Its form asks returns of %(num)s org unit from %(quarter)s on: "
                   "add its indicators below.",
                   "Programme %(code)s is created. Its form asks returns of %(num)s org units from %(quarter)s on: "
                   "add its indicators below.", len(created.org_units), code=created.code,
                   quarter=period_words(parse_period(entered["from_period"].strip()))), "info")
    return redirect(url_for("form_admin.form_edit", code=created.code) + "#contents")


@bp.route("/programmes/<code>/edit", methods=["GET", "POST"])
@login_required
def programme_edit(code: str):
    user = authenticated_user()
    form_admin.require_admin(user, "changes programmes")
    programme = queries.programme(db.session, code)
    if request.method == "GET":
        return _programme_page(programme)
    entered = _entered_programme()
    values = {name: entered[name] for name in PROGRAMME_FIELDS if name != "code"} | {"org_units": entered["org_units"]}
    try:
        changed = programme_admin.update_programme(db.session, user, programme.code, values)
    except MelError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _programme_page(queries.programme(db.session, code), error=exc, entered={**entered, "code": programme.code})
    flash(gettext("Programme %(code)s is saved.", code=changed.code), "info")
    return redirect(url_for("catalogue.programme_detail", code=changed.code))
