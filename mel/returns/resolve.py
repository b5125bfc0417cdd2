"""Turn the codes people type (indicators, options, counties, periods) into catalogue ids.

Each code that cannot be resolved becomes a located error, its words a message (indicators/messages.py)
that the page showing it says in the reader's language.
"""

from __future__ import annotations

import pandas as pd

from indicators.figures import COMPONENT_OF_SUFFIX
from indicators.messages import N_, Message, Words, message, period_label
from indicators.periods import PeriodError, PeriodType, parse_period
from indicators.validation import NO_NAMES, Issue, Names, located
from mel.catalogue.lookup import Catalogue, find_org_unit
from mel.catalogue.models import Programme
from mel.periods import period_problem

# What a period that is not a quarter is, in the message refusing it (PeriodType → words).
PERIOD_KINDS = {PeriodType.MONTH: N_("month"), PeriodType.FINANCIAL_YEAR: N_("financial year"),
                PeriodType.YEAR: N_("year")}


def _error(code: str, what: Words | str, row: dict, names: Names = NO_NAMES) -> Issue:
    return located("error", code, what, row, names)


def _records(frame: pd.DataFrame, mask: pd.Series) -> list[dict]:
    """The rows of `frame` where `mask` holds, as dicts; [] at once when none does (the usual case:
    pandas' fixed cost of an empty selection and to_dict was most of a clean write's resolving)."""
    return frame[mask].to_dict("records") if mask.any() else []


def resolve_rows(rows: pd.DataFrame, catalogue: Catalogue, programme: Programme) -> tuple[pd.DataFrame, list[Issue]]:
    """Resolve codes to ids for one programme's rows; unresolvable rows become located errors."""
    frame = rows.copy()
    frame["programme"] = programme.code
    frame["programme_id"] = programme.id
    issues: list[Issue] = []

    # Indicator and component: "SA12.N" -> SA12 numerator; plain codes are values.
    raw_indicator = frame["indicator"].astype(str).str.strip().str.upper()
    suffix = raw_indicator.str[-2:]
    has_suffix = suffix.isin(list(COMPONENT_OF_SUFFIX))
    frame["indicator"] = raw_indicator.where(~has_suffix, raw_indicator.str[:-2])
    frame["component"] = suffix.map(COMPONENT_OF_SUFFIX).where(has_suffix, "value")
    measure = frame["indicator"].map(lambda c: catalogue.specs[c].measure if c in catalogue.specs else None)
    ok = pd.Series(True, index=frame.index)

    # Periods: quarters, or months where the programme's form asks monthly figures (mel.periods.period_problem).
    # Each row is checked against the form of its own quarter (ReportingForm.items_in / org_units_in).
    periods = {}
    form = catalogue.forms.get(programme.id)
    for raw in frame["period"].astype(str).unique():
        try:
            parsed = parse_period(raw)
            kind = PERIOD_KINDS.get(parsed.type)
            if parsed.type in (PeriodType.QUARTER, PeriodType.MONTH):
                problem = period_problem(parsed, form, programme.code)
                periods[raw] = parsed.id if problem is None else (None, problem)
            else:
                periods[raw] = (None, message(N_("%(period)s is a %(kind)s, but returns are kept per quarter (or per "
                                                 "month for a monthly form). Give the quarter, e.g. 2025Q3 for "
                                                 "FY2025/26 Q1 (Jul–Sep 2025)."), period=repr(raw),
                                              kind=Message(kind) if kind else parsed.type.value.replace("_", " ")))
        except PeriodError as exc:
            periods[raw] = (None, exc.message)  # indicators/periods.py's words, said in the reader's language
    resolved_period = frame["period"].astype(str).map(lambda raw: periods[raw] if isinstance(periods[raw], str) else None)
    form_codes = {quarter: catalogue.form_indicators(programme.id, quarter) for quarter in set(resolved_period.dropna())}
    form_units = {quarter: catalogue.form_org_units(programme.id, quarter) for quarter in form_codes}
    # A row whose period is not a quarter (None, or NaN once pandas holds only missing ones) is
    # refused for its period below, not for the form.
    on_form = pd.Series([quarter not in form_codes or indicator in form_codes[quarter]
                         for indicator, quarter in zip(frame["indicator"], resolved_period, strict=True)],
                        index=frame.index)

    unknown = measure.isna()
    for row in _records(frame, unknown):
        issues.append(_error("unknown_indicator",
                             message(N_("%(code)s is not an indicator code of the catalogue. Copy the code from the "
                                        "template (e.g. SA01), or ask the secretariat if it is new."),
                                     code=repr(row["indicator"])), row, catalogue.names))
    not_on_form = ~unknown & ~on_form
    for row in _records(frame, not_on_form):
        issues.append(_error("not_on_form",
                             message(N_("%(figure)s is not on the %(programme)s reporting form for %(period)s. "
                                        "Remove the row, or choose the programme that reports it."),
                                     figure=catalogue.names.figure_words(row["indicator"]), programme=programme.name,
                                     period=period_label(parse_period(row["period"]))), row, catalogue.names))
    ratio_without_part = (measure == "ratio") & (frame["component"] == "value")
    for row in _records(frame, ratio_without_part):
        issues.append(_error("ratio_needs_parts",
                             message(N_("this is a percentage, which is computed here. Give %(code)s.N (numerator) "
                                        "and %(code)s.D (denominator) on two rows instead."),
                                     code=row["indicator"]), row, catalogue.names))
    part_of_non_ratio = measure.notna() & (measure != "ratio") & (frame["component"] != "value")
    for row in _records(frame, part_of_non_ratio):
        issues.append(_error("not_a_ratio",
                             message(N_("this figure is a number, not a percentage: use the code %(code)s without "
                                        ".N or .D."), code=row["indicator"]), row, catalogue.names))
    ok &= ~(unknown | not_on_form | ratio_without_part | part_of_non_ratio)
    frame["indicator_id"] = frame["indicator"].map(
        lambda c: catalogue.indicators[c].id if c in catalogue.indicators else None)

    # Options: must belong to the indicator's disaggregation set.
    frame["option"] = frame["option"].astype(str).str.strip()
    frame.loc[frame["option"] == "", "option"] = "default"
    keys = list(zip(frame["indicator"], frame["option"], strict=True))
    frame["option_combo_id"] = [catalogue.combos.get(key) for key in keys]
    bad_option = ok & frame["option_combo_id"].isna()
    for row in _records(frame, bad_option):
        spec = catalogue.specs[row["indicator"]]
        codes = spec.options + (("total",) if spec.has_total else ())
        valid = ", ".join(f"{code} ({catalogue.names.option(row['indicator'], code)})"
                          if catalogue.names.option(row["indicator"], code) not in ("", code) else code
                          for code in codes)
        issues.append(_error("unknown_option",
                             message(N_("option %(option)s is not one of this indicator's disaggregations. Use one "
                                        "of %(valid)s."), option=repr(row["option"]), valid=valid),
                             {**row, "option": None}, catalogue.names))
    ok &= ~bad_option

    # Org units, resolved once per distinct spelling.
    spellings = {raw: find_org_unit(catalogue, raw) for raw in frame["org_unit"].astype(str).unique()}
    frame["org_unit_raw"] = frame["org_unit"]
    frame["org_unit"] = frame["org_unit_raw"].map(lambda raw: spellings[str(raw)].code if spellings[str(raw)] else None)
    frame["org_unit_id"] = frame["org_unit_raw"].map(lambda raw: spellings[str(raw)].id if spellings[str(raw)] else None)
    bad_unit = frame["org_unit"].isna()
    for row in _records(frame, bad_unit):
        row = {**row, "org_unit": row["org_unit_raw"]}
        issues.append(_error("unknown_org_unit",
                             message(N_("%(org_unit)s is not a county we know. Use the county code (001–047, e.g. "
                                        "042 or 42), its name (e.g. Kisumu), or KE for Kenya."),
                                     org_unit=repr(row["org_unit_raw"])), row, catalogue.names))
    in_form = pd.Series([quarter not in form_units or unit in form_units[quarter]
                         for unit, quarter in zip(frame["org_unit"], resolved_period, strict=True)], index=frame.index)
    outside = ~bad_unit & ~in_form
    for row in _records(frame, outside):
        issues.append(_error("outside_form",
                             message(N_("%(programme)s does not report for %(org_unit)s. Remove these rows, or ask "
                                        "the secretariat to add the county to the form."),
                                     programme=programme.name, org_unit=catalogue.org_units[row["org_unit"]].name),
                             row, catalogue.names))
    ok &= ~(bad_unit | outside)

    for row in _records(frame, resolved_period.isna()):
        issues.append(_error("bad_period", periods[str(row["period"])][1], {**row, "period": None}, catalogue.names))
    ok &= resolved_period.notna()
    frame["period"] = resolved_period
    return frame[ok].copy(), issues


def retired_option_issues(diff: pd.DataFrame, catalogue: Catalogue) -> list[Issue]:
    """A retired option takes no new figures; the figures stored before stay, may be corrected or cleared."""
    if not catalogue.retired_combos:
        return []
    from mel.catalogue.disaggregation_combos import since

    issues = []
    new = (diff["action"] == "create") & diff["option_combo_id"].isin(list(catalogue.retired_combos))
    for row in _records(diff, new):
        combo = int(row["option_combo_id"])
        words = catalogue.names.option(row["indicator"], row["option"])
        named = f" ({words})" if words not in ("", row["option"]) else ""
        issues.append(_error("retired_option",
                             message(N_("option %(option)s%(named)s is retired since %(since)s: it keeps the figures "
                                        "stored before and takes no new ones. Leave the cell empty or remove the "
                                        "row."),
                                     option=row["option"], named=named, since=since(catalogue.retired_combos[combo])),
                             {**row, "option": None}, catalogue.names))
    return issues
