"""A handbook edition's making has a visible state (handbook_run): asked for on the web, the API or the
command line, it is a run whose stage and progress its page follows, which ends done with its edition or
failed with why, said in the reader's language; one run at a time, unless the one in flight went quiet.

Most runs here gather an annex without history and lay out a stand-in PDF (`quick`): what is under test is
the run, not the layout (tests/app/test_handbook.py reads the real files); one run renders for real. Every
test runs in the usual rolled-back transaction; the runs commit their steps inside it.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mel import clock, jobs
from mel.accounts.models import AuditEvent, User
from mel.accounts.operations import create_token
from mel.db import utcnow
from mel.guidelines import operations, queries
from mel.guidelines.models import HandbookEdition, HandbookFile, HandbookRun
from mel.reporting import executor
from mel.reporting.queries import STALE_SECONDS
from tests.helpers import choose_language, csrf_token, login

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SECRETARIAT = "secretariat@demo.test"
FAKE_PDF = b"%PDF-1.4\n% a stand-in for the handbook\n%%EOF\n"
BROKEN = "WeasyPrint could not lay out page 7"
FAILED_EN = (f"The edition could not be made (RuntimeError: {BROKEN}). Make it again; if it fails again, give the "
             "administrator the run's number")
FAILED_SW = "Toleo halikuweza kutengenezwa (RuntimeError: " + BROKEN


def _user(session, email: str = SECRETARIAT) -> User:
    return session.scalar(select(User).where(User.email == email))


def _api(session, email: str = SECRETARIAT) -> dict:
    return {"Authorization": f"Bearer {create_token(session, email, name='runs').token}"}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def quick(monkeypatch):
    """An annex without history and a stand-in PDF: a run takes a second or two."""
    monkeypatch.setattr("mel.guidelines.annex.indicator_history",
                        lambda session, catalogue, code: {"years": [], "notes": [], "evidence": []})
    monkeypatch.setattr("reports.handbook.render_pdf", lambda book: (FAKE_PDF, 3))


@pytest.fixture
def broken(quick, monkeypatch):
    def render_pdf(book):
        raise RuntimeError(BROKEN)

    monkeypatch.setattr("reports.handbook.render_pdf", render_pdf)


@pytest.fixture
def steps(monkeypatch):
    """The (progress, stage) each run committed, in order."""
    seen: list[tuple[int, str]] = []
    original = operations._progress

    def recording(session, run_id):
        step = original(session, run_id)

        def recorded(percent, stage):
            seen.append((percent, stage))
            step(percent, stage)

        return recorded

    monkeypatch.setattr(operations, "_progress", recording)
    return seen


def _in_flight(session, state: str = "running", quiet: bool = False, ahead: int = 1) -> HandbookRun:
    """A run recorded as making the edition `ahead` of the latest, heard of now (or STALE_SECONDS ago and
    more); committed, so that a refused request's rollback keeps it."""
    latest = queries.latest(session)
    moment = utcnow() - timedelta(seconds=STALE_SECONDS + 60 if quiet else 5)
    run = HandbookRun(state=state, stage="gathering the catalogue", progress=5, note="in flight",
                      languages=["en", "sw"], number=(latest.number if latest else 0) + ahead,
                      catalogue_version="c-000000000000", created_by_id=_user(session).id, created_at=moment,
                      started_at=moment if state == "running" else None,
                      heartbeat_at=moment if state == "running" else None)
    session.add(run)
    session.commit()
    return run


def _latest_run(session) -> HandbookRun:
    session.expire_all()  # the requests' steps were written with statements, past the objects held here
    return session.scalar(select(HandbookRun).order_by(HandbookRun.id.desc()))


@pytest.mark.slow  # the annex gathered and both languages laid out for real
def test_a_run_made_inline_ends_done_with_its_edition_rendered_for_real(client, session, steps):
    login(client, SECRETARIAT)
    # This test's events only: test_handbook.py commits an edition once per module, and its audit event stays
    # (the audit is append-only) after the edition is deleted.
    since = session.scalar(select(func.max(AuditEvent.id))) or 0
    answer = client.post("/guidelines/editions", data={"csrf_token": csrf_token(client, "/guidelines/"),
                                                     "note": "For the county trainings"})
    assert answer.status_code == 302
    run = _latest_run(session)
    assert answer.headers["Location"] == f"/guidelines/runs/{run.id}"
    assert (run.state, run.progress, run.stage, run.error, run.error_words) == ("done", 100, "done", "", None)
    edition = session.get(HandbookEdition, run.edition_id)
    assert (edition.number, edition.catalogue_version, edition.note) == (run.number, run.catalogue_version,
                                                                         "For the county trainings")
    pdfs = session.scalars(select(HandbookFile).where(HandbookFile.edition_id == edition.id,
                                                      HandbookFile.format == "pdf")).all()
    assert sorted(f.language for f in pdfs) == ["en", "sw"]
    assert all(f.content.startswith(b"%PDF") and f.pages > 50 for f in pdfs)
    assert run.languages == ["en", "sw"] and run.started_at and run.finished_at >= run.started_at
    # Its stages, in order, committed as it went: through the annex's indicators, each language, saving.
    stages = [stage for _, stage in steps]
    assert stages[0] == operations.ANNEX and stages[-1] == operations.SAVING
    assert stages.index(operations.LAYING_OUT["en"]) < stages.index(operations.LAYING_OUT["sw"])
    percents = [percent for percent, _ in steps]
    assert percents == sorted(percents) and percents[-1] == 95 and len(steps) > 40
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"Edition {run.number} is made." in page and f'href="/guidelines/editions/{run.number}"' in page
    assert 'id="run"' in page and 'value="100"' in page and "js/report-progress.js" in page
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.id > since, AuditEvent.object.in_(
        [f"handbook run {run.id}", f"handbook edition {run.number}"])).order_by(AuditEvent.id)).all()
    assert actions == ["handbook.edition_requested", "handbook.edition_made"]


def test_a_run_made_in_a_thread_ends_done_with_its_edition(app, session, quick, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_EXECUTOR", "thread")
    run = operations.request_edition(session, _user(session), "Thread", ("en",), app.config, clock.today())
    session.commit()
    assert run.state == "queued" and run.stage == "waiting to start"
    executor.start(app, run.id, "handbook")
    worker = next((t for t in threading.enumerate() if t.name == f"handbook-run-{run.id}"), None)
    if worker is not None:
        worker.join(timeout=120)  # the run has the session to itself until it ends
        assert not worker.is_alive()
    session.refresh(run)
    assert run.state == "done" and run.progress == 100
    edition = session.get(HandbookEdition, run.edition_id)
    assert edition.note == "Thread" and edition.number == run.number
    assert session.scalars(select(HandbookFile.language).where(HandbookFile.edition_id == edition.id)).all() == [
        "en", "en"]


def test_a_failed_rendering_leaves_no_edition_and_says_why_in_english_and_kiswahili(client, session, broken):
    editions, files = _count(session, HandbookEdition), _count(session, HandbookFile)
    login(client, SECRETARIAT)
    answer = client.post("/guidelines/editions", data={"csrf_token": csrf_token(client, "/guidelines/"), "note": ""})
    run = _latest_run(session)
    assert answer.headers["Location"] == f"/guidelines/runs/{run.id}"
    assert (run.state, run.stage, run.edition_id) == ("failed", "failed", None)
    assert run.error.startswith(FAILED_EN) and f"number ({run.id})" in run.error
    assert run.error_words["m"].startswith("The edition could not be made")
    assert (_count(session, HandbookEdition), _count(session, HandbookFile)) == (editions, files)
    page = client.get(f"/guidelines/runs/{run.id}").get_data(as_text=True)
    assert "The edition could not be made." in page and FAILED_EN in page.replace("&#39;", "'")
    assert "Make the edition again" in page
    index = client.get("/guidelines/").get_data(as_text=True)
    assert f"Edition {run.number} could not be made" in index and f"/guidelines/runs/{run.id}" in index
    choose_language(client, "sw", "/guidelines/")
    page = client.get(f"/guidelines/runs/{run.id}").get_data(as_text=True)
    assert FAILED_SW in page and "The edition could not be made" not in page
    assert "Tengeneza toleo tena" in page
    assert client.get(f"/guidelines/runs/{run.id}/status").get_json()["error_words"].startswith(FAILED_SW)
    # The API keeps the English, as it always has; made at once (inline), a failure is answered as a run.
    api = _api(session)
    body = client.get(f"/api/v1/handbook/runs/{run.id}", headers=api).get_json()
    assert body["state"] == "failed" and body["error"].startswith(FAILED_EN) and body["edition"] is None
    answer = client.post("/api/v1/handbook", json={"languages": ["en"]}, headers=api)
    assert answer.status_code == 202 and answer.headers["Location"].endswith(f"/runs/{answer.get_json()['id']}")
    assert answer.get_json()["state"] == "failed" and answer.get_json()["error"].startswith(FAILED_EN)
    assert (_count(session, HandbookEdition), _count(session, HandbookFile)) == (editions, files)


@pytest.mark.parametrize("email", ["reviewer@demo.test", "officer.opct@demo.test", "viewer@demo.test"])
def test_only_the_secretariat_reads_the_exception_a_failed_run_names(client, session, broken, email):
    login(client, SECRETARIAT)
    client.post("/guidelines/editions", data={"csrf_token": csrf_token(client, "/guidelines/"), "note": ""})
    run = _latest_run(session)
    assert run.state == "failed" and BROKEN in run.error
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, email)
    plain = "The edition could not be made. The secretariat can make it again and has the details."
    page = client.get(f"/guidelines/runs/{run.id}").get_data(as_text=True)
    index = client.get("/guidelines/").get_data(as_text=True)
    status = client.get(f"/guidelines/runs/{run.id}/status").get_json()
    api = client.get(f"/api/v1/handbook/runs/{run.id}", headers=_api(session, email)).get_json()
    listed = client.get("/api/v1/handbook/runs", headers=_api(session, email)).get_json()
    for shown in (page, index, str(status), str(api), str(listed)):
        assert BROKEN not in shown and "RuntimeError" not in shown
    assert plain in page and plain in index and status["error"] == plain and api["error"] == plain
    assert "Make the edition again" not in page and "The secretariat can make it again." in page
    choose_language(client, "sw", "/guidelines/")
    assert plain not in client.get(f"/guidelines/runs/{run.id}").get_data(as_text=True)


def test_a_second_request_while_one_is_in_flight_is_refused_naming_it(client, session, quick):
    api = _api(session)
    for state in ("queued", "running"):
        busy = _in_flight(session, state)
        before = _count(session, HandbookRun)
        answer = client.post("/api/v1/handbook", json={"note": "again"}, headers=api)
        assert answer.status_code == 409, answer.get_json()
        assert answer.get_json()["message"].startswith(
            f"Edition {busy.number} of the handbook is being made (run {busy.id}, asked for by {SECRETARIAT} at ")
        assert _count(session, HandbookRun) == before
        busy.state, busy.error = "failed", "given up by the test"
        session.commit()
    busy = _in_flight(session)
    login(client, SECRETARIAT)
    page = client.post("/guidelines/editions", data={"csrf_token": csrf_token(client, "/guidelines/"), "note": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert f"is being made (run {busy.id}" in page and f"/guidelines/runs/{busy.id}" in page
    # Two requests at the same moment: the database keeps one run in flight per edition number.
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(HandbookRun(state="queued", note="", languages=["en"], number=busy.number,
                                catalogue_version="c-000000000000", created_at=utcnow()))
        session.flush()


def test_a_run_that_went_quiet_does_not_block_and_is_recorded_as_stopped(client, session, quick):
    quiet = _in_flight(session, quiet=True)
    waiting = _in_flight(session, "queued", quiet=True, ahead=2)  # a queued run no worker ever took
    api = _api(session)
    shown = client.get(f"/api/v1/handbook/runs/{quiet.id}", headers=api).get_json()
    assert shown["state"] == "stopped" and "there was no sign of it for 15 minutes" in shown["error"]
    assert client.get(f"/api/v1/handbook/runs/{waiting.id}", headers=api).get_json()["state"] == "stopped"
    login(client, SECRETARIAT)
    page = client.get(f"/guidelines/runs/{quiet.id}").get_data(as_text=True)
    assert "The making stopped without finishing." in page and "make the edition again" in page
    answer = client.post("/api/v1/handbook", json={"note": "after the stop", "languages": ["en"]}, headers=api)
    assert answer.status_code == 201, answer.get_json()
    session.expire_all()
    assert (quiet.state, waiting.state) == ("failed", "failed")
    assert quiet.error.startswith(f"The making of edition {quiet.number} stopped without finishing")
    assert quiet.error_words["m"].startswith("The making of edition %(number)s stopped")
    made = session.get(HandbookRun, answer.get_json()["run_id"])
    assert made.state == "done" and made.number == quiet.number
    requested = session.scalar(select(AuditEvent).where(AuditEvent.object == f"handbook run {made.id}"))
    assert requested.action == "handbook.edition_requested"
    assert requested.details["stopped_runs"] == [quiet.id, waiting.id]


def test_a_run_recorded_as_stopped_while_it_runs_makes_no_edition(session, app, quick, monkeypatch):
    """A slow worker that was given up for stopped finds out at its next step and keeps nothing."""
    run = operations.request_edition(session, _user(session), "", ("en",), app.config, clock.today())
    session.commit()
    original = operations._progress

    def given_up(session_, run_id):
        step = original(session_, run_id)

        def moved(percent, stage):
            if stage == operations.SAVING:
                session_.get(HandbookRun, run_id).state = "failed"  # what the next request records
                session_.commit()
            step(percent, stage)

        return moved

    monkeypatch.setattr(operations, "_progress", given_up)
    editions = _count(session, HandbookEdition)
    run = operations.execute_run(session, run.id, app.config)
    assert run.state == "failed" and run.edition_id is None and _count(session, HandbookEdition) == editions


def test_the_api_follows_a_run_made_in_the_background(client, session, app, quick, monkeypatch):
    spawned = []
    monkeypatch.setitem(app.config, "REPORT_EXECUTOR", "process")
    monkeypatch.setattr(executor, "_spawn", lambda app_, run_id, task: spawned.append(
        executor._command(run_id, task)[-4:]))
    api = _api(session)
    answer = client.post("/api/v1/handbook", json={"note": "Background", "languages": ["sw", "sw"]}, headers=api)
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    run_id = body["id"]
    assert answer.headers["Location"].endswith(f"/api/v1/handbook/runs/{run_id}") and body["url"] == \
        f"/api/v1/handbook/runs/{run_id}"
    assert spawned == [["handbook", "make", "--run", str(run_id)]]  # the process `mel handbook make --run ID`
    assert {k: body[k] for k in ("state", "stage", "progress", "note", "languages", "created_by", "error",
                                 "edition", "edition_url", "started_at")} == {
        "state": "queued", "stage": "waiting to start", "progress": 0, "note": "Background", "languages": ["sw"],
        "created_by": SECRETARIAT, "error": None, "edition": None, "edition_url": None, "started_at": None}
    assert body["catalogue_version"].startswith("c-") and body["number"] >= 1
    assert client.get(f"/api/v1/handbook/{body['number']}", headers=api).status_code == 404
    listed = client.get("/api/v1/handbook/runs", headers=_api(session, "viewer@demo.test")).get_json()
    assert listed[0]["id"] == run_id and listed[0]["state"] == "queued"
    operations.execute_run(session, run_id, app.config)  # what the worker process does
    done = client.get(f"/api/v1/handbook/runs/{run_id}", headers=api).get_json()
    assert (done["state"], done["progress"], done["edition"], done["edition_url"]) == (
        "done", 100, body["number"], f"/api/v1/handbook/{body['number']}")
    edition = client.get(done["edition_url"], headers=api).get_json()
    assert edition["note"] == "Background" and [(f["language"], f["format"]) for f in edition["files"]] == [
        ("sw", "html"), ("sw", "pdf")]
    assert client.get("/api/v1/handbook/runs/999999", headers=api).status_code == 404
    # A run already done is left as it is: a second worker given the same run does nothing.
    assert operations.execute_run(session, run_id, app.config).edition_id == session.get(HandbookRun, run_id).edition_id


def test_inline_the_api_answers_201_with_the_edition_and_its_run(client, session, quick):
    answer = client.post("/api/v1/handbook", json={"note": "Inline", "languages": ["en"]}, headers=_api(session))
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    run = session.get(HandbookRun, body["run_id"])
    assert run.state == "done" and body["number"] == run.number and body["note"] == "Inline"
    assert answer.headers["Location"].endswith(f"/api/v1/handbook/{run.number}")


def test_with_a_queue_the_run_goes_to_mel_worker(client, session, app, quick, monkeypatch):
    queued = []
    monkeypatch.setitem(app.config, "REPORT_EXECUTOR", "process")
    monkeypatch.setattr(jobs, "enabled", lambda config: True)
    monkeypatch.setattr(jobs, "enqueue", lambda config, kind, function, *args: queued.append((kind, function, args)))
    answer = client.post("/api/v1/handbook", json={"languages": ["en"]}, headers=_api(session))
    assert answer.status_code == 202
    run_id = answer.get_json()["id"]
    assert queued == [("reports", "mel.jobs.make_handbook", (run_id,))]
    assert "reports" in jobs.KINDS  # a queue `mel worker` listens on
    monkeypatch.setattr(jobs, "_APP", app)
    assert jobs.make_handbook(run_id) == "done"


def test_the_cli_records_a_run_and_makes_a_queued_one(runner, session, app, quick):
    made = runner.invoke(args=["handbook", "make", "--note", "From the CLI", "--lang", "en", "--as", SECRETARIAT])
    assert made.exit_code == 0, made.output
    run = _latest_run(session)
    assert (run.state, run.note, run.languages, run.created_by_id) == ("done", "From the CLI", ["en"],
                                                                       _user(session).id)
    assert f"Handbook edition {run.number} made from catalogue version {run.catalogue_version} (run {run.id}):" \
        in made.output and "en.pdf: 3 pages" in made.output
    refused = runner.invoke(args=["handbook", "make", "--lang", "en"])
    assert refused.exit_code == 1 and f"Nothing has changed since edition {run.number}" in refused.output
    assert runner.invoke(args=["handbook", "make", "--run", str(run.id), "--note", "x"]).exit_code == 2
    # `--run ID`: what a worker process runs for a run asked for on the web or the API.
    from mel.catalogue.indicator_admin import change_indicator

    change_indicator(session, _user(session), "SS04", {"means_of_verification": "NSSF payroll"}, "Source named")
    queued = operations.request_edition(session, _user(session), "Queued", ("en",), app.config, clock.today())
    session.commit()
    again = runner.invoke(args=["handbook", "make", "--run", str(queued.id)])
    assert again.exit_code == 0, again.output
    session.refresh(queued)
    assert queued.state == "done" and f"(run {queued.id})" in again.output


def test_the_cli_exits_1_with_the_runs_error_when_the_making_fails(runner, session, broken):
    failed = runner.invoke(args=["handbook", "make", "--lang", "en"])
    assert failed.exit_code == 1 and FAILED_EN in failed.output
    assert _latest_run(session).state == "failed"


def test_the_handbook_page_lists_runs_in_flight_for_everyone(client, session):
    busy = _in_flight(session)
    login(client, "officer.opct@demo.test")
    index = client.get("/guidelines/").get_data(as_text=True)
    assert f"Edition {busy.number} is being made: gathering the catalogue (5%)." in index
    assert f'href="/guidelines/runs/{busy.id}"' in index
    status = client.get(f"/guidelines/runs/{busy.id}/status").get_json()
    assert (status["state"], status["progress"], status["stage_words"]) == ("running", 5, "gathering the catalogue")
    choose_language(client, "sw", "/guidelines/")
    status = client.get(f"/guidelines/runs/{busy.id}/status").get_json()
    assert status["stage"] == "gathering the catalogue" and status["stage_words"] != status["stage"]
    page = client.get(f"/guidelines/runs/{busy.id}").get_data(as_text=True)
    assert status["stage_words"][1:] in page and "Make the edition again" not in page
