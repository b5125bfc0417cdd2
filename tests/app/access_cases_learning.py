"""Access-matrix cases for the evidence register and the learning agenda (merged by
tests/app/test_access_matrix.py): everyone signed in reads the register, its PDFs and the questions;
the MERL TWG (reviewers) and the secretariat write (mel/scopes.py `can_keep_evidence`); officers and
viewers are refused (403). An item or question that does not exist is not found (404) for those who
may write, and refused for the others, whose permission is checked first."""

from __future__ import annotations

import hashlib

from sqlalchemy import insert, select

from mel.db import utcnow
from mel.uid import generate_uid

MARK = "EVIDENCEMATRIX"
MISSING = 999999


def _pdf() -> bytes:
    from tests.app.test_learning import pdf_bytes

    return pdf_bytes(1)


def _ids(s) -> dict[str, int]:
    """An item with a PDF and a learning question, added once to the module's transaction."""
    from mel.catalogue.models import Indicator
    from mel.learning.models import EvidenceFile, EvidenceItem, LearningQuestion, evidence_indicator
    from mel.meetings.models import Meeting

    if s.current is not None:  # its savepoint would take the rows with it when it closes
        s.current.close()
        s.current = None
    items, questions, files = EvidenceItem.__table__, LearningQuestion.__table__, EvidenceFile.__table__
    found = s.connection.execute(select(items.c.id).where(items.c.title == f"{MARK} item")).scalar()
    question = s.connection.execute(select(questions.c.id).where(questions.c.code == "LQMX")).scalar()
    if found is None:
        content = _pdf()
        file_id = s.connection.execute(insert(files).values(
            sha256=hashlib.sha256(content).hexdigest(), size=len(content), pages=1, content=content,
            uploaded_at=utcnow()).returning(files.c.id)).scalar()
        found = s.connection.execute(insert(items).values(
            uid=generate_uid(), kind="study", title=f"{MARK} item", authors="", agency="", link="", file_id=file_id,
            file_name="matrix.pdf", key_findings="Matrix findings.", key_findings_sw="", withdrawn_reason="",
            created_at=utcnow(), updated_at=utcnow()).returning(items.c.id)).scalar()
        sa02 = s.connection.execute(select(Indicator.id).where(Indicator.code == "SA02")).scalar()
        s.connection.execute(insert(evidence_indicator).values(evidence_id=found, indicator_id=sa02))
    if question is None:
        question = s.connection.execute(insert(questions).values(
            uid=generate_uid(), code="LQMX", question=f"{MARK} question?", question_sw="", why="", status="open",
            answer="", created_at=utcnow(), updated_at=utcnow()).returning(questions.c.id)).scalar()
    meeting = s.connection.execute(select(Meeting.id).order_by(Meeting.held_on.desc())).scalar()
    return {"item": found, "question": question, "meeting": meeting}


def cases(s) -> dict:
    """{(endpoint, method): [Case, ...]} for the register's and the agenda's routes."""
    from tests.app.test_access_matrix import (
        DENIED,
        HIDDEN,
        OK,
        REVIEWERS,
        WRITE,
        Case,
        only,
        signed,
    )

    ids = _ids(s)
    item, question = ids["item"], ids["question"]
    # The keepers point the item at a TWG meeting too (the others are refused before it is looked at).
    fields = {"kind": "study", "title": "Matrix study", "key_findings": "Found.", "indicators": "SA02",
              "meeting_id": str(ids["meeting"])}
    keepers = REVIEWERS

    def keeps(ok=WRITE, api=False):
        return only(keepers, ok, api=api)

    def missing(api=False):  # the permission is checked before the item is looked up
        return only(keepers, HIDDEN, api=api, otherwise=DENIED)

    pdf = (_pdf(), "matrix.pdf")
    return {
        ("learning.evidence_list", "GET"): [
            Case("GET", "/learning/evidence", signed()),
            Case("GET", "/learning/evidence", signed(), query={"q": "matrix", "kind": "study", "indicator": "SA02",
                                                              "node": "O1.1", "question": "LQMX", "year": "2024",
                                                              "withdrawn": "1"}),
            Case("GET", "/learning/evidence", signed(), query={"kind": "nope", "year": "soon"}, label="bad filters")],
        ("learning.evidence_page", "GET"): [Case("GET", f"/learning/evidence/{item}", signed()),
                                            Case("GET", f"/learning/evidence/{MISSING}", signed(HIDDEN))],
        ("learning.evidence_file", "GET"): [Case("GET", f"/learning/evidence/{item}/file", signed()),
                                            Case("GET", f"/learning/evidence/{MISSING}/file", signed(HIDDEN))],
        ("learning.evidence_new", "GET"): [Case("GET", "/learning/evidence/new", keeps(OK))],
        ("learning.evidence_new", "POST"): [Case("POST", "/learning/evidence/new", keeps(), data=fields)],
        ("learning.evidence_edit", "GET"): [Case("GET", f"/learning/evidence/{item}/edit", keeps(OK)),
                                            Case("GET", f"/learning/evidence/{MISSING}/edit", missing())],
        ("learning.evidence_edit", "POST"): [Case("POST", f"/learning/evidence/{item}/edit", keeps(), data=fields),
                                             Case("POST", f"/learning/evidence/{MISSING}/edit", missing(),
                                                  data=fields)],
        ("learning.evidence_withdraw", "POST"): [
            Case("POST", f"/learning/evidence/{item}/withdraw", keeps(), data={"reason": "Matrix."}),
            Case("POST", f"/learning/evidence/{MISSING}/withdraw", missing(), data={"reason": "Matrix."})],
        ("learning.question_list", "GET"): [Case("GET", "/learning/questions", signed()),
                                            Case("GET", "/learning/questions", signed(), query={"status": "open"})],
        ("learning.question_page", "GET"): [Case("GET", f"/learning/questions/{question}", signed()),
                                            Case("GET", f"/learning/questions/{MISSING}", signed(HIDDEN))],
        ("learning.question_new", "GET"): [Case("GET", "/learning/questions/new", keeps(OK))],
        ("learning.question_new", "POST"): [Case("POST", "/learning/questions/new", keeps(),
                                                 data={"question": "Matrix?", "status": "open", "nodes": "O1.1"})],
        ("learning.question_edit", "GET"): [Case("GET", f"/learning/questions/{question}/edit", keeps(OK)),
                                            Case("GET", f"/learning/questions/{MISSING}/edit", missing())],
        ("learning.question_edit", "POST"): [
            Case("POST", f"/learning/questions/{question}/edit", keeps(),
                 data={"code": "LQMX", "question": "Matrix, again?", "status": "answered"}),
            Case("POST", f"/learning/questions/{MISSING}/edit", missing(), data={"question": "Matrix?"})],
        ("learning_api.Evidence", "GET"): [
            Case("GET", "/api/v1/evidence", signed(api=True)),
            Case("GET", "/api/v1/evidence", signed(api=True), query={"q": "matrix", "indicator": "SA02"}),
            Case("GET", "/api/v1/evidence", signed({422}, api=True), query={"indicator": "XX99"}, label="unknown")],
        ("learning_api.Evidence", "POST"): [Case("POST", "/api/v1/evidence", keeps(api=True),
                                                 json={**fields, "indicators": ["SA02"],
                                                       "meeting_id": ids["meeting"]})],
        ("learning_api.EvidenceOne", "GET"): [Case("GET", f"/api/v1/evidence/{item}", signed(api=True)),
                                              Case("GET", f"/api/v1/evidence/{MISSING}", signed(HIDDEN, api=True))],
        ("learning_api.EvidenceOne", "PATCH"): [
            Case("PATCH", f"/api/v1/evidence/{item}", keeps(api=True), json={"agency": "SPS"}),
            Case("PATCH", f"/api/v1/evidence/{item}", keeps(api=True), json={"meeting_id": ids["meeting"]},
                 label="meeting"),
            Case("PATCH", f"/api/v1/evidence/{item}", keeps(api=True), json={"meeting_id": None},
                 label="no meeting"),
            Case("PATCH", f"/api/v1/evidence/{MISSING}", missing(api=True), json={"agency": "SPS"})],
        ("learning_api.EvidenceWithdraw", "POST"): [
            Case("POST", f"/api/v1/evidence/{item}/withdraw", keeps(api=True), json={"reason": "Matrix."}),
            Case("POST", f"/api/v1/evidence/{MISSING}/withdraw", missing(api=True), json={"reason": "Matrix."})],
        ("learning_api.EvidenceFileOne", "GET"): [
            Case("GET", f"/api/v1/evidence/{item}/file", signed(api=True)),
            Case("GET", f"/api/v1/evidence/{MISSING}/file", signed(HIDDEN, api=True))],
        ("learning_api.EvidenceFileOne", "PUT"): [
            Case("PUT", f"/api/v1/evidence/{item}/file", keeps(api=True), data={"file": pdf}),
            Case("PUT", f"/api/v1/evidence/{MISSING}/file", missing(api=True), data={"file": pdf})],
        ("learning_api.Questions", "GET"): [Case("GET", "/api/v1/learning-questions", signed(api=True))],
        ("learning_api.Questions", "POST"): [Case("POST", "/api/v1/learning-questions", keeps(api=True),
                                                  json={"question": "Matrix?", "nodes": ["O1.1"]})],
        ("learning_api.QuestionOne", "GET"): [
            Case("GET", f"/api/v1/learning-questions/{question}", signed(api=True)),
            Case("GET", f"/api/v1/learning-questions/{MISSING}", signed(HIDDEN, api=True))],
        ("learning_api.QuestionOne", "PATCH"): [
            Case("PATCH", f"/api/v1/learning-questions/{question}", keeps(api=True), json={"status": "answered"}),
            Case("PATCH", f"/api/v1/learning-questions/{MISSING}", missing(api=True), json={"status": "open"})],
    }
