"""The one ingest service: parse → resolve codes → validate → upsert → audit, for every path.

Web grid, Excel, CSV, JSON API and CLI all hand canonical rows to `ingest()`. A file may carry
many returns; if anything in it is wrong nothing is stored, and every problem is reported with
its place. Sending the same figures again changes nothing and says so.

What the result says is English (the API, the command line and the import jobs keep it so); a page
says it in the reader's language with `IngestResult.in_language(gettext, ngettext)` and
`in_language(error, gettext)`: each problem's words are a message (indicators/messages.py).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from config import Config
from indicators.history import HistorySettings
from indicators.messages import (
    N_,
    Gettext,
    Joined,
    Words,
    english,
    message,
    period_label,
    say,
    text,
)
from indicators.periods import parse_period
from indicators.validation import (
    VALUE_KEY,
    Issue,
    duplicate_issues,
    parse_numbers,
    place_words,
    ratio_issues,
    rule_issues,
    total_issues,
    value_issues,
)
from mel import clock
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue, load_catalogue
from mel.catalogue.models import Programme
from mel.db import bulk_insert, utcnow
from mel.errors import Conflict, ErrorDetail, Forbidden, MelError, ValidationFailed
from mel.returns import checks
from mel.returns.models import DataValue, ImportBatch, Return, ValueChange
from mel.returns.resolve import resolve_rows, retired_option_issues
from mel.returns.upload_limits import UploadLimits
from mel.returns.workflow import is_editable, not_editable_message, window_problem
from mel.scopes import ENTERING_ROLES, can_access

log = logging.getLogger(__name__)
RETURN_KEY = ["programme", "org_unit", "period"]
Ngettext = Callable[[str, str, int], str]  # flask_babel's ngettext (it fills %(num)s), or a catalogue's


def english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def in_language(error: MelError, gettext: Gettext | None = None) -> MelError:
    """A copy of `error` whose message and details are said in the language of `gettext` (those
    made from messages; other text stays as it was written)."""
    said = copy.copy(error)
    said.message = say(error.message, gettext)
    said.details = [ErrorDetail(say(d.message, gettext), d.location) for d in error.details]
    said.args = (said.message,)
    return said


@dataclass(frozen=True)
class IngestSettings:
    """How figures are checked and files accepted: one object, from the configuration (config.py)."""

    history_band: float = Config.HISTORY_BAND  # quarter-on-quarter change flagged with little history
    history_z: float = Config.HISTORY_Z  # robust z-score flagged against the last eight quarters
    max_bytes: int = Config.MAX_UPLOAD_MB * 1024 * 1024  # MEL_MAX_UPLOAD_MB, as Flask's MAX_CONTENT_LENGTH
    share_points: float = Config.HISTORY_SHARE_POINTS  # a county's share of the national figure moving
    upload: UploadLimits = UploadLimits()  # what a file may hold (MEL_UPLOAD_MAX_*), upload_limits.py

    @classmethod
    def from_config(cls, config) -> IngestSettings:
        # The one size setting: Flask refuses larger request bodies (MAX_CONTENT_LENGTH derives from
        # it), and the file reader applies it to files that do not come through a request (mel import).
        return cls(float(config["HISTORY_BAND"]), float(config["HISTORY_Z"]),
                   int(config["MAX_UPLOAD_MB"]) * 1024 * 1024, float(config["HISTORY_SHARE_POINTS"]),
                   UploadLimits.from_config(config))

    def history(self) -> HistorySettings:
        """The settings of the history and peer checks (indicators/history.py)."""
        return HistorySettings(z_threshold=self.history_z, band=self.history_band, share_points=self.share_points)


@dataclass
class Incoming:
    """Canonical rows from one file or payload, and where they came from."""

    rows: pd.DataFrame
    channel: str
    filename: str = ""
    content: bytes | None = None


@dataclass
class ReturnOutcome:
    """What happened to one return of the file."""

    programme: str
    org_unit: str
    org_unit_name: str
    period: str
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    state: str = "draft"
    version: int = 0
    return_id: int | None = None
    warnings: list[Issue] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def counts(self, stored: bool) -> str:
        """What the return got, or (not stored: refused or checked) what it would have got."""
        if stored:
            return (f"{self.created} created, {self.updated} updated, {self.deleted} deleted, "
                    f"{self.unchanged} unchanged")
        return (f"would create {self.created}, update {self.updated}, delete {self.deleted}; "
                f"{self.unchanged} unchanged")

    def as_counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def as_dict(self) -> dict:
        return {"programme": self.programme, "org_unit": self.org_unit, "period": self.period,
                "period_label": parse_period(self.period).label, "created": self.created,
                "updated": self.updated, "deleted": self.deleted, "unchanged": self.unchanged,
                "state": self.state, "version": self.version,
                "warnings": [w.message for w in self.warnings]}


# Why a role cannot enter figures, as the refusal says it ("Viewers cannot enter figures.").
ROLES_CANNOT_ENTER = {"reviewer": N_("MERL TWG reviewers cannot enter figures."),
                      "viewer": N_("Viewers cannot enter figures.")}
COUNTS = ("created", "updated", "deleted", "unchanged")  # what a write did to a return's figures


def describe_outcome(outcome: str, returns: list[dict], problems: int, figures: int, filename: str = "",
                     gettext: Gettext = english, ngettext: Ngettext = english_plural) -> str:
    """What an ingest did, in one sentence in the language of `gettext`/`ngettext`: from its outcome,
    each return's counts (`COUNTS`), the number of problems and of figures read. `IngestResult.describe`
    says it when the file is read; a background import's page says it again from the stored result."""
    n = len(returns)
    # %(num)s, filled by flask_babel's ngettext, and here for the others (English, a catalogue's).
    said_returns = ngettext("%(num)s return", "%(num)s returns", n) % {"num": n}
    values = {name: sum(int(r.get(name) or 0) for r in returns) for name in COUNTS}
    values["returns"] = said_returns
    would = gettext("%(created)s new figures, %(updated)s changed and %(deleted)s cleared (%(unchanged)s as "
                    "stored) in %(returns)s") % values
    if outcome == "refused":
        said_problems = ngettext("%(num)s problem", "%(num)s problems", problems) % {"num": problems}
        said = gettext("nothing was stored: %(problems)s in %(figures)s figures. Had the file been right, it "
                       "would have stored %(would)s. Correct the problems listed and send it again.") % {
            "problems": said_problems, "figures": figures, "would": would}
    elif outcome == "checked":
        said = gettext("check only, nothing stored: the figures are right and would give %(would)s.") % {
            "would": would}
    else:
        said = gettext("%(returns)s: %(created)s created, %(updated)s updated, %(deleted)s deleted, "
                       "%(unchanged)s unchanged.") % values
    return f"{filename}: {said}" if filename else said


@dataclass
class IngestResult:
    """The outcome of one ingest: stored, unchanged, refused, or checked (dry run)."""

    outcome: str
    returns: list[ReturnOutcome] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    figures: int = 0
    batch_id: int | None = None
    filename: str = ""
    gettext: Gettext = field(default=english, repr=False, compare=False)  # the language `describe` speaks
    ngettext: Ngettext = field(default=english_plural, repr=False, compare=False)

    def total(self, attr: str) -> int:
        return sum(getattr(r, attr) for r in self.returns)

    @property
    def refused(self) -> int:
        return self.figures if self.errors else 0

    @property
    def stored(self) -> bool:
        return self.outcome in ("stored", "unchanged")

    def in_language(self, gettext: Gettext | None = None, ngettext: Ngettext | None = None) -> IngestResult:
        """A copy for a page: its problems, warnings and `describe` in the language of `gettext` and
        `ngettext` (flask_babel's); the figures and the returns are the same objects."""
        return replace(self, errors=[replace(e, message=e.text(gettext)) for e in self.errors],
                       warnings=[replace(w, message=w.text(gettext)) for w in self.warnings],
                       gettext=gettext or english, ngettext=ngettext or english_plural)

    def describe(self) -> str:
        """What happened, in one sentence (in English, unless made by `in_language`)."""
        return describe_outcome(self.outcome, [r.as_counts() for r in self.returns], len(self.errors), self.figures,
                                self.filename, self.gettext, self.ngettext)

    def as_dict(self) -> dict:
        return {
            "outcome": self.outcome, "message": self.describe(),
            "created": self.total("created"), "updated": self.total("updated"),
            "deleted": self.total("deleted"), "unchanged": self.total("unchanged"),
            "refused": self.refused, "batch_id": self.batch_id,
            "returns": [r.as_dict() for r in self.returns],
            "errors": [{"message": e.message, "location": e.location} for e in self.errors],
            "warnings": [{"message": w.message, "location": w.location} for w in self.warnings],
        }


def _programme_for(catalogue: Catalogue, user: User, code: str | None) -> Programme:
    if code:
        programme = catalogue.programmes.get(code.strip().upper())
        if programme is None:
            raise ValidationFailed(text(message(N_("Programme %(code)s is not known; use one of %(codes)s."),
                                                code=repr(code), codes=", ".join(sorted(catalogue.programmes)))))
        return programme
    if user.role == "officer" and len(user.programmes) == 1:
        return catalogue.programmes[user.programmes[0].code]
    raise ValidationFailed(text(message(N_("Say which programme these figures are for (e.g. --programme OPCT)."))))


def ingest(
    session: Session,
    user: User,
    incoming: Incoming,
    *,
    programme: str | None = None,
    dry_run: bool = False,
    delete_empty: bool = False,
    expected_version: int | None = None,
    now: datetime | None = None,
    settings: IngestSettings | None = None,
) -> IngestResult:
    """Validate and store the figures of one file or payload, all or nothing."""
    now = now or utcnow()
    settings = settings or IngestSettings()
    rows = incoming.rows
    result = IngestResult("refused", figures=len(rows), filename=incoming.filename)
    if rows.empty:
        raise ValidationFailed(text(message(N_("%(file)s has no figures."), file=incoming.filename))
                               if incoming.filename else text(message(N_("The request has no figures."))))
    catalogue = load_catalogue(session)
    target = _programme_for(catalogue, user, programme)
    frame, problems = resolve_rows(rows, catalogue, target)
    _check_scope(user, frame, catalogue, target)
    measures = frame["indicator"].map(lambda code: catalogue.specs[code].measure)
    frame = parse_numbers(frame, measures)
    problems += value_issues(frame, catalogue.names) + duplicate_issues(frame, catalogue.names)
    frame = frame[frame["problem"] == ""].drop_duplicates(subset=VALUE_KEY, keep="first")

    existing = _existing_returns(session, frame)
    stored = _stored_values(session, existing, catalogue)
    diff = _diff(frame, stored, delete_empty)
    problems += retired_option_issues(diff, catalogue)
    effective = _effective(stored, frame, diff)
    outcomes = _outcomes(frame, existing, diff, catalogue)
    changed_keys = {key for key, o in outcomes.items() if o.changed}
    today = clock.today(now)
    for key, outcome in outcomes.items():
        record = existing.get(key)
        form = catalogue.forms[target.id]
        # Figures that are already stored as sent are not a change: never refused for the window.
        if outcome.changed:
            reason = window_problem(form, key[2], user, today, catalogue.org_units[key[1]].id)
            where = {"programme": key[0], "org_unit": key[1], "period": key[2]}
            if reason:  # mel/returns/workflow.py's words, in English
                place = Joined(", ", (target.name, place_words(where, catalogue.names)))
                problems.append(Issue("error", "window", text(Joined(": ", (place, reason))), where))
        if outcome.changed and not is_editable(record) and not _only_queried(session, record, diff, key):
            label = f"{target.code} {outcome.org_unit_name} {parse_period(key[2]).label}"
            said: Words = Joined(" ", (target.code, outcome.org_unit_name, period_label(parse_period(key[2]))))
            problems.append(Issue("error", "locked", text(Joined(": ", (said, not_editable_message(record, label)))),
                                  {"programme": key[0], "org_unit": key[1], "period": key[2]}))
    warnings: list[Issue] = []
    if not problems:
        # Consistency checks on a file with unreadable cells would only echo those cells.
        consistency = _consistency(effective, catalogue, changed_keys)
        problems += [i for i in consistency if i.is_error]
        warnings = [i for i in consistency if not i.is_error]
        warnings += checks.history_warnings(session, effective, changed_keys, catalogue, settings.history())
    for warning in warnings:
        key = (warning.location.get("programme"), warning.location.get("org_unit"), warning.location.get("period"))
        if key in outcomes:
            outcomes[key].warnings.append(warning)
    result.returns = list(outcomes.values())
    result.warnings = warnings
    if problems:
        result.errors = problems
        log.info("refused %s from %s: %d problems", incoming.filename or incoming.channel, user.email, len(problems))
        return result
    if dry_run:
        result.outcome = "checked"
        return result
    if expected_version is not None:
        _check_version(session, existing, expected_version)
    if not changed_keys:
        result.outcome = "unchanged"
        for key, outcome in outcomes.items():
            if key in existing:
                outcome.state, outcome.version = existing[key].state, existing[key].version
                outcome.return_id = existing[key].id
        return result
    batch = _store(session, user, incoming, target, catalogue.forms[target.id].id, frame, stored, diff, existing,
                   outcomes, now)
    checks.replace_flags(session, outcomes, existing, frame, catalogue, user)
    result.outcome = "stored"
    result.batch_id = batch.id
    batch.created_count, batch.updated_count = result.total("created"), result.total("updated")
    batch.unchanged_count = result.total("unchanged")
    batch.summary = json.dumps(result.as_dict(), default=str)[:20000]
    session.flush()
    return result


def _only_queried(session: Session, record: Return, diff: pd.DataFrame, key: tuple) -> bool:
    """A submitted return may take corrections of figures a reviewer has an open query on."""
    if record.state != "submitted":
        return False
    from mel.review.models import ValueQuery

    queried = set(session.execute(
        select(ValueQuery.indicator_id, ValueQuery.component, ValueQuery.option_combo_id)
        .where(ValueQuery.return_id == record.id, ValueQuery.status == "open")).all())
    mine = diff[(diff["programme"] == key[0]) & (diff["org_unit"] == key[1]) & (diff["period"] == key[2])]
    changed = mine[mine["action"].isin(["create", "update", "delete"])]
    return bool(len(changed)) and (changed["action"] == "update").all() and all(
        (int(i), c, int(o)) in queried
        for i, c, o in zip(changed["indicator_id"], changed["component"], changed["option_combo_id"], strict=True))


def _check_scope(user: User, frame: pd.DataFrame, catalogue: Catalogue, programme: Programme) -> None:
    """An officer's file touching anything outside their scope is refused whole."""
    if user.role not in ENTERING_ROLES:
        raise Forbidden(text(message(ROLES_CANNOT_ENTER.get(user.role, N_("Only M&E officers enter figures.")))))
    forbidden = sorted({code for code in frame["org_unit"].dropna().unique()
                        if not can_access(user, programme.id, catalogue.org_units[code])})
    if forbidden:
        names = ", ".join(f"{catalogue.org_units[c].name} ({c})" for c in forbidden)
        raise Forbidden(text(message(N_("You may not enter %(programme)s figures for %(org_units)s; nothing was "
                                        "stored."), programme=programme.code, org_units=names)))


def _existing_returns(session: Session, frame: pd.DataFrame) -> dict[tuple, Return]:
    """The stored returns of the file, keyed by (programme code, org unit code, period)."""
    keys = {(int(p), int(o), str(per)) for p, o, per in
            frame[["programme_id", "org_unit_id", "period"]].drop_duplicates().itertuples(index=False)}
    if not keys:
        return {}
    found = session.scalars(
        select(Return).where(tuple_(Return.programme_id, Return.org_unit_id, Return.period).in_(list(keys)))
    )
    programmes = dict(zip(frame["programme_id"].astype(int), frame["programme"], strict=True))
    units = dict(zip(frame["org_unit_id"].astype(int), frame["org_unit"], strict=True))
    return {(programmes[r.programme_id], units[r.org_unit_id], r.period): r for r in found}


def _stored_values(session: Session, existing: dict[tuple, Return], catalogue: Catalogue) -> pd.DataFrame:
    """Every stored figure of the returns the file touches, keyed by its own codes."""
    columns = VALUE_KEY + ["id", "stored", "comment", "explanation", "indicator_id", "option_combo_id"]
    if not existing:
        return pd.DataFrame(columns=columns)
    return_ids = [r.id for r in existing.values()]
    rows = session.execute(
        select(DataValue.id, DataValue.programme_id, DataValue.org_unit_id, DataValue.period,
               DataValue.indicator_id, DataValue.component, DataValue.option_combo_id, DataValue.value,
               DataValue.comment, DataValue.explanation)
        .where(DataValue.return_id.in_(return_ids))
    ).all()
    records = []
    for (value_id, programme_id, org_unit_id, period, indicator_id, component, combo_id, value, comment,
         explanation) in rows:
        records.append({"programme": catalogue.programme_codes[programme_id],
                        "org_unit": catalogue.org_unit_codes[org_unit_id], "period": period,
                        "indicator": catalogue.indicator_codes[indicator_id], "component": component,
                        "option": catalogue.combo_codes[combo_id], "id": value_id,
                        "stored": Decimal(value), "comment": comment or "",
                        "explanation": explanation or "", "indicator_id": indicator_id,
                        "option_combo_id": combo_id})
    return pd.DataFrame(records, columns=columns)


def _diff(frame: pd.DataFrame, stored: pd.DataFrame, delete_empty: bool) -> pd.DataFrame:
    """Classify each incoming figure: create, update, unchanged, delete or ignore (empty)."""
    merged = frame.merge(stored[VALUE_KEY + ["id", "stored", "comment", "explanation"]].rename(
        columns={"comment": "old_comment", "explanation": "old_explanation"}), on=VALUE_KEY, how="left")
    empty = merged["value"] == ""
    new_value = merged["value"].map(lambda v: Decimal(v) if v else None)
    merged["new"] = new_value
    has_stored = merged["id"].notna()
    same_value = has_stored & ~empty & (merged["new"] == merged["stored"])
    comment = merged["comment"].fillna("").astype(str)
    same_comment = (comment == "") | (comment == merged["old_comment"].fillna(""))
    # A new explanation is a change too: it is stored with the figure and explains its warnings.
    explanation = merged["explanation"].fillna("").astype(str)
    same_explanation = (explanation == "") | (explanation == merged["old_explanation"].fillna(""))
    action = pd.Series("create", index=merged.index, dtype="object")
    action[has_stored] = "update"
    action[same_value & same_comment & same_explanation] = "unchanged"
    action[empty & ~has_stored] = "ignore"
    action[empty & has_stored] = "delete" if delete_empty else "unchanged"
    merged["action"] = action
    return merged


def _effective(stored: pd.DataFrame, frame: pd.DataFrame, diff: pd.DataFrame) -> pd.DataFrame:
    """The figures each touched return would hold after this ingest (for consistency checks)."""
    touched = diff.loc[diff["action"].isin(["update", "delete", "unchanged"])]
    written = set(zip(*(touched[k].tolist() for k in VALUE_KEY), strict=True))
    kept = stored[np.array([key not in written for key in zip(*(stored[k].tolist() for k in VALUE_KEY), strict=True)],
                           dtype=bool)]
    base = kept[VALUE_KEY].copy()
    base["number"] = kept["stored"].astype(float)
    incoming = diff[diff["action"].isin(["create", "update", "unchanged"]) & (diff["value"] != "")]
    located = incoming[VALUE_KEY + ["number", "file", "sheet", "row", "column"]]
    return pd.concat([located, base], ignore_index=True)


def _outcomes(frame, existing, diff, catalogue) -> dict[tuple, ReturnOutcome]:
    outcomes: dict[tuple, ReturnOutcome] = {}
    for key, group in diff.groupby(RETURN_KEY, sort=True):
        counts = group["action"].value_counts()
        record = existing.get(key)
        outcomes[key] = ReturnOutcome(
            programme=key[0], org_unit=key[1], org_unit_name=catalogue.org_units[key[1]].name,
            period=key[2], created=int(counts.get("create", 0)), updated=int(counts.get("update", 0)),
            deleted=int(counts.get("delete", 0)), unchanged=int(counts.get("unchanged", 0)),
            state=record.state if record else "draft", version=record.version if record else 0,
            return_id=record.id if record else None,
        )
    return outcomes


def _consistency(effective: pd.DataFrame, catalogue: Catalogue, changed: set[tuple]) -> list[Issue]:
    """Ratio, total and rule checks, for the returns this ingest changes."""
    if not changed:
        return []
    keys = pd.Series(list(zip(effective["programme"], effective["org_unit"], effective["period"], strict=True)),
                     index=effective.index)
    frame = effective[keys.isin(changed)]
    names = catalogue.names
    return (ratio_issues(frame, catalogue.specs, names) + total_issues(frame, catalogue.specs, names)
            + rule_issues(frame, catalogue.rules_for(frame["indicator"].unique()), names))


def _check_version(session: Session, existing: dict[tuple, Return], expected: int) -> None:
    for record in existing.values():
        if record.version != expected:
            raise Conflict(checks.conflict_message(session, record, expected))


def _store(session, user, incoming, programme, form_id, frame, stored, diff, existing, outcomes, now) -> ImportBatch:
    """Write the changes: returns, values, audit rows; bump each changed return's version."""
    digest = hashlib.sha256(incoming.content).hexdigest() if incoming.content else ""
    batch = ImportBatch(user_id=user.id, channel=incoming.channel, filename=incoming.filename[:255],
                        sha256=digest, outcome="stored", created_at=now)
    session.add(batch)
    session.flush()
    org_ids = frame.drop_duplicates("org_unit").set_index("org_unit")["org_unit_id"].to_dict()
    versions: dict[tuple, int] = {}
    new_keys = [key for key, o in outcomes.items() if o.changed and key not in existing]
    if new_keys:
        created = session.scalars(insert(Return).returning(Return), [
            {"programme_id": programme.id, "org_unit_id": int(org_ids[key[1]]), "period": key[2],
             "form_id": form_id, "state": "draft", "version": 1, "created_at": now, "updated_at": now}
            for key in new_keys]).all()
        # A file may hold several quarters of one org unit: a return is its org unit AND period.
        by_address = {(r.org_unit_id, r.period): r for r in created}
        for key in new_keys:
            existing[key] = by_address[(int(org_ids[key[1]]), key[2])]
    for key, outcome in outcomes.items():
        if not outcome.changed:
            continue
        record = existing[key]
        if key not in new_keys:
            seen = record.version
            bumped = session.execute(
                update(Return).where(Return.id == record.id, Return.version == seen)
                .values(version=Return.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if bumped.rowcount != 1:
                raise Conflict(checks.conflict_message(session, record, seen))
            session.refresh(record)
        versions[key] = record.version
        outcome.return_id, outcome.version, outcome.state = record.id, record.version, record.state
    changes = diff[diff["action"].isin(["create", "update", "delete"])].copy()
    changes["return_id"] = [existing[k].id for k in zip(changes["programme"], changes["org_unit"],
                                                         changes["period"], strict=True)]
    changes["version"] = [versions[k] for k in zip(changes["programme"], changes["org_unit"],
                                                   changes["period"], strict=True)]
    records = _records(changes)
    creates = [r for r in records if r["action"] == "create"]
    if creates:
        bulk_insert(session, DataValue.__table__, [
            {"return_id": r["return_id"], "indicator_id": r["indicator_id"], "component": r["component"],
             "option_combo_id": r["option_combo_id"], "programme_id": r["programme_id"],
             "org_unit_id": r["org_unit_id"], "period": r["period"], "value": r["new"],
             "comment": r["comment"], "explanation": r["explanation"], "updated_by_id": user.id,
             "created_at": now, "updated_at": now}
            for r in creates])
    updates = [r for r in records if r["action"] == "update"]
    if updates:
        session.execute(update(DataValue), [
            {"id": r["id"], "value": r["new"], "updated_by_id": user.id, "updated_at": now,
             **({"comment": r["comment"]} if r["comment"] else {}),
             **({"explanation": r["explanation"]} if r["explanation"] else {})}
            for r in updates])
    deletes = [r["id"] for r in records if r["action"] == "delete"]
    if deletes:
        session.execute(delete(DataValue).where(DataValue.id.in_(deletes)))
    bulk_insert(session, ValueChange.__table__, [
        {"return_id": r["return_id"], "indicator_id": r["indicator_id"], "component": r["component"],
         "option_combo_id": r["option_combo_id"],
         "old_value": r["stored"] if r["action"] != "create" else None,
         "new_value": r["new"] if r["action"] != "delete" else None,
         "old_comment": r["old_comment"] if isinstance(r["old_comment"], str) else "",
         "new_comment": r["comment"], "explanation": r["explanation"], "reason": "",
         "channel": incoming.channel, "return_version": r["version"], "batch_id": batch.id,
         "changed_by_id": user.id, "changed_at": now}
        for r in records])
    session.flush()
    return batch


def _records(changes: pd.DataFrame) -> list[dict]:
    """Plain dicts with Python ints and strings (cheaper than DataFrame.to_dict on object columns)."""
    columns = {
        "action": changes["action"].tolist(), "id": [int(i) if i == i else None for i in changes["id"]],
        "return_id": [int(i) for i in changes["return_id"]], "version": [int(v) for v in changes["version"]],
        "indicator_id": [int(i) for i in changes["indicator_id"]],
        "option_combo_id": [int(i) for i in changes["option_combo_id"]],
        "programme_id": [int(i) for i in changes["programme_id"]],
        "org_unit_id": [int(i) for i in changes["org_unit_id"]],
        "component": changes["component"].tolist(), "period": changes["period"].tolist(),
        "new": changes["new"].tolist(), "stored": changes["stored"].tolist(),
        "comment": [c if isinstance(c, str) else "" for c in changes["comment"]],
        "old_comment": changes["old_comment"].tolist(),
        "explanation": [e if isinstance(e, str) else "" for e in changes["explanation"]],
    }
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]
