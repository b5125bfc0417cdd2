"""Writes of the secretariat's programme administration: create a programme (with its reporting form)
and change it (name, pillar, agency, national or county-funded, and where it operates).

Where a programme operates is the org units of its reporting form: a change of them applies from a
stated quarter on (form_contents.py), so earlier returns keep the form they were made with; a new
programme's form asks returns from its first quarter on, and asks no indicators until they are added.
As everywhere in the catalogue administration, every problem is reported at once and located by its
field, nothing is saved on error, and each change is audited with before and after and a reason.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from indicators.messages import N_, message, period_label
from indicators.messages import text as as_text
from mel.accounts import audit
from mel.accounts.models import User
from mel.catalogue import form_contents
from mel.catalogue.form_admin import (
    CODE_CHARACTERS,
    PROGRAMME_LEVELS,
    checked_reason,
    form_of,
    located,
    require_admin,
    too_long,
)
from mel.catalogue.language import checked_translation
from mel.catalogue.lookup import forget_catalogue
from mel.catalogue.models import Pillar, Programme, ReportingForm
from mel.catalogue.operations import admin_object
from mel.catalogue.queries import programme as find_programme
from mel.errors import Conflict, ErrorDetail, ValidationFailed
from mel.uid import stable_uid

KIND = "programme"
LIMITS = {"code": 20, "name": 200, "agency": 200, "notes": 2000, "name_sw": 200, "notes_sw": 2000}
FIELDS = ("name", "pillar", "agency", "level", "notes", "name_sw", "notes_sw")
TRANSLATION_FIELDS = ("name_sw", "notes_sw")  # the Kiswahili name and notes (mel/catalogue/language.py)
LEVEL_WORDS = {"national": "national programme", "county": "county-funded programme"}


def form_name(programme_name: str) -> str:
    """The name of a programme's reporting form (as the seed names them)."""
    return f"{programme_name} – quarterly return"


def settings(programme: Programme, pillar_code: str | None = None) -> dict:
    """A programme's fields as the audit keeps them."""
    return {"code": programme.code, "name": programme.name,
            "pillar": pillar_code if pillar_code is not None else programme.pillar.code,
            "agency": programme.agency, "level": programme.level, "notes": programme.notes or "",
            "name_sw": programme.name_sw or "", "notes_sw": programme.notes_sw or "",
            "org_units": [unit.code for unit in programme.org_units]}


def _text(values: dict, name: str, problems: list[ErrorDetail], *, required: bool = True) -> str:
    raw = values.get(name)
    text = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw).strip())
    if required and not text:
        problems.append(ErrorDetail(located(name, message(N_("this is required."))), {"field": name}))
    elif len(text) > LIMITS[name]:
        problems.append(ErrorDetail(located(name, too_long(LIMITS[name], len(text))), {"field": name}))
    return text


def _kiswahili(values: dict, name: str, problems: list[ErrorDetail]) -> str:
    return checked_translation(values.get(name), name, LIMITS[name], problems)


def _code(session: Session, values: dict, problems: list[ErrorDetail]) -> str:
    code = _text(values, "code", problems).upper()
    if not code:
        return code
    if not set(code) <= CODE_CHARACTERS:
        problems.append(ErrorDetail(located("code", message(
            N_("%(code)s may use only the letters A–Z, digits, - and _."), code=repr(code))),
            {"field": "code", "value": code}))
    elif session.scalar(select(Programme.id).where(Programme.code == code)) is not None:
        problems.append(ErrorDetail(located("code", message(
            N_("a programme %(code)s already exists; choose another code."), code=code)),
            {"field": "code", "value": code}))
    elif session.scalar(select(ReportingForm.id).where(ReportingForm.code == f"{code}-QR")) is not None:
        problems.append(ErrorDetail(located("code", message(
            N_("a reporting form %(form)s already exists; choose another code."), form=f"{code}-QR")),
            {"field": "code", "value": code}))
    return code


def _pillar(session: Session, raw, problems: list[ErrorDetail]) -> Pillar | None:
    text = str(raw or "").strip()
    pillars = {p.code: p for p in session.scalars(select(Pillar).order_by(Pillar.sort_order))}
    if not text:
        problems.append(ErrorDetail(located("pillar", message(N_("choose one of %(pillars)s."),
                                                              pillars=", ".join(pillars))), {"field": "pillar"}))
        return None
    found = pillars.get(text) or pillars.get(text.lower()) or next(
        (p for p in pillars.values() if p.name.lower() == text.lower()), None)
    if found is None:
        problems.append(ErrorDetail(located("pillar", message(N_("%(value)s is not a pillar; choose one of %(pillars)s."),
                                                              value=repr(text), pillars=", ".join(pillars))),
                                    {"field": "pillar", "value": text}))
    return found


def _level(raw, problems: list[ErrorDetail]) -> str:
    text = str(raw or "").strip().lower()
    if text not in PROGRAMME_LEVELS:
        problems.append(ErrorDetail(located("level", message(
            N_("%(value)s is not a level; a programme is national or county (county-funded)."), value=repr(text))),
            {"field": "level", "value": text}))
    return text


def create_programme(session: Session, user: User, values: dict) -> Programme:
    """Create a programme and its (empty) reporting form, asking returns of its org units from a quarter on."""
    require_admin(user, "creates programmes")
    problems: list[ErrorDetail] = []
    code = _code(session, values, problems)
    name = _text(values, "name", problems)
    pillar = _pillar(session, values.get("pillar"), problems)
    agency = _text(values, "agency", problems)
    level = _level(values.get("level"), problems)
    notes = _text(values, "notes", problems, required=False)
    translated = {name: _kiswahili(values, name, problems) for name in TRANSLATION_FIELDS}
    units = form_contents.checked_units(session, values.get("org_units") or [], problems,
                                        level=level if level in PROGRAMME_LEVELS else None)
    if not units and not any(p.location.get("field", "").startswith("org_units") for p in problems):
        problems.append(ErrorDetail(located("org_units", message(
            N_("choose where the programme operates (at least one org unit)."))), {"field": "org_units"}))
    quarter = form_contents.stated_quarter(values.get("from_period"), problems)
    reason = checked_reason(values.get("reason"), problems)
    if problems:
        raise ValidationFailed(as_text(message(N_("The programme was not created."))), problems)
    assert pillar is not None and quarter is not None
    programme = Programme(code=code, uid=stable_uid(KIND, code), name=name, pillar_id=pillar.id, pillar=pillar,
                          agency=agency, level=level, notes=notes, org_units=[], **translated)
    session.add(programme)
    session.flush()
    form = ReportingForm(code=f"{code}-QR", uid=stable_uid("reporting form", f"{code}-QR"), name=form_name(name),
                         programme_id=programme.id, programme=programme, frequency="quarterly",
                         opens_days=0, due_days=15, closes_days=45, items=[], units=[], window_exceptions=[], windows=[])
    session.add(form)
    session.flush()
    audit.record(session, "catalogue.programme_created", actor=user, object=admin_object(KIND, code),
                 details={"reason": reason, "before": {},
                          "after": {**settings(programme, pillar.code), "org_units": [u.code for u in units],
                                    "from_period": quarter.id, "form": form.code}})
    form_contents.apply_contents(session, user, form, quarter, items=[], units=units, reason=reason)
    forget_catalogue(session)
    return find_programme(session, code)


def update_programme(session: Session, user: User, programme_code: str, values: dict) -> Programme:
    """Change a programme's fields (left out: unchanged) and where it operates (from a stated quarter on)."""
    require_admin(user, "changes programmes")
    programme = session.scalar(
        select(Programme).where((Programme.code == programme_code) | (Programme.uid == programme_code))
        .options(selectinload(Programme.pillar), selectinload(Programme.org_units)))
    if programme is None:
        find_programme(session, programme_code)  # raises the located NotFound
    assert programme is not None
    form = form_of(session, programme.code)
    problems: list[ErrorDetail] = []
    if "code" in values and str(values.get("code") or "").strip().upper() not in ("", programme.code):
        problems.append(ErrorDetail(located("code", message(
            N_("a programme's code does not change (%(code)s): returns, plans and DHIS2 clients know it by it. "
               "Create a new programme instead."), code=programme.code)),
            {"field": "code", "value": str(values["code"])}))
    name = _text(values, "name", problems) if "name" in values else programme.name
    pillar = _pillar(session, values.get("pillar"), problems) if "pillar" in values else programme.pillar
    agency = _text(values, "agency", problems) if "agency" in values else programme.agency
    level = _level(values.get("level"), problems) if "level" in values else programme.level
    notes = _text(values, "notes", problems, required=False) if "notes" in values else (programme.notes or "")
    translated = {name: _kiswahili(values, name, problems) if name in values else (getattr(programme, name) or "")
                  for name in TRANSLATION_FIELDS}
    units = None
    quarter = None
    if "org_units" in values:
        units = form_contents.checked_units(session, values.get("org_units") or [], problems,
                                            level=level if level in PROGRAMME_LEVELS else None)
        if not units and not any(p.location.get("field", "").startswith("org_units") for p in problems):
            problems.append(ErrorDetail(located("org_units", message(N_("a programme operates in at least one org "
                                                                        "unit."))), {"field": "org_units"}))
    if "org_units" in values or values.get("from_period") not in (None, ""):
        quarter = form_contents.stated_quarter(values.get("from_period"), problems)
    if level == "county" and units is None:
        national = [u.code for u in programme.org_units if u.level == 1]
        if national:
            problems.append(ErrorDetail(located("level", message(
                N_("a county-funded programme reports for counties, not for Kenya as a whole; change where it "
                   "operates (org_units) too."))), {"field": "level", "value": level}))
    reason = checked_reason(values.get("reason"), problems)
    if problems:
        raise ValidationFailed(as_text(message(N_("The programme %(code)s was not saved."), code=programme.code)),
                               problems)
    assert pillar is not None
    before = settings(programme)
    fields = {"name": name, "pillar_id": pillar.id, "agency": agency, "level": level, "notes": notes, **translated}
    changed_fields = {k: v for k, v in fields.items() if getattr(programme, k) != v}
    contents_changed = False
    if quarter is not None:
        contents_changed = form_contents.apply_contents(session, user, form, quarter, items=None, units=units,
                                                        reason=reason)
    if not changed_fields and not contents_changed:
        raise Conflict(as_text(
            message(N_("Nothing changes on %(code)s: it already has these values and operates there from %(quarter)s "
                       "on."), code=programme.code, quarter=period_label(quarter)) if quarter is not None else
            message(N_("Nothing changes on %(code)s: it already has these values."), code=programme.code)))
    if changed_fields:
        for key, value in changed_fields.items():
            setattr(programme, key, value)
        programme.pillar = pillar
        if "name" in changed_fields and form.name == form_name(before["name"]):
            form.name = form_name(name)
        session.flush()
    after = settings(programme, pillar.code)
    audit.record(session, "catalogue.programme_changed", actor=user, object=admin_object(KIND, programme.code),
                 details={"reason": reason, "before": before, "after": after,
                          **({"from_period": quarter.id} if quarter is not None else {})})
    forget_catalogue(session)
    return find_programme(session, programme.code)
