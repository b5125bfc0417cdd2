"""Checks that need the database: history, flags and their explanations, completeness, conflicts."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from indicators.explanations import explanation_code
from indicators.figures import figure_code, split_code
from indicators.history import HistorySettings, figure_warnings
from indicators.messages import MONTHS, N_, Joined, Message, Text, Words, as_data, message, text
from indicators.periods import parse_period
from indicators.validation import (
    VALUE_KEY,
    Issue,
    Rule,
    fmt,
    missing_issues,
    ratio_issues,
    rule_issues,
    total_issues,
)
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue, load_catalogue
from mel.catalogue.models import ReportingForm
from mel.returns.models import (
    DataValue,
    NarrativeChange,
    Return,
    ReturnEvent,
    ValueChange,
    ValueFlag,
)

# Quarters of stored history read for the checks: eight for most series, three same quarters
# of earlier years for seasonal and annual indicators.
HISTORY_WINDOW = 12


def form_id(session: Session, programme_id: int) -> int:
    return session.scalar(select(ReportingForm.id).where(ReportingForm.programme_id == programme_id))


def _frame(rows, catalogue: Catalogue) -> pd.DataFrame:
    return pd.DataFrame(
        [(catalogue.programme_codes[p], catalogue.org_unit_codes[o], per, catalogue.indicator_codes[i], comp,
          catalogue.combo_codes[c], float(v))
         for p, o, per, i, comp, c, v in rows],
        columns=[*VALUE_KEY, "number"],
    )


_COLUMNS = (DataValue.programme_id, DataValue.org_unit_id, DataValue.period, DataValue.indicator_id,
            DataValue.component, DataValue.option_combo_id, DataValue.value)


def _history(session: Session, current: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Stored figures of the same series in the quarters before each current period."""
    periods = set()
    for period in current["period"].unique():
        periods.update(p.id for p in [parse_period(period).shift(-n) for n in range(1, HISTORY_WINDOW + 1)])
    programme_ids = [catalogue.programmes[c].id for c in current["programme"].unique()]
    unit_ids = [catalogue.org_units[c].id for c in current["org_unit"].unique()]
    indicator_ids = [catalogue.indicators[c].id for c in current["indicator"].unique()]
    rows = session.execute(
        select(*_COLUMNS)
        .where(DataValue.programme_id.in_(programme_ids), DataValue.org_unit_id.in_(unit_ids),
               DataValue.indicator_id.in_(indicator_ids), DataValue.period.in_(sorted(periods)))
    ).all()
    return _frame(rows, catalogue)


def _peers(session: Session, current: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Approved figures of the other units of the same programmes, in the current and previous
    quarters: what the share and copy checks compare with (never another unit's unapproved figures)."""
    periods = set()
    for period in current["period"].unique():
        periods.update({period, parse_period(period).previous().id})
    programme_ids = [catalogue.programmes[c].id for c in current["programme"].unique()]
    unit_ids = [catalogue.org_units[c].id for c in current["org_unit"].unique()]
    indicator_ids = [catalogue.indicators[c].id for c in current["indicator"].unique()]
    rows = session.execute(
        select(*_COLUMNS).join(Return, Return.id == DataValue.return_id)
        .where(DataValue.programme_id.in_(programme_ids), DataValue.org_unit_id.not_in(unit_ids),
               DataValue.indicator_id.in_(indicator_ids), DataValue.period.in_(sorted(periods)),
               Return.state == "approved")
    ).all()
    return _frame(rows, catalogue)


def history_warnings(session: Session, effective: pd.DataFrame, changed: set[tuple],
                     catalogue: Catalogue, settings: HistorySettings | None = None) -> list[Issue]:
    """Warnings from history and peers (indicators/history.py), for the returns this ingest changes."""
    if not changed or effective.empty:
        return []
    settings = settings or HistorySettings()
    keys = pd.Series(list(zip(effective["programme"], effective["org_unit"], effective["period"], strict=True)),
                     index=effective.index)
    current = effective[keys.isin(changed) & effective["number"].notna()]
    if current.empty:
        return []
    past = _history(session, current, catalogue)
    peers = _peers(session, current, catalogue) if (settings.share or settings.copies) else None
    return figure_warnings(current, past, catalogue.specs, settings, catalogue.names, peers)


def flag_key(issue: Issue) -> str:
    location = issue.location
    if issue.code == "rule":
        return f"rule:{location.get('rule')}"
    if issue.code == "copied":
        return f"copied:{location.get('copied_from', '')}"
    indicator = str(location.get("indicator", ""))
    return f"{issue.code}:{indicator}:{location.get('option', '')}"


def typed_explanation(typed: dict, key: tuple, issue: Issue, rules: dict[str, Rule]) -> str:
    """The explanation typed with this write for a warning of the return at `key`, or "".

    A figure's warning is explained on that figure (or any option of its indicator); a rule's
    warning by an explanation on any figure of the indicators the rule names.
    """
    if issue.code == "rule":
        rule = rules.get(str(issue.location.get("rule", "")))
        codes = rule.indicators if rule else ()
        return next((typed[(*key, code, "*")] for code in codes if (*key, code, "*") in typed), "")
    if issue.code == "copied":  # about the whole return: any explanation typed in it
        return next((text for k, text in typed.items() if k[:3] == key and k[4] == "*"), "")
    indicator = str(issue.location.get("indicator", ""))
    return typed.get((*key, indicator, issue.location.get("option", ""))) \
        or typed.get((*key, split_code(indicator)[0], "*"), "")


def replace_flags(session: Session, outcomes: dict, existing: dict, frame: pd.DataFrame,
                  catalogue: Catalogue, user: User) -> None:
    """Store each changed return's warnings as flags, keeping explanations already given."""
    typed = {}
    for row in frame[frame["explanation"].fillna("") != ""].to_dict("records"):
        code = figure_code(row["indicator"], row["component"])
        typed[(row["programme"], row["org_unit"], row["period"], code, row["option"])] = row["explanation"]
        typed.setdefault((row["programme"], row["org_unit"], row["period"], row["indicator"], "*"), row["explanation"])
    rules = {rule.code: rule for rule in catalogue.rules}
    for key, outcome in outcomes.items():
        if outcome.changed:
            _store_flags(session, existing[key].id, outcome.warnings, catalogue,
                         lambda issue, key=key: typed_explanation(typed, key, issue, rules), user.id)
    session.flush()


def refresh_flags(session: Session, record: Return, catalogue: Catalogue,
                  settings: HistorySettings | None = None) -> int:
    """Recompute a return's warnings from its stored figures, keeping the explanations given.

    For repairs that change what a return holds without a write of figures; returns the number
    of flags the return now has.
    """
    frame = stored_frame(session, record, catalogue)
    key = tuple(frame[["programme", "org_unit", "period"]].iloc[0]) if not frame.empty else None
    warnings: list[Issue] = []
    if key is not None:
        names = catalogue.names
        consistency = (ratio_issues(frame, catalogue.specs, names) + total_issues(frame, catalogue.specs, names)
                       + rule_issues(frame, catalogue.rules_for(frame["indicator"].unique()), names))
        warnings = [i for i in consistency if not i.is_error]
        warnings += history_warnings(session, frame, {key}, catalogue, settings)
    count = _store_flags(session, record.id, warnings, catalogue, lambda issue: "", None)
    session.flush()
    return count


def _store_flags(session: Session, return_id: int, warnings: list[Issue], catalogue: Catalogue,
                 given_for, user_id: int | None) -> int:
    """Replace a return's flags by `warnings`; an explanation typed now (`given_for`) wins over
    the one a flag of the same key had."""
    previous = {f.flag_key: (f.explanation, f.explained_by_id) for f in
                session.scalars(select(ValueFlag).where(ValueFlag.return_id == return_id))}
    session.execute(delete(ValueFlag).where(ValueFlag.return_id == return_id))
    rows = []
    for issue in warnings:
        fkey = flag_key(issue)
        indicator, component = split_code(str(issue.location.get("indicator", "")))
        explanation, by = previous.get(fkey, ("", None))
        said = issue.about_the_figure(catalogue.names)  # English, its words kept to say it in any language
        given = given_for(issue)
        if given:
            explanation, by = given, user_id
        rows.append({
            "return_id": return_id, "flag_key": fkey[:200], "kind": issue.code, "severity": "warning",
            "indicator_id": catalogue.indicators[indicator].id if indicator in catalogue.indicators else None,
            "component": component,
            "option_combo_id": catalogue.combos.get((indicator, issue.location.get("option", ""))),
            "rule_code": str(issue.location.get("rule", "")), "message": str(said),
            "message_words": as_data(said) if isinstance(said, Text) else None,
            "explanation": explanation, "explanation_code": explanation_code(explanation), "explained_by_id": by,
        })
    # One flag per key: the first message wins (a ratio and its parts can share a key).
    unique = {r["flag_key"]: r for r in reversed(rows)}
    if unique:
        session.execute(insert(ValueFlag), list(unique.values()))
    return len(unique)


def stored_frame(session: Session, record: Return, catalogue: Catalogue) -> pd.DataFrame:
    """A return's stored figures as a validation frame."""
    programme = catalogue.programme_codes[record.programme_id]
    unit = catalogue.org_unit_codes[record.org_unit_id]
    rows = session.execute(
        select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id, DataValue.value)
        .where(DataValue.return_id == record.id)
    ).all()
    return pd.DataFrame(
        [(programme, unit, record.period, catalogue.indicator_codes[i], comp, catalogue.combo_codes[c], float(v))
         for i, comp, c, v in rows],
        columns=[*VALUE_KEY, "number"],
    )


def required_frame(record: Return, catalogue: Catalogue) -> pd.DataFrame:
    """The figures a complete return must hold: required form items, their components and options."""
    form = catalogue.forms[record.programme_id]
    programme = catalogue.programme_codes[record.programme_id]
    unit = catalogue.org_unit_codes[record.org_unit_id]
    fy_quarter = parse_period(record.period).fy_quarter
    rows = []
    for item in form.items_in(record.period):
        indicator = item.indicator
        if not item.is_required or (indicator.frequency == "annual" and fy_quarter != 4):
            continue
        spec = catalogue.specs[indicator.code]
        for component in spec.components:
            for option in spec.options:
                rows.append((programme, unit, record.period, indicator.code, component, option))
    return pd.DataFrame(rows, columns=VALUE_KEY)


def submission_problems(session: Session, record: Return, catalogue: Catalogue) -> tuple[list[Issue], list[ValueFlag]]:
    """Errors that block submission, and warnings still waiting for an explanation."""
    frame = stored_frame(session, record, catalogue)
    names = catalogue.names
    errors = missing_issues(frame, required_frame(record, catalogue), names)
    errors += [i for i in ratio_issues(frame, catalogue.specs, names) + total_issues(frame, catalogue.specs, names)
               + rule_issues(frame, catalogue.rules_for(frame["indicator"].unique()), names) if i.is_error]
    unexplained = [f for f in session.scalars(select(ValueFlag).where(ValueFlag.return_id == record.id))
                   if not f.is_explained]
    return errors, unexplained


# The end of a conflict's message; the web grid, which keeps what was typed, says otherwise.
RELOAD_ADVICE = N_("Nothing of yours was saved; reload the return and enter your changes again.")


def _when(moment) -> Joined:
    """`{moment:%d %b %Y %H:%M}` as a message: the month's abbreviation translated."""
    return Joined(" ", (f"{moment:%d}", Message(MONTHS[moment.month - 1]), f"{moment:%Y %H:%M}"))


def conflict_message(session: Session, record: Return, expected: int) -> str:
    """Name who changed the return since the version the person edited, and what changed: English
    text that remembers its message (its sentences, the last RELOAD_ADVICE), said again by a page."""
    from mel.returns.workflow import STATE_NAMES
    changes = session.execute(
        select(ValueChange, User.email)
        .join(User, User.id == ValueChange.changed_by_id, isouter=True)
        .where(ValueChange.return_id == record.id, ValueChange.return_version > expected)
        .order_by(ValueChange.changed_at)
    ).all()
    events = session.execute(
        select(ReturnEvent, User.email).join(User, User.id == ReturnEvent.user_id, isouter=True)
        .where(ReturnEvent.return_id == record.id).order_by(ReturnEvent.at.desc()).limit(1)
    ).all()
    narratives = session.execute(
        select(NarrativeChange, User.email).join(User, User.id == NarrativeChange.changed_by_id, isouter=True)
        .where(NarrativeChange.return_id == record.id, NarrativeChange.return_version > expected)
        .order_by(NarrativeChange.changed_at)
    ).all()
    session.refresh(record)
    parts: list[Words] = [message(N_("This return is now at version %(version)s, but you edited version "
                                     "%(expected)s."), version=record.version, expected=expected)]
    someone = Message(N_("Someone"))
    if changes:
        system = N_("the system")
        who = [Message(system) if name == system else name
               for name in sorted({email or system for _, email in changes})]
        when = changes[-1][0].changed_at
        listed: list[Words] = []
        catalogue = load_catalogue(session)
        for change, _ in changes[:8]:
            code = figure_code(catalogue.indicator_codes.get(change.indicator_id, "?"), change.component)
            option = catalogue.names.option(split_code(code)[0], catalogue.combo_codes.get(change.option_combo_id))
            listed.append(Joined("", (catalogue.names.figure_words(code), f", {option}" if option else "",
                                      f" {fmt(float(change.old_value)) if change.old_value is not None else '–'}"
                                      f" → {fmt(float(change.new_value)) if change.new_value is not None else '–'}")))
        if len(changes) > 8:
            template = N_("%(who)s changed %(count)s figures at %(when)s: %(figures)s and %(more)s more.")
        elif len(changes) == 1:
            template = N_("%(who)s changed %(count)s figure at %(when)s: %(figures)s.")
        else:
            template = N_("%(who)s changed %(count)s figures at %(when)s: %(figures)s.")
        parts.append(message(template, who=Joined(", ", tuple(who)), count=len(changes), when=_when(when),
                             figures=Joined("; ", tuple(listed)), more=len(changes) - 8))
    if narratives:
        change, email = narratives[-1]
        parts.append(message(N_("%(who)s changed the narrative at %(when)s."), who=email or someone,
                             when=_when(change.changed_at)))
    elif events and not changes:
        event, email = events[0]
        parts.append(message(N_("%(who)s made it %(state)s at %(when)s."), who=email or someone,
                             state=Message(STATE_NAMES[event.to_state]) if event.to_state in STATE_NAMES
                             else event.to_state, when=_when(event.at)))
    parts.append(Message(RELOAD_ADVICE))
    return text(Joined(" ", tuple(parts)))
