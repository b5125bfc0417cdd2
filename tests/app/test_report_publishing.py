"""Publishing a report is a background job: the request answers at once with the pending state, the
run page follows the final PDF's progress, the job publishes only once that PDF is saved, a failure
leaves the draft intact with its reason and a way to retry, and a second request meanwhile is a 409.

The in-process tests ask through the same operation the web and the API use and then run the job
function; the last test goes through a real Redis queue and a real `mel worker` process.
"""

from __future__ import annotations

import io
import time
import uuid
from datetime import timedelta

import pdfplumber
import pytest
from rq.suspension import resume, suspend
from sqlalchemy import event, select

from mel import jobs
from mel.accounts.models import AuditEvent, User
from mel.accounts.operations import create_token
from mel.app import create_app
from mel.catalogue.operations import seed_catalogue
from mel.db import db, utcnow
from mel.demo import load_demo
from mel.migrate import upgrade
from mel.reporting import operations, queries
from mel.reporting.models import ReportRun
from tests.app.queue_helpers import REDIS_URL, clear_queues, workers
from tests.helpers import csrf_token, fresh_database_url, login

pytestmark = pytest.mark.slow  # WeasyPrint lays out each report twice (draft, then final)

PERIOD = "2025Q2"
SECRETARIAT = "secretariat@demo.test"


def page_texts(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


@pytest.fixture
def draft(session, app) -> ReportRun:
    """A finished fact sheet draft of the demo's latest quarter."""
    run = operations.request_report(session, kind="factsheet", period=PERIOD, trigger="cli")
    session.commit()
    run = operations.execute(session, run.id, app.config)
    assert run.state == "done" and not run.is_published
    return run


def _publish_form(client, run_id: int, confirm: bool = True):
    data = {"csrf_token": csrf_token(client, "/reports/")}
    if confirm:
        data["confirm"] = "yes"
    return client.post(f"/reports/runs/{run_id}/publish", data=data)


def test_a_publish_request_shows_progress_refuses_a_second_one_and_the_job_publishes(
        client, session, app, as_user, draft):
    as_user(SECRETARIAT)
    secretariat = _user(session, SECRETARIAT)
    draft_sha, draft_path = draft.sha256, draft.file_path
    operations.request_publish(session, draft, secretariat)  # what the web and the API record
    session.commit()

    page = client.get(f"/reports/runs/{draft.id}").get_data(as_text=True)
    assert "Publishing… waiting for a worker" in page and 'data-publish-state="queued"' in page
    assert 'name="confirm"' not in page  # the Publish form gives way to the progress line
    assert f"Publishing, asked by {SECRETARIAT}" in page and f'href="/reports/runs/{draft.id}">Refresh</a>' in page
    assert '<noscript><meta http-equiv="refresh"' in page  # without JavaScript the page refreshes itself
    assert 'id="commentary"' not in page  # a run being published does not change
    status = client.get(f"/reports/runs/{draft.id}/status").get_json()
    assert (status["publish_state"], status["progress"], status["is_draft"], status["publish_requested_by"]) == (
        "queued", 0, True, SECRETARIAT)
    assert "Publishing… waiting for a worker (0%)" in client.get("/reports/").get_data(as_text=True)

    again = _publish_form(client, draft.id)
    assert again.status_code == 409 and "already being published" in again.get_data(as_text=True)
    auth = {"Authorization": f"Bearer {create_token(session, SECRETARIAT, name='tests').token}"}
    api = client.post(f"/api/v1/reports/{draft.id}/publish", headers=auth)
    assert api.status_code == 409 and "already being published" in api.get_json()["message"]
    commentary = client.put(f"/api/v1/reports/{draft.id}/commentary", json={"key_messages": ["Changed."]},
                            headers=auth)
    assert commentary.status_code == 409 and "being published" in commentary.get_json()["message"]
    assert all("DRAFT" in t for t in page_texts(client.get(f"/reports/runs/{draft.id}/pdf").data))

    # The job: its progress is committed stage by stage, and published_at comes with the final PDF.
    seen = []

    def sample(committed):
        run = committed.get(ReportRun, draft.id)
        if run is not None:
            seen.append((run.publish_state, run.progress, run.stage, run.published_at is not None, run.sha256))

    event.listen(session, "after_commit", sample)
    try:
        run = operations.run_publish(session, draft.id, app.config)
    finally:
        event.remove(session, "after_commit", sample)
    assert [s[:4] for s in seen[:4]] == [("running", 5, "building the final report", False),
                                          ("running", 35, "laying out the final pages", False),
                                          ("running", 90, "saving the final PDF", False),
                                          ("running", 95, "making it the published copy", False)]
    assert all(s[4] == draft_sha for s in seen[:4])  # the draft's PDF until the final one is saved
    assert seen[-1][:4] == ("done", 100, "done", True)
    assert run.is_published and run.published_by_id == secretariat.id and run.publish_error == ""
    assert run.sha256 != draft_sha and run.file_path != draft_path and "-published-" in run.file_path
    final = client.get(f"/reports/runs/{draft.id}/pdf").data
    assert not any("DRAFT" in t for t in page_texts(final))
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.published",
                                                     AuditEvent.object == f"report run {draft.id}")).all()
    assert len(audit) == 1 and audit[0].actor_id == secretariat.id
    page = client.get(f"/reports/runs/{draft.id}").get_data(as_text=True)
    assert "Published" in page and "Publishing…" not in page and 'name="confirm"' not in page
    assert client.get(f"/reports/runs/{draft.id}/status").get_json()["publish_state"] == "done"
    # A job that runs again (a second delivery of the same job) changes nothing.
    assert operations.run_publish(session, draft.id, app.config).sha256 == run.sha256


def test_a_failed_publication_keeps_the_draft_shows_why_and_can_be_retried(
        client, session, app, as_user, draft, tmp_path, monkeypatch):
    as_user(SECRETARIAT)
    draft_sha, draft_path = draft.sha256, draft.file_path
    blocked = tmp_path / "reports-is-a-file"
    blocked.write_text("not a folder")
    monkeypatch.setitem(app.config, "REPORTS_DIR", str(blocked))  # the final PDF cannot be saved
    operations.request_publish(session, draft, _user(session, SECRETARIAT))
    session.commit()
    run = operations.run_publish(session, draft.id, app.config)

    assert run.publish_state == "failed" and not run.is_published and run.published_by_id is None
    assert (run.sha256, run.file_path, run.progress, run.stage) == (draft_sha, draft_path, 100, "done")
    assert "FileExistsError" in run.publish_error and str(blocked) in run.publish_error
    assert "Nothing was published; the draft is unchanged" in run.publish_error
    assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "report.published",
                                                        AuditEvent.object == f"report run {draft.id}")).all()
    page = client.get(f"/reports/runs/{draft.id}").get_data(as_text=True)
    assert "Publishing did not finish; nothing was published and the draft is unchanged." in page
    assert str(blocked) in page and 'name="confirm"' in page  # the reason, and the form to try again
    status = client.get(f"/reports/runs/{draft.id}/status").get_json()
    assert status["publish_state"] == "failed" and status["is_draft"] and str(blocked) in status["publish_error"]
    assert all("DRAFT" in t for t in page_texts(client.get(f"/reports/runs/{draft.id}/pdf").data))

    # Retried on the web once the folder is fixed (tests run the job inline).
    monkeypatch.setitem(app.config, "REPORTS_DIR", str(tmp_path / "reports"))
    retried = _publish_form(client, draft.id)
    assert retried.status_code == 302
    session.refresh(run)
    assert run.is_published and run.publish_state == "done" and run.publish_error == ""
    assert "is published" in client.get(f"/reports/runs/{draft.id}").get_data(as_text=True)


def test_the_requester_must_still_be_secretariat_when_the_job_runs(client, session, app, draft):
    requester = _user(session, SECRETARIAT)
    operations.request_publish(session, draft, requester)
    requester.role = "reviewer"
    session.commit()
    run = operations.run_publish(session, draft.id, app.config)
    assert run.publish_state == "failed" and not run.is_published
    assert run.publish_error.startswith("Only the secretariat publishes reports.")


def test_an_unconfirmed_request_records_nothing_and_a_silent_job_may_be_asked_again(
        client, session, app, as_user, draft):
    as_user(SECRETARIAT)
    assert _publish_form(client, draft.id, confirm=False).status_code == 302
    session.refresh(draft)
    assert draft.publish_state == "" and draft.publish_requested_at is None
    operations.request_publish(session, draft, _user(session, SECRETARIAT))
    # Its worker died while laying out: no heartbeat for longer than a worker ever stays quiet.
    draft.publish_state, draft.heartbeat_at = "running", utcnow() - timedelta(seconds=queries.STALE_SECONDS + 60)
    session.commit()
    status = client.get(f"/reports/runs/{draft.id}/status").get_json()
    assert status["publish_state"] == "stopped"
    page = client.get(f"/reports/runs/{draft.id}").get_data(as_text=True)
    assert "The publishing worker stopped without finishing" in page and 'name="confirm"' in page
    assert _publish_form(client, draft.id).status_code == 302
    session.refresh(draft)
    assert draft.is_published


def test_the_api_answers_202_with_the_publish_state_and_where_to_follow_it(client, session, draft):
    auth = {"Authorization": f"Bearer {create_token(session, SECRETARIAT, name='tests').token}"}
    answer = client.post(f"/api/v1/reports/{draft.id}/publish", headers=auth)
    assert answer.status_code == 202 and answer.headers["Location"].endswith(f"/api/v1/reports/{draft.id}")
    body = answer.get_json()
    assert body["publish_state"] == "done" and body["is_draft"] is False  # tests publish inline
    followed = client.get(answer.headers["Location"], headers=auth).get_json()
    assert followed["publish_state"] == "done" and followed["publish_requested_by"] == SECRETARIAT
    again = client.post(f"/api/v1/reports/{draft.id}/publish", headers=auth)
    assert again.status_code == 409 and "already published" in again.get_json()["message"]
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/reports/{run_id}/publish"]["post"]
    assert {"202", "409"} <= set(operation["responses"])
    assert "publish_state" in spec["components"]["schemas"]["ReportRun"]["properties"]


# --------------------------------------------------------------------------- a real queue and worker

PREFIX = f"mel-test-publish-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def queued_world(tmp_path_factory):
    """(app, database url, instance dir) of a migrated demo database of the module's own: the worker
    process reads what the request committed."""
    url = fresh_database_url(tmp_path_factory, "publish")
    instance = tmp_path_factory.mktemp("publish-instance")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                     REDIS_URL=REDIS_URL, QUEUE_PREFIX=PREFIX, REPORT_EXECUTOR="process")
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        load_demo(db.session)
        db.session.commit()
        db.session.close()
    yield app, url, instance
    clear_queues(PREFIX)
    with app.app_context():
        db.engine.dispose()


def _wait_for(app, run_id: int, check, timeout: float = 300) -> ReportRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            run = db.session.get(ReportRun, run_id)
            if check(run):
                db.session.expunge(run)
                return run
            db.session.rollback()
        time.sleep(0.2)
    raise AssertionError(f"report run {run_id} did not get there in time")


def test_publishing_through_the_queue_answers_at_once_and_a_worker_publishes(queued_world):
    app, url, instance = queued_world
    with app.app_context():  # the draft, rendered here: the worker is there for the publishing
        run = operations.request_report(db.session, kind="factsheet", period=PERIOD, trigger="cli")
        db.session.commit()
        run_id = operations.execute(db.session, run.id, app.config).id
        db.session.close()
    client = app.test_client()
    assert login(client, SECRETARIAT).status_code == 302
    # RQ's own suspension, set before the worker starts, holds it before it takes any job, so what
    # the page shows before the job runs is certain.
    connection = jobs.redis_for(app.config)
    suspend(connection)
    try:
        with workers(app, url, instance, PREFIX, 1) as worker:
            answer = _publish_form(client, run_id)
            assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/reports/runs/{run_id}")
            page = client.get(f"/reports/runs/{run_id}").get_data(as_text=True)
            assert "Publishing… waiting for a worker" in page and 'name="confirm"' not in page
            assert f"Publishing report {run_id}: its final PDF is being made" in page
            assert client.get(f"/reports/runs/{run_id}/status").get_json()["publish_state"] == "queued"
            waiting = jobs.queue(app.config, "reports").jobs
            assert [(j.func_name, j.args) for j in waiting] == [("mel.jobs.publish_report", (run_id,))]
            assert _publish_form(client, run_id).status_code == 409

            resume(connection)
            run = _wait_for(app, run_id, lambda r: r.publish_state in ("done", "failed"))
            assert run.publish_state == "done" and run.is_published, (run.publish_error, worker.poll())
            final = client.get(f"/reports/runs/{run_id}/pdf")
            assert final.status_code == 200 and final.headers["X-Content-SHA256"] == run.sha256
            assert not any("DRAFT" in t for t in page_texts(final.data))
            assert "Published" in client.get(f"/reports/runs/{run_id}").get_data(as_text=True)
    finally:
        resume(connection)
