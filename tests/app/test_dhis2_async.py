"""DHIS2 async imports on the real job queue: `POST /api/dataValueSets?async=true` answers DHIS2's
"Initiated DATAVALUE_IMPORT", a real `mel worker` runs the importer the inline path runs, and the
task endpoints show the job as DHIS2's notifier does.

Real Redis (database 14, queues under a prefix unique to the run, removed afterwards), a real
`mel worker` subprocess, a server on 127.0.0.1 spoken to by dhis2-client, and a database of the
module's own that the worker reads. The task shapes of a waiting and a running job are checked on
the shared test database (no worker needed).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from dhis2_client import DHIS2Client
from sqlalchemy import select

from mel import jobs
from mel.accounts.models import User
from mel.accounts.operations import create_token
from mel.app import create_app
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.operations import seed_catalogue
from mel.db import db, utcnow
from mel.demo import load_demo
from mel.dhis2.datavalue_import import IMPORTING, ImportOptions
from mel.dhis2.ids import load_ids
from mel.jobs import ImportJob
from mel.migrate import upgrade
from mel.returns.models import DataValue
from tests.app.queue_helpers import REDIS_URL, clear_queues, workers
from tests.app.returns_helpers import rows_like
from tests.app.test_dhis2_data import dhis2_values
from tests.helpers import fresh_database_url, serving

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ROOT = Path(__file__).resolve().parents[2]
PREFIX = f"mel-test-dhis2-{uuid.uuid4().hex[:8]}"
TASKS = "/api/system/tasks/DATAVALUE_IMPORT"
SUMMARIES = "/api/system/taskSummaries/DATAVALUE_IMPORT"
EMAILS = {"secretariat": "secretariat@demo.test", "officer": "officer.opct@demo.test",
          "officer_unit": "officer.kisumu@demo.test", "reviewer": "reviewer@demo.test",
          "viewer": "viewer@demo.test"}


class Live:
    def __init__(self, app, url: str, tokens: dict):
        self.app, self.url, self.tokens = app, url, tokens

    def client(self, role: str) -> DHIS2Client:
        return DHIS2Client(self.url, token=self.tokens[role], retries=0)

    def values(self, units: list[str], period: str = "2025Q3") -> list[dict]:
        with self.app.app_context():
            rows = rows_like(db.session, "OPCT", units, period=period)
            values = dhis2_values(load_ids(db.session), rows)
            db.session.rollback()
        return values


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A migrated, seeded database of the module's own, served on 127.0.0.1, with a real `mel worker`."""
    url = fresh_database_url(tmp_path_factory, "dhis2async")
    instance = tmp_path_factory.mktemp("dhis2async-instance")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING",
                     REDIS_URL=REDIS_URL, QUEUE_PREFIX=PREFIX)
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        load_demo(db.session, as_of=date(2025, 10, 5), live=False)
        tokens = {role: create_token(db.session, email, name="async tests").token for role, email in EMAILS.items()}
        db.session.commit()
        db.session.close()
    try:
        with workers(app, url, instance, PREFIX, 1), serving(app) as base:
            assert jobs.enabled(app.config)  # async imports go to the queue, not into the request
            yield Live(app, base, tokens)
    finally:
        clear_queues(PREFIX)
        with app.app_context():
            db.engine.dispose()


def _poll(client: DHIS2Client, uid: str, timeout: float = 300) -> tuple[list[dict], list[list[dict]]]:
    """(the final notifications, every list seen) of a job, polled as a DHIS2 client polls."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notes = client.get(f"{TASKS}/{uid}")
        seen.append(notes)
        if notes and notes[0]["completed"]:
            return notes, seen
        time.sleep(0.1)
    raise AssertionError(f"job {uid} did not complete: {seen[-1]}")


def _stored(session, units: list[str], period: str) -> dict:
    """The stored figures of OPCT returns, by codes (comparable across databases)."""
    catalogue = load_catalogue(session)
    rows = session.execute(select(DataValue.org_unit_id, DataValue.indicator_id, DataValue.component,
                                  DataValue.option_combo_id, DataValue.value, DataValue.comment).where(
        DataValue.programme_id == catalogue.programmes["OPCT"].id, DataValue.period == period,
        DataValue.org_unit_id.in_([catalogue.org_units[u].id for u in units]))).all()
    return {(catalogue.org_unit_codes[u], catalogue.indicator_codes[i], c, catalogue.combo_codes[o]): (v, m)
            for u, i, c, o, v, m in rows}


def _ran_on_the_queue(app, job_id: int) -> bool:
    """Whether a worker ran the import job (RQ keeps its finished jobs for a while), not the request."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    registry = FinishedJobRegistry(queue=jobs.queue(app.config, "imports"))
    connection = jobs.redis_for(app.config)
    return any(Job.fetch(rq_id, connection=connection).args == (job_id,) for rq_id in registry.get_job_ids())


def _without_async(summary: dict) -> dict:
    return {**summary, "importOptions": {k: v for k, v in summary["importOptions"].items() if k != "async"}}


# --------------------------------------------------------------------------- a worker runs it


def test_an_async_import_is_queued_run_by_a_worker_and_matches_the_inline_import(live, client, session):
    units = ["030", "031"]
    values = live.values(units)
    payload = {"dataValues": values}
    secretariat = live.client("secretariat")
    started = secretariat.post("/api/dataValueSets", params={"async": "true"}, json=payload)
    assert started["httpStatusCode"] == 200 and started["message"] == "Initiated DATAVALUE_IMPORT"
    job = started["response"]
    assert job["jobType"] == "DATAVALUE_IMPORT" and job["jobStatus"] == "SCHEDULED"
    assert job["relativeNotifierEndpoint"] == f"{TASKS}/{job['id']}"
    assert job["jobParameters"]["async"] is True and len(job["id"]) == 11
    with live.app.app_context():  # the request only kept the job: the worker imports it
        kept = db.session.get(ImportJob, int(job["id"][1:]))
        assert kept.channel == "dhis2" and json.loads(kept.options)["format"] == "json"

    notes, seen = _poll(secretariat, job["id"])
    # Newest first, as DHIS2's notifier: the outcome (completed), the stage, the start with its parameters.
    assert [n["message"] for n in notes] == [
        f"Import complete with status SUCCESS, {len(values)} created, 0 updated, 0 deleted, 0 ignored",
        IMPORTING, "Data value set import"]
    assert [n["completed"] for n in notes] == [True, False, False] and {n["level"] for n in notes} == {"INFO"}
    assert notes[-1]["dataType"] == "PARAMETERS" and notes[-1]["data"]["async"] is True
    assert all(n["category"] == "DATAVALUE_IMPORT" and len(n["uid"]) == 11 for n in notes)
    # Every list seen while polling is one DHIS2 shows: nothing yet, started, importing, done.
    assert all(len(s) in (0, 1, 2, 3) and (not s or s[-1]["message"] == "Data value set import") for s in seen)
    assert all(not any(n["completed"] for n in s) for s in seen[:-1])

    assert _ran_on_the_queue(live.app, int(job["id"][1:]))
    summary = secretariat.get(f"{SUMMARIES}/{job['id']}")
    assert summary["responseType"] == "ImportSummary" and summary["status"] == "SUCCESS"
    assert summary["importCount"] == {"imported": len(values), "updated": 0, "ignored": 0, "deleted": 0}
    with live.app.app_context():
        kept = db.session.get(ImportJob, int(job["id"][1:]))
        assert kept.state == "done" and kept.content is None and kept.rows_read == len(values)
        assert kept.returns_written == len(units)
        queued = _stored(db.session, units, "2025Q3")

    # The same payload inline (the shared test database, identical demo data): the same summary
    # and the same stored figures.
    headers = {"Authorization": f"ApiToken {create_token(session, EMAILS['secretariat']).token}"}
    inline = client.post("/api/dataValueSets", json=payload, headers=headers)
    assert inline.status_code == 200, inline.get_data(as_text=True)[:500]
    assert _without_async(inline.json["response"]) == _without_async(summary)
    assert len(queued) == len(values) and _stored(session, units, "2025Q3") == queued

    # Again, queued: nothing changes, every value ignored.
    again = secretariat.post("/api/dataValueSets", params={"async": "true"}, json=payload)["response"]
    notes, _ = _poll(secretariat, again["id"])
    assert notes[0]["message"].endswith(f"0 created, 0 updated, 0 deleted, {len(values)} ignored")
    with live.app.app_context():
        assert _stored(db.session, units, "2025Q3") == queued


def test_only_the_uploader_and_the_secretariat_see_the_task(live):
    values = live.values(["042"])[:5]
    officer = live.client("officer")
    started = officer.post("/api/dataValueSets", params={"async": "true", "dryRun": "true"},
                           json={"dataValues": values})["response"]
    mine, _ = _poll(officer, started["id"])
    assert mine[0]["completed"] is True
    assert live.client("secretariat").get(f"{TASKS}/{started['id']}") == mine
    summary = officer.get(f"{SUMMARIES}/{started['id']}")
    assert summary["responseType"] == "ImportSummary" and summary["importOptions"]["dryRun"] is True
    assert live.client("secretariat").get(f"{SUMMARIES}/{started['id']}") == summary
    for role in ("officer_unit", "reviewer", "viewer"):
        other = live.client(role)
        assert other.get(f"{TASKS}/{started['id']}") == []  # as DHIS2: nothing known of another's job
        assert not other.get(f"{SUMMARIES}/{started['id']}")


def test_a_payload_that_cannot_be_read_fails_in_the_job_as_in_dhis2(live):
    import httpx

    with httpx.Client(base_url=live.url, headers={"Authorization": f"ApiToken {live.tokens['secretariat']}"},
                      timeout=60) as http:
        started = http.post("/api/dataValueSets", params={"async": "true"}, content=b"{not json",
                            headers={"Content-Type": "application/json"})
    assert started.status_code == 200 and started.json()["message"] == "Initiated DATAVALUE_IMPORT"
    uid = started.json()["response"]["id"]
    secretariat = live.client("secretariat")
    notes, _ = _poll(secretariat, uid)
    assert notes[0]["message"].startswith("Import complete with status ERROR")
    summary = secretariat.get(f"{SUMMARIES}/{uid}")
    assert summary["status"] == "ERROR" and summary["description"].startswith("The import process failed")


# --------------------------------------------------------------------------- waiting and running


def test_a_waiting_job_shows_nothing_yet_and_a_running_one_its_stage(client, session):
    """DHIS2's notifier holds nothing for a job not yet started, and no summary until it is done."""
    user = session.scalar(select(User).where(User.email == EMAILS["officer"]))
    options = ImportOptions(is_async=True)
    job = ImportJob(user_id=user.id, channel="dhis2", filename="dataValueSets", content=b"{}", size=2,
                    options=json.dumps({"options": options.as_record(), "format": "json"}), created_at=utcnow())
    session.add(job)
    session.flush()
    uid = f"J{job.id:010d}"
    headers = {"Authorization": f"ApiToken {create_token(session, EMAILS['officer']).token}"}
    assert client.get(f"{TASKS}/{uid}", headers=headers).json == []
    assert client.get(f"{SUMMARIES}/{uid}", headers=headers).get_data() == b""
    job.state, job.started_at, job.stage = "running", utcnow(), IMPORTING
    session.flush()
    notes = client.get(f"{TASKS}/{uid}", headers=headers).json
    assert [n["message"] for n in notes] == [IMPORTING, "Data value set import"]
    assert not any(n["completed"] for n in notes) and notes[1]["data"]["async"] is True
    assert client.get(f"{SUMMARIES}/{uid}", headers=headers).get_data() == b""
    job.state, job.finished_at, job.stage, job.status = "failed", utcnow(), "failed", 500
    job.answer = json.dumps({"message": "The import stopped on an error on our side."})
    session.flush()
    notes = client.get(f"{TASKS}/{uid}", headers=headers).json
    assert notes[0]["level"] == "ERROR" and notes[0]["completed"] is True
    assert client.get(f"{SUMMARIES}/{uid}", headers=headers).get_data() == b""
