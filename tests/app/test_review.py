"""The TWG's review: queries, corrections, decisions, bulk approval, notifications by e-mail."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select

from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.errors import Conflict
from mel.returns import operations as return_ops
from mel.returns.models import DataValue, Return, ReturnEvent, ValueChange
from mel.review import notify
from mel.review import operations as review
from mel.review.models import Notification, QueryMessage
from tests.app.returns_helpers import IN_WINDOW, rows_like, send
from tests.app.smtp_helpers import free_port
from tests.helpers import submitted_return


def test_submit_query_correct_return_resubmit_approve(session):
    catalogue = load_catalogue(session)
    officer = load_user(session, "officer.opct@demo.test")
    reviewer = load_user(session, "reviewer@demo.test")
    record = submitted_return(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        query = review.raise_query(session, catalogue, reviewer, record, "SA14", "F_A70P",
                                   "Enrolment in Kisumu looks low against the payroll; please check.")
        with pytest.raises(Conflict, match="open queries"):
            review.approve(session, catalogue, reviewer, record)
        before = session.scalar(select(DataValue.value).where(
            DataValue.return_id == record.id, DataValue.indicator_id == catalogue.indicators["SA14"].id,
            DataValue.option_combo_id == catalogue.combos[("SA14", "F_A70P")]))
        review.answer_query(session, catalogue, officer, query, "Two enrolment sheets were missed; corrected.",
                            corrected_value=str(int(before) + 40))
        assert record.state == "submitted" and query.status == "answered"
        review.return_to_officer(session, catalogue, reviewer, record, ["explanation"],
                                 "Please add a narrative on the missed enrolment sheets.")
        return_ops.save_narrative(session, officer, catalogue, catalogue.programmes["OPCT"],
                                  catalogue.org_units["042"], record.period,
                                  "Two enrolment sheets from Seme were entered late.")
        return_ops.submit(session, officer, record)
        review.approve(session, catalogue, reviewer, record)
    assert record.state == "approved"
    change = session.scalars(select(ValueChange).where(ValueChange.return_id == record.id)
                             .order_by(ValueChange.id.desc())).first()
    assert change.new_value - change.old_value == 40 and "missed" in change.explanation
    events = session.scalars(select(ReturnEvent).where(ReturnEvent.return_id == record.id)
                             .order_by(ReturnEvent.id)).all()
    assert [(e.from_state, e.to_state) for e in events] == [
        ("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted"), ("submitted", "approved")]
    returned = events[1]
    assert returned.reason_codes == "explanation" and "narrative" in returned.reason
    thread = session.scalars(select(QueryMessage).where(QueryMessage.query_id == query.id)
                             .order_by(QueryMessage.id)).all()
    assert [m.kind for m in thread] == ["question", "correction", "close"]
    kinds = {n.kind for n in session.scalars(select(Notification))}
    assert {"submitted", "query", "query_answered", "returned"} <= kinds


def test_an_approved_return_cannot_change_through_any_path_but_a_reopen(session):
    catalogue = load_catalogue(session)
    record = submitted_return(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        review.approve(session, catalogue, load_user(session, "reviewer@demo.test"), record)
        changed = rows_like(session, "OPCT", ["042"], factor=1.02)
        for email in ("officer.opct@demo.test", "secretariat@demo.test"):
            assert send(session, email, changed).outcome == "refused"
        review.reopen(session, catalogue, load_user(session, "secretariat@demo.test"), record, "Audit correction")
        assert send(session, "officer.opct@demo.test", changed).outcome == "stored"


def test_bulk_approval_takes_only_clean_returns(session):
    catalogue = load_catalogue(session)
    clean = submitted_return(session)
    rows = rows_like(session, "OPCT", ["037"])
    index = rows.index[(rows["indicator"] == "SA14") & (rows["option"] == "F_A70P")][0]
    rows.loc[index, "value"] = str(int(rows.loc[index, "value"]) * 4)
    flagged = session.get(Return, send(session, "officer.opct@demo.test", rows).returns[0].return_id)
    reviewer = load_user(session, "reviewer@demo.test")
    with time_machine.travel(IN_WINDOW, tick=False):
        approved, skipped = review.bulk_approve(session, catalogue, reviewer, [clean, flagged])
    assert approved == [clean] and skipped == []  # the flagged one was never submitted
    assert flagged.state == "draft"


def test_a_reviewer_gets_an_email_with_a_link_when_a_return_is_submitted(app, session, smtp_server):
    inbox, port = smtp_server
    submitted_return(session)
    config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "BASE_URL": "https://mel.example.go.ke"}
    sent = notify.send_pending(session, config)
    assert sent >= 1
    to_reviewer = inbox.bodies("reviewer@demo.test")
    assert len(to_reviewer) == 1
    content = to_reviewer[0]
    assert "Submitted for review" in content and "https://mel.example.go.ke/returns/OPCT/042/2025Q3" in content
    assert all(n.emailed_at for n in session.scalars(select(Notification)))
    assert notify.send_pending(session, config) == 0  # nothing is sent twice


def test_completeness_and_timeliness_equal_a_hand_count(client, session):
    from mel.accounts.operations import create_token

    token = create_token(session, "reviewer@demo.test").token
    headers = {"Authorization": f"Bearer {token}"}
    # HSNP, 2025Q3, 8 counties expected: Turkana submitted on time, Wajir submitted late,
    # Marsabit saved as a draft, the other five not started.
    rows = {unit: rows_like(session, "HSNP", [unit]) for unit in ("023", "008", "010")}
    for frame in rows.values():
        result = send(session, "secretariat@demo.test", frame, programme="HSNP")
        assert result.outcome == "stored", [e.message for e in result.errors]
    secretariat = load_user(session, "secretariat@demo.test")
    for unit, when in (("023", IN_WINDOW), ("008", IN_WINDOW.replace(day=25))):
        record = session.scalar(select(Return).join(Return.org_unit).where(Return.period == "2025Q3")
                                .where(Return.org_unit.has(code=unit)))
        with time_machine.travel(when, tick=False):
            return_ops.submit(session, secretariat, record)
    by_programme = client.get("/api/v1/completeness?period=2025Q3&by=programme", headers=headers).json
    hsnp = next(r for r in by_programme if r["programme"] == "HSNP")
    assert (hsnp["expected"], hsnp["received"], hsnp["on_time"]) == (8, 2, 1)
    assert hsnp["completeness"] == 25.0 and hsnp["timeliness"] == 12.5
    filled = sum(len(frame) for frame in rows.values())
    assert hsnp["value_completeness"] == round(filled / hsnp["required"] * 100, 1)
    by_unit = client.get("/api/v1/completeness?period=2025Q3&by=org_unit", headers=headers).json
    turkana = next(r for r in by_unit if r["org_unit"] == "023")
    # Turkana expects OPCT, CTOVC, PWSD, HSNP, NICHE, NSSF and SHA; only HSNP arrived, on time.
    assert (turkana["expected"], turkana["received"], turkana["on_time"]) == (7, 1, 1)
    queue = client.get("/api/v1/review-queue?period=2025Q3&programme=HSNP", headers=headers).json
    assert [r["state"] for r in queue][:2] == ["submitted", "submitted"]  # what needs attention comes first
    assert [r["is_late"] for r in queue if r["org_unit"] == "008"] == [True]
    assert {r["state"] for r in queue} == {"submitted", "draft", "not_started"}


def test_decisions_and_queries_through_the_api(client, session):
    from mel.accounts.operations import create_token

    record = submitted_return(session)
    reviewer = {"Authorization": f"Bearer {create_token(session, 'reviewer@demo.test').token}"}
    officer = {"Authorization": f"Bearer {create_token(session, 'officer.opct@demo.test').token}"}
    base = "/api/v1/returns/OPCT/042/2025Q3"
    with time_machine.travel(IN_WINDOW, tick=False):
        raised = client.post(f"{base}/queries", json={"indicator": "SA10", "text": "Disbursement is high."},
                             headers=reviewer)
        assert raised.status_code == 201, raised.json
        assert client.post(f"{base}/approve", headers=reviewer).status_code == 409
        answered = client.post(f"{base}/queries/{raised.json['id']}", json={"text": "Includes arrears for June."},
                               headers=officer)
        assert answered.json["status"] == "answered"
        assert [m["kind"] for m in client.get(f"{base}/queries", headers=officer).json[0]["messages"]] == [
            "question", "answer"]
        assert client.post(f"{base}/return", json={"reasons": ["nope"], "text": "x"}, headers=reviewer).status_code == 422
        approved = client.post(f"{base}/approve", headers=reviewer)
        assert approved.status_code == 200 and approved.json["state"] == "approved"
        assert client.post(f"{base}/reopen", json={"reason": "x"}, headers=reviewer).status_code == 403
    session.refresh(record)
    assert record.state == "approved"


def test_review_pages_show_the_queue_the_return_and_data_quality(client, session):
    from tests.helpers import csrf_token, login

    record = submitted_return(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "reviewer@demo.test")
        queue = client.get("/review/?period=2025Q3").get_data(as_text=True)
        assert "Review queue — FY2025/26 Q1 (Jul–Sep 2025)" in queue
        assert f'name="return_id" value="{record.id}"' in queue
        page = client.get("/review/OPCT/042/2025Q3").get_data(as_text=True)
        assert "<svg" in page and "A year ago (FY24/25 Q1)" in page and "Share of national" in page
        token = csrf_token(client, "/review/OPCT/042/2025Q3")
        response = client.post("/review/bulk-approve", data={"csrf_token": token, "period": "2025Q3",
                                                              "return_id": str(record.id)})
        assert response.status_code == 302
        session.refresh(record)
        assert record.state == "approved"
        quality_page = client.get("/review/data-quality?period=2025Q3").get_data(as_text=True)
    assert "TWG decision log" in quality_page
    assert "<td>OPCT Kisumu</td><td>approved</td><td>reviewer@demo.test</td>" in quality_page


def test_officers_and_viewers_cannot_open_the_review(client):
    from tests.helpers import login

    login(client, "officer.opct@demo.test")
    assert client.get("/review/").status_code == 403


def test_the_officer_answers_a_query_on_the_return_page_and_is_notified(client, session):
    from tests.helpers import csrf_token, login

    catalogue = load_catalogue(session)
    record = submitted_return(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        query = review.raise_query(session, catalogue, load_user(session, "reviewer@demo.test"), record, "SA15",
                                   "default", "Exits doubled; why?")
        login(client, "officer.opct@demo.test")
        home = client.get("/").get_data(as_text=True)
        assert 'class="count">' in home
        notes = client.get("/review/notifications").get_data(as_text=True)
        assert "Query on SA15" in notes and "/returns/OPCT/042/2025Q3" in notes
        page = client.get("/returns/OPCT/042/2025Q3").get_data(as_text=True)
        assert "Exits doubled; why?" in page
        token = csrf_token(client, "/returns/OPCT/042/2025Q3")
        response = client.post(f"/review/queries/{query.id}/answer",
                               data={"csrf_token": token, "text": "Death audit in Seme sub-county."})
        assert response.status_code == 302
    session.refresh(query)
    assert query.status == "answered"


def test_an_unreachable_smtp_server_is_logged_and_retried_later(app, session):
    submitted_return(session)
    config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port()}
    assert notify.send_pending(session, config) == 0
    pending = session.scalars(select(Notification).where(Notification.emailed_at.is_(None))).all()
    assert pending and all("SMTP unreachable" in n.email_error for n in pending)
