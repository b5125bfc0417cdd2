"""Web pages of disaggregations: every signed-in user reads the categories, options, sets and their
combinations; the secretariat creates and changes them (URL rules, parsing and rendering only; the
writes and their checks are in disaggregation_admin.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from indicators.disaggregation import MAX_CATEGORIES
from indicators.messages import N_, message, text
from mel.accounts import audit
from mel.accounts.auth import authenticated_user
from mel.catalogue import disaggregation_admin as admin
from mel.catalogue import disaggregation_combos as combos
from mel.catalogue.form_admin import require_admin
from mel.catalogue.models import DisaggregationCategory, DisaggregationSet
from mel.db import db
from mel.errors import ErrorDetail, MelError, ValidationFailed
from mel.i18n import said

bp = Blueprint("disaggregations", __name__, url_prefix="/catalogue/disaggregations")

WHAT = "keeps the disaggregations"


def _problems(error: MelError | None) -> dict[str, list[str]]:
    """Each field's problems, said in the page's language."""
    found: dict[str, list[str]] = {}
    for detail in getattr(error, "details", []) or []:
        field = str(detail.location.get("field", ""))
        # One option's problem shows at the options list (options.2.code → options).
        found.setdefault("options" if field.startswith("options") else field, []).append(said(detail.message))
    return found


@bp.route("")
@login_required
def overview():
    session = db.session
    shown = combos.overview(session)
    named = ([row["set"] for row in shown["sets"]] + [row["category"] for row in shown["categories"]]
             + [option for row in shown["categories"] for option in row["options"]])
    return render_template("catalogue/disaggregations.html", **shown, named=named)


# --------------------------------------------------------------------------- categories


def _options_text(text: str) -> list[dict]:
    """`F, Female` per line → [{code, name}] (the name after the first comma)."""
    options = []
    for line in str(text or "").splitlines():
        if line.strip():
            code, _, name = line.partition(",")
            options.append({"code": code.strip(), "name": name.strip()})
    return options


@bp.route("/categories/new", methods=["GET", "POST"])
@login_required
def category_new():
    user = authenticated_user()
    require_admin(user, WHAT)
    values = {name: request.form.get(name, "") for name in ("code", "name", "name_sw", "options", "reason")}
    error = None
    if request.method == "POST":
        session = db.session
        try:
            category = admin.create_category(session, user, {**values, "options": _options_text(values["options"])},
                                             values["reason"])
        except MelError as exc:
            session.rollback()
            error = exc
        else:
            flash(gettext("Category %(code)s created. Add it to a set to cross it into combinations.",
                          code=category.code), "info")
            return redirect(url_for("disaggregations.category_page", code=category.code))
    return render_template("catalogue/disaggregation_category_new.html", values=values, error=error,
                           problems=_problems(error)), (error.status if error else 200)


def _category_page(code: str, *, error: MelError | None = None, entered: dict | None = None):
    session = db.session
    category = combos.find_category(session, code)
    return render_template(
        "catalogue/disaggregation_category.html", category=category, **combos.category_view(session, category),
        error=error, problems=_problems(error), entered=entered or {},
        events=admin.history(session, admin.CATEGORY, category.code), actions=audit.ACTIONS, changes=audit.changes,
    ), (error.status if error else 200)


@bp.route("/categories/<code>", methods=["GET"])
@login_required
def category_page(code: str):
    return _category_page(code)


def _ordered_options(category: DisaggregationCategory) -> list[dict]:
    """The options of the edit form in the order asked: each row's position (ties keep the stored
    order), the new option at its position (default last)."""
    stored = combos.options_of(db.session, category.id)
    problems: list[ErrorDetail] = []
    rows = []
    for index, option in enumerate(stored):
        raw = request.form.get(f"position.{option.code}", "").strip()
        try:
            position = int(raw) if raw else index + 1
        except ValueError:
            problems.append(ErrorDetail(text(message(N_("position of %(code)s: %(text)s is not a whole number."),
                                                     code=option.code, text=repr(raw[:20]))),
                                        {"field": f"position.{option.code}"}))
            position = index + 1
        rows.append((position, index, {"code": option.code,
                                       "name": request.form.get(f"name.{option.code}", option.name),
                                       "name_sw": request.form.get(f"name_sw.{option.code}")}))
    new_code = request.form.get("new.code", "").strip()
    if new_code or request.form.get("new.name", "").strip():
        raw = request.form.get("new.position", "").strip()
        try:
            position = int(raw) if raw else len(stored) + 1
        except ValueError:
            problems.append(ErrorDetail(text(message(N_("position of the new option: %(text)s is not a whole number."),
                                                     text=repr(raw[:20]))),
                                        {"field": "new.position"}))
            position = len(stored) + 1
        # Given a position, the new option goes before the one that held it.
        rows.append((position, -1 if raw else len(stored), {"code": new_code, "name": request.form.get("new.name", ""),
                                                             "name_sw": request.form.get("new.name_sw", "")}))
    if problems:
        raise ValidationFailed(text(message(N_("The category %(code)s was not saved: correct the fields below."),
                                            code=category.code)), problems)
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]


@bp.route("/categories/<code>", methods=["POST"])
@login_required
def category_save(code: str):
    user = authenticated_user()
    require_admin(user, WHAT)
    session = db.session
    category = combos.find_category(session, code)
    entered = request.form.to_dict()
    try:
        changed = admin.change_category(session, user, category.code,
                                        {"name": request.form.get("name", category.name),
                                         "name_sw": request.form.get("name_sw", category.name_sw),
                                         "options": _ordered_options(category)}, request.form.get("reason"))
    except MelError as exc:
        session.rollback()
        return _category_page(code, error=exc, entered=entered)
    flash(ngettext("Category %(code)s saved (%(num)s change).", "Category %(code)s saved (%(num)s changes).", changed,
                   code=category.code) if changed
          else gettext("Category %(code)s: nothing changed.", code=category.code), "info")
    return redirect(url_for("disaggregations.category_page", code=category.code))


def _option_action(code: str, option: str, action: str):
    user = authenticated_user()
    require_admin(user, WHAT)
    session = db.session
    category = combos.find_category(session, code)
    reason = request.form.get("reason")
    try:
        if action == "delete":
            admin.delete_option(session, user, category.code, option, reason)
            message = gettext("Option %(option)s deleted from %(category)s.", option=option, category=category.code)
        else:
            done = admin.set_option_active(session, user, category.code, option, action == "reactivate", reason)
            if action == "reactivate":
                message = (gettext("Option %(option)s reactivated: its figures stay and show in reports; it takes "
                                   "figures again.", option=option) if done
                           else gettext("Option %(option)s was already active.", option=option))
            else:
                message = (gettext("Option %(option)s retired: its figures stay and show in reports, and it takes "
                                   "no new ones.", option=option) if done
                           else gettext("Option %(option)s was already retired.", option=option))
    except MelError as exc:
        if exc.status == 404:
            raise
        session.rollback()
        return _category_page(code, error=exc, entered={"option": option})
    flash(message, "info")
    return redirect(url_for("disaggregations.category_page", code=category.code))


@bp.route("/categories/<code>/options/<option>/retire", methods=["POST"])
@login_required
def option_retire(code: str, option: str):
    return _option_action(code, option, "retire")


@bp.route("/categories/<code>/options/<option>/reactivate", methods=["POST"])
@login_required
def option_reactivate(code: str, option: str):
    return _option_action(code, option, "reactivate")


@bp.route("/categories/<code>/options/<option>/delete", methods=["POST"])
@login_required
def option_delete(code: str, option: str):
    return _option_action(code, option, "delete")


@bp.route("/categories/<code>/delete", methods=["POST"])
@login_required
def category_delete(code: str):
    user = authenticated_user()
    require_admin(user, WHAT)
    session = db.session
    category = combos.find_category(session, code)
    try:
        admin.delete_category(session, user, category.code, request.form.get("reason"))
    except MelError as exc:
        session.rollback()
        return _category_page(code, error=exc, entered={"delete": "1"})
    flash(gettext("Category %(code)s deleted.", code=code), "info")
    return redirect(url_for("disaggregations.overview"))


# --------------------------------------------------------------------------- sets


def _set_form(session, dset: DisaggregationSet | None, *, error: MelError | None = None, values: dict | None = None):
    chosen = [c.code for c in combos.categories_of(session, dset.id)] if dset is not None else []
    values = values or {"code": dset.code if dset else "", "name": dset.name if dset else "",
                        "name_sw": (dset.name_sw or "") if dset else "", "categories": chosen, "reason": ""}
    context = combos.set_view(session, dset) if dset is not None else {}
    return render_template(
        "catalogue/disaggregation_set.html", dset=dset, values=values, error=error, problems=_problems(error),
        all_categories=combos.all_categories(session), slots=MAX_CATEGORIES, **context,
        events=admin.history(session, admin.SET, dset.code) if dset else [], actions=audit.ACTIONS,
        changes=audit.changes,
    ), (error.status if error else 200)


def _set_values() -> dict:
    return {"code": request.form.get("code", ""), "name": request.form.get("name", ""),
            "name_sw": request.form.get("name_sw", ""),
            "categories": [request.form.get(f"category.{n}", "") for n in range(1, MAX_CATEGORIES + 1)],
            "reason": request.form.get("reason", "")}


@bp.route("/sets/new", methods=["GET", "POST"])
@login_required
def set_new():
    user = authenticated_user()
    require_admin(user, WHAT)
    session = db.session
    if request.method == "GET":
        return _set_form(session, None)
    values = _set_values()
    try:
        dset = admin.create_set(session, user, {**values, "categories": [c for c in values["categories"] if c]},
                                values["reason"])
    except MelError as exc:
        session.rollback()
        return _set_form(session, None, error=exc, values=values)
    flash(gettext("Set %(code)s created with its combinations.", code=dset.code), "info")
    return redirect(url_for("disaggregations.set_page", code=dset.code))


@bp.route("/sets/<code>", methods=["GET"])
@login_required
def set_page(code: str):
    session = db.session
    return _set_form(session, combos.find_set(session, code))


@bp.route("/sets/<code>", methods=["POST"])
@login_required
def set_save(code: str):
    user = authenticated_user()
    require_admin(user, WHAT)
    session = db.session
    dset = combos.find_set(session, code)
    values = {**_set_values(), "code": dset.code}
    try:
        chosen = [c for c in values["categories"] if c]
        changed = admin.change_set(session, user, dset.code, {
            "name": values["name"], "name_sw": values["name_sw"],
            "categories": None if dset.code == admin.DEFAULT_SET else chosen},
            values["reason"])
    except MelError as exc:
        session.rollback()
        return _set_form(session, combos.find_set(session, code), error=exc, values=values)
    flash(gettext("Set %(code)s saved.", code=dset.code) if changed
          else gettext("Set %(code)s: nothing changed.", code=dset.code), "info")
    return redirect(url_for("disaggregations.set_page", code=dset.code))


@bp.route("/sets/<code>/delete", methods=["POST"])
@login_required
def set_delete(code: str):
    user = authenticated_user()
    require_admin(user, WHAT)
    session = db.session
    dset = combos.find_set(session, code)
    try:
        admin.delete_set(session, user, dset.code, request.form.get("reason"))
    except MelError as exc:
        session.rollback()
        return _set_form(session, combos.find_set(session, code), error=exc)
    flash(gettext("Set %(code)s deleted.", code=code), "info")
    return redirect(url_for("disaggregations.overview"))
