"""What the reporting guidelines and the tools are made from: the catalogue, the forms and the rules
as plain JSON (`catalogue_content`), and its version (`catalogue_version`): a short digest of that
content, so two editions (or a tools pack and a handbook) made from the same catalogue carry the
same version, and any change to an indicator's sheet, a form or a rule gives a new one.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mel.catalogue.form_contents import versions
from mel.catalogue.models import Indicator, IndicatorVersion, ReportingForm, ValidationRule
from mel.catalogue.queries import CATALOGUE_FORM_LOADERS
from mel.catalogue.versioning import sheet

RULE_FIELDS = ("code", "name", "description", "left", "operator", "right", "severity", "importance",
               "missing_strategy", "is_active")


def catalogue_content(session: Session) -> dict:
    """Every indicator's reference sheet and version number, every form (programme, windows and the
    contents of each stretch of quarters) and every validation rule, keyed by code."""
    indicators = {}
    numbers = dict(session.execute(select(IndicatorVersion.indicator_id, IndicatorVersion.version)
                                   .order_by(IndicatorVersion.version)).all())
    for indicator in session.scalars(select(Indicator).order_by(Indicator.code)):
        indicators[indicator.code] = {"version": numbers.get(indicator.id, indicator.version),
                                      "sheet": sheet(session, indicator)}
    forms = {}
    for form in session.scalars(select(ReportingForm).order_by(ReportingForm.code).options(
            selectinload(ReportingForm.programme), *CATALOGUE_FORM_LOADERS)):
        forms[form.code] = {
            "name": form.name, "programme": form.programme.code, "frequency": form.frequency,
            "window": {"opens_days": form.opens_days, "due_days": form.due_days, "closes_days": form.closes_days},
            "windows": [{"from": w.from_period, "opens_days": w.opens_days, "due_days": w.due_days,
                         "closes_days": w.closes_days} for w in form.windows],
            "contents": versions(form),
        }
    rules = {rule.code: {name: getattr(rule, name) for name in RULE_FIELDS}
             for rule in session.scalars(select(ValidationRule).order_by(ValidationRule.code))}
    return {"indicators": indicators, "forms": forms, "rules": rules}


def catalogue_version(content: dict) -> str:
    """A short, stable digest of `catalogue_content`: "c-" and 12 hex digits."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return "c-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]
