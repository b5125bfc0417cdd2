"""The secretariat's pages in Kiswahili (issue 19): plans, reports, people, audit, scheduled jobs and
a background import. Each page answers in the account's language with none of its English template
words left, and in English with its words exactly as before."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from mel.accounts.models import User
from tests.app.test_i18n import visible_text
from tests.helpers import choose_language, csrf_token, login

SECRETARIAT = "secretariat@demo.test"
ACTIVITY_STATUSES = ("Not started", "On track", "Delayed", "Completed", "Dropped")


@pytest.fixture
def pages(client, session):
    """The secretariat's pages (path -> English strings of its template), with a report run and two
    background imports (one waiting, one finished) to show."""
    from mel.jobs import ImportJob
    from mel.reporting import operations

    secretariat = session.scalar(select(User).where(User.email == SECRETARIAT))
    run = operations.request_report(session, kind="factsheet", period="2025Q2", trigger="cli")
    done = ImportJob(user_id=secretariat.id, filename="big.csv", state="done", stage="done", rows_read=1200,
                     returns_written=2, result=json.dumps({
                         "message": "2 returns stored.", "errors": [], "warnings": [{"message": "w"}],
                         "outcome": "stored", "returns": [
                             {"programme": "OPCT", "org_unit": "042", "period": "2025Q2", "created": 3, "updated": 0,
                              "unchanged": 0, "state": "draft"}]}))
    waiting = ImportJob(user_id=secretariat.id, filename="later.csv")
    session.add_all([done, waiting])
    session.commit()
    officer = session.scalar(select(User).where(User.email == "officer.kisumu@demo.test"))
    login(client, SECRETARIAT)
    workplan = client.get("/plans/workplans/2024July").get_data(as_text=True)
    code = re.findall(r'href="/plans/workplans/2024July/([^"/]+)"', workplan.replace("template.xlsx", ""))[0]
    return {
        "/plans/": ("Joint work plans", "Start a performance monitoring plan", "Start the plan", "Plan of",
                    "start from last year's indicators", "Performance monitoring plans,", "Last revision",
                    "A plan that exists already"),
        "/plans/pmps/OPCT/2024July": ("Download as Excel", "Edit in the browser", "Revise this plan",
                                      "Reason for the revision", "Upload as a new version", "Versions",
                                      "Method · responsible", "Baseline", "Org unit", " via "),
        "/plans/pmps/OPCT/2024July/edit": ("Saving stores version", "Add targets for", "Reason for this version",
                                           "Save as a new version", "Responsible", "Baseline · period"),
        "/plans/workplans/2024July": ("Latest status", "Budget (KES)", "Spent (KES)", "Upload the edited work plan",
                                      "Policy & System Strengthening", "Finance & Sustainability", "Planned"),
        f"/plans/workplans/2024July/{code}": ("Working group", "Lead agency", "Planned quarters", "Quarterly progress",
                                              "Results framework", "Spent (KES)", "Save", *ACTIVITY_STATUSES),
        "/reports/": ("Generate a report", "Reports use approved figures only", "returns approved", "Proposed:",
                      "Accessible PDF", "Preview in the browser", "All report runs", "Requested", "Took",
                      "Fact sheet (two pages)", "Sector quarterly progress report", "County profile"),
        f"/reports/runs/{run.id}": ("All reports", "Quarter", "Requested", "Data as of", "Pages", "Took",
                                    "Data SHA-256", "Fact sheet (two pages)", "Recommendations and actions of all"),
        "/reports/actions": ("Recommendations and actions", "Recommendations of published reports", "Add an action",
                             "Raised in the report of", "Due quarter", "Owner", "Scope", "Show", "(county scope)"),
        "/admin/users": ("Everyone who can sign in", "Invite a person", "Two-factor", "Last sign-in", "Manage",
                         "Change role or scope", "Sign out everywhere", "Why deactivate?", "Deactivate", "invited"),
        "/admin/users/invite": ("Invite a person", "They get an e-mail with a link", "Send the invitation",
                                "Ctrl or ⌘ to choose several", "Kenya covers every county"),
        f"/admin/users/{officer.id}/access": ("Role and scope of", "Officers enter the returns", "Why does it change?",
                                              "Save the change", "Agency"),
        "/admin/audit": ("Sign-ins, refused and throttled", "All actions", "Download CSV", "Filter", " events",
                         "Signed in", "by secretariat"),
        "/admin/jobs/": ("Scheduled jobs", "Times are in", "Next run", "Run now", "Last runs", "daily at",
                         "Tell officers the reporting window is open"),
        f"/imports/{done.id}": ("Importing big.csv", "Upload another file", "Finished:", "rows read",
                                "returns written", "warning(s) to explain", "Stored", "Unchanged"),
        f"/imports/{waiting.id}": ("Queued", "large files are imported in the background"),
    }



def test_the_secretariats_pages_in_kiswahili_and_in_english(client, pages):
    choose_language(client, "sw")
    for path, english in pages.items():
        response = client.get(path, headers={"Accept-Language": "en"})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (path, page[:500])
        assert '<html lang="sw">' in page, path
        text = visible_text(page)
        assert not [s for s in english if s in text], (path, [s for s in english if s in text])
    choose_language(client, "en")
    for path, english in pages.items():
        text = visible_text(client.get(path, headers={"Accept-Language": "sw"}).get_data(as_text=True))
        assert all(s in text for s in english), (path, [s for s in english if s not in text])


def test_some_kiswahili_words_of_these_pages(client, pages):
    choose_language(client, "sw")
    plans = visible_text(client.get("/plans/").get_data(as_text=True))
    assert "Mipango kazi ya pamoja" in plans and "Mwaka wa Fedha 2024/25" in plans
    workplan = visible_text(client.get("/plans/workplans/2024July").get_data(as_text=True))
    assert "Sera na Uimarishaji wa Mifumo" in workplan
    reports = visible_text(client.get("/reports/").get_data(as_text=True))
    assert "Toa ripoti" in reports and "Muhtasari wa takwimu (kurasa mbili)" in reports
    audit = visible_text(client.get("/admin/audit").get_data(as_text=True))
    assert "Ameingia" in audit and "Vitendo vyote" in audit


def test_a_flash_in_the_accounts_language(client, session, pages):
    choose_language(client, "sw")
    token = csrf_token(client, "/reports/actions")
    response = client.post("/reports/actions", data={"csrf_token": token, "text": "Hire two M&E officers",
                                                     "raised_period": "2025Q2", "scope": "sector"})
    assert response.status_code == 302
    page = visible_text(client.get("/reports/actions").get_data(as_text=True))
    assert "imerekodiwa" in page and "recorded" not in page
    bad = visible_text(client.get("/admin/audit?from=31/12/2025").get_data(as_text=True))
    assert "si tarehe (YYYY-MM-DD)" in bad and "kuanzia" in bad


def test_the_extraction_lists_match_the_constants_they_mirror():
    """indicators/ and other modules' labels are listed for extraction where they are shown: the lists
    must keep up with the constants."""
    from indicators.workplan import ACTIVITY_STATUSES as statuses
    from mel.accounts import audit
    from mel.accounts.views import AUDIT_ACTION_WORDS
    from mel.plans.models import WORKING_GROUPS
    from mel.plans.views import ACTIVITY_STATUS_WORDS, WORKING_GROUP_WORDS
    from mel.scheduler.jobs import JOBS
    from mel.scheduler.views import JOB_WORDS

    assert set(ACTIVITY_STATUS_WORDS) == set(statuses.values())
    assert set(WORKING_GROUP_WORDS) == set(WORKING_GROUPS.values())
    assert set(AUDIT_ACTION_WORDS) == set(audit.ACTIONS.values())
    assert set(JOB_WORDS) == {job.description for job in JOBS.values()}


def test_a_runs_progress_speaks_the_pages_language(app, session):
    """The run page's status answer carries its stage in the page's language, and the page gives its
    progress script the words it writes (mel/static/js/report-progress.js)."""
    import json as _json

    from mel.reporting import operations as reporting

    run = reporting.request_report(session, kind="factsheet", period="2025Q2")
    session.flush()
    for lang, stage, queued in (("en", "waiting to start", "Queued — position"), ("sw", "inasubiri kuanza", "Kwenye foleni")):
        user = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
        user.locale = lang
        session.flush()
        client = app.test_client()
        login(client, "secretariat@demo.test")
        status = client.get(f"/reports/runs/{run.id}/status").get_json()
        assert status["stage"] == "waiting to start" and status["stage_words"] == stage
        page = client.get(f"/reports/runs/{run.id}").get_data(as_text=True)
        words = _json.loads(html.unescape(re.search(r"data-words='([^']*)'", page).group(1)))
        assert words["queued"].startswith(queued) and "%(num)s" in words["queued"]
