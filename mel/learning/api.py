"""JSON API of the evidence register and the learning agenda: /api/v1/evidence and /api/v1/learning-questions.

Everyone signed in (or with a token) reads; the MERL TWG and the secretariat write (mel/scopes.py
`can_keep_evidence`). Every change is audited (mel/learning/operations.py)."""

from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView
from sqlalchemy import select

from mel.accounts.auth import authenticated_user
from mel.accounts.models import User
from mel.api import api_blueprint
from mel.db import db
from mel.learning import files, operations, queries
from mel.learning.models import EvidenceItem, LearningQuestion
from mel.learning.schemas import (
    EvidenceCreateSchema,
    EvidenceFileUploadSchema,
    EvidenceItemSchema,
    EvidenceQuerySchema,
    EvidenceUpdateSchema,
    QuestionCreateSchema,
    QuestionQuerySchema,
    QuestionSchema,
    QuestionUpdateSchema,
    WithdrawSchema,
)
from reports.evidence import EVIDENCE_KINDS

blp = api_blueprint("learning_api", __name__, "The learning agenda and the evidence register: learning "
                    "questions, and evaluations, studies, policy briefs and TWG records with their key "
                    "findings, PDFs and the indicators, results-framework nodes and questions they speak to.")
files.register_body_limit(blp)


def _emails() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.email)).all())


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def item_body(item: EvidenceItem, emails: dict[int, str]) -> dict:
    """An evidence item as the API answers it."""
    stored = item.file
    return {
        "id": item.id, "uid": item.uid, "kind": item.kind, "kind_label": EVIDENCE_KINDS[item.kind],
        "title": item.title, "authors": item.authors, "agency": item.agency,
        "published_on": item.published_on.isoformat() if item.published_on else None,
        "year": item.published_on.year if item.published_on else None, "link": item.link,
        "file": None if stored is None else {
            "name": item.file_name, "size": stored.size, "pages": stored.pages, "sha256": stored.sha256,
            "url": url_for("learning_api.EvidenceFileOne", evidence_id=item.id)},
        "key_findings": item.key_findings, "key_findings_sw": item.key_findings_sw,
        "indicators": [i.code for i in item.indicators], "nodes": [n.code for n in item.nodes],
        "questions": [q.code for q in item.questions], "meeting_id": item.meeting_id,
        "withdrawn": item.withdrawn_at is not None, "withdrawn_at": _when(item.withdrawn_at),
        "withdrawn_reason": item.withdrawn_reason, "created_at": _when(item.created_at),
        "created_by": emails.get(item.created_by_id or 0, "system"), "updated_at": _when(item.updated_at),
        "updated_by": emails.get(item.updated_by_id or 0, "system"),
        "page": url_for("learning.evidence_page", evidence_id=item.id)}


def question_body(question: LearningQuestion, evidence: list[int]) -> dict:
    return {"id": question.id, "uid": question.uid, "code": question.code, "question": question.question,
            "question_sw": question.question_sw, "why": question.why, "status": question.status,
            "answer": question.answer, "nodes": [n.code for n in question.nodes], "evidence": evidence,
            "created_at": _when(question.created_at), "updated_at": _when(question.updated_at),
            "page": url_for("learning.question_page", question_id=question.id)}


def _reloaded(item_id: int) -> EvidenceItem:
    db.session.expire_all()
    return queries.item(db.session, item_id)


@blp.route("/evidence")
class Evidence(MethodView):
    @blp.arguments(EvidenceQuerySchema, location="query")
    @blp.response(200, EvidenceItemSchema(many=True))
    def get(self, args):
        """The register, newest first: full-text search (`q`: title, authors, agency, findings) and filters
        (kind, indicator, results-framework node, learning question, year; withdrawn items only with
        `withdrawn=true`). Paged by `page` and `per_page`; `X-Total-Count` says how many match."""
        session = db.session
        found = queries.register(session, queries.filters_from(session, args), args["page"], args["per_page"])
        emails = _emails()
        return [item_body(i, emails) for i in found.items], {"X-Total-Count": str(found.total)}

    @blp.arguments(EvidenceCreateSchema)
    @blp.response(201, EvidenceItemSchema)
    def post(self, args):
        """Add an evidence item (MERL TWG, secretariat); its PDF is sent next: PUT /evidence/<id>/file."""
        session = db.session
        item = operations.create_item(session, authenticated_user(), args)
        return (item_body(_reloaded(item.id), _emails()), 201,
                {"Location": url_for("learning_api.EvidenceOne", evidence_id=item.id)})


@blp.route("/evidence/<int:evidence_id>")
class EvidenceOne(MethodView):
    @blp.response(200, EvidenceItemSchema)
    def get(self, evidence_id: int):
        """One evidence item, withdrawn or not."""
        authenticated_user()
        return item_body(queries.item(db.session, evidence_id), _emails())

    @blp.arguments(EvidenceUpdateSchema)
    @blp.response(200, EvidenceItemSchema)
    @blp.alt_response(409, description="The item is withdrawn: it stays as it was")
    def patch(self, args, evidence_id: int):
        """Change the fields given (MERL TWG, secretariat); a list of codes replaces the item's links."""
        session = db.session
        user = authenticated_user()
        operations.require_keeper(user, "change_item")
        operations.update_item(session, user, queries.item(session, evidence_id), args)
        return item_body(_reloaded(evidence_id), _emails())


@blp.route("/evidence/<int:evidence_id>/withdraw")
class EvidenceWithdraw(MethodView):
    @blp.arguments(WithdrawSchema)
    @blp.response(200, EvidenceItemSchema)
    def post(self, args, evidence_id: int):
        """Withdraw an item with a reason (MERL TWG, secretariat): it stays in the register, marked, and
        leaves the indicator pages and reports; nothing is deleted. Withdrawing it again changes nothing."""
        session = db.session
        user = authenticated_user()
        operations.require_keeper(user, "withdraw_item")
        operations.withdraw_item(session, user, queries.item(session, evidence_id), args["reason"])
        return item_body(_reloaded(evidence_id), _emails())


@blp.route("/evidence/<int:evidence_id>/file")
class EvidenceFileOne(MethodView):
    @blp.response(200, content_type="application/pdf")
    @blp.doc(responses={"200": {"description": "The PDF as it was uploaded (Content-Disposition: attachment, with "
                                               "its file name; X-Content-SHA256)",
                                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, evidence_id: int):
        """The item's PDF (404 when it has none)."""
        authenticated_user()
        return files.download(queries.item(db.session, evidence_id))

    @blp.arguments(EvidenceFileUploadSchema, location="files")
    @blp.response(200, EvidenceItemSchema)
    @blp.alt_response(413, description="Over MEL_EVIDENCE_MAX_BYTES; nothing read or stored")
    @blp.alt_response(422, description="Not a PDF, or a PDF that cannot be read; nothing stored")
    def put(self, args, evidence_id: int):
        """Attach or replace the item's PDF (MERL TWG, secretariat): at most MEL_EVIDENCE_MAX_BYTES, a real
        PDF (it starts with %PDF- and opens), kept once by its SHA-256."""
        session = db.session
        user = authenticated_user()
        operations.require_keeper(user, "change_item")
        item = queries.item(session, evidence_id)
        upload = args["file"]
        checked = files.check_pdf(upload.read(files.max_bytes(current_app.config) + 1), upload.filename,
                                  files.max_bytes(current_app.config))
        operations.update_item(session, user, item, {}, upload=checked)
        return item_body(_reloaded(evidence_id), _emails())


@blp.route("/learning-questions")
class Questions(MethodView):
    @blp.arguments(QuestionQuerySchema, location="query")
    @blp.response(200, QuestionSchema(many=True))
    def get(self, args):
        """The learning agenda, by code; `status` narrows it."""
        session = db.session
        found = queries.questions(session, args.get("status"))
        return [question_body(q, [i.id for i in queries.for_question(session, q.id) if i.withdrawn_at is None])
                for q in found]

    @blp.arguments(QuestionCreateSchema)
    @blp.response(201, QuestionSchema)
    def post(self, args):
        """Add a learning question (MERL TWG, secretariat), linked to results-framework nodes."""
        session = db.session
        question = operations.create_question(session, authenticated_user(), args)
        return (question_body(question, []), 201,
                {"Location": url_for("learning_api.QuestionOne", question_id=question.id)})


@blp.route("/learning-questions/<int:question_id>")
class QuestionOne(MethodView):
    @blp.response(200, QuestionSchema)
    def get(self, question_id: int):
        """One learning question, with the evidence that speaks to it."""
        session = db.session
        authenticated_user()
        question = queries.question(session, question_id)
        return question_body(question, [i.id for i in queries.for_question(session, question_id)
                                        if i.withdrawn_at is None])

    @blp.arguments(QuestionUpdateSchema)
    @blp.response(200, QuestionSchema)
    def patch(self, args, question_id: int):
        """Change the fields given (MERL TWG, secretariat)."""
        session = db.session
        user = authenticated_user()
        operations.require_keeper(user, "change_question")
        question = queries.question(session, question_id)
        operations.update_question(session, user, question, args)
        return question_body(question, [i.id for i in queries.for_question(session, question_id)
                                        if i.withdrawn_at is None])
