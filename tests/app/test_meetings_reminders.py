"""The scheduler reminds owners of overdue MERL TWG actions (issue 21: "an overdue TWG action reaches
its owner by e-mail on a loopback SMTP server"): once a day at most, never for done, dropped or
not-yet-due actions, in the owner's language, each reminder audited.

The suite's demo (5 October 2025) has three overdue open actions: the NICHE evaluation (secretariat,
in progress, due 31 July), the SA11 narrative (the OPCT desk, due 15 September) and the annual
review draft (secretariat, due 30 September); the Kisumu training is due 31 October; the others are
done or dropped."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from mel.accounts.models import AuditEvent, User
from mel.meetings.models import MeetingAction
from mel.review.models import Notification
from mel.scheduler.jobs import JOBS
from mel.scheduler.runner import run_job

NAIROBI = ZoneInfo("Africa/Nairobi")


@pytest.fixture
def mail(app, smtp_server):
    inbox, port = smtp_server
    return inbox, {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "BASE_URL": "https://mel.example"}


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=NAIROBI)


def remind(app, session, config, moment: str):
    """Run the job as the scheduler does: inside the application (its catalogues say the words)."""
    with app.app_context():
        return run_job(session, config, "remind_overdue_actions", now=at(moment))


def action(session, words: str) -> MeetingAction:
    return session.scalar(select(MeetingAction).where(MeetingAction.text.like(f"{words}%")))


def reminders_to(inbox, email: str, kind: str = "plain") -> list[str]:
    return [body for body in inbox.bodies(email, kind) if "TWG action" in body.split("\n", 1)[0]]


def test_an_overdue_action_reaches_its_owner_by_email(app, session, mail):
    inbox, config = mail
    run = remind(app, session, config, "2025-10-06T07:30")
    assert run.outcome == "ok", run.detail
    assert "2 owner(s) reminded of 3 overdue TWG action(s)" in run.detail and "2 e-mail(s) sent" in run.detail
    sa11 = action(session, "Explain the drop in OPCT payments")
    [opct] = reminders_to(inbox, "officer.opct@demo.test")
    assert opct.startswith("A MERL TWG action of yours is overdue\n")
    assert ("- Explain the drop in OPCT payments reaching beneficiaries on time (SA11) in the narrative of the "
            "Apr–Jun 2025 return. (due 15 September 2025, 21 days overdue; MERL TWG quarterly review of Apr–Jun "
            "2025) — "
            f"https://mel.example/meetings/actions/{sa11.id}") in opct
    assert "Open it in the MEL service: https://mel.example/meetings/actions?owner=" in opct
    [html] = reminders_to(inbox, "officer.opct@demo.test", "html")
    assert f'<a href="https://mel.example/meetings/actions/{sa11.id}">' in html
    # The secretariat owns two overdue actions (one in progress): one e-mail lists both, the oldest first.
    [secretariat] = reminders_to(inbox, "secretariat@demo.test")
    assert secretariat.startswith("2 MERL TWG actions of yours are overdue\n")
    assert secretariat.index("Share the final NICHE") < secretariat.index("Circulate the draft annual")
    assert "67 days overdue" in secretariat and "6 days overdue" in secretariat
    # Not yet due, done and dropped actions are nobody's reminder.
    for email in ("officer.kisumu@demo.test", "officer.hsnp@demo.test", "reviewer@demo.test"):
        assert reminders_to(inbox, email) == []
    assert sa11.last_reminded_on == date(2025, 10, 6)
    assert action(session, "Train Kisumu county").last_reminded_on is None
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "meeting_action.reminded")).all()
    assert {e.object for e in events} == {f"meeting_action {a.id}" for a in (
        sa11, action(session, "Share the final NICHE"), action(session, "Circulate the draft annual"))}
    assert all(e.actor == "system" for e in events)
    assert next(e for e in events if e.object == f"meeting_action {sa11.id}").details == {
        "owner": "officer.opct@demo.test", "due_on": "2025-09-15", "days_overdue": 21}


def test_an_owner_is_reminded_once_a_day_at_most(app, session, mail):
    inbox, config = mail
    remind(app, session, config, "2025-10-06T07:30")
    sent, notices = len(inbox.messages), session.scalar(select(func.count()).select_from(Notification))
    audited = session.scalar(select(func.count()).select_from(AuditEvent))
    again = remind(app, session, config, "2025-10-06T15:00")
    assert again.outcome == "ok" and "0 owner(s) reminded of 0" in again.detail
    assert len(inbox.messages) == sent == 2
    assert session.scalar(select(func.count()).select_from(Notification)) == notices
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audited
    # An action of an owner told this morning that falls overdue since waits for tomorrow.
    sa11 = action(session, "Explain the drop in OPCT payments")
    late = MeetingAction(meeting_id=sa11.meeting_id, text="Send the corrected payroll extract.", owner_id=sa11.owner_id,
                         due_on=date(2025, 10, 5), status="open", progress="")
    session.add(late)
    session.commit()
    evening = remind(app, session, config, "2025-10-06T18:00")
    assert "0 owner(s) reminded" in evening.detail and len(inbox.messages) == 2 and late.last_reminded_on is None
    # The next day each owner gets one e-mail again, with all that is still overdue; a done action is gone.
    action(session, "Circulate the draft annual").status = "done"
    session.commit()
    next_day = remind(app, session, config, "2025-10-07T07:30")
    assert "2 owner(s) reminded of 3 overdue TWG action(s)" in next_day.detail
    second = reminders_to(inbox, "officer.opct@demo.test")[1]
    assert second.startswith("2 MERL TWG actions of yours are overdue") and "Send the corrected payroll" in second
    assert "22 days overdue" in second and "2 days overdue" in second
    latest = reminders_to(inbox, "secretariat@demo.test")[1]
    assert "Share the final NICHE" in latest and "Circulate the draft annual" not in latest
    assert late.last_reminded_on == date(2025, 10, 7)


def test_a_reminder_is_written_in_the_owners_language(app, session, mail):
    inbox, config = mail
    officer = session.scalar(select(User).where(User.email == "officer.opct@demo.test"))
    officer.locale = "sw"
    session.commit()
    remind(app, session, config, "2025-10-06T07:30")
    [swahili] = inbox.bodies("officer.opct@demo.test")
    assert swahili.startswith("Hatua yako moja ya Kikundi Kazi cha MERL imepita muda wake\n")
    assert "(mwisho 15 Septemba 2025, imepita muda kwa siku 21;" in swahili
    assert "Hatua hizi zilizokubaliwa katika mikutano ya Kikundi Kazi cha MERL" in swahili
    assert "days overdue" not in swahili and "These actions" not in swahili
    [english] = reminders_to(inbox, "secretariat@demo.test")
    assert "days overdue" in english and "siku" not in english


def test_inactive_owners_and_closed_actions_are_not_written_to(app, session, mail):
    inbox, config = mail
    secretariat = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    for words in ("Share the final NICHE", "Circulate the draft annual"):
        action(session, words).status = "dropped" if words.startswith("Share") else "done"
    officer = session.scalar(select(User).where(User.email == "officer.opct@demo.test"))
    officer.is_active = False
    session.commit()
    run = remind(app, session, config, "2025-10-06T07:30")
    assert "0 owner(s) reminded of 0 overdue" in run.detail and inbox.messages == []
    assert secretariat.is_active


def test_the_job_is_listed_and_described(session, runner):
    assert JOBS["remind_overdue_actions"].description == "Remind owners of overdue TWG actions (once a day)"
    from mel.scheduler.views import JOB_WORDS

    assert JOBS["remind_overdue_actions"].description in JOB_WORDS
    listing = runner.invoke(args=["jobs", "list"])
    assert listing.exit_code == 0 and "remind_overdue_actions" in listing.output


def test_the_action_page_shows_when_its_owner_was_reminded(app, session, mail, client):
    from tests.helpers import login

    _, config = mail
    remind(app, session, config, "2025-10-06T07:30")
    sa11 = action(session, "Explain the drop in OPCT payments")
    login(client, "reviewer@demo.test")
    page = client.get(f"/meetings/actions/{sa11.id}").get_data(as_text=True)
    assert "Owner reminded by e-mail (21 days overdue)" in page and "06 October 2025" in page


def test_the_job_runs_outside_a_request_as_the_scheduler_runs_it(session, mail):
    """The command line and the test of every job run it without an application context: English."""
    inbox, config = mail
    run = run_job(session, config, "remind_overdue_actions", now=at("2025-10-06T07:30"))
    assert run.outcome == "ok" and "2 owner(s) reminded" in run.detail
    assert reminders_to(inbox, "officer.opct@demo.test")[0].startswith("A MERL TWG action of yours is overdue")
