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
FIELDS = ("name", "description", "left", "operator", "right", "severity", "importance", "missing_strategy")
SIDES = {"left": "Left side", "right": "Right side"}
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

    def problem(name: str, message: str) -> None:
        problems.append(ErrorDetail(message, {"field": name}))

    if not values["name"]:
        problem("name", "Name: give the rule a name people will read in warnings.")
    for name in ("name", "description"):
        if len(values[name]) > LIMITS[name]:
            problem(name, f"{name.capitalize()}: at most {LIMITS[name]} characters ({len(values[name])} given).")
    expressions: dict[str, Expression] = {}
    for side, label in SIDES.items():
        expression = _expression(values[side], label, catalogue, lambda message, side=side: problem(side, message))
        if expression is not None:
            expressions[side] = expression
    if len(expressions) == 2 and not any(e.references() for e in expressions.values()):
        problem("left", "Left side: the rule names no indicator, so it would hold or fail for every return "
                        "alike. Use indicator codes such as SA01.")
    allowed = {"operator": OPERATORS, "severity": SEVERITIES, "importance": IMPORTANCES,
               "missing_strategy": MISSING_STRATEGIES}
    words = {"operator": "Operator", "severity": "Severity", "importance": "Importance",
             "missing_strategy": "Missing values"}
    for name, choices in allowed.items():
        if values[name] not in choices:
            shown = values[name][:40] or "nothing"
            problem(name, f"{words[name]}: “{shown}” is not one of {', '.join(choices)}.")
    if problems:
        raise ValidationFailed("The rule was not saved: correct the fields below.", problems)
    rule = Rule(_text(data, "code") or "TRY", values["name"], expressions["left"], values["operator"],
                expressions["right"], values["severity"], values["importance"], values["missing_strategy"],
                values["description"])
    return values, rule


def _expression(text: str, label: str, catalogue: Catalogue, problem) -> Expression | None:
    """One side parsed, its indicators known and their parts right; None (with problems) otherwise."""
    if not text:
        problem(f"{label}: empty. Write arithmetic over indicator codes, e.g. SA14 - SA15 or SA01 * 0.25.")
        return None
    if len(text) > LIMITS["left"]:
        problem(f"{label}: at most {LIMITS['left']} characters ({len(text)} given).")
        return None
    try:
        expression = Expression.parse(text)
    except ExpressionError as exc:
        problem(f"{label}: {exc}")
        return None
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        problem(f"{label}: {text[:60]!r} is not valid arithmetic over indicator codes.")
        return None
    found = True
    for ref in expression.references():
        indicator = catalogue.indicators.get(ref.indicator)
        if indicator is None:
            problem(f"{label}: unknown indicator {ref.indicator}.")
            found = False
        elif indicator.measure == "ratio" and ref.component == "value":
            problem(f"{label}: {ref.indicator} ({indicator.name}) is a ratio: use {ref.indicator}.N "
                    f"(numerator) or {ref.indicator}.D (denominator).")
            found = False
        elif indicator.measure != "ratio" and ref.component != "value":
            problem(f"{label}: {ref.name}: {ref.indicator} ({indicator.name}) is not a ratio, so it has no "
                    f"numerator or denominator; use {ref.indicator}.")
            found = False
    return expression if found else None


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("Say why: a reason is required, and kept in the audit.",
                               [ErrorDetail("Reason: required.", {"field": "reason"})])
    if len(text) > LIMITS["reason"]:
        raise ValidationFailed("The reason is too long.", [ErrorDetail(
            f"Reason: at most {LIMITS['reason']} characters ({len(text)} given).", {"field": "reason"})])
    return text


def in_words(rule: ValidationRule, catalogue: Catalogue) -> str:
    """A stored rule in words, its indicators by name; its bare text if it no longer parses."""
    try:
        parsed = Rule(rule.code, rule.name, Expression.parse(rule.left), rule.operator, Expression.parse(rule.right))
    except (ValueError, SyntaxError, RecursionError):
        return f"{rule.left} {rule.operator} {rule.right}"
    return rule_words(parsed, catalogue.names)


def find(session: Session, code: str) -> ValidationRule:
    rule = session.scalar(select(ValidationRule).where(ValidationRule.code == str(code)[:40]))
    if rule is None:
        raise NotFound(f"No validation rule with code {str(code)[:40]!r}.")
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
        problems.append(ErrorDetail("Code: required, e.g. VR38.", {"field": "code"}))
    elif len(code) > LIMITS["code"] or not set(code) <= CODE_CHARS or not code[0].isalpha():
        problems.append(ErrorDetail(f"Code: {code[:40]!r} must start with a letter and hold at most 20 letters, "
                                    "digits, - or _.", {"field": "code"}))
    elif session.scalar(select(ValidationRule.id).where(ValidationRule.code == code)) is not None:
        problems.append(ErrorDetail(f"Code: a rule {code} already exists; choose another code.", {"field": "code"}))
    try:
        values, _ = checked({**data, "code": code}, catalogue)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, problems + exc.details) from None
    if problems:
        raise ValidationFailed("The rule was not saved: correct the fields below.", problems)
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
