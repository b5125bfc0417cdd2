"""JSON API of validation rules (secretariat): list, read, create, change, retire or reactivate, try.

The same operations as the web pages (mel/catalogue/rule_admin.py), with the same checks and audit.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, url_for
from flask.views import MethodView

from indicators.expressions import OPERATORS
from mel.accounts.auth import authenticated_user
from mel.api import api_blueprint
from mel.catalogue import rule_admin
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import IMPORTANCES, MISSING_STRATEGIES, SEVERITIES, ValidationRule
from mel.db import db
from mel.errors import Forbidden, ValidationFailed
from mel.scopes import can_administer
from mel.unit_of_work import finish

blp = api_blueprint("rules_api", __name__, "Validation rules: `left operator right` over indicator codes (secretariat).")


def _text(limit: int, description: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=limit), metadata={"description": description}, **kwargs)


class RuleSchema(ma.Schema):
    code = ma.fields.String()
    uid = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    left = ma.fields.String()
    operator = ma.fields.String()
    right = ma.fields.String()
    severity = ma.fields.String()
    importance = ma.fields.String()
    missing_strategy = ma.fields.String()
    is_active = ma.fields.Boolean()
    in_words = ma.fields.String(metadata={"description": "The rule with its indicators by name"})


class RuleQuerySchema(ma.Schema):
    status = ma.fields.String(load_default="all", validate=ma.validate.OneOf(("active", "retired", "all")))
    severity = ma.fields.String(validate=ma.validate.OneOf(SEVERITIES))


class RuleFieldsSchema(ma.Schema):
    """A rule's fields; each is checked by the operation (located errors, as on the web)."""

    name = _text(400, "Shown in every warning the rule gives")
    description = _text(4000, "Why the rule holds, in words")
    left = _text(800, "Arithmetic over indicator codes: SA14 - SA15, SA12.N, SA01 * 0.25")
    operator = _text(10, " ".join(OPERATORS))
    right = _text(800, "Arithmetic over indicator codes")
    severity = _text(20, ", ".join(SEVERITIES) + " (an error blocks submission)")
    importance = _text(20, ", ".join(IMPORTANCES))
    missing_strategy = _text(40, ", ".join(MISSING_STRATEGIES))


class RuleCreateSchema(RuleFieldsSchema):
    code = _text(40, "New and unique, e.g. VR38", required=True)
    name = _text(400, "Shown in every warning the rule gives", required=True)
    left = _text(800, "Arithmetic over indicator codes", required=True)
    operator = _text(10, " ".join(OPERATORS), required=True)
    right = _text(800, "Arithmetic over indicator codes", required=True)
    reason = _text(1000, "Why the rule is added (kept in the audit)", load_default="")


class RuleChangeSchema(RuleFieldsSchema):
    reason = _text(1000, "Why (kept in the audit)", required=True)
    is_active = ma.fields.Boolean(metadata={"description": "false retires the rule; true reactivates it"})


class RuleTrySchema(RuleFieldsSchema):
    left = _text(800, "Arithmetic over indicator codes", required=True)
    operator = _text(10, " ".join(OPERATORS), required=True)
    right = _text(800, "Arithmetic over indicator codes", required=True)


class BreachSchema(ma.Schema):
    programme = ma.fields.String()
    programme_name = ma.fields.String()
    org_unit = ma.fields.String()
    org_unit_name = ma.fields.String()
    period = ma.fields.String()
    period_label = ma.fields.String()
    left = ma.fields.String(metadata={"description": "The left side's value, as printed"})
    right = ma.fields.String()
    state = ma.fields.String()


class TrialSchema(ma.Schema):
    periods = ma.fields.List(ma.fields.String(), metadata={"description": "The quarters tried, oldest first"})
    returns = ma.fields.Integer(metadata={"description": "Submitted and approved returns in those quarters"})
    evaluated = ma.fields.Integer()
    broken = ma.fields.Integer()
    skipped_missing = ma.fields.Integer(metadata={"description": "Skipped by the missing-value strategy"})
    not_computable = ma.fields.Integer(metadata={"description": "A side not computable (division by zero)"})
    breaches = ma.fields.List(ma.fields.Nested(BreachSchema))


def _secretariat():
    user = authenticated_user()
    if not can_administer(user):
        raise Forbidden(rule_admin.ONLY_SECRETARIAT)  # the API's words stay English
    return user


def _body(rule: ValidationRule, catalogue) -> dict:
    return {**rule_admin.snapshot(rule), "code": rule.code, "uid": rule.uid,
            "in_words": rule_admin.in_words(rule, catalogue)}


@blp.route("/validation-rules")
class Rules(MethodView):
    @blp.arguments(RuleQuerySchema, location="query")
    @blp.response(200, RuleSchema(many=True))
    def get(self, args):
        """The validation rules, by code; filter by status (active, retired, all) and severity."""
        _secretariat()
        catalogue = load_catalogue(db.session)
        return [_body(r, catalogue) for r in rule_admin.rules(db.session, status=args["status"],
                                                               severity=args.get("severity", ""))]

    @blp.arguments(RuleCreateSchema)
    @blp.response(201, RuleSchema)
    def post(self, args):
        """Add a rule: it runs on every save and submission from now on (audited)."""
        actor = _secretariat()
        session = db.session
        rule = rule_admin.create_rule(session, load_catalogue(session), actor, args, args.get("reason", ""))
        code = rule.code
        finish(session, current_app.config)
        rule = rule_admin.find(session, code)
        return _body(rule, load_catalogue(session)), 201, {"Location": url_for("rules_api.RuleOne", code=code)}


@blp.route("/validation-rules/<code>")
class RuleOne(MethodView):
    @blp.response(200, RuleSchema)
    def get(self, code):
        """One rule by code."""
        _secretariat()
        return _body(rule_admin.find(db.session, code), load_catalogue(db.session))

    @blp.arguments(RuleChangeSchema)
    @blp.response(200, RuleSchema)
    def put(self, args, code):
        """Change a rule's fields, or retire it (is_active false) or reactivate it, with a reason (audited)."""
        actor = _secretariat()
        session = db.session
        rule = rule_admin.find(session, code)
        reason = args.pop("reason")
        active = args.pop("is_active", None)
        if not args and active is None:
            raise ValidationFailed("Nothing to change: send a field of the rule, or is_active.")
        if args:
            rule_admin.change_rule(session, load_catalogue(session), actor, rule.code, args, reason)
        if active is not None:
            rule_admin.set_active(session, actor, rule.code, active, reason)
        code = rule.code
        finish(session, current_app.config)
        return _body(rule_admin.find(session, code), load_catalogue(session))


@blp.route("/validation-rules/try")
class RuleTry(MethodView):
    @blp.arguments(RuleTrySchema)
    @blp.response(200, TrialSchema)
    def post(self, args):
        """Try a rule, unsaved, on the submitted and approved returns of the last four quarters that have
        any: the returns that would break it, with both sides' values, and how many were skipped."""
        _secretariat()
        session = db.session
        catalogue = load_catalogue(session)
        _, rule = rule_admin.checked({**args, "name": args.get("name") or "Rule tried"}, catalogue)
        return rule_admin.try_rule(session, catalogue, rule).as_dict()
