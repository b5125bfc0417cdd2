"""Web pages of validation rules (secretariat): list, create, edit with "try it", retire, reactivate, history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from indicators.expressions import OPERATORS
from indicators.messages import Message
from indicators.messages import text as as_text
from indicators.validation import OPERATOR_WORDS
from mel.accounts import audit
from mel.accounts.auth import authenticated_user
from mel.catalogue import rule_admin
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import IMPORTANCES, MISSING_STRATEGIES, SEVERITIES, ValidationRule
from mel.db import db
from mel.errors import Forbidden, ValidationFailed
from mel.i18n import N_, said
from mel.scopes import can_administer

bp = Blueprint("rules", __name__, url_prefix="/catalogue/validation-rules")

STRATEGY_WORDS = {
    "skip_if_any_missing": N_("Skip the return when any figure of the rule is missing"),
    "skip_if_all_missing": N_("Skip only when all are missing (the others count as 0)"),
    "never_skip": N_("Never skip (missing figures count as 0)"),
}


def _secretariat():
    user = authenticated_user()
    if not can_administer(user):
        raise Forbidden(as_text(Message(rule_admin.ONLY_SECRETARIAT)))
    return user


def _choices() -> dict:
    return {"operators": [(o, f"{o} ({gettext(OPERATOR_WORDS[o])})") for o in OPERATORS], "severities": SEVERITIES,
            "importances": IMPORTANCES, "strategies": [(s, gettext(STRATEGY_WORDS[s]) if s in STRATEGY_WORDS else s)
                                                       for s in MISSING_STRATEGIES]}


def _strategy_words() -> dict[str, str]:
    return {s: gettext(words) for s, words in STRATEGY_WORDS.items()}


@bp.route("")
@login_required
def rule_list():
    _secretariat()
    session = db.session
    status = request.args.get("status", "active")
    severity = request.args.get("severity", "")
    catalogue = load_catalogue(session)
    found = rule_admin.rules(session, status=status, severity=severity)
    return render_template("catalogue/rules.html", rules=[(r, _in_words(r, catalogue)) for r in found],
                           status=status if status in ("active", "retired") else "all",
                           severity=severity if severity in SEVERITIES else "", severities=SEVERITIES)


def _in_words(rule: ValidationRule, catalogue) -> str:
    """The rule in words in the page's language (the API keeps them in English)."""
    return said(rule_admin.in_words(rule, catalogue))


def _form_values(rule: ValidationRule | None) -> dict:
    if request.method == "POST":
        return {name: request.form.get(name, "") for name in ("code", *rule_admin.FIELDS, "reason")}
    if rule is None:
        return {"code": "", "name": "", "description": "", "left": "", "operator": "<=", "right": "",
                "severity": "warning", "importance": "medium", "missing_strategy": "skip_if_any_missing",
                "reason": ""}
    return {"code": rule.code, **{name: getattr(rule, name) for name in rule_admin.FIELDS}, "reason": ""}


def _form(rule: ValidationRule | None):
    """The rule form: "Try it" runs the rule as typed on history; "Save" checks it and stores it."""
    user = _secretariat()
    session = db.session
    catalogue = load_catalogue(session)
    values = _form_values(rule)
    error, trial, status = None, None, 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "try":
                _, tried = rule_admin.checked({**values, "name": values["name"] or "Rule tried"}, catalogue)
                trial = rule_admin.try_rule(session, catalogue, tried)
            elif rule is None:
                created = rule_admin.create_rule(session, catalogue, user, values, values.get("reason", ""))
                flash(gettext("Rule %(code)s created: it applies to every save and submission from now on.",
                              code=created.code), "info")
                return redirect(url_for("rules.rule_page", code=created.code))
            else:
                changed = rule_admin.change_rule(session, catalogue, user, rule.code, values, values.get("reason"))
                flash(ngettext("Rule %(code)s saved (%(num)s field changed).", "Rule %(code)s saved (%(num)s fields changed).",
                               changed, code=rule.code)
                      if changed else gettext("Rule %(code)s: nothing changed.", code=rule.code), "info")
                return redirect(url_for("rules.rule_page", code=rule.code))
        except ValidationFailed as exc:
            session.rollback()
            error, status = exc, 422
    problems = {}
    for detail in getattr(error, "details", []):
        problems.setdefault(detail.location.get("field", ""), []).append(said(detail.message))
    return render_template("catalogue/rules_form.html", rule=rule, values=values, error=error, problems=problems,
                           trial=trial, **_choices()), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def rule_new():
    return _form(None)


@bp.route("/<code>/edit", methods=["GET", "POST"])
@login_required
def rule_edit(code: str):
    _secretariat()
    return _form(rule_admin.find(db.session, code))


@bp.route("/<code>")
@login_required
def rule_page(code: str):
    _secretariat()
    session = db.session
    rule = rule_admin.find(session, code)
    return render_template("catalogue/rules_one.html", rule=rule, words=_in_words(rule, load_catalogue(session)),
                           events=rule_admin.history(session, rule.code), actions=audit.ACTIONS,
                           changes=audit.changes, strategy_words=_strategy_words(), error=None), 200


def _set_active(code: str, active: bool):
    user = _secretariat()
    session = db.session
    rule = rule_admin.find(session, code)
    try:
        done = rule_admin.set_active(session, user, rule.code, active, request.form.get("reason"))
    except ValidationFailed as exc:
        session.rollback()
        rule = rule_admin.find(session, code)
        return render_template("catalogue/rules_one.html", rule=rule, words=_in_words(rule, load_catalogue(session)),
                               events=rule_admin.history(session, rule.code), actions=audit.ACTIONS,
                               changes=audit.changes, strategy_words=_strategy_words(), error=exc), 422
    if done:
        flash(gettext("Rule %(code)s reactivated.", code=rule.code) if active
              else gettext("Rule %(code)s retired.", code=rule.code), "info")
    else:
        flash(gettext("Rule %(code)s was already active.", code=rule.code) if active
              else gettext("Rule %(code)s was already retired.", code=rule.code), "info")
    return redirect(url_for("rules.rule_page", code=rule.code))


@bp.route("/<code>/retire", methods=["POST"])
@login_required
def rule_retire(code: str):
    return _set_active(code, False)


@bp.route("/<code>/reactivate", methods=["POST"])
@login_required
def rule_reactivate(code: str):
    return _set_active(code, True)
