"""Reading the evidence register and the learning agenda: search and filters, one item or question,
what an indicator's page and a sector report show. Loader options are named here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, Table, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from indicators.messages import N_, message, text
from mel.catalogue.language import localised
from mel.catalogue.models import Indicator, ResultsNode
from mel.errors import ErrorDetail, NotFound, ValidationFailed
from mel.learning.models import (
    EVIDENCE_KINDS,
    QUESTION_STATUSES,
    EvidenceFile,
    EvidenceItem,
    LearningQuestion,
    evidence_indicator,
    evidence_node,
    evidence_question,
)

# The file's row without its bytes: pages list items; the download reads the bytes (files.download).
ITEM_LOADERS = (selectinload(EvidenceItem.file).defer(EvidenceFile.content, raiseload=True),
                selectinload(EvidenceItem.indicators),
                selectinload(EvidenceItem.nodes), selectinload(EvidenceItem.questions))
QUESTION_LOADERS = (selectinload(LearningQuestion.nodes),)
PER_PAGE = 25
QUERY_LIMIT = 200  # characters of a search
TERMS_LIMIT = 10  # words of a search that count
YEARS = (1900, 2100)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SEARCHED = (EvidenceItem.title, EvidenceItem.authors, EvidenceItem.agency, EvidenceItem.key_findings,
            EvidenceItem.key_findings_sw)


@dataclass(frozen=True)
class CodedFilter:
    """A filter of the register by a linked row's code: the query string's field, the model whose code it
    names (compared without regard to case), the link table and its column, what an unknown code is told."""

    field: str
    model: type
    link: Table
    column: str
    unknown: str


CODED = (
    CodedFilter("indicator", Indicator, evidence_indicator, "indicator_id",
                N_("indicator: %(code)s is not in the catalogue.")),
    CodedFilter("node", ResultsNode, evidence_node, "node_id",
                N_("node: %(code)s is not a node of the results framework.")),
    CodedFilter("question", LearningQuestion, evidence_question, "question_id",
                N_("question: %(code)s is not a learning question.")),
)


@dataclass
class EvidenceFilters:
    """What the register is narrowed to: words to search, kind, indicator, results node, learning question,
    year of publication, and whether withdrawn items are shown (they are not by default)."""

    q: str = ""
    kind: str = ""
    indicator: str = ""
    node: str = ""
    question: str = ""
    year: int | None = None
    withdrawn: bool = False
    ids: dict[str, int] = field(default_factory=dict)  # the resolved indicator, node and question ids

    def as_args(self) -> dict[str, str]:
        """The filters as an address's query string keeps them (only those set)."""
        found = {"q": self.q, "kind": self.kind, "indicator": self.indicator, "node": self.node,
                 "question": self.question, "year": str(self.year or ""), "withdrawn": "1" if self.withdrawn else ""}
        return {k: v for k, v in found.items() if v}

    @property
    def narrowed(self) -> bool:
        return bool({k for k in self.as_args() if k != "withdrawn"})


def search_terms(q: str) -> list[str]:
    """The words of a search (control characters dropped, at most TERMS_LIMIT words)."""
    return _CONTROL.sub(" ", q or "").split()[:TERMS_LIMIT]


def _year(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        year = None
    if year is None or not YEARS[0] <= year <= YEARS[1]:
        raise ValidationFailed(text(message(N_("year: %(year)s is not a year (%(first)s to %(last)s)."),
                                            year=repr(str(value)[:40]), first=YEARS[0], last=YEARS[1])),
                               [ErrorDetail(text(message(N_("Give a year such as 2024."))), {"field": "year"})])
    return year


def _truthy(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on", "shown")


def filters_from(session: Session, args) -> EvidenceFilters:
    """Filters from a query string or an API's arguments; an unknown kind, indicator, results node,
    learning question or a year that is not one is refused with a message naming the field."""
    q = _CONTROL.sub(" ", str(args.get("q") or ""))[:QUERY_LIMIT].strip()
    found = EvidenceFilters(q=" ".join(q.split()), withdrawn=_truthy(args.get("withdrawn")))
    kind = str(args.get("kind") or "").strip()
    if kind:
        if kind not in EVIDENCE_KINDS:
            raise _unknown("kind", message(N_("kind: %(kind)s is not one of %(kinds)s."), kind=repr(kind[:40]),
                                           kinds=", ".join(EVIDENCE_KINDS)))
        found.kind = kind
    for by in CODED:
        typed = str(args.get(by.field) or "").strip()
        if not typed:
            continue
        row = session.execute(select(by.model.id, by.model.code).where(
            func.upper(by.model.code) == typed.upper())).first()
        if row is None:
            raise _unknown(by.field, message(by.unknown, code=repr(typed[:40])))
        setattr(found, by.field, row.code)
        found.ids[by.field] = row.id
    found.year = _year(args.get("year"))
    return found


def _unknown(field_name: str, words) -> ValidationFailed:
    said = text(words)
    return ValidationFailed(said, [ErrorDetail(said, {"field": field_name})])


def newest_first(query: Select) -> Select:
    """Items with a publication date newest first, then those without one, most recently added first."""
    return query.order_by(case((EvidenceItem.published_on.is_(None), 1), else_=0), EvidenceItem.published_on.desc(),
                          EvidenceItem.id.desc())


def _filtered(filters: EvidenceFilters) -> Select:
    query = select(EvidenceItem)
    if not filters.withdrawn:
        query = query.where(EvidenceItem.withdrawn_at.is_(None))
    for term in search_terms(filters.q):
        query = query.where(or_(*(column.icontains(term, autoescape=True) for column in SEARCHED)))
    if filters.kind:
        query = query.where(EvidenceItem.kind == filters.kind)
    for by in CODED:
        if by.field in filters.ids:
            column = by.link.c[by.column]
            query = query.where(EvidenceItem.id.in_(select(by.link.c.evidence_id).where(
                column == filters.ids[by.field])))
    if filters.year is not None:
        query = query.where(EvidenceItem.published_on >= date(filters.year, 1, 1),
                            EvidenceItem.published_on <= date(filters.year, 12, 31))
    return query


@dataclass
class Page:
    items: list[EvidenceItem]
    total: int
    page: int
    pages: int


def register(session: Session, filters: EvidenceFilters, page: int = 1, per_page: int | None = PER_PAGE) -> Page:
    """The register's items the filters select, newest first (a page of them; per_page None: all)."""
    query = _filtered(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if per_page is None:
        return Page(list(session.scalars(newest_first(query).options(*ITEM_LOADERS))), total, 1, 1)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(newest_first(query).options(*ITEM_LOADERS).offset((page - 1) * per_page).limit(per_page))
    return Page(list(rows), total, page, pages)


def item(session: Session, item_id: int) -> EvidenceItem:
    found = session.scalar(select(EvidenceItem).where(EvidenceItem.id == item_id).options(*ITEM_LOADERS))
    if found is None:
        raise NotFound(text(message(N_("Evidence item %(id)s is not in the register."), id=item_id)))
    return found


def for_indicator(session: Session, indicator_id: int) -> list[EvidenceItem]:
    """What the evidence says about an indicator: the items linked to it, not withdrawn, newest first."""
    query = select(EvidenceItem).where(EvidenceItem.withdrawn_at.is_(None), EvidenceItem.id.in_(
        select(evidence_indicator.c.evidence_id).where(evidence_indicator.c.indicator_id == indicator_id)))
    return list(session.scalars(newest_first(query)))


def for_question(session: Session, question_id: int) -> list[EvidenceItem]:
    """The items that speak to a learning question, withdrawn ones included (marked), newest first."""
    query = select(EvidenceItem).where(EvidenceItem.id.in_(
        select(evidence_question.c.evidence_id).where(evidence_question.c.question_id == question_id)))
    return list(session.scalars(newest_first(query)))


def for_meeting(session: Session, meeting_id: int) -> list[EvidenceItem]:
    """The items that record or came from a TWG meeting, not withdrawn (as indicator pages and reports),
    newest first."""
    query = select(EvidenceItem).where(EvidenceItem.meeting_id == meeting_id, EvidenceItem.withdrawn_at.is_(None))
    return list(session.scalars(newest_first(query)))


def questions(session: Session, status: str | None = None) -> list[LearningQuestion]:
    query = select(LearningQuestion).options(*QUESTION_LOADERS).order_by(LearningQuestion.code)
    if status:
        if status not in QUESTION_STATUSES:
            raise _unknown("status", message(N_("status: %(status)s is not one of %(statuses)s."),
                                             status=repr(status[:40]), statuses=", ".join(QUESTION_STATUSES)))
        query = query.where(LearningQuestion.status == status)
    return list(session.scalars(query))


def question(session: Session, question_id: int) -> LearningQuestion:
    found = session.scalar(select(LearningQuestion).where(LearningQuestion.id == question_id)
                           .options(*QUESTION_LOADERS))
    if found is None:
        raise NotFound(text(message(N_("Learning question %(id)s is not on the learning agenda."), id=question_id)))
    return found


def evidence_counts(session: Session) -> dict[int, int]:
    """Question id -> how many items in the register (not withdrawn) speak to it."""
    rows = session.execute(select(evidence_question.c.question_id, func.count())
                           .join(EvidenceItem, EvidenceItem.id == evidence_question.c.evidence_id)
                           .where(EvidenceItem.withdrawn_at.is_(None))
                           .group_by(evidence_question.c.question_id))
    return {question_id: count for question_id, count in rows}


def report_evidence(session: Session, language: str = "en") -> dict[str, list[dict]]:
    """The sector report's part: pillar code -> the items (not withdrawn) linked to an indicator of the
    pillar or to a results-framework node of the pillar, newest first, their findings in `language`
    (Kiswahili where written, else English marked `in_english`). Empty when nothing is linked."""
    by_indicator = select(evidence_indicator.c.evidence_id, Indicator.pillar_id).join(
        Indicator, Indicator.id == evidence_indicator.c.indicator_id)
    by_node = select(evidence_node.c.evidence_id, ResultsNode.pillar_id).join(
        ResultsNode, ResultsNode.id == evidence_node.c.node_id).where(ResultsNode.pillar_id.is_not(None))
    pillars_of: dict[int, set[int]] = {}
    for evidence_id, pillar_id in [*session.execute(by_indicator), *session.execute(by_node)]:
        pillars_of.setdefault(evidence_id, set()).add(pillar_id)
    if not pillars_of:
        return {}
    from mel.catalogue.models import Pillar

    codes = dict(session.execute(select(Pillar.id, Pillar.code)).all())
    items = session.scalars(newest_first(select(EvidenceItem).where(
        EvidenceItem.withdrawn_at.is_(None), EvidenceItem.id.in_(list(pillars_of)))))
    found: dict[str, list[dict]] = {}
    for row in items:
        findings = localised(row, "key_findings", language)
        body = {"id": row.id, "kind": row.kind, "title": row.title, "authors": row.authors, "agency": row.agency,
                "published_on": row.published_on.isoformat() if row.published_on else None, "findings": findings,
                "in_english": language != "en" and not (row.key_findings_sw or "").strip() and bool(findings)}
        for pillar_id in sorted(pillars_of[row.id]):
            found.setdefault(codes[pillar_id], []).append(body)
    return found
