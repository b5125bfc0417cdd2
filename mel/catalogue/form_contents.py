"""Writes of what a reporting form asks for: its indicators (order, required) and org units, from a
stated quarter on.

A form's rows carry the quarters they apply to (`from_period` until `until_period`), and
`ReportingForm.items_in` / `org_units_in` answer what the form asks in a period: a change stated
from quarter Q leaves every quarter before Q as it was, so returns already made keep their form.
Q may not be earlier than the quarter officers report on now (`mel.clock.reporting_quarter`):
closed history is never rewritten. From Q on, the form is exactly what was given (a change
scheduled for a later quarter is replaced). An indicator or org unit with figures in a return of
Q or later cannot be taken off from Q: the refusal names the returns.

Like form_admin.py, everything is validated first (`ValidationFailed` with each problem located by
its field), then flushed, audited with before and after and a reason, and the catalogue is read again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.messages import N_, Message, message, period_label
from indicators.messages import text as as_text
from indicators.periods import Period, parse_period
from mel import clock
from mel.accounts import audit
from mel.accounts.models import User
from mel.catalogue.form_admin import (
    checked_reason,
    form_of,
    form_settings,
    located,
    require_admin,
    save_window,
    stated_quarter,
)
from mel.catalogue.lookup import forget_catalogue
from mel.catalogue.models import (
    Indicator,
    OrgUnit,
    Programme,
    ReportingForm,
    ReportingFormIndicator,
    ReportingFormOrgUnit,
)
from mel.catalogue.operations import admin_object
from mel.catalogue.queries import name_key
from mel.converters import is_digits
from mel.errors import Conflict, ErrorDetail, ValidationFailed

NAMED_RETURNS = 10  # a refusal names this many returns, then counts the rest


@dataclass(frozen=True)
class Item:
    """One indicator of a form's content, and whether its cells are required."""

    indicator: Indicator
    required: bool

    @property
    def indicator_id(self) -> int:
        return self.indicator.id

    @property
    def code(self) -> str:
        return self.indicator.code


def contents_at(form: ReportingForm, quarter: str) -> dict:
    """What the form asks in a quarter, as the audit and the API show it."""
    return {"indicators": [{"indicator": item.indicator.code, "required": bool(item.is_required)}
                           for item in form.items_in(quarter)],
            "org_units": [unit.code for unit in form.org_units_in(quarter)]}


def versions(form: ReportingForm) -> list[dict]:
    """The form's stretches of quarters with one content, oldest first: {from, until, indicators, org_units}
    (from None: since the beginning; until None: open-ended). Before a new programme's first quarter
    its form asked nothing: that stretch is left out."""
    bounds = sorted({p for row in [*form.items, *form.units] for p in (row.from_period, row.until_period) if p})
    if not bounds:
        return [{"from": None, "until": None, **contents_at(form, clock.reporting_quarter().id)}]
    stretches = [(None, bounds[0], parse_period(bounds[0]).previous().id)]
    stretches += [(start, bounds[i + 1] if i + 1 < len(bounds) else None, start) for i, start in enumerate(bounds)]
    out = [{"from": start, "until": until, **contents_at(form, probe)} for start, until, probe in stretches]
    return [v for v in out if v["from"] is not None or v["indicators"] or v["org_units"]]


# --------------------------------------------------------------------------- checks


def _flag(value, name: str, problems: list[ErrorDetail]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    problems.append(ErrorDetail(located(name, message(N_("%(value)s is not yes or no (true or false)."),
                                                      value=repr(value))), {"field": name}))
    return False


def checked_items(session: Session, raw, problems: list[ErrorDetail], current: set[int]) -> list[Item]:
    """The indicators, in order, from [{"indicator": code, "required": bool}]; each problem located
    as indicators[i]. `current`: indicators already on the form (a retired one may stay)."""
    if not isinstance(raw, list | tuple):
        problems.append(ErrorDetail(located("indicators", message(N_("give a list of {indicator, required}."))),
                                    {"field": "indicators"}))
        return []
    codes = [str(entry.get("indicator") if isinstance(entry, dict) else entry or "").strip().upper() for entry in raw]
    known = {i.code: i for i in session.scalars(select(Indicator).where(Indicator.code.in_([c for c in codes if c])))}
    items: list[Item] = []
    seen: set[str] = set()
    for index, (entry, code) in enumerate(zip(raw, codes, strict=True)):
        where = f"indicators[{index}]"
        location = {"field": where, **({"indicator": code} if code else {})}
        if not code:
            problems.append(ErrorDetail(located(where, message(N_("the indicator code is empty."))), location))
            continue
        indicator = known.get(code)
        if indicator is None:
            problems.append(ErrorDetail(located(where, message(N_("%(code)s is not an indicator of the catalogue."),
                                                               code=repr(code))), location))
            continue
        if code in seen:
            problems.append(ErrorDetail(located(where, message(
                N_("%(code)s is on the list twice; give each indicator once."), code=code)), location))
            continue
        seen.add(code)
        if not indicator.is_active and indicator.id not in current:
            problems.append(ErrorDetail(located(where, message(
                N_("%(code)s is retired; reactivate it before adding it to a form."), code=code)), location))
            continue
        required = _flag(entry.get("required", True) if isinstance(entry, dict) else True,
                         f"{where}.required", problems)
        items.append(Item(indicator, required))
    return items


def _find_unit(units: dict[str, OrgUnit], text: str) -> OrgUnit | None:
    wanted = {text, text.upper(), name_key(text)}
    if is_digits(text) and len(text) <= 3:
        wanted.add(f"{int(text):03d}")
    if text.strip().lower() in ("kenya", "national"):
        wanted.add("KE")
    return next((u for key in wanted if (u := units.get(key)) is not None), None)


def checked_units(session: Session, raw, problems: list[ErrorDetail], *, level: str | None = None) -> list[OrgUnit]:
    """The org units, from codes (042 or 42), names, ISO codes or UIDs; each problem located as org_units[i].
    A county-funded programme (`level` county) reports for counties, not for Kenya as a whole."""
    if isinstance(raw, str):
        raw = [part for part in raw.replace(";", ",").split(",") if part.strip()]
    if not isinstance(raw, list | tuple):
        problems.append(ErrorDetail(located("org_units", message(N_("give a list of org unit codes."))),
                                    {"field": "org_units"}))
        return []
    units: dict[str, OrgUnit] = {}
    for unit in session.scalars(select(OrgUnit)):
        for key in (unit.code, unit.uid, (unit.iso_code or "").upper(), name_key(unit.name)):
            if key:
                units.setdefault(key, unit)
    chosen: dict[int, OrgUnit] = {}
    for index, entry in enumerate(raw):
        text = str(entry if entry is not None else "").strip()
        where = f"org_units[{index}]"
        unit = _find_unit(units, text) if text else None
        if unit is None:
            problems.append(ErrorDetail(located(where, message(
                N_("%(value)s is not an org unit: use KE, a county code (001–047, e.g. 042), a sub-county code "
                   "(SC001–SC290), a ward code (W0001–W1450), or a name."),
                value=repr(text))), {"field": where, "value": text}))
            continue
        if level == "county" and unit.level == 1:
            problems.append(ErrorDetail(located(where, message(
                N_("a county-funded programme reports for counties, not for %(unit)s as a whole."), unit=unit.name)),
                {"field": where, "value": text}))
            continue
        chosen[unit.id] = unit
    problems.extend(_overlaps(list(chosen.values())))
    return sorted(chosen.values(), key=lambda unit: unit.code)


def _overlaps(units: list[OrgUnit]) -> list[ErrorDetail]:
    """A form asks a unit or units under it, never both: a county's figure is its own return's or its
    wards' compiled, so the same people are never counted twice (a unit under another is refused)."""
    problems = []
    for unit in sorted(units, key=lambda u: u.path):
        above = next((other for other in units if other.id != unit.id and unit.path.startswith(other.path)), None)
        if above is not None:
            problems.append(ErrorDetail(located("org_units", message(
                N_("%(unit)s (%(code)s) lies within %(above)s (%(above_code)s), which the form also asks: ask the "
                   "returns of %(above)s or of the units within it, not both, or its figures would count twice."),
                unit=unit.name, code=unit.code, above=above.name, above_code=above.code)),
                {"field": "org_units", "value": unit.code}))
    return problems


def level_changes(form: ReportingForm, quarter: Period, units: list[OrgUnit]) -> list[ErrorDetail]:
    """A unit that takes the place of one above or below it (a county's wards instead of the county, or
    back) only from the first quarter of a financial year: a year's figures then come from one level,
    and a stock's latest figure is never taken from both."""
    first = quarter.financial_year().quarters()[0]
    if quarter == first:
        return []
    before = form.org_units_in(quarter.shift(-1).id)
    before_ids = {unit.id for unit in before}
    problems = []
    for unit in units:
        if unit.id in before_ids:
            continue
        replaced = next((old for old in before if old.id not in {u.id for u in units}
                         and (unit.path.startswith(old.path) or old.path.startswith(unit.path))), None)
        if replaced is not None:
            problems.append(ErrorDetail(located("org_units", message(
                N_("%(unit)s (%(code)s) would take the place of %(old)s (%(old_code)s) from %(quarter)s: a form "
                   "changes the level it asks figures at only from the first quarter of a financial year, so that a "
                   "year's figures come from one level. State %(next)s."),
                unit=unit.name, code=unit.code, old=replaced.name, old_code=replaced.code,
                quarter=period_label(quarter), next=quarter.financial_year().shift(1).quarters()[0].id)),
                {"field": "org_units", "value": unit.code}))
    return problems


def _named(rows, limit: int = NAMED_RETURNS) -> Message | str:
    """The returns named ("OPCT 042 2026Q1, …"), then how many more."""
    names = ", ".join(f"{programme} {unit} {period}" for programme, unit, period in rows[:limit])
    if len(rows) > limit:
        return message(N_("%(returns)s and %(count)s more"), returns=names, count=len(rows) - limit)
    return names


def _removal_problems(session: Session, form: ReportingForm, quarter: Period, items: list[Item] | None,
                      units: list[OrgUnit] | None) -> list[ErrorDetail]:
    """Indicators and org units the change takes off from `quarter` on while a return of that quarter or
    later already holds them: each refused, naming the returns."""
    from mel.returns.models import DataValue, Return

    problems: list[ErrorDetail] = []
    later = [row for row in form.items if row.until_period is None or row.until_period > quarter.id]
    if items is not None:
        kept = {item.indicator_id for item in items}
        for indicator_id, code in sorted({(row.indicator_id, row.indicator.code) for row in later
                                          if row.indicator_id not in kept}, key=lambda pair: pair[1]):
            rows = session.execute(
                select(Programme.code, OrgUnit.code, Return.period)
                .join(Return, Return.programme_id == Programme.id).join(OrgUnit, OrgUnit.id == Return.org_unit_id)
                .where(Return.id.in_(select(DataValue.return_id).where(
                    DataValue.programme_id == form.programme_id, DataValue.indicator_id == indicator_id,
                    DataValue.period >= quarter.id)))
                .order_by(Return.period, OrgUnit.code)).all()
            if rows:
                template = (N_("%(code)s cannot come off the form from %(quarter)s: %(count)s return of that quarter "
                               "or later hold its figures (%(returns)s). State a later quarter, or clear those "
                               "figures first.") if len(rows) == 1 else
                            N_("%(code)s cannot come off the form from %(quarter)s: %(count)s returns of that quarter "
                               "or later hold its figures (%(returns)s). State a later quarter, or clear those "
                               "figures first."))
                problems.append(ErrorDetail(located("indicators", message(
                    template, code=code, quarter=period_label(quarter), count=len(rows), returns=_named(rows))),
                    {"field": "indicators", "indicator": code}))
    if units is not None:
        kept_units = {unit.id for unit in units}
        leaving = sorted({(row.org_unit_id, row.org_unit.code) for row in form.units
                          if (row.until_period is None or row.until_period > quarter.id)
                          and row.org_unit_id not in kept_units}, key=lambda pair: pair[1])
        for unit_id, code in leaving:
            rows = session.execute(
                select(Programme.code, OrgUnit.code, Return.period)
                .join(Return, Return.programme_id == Programme.id).join(OrgUnit, OrgUnit.id == Return.org_unit_id)
                .where(Return.programme_id == form.programme_id, Return.org_unit_id == unit_id,
                       Return.period >= quarter.id)
                .order_by(Return.period)).all()
            if rows:
                template = (N_("%(code)s cannot come off the form from %(quarter)s: its return %(returns)s already "
                               "exists. State a later quarter.") if len(rows) == 1 else
                            N_("%(code)s cannot come off the form from %(quarter)s: its returns %(returns)s already "
                               "exist. State a later quarter."))
                problems.append(ErrorDetail(located("org_units", message(
                    template, code=code, quarter=period_label(quarter), returns=_named(rows))),
                    {"field": "org_units", "value": code}))
    return problems


# --------------------------------------------------------------------------- the change


def _apply_items(session: Session, form: ReportingForm, quarter: str, items: list[Item]) -> None:
    """From `quarter` on, the form asks exactly `items` (in order); quarters before keep their rows."""
    for row in [row for row in form.items if row.from_period is not None and row.from_period >= quarter]:
        form.items.remove(row)  # a stretch that starts at or after the quarter is replaced
    session.flush()
    wanted = {item.indicator_id: (position, item.required) for position, item in enumerate(items)}
    indicators = {item.indicator_id: item.indicator for item in items}
    continued: set[int] = set()
    for row in form.items:
        reaches = row.applies(quarter) or row.until_period == quarter
        if not reaches:
            continue
        if wanted.get(row.indicator_id) == (row.position, bool(row.is_required)) and row.indicator_id not in continued:
            row.until_period = None  # the same row goes on: no needless split of its history
            continued.add(row.indicator_id)
        elif row.applies(quarter):
            row.until_period = quarter
    for indicator_id, (position, required) in wanted.items():
        if indicator_id not in continued:
            form.items.append(ReportingFormIndicator(indicator_id=indicator_id, indicator=indicators[indicator_id],
                                                     position=position, is_required=required, from_period=quarter))


def _apply_units(session: Session, form: ReportingForm, quarter: str, units: list[OrgUnit]) -> None:
    """From `quarter` on, the form asks returns of exactly `units`; quarters before keep their rows."""
    for row in [row for row in form.units if row.from_period is not None and row.from_period >= quarter]:
        form.units.remove(row)
    session.flush()
    wanted = {unit.id for unit in units}
    continued: set[int] = set()
    for row in form.units:
        if not (row.applies(quarter) or row.until_period == quarter):
            continue
        if row.org_unit_id in wanted and row.org_unit_id not in continued:
            row.until_period = None
            continued.add(row.org_unit_id)
        elif row.applies(quarter):
            row.until_period = quarter
    for unit in units:
        if unit.id not in continued:
            form.units.append(ReportingFormOrgUnit(org_unit_id=unit.id, org_unit=unit, from_period=quarter))


def _schedule(form: ReportingForm, quarter: str) -> list[dict]:
    """The form's stretches from `quarter` on (what a change from there replaces), for the audit."""
    return [v for v in versions(form) if v["until"] is None or v["until"] > quarter]


def not_saved(form: ReportingForm):
    return as_text(message(N_("The indicators and org units of %(form)s were not saved."), form=form.code))


def apply_contents(session: Session, user: User, form: ReportingForm, quarter: Period, *,
                   items: list[Item] | None, units: list[OrgUnit] | None, reason: str) -> bool:
    """Make the form ask `items` and `units` (None: keep as they are at the quarter) from `quarter` on;
    audit before and after. Refuses (ValidationFailed) to take off what returns already hold.
    Returns whether anything changed. The programme's "operates in" follows the form's open-ended org units."""
    problems = _removal_problems(session, form, quarter, items, units)
    if units is not None:
        problems += level_changes(form, quarter, units)
    if problems:
        raise ValidationFailed(not_saved(form), problems)
    before = contents_at(form, quarter.id)
    schedule_before = _schedule(form, quarter.id)
    if items is None:
        items = [Item(row.indicator, bool(row.is_required)) for row in form.items_in(quarter.id)]
    if units is None:
        units = form.org_units_in(quarter.id)
    after = {"indicators": [{"indicator": item.code, "required": item.required} for item in items],
             "org_units": [unit.code for unit in units]}
    if after == before and len(schedule_before) <= 1:
        return False
    _apply_items(session, form, quarter.id, items)
    _apply_units(session, form, quarter.id, units)
    session.flush()
    programme = session.get(Programme, form.programme_id)
    if programme is not None:
        _follow_form(session, programme, form)
    session.flush()
    audit.record(session, "catalogue.form_contents_changed", actor=user,
                 object=admin_object("reporting form", form.code),
                 details={"reason": reason, "from_period": quarter.id, "before": before, "after": after,
                          "replaced": schedule_before[1:]})
    forget_catalogue(session)
    return True


def _follow_form(session: Session, programme: Programme, form: ReportingForm) -> None:
    """The programme operates where its form asks returns from now on (its open-ended org units)."""
    from sqlalchemy.orm import selectinload

    loaded = session.scalar(select(Programme).where(Programme.id == programme.id)
                            .options(selectinload(Programme.org_units)))
    wanted = sorted({row.org_unit_id: row.org_unit for row in form.units if row.until_period is None}.values(),
                    key=lambda unit: unit.code)
    if [u.id for u in loaded.org_units] != [u.id for u in wanted]:
        loaded.org_units = wanted


def save_contents(session: Session, user: User, programme_code: str, values: dict) -> ReportingForm:
    """Change a form's indicators (order, required) and/or org units from a stated quarter on, with a reason.

    `values`: from_period, indicators ([{indicator, required}] in order; left out: unchanged),
    org_units (codes; left out: unchanged), reason.
    """
    require_admin(user, "changes reporting forms")
    form = form_of(session, programme_code)
    problems: list[ErrorDetail] = []
    quarter = stated_quarter(values.get("from_period"), problems)
    if "indicators" not in values and "org_units" not in values:
        problems.append(ErrorDetail(located("indicators", message(N_("give the form's indicators, its org units, "
                                                                     "or both."))), {"field": "indicators"}))
    current = {row.indicator_id for row in form.items}
    items = checked_items(session, values["indicators"], problems, current) if "indicators" in values else None
    level = session.scalar(select(Programme.level).where(Programme.id == form.programme_id))
    units = checked_units(session, values["org_units"], problems, level=level) if "org_units" in values else None
    if units is not None and not units and "org_units" in values and not any(
            p.location.get("field", "").startswith("org_units") for p in problems):
        problems.append(ErrorDetail(located("org_units", message(N_("a form asks returns of at least one org unit."))),
                                    {"field": "org_units"}))
    reason = checked_reason(values.get("reason"), problems)
    if problems:
        raise ValidationFailed(not_saved(form), problems)
    assert quarter is not None
    if not apply_contents(session, user, form, quarter, items=items, units=units, reason=reason):
        raise Conflict(as_text(message(N_("Nothing changes on %(form)s: from %(quarter)s on it already asks for "
                                          "these indicators and org units."), form=form.code,
                                       quarter=period_label(quarter))))
    return form_of(session, programme_code)


WINDOW_FIELDS = ("frequency", "opens_days", "due_days", "closes_days")
CONTENT_FIELDS = ("indicators", "org_units")


def save_form(session: Session, user: User, programme_code: str, values: dict) -> ReportingForm:
    """One change of a form through the API: its window and frequency (form_admin.save_window), its
    indicators and org units (save_contents), or both, in one transaction, from `from_period` on (for a
    window alone, by default the quarter being reported now).

    A window given as it already is from that quarter does not count as a change when the contents change.
    """
    require_admin(user, "changes reporting forms")
    window = {name: values[name] for name in WINDOW_FIELDS if name in values}
    contents = any(name in values for name in CONTENT_FIELDS)
    if not window and not contents:
        raise ValidationFailed(as_text(message(N_("Nothing to change on the %(form)s form."), form=programme_code)),
                               [ErrorDetail(located("indicators", message(
                                   N_("give the window (frequency, opens_days, due_days, closes_days), the indicators "
                                      "and org units with from_period, or both."))), {"field": "indicators"})])
    if window and not contents:
        return save_window(session, user, programme_code, values)
    quarter = stated_quarter(values.get("from_period"), []) if window else None
    if quarter is not None:  # without a good quarter, save_contents refuses the change naming from_period
        current = form_settings(form_of(session, programme_code), quarter.id)
        if any(str(value).strip() != str(current[name]) for name, value in window.items()):
            save_window(session, user, programme_code,
                        {**window, "from_period": quarter.id, "reason": values.get("reason")})
    return save_contents(session, user, programme_code, values)
