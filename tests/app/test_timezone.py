"""The reporting calendar runs on Nairobi's day (MEL_TIMEZONE), not on UTC or the server's zone.

Nairobi is UTC+3 all year: at 23:30 UTC on 15 January it is 02:30 on 16 January there, so a
return due on the 15th and submitted then is late; at 20:30 UTC it is 23:30 on the 15th, on time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import insert, select

from mel import clock
from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.returns import operations as return_ops
from mel.returns.models import Return
from mel.scheduler.models import JobRun, apscheduler_jobs
from tests.app.returns_helpers import rows_like, send


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_clock_follows_mel_timezone():
    moment = utc("2026-01-15T23:30")
    assert clock.today(moment, {"TIMEZONE": "Africa/Nairobi"}).isoformat() == "2026-01-16"
    assert clock.today(moment, {"TIMEZONE": "UTC"}).isoformat() == "2026-01-15"
    assert clock.today(moment).isoformat() == "2026-01-16"  # the default setting is Nairobi
    assert clock.local_time(moment) == "16 Jan 2026 02:30"
    assert clock.local_time(moment.replace(tzinfo=None)) == "16 Jan 2026 02:30"  # SQLite gives naive UTC
    assert clock.local_time("2026-01-15T23:30:00+00:00", "%d %B %Y, %H:%M %Z") == "16 January 2026, 02:30 EAT"
    with time_machine.travel(moment, tick=False):
        assert clock.today().isoformat() == "2026-01-16"
        assert clock.local_now().isoformat() == "2026-01-16T02:30:00+03:00"


def _q4_draft(session) -> Return:
    """OPCT Kisumu's return for 2025Q4 (Oct–Dec 2025): window opens 31 Dec, due 15 Jan 2026, closes 14 Feb."""
    rows = rows_like(session, "OPCT", ["042"], period="2025Q4")
    result = send(session, "officer.opct@demo.test", rows, now=utc("2026-01-05T09:00"))
    assert result.outcome == "stored", result.describe()
    return session.get(Return, result.returns[0].return_id)


@pytest.mark.parametrize("instant, late", [
    ("2026-01-15T20:30", False),  # 23:30 on the due date in Nairobi
    ("2026-01-15T23:30", True),   # 02:30 on the 16th in Nairobi, still the 15th in UTC
])
def test_a_return_submitted_after_midnight_in_nairobi_on_the_due_date_is_late(session, instant, late):
    record = _q4_draft(session)
    with time_machine.travel(utc(instant), tick=False):
        return_ops.submit(session, load_user(session, "officer.opct@demo.test"), record)
    assert record.state == "submitted" and record.is_late is late


@pytest.mark.parametrize("instant, late", [("2025-10-15T20:59", False), ("2025-10-15T21:30", True)])
def test_lateness_through_the_api(client, session, instant, late):
    from mel.accounts.operations import create_token

    send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"]), now=utc("2025-10-05T09:00"))
    headers = {"Authorization": f"Bearer {create_token(session, 'officer.opct@demo.test').token}"}
    with time_machine.travel(utc(instant), tick=False):
        response = client.post("/api/v1/returns/OPCT/042/2025Q3/submit", headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["is_late"] is late


@pytest.mark.parametrize("instant, stored", [
    ("2025-09-29T20:30", False),  # 23:30 on 29 September in Nairobi: the 2025Q3 window opens on the 30th
    ("2025-09-29T21:30", True),   # 00:30 on 30 September in Nairobi, still the 29th in UTC
    ("2025-11-14T20:30", True),   # 23:30 on 14 November, the last day of the window
    ("2025-11-14T21:30", False),  # 00:30 on 15 November in Nairobi: closed for officers
])
def test_the_window_opens_and_closes_on_nairobis_day(session, instant, stored):
    result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"]), now=utc(instant))
    assert (result.outcome == "stored") is stored, result.describe()


@pytest.mark.parametrize("instant, past_due", [("2025-10-15T20:30", False), ("2025-10-15T21:30", True)])
def test_the_grid_says_past_due_on_nairobis_day(as_user, instant, past_due):
    with time_machine.travel(utc(instant), tick=False):
        page = as_user("officer.opct@demo.test").get("/returns/OPCT/042/2025Q3").get_data(as_text=True)
    assert ("past the due date" in page) is past_due


@pytest.mark.parametrize("instant, quarter, due", [
    ("2025-12-31T20:30", "FY2025/26 Q1 (Jul–Sep 2025)", "15 October 2025"),   # 23:30 on 31 Dec in Nairobi
    ("2025-12-31T21:30", "FY2025/26 Q2 (Oct–Dec 2025)", "15 January 2026"),   # already 1 January there
])
@pytest.mark.parametrize("email", ["officer.opct@demo.test", "reviewer@demo.test", "secretariat@demo.test"])
def test_home_reports_on_the_quarter_that_ended_in_nairobi(as_user, email, instant, quarter, due):
    with time_machine.travel(utc(instant), tick=False):
        page = as_user(email).get("/").get_data(as_text=True)
    assert quarter in page and due in page


def test_the_jobs_page_shows_times_in_nairobi(as_user, session):
    session.add(JobRun(job_id="prune", trigger="schedule", started_at=utc("2026-01-15T23:30"),
                       finished_at=utc("2026-01-15T23:30"), outcome="ok", detail="pruned", duration_ms=5))
    session.execute(insert(apscheduler_jobs).values(id="prune", next_run_time=utc("2026-01-16T00:00").timestamp(),
                                                    job_state=b""))
    session.flush()
    page = as_user("secretariat@demo.test").get("/admin/jobs/").get_data(as_text=True)
    assert "16 Jan 2026 02:30" in page and "15 Jan 2026 23:30" not in page  # the last run
    assert "16 Jan 2026 03:00" in page  # the next run of the 03:00 job


def test_a_reports_generated_time_is_shown_in_nairobi(as_user):
    with time_machine.travel(utc("2026-01-15T23:30"), tick=False):
        response = as_user("secretariat@demo.test").get("/reports/preview?kind=county&period=2025Q2&org_unit=042")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    assert "16 January 2026, 02:30 EAT" in page
    assert "UTC" not in page


def test_the_review_queue_shows_the_submission_day_in_nairobi(as_user, session):
    record = _q4_draft(session)
    with time_machine.travel(utc("2026-01-15T23:30"), tick=False):
        return_ops.submit(session, load_user(session, "officer.opct@demo.test"), record,
                          catalogue=load_catalogue(session))
    page = as_user("reviewer@demo.test").get("/review/?period=2025Q4&programme=OPCT&org_unit=042")
    text = page.get_data(as_text=True)
    assert "16 Jan 2026" in text and "late" in text
    assert session.scalar(select(Return.is_late).where(Return.id == record.id)) is True
