"""Writes of the indicator editor (secretariat): create, change, retire and reactivate an indicator.

Every write checks everything first and raises with each problem located by its field, so nothing is
saved on error; then it keeps the reference sheet as a new version (mel/catalogue/versioning.py) with
the reason, records the change in the audit with the sheet before and after, and makes the catalogue be
read again. A change that would alter the meaning of figures already entered (measure, factor, time
aggregation, disaggregation set) is refused once the indicator has figures: the secretariat creates a new
indicator and retires the old one, naming the new one as its replacement. The web pages
(indicator_views.py) and the API (indicator_api.py) only parse their input and render the result.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indicators.expressions import CODE_RE, Expression
from indicators.messages import N_, Joined, Message, Words, message
from indicators.messages import text as as_text
from mel.accounts import audit
from mel.catalogue.form_admin import checked_reason, require_admin
from mel.catalogue.lookup import forget_catalogue
from mel.catalogue.models import (
    DIRECTIONS,
    FREQUENCIES,
    LEVELS,
    MEASURES,
    TIME_AGGREGATIONS,
    DisaggregationSet,
    Indicator,
    IndicatorVersion,
    Pillar,
    ReportingForm,
    ReportingFormIndicator,
    ValidationRule,
)
from mel.catalogue.operations import admin_object
from mel.catalogue.versioning import add_version, sheet
from mel.errors import Conflict, ErrorDetail, NotFound, ValidationFailed

KIND = "indicator"
UNITS = ("number", "percent", "KES", "days")  # what reports/format.py prints
# The fields the editor takes, in the order of the reference sheet (the code is set once, at creation).
FIELDS = ("name", "short_name", "definition", "rationale", "pillar", "level", "unit", "measure", "factor",
          "numerator", "denominator", "calculation", "time_aggregation", "is_additive_across_programmes",
          "disaggregation", "direction", "frequency", "data_source", "collection_method", "means_of_verification",
          "responsible_agency", "limitations", "basis")
# The Kiswahili text of the sheet: a translation, kept outside the versioned sheet (models.Indicator), so a
# change of it alone adds no version (audited as catalogue.indicator_translated).
TRANSLATION_FIELDS = ("name_sw", "short_name_sw", "definition_sw")
# Fields whose change would give the figures already entered another meaning.
LOCKED = ("measure", "factor", "time_aggregation", "disaggregation")
# The labels are English here (errors, the API, the audit); pages translate them (indicator_views.py _labels).
LABELS = {"code": N_("Code"), "name": N_("Name"), "short_name": N_("Short name"), "definition": N_("Definition"),
          "rationale": N_("Rationale"), "pillar": N_("Pillar"), "level": N_("Level"), "unit": N_("Unit"),
          "measure": N_("Measure"), "factor": N_("Factor"), "numerator": N_("Numerator"),
          "denominator": N_("Denominator"), "calculation": N_("Calculation and aggregation"),
          "time_aggregation": N_("Over time"), "is_additive_across_programmes": N_("Across programmes"),
          "disaggregation": N_("Disaggregation set"), "direction": N_("Desired direction"),
          "frequency": N_("Frequency"), "data_source": N_("Data source"), "collection_method": N_("Collection method"),
          "means_of_verification": N_("Means of verification"), "responsible_agency": N_("Responsible agency"),
          "limitations": N_("Limitations"), "basis": N_("Basis"), "replaced_by": N_("Replaced by"),
          "is_active": N_("Status"), "reason": N_("Reason"), "name_sw": N_("Name in Kiswahili"),
          "short_name_sw": N_("Short name in Kiswahili"), "definition_sw": N_("Definition in Kiswahili")}
LIMITS = {"code": 20, "name": 300, "short_name": 120, "responsible_agency": 200, "reason": 500,
          "name_sw": 300, "short_name_sw": 120}
TEXT_LIMIT = 4000
REQUIRED = ("name", "short_name", "definition")
CHOICES = {"level": LEVELS, "unit": UNITS, "measure": MEASURES, "time_aggregation": TIME_AGGREGATIONS,
           "direction": DIRECTIONS, "frequency": FREQUENCIES}
MAX_FACTOR = 1_000_000
# The locked fields as a sentence names them (LABELS[name].lower()), in the messages refusing their change.
LOCKED_WORDS = {"measure": N_("measure"), "factor": N_("factor"), "time_aggregation": N_("over time"),
                "disaggregation": N_("disaggregation set")}
# What a count or an amount may not have, said whole for each (a ratio's parts and factor).
NO_FACTOR = {"count": N_("only a ratio has a factor; a count has none (leave it empty)."),
             "amount": N_("only a ratio has a factor; a amount has none (leave it empty).")}
NO_PART = {("count", "numerator"): N_("only a ratio has a numerator; a count is typed in as one figure (leave it "
                                      "empty)."),
           ("count", "denominator"): N_("only a ratio has a denominator; a count is typed in as one figure (leave "
                                        "it empty)."),
           ("amount", "numerator"): N_("only a ratio has a numerator; a amount is typed in as one figure (leave it "
                                       "empty)."),
           ("amount", "denominator"): N_("only a ratio has a denominator; a amount is typed in as one figure "
                                         "(leave it empty).")}
NEEDS_PART = {"numerator": N_("a ratio needs its numerator defined: it is typed in as a figure of its own."),
              "denominator": N_("a ratio needs its denominator defined: it is typed in as a figure of its own.")}
NOT_RATIO = {"count": N_("a percentage is computed from a numerator and a denominator: its measure is ratio, not "
                         "count."),
             "amount": N_("a percentage is computed from a numerator and a denominator: its measure is ratio, not "
                          "amount.")}
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}


def find(session: Session, code: str) -> Indicator:
    """An indicator by code (any case) or UID."""
    text = str(code or "").strip()[:40]
    indicator = session.scalar(select(Indicator).where((Indicator.code == text.upper()) | (Indicator.uid == text)))
    if indicator is None:
        raise NotFound(as_text(message(N_("Indicator %(code)s is not in the catalogue."), code=repr(text))))
    return indicator


def form_values(session: Session, indicator: Indicator) -> dict:
    """The editor's fields of an indicator as text, as the web form shows them."""
    kept = sheet(session, indicator)
    values = {name: kept[name] for name in FIELDS}
    values.update(translations(indicator))
    values["factor"] = "" if kept["factor"] is None else str(kept["factor"])
    values["is_additive_across_programmes"] = "true" if kept["is_additive_across_programmes"] else "false"
    return values


def translations(indicator: Indicator) -> dict:
    """The indicator's Kiswahili text, as the editor and the audit show it."""
    return {name: getattr(indicator, name) or "" for name in TRANSLATION_FIELDS}


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())


def _field(name: str, what: Words) -> str:
    """A problem said after its field's label ("Factor: a whole number, e.g. 100."), both translated."""
    return as_text(Joined(": ", (Message(LABELS[name]), what)))


def _or_nothing(value: str) -> Words | str:
    """What was typed (the first 40 characters), or the word "nothing"."""
    return value[:40] or Message(N_("nothing"))


def checked(session: Session, data: dict) -> tuple[dict, list[ErrorDetail]]:
    """The editor's fields from a form or a payload, checked: (column values, problems located by field)."""
    problems: list[ErrorDetail] = []

    def problem(name: str, what: Words, **where) -> None:
        problems.append(ErrorDetail(_field(name, what), {"field": name, **where}))

    raw = {name: data.get(name) for name in (*FIELDS, *TRANSLATION_FIELDS)}
    text = {name: _text(raw[name]) for name in raw if name not in ("factor", "is_additive_across_programmes")}
    values: dict = {}
    for name, value in text.items():
        limit = LIMITS.get(name, TEXT_LIMIT)
        if name in TRANSLATION_FIELDS and raw[name] is not None and not isinstance(raw[name], str):
            problem(name, Message(N_("text, or nothing while it is not translated.")))
        elif name in TRANSLATION_FIELDS and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            problem(name, Message(N_("contains a control character; type or paste the text again.")))
        elif len(value) > limit:
            problem(name, message(N_("at most %(limit)s characters (%(given)s given)."), limit=limit,
                                  given=len(value)))
        elif name in REQUIRED and not value:
            problem(name, Message(N_("required.")))
        elif name in CHOICES and value not in CHOICES[name]:
            problem(name, message(N_("“%(value)s” is not one of %(choices)s."), value=_or_nothing(value),
                                  choices=", ".join(CHOICES[name])), value=value[:40])
        else:
            values[name] = value
    pillar = session.scalar(select(Pillar.id).where(Pillar.code == text["pillar"])) if text["pillar"] else None
    if pillar is None:
        known = ", ".join(session.scalars(select(Pillar.code).order_by(Pillar.sort_order)))
        problem("pillar", message(N_("“%(value)s” is not a pillar; choose one of %(choices)s."),
                                  value=_or_nothing(text["pillar"]), choices=known))
    values.pop("pillar", None)
    values["pillar_id"] = pillar
    dset = (session.scalar(select(DisaggregationSet.id).where(DisaggregationSet.code == text["disaggregation"]))
            if text["disaggregation"] else None)
    if dset is None:
        known = ", ".join(session.scalars(select(DisaggregationSet.code).order_by(DisaggregationSet.code)))
        problem("disaggregation", message(N_("“%(value)s” is not a disaggregation set; choose one of %(choices)s."),
                                          value=_or_nothing(text["disaggregation"]), choices=known))
    values.pop("disaggregation", None)
    values["disaggregation_set_id"] = dset
    values["is_additive_across_programmes"] = _additive(raw["is_additive_across_programmes"], problem)
    factor = _factor(raw["factor"], problem)
    values["factor"] = factor
    measure, unit = values.get("measure"), values.get("unit")
    if measure == "ratio":
        if factor is None and not any(p.location.get("field") == "factor" for p in problems):
            problem("factor", Message(N_("a ratio needs a factor: 100 for a percentage, 1 for a plain ratio.")))
        for part in ("numerator", "denominator"):
            if part in values and not values[part]:
                problem(part, Message(NEEDS_PART[part]))
        if unit == "percent" and factor not in (None, 100):
            problem("factor", message(N_("a percentage has the factor 100 (%(factor)s given)."), factor=factor))
    elif measure in MEASURES:
        if factor is not None:
            problem("factor", Message(NO_FACTOR[measure]))
        for part in ("numerator", "denominator"):
            if values.get(part):
                problem(part, Message(NO_PART[measure, part]))
        if unit == "percent":
            problem("unit", Message(NOT_RATIO[measure]))
    return values, problems


def _additive(value, problem) -> bool | None:
    if isinstance(value, bool):
        return value
    word = _text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or word == "":
        return False
    problem("is_additive_across_programmes", message(N_("“%(value)s” is not true or false."), value=word[:40]))
    return None


def _factor(value, problem) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        problem("factor", Message(N_("a whole number, e.g. 100.")))
        return None
    text = _text(value)
    try:
        number = int(text)
    except ValueError:
        problem("factor", message(N_("“%(value)s” is not a whole number, e.g. 100."), value=text[:40]), value=text[:40])
        return None
    if not 1 <= number <= MAX_FACTOR:
        problem("factor", message(N_("%(number)s is outside 1–%(largest)s."), number=number, largest=f"{MAX_FACTOR:,}"),
                value=text[:40])
        return None
    return number


def _reason(value, problems: list[ErrorDetail], required: bool = True) -> str:
    # Texts: English where the check writes them into its sentence, said again in the page's language.
    return checked_reason(value, problems, required=required, label=as_text(Message(LABELS["reason"])),
                          kept=as_text(Message(N_("it is kept with the version and in the audit"))))


def figures_count(session: Session, indicator_id: int) -> int:
    """How many figures (data values, any return state) the indicator has."""
    from mel.returns.models import DataValue

    return session.scalar(select(func.count()).select_from(DataValue).where(DataValue.indicator_id == indicator_id)) or 0


def _rules_naming(session: Session, code: str) -> list[str]:
    """The active validation rules whose sides name an indicator."""
    named = []
    for rule in session.scalars(select(ValidationRule).where(ValidationRule.is_active.is_(True))
                                .order_by(ValidationRule.code)):
        try:
            sides = (Expression.parse(rule.left), Expression.parse(rule.right))
        except (ValueError, SyntaxError, RecursionError):
            continue
        if any(ref.indicator == code for side in sides for ref in side.references()):
            named.append(rule.code)
    return named


def _forms_asking(session: Session, indicator_id: int) -> list[str]:
    """The reporting forms that ask for an indicator now or later (form items not ended)."""
    from mel import clock

    quarter = clock.reporting_quarter().id
    item = ReportingFormIndicator
    query = (select(ReportingForm.code).join(item, item.form_id == ReportingForm.id)
             .where(item.indicator_id == indicator_id))
    until = getattr(item, "until_period", None)
    if until is not None:  # form items may be time-bound (from a quarter, until a quarter)
        query = query.where(until.is_(None) | (until > quarter))
    return sorted(set(session.scalars(query)))


def _record(session: Session, actor, action: str, indicator: Indicator, before: dict, reason: str) -> None:
    after = sheet(session, indicator)
    audit.record(session, action, actor=actor, object=admin_object(KIND, indicator.code),
                 details={"before": before, "after": after, "reason": reason,
                          "version": indicator.version})
    forget_catalogue(session)


def create_indicator(session: Session, actor, data: dict, reason: str | None = "") -> Indicator:
    """A new active indicator at version 1; its code must be new (retired indicators keep theirs)."""
    require_admin(actor, "creates indicators")
    code = _text(data.get("code")).upper()
    problems: list[ErrorDetail] = []
    if not code:
        problems.append(ErrorDetail(_field("code", Message(N_("required, e.g. SA20."))), {"field": "code"}))
    elif not CODE_RE.match(code):
        problems.append(ErrorDetail(_field("code", message(
            N_("%(code)s must be a capital letter then 1–19 capital letters or digits (e.g. SA20), so validation "
               "rules can name it."), code=repr(code[:40]))), {"field": "code"}))
    elif session.scalar(select(Indicator.id).where(Indicator.code == code)) is not None:
        problems.append(ErrorDetail(_field("code", message(
            N_("an indicator %(code)s already exists; choose another code."), code=code)), {"field": "code"}))
    values, found = checked(session, data)
    why = _reason(reason, problems, required=False) or "New indicator."
    problems += found
    if problems:
        raise ValidationFailed(as_text(Message(N_("The indicator was not created: correct the fields below."))),
                               problems)
    indicator = Indicator(code=code, is_active=True, **values)
    session.add(indicator)
    session.flush()
    add_version(session, indicator, reason=why, by=actor.email)
    _record(session, actor, "catalogue.indicator_created", indicator, {}, why)
    if any(translations(indicator).values()):
        _record_translation(session, actor, indicator, dict.fromkeys(TRANSLATION_FIELDS, ""), why)
    return indicator


def change_indicator(session: Session, actor, code: str, data: dict, reason: str | None) -> int:
    """Change an indicator's fields (those `data` holds; the others stay) as a new version; returns how
    many fields changed (0: nothing changed, no version)."""
    require_admin(actor, "changes indicators")
    indicator = find(session, code)
    problems: list[ErrorDetail] = []
    why = _reason(reason, problems)
    merged = {**form_values(session, indicator),
              **{k: v for k, v in data.items() if k in (*FIELDS, *TRANSLATION_FIELDS) and v is not None}}
    values, found = checked(session, merged)
    problems += found
    if problems:
        raise ValidationFailed(as_text(message(N_("%(code)s was not saved: correct the fields below."),
                                             code=indicator.code)), problems)
    altered = {k: v for k, v in values.items() if getattr(indicator, k) != v}
    if not altered:
        return 0
    sheet_altered = {k: v for k, v in altered.items() if k not in TRANSLATION_FIELDS}
    if sheet_altered:
        _refuse_new_meaning(session, indicator, sheet_altered)
    before, before_sw = sheet(session, indicator), translations(indicator)
    for name, value in altered.items():
        setattr(indicator, name, value)
    if sheet_altered:
        add_version(session, indicator, reason=why, by=actor.email)
        _record(session, actor, "catalogue.indicator_changed", indicator, before, why)
    if len(sheet_altered) < len(altered):
        _record_translation(session, actor, indicator, before_sw, why)
    return len(altered)


def _record_translation(session: Session, actor, indicator: Indicator, before: dict, reason: str) -> None:
    """Audit a change of the Kiswahili text: the sheet and its version stay as they were."""
    session.flush()
    audit.record(session, "catalogue.indicator_translated", actor=actor, object=admin_object(KIND, indicator.code),
                 details={"before": before, "after": translations(indicator), "reason": reason,
                          "version": indicator.version})
    forget_catalogue(session)


def _refuse_new_meaning(session: Session, indicator: Indicator, altered: dict) -> None:
    """Refuse a change of measure, factor, time aggregation or disaggregation set once figures exist; and a
    change between ratio and not-ratio while an active validation rule names the indicator."""
    columns = {"measure": "measure", "factor": "factor", "time_aggregation": "time_aggregation",
               "disaggregation": "disaggregation_set_id"}
    locked = [name for name in LOCKED if columns[name] in altered]
    code = indicator.code
    if locked:
        figures = figures_count(session, indicator.id)
        if figures:
            shown = sheet(session, indicator)
            new = {**shown, "measure": altered.get("measure", shown["measure"]),
                   "factor": altered.get("factor", shown["factor"]),
                   "time_aggregation": altered.get("time_aggregation", shown["time_aggregation"])}
            if "disaggregation_set_id" in altered:
                new["disaggregation"] = session.scalar(select(DisaggregationSet.code).where(
                    DisaggregationSet.id == altered["disaggregation_set_id"]))
            count = f"{figures:,}"
            refused = (N_("%(code)s already has %(count)s figure: a change of %(fields)s would change what they mean. "
                          "Create a new indicator instead and retire %(code)s, naming the new one as its replacement.")
                       if figures == 1 else
                       N_("%(code)s already has %(count)s figures: a change of %(fields)s would change what they "
                          "mean. Create a new indicator instead and retire %(code)s, naming the new one as its "
                          "replacement."))
            located = (N_("%(code)s has %(count)s figure, so its %(field)s cannot change from %(before)s to "
                          "%(after)s. Create a new indicator and retire %(code)s with the new one as its replacement.")
                       if figures == 1 else
                       N_("%(code)s has %(count)s figures, so its %(field)s cannot change from %(before)s to "
                          "%(after)s. Create a new indicator and retire %(code)s with the new one as its replacement."))
            raise Conflict(
                as_text(message(refused, code=code, count=count,
                              fields=Joined(", ", tuple(Message(LOCKED_WORDS[n]) for n in locked)))),
                [ErrorDetail(_field(name, message(located, code=code, count=count, field=Message(LOCKED_WORDS[name]),
                                                  before=_shown_words(shown[name]), after=_shown_words(new[name]))),
                             {"field": name, "indicator": code, "figures": figures}) for name in locked])
    if "measure" in altered and (altered["measure"] == "ratio") != (indicator.measure == "ratio"):
        rules = _rules_naming(session, code)
        if rules:
            raise Conflict(as_text(message(N_("%(code)s is named by the validation rules %(rules)s."), code=code,
                                         rules=", ".join(rules))), [ErrorDetail(
                _field("measure", message(N_("the active validation rules %(rules)s name %(code)s; a change between "
                                             "ratio and not ratio changes how they must name it (SA12.N, SA12.D). "
                                             "Change or retire those rules first."), rules=", ".join(rules), code=code)),
                {"field": "measure", "indicator": code, "rules": rules})])


def _shown(value) -> str:
    """A field's value as the versions show it: "none" (said again in the page's language) when empty."""
    return as_text(Message(N_("none"))) if value is None or value == "" else str(value)


def _shown_words(value) -> Words | str:
    """`_shown` in a message: the word "none" translated, a value as it is."""
    return Message(N_("none")) if value is None or value == "" else str(value)


def retire_indicator(session: Session, actor, code: str, reason: str | None, replaced_by: str | None = None) -> bool:
    """Retire an indicator (no longer asked for; its figures stay), optionally naming the active indicator that
    replaces it; False when it already was so. Refused while a reporting form asks for it or an active
    validation rule names it."""
    require_admin(actor, "retires indicators")
    indicator = find(session, code)
    problems: list[ErrorDetail] = []
    why = _reason(reason, problems)
    target = None
    wanted = _text(replaced_by).upper()
    if wanted:
        target = session.scalar(select(Indicator).where(Indicator.code == wanted[:40]))
        if target is None:
            problems.append(ErrorDetail(_field("replaced_by", message(N_("%(code)s is not in the catalogue."),
                                                                      code=repr(wanted[:40]))),
                                        {"field": "replaced_by", "value": wanted[:40]}))
        elif target.id == indicator.id:
            problems.append(ErrorDetail(_field("replaced_by", message(N_("%(code)s cannot replace itself."),
                                                                      code=indicator.code)),
                                        {"field": "replaced_by", "value": wanted[:40]}))
        elif not target.is_active:
            problems.append(ErrorDetail(_field("replaced_by", message(
                N_("%(code)s is retired too; name an active indicator."), code=target.code)),
                                        {"field": "replaced_by", "value": wanted[:40]}))
    if problems:
        raise ValidationFailed(as_text(message(N_("%(code)s was not retired: correct the fields below."),
                                             code=indicator.code)), problems)
    target_id = target.id if target is not None else None
    if not indicator.is_active and indicator.replaced_by_id == target_id:
        return False
    forms = _forms_asking(session, indicator.id)
    rules = _rules_naming(session, indicator.code)
    refusals = []
    if forms:
        refusals.append(ErrorDetail(_field("is_active", message(
            N_("the reporting forms %(forms)s still ask for %(code)s; take it off those forms first (each "
               "programme's form), then retire it."), forms=", ".join(forms), code=indicator.code)),
            {"field": "is_active", "indicator": indicator.code, "forms": forms}))
    if rules:
        refusals.append(ErrorDetail(_field("is_active", message(
            N_("the active validation rules %(rules)s name %(code)s; change or retire them first."),
            rules=", ".join(rules), code=indicator.code)),
            {"field": "is_active", "indicator": indicator.code, "rules": rules}))
    if refusals:
        raise Conflict(as_text(message(N_("%(code)s was not retired: it is still in use."), code=indicator.code)),
                       refusals)
    before = sheet(session, indicator)
    indicator.is_active = False
    indicator.replaced_by_id = target_id
    add_version(session, indicator, reason=why, by=actor.email)
    _record(session, actor, "catalogue.indicator_retired", indicator, before, why)
    return True


def reactivate_indicator(session: Session, actor, code: str, reason: str | None) -> bool:
    """Make a retired indicator active again (it is no longer replaced); False when it already was active."""
    require_admin(actor, "reactivates indicators")
    indicator = find(session, code)
    problems: list[ErrorDetail] = []
    why = _reason(reason, problems)
    if problems:
        raise ValidationFailed(as_text(message(N_("%(code)s was not reactivated: say why."), code=indicator.code)),
                               problems)
    if indicator.is_active:
        return False
    before = sheet(session, indicator)
    indicator.is_active = True
    indicator.replaced_by_id = None
    add_version(session, indicator, reason=why, by=actor.email)
    _record(session, actor, "catalogue.indicator_reactivated", indicator, before, why)
    return True


def versions(session: Session, code: str) -> list[IndicatorVersion]:
    """The versions of an indicator's reference sheet, newest first."""
    indicator = find(session, code)
    return list(session.scalars(select(IndicatorVersion).where(IndicatorVersion.indicator_id == indicator.id)
                                .order_by(IndicatorVersion.version.desc())))


def version(session: Session, code: str, number: int) -> IndicatorVersion:
    indicator = find(session, code)
    found = session.scalar(select(IndicatorVersion).where(IndicatorVersion.indicator_id == indicator.id,
                                                          IndicatorVersion.version == number))
    if found is None:
        raise NotFound(as_text(message(N_("%(code)s has no version %(number)s (it is at version %(version)s)."),
                                     code=indicator.code, number=number, version=indicator.version)))
    return found


def changed_fields(older: dict | None, newer: dict) -> list[tuple[str, str, str]]:
    """(label, before, after) of the sheet fields a version changed from the one before it."""
    if older is None:
        return []
    return [(LABELS.get(name, name), _shown(older.get(name)), _shown(newer.get(name)))
            for name in newer if older.get(name) != newer.get(name)]
