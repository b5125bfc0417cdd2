"""The deadline rush holds: report renders through a bounded pool of real `mel worker` processes,
large imports in the background with the inline import's result, and rate limits in Redis.

Real Redis (database 14, keys and queues under a prefix unique to the run, removed afterwards),
a real `mel worker` subprocess, and a database of the module's own (SQLite or PostgreSQL) that the
worker reads, since a test's rolled-back transaction is invisible to another process.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid

import pytest
from rq.suspension import resume, suspend
from sqlalchemy import func, select

from config import ConfigError, load_config
from mel import jobs
from mel.accounts.operations import create_token, create_user
from mel.app import create_app
from mel.db import db
from mel.jobs import ImportJob
from mel.reporting.models import ReportRun
from mel.returns.models import Return
from tests.app.queue_helpers import REDIS_URL, clear_queues, load_queue_demo, workers
from tests.app.returns_helpers import rows_like
from tests.helpers import csrf_token, fresh_database_url, login

pytestmark = pytest.mark.slow

WORKERS = 2
PREFIX = f"mel-test-{uuid.uuid4().hex[:8]}"
SECRETARIAT = "secretariat@demo.test"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(app, database url, instance dir) of a migrated, seeded database of the module's own."""
    url = fresh_database_url(tmp_path_factory, "queue")
    instance = tmp_path_factory.mktemp("queue-instance")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                     REDIS_URL=REDIS_URL, QUEUE_PREFIX=PREFIX, REPORT_EXECUTOR="process",
                     IMPORT_INLINE_BYTES=20_000)
    load_queue_demo(app)
    yield app, url, instance
    clear_queues(PREFIX)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def worker(world):
    """A real `mel worker -n 2` process on the module's database and queues."""
    app, url, instance = world
    with workers(app, url, instance, PREFIX, WORKERS) as process:
        yield process


def _signed_in(app, email: str):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _token(app, email: str) -> dict:
    with app.app_context():
        issued = create_token(db.session, email)
        db.session.commit()
        return {"Authorization": f"Bearer {issued.token}"}


def _wait(app, check, timeout: float = 300, every: float = 0.1, sample=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            if sample is not None:
                sample(db.session)
            done = check(db.session)
            db.session.rollback()
        if done:
            return
        time.sleep(every)
    raise AssertionError("timed out")


# --------------------------------------------------------------------------- bounded report renders


def test_six_report_requests_render_at_most_n_at_once_and_show_their_place(world, worker):
    app, _, _ = world
    client = _signed_in(app, SECRETARIAT)
    ids = []
    # The workers hold back (RQ's own suspension) while the six are asked for, so what the
    # last one shows does not depend on how fast this machine renders.
    connection = jobs.redis_for(app.config)
    suspend(connection)
    try:
        for _ in range(6):
            answer = client.post("/reports/", data={"csrf_token": csrf_token(client, "/reports/"),
                                                     "kind": "factsheet", "period": "2025Q2"})
            assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
            ids.append(int(answer.headers["Location"].rsplit("/", 1)[1]))
        # The last run waits behind the others: its page and its status say where it stands.
        page = client.get(f"/reports/runs/{ids[-1]}").get_data(as_text=True)
        status = client.get(f"/reports/runs/{ids[-1]}/status").json
        assert status["state"] == "queued"
        # Workers already waiting on the queue take one run each before they see the hold.
        place = re.search(r"Queued — position (\d) of (\d)", page)
        assert place, page
        assert place.group(1) == place.group(2) and 6 - WORKERS <= int(place.group(2)) <= 6
        assert status["position"] == status["waiting"] and 6 - WORKERS <= status["waiting"] <= 6
    finally:
        resume(connection)
    peak = {"running": 0}

    def sample(session):
        states = session.scalars(select(ReportRun.state).where(ReportRun.id.in_(ids))).all()
        peak["running"] = max(peak["running"], states.count("running"))

    _wait(app, lambda s: all(st in ("done", "failed") for st in s.scalars(
        select(ReportRun.state).where(ReportRun.id.in_(ids))).all()), sample=sample)
    with app.app_context():
        runs = db.session.scalars(select(ReportRun).where(ReportRun.id.in_(ids))).all()
        assert [r.state for r in runs] == ["done"] * 6, [r.error for r in runs]
        assert all(r.page_count >= 1 and r.sha256 for r in runs)
        # From the runs' own start and end: never more than WORKERS rendering at the same moment.
        events = sorted([(r.started_at, 1) for r in runs] + [(r.finished_at, -1) for r in runs])
        overlap = most = 0
        for _, step in events:
            overlap += step
            most = max(most, overlap)
    assert 1 <= peak["running"] <= WORKERS and 1 <= most <= WORKERS, (peak, most)
    assert "position" not in client.get(f"/reports/runs/{ids[-1]}").get_data(as_text=True)


# --------------------------------------------------------------------------- background imports


def _national_file(app) -> bytes:
    with app.app_context():
        rows = rows_like(db.session, "OPCT", [f"{n:03d}" for n in range(1, 48)] + ["KE"], period="2025Q3")
        db.session.rollback()
    frame = rows[["indicator", "option", "org_unit", "period", "value", "comment"]]
    return frame.to_csv(index=False).encode()


def _poll(app, client, location: str, headers=None, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    seen_running = False
    while time.monotonic() < deadline:
        body = client.get(location, headers=headers).json
        seen_running |= body["state"] == "running"
        if body["state"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"import {location} did not finish")


def _comparable(body: dict) -> dict:
    body = {k: v for k, v in body.items() if k != "batch_id"}
    body["returns"] = [{k: v for k, v in r.items() if k not in ("version",)} for r in body["returns"]]
    return body


def test_a_large_import_runs_in_the_background_and_answers_as_the_inline_import(world, worker, client, session):
    app, _, _ = world
    data = _national_file(app)
    assert len(data) > app.config["IMPORT_INLINE_BYTES"]
    headers = _token(app, SECRETARIAT)
    api = app.test_client()
    answer = api.post("/api/v1/returns:import?programme=OPCT", headers=headers,
                      data={"file": (io.BytesIO(data), "national.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 202, answer.get_data(as_text=True)[:500]
    assert answer.json["state"] in ("queued", "running") and answer.json["filename"] == "national.csv"
    location = answer.headers["Location"]
    assert re.fullmatch(r".*/api/v1/imports/\d+", location)
    # Only the uploader and the secretariat see it.
    for email in ("officer.opct@demo.test", "reviewer@demo.test", "viewer@demo.test"):
        assert api.get(location, headers=_token(app, email)).status_code == 404
    done = _poll(app, api, location, headers)
    assert done["state"] == "done" and done["status"] == 200, done
    assert done["rows_read"] == data.count(b"\n") - 1
    written = [r for r in done["result"]["returns"] if r["created"] or r["updated"] or r["deleted"]]
    assert done["returns_written"] == len(written) == len(done["result"]["returns"]) >= 40  # every county
    # The same file imported inline (the shared test database, identical demo data) answers the same.
    inline = client.post("/api/v1/returns:import?programme=OPCT", headers={
        "Authorization": f"Bearer {create_token(session, SECRETARIAT).token}"},
        data={"file": (io.BytesIO(data), "national.csv")}, content_type="multipart/form-data")
    assert inline.status_code == 200, inline.get_data(as_text=True)[:500]
    assert _comparable(done["result"]) == _comparable(inline.json)
    # Idempotent: the same file again changes nothing.
    again = api.post("/api/v1/returns:import?programme=OPCT", headers=headers,
                     data={"file": (io.BytesIO(data), "national.csv")}, content_type="multipart/form-data")
    assert again.status_code == 202
    repeat = _poll(app, api, again.headers["Location"], headers)
    assert repeat["result"]["outcome"] == "unchanged" and repeat["returns_written"] == 0
    with app.app_context():
        job = db.session.get(ImportJob, done["id"])
        assert job.content is None and job.finished_at is not None  # the file is not kept


@pytest.mark.parametrize(("email", "status", "words"), [
    ("officer.opct@demo.test", 422, "window"),      # OPCT, every county: in scope; the quarter's window closed
    ("officer.kisumu@demo.test", 403, "Nairobi"),   # OPCT in Kisumu only: refused whole, by name
])
def test_officers_background_imports_check_their_scope(world, worker, email, status, words):
    # The worker loads the uploader with their programmes and org units, as a request does.
    app, _, _ = world
    data = _national_file(app).replace(b"2025Q3", b"2025Q4")
    headers = _token(app, email)
    api = app.test_client()
    answer = api.post("/api/v1/returns:import?programme=OPCT&dry_run=true", headers=headers,
                      data={"file": (io.BytesIO(data), "officer.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 202, answer.get_data(as_text=True)[:500]
    done = _poll(app, api, answer.headers["Location"], headers)
    assert done["state"] == "done" and done["status"] == status, json.dumps(done)[:1500]
    assert words in json.dumps(done["result"]), done["result"]
    with app.app_context():  # a dry run and a refusal store nothing
        assert db.session.scalar(select(Return.id).where(Return.period == "2025Q4")) is None


def test_a_large_refused_upload_on_the_web_shows_progress_then_cells(world, worker):
    app, _, _ = world
    data = _national_file(app).replace(b"2025Q3", b"2025Q4")
    lines = data.split(b"\n")
    lines[7] = lines[7].replace(b",", b",x", 1)  # an unknown option in row 8
    bad = b"\n".join(lines)
    client = _signed_in(app, SECRETARIAT)
    token = csrf_token(client, "/upload")
    answer = client.post("/upload", data={"csrf_token": token, "programme": "OPCT",
                                          "file": (io.BytesIO(bad), "rush.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 302 and "/imports/" in answer.headers["Location"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "rush.csv" in page and ("Queued" in page or "rows read" in page or "Finished" in page)
    body = _poll(app, client, answer.headers["Location"] + "/status")
    assert body["status"] == 422 and body["returns_written"] == 0
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "nothing was stored" in page and "row 8" in page.lower(), page[-3000:]
    other = _signed_in(app, "officer.opct@demo.test")
    assert other.get(answer.headers["Location"]).status_code == 404
    with app.app_context():  # all or nothing: not one return of the refused file exists
        assert db.session.scalar(select(Return.id).where(Return.period == "2025Q4")) is None


def test_a_large_file_over_a_limit_is_refused_before_it_is_queued(world, worker, monkeypatch):
    from mel.jobs import ImportJob
    from tests.app.hostile_uploads import tiny_cells, workbook

    app, _, _ = world
    monkeypatch.setitem(app.config, "IMPORT_INLINE_BYTES", 1000)  # this file would go to the queue
    monkeypatch.setitem(app.config, "UPLOAD_MAX_CELLS", 5000)
    data = workbook({"Figures": tiny_cells(6000)})
    assert len(data) > 1000
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(ImportJob))
    answer = app.test_client().post("/api/v1/returns:import?programme=OPCT", headers=_token(app, SECRETARIAT),
                                    data={"file": (io.BytesIO(data), "cells.xlsx")}, content_type="multipart/form-data")
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert "cells.xlsx" in answer.json["message"] and "MEL_UPLOAD_MAX_CELLS" in answer.json["message"]
    with app.app_context():  # nothing kept, nothing queued
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == before


def test_small_uploads_stay_inline(world, worker):
    app, _, _ = world
    client = app.test_client()
    headers = _token(app, SECRETARIAT)
    tiny = b"indicator,option,org_unit,period,value,comment\nSA01,nope,042,2025Q3,1,\n"
    answer = client.post("/api/v1/returns:import?programme=OPCT&dry_run=true", headers=headers,
                         data={"file": (io.BytesIO(tiny), "tiny.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.json["details"], answer.json


# --------------------------------------------------------------------------- rate limits

LIMITS = {"RATELIMIT_API": "6 per minute", "RATELIMIT_IMPORTS": "2 per minute", "RATELIMIT_REPORTS": "2 per minute"}


@pytest.fixture(scope="module")
def limited(world):
    app, url, instance = world
    prefix = f"{PREFIX}-limits"
    limited_app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                             REDIS_URL=REDIS_URL, QUEUE_PREFIX=f"{PREFIX}-none", RATELIMIT_ENABLED=True,
                             RATELIMIT_KEY_PREFIX=prefix, **LIMITS)
    yield limited_app, prefix
    clear_queues(prefix)


def _send(app, kind: str, who: str, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if kind == "reports-web":
        assert login(client, who).status_code == 302
        token = csrf_token(client, "/reports/")
        return lambda: client.post("/reports/", data={"csrf_token": token, "kind": "nonsense", "period": "2025Q2"})
    headers = _token(app, who) if who else {}
    if kind == "api":
        return lambda: client.get("/api/v1/reports", headers=headers)
    if kind == "imports":
        return lambda: client.post("/api/v1/returns:import?programme=OPCT&dry_run=true", headers=headers,
                                   data={"file": (io.BytesIO(b"x"), "one.csv")}, content_type="multipart/form-data")
    if kind == "reports-api":
        return lambda: client.post("/api/v1/reports", headers=headers, json={"kind": "nonsense", "period": "2025Q2"})
    raise AssertionError(kind)


# kind, who (None: anonymous), allowed before 429, words in the message, the other that is not limited
CASES = [
    ("api", SECRETARIAT, 6, "API calls", ("api", "reviewer@demo.test", "10.0.0.1")),
    ("api", None, 6, "API calls", ("api", None, "10.0.0.2")),
    ("imports", "officer.opct@demo.test", 2, "file imports", ("api", "officer.opct@demo.test", "10.0.0.1")),
    ("reports-api", SECRETARIAT, 2, "report requests", ("reports-api", "reviewer@demo.test", "10.0.0.1")),
    ("reports-web", SECRETARIAT, 2, "report requests", ("reports-web", "viewer@demo.test", "10.0.0.1")),
]


@pytest.mark.parametrize(("kind", "who", "allowed", "words", "other"), CASES,
                         ids=[f"{c[0]}-{'anonymous' if c[1] is None else c[1].split('@')[0]}" for c in CASES])
def test_rate_limits_answer_429_per_user_per_address_per_kind(limited, kind, who, allowed, words, other):
    app, prefix = limited
    clear_queues(prefix)
    send = _send(app, kind, who, "10.0.0.1")
    answers = [send() for _ in range(allowed)]
    assert all(a.status_code != 429 for a in answers), [a.status_code for a in answers]
    refused = send()
    assert refused.status_code == 429, refused.get_data(as_text=True)[:300]
    assert int(refused.headers["Retry-After"]) >= 1
    text = refused.get_data(as_text=True)
    assert words in text and "Retry-After" in text
    if kind != "reports-web":
        assert refused.is_json and refused.json["error"] == "too_many_requests"
    # Someone else (another user, or the same kind from another address) is not held back.
    other_kind, other_who, other_address = other
    assert _send(app, other_kind, other_who, other_address)().status_code != 429


def test_sixteen_officers_pushing_a_quarter_in_a_minute_are_not_limited(world):
    """Default limits: 16 MIS tokens, each sending 251 single-return imports in parallel."""
    app_, url, instance = world
    prefix = f"{PREFIX}-rush"
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                     REDIS_URL=REDIS_URL, QUEUE_PREFIX=f"{PREFIX}-none", RATELIMIT_ENABLED=True,
                     RATELIMIT_KEY_PREFIX=prefix)
    with app.app_context():
        session = db.session
        for n in range(16):
            create_user(session, f"mis{n}@demo.test", "officer", password="a-long-password-1",
                        programme_codes=["OPCT"], org_unit_codes=["042"])
        session.commit()
    headers = [_token(app, f"mis{n}@demo.test") for n in range(16)]
    statuses: list[int] = []
    lock = threading.Lock()

    def push(header):
        client = app.test_client()
        mine = []
        for _ in range(251):
            mine.append(client.post("/api/v1/returns:import?programme=OPCT&dry_run=true", headers=header,
                                    data={"file": (io.BytesIO(b""), "r.csv")},
                                    content_type="multipart/form-data").status_code)
        with lock:
            statuses.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=push, args=(h,)) for h in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clear_queues(prefix)
    assert len(statuses) == 16 * 251 and 429 not in statuses, sorted(set(statuses))
    assert set(statuses) == {422}  # each one checked (an empty file), none refused for its rate
    print(f"16 x 251 imports in {time.monotonic() - started:.1f} s, none limited")


# --------------------------------------------------------------------------- configuration


def test_production_refuses_to_start_without_redis(monkeypatch):
    monkeypatch.setenv("MEL_SECRET_KEY", "v0ddv_2CRyr54NG0T_NEZ2I_Z6cNwc-k4iHpexqYRqKCFaAUv")
    monkeypatch.setenv("MEL_DATABASE_URL", "postgresql+psycopg://mel@127.0.0.1:5432/mel")
    monkeypatch.delenv("MEL_DEBUG", raising=False)
    monkeypatch.delenv("MEL_REDIS_URL", raising=False)
    with pytest.raises(ConfigError, match="MEL_REDIS_URL"):
        load_config("production")
    monkeypatch.setenv("MEL_REDIS_URL", "  ")
    with pytest.raises(ConfigError, match="MEL_REDIS_URL"):
        load_config("production")
    monkeypatch.setenv("MEL_REDIS_URL", REDIS_URL)
    assert load_config("production").REDIS_URL == REDIS_URL


def test_development_without_redis_keeps_working_as_before(tmp_path, caplog):
    app = create_app("development", DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}",
                     INSTANCE_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:1/0")
    assert app.config["REDIS_URL"] == ""
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert "Redis does not answer" in caplog.text

    assert not jobs.enabled(app.config)


def test_mel_worker_without_redis_says_so(app):
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code == 1 and "MEL_REDIS_URL" in result.output
