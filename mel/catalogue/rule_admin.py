"""Writes for validation rules (secretariat): check, create, change, retire and reactivate, each audited
with before and after; and a rule tried on the last four quarters of submitted and approved returns.

The web pages (rule_views.py) and the API (rule_api.py) only parse their input and render the result.
Every write flushes a catalogue row, which moves the catalogue token (mel/catalogue/lookup.py): every
process reads the rules again at its next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.expressions import OPERATORS, Expression, ExpressionError
from indicators.messages import N_, Joined, Message, Words, message
from indicators.messages import text as as_text
from indicators.periods import PeriodError, PeriodType, parse_period
from indicators.validation import (
    VALUE_KEY,
    Rule,
    RuleCheck,
    fmt,
    period_text,
    rule_checks,
    rule_words,
)
from mel.accounts import audit
from mel.catalogue.lookup import Catalogue, forget_catalogue
from mel.catalogue.models import IMPORTANCES, MISSING_STRATEGIES, SEVERITIES, ValidationRule
from mel.catalogue.operations import admin_object
from mel.errors import ErrorDetail, NotFound, ValidationFailed

KIND = "validation rule"
NOT_SAVED = N_("The rule was not saved: correct the fields below.")
ONLY_SECRETARIAT = N_("Only the secretariat keeps the validation rules.")  # the refusal of the pages and the API
FIELDS = ("name", "description", "left", "operator", "right", "severity", "importance", "missing_strategy")
SIDES = {"left": N_("Left side"), "right": N_("Right side")}
# The fields' labels in the problems located by field ("Severity: ..."); pages say them in their language.
LABELS = {"code": N_("Code"), "name": N_("Name"), "description": N_("Description"), "operator": N_("Operator"),
          "severity": N_("Severity"), "importance": N_("Importance"), "missing_strategy": N_("Missing values"),
          "reason": N_("Reason")}
LIMITS = {"code": 20, "name": 200, "description": 2000, "left": 400, "right": 400, "reason": 500}
CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
TRIED_STATES = ("submitted", "approved")
TRIED_QUARTERS = 4


def snapshot(rule: ValidationRule) -> dict:
    """A rule's fields as the audit keeps them (before and after a change)."""
    return {**{name: getattr(rule, name) for name in FIELDS}, "is_active": bool(rule.is_active)}


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _field(label: str, what: Words) -> str:
    """A problem said after the label of its field ("Left side: unknown indicator SA99."), both translated."""
    return as_text(Joined(": ", (Message(label), what)))


def _too_long(label: str, limit: int, given: int) -> str:
    return _field(label, message(N_("at most %(limit)s characters (%(given)s given)."), limit=limit, given=given))


def checked(data: dict, catalogue: Catalogue) -> tuple[dict, Rule]:
    """The rule's fields from a form or a payload, checked: (values, the rule as validation runs it).

    Every problem is reported at once, located by field ("Left side: unknown indicator SA99");
    raises ValidationFailed when there is any.
    """
    values = {name: _text(data, name) for name in FIELDS}
    values["missing_strategy"] = values["missing_strategy"] or "skip_if_any_missing"
    values["severity"] = values["severity"] or "error"
    values["importance"] = values["importance"] or "medium"
    problems: list[ErrorDetail] = []

    def problem(name: str, said: str) -> None:
        problems.append(ErrorDetail(said, {"field": name}))

    if not values["name"]:
        problem("name", _field(LABELS["name"], Message(N_("give the rule a name people will read in warnings."))))
    for name in ("name", "description"):
        if len(values[name]) > LIMITS[name]:
            problem(name, _too_long(LABELS[name], LIMITS[name], len(values[name])))
    expressions: dict[str, Expression] = {}
    for side, label in SIDES.items():
        expression = _expression(values[side], label, catalogue, lambda message, side=side: problem(side, message))
        if expression is not None:
            expressions[side] = expression
    if len(expressions) == 2 and not any(e.references() for e in expressions.values()):
        problem("left", _field(SIDES["left"], Message(N_("the rule names no indicator, so it would hold or fail for "
                                                         "every return alike. Use indicator codes such as SA01."))))
    allowed = {"operator": OPERATORS, "severity": SEVERITIES, "importance": IMPORTANCES,
               "missing_strategy": MISSING_STRATEGIES}
    for name, choices in allowed.items():
        if values[name] not in choices:
            shown = values[name][:40] or Message(N_("nothing"))
            problem(name, _field(LABELS[name], message(N_("“%(value)s” is not one of %(choices)s."), value=shown,
                                                       choices=", ".join(choices))))
    if problems:
        raise ValidationFailed(as_text(Message(NOT_SAVED)), problems)
    rule = Rule(_text(data, "code") or "TRY", values["name"], expressions["left"], values["operator"],
                expressions["right"], values["severity"], values["importance"], values["missing_strategy"],
                values["description"])
    return values, rule


def _expression(text: str, label: str, catalogue: Catalogue, problem) -> Expression | None:
    """One side parsed, its indicators known and their parts right; None (with problems) otherwise."""
    if not text:
        problem(_field(label, Message(N_("empty. Write arithmetic over indicator codes, e.g. SA14 - SA15 or "
                                         "SA01 * 0.25."))))
        return None
    if len(text) > LIMITS["left"]:
        problem(_too_long(label, LIMITS["left"], len(text)))
        return None
    try:
        expression = Expression.parse(text)
    except ExpressionError as exc:  # indicators/expressions.py's words, as they are (a message if it is one)
        problem(_field(label, exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)))
        return None
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        problem(_field(label, message(N_("%(text)s is not valid arithmetic over indicator codes."),
                                      text=repr(text[:60]))))
        return None
    found = True
    for ref in expression.references():
        indicator = catalogue.indicators.get(ref.indicator)
        if indicator is None:
            problem(_field(label, message(N_("unknown indicator %(code)s."), code=ref.indicator)))
            found = False
        elif indicator.measure == "ratio" and ref.component == "value":
            problem(_field(label, message(N_("%(code)s (%(name)s) is a ratio: use %(code)s.N (numerator) or "
                                             "%(code)s.D (denominator)."), code=ref.indicator, name=indicator.name)))
            found = False
        elif indicator.measure != "ratio" and ref.component != "value":
            problem(_field(label, Joined(": ", (ref.name, message(
                N_("%(code)s (%(name)s) is not a ratio, so it has no numerator or denominator; use %(code)s."),
                code=ref.indicator, name=indicator.name)))))
            found = False
    return expression if found else None


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(as_text(Message(N_("Say why: a reason is required, and kept in the audit."))),
                               [ErrorDetail(_field(LABELS["reason"], Message(N_("required."))), {"field": "reason"})])
    if len(text) > LIMITS["reason"]:
        raise ValidationFailed(as_text(Message(N_("The reason is too long."))), [ErrorDetail(
            _too_long(LABELS["reason"], LIMITS["reason"], len(text)), {"field": "reason"})])
    return text


def in_words(rule: ValidationRule, catalogue: Catalogue) -> str:
    """A stored rule in words, its indicators by name; its bare text if it no longer parses. The words are
    English text (the API's) that a page says again in its language (mel.i18n.said)."""
    try:
        parsed = Rule(rule.code, rule.name, Expression.parse(rule.left), rule.operator, Expression.parse(rule.right))
    except (ValueError, SyntaxError, RecursionError):
        return f"{rule.left} {rule.operator} {rule.right}"
    return rule_words(parsed, catalogue.names)


def find(session: Session, code: str) -> ValidationRule:
    rule = session.scalar(select(ValidationRule).where(ValidationRule.code == str(code)[:40]))
    if rule is None:
        raise NotFound(as_text(message(N_("No validation rule with code %(code)s."), code=repr(str(code)[:40]))))
    return rule


def rules(session: Session, *, status: str = "", severity: str = "") -> list[ValidationRule]:
    """The rules, by code; `status` active or retired, `severity` error or warning (else all)."""
    query = select(ValidationRule).order_by(ValidationRule.code)
    if status in ("active", "retired"):
        query = query.where(ValidationRule.is_active.is_(status == "active"))
    if severity in SEVERITIES:
        query = query.where(ValidationRule.severity == severity)
    return list(session.scalars(query))


def create_rule(session: Session, catalogue: Catalogue, actor, data: dict, reason: str = "") -> ValidationRule:
    """A new active rule; the code must be new (retired rules keep theirs)."""
    code = _text(data, "code").upper()
    problems = []
    if not code:
        problems.append(ErrorDetail(_field(LABELS["code"], Message(N_("required, e.g. VR38."))), {"field": "code"}))
    elif len(code) > LIMITS["code"] or not set(code) <= CODE_CHARS or not code[0].isalpha():
        problems.append(ErrorDetail(_field(LABELS["code"], message(
            N_("%(code)s must start with a letter and hold at most 20 letters, digits, - or _."),
            code=repr(code[:40]))), {"field": "code"}))
    elif session.scalar(select(ValidationRule.id).where(ValidationRule.code == code)) is not None:
        problems.append(ErrorDetail(_field(LABELS["code"], message(
            N_("a rule %(code)s already exists; choose another code."), code=code)), {"field": "code"}))
    try:
        values, _ = checked({**data, "code": code}, catalogue)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, problems + exc.details) from None
    if problems:
        raise ValidationFailed(as_text(Message(NOT_SAVED)), problems)
    rule = ValidationRule(code=code, is_active=True, **values)
    session.add(rule)
    session.flush()
    audit.record(session, "catalogue.rule_created", actor=actor, object=admin_object(KIND, code),
                 details={"before": {}, "after": snapshot(rule), "reason": (reason or "").strip()[:500]})
    forget_catalogue(session)
    return rule


def change_rule(session: Session, catalogue: Catalogue, actor, code: str, data: dict, reason: str | None) -> int:
    """Change a rule's fields (those `data` holds; the others stay); returns how many changed."""
    rule = find(session, code)
    why = _reason(reason)
    merged = {**snapshot(rule), **{k: v for k, v in data.items() if k in FIELDS and v is not None}}
    values, _ = checked({**merged, "code": rule.code}, catalogue)
    before = snapshot(rule)
    altered = {k: v for k, v in values.items() if getattr(rule, k) != v}
    if not altered:
        return 0
    for name, value in altered.items():
        setattr(rule, name, value)
    session.flush()
    audit.record(session, "catalogue.rule_changed", actor=actor, object=admin_object(KIND, rule.code),
                 details={"before": before, "after": snapshot(rule), "reason": why})
    forget_catalogue(session)
    return len(altered)


def set_active(session: Session, actor, code: str, active: bool, reason: str | None) -> bool:
    """Retire (active False) or reactivate a rule; False when it already was so."""
    rule = find(session, code)
    why = _reason(reason)
    if bool(rule.is_active) == active:
        return False
    before = snapshot(rule)
    rule.is_active = active
    session.flush()
    audit.record(session, "catalogue.rule_reactivated" if active else "catalogue.rule_retired", actor=actor,
                 object=admin_object(KIND, rule.code), details={"before": before, "after": snapshot(rule),
                                                                "reason": why})
    forget_catalogue(session)
    return True


def history(session: Session, code: str) -> list:
    """The audit events of one rule, newest first."""
    from mel.accounts.models import AuditEvent

    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.object == admin_object(KIND, code),
                                 AuditEvent.action.startswith("catalogue.rule_"))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())))


# --------------------------------------------------------------------------- try it


@dataclass
class Breach:
    """A return that breaks the rule tried, in people's words."""

    programme: str
    programme_name: str
    org_unit: str
    org_unit_name: str
    period: str
    period_label: str
    left: str
    right: str
    state: str


@dataclass
class Trial:
    """What a rule would have said about the returns of the last quarters that have any."""

    periods: list[str]
    returns: int = 0
    evaluated: int = 0
    skipped_missing: int = 0
    not_computable: int = 0
    breaches: list[Breach] = field(default_factory=list)

    @property
    def period_labels(self) -> list[str]:
        return [period_text(p) for p in self.periods]

    def as_dict(self) -> dict:
        return {"periods": self.periods, "returns": self.returns, "evaluated": self.evaluated,
                "broken": len(self.breaches), "skipped_missing": self.skipped_missing,
                "not_computable": self.not_computable,
                "breaches": [vars(b) for b in self.breaches]}


def tried_periods(session: Session) -> list[str]:
    """The last four quarters with a submitted or approved return, oldest first."""
    from mel.returns.models import Return

    quarters = []
    for period in session.scalars(select(Return.period).where(Return.state.in_(TRIED_STATES)).distinct()):
        try:
            parsed = parse_period(period)
        except PeriodError:
            continue
        if parsed.type is PeriodType.QUARTER:
            quarters.append(parsed)
    return [p.id for p in sorted(quarters, key=lambda p: p.start)[-TRIED_QUARTERS:]]


def try_rule(session: Session, catalogue: Catalogue, rule: Rule) -> Trial:
    """Run a rule (as typed, not saved) over the submitted and approved returns of the last four
    quarters that have any: the same evaluation as validation (indicators.validation.rule_checks)."""
    from mel.returns.models import DataValue, Return

    trial = Trial(tried_periods(session))
    if not trial.periods:
        return trial
    rows = session.execute(
        select(Return.id, Return.programme_id, Return.org_unit_id, Return.period, Return.state)
        .where(Return.period.in_(trial.periods), Return.state.in_(TRIED_STATES))
    ).all()
    with_figures = set(session.scalars(
        select(DataValue.return_id).join(Return, Return.id == DataValue.return_id)
        .where(Return.period.in_(trial.periods), Return.state.in_(TRIED_STATES)).distinct()))
    returns = {}
    for return_id, programme_id, unit_id, period, state in rows:
        if return_id in with_figures:
            returns[(catalogue.programme_codes[programme_id], catalogue.org_unit_codes[unit_id], period)] = state
    indicator_ids = [catalogue.indicators[c].id for c in rule.indicators if c in catalogue.indicators]
    values = session.execute(
        select(DataValue.programme_id, DataValue.org_unit_id, DataValue.period, DataValue.indicator_id,
               DataValue.component, DataValue.option_combo_id, DataValue.value)
        .join(Return, Return.id == DataValue.return_id)
        .where(Return.period.in_(trial.periods), Return.state.in_(TRIED_STATES),
               DataValue.indicator_id.in_(indicator_ids))
    ).all() if indicator_ids else []
    frame = pd.DataFrame(
        [(catalogue.programme_codes[p], catalogue.org_unit_codes[o], per, catalogue.indicator_codes[i], comp,
          catalogue.combo_codes[c], float(v)) for p, o, per, i, comp, c, v in values],
        columns=[*VALUE_KEY, "number"])
    checks: list[RuleCheck] = rule_checks(frame, rule, returns)
    trial.returns = len(returns)
    for check in checks:
        key = (check.programme, check.org_unit, check.period)
        if key not in returns:
            continue
        if check.skipped == "missing":
            trial.skipped_missing += 1
        elif check.skipped:
            trial.not_computable += 1
        else:
            trial.evaluated += 1
            if check.holds is False:
                trial.breaches.append(Breach(
                    check.programme, catalogue.names.programmes.get(check.programme, check.programme),
                    check.org_unit, catalogue.names.org_unit(check.org_unit), check.period,
                    period_text(check.period), fmt(check.left), fmt(check.right), returns[key]))
    trial.breaches.sort(key=lambda b: (b.period, b.programme, b.org_unit))
    return trial
