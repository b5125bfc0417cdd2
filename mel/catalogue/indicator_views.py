"""Web pages of the indicator editor: new, edit, retire, reactivate (secretariat), and the versions of a
reference sheet (every signed-in user). URL rules and rendering only; the writes are in indicator_admin.py."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required
from sqlalchemy import select

from mel.accounts.auth import authenticated_user
from mel.catalogue import indicator_admin
from mel.catalogue.form_admin import require_admin
from mel.catalogue.models import (
    DIRECTIONS,
    FREQUENCIES,
    LEVELS,
    MEASURES,
    TIME_AGGREGATIONS,
    DisaggregationSet,
    Indicator,
    Pillar,
)
from mel.db import db
from mel.errors import MelError
from mel.i18n import said
from mel.scopes import can_administer

bp = Blueprint("indicator_admin", __name__, url_prefix="/catalogue/indicators")

NEW_DEFAULTS = {"level": "output", "unit": "number", "measure": "count", "time_aggregation": "sum",
                "is_additive_across_programmes": "true", "disaggregation": "none", "direction": "increase",
                "frequency": "quarterly", "factor": ""}


def _choices() -> dict:
    session = db.session
    return {
        "pillars": session.execute(select(Pillar.code, Pillar.name).order_by(Pillar.sort_order)).all(),
        "sets": session.execute(select(DisaggregationSet.code, DisaggregationSet.name)
                                .order_by(DisaggregationSet.code)).all(),
        "levels": LEVELS, "units": indicator_admin.UNITS, "measures": MEASURES,
        "aggregations": TIME_AGGREGATIONS, "directions": DIRECTIONS, "frequencies": FREQUENCIES,
        "labels": _labels(),
        "locked_words": gettext("%(first)s and %(last)s",
                                first=", ".join(_labels()[n].lower() for n in indicator_admin.LOCKED[:-1]),
                                last=_labels()[indicator_admin.LOCKED[-1]].lower()),
    }


def _labels() -> dict[str, str]:
    """The reference sheet's field labels in the page's language."""
    return {name: gettext(label) for name, label in indicator_admin.LABELS.items()}


def _problems(error: MelError | None) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for detail in getattr(error, "details", []):
        problems.setdefault(detail.location.get("field", ""), []).append(said(detail.message))
    return problems


def _form(indicator: Indicator | None):
    """The editor: every field of the reference sheet; saving a change keeps a new version with the reason."""
    user = authenticated_user()
    require_admin(user, "edits indicators")
    session = db.session
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in
                  ("code", *indicator_admin.FIELDS, *indicator_admin.TRANSLATION_FIELDS, "reason")}
    elif indicator is None:
        values = {"code": "", **dict.fromkeys((*indicator_admin.FIELDS, *indicator_admin.TRANSLATION_FIELDS), ""),
                  **NEW_DEFAULTS, "reason": ""}
    else:
        values = {"code": indicator.code, **indicator_admin.form_values(session, indicator), "reason": ""}
    error = None
    if request.method == "POST":
        try:
            if indicator is None:
                created = indicator_admin.create_indicator(session, user, values, values["reason"])
                flash(gettext("Indicator %(code)s created (version 1). Add it to the reporting forms that should "
                              "ask for it, and attach it to the results framework.", code=created.code), "info")
                return redirect(url_for("catalogue.indicator_sheet", code=created.code))
            code = indicator.code
            version = indicator.version
            changed = indicator_admin.change_indicator(session, user, code, values, values["reason"])
            if changed and indicator_admin.find(session, code).version == version:
                flash(gettext("%(code)s: the Kiswahili text is saved; the reference sheet stays at version %(version)s.",
                        code=code, version=version), "info")
            elif changed:
                flash(ngettext("%(code)s saved as version %(version)s (%(num)s field changed); the earlier versions "
                               "stay readable.",
                               "%(code)s saved as version %(version)s (%(num)s fields changed); the earlier versions "
                               "stay readable.", changed, code=code,
                               version=indicator_admin.find(session, code).version), "info")
            else:
                flash(gettext("%(code)s: nothing changed, so no new version.", code=code), "info")
            return redirect(url_for("catalogue.indicator_sheet", code=code))
        except MelError as exc:
            if exc.status == 404:
                raise
            session.rollback()
            error = exc
            if indicator is not None:
                indicator = indicator_admin.find(session, indicator.code)
    figures = indicator_admin.figures_count(session, indicator.id) if indicator is not None else 0
    return render_template("catalogue/indicator_form.html", indicator=indicator, values=values, error=error,
                           problems=_problems(error), figures=figures, locked=indicator_admin.LOCKED,
                           **_choices()), (error.status if error else 200)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def indicator_new():
    return _form(None)


@bp.route("/<code>/edit", methods=["GET", "POST"])
@login_required
def indicator_edit(code: str):
    require_admin(authenticated_user(), "edits indicators")
    return _form(indicator_admin.find(db.session, code))


def _status_change(code: str, active: bool):
    user = authenticated_user()
    require_admin(user, "retires and reactivates indicators")
    session = db.session
    indicator = indicator_admin.find(session, code)
    code = indicator.code
    reason = request.form.get("reason", "")
    try:
        if active:
            done = indicator_admin.reactivate_indicator(session, user, code, reason)
        else:
            done = indicator_admin.retire_indicator(session, user, code, reason, request.form.get("replaced_by"))
    except MelError as exc:
        if exc.status == 404:
            raise
        session.rollback()
        indicator = indicator_admin.find(session, code)
        values = {"code": code, **indicator_admin.form_values(session, indicator), "reason": "",
                  "status_reason": reason, "replaced_by": request.form.get("replaced_by", "")}
        return render_template("catalogue/indicator_form.html", indicator=indicator, values=values, error=exc,
                               problems=_problems(exc), figures=indicator_admin.figures_count(session, indicator.id),
                               locked=indicator_admin.LOCKED, **_choices()), exc.status
    indicator = indicator_admin.find(session, code)
    if not done:
        flash(gettext("%(code)s was already active.", code=code) if active
              else gettext("%(code)s was already retired so.", code=code), "info")
    elif active:
        flash(gettext("%(code)s is active again (version %(version)s).", code=code, version=indicator.version), "info")
    else:
        flash(gettext("%(code)s is retired (version %(version)s); its figures stay in results and reports.", code=code,
                      version=indicator.version), "info")
    return redirect(url_for("catalogue.indicator_sheet", code=code))


@bp.route("/<code>/retire", methods=["POST"])
@login_required
def indicator_retire(code: str):
    return _status_change(code, False)


@bp.route("/<code>/reactivate", methods=["POST"])
@login_required
def indicator_reactivate(code: str):
    return _status_change(code, True)


@bp.route("/<code>/versions")
@login_required
def indicator_versions(code: str):
    session = db.session
    indicator = indicator_admin.find(session, code)
    found = indicator_admin.versions(session, indicator.code)
    older = {v.version: v.fields for v in found}
    rows = [(v, [(label, said(before), said(after))
                 for label, before, after in indicator_admin.changed_fields(older.get(v.version - 1), v.fields)])
            for v in found]
    return render_template("catalogue/indicator_versions.html", indicator=indicator, rows=rows,
                           show_authors=can_administer(authenticated_user()))


@bp.route("/<code>/versions/<int:number>")
@login_required
def indicator_version(code: str, number: int):
    session = db.session
    indicator = indicator_admin.find(session, code)
    kept = indicator_admin.version(session, indicator.code, number)
    names = {"pillar": dict(session.execute(select(Pillar.code, Pillar.name)).all()),
             "disaggregation": dict(session.execute(select(DisaggregationSet.code, DisaggregationSet.name)).all())}
    return render_template("catalogue/indicator_version.html", indicator=indicator, kept=kept, fields=kept.fields,
                           names=names, labels=_labels(),
                           show_authors=can_administer(authenticated_user()))
