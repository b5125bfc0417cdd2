"""Writing the evidence register and the learning agenda: add and change evidence items (with a link, an
uploaded PDF or both), withdraw them with a reason, add and change learning questions.

Only the MERL TWG and the secretariat write (mel/scopes.py `can_keep_evidence`); every change is in the
audit with the fields before and after. Nothing is deleted: a withdrawn item stays, marked, with its
reason. The functions flush; the request or the command commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indicators.messages import N_, Message, message, text
from mel.accounts import audit
from mel.catalogue.language import checked_translation
from mel.catalogue.models import Indicator, ResultsNode
from mel.converters import MAX_ID
from mel.db import utcnow
from mel.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from mel.learning.files import CheckedPdf, stored
from mel.learning.models import EVIDENCE_KINDS, QUESTION_STATUSES, EvidenceItem, LearningQuestion
from mel.meetings.models import Meeting
from mel.scopes import can_keep_evidence

# The audit's words for these actions (mel/accounts/audit.py ACTIONS), for extraction: the audit page
# translates them where it shows them.
AUDIT_WORDS = (N_("Evidence added"), N_("Evidence changed"), N_("Evidence withdrawn"), N_("Learning question added"),
               N_("Learning question changed"))
LIMITS = {"title": 400, "authors": 400, "agency": 200, "link": 1000, "key_findings": 8000, "key_findings_sw": 8000,
          "reason": 2000, "code": 20, "question": 2000, "question_sw": 2000, "why": 4000, "answer": 8000}
ITEM_FIELDS = ("kind", "title", "authors", "agency", "published_on", "link", "key_findings", "key_findings_sw",
               "indicators", "nodes", "questions", "meeting_id")
QUESTION_FIELDS = ("code", "question", "question_sw", "why", "status", "answer", "nodes")
LINKS = 50  # indicators, nodes or questions one item may name
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,19}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


REFUSALS = {  # what a reader who does not keep the register is told, by what they tried
    "add_item": N_("Only the MERL TWG and the secretariat add evidence to the register."),
    "change_item": N_("Only the MERL TWG and the secretariat change evidence items."),
    "withdraw_item": N_("Only the MERL TWG and the secretariat withdraw evidence items."),
    "add_question": N_("Only the MERL TWG and the secretariat add learning questions."),
    "change_question": N_("Only the MERL TWG and the secretariat change learning questions."),
}
NOT_SAVED = {"item": N_("The evidence item was not saved: correct the fields below."),
             "withdrawal": N_("The evidence item was not withdrawn: correct the fields below."),
             "question": N_("The learning question was not saved: correct the fields below.")}


def require_keeper(user, what: str) -> None:
    """Forbidden unless the user keeps the register (the MERL TWG and the secretariat, mel/scopes.py)."""
    if not can_keep_evidence(user):
        raise Forbidden(text(Message(REFUSALS[what])))


# --------------------------------------------------------------------------- field checks


class _Checks:
    """Collects located problems while a payload's fields are read."""

    def __init__(self) -> None:
        self.problems: list[ErrorDetail] = []

    def add(self, name: str, words) -> None:
        self.problems.append(ErrorDetail(text(_labelled(name, words)), {"field": name}))

    def typed(self, values: Mapping, name: str, *, required: bool = False, one_line: bool = True) -> str:
        raw = values.get(name)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            self.add(name, Message(N_("a text.")))
            return ""
        if "\x00" in raw or _CONTROL.search(raw):
            self.add(name, Message(N_("contains a control character; type or paste the text again.")))
            return ""
        typed = " ".join(raw.split()) if one_line else raw.replace("\r\n", "\n").strip()
        if required and not typed:
            self.add(name, Message(N_("required.")))
        elif len(typed) > LIMITS[name]:
            self.add(name, message(N_("at most %(limit)s characters; this one has %(count)s."),
                                   limit=f"{LIMITS[name]:,}", count=f"{len(typed):,}"))
        return typed

    def translation(self, values: Mapping, name: str) -> str:
        return checked_translation(values.get(name), name, LIMITS[name], self.problems)

    def choice(self, values: Mapping, name: str, allowed: tuple[str, ...]) -> str:
        raw = values.get(name)
        if raw not in allowed:
            self.add(name, message(N_("%(value)s is not one of %(allowed)s."), value=repr(_short(raw)),
                                   allowed=", ".join(allowed)))
            return allowed[0]
        return raw

    def date(self, values: Mapping, name: str) -> date | None:
        raw = values.get(name)
        if raw in (None, ""):
            return None
        if isinstance(raw, date):
            return raw
        try:
            found = date.fromisoformat(str(raw).strip()) if isinstance(raw, str) else None
        except ValueError:
            found = None
        if found is None or not 1900 <= found.year <= 2100:
            self.add(name, message(N_("%(value)s is not a date: write it as 2024-06-30."), value=repr(_short(raw))))
        return found

    def link(self, values: Mapping) -> str:
        typed = self.typed(values, "link")
        if not typed:
            return ""
        parts = urlsplit(typed)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in typed:
            self.add("link", message(N_("%(link)s is not a web address: give one that starts with https:// or "
                                        "http://."), link=repr(_short(typed))))
        return typed

    def codes(self, values: Mapping, name: str) -> list[str]:
        raw = values.get(name)
        if raw in (None, ""):
            return []
        if isinstance(raw, str):
            raw = re.split(r"[\s,;]+", raw)
        if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
            self.add(name, Message(N_("a list of codes.")))
            return []
        found = list(dict.fromkeys(v.strip() for v in raw if v.strip()))
        if len(found) > LINKS:
            self.add(name, message(N_("at most %(limit)s; %(count)s were given."), limit=LINKS, count=len(found)))
            return []
        return found


def _short(value) -> str:
    return str(value)[:60]


def _labelled(name: str, words):
    from indicators.messages import Joined

    return Joined(": ", (name, words))


# A field of codes -> the model the codes name, and what codes that are not one are told.
LINKED = {"indicators": (Indicator, N_("not in the catalogue: %(codes)s.")),
          "nodes": (ResultsNode, N_("not nodes of the results framework: %(codes)s.")),
          "questions": (LearningQuestion, N_("not learning questions: %(codes)s."))}


def _resolved(session: Session, checks: _Checks, values: Mapping, name: str) -> list:
    """The rows the field's codes name (case does not matter), or a problem naming the codes that name none."""
    codes = checks.codes(values, name)
    if not codes:
        return []
    model, words = LINKED[name]
    wanted = {c.upper(): c for c in codes}
    rows = {row.code.upper(): row for row in session.scalars(
        select(model).where(func.upper(model.code).in_(list(wanted))))}
    unknown = [wanted[c] for c in wanted if c not in rows]
    if unknown:
        checks.add(name, message(words, codes=", ".join(unknown)))
    return [rows[c] for c in wanted if c in rows]


def _meeting(session: Session, checks: _Checks, values: Mapping) -> int | None:
    """The TWG meeting an item points at (its record, or the meeting it came from): any meeting recorded,
    whatever its status; none when the field is empty or null. The form sends the id as text, the API as
    a number."""
    raw = values.get("meeting_id")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    typed = raw.strip() if isinstance(raw, str) else raw
    whole = isinstance(typed, int) and not isinstance(typed, bool)
    if not (whole or (isinstance(typed, str) and typed.isascii() and typed.isdigit())):
        checks.add("meeting_id", message(N_("%(value)s is not a meeting's id (a whole number)."),
                                         value=repr(_short(raw))))
        return None
    meeting_id = int(typed)
    if not 0 < meeting_id <= MAX_ID or session.get(Meeting, meeting_id) is None:
        checks.add("meeting_id", message(N_("no TWG meeting has the id %(id)s."), id=meeting_id))
        return None
    return meeting_id


def _refuse(checks: _Checks, what: str) -> None:
    if checks.problems:
        raise ValidationFailed(text(Message(NOT_SAVED[what])), checks.problems)


# --------------------------------------------------------------------------- evidence items


def _item_values(session: Session, values: Mapping, fields: Iterable[str]) -> dict:
    """The given fields of an evidence item, checked; ValidationFailed listing every problem."""
    checks = _Checks()
    found: dict = {}
    for name in fields:
        if name == "kind":
            found[name] = checks.choice(values, name, EVIDENCE_KINDS)
        elif name == "title":
            found[name] = checks.typed(values, name, required=True)
        elif name in ("authors", "agency"):
            found[name] = checks.typed(values, name)
        elif name == "key_findings":
            found[name] = checks.typed(values, name, one_line=False)
        elif name == "key_findings_sw":
            found[name] = checks.translation(values, name)
        elif name == "published_on":
            found[name] = checks.date(values, name)
        elif name == "link":
            found[name] = checks.link(values)
        elif name in LINKED:
            found[name] = _resolved(session, checks, values, name)
        elif name == "meeting_id":
            found[name] = _meeting(session, checks, values)
    _refuse(checks, "item")
    return found


def validate_item(session: Session, values: Mapping) -> None:
    """Check every field of an item without saving it (ValidationFailed listing every problem)."""
    _item_values(session, values, ITEM_FIELDS)


def _plain(item: EvidenceItem) -> dict:
    """An item's fields as the audit keeps them (codes for its links)."""
    return {"kind": item.kind, "title": item.title, "authors": item.authors, "agency": item.agency,
            "published_on": item.published_on.isoformat() if item.published_on else None, "link": item.link,
            "key_findings": item.key_findings, "key_findings_sw": item.key_findings_sw,
            "indicators": [i.code for i in item.indicators], "nodes": [n.code for n in item.nodes],
            "questions": [q.code for q in item.questions], "meeting_id": item.meeting_id,
            "file": f"{item.file_name} ({item.file.sha256[:12]})" if item.file is not None else None}


def create_item(session: Session, user, values: Mapping, upload: CheckedPdf | None = None) -> EvidenceItem:
    """Add an evidence item (with its PDF, if one was uploaded and checked), flushed and audited."""
    require_keeper(user, "add_item")
    found = _item_values(session, values, ITEM_FIELDS)
    item = EvidenceItem(kind=found["kind"], title=found["title"], authors=found["authors"], agency=found["agency"],
                        published_on=found["published_on"], link=found["link"], key_findings=found["key_findings"],
                        key_findings_sw=found["key_findings_sw"], indicators=found["indicators"],
                        nodes=found["nodes"], questions=found["questions"], meeting_id=found["meeting_id"],
                        withdrawn_reason="", created_by_id=user.id, updated_by_id=user.id, file=None, file_name="")
    if upload is not None:
        item.file, item.file_name = stored(session, upload, user), upload.name
    session.add(item)
    session.flush()
    audit.record(session, "evidence.created", actor=user, object=f"evidence {item.id}",
                 details={"after": _plain(item)})
    return item


def update_item(session: Session, user, item: EvidenceItem, values: Mapping,
                upload: CheckedPdf | None = None) -> list[str]:
    """Change the given fields of an item (and its PDF, if one was uploaded), flushed; the fields changed.
    A withdrawn item cannot change (409): it stays as it was withdrawn."""
    require_keeper(user, "change_item")
    if item.withdrawn_at is not None:
        raise Conflict(text(message(N_("Evidence item %(id)s is withdrawn (%(reason)s); it cannot change."),
                                    id=item.id, reason=item.withdrawn_reason)))
    found = _item_values(session, values, [name for name in ITEM_FIELDS if name in values])
    before = _plain(item)
    for name, value in found.items():
        setattr(item, name, value)
    if upload is not None:
        item.file, item.file_name = stored(session, upload, user), upload.name
    return audit.record_changes(session, "evidence.updated", item, actor=user, object=f"evidence {item.id}",
                                before=before, after=_plain(item))


def withdraw_item(session: Session, user, item: EvidenceItem, reason) -> bool:
    """Withdraw an item with a reason (kept in the item and the audit); nothing is deleted. False when it
    was already withdrawn."""
    require_keeper(user, "withdraw_item")
    checks = _Checks()
    typed = checks.typed({"reason": reason}, "reason", one_line=False)
    if not checks.problems and not typed:
        checks.add("reason", Message(N_("say why the item is withdrawn (e.g. 'superseded by the 2025 endline "
                                        "evaluation'); the reason is kept with it.")))
    _refuse(checks, "withdrawal")
    if item.withdrawn_at is not None:
        return False
    item.withdrawn_at, item.withdrawn_reason = utcnow(), typed
    item.updated_by_id, item.updated_at = user.id, utcnow()
    session.flush()
    audit.record(session, "evidence.withdrawn", actor=user, object=f"evidence {item.id}",
                 details={"reason": typed, "title": item.title})
    return True


# --------------------------------------------------------------------------- learning questions


def next_code(session: Session) -> str:
    """The next free LQnn code."""
    numbers = [int(code[2:]) for code in session.scalars(select(LearningQuestion.code))
               if code.upper().startswith("LQ") and code[2:].isdigit()]
    return f"LQ{max(numbers, default=0) + 1:02d}"


def _question_values(session: Session, values: Mapping, fields: Iterable[str]) -> dict:
    checks = _Checks()
    found: dict = {}
    for name in fields:
        if name == "code":
            typed = checks.typed(values, name).upper()
            if typed and not _CODE.match(typed):
                checks.add(name, message(N_("%(code)s: letters, digits, '.', '-' or '_', starting with a letter or "
                                            "digit (e.g. LQ07)."), code=repr(_short(typed))))
            found[name] = typed
        elif name == "question":
            found[name] = checks.typed(values, name, required=True, one_line=False)
        elif name == "question_sw":
            found[name] = checks.translation(values, name)
        elif name in ("why", "answer"):
            found[name] = checks.typed(values, name, one_line=False)
        elif name == "status":
            found[name] = checks.choice(values, name, QUESTION_STATUSES)
        elif name == "nodes":
            found[name] = _resolved(session, checks, values, name)
    _refuse(checks, "question")
    return found


def _question_plain(question: LearningQuestion) -> dict:
    return {"code": question.code, "question": question.question, "question_sw": question.question_sw,
            "why": question.why, "status": question.status, "answer": question.answer,
            "nodes": [n.code for n in question.nodes]}


def _code_free(session: Session, code: str, question_id: int | None = None) -> None:
    other = session.scalar(select(LearningQuestion.id).where(func.upper(LearningQuestion.code) == code.upper()))
    if other is not None and other != question_id:
        said = text(message(N_("code: %(code)s is already the code of another learning question; choose another."),
                            code=code))
        raise ValidationFailed(said, [ErrorDetail(said, {"field": "code"})])


def create_question(session: Session, user, values: Mapping) -> LearningQuestion:
    """Add a learning question (its code: the one given, else the next LQnn), flushed and audited."""
    require_keeper(user, "add_question")
    given = {"status": "open", **values}
    found = _question_values(session, given, QUESTION_FIELDS)
    code = found["code"] or next_code(session)
    _code_free(session, code)
    question = LearningQuestion(code=code, question=found["question"], question_sw=found["question_sw"],
                                why=found["why"], status=found["status"], answer=found["answer"], nodes=found["nodes"],
                                created_by_id=user.id, updated_by_id=user.id)
    session.add(question)
    session.flush()
    audit.record(session, "question.created", actor=user, object=f"learning question {question.code}",
                 details={"after": _question_plain(question)})
    return question


def update_question(session: Session, user, question: LearningQuestion, values: Mapping) -> list[str]:
    """Change the given fields of a learning question, flushed and audited; the fields changed."""
    require_keeper(user, "change_question")
    found = _question_values(session, values, [name for name in QUESTION_FIELDS if name in values])
    if found.get("code") == "":
        found.pop("code")  # an empty code keeps the one it has
    if "code" in found:
        _code_free(session, found["code"], question.id)
    before = _question_plain(question)
    for name, value in found.items():
        setattr(question, name, value)
    return audit.record_changes(session, "question.updated", question, actor=user,
                                object=f"learning question {question.code}", before=before,
                                after=_question_plain(question))
