"""What people type about TWG meetings and actions, checked: plain values out, or a ValidationFailed
whose details name every field at fault (mel/meetings/operations.py stores what passes)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indicators.messages import N_, Joined, Message, message, text
from mel import periods
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.converters import is_digits
from mel.errors import ErrorDetail, MelError, ValidationFailed
from mel.learning.models import EvidenceItem
from mel.meetings.models import ACTION_STATUSES, MEETING_STATUSES, Decision
from mel.reporting.actions import ReportAction
from mel.returns.operations import find_return

TITLE_LIMIT, VENUE_LIMIT, NAME_LIMIT = 300, 200, 200
AGENDA_ITEM_LIMIT, AGENDA_ITEMS = 500, 60
MINUTES_LIMIT = 50_000
ATTENDEES = 300
DECISION_LIMIT, DECISIONS = 4000, 100
TEXT_LIMIT, PROGRESS_LIMIT = 2000, 4000
LINKS = 50  # of each kind, per action
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class Problems:
    """The located problems of one piece of input; `check` refuses it when there is any."""

    def __init__(self) -> None:
        self.details: list[ErrorDetail] = []

    def add(self, field: str, words: Message | Joined | str) -> None:
        self.details.append(ErrorDetail(text(Joined(": ", (field, words))), {"field": field}))

    def check(self) -> None:
        if not self.details:
            return
        if len(self.details) == 1:
            raise ValidationFailed(self.details[0].message, self.details)
        raise ValidationFailed(text(message(N_("%(count)s problems: %(problems)s"), count=len(self.details),
                                            problems=Joined("; ", tuple(d.message for d in self.details)))),
                               self.details)


# --------------------------------------------------------------------------- values


def _text(problems: Problems, value, field: str, limit: int, *, required: bool = False,
          one_line: bool = True) -> str:
    typed = value if isinstance(value, str) else ("" if value is None else str(value))
    typed = " ".join(typed.split()) if one_line else typed.replace("\r\n", "\n").strip()
    if required and not typed:
        problems.add(field, message(N_("it is empty; write it.")))
    elif len(typed) > limit:
        problems.add(field, message(N_("at most %(limit)s characters; this one has %(count)s."),
                                    limit=f"{limit:,}", count=f"{len(typed):,}"))
    return typed


def _date(problems: Problems, value, field: str) -> date | None:
    if isinstance(value, date):
        day = value
    else:
        typed = str(value or "").strip()
        if not typed:
            problems.add(field, message(N_("give a date (YYYY-MM-DD, e.g. 2025-08-14); it is empty.")))
            return None
        try:
            day = date.fromisoformat(typed)
        except ValueError:
            problems.add(field, message(N_("%(value)s is not a date: write it as YYYY-MM-DD, e.g. 2025-08-14."),
                                        value=repr(typed[:40])))
            return None
    if not EARLIEST <= day <= LATEST:
        problems.add(field, message(N_("%(value)s is outside the years 2000–2100."), value=day.isoformat()))
        return None
    return day


def _choice(problems: Problems, value, field: str, choices: tuple[str, ...]) -> str | None:
    if value in choices:
        return value
    problems.add(field, message(N_("%(value)s is not one of %(choices)s."), value=repr(value),
                                choices=", ".join(choices)))
    return None


def _quarter(problems: Problems, value, field: str) -> str | None:
    typed = str(value or "").strip()
    if not typed:
        return None
    try:
        return periods.quarter(typed, field).id
    except ValidationFailed as error:
        problems.add(field, error.message)
        return None


def _list(problems: Problems, value, field: str, most: int) -> list:
    items = list(value or [])
    if len(items) > most:
        problems.add(field, message(N_("at most %(limit)s; this list has %(count)s."), limit=most, count=len(items)))
        return items[:most]
    return items


def _account(session: Session, value) -> User | None:
    """An account by id or e-mail (as people type it)."""
    if isinstance(value, User):
        return value
    if isinstance(value, int) or (isinstance(value, str) and is_digits(value.strip())):
        number = int(value)
        return session.get(User, number) if 0 < number < 2**31 else None
    typed = str(value or "").strip().lower()
    return session.scalar(select(User).where(func.lower(User.email) == typed)) if typed else None


def _owner(problems: Problems, session: Session, value) -> User | None:
    if value in (None, ""):
        problems.add("owner", message(N_("choose the account that owns the action; it is empty.")))
        return None
    owner = _account(session, value)
    if owner is None or not owner.is_active:
        problems.add("owner", message(N_("no active account %(account)s."), account=repr(str(value)[:254])))
        return None
    return owner


# --------------------------------------------------------------------------- meetings' values


def _agenda(problems: Problems, value) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    items = []
    for number, item in enumerate(_list(problems, value, "agenda", AGENDA_ITEMS), 1):
        typed = " ".join(str(item or "").split())
        if len(typed) > AGENDA_ITEM_LIMIT:
            problems.add("agenda", message(N_("item %(number)s has %(count)s characters; at most %(limit)s."),
                                           number=number, count=f"{len(typed):,}", limit=AGENDA_ITEM_LIMIT))
        elif typed:
            items.append(typed)
    return items


def _attendees(problems: Problems, session: Session, value) -> list[dict]:
    rows, seen = [], set()
    for number, row in enumerate(_list(problems, value, "attendees", ATTENDEES), 1):
        row = row if isinstance(row, dict) else {}
        account = None
        if row.get("user") not in (None, ""):
            account = _account(session, row["user"])
            if account is None:
                problems.add("attendees", message(N_("row %(number)s: there is no account %(account)s."),
                                                  number=number, account=repr(str(row["user"])[:254])))
                continue
        name = _text(problems, row.get("name"), "attendees", NAME_LIMIT)
        organisation = _text(problems, row.get("organisation"), "attendees", NAME_LIMIT)
        if account is None and not name:
            if organisation:
                problems.add("attendees", message(N_("row %(number)s names no one: choose an account or write "
                                                     "the person's name."), number=number))
            continue  # an empty row of the form
        key = ("user", account.id) if account else ("name", name.casefold(), organisation.casefold())
        if key in seen:
            problems.add("attendees", message(N_("row %(number)s: %(who)s is listed twice."), number=number,
                                              who=account.email if account else name))
            continue
        seen.add(key)
        present = row.get("present", True)
        if isinstance(present, str):
            present = present.strip().lower() not in ("", "0", "false", "no", "apologies", "absent")
        rows.append({"user_id": account.id if account else None, "name": "" if account else name,
                     "organisation": organisation, "present": bool(present)})
    return rows


def _decisions(problems: Problems, value) -> list[dict]:
    """The decisions in order: {"number": the number it has now (None: a new one), "text": ...}."""
    found, seen = [], set()
    for position, row in enumerate(_list(problems, value, "decisions", DECISIONS), 1):
        if isinstance(row, str):
            row = {"text": row}
        row = row if isinstance(row, dict) else {}
        typed = str(row.get("text") or "").replace("\r\n", "\n").strip()
        number = row.get("number")
        if number in ("", None):
            number = None
        else:
            try:
                number = int(number)
            except (TypeError, ValueError):
                problems.add("decisions", message(N_("decision %(position)s: %(number)s is not a decision number."),
                                                  position=position, number=repr(str(number)[:20])))
                continue
        if len(typed) > DECISION_LIMIT:
            problems.add("decisions", message(N_("decision %(position)s has %(count)s characters; at most %(limit)s."),
                                              position=position, count=f"{len(typed):,}", limit=f"{DECISION_LIMIT:,}"))
            continue
        if number is not None:
            if number in seen:
                problems.add("decisions", message(N_("decision %(number)s is given twice."), number=number))
                continue
            seen.add(number)
        if typed:
            found.append({"number": number, "text": typed})
    return found


def meeting_values(session: Session, raw: dict, *, partial: bool = False) -> dict:
    """The meeting's fields from what was typed (only those given, with `partial`), or ValidationFailed."""
    problems = Problems()
    values: dict = {}

    def given(name: str) -> bool:
        return name in raw or not partial

    if given("title"):
        values["title"] = _text(problems, raw.get("title"), "title", TITLE_LIMIT, required=True)
    if given("held_on"):
        values["held_on"] = _date(problems, raw.get("held_on"), "held_on")
    if given("venue"):
        values["venue"] = _text(problems, raw.get("venue"), "venue", VENUE_LIMIT)
    if given("status"):
        values["status"] = _choice(problems, raw.get("status") or "planned", "status", MEETING_STATUSES)
    if given("period"):
        values["period"] = _quarter(problems, raw.get("period"), "period")
    if given("agenda"):
        values["agenda"] = _agenda(problems, raw.get("agenda"))
    if given("minutes"):
        values["minutes"] = _text(problems, raw.get("minutes"), "minutes", MINUTES_LIMIT, one_line=False)
    if given("attendees"):
        values["attendees"] = _attendees(problems, session, raw.get("attendees"))
    if given("decisions"):
        values["decisions"] = _decisions(problems, raw.get("decisions"))
    problems.check()
    return values


# --------------------------------------------------------------------------- actions' values


def _return_ids(problems: Problems, session: Session, catalogue: Catalogue, value) -> list[int]:
    if isinstance(value, str):
        value = value.splitlines()
    found = []
    for item in _list(problems, value, "returns", LINKS):
        if isinstance(item, dict):
            parts = [str(item.get(k) or "").strip() for k in ("programme", "org_unit", "period")]
        else:
            parts = [p for p in str(item or "").replace("/", " ").replace(",", " ").split() if p]
        if not any(parts):
            continue
        typed = "/".join(parts)
        if len(parts) != 3 or not all(parts):
            problems.add("returns", message(N_("%(value)s is not a return: write programme/org unit/quarter, e.g. "
                                               "OPCT/042/2025Q2."), value=repr(typed[:80])))
            continue
        try:
            address = find_return(session, catalogue, *parts)
        except MelError as error:
            problems.add("returns", error.message)
            continue
        if address.record is None:
            problems.add("returns", message(N_("no %(programme)s return for %(org_unit)s in %(period)s has been "
                                               "started yet; link it once it exists."),
                                            programme=address.programme.code, org_unit=address.org_unit.name,
                                            period=address.period))
            continue
        found.append(address.record.id)
    return found


def _indicator_ids(problems: Problems, catalogue: Catalogue, value) -> list[int]:
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    found = []
    for code in _list(problems, value, "indicators", LINKS):
        typed = str(code or "").strip().upper()
        if not typed:
            continue
        indicator = catalogue.indicators.get(typed)
        if indicator is None:
            problems.add("indicators", message(N_("there is no indicator %(code)s."), code=repr(typed[:40])))
        else:
            found.append(indicator.id)
    return found


def _ids(problems: Problems, session: Session, value, field: str, model, missing: str) -> list[int]:
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    wanted = []
    for item in _list(problems, value, field, LINKS):
        try:
            number = int(item)
        except (TypeError, ValueError):
            problems.add(field, message(N_("%(value)s is not a number."), value=repr(str(item)[:40])))
            continue
        if not 0 < number < 2**31 or session.get(model, number) is None:
            problems.add(field, message(missing, id=number))
        else:
            wanted.append(number)
    return wanted


def _decision_id(problems: Problems, session: Session, meeting_id: int, value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems.add("decision", message(N_("%(value)s is not a decision number."), value=repr(str(value)[:20])))
        return None
    found = session.scalar(select(Decision.id).where(Decision.meeting_id == meeting_id, Decision.number == number))
    if found is None:
        problems.add("decision", message(N_("the meeting has no decision %(number)s."), number=number))
    return found


def action_values(session: Session, catalogue: Catalogue, raw: dict, *, meeting_id: int,
                  partial: bool = False) -> dict:
    """An action's fields from what was typed (those given, with `partial`), or ValidationFailed."""
    problems = Problems()
    values: dict = {}

    def given(name: str) -> bool:
        return name in raw or not partial

    if given("text"):
        values["text"] = _text(problems, raw.get("text"), "text", TEXT_LIMIT, required=True, one_line=False)
    if given("owner"):
        owner = _owner(problems, session, raw.get("owner"))
        values["owner_id"] = owner.id if owner else None
    if given("due_on"):
        values["due_on"] = _date(problems, raw.get("due_on"), "due_on")
    if given("status"):
        values["status"] = _choice(problems, raw.get("status") or "open", "status", ACTION_STATUSES)
    if given("progress"):
        values["progress"] = _text(problems, raw.get("progress"), "progress", PROGRESS_LIMIT, one_line=False)
    if given("decision"):
        values["decision_id"] = _decision_id(problems, session, meeting_id, raw.get("decision"))
    if given("returns"):
        values["returns"] = _return_ids(problems, session, catalogue, raw.get("returns"))
    if given("indicators"):
        values["indicators"] = _indicator_ids(problems, catalogue, raw.get("indicators"))
    if given("recommendations"):
        values["recommendations"] = _ids(problems, session, raw.get("recommendations"), "recommendations",
                                         ReportAction, N_("there is no report recommendation %(id)s."))
    if given("evidence"):
        values["evidence"] = _ids(problems, session, raw.get("evidence"), "evidence", EvidenceItem,
                                  N_("there is no evidence item %(id)s."))
    problems.check()
    return values
