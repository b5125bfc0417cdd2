"""MERL TWG meetings in real Chromium at 1280 and 390 px: a meeting's record, the action list and
"Your TWG actions" on the home page fit the screen (no sideways scrolling) and are kept as
screenshots; the owner of an action updates it from the home page, as a person would."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from mel.demo import DEMO_PASSWORD
from tests.browser.journey_helpers import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}/")


def fits(page, where: str) -> None:
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{where} scrolls sideways at {width}px"


@pytest.fixture(scope="module")
def owned_action(app):
    """An action of the Kisumu officer, overdue, on the demo's August meeting; removed afterwards (its audit
    events stay: the audit is append-only)."""
    from mel.accounts.models import User
    from mel.db import db
    from mel.meetings.models import Meeting, MeetingAction

    with app.app_context():
        session = db.session
        meeting = session.scalar(select(Meeting).where(Meeting.title.like("%Apr–Jun 2025")))
        owner = session.scalar(select(User).where(User.email == "officer.kisumu@demo.test"))
        action = MeetingAction(meeting_id=meeting.id, text="Send the Kisumu payment-point survey to the TWG.",
                               owner_id=owner.id, due_on=date.today().replace(day=1), status="open", progress="")
        session.add(action)
        session.commit()
        ids = (meeting.id, action.id)
    yield ids
    with app.app_context():
        session = db.session
        session.execute(delete(MeetingAction).where(MeetingAction.id == ids[1]))
        session.commit()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_the_meeting_pages_fit_and_are_kept_as_screenshots(browser, live_server, screenshot_dir, width, owned_action):
    meeting_id, action_id = owned_action
    context = browser.new_context(viewport=VIEWPORTS[width])
    page = context.new_page()
    try:
        sign_in(page, live_server, "secretariat@demo.test")
        for slug, path, wanted in (
                ("meeting", f"/meetings/{meeting_id}", "Circulate the draft annual sector review report"),
                ("actions", "/meetings/actions", "TWG actions"),
                ("meetings", "/meetings/", "Past meetings"),
                ("minutes", f"/meetings/{meeting_id}/minutes", "Chair"),
                ("edit", f"/meetings/{meeting_id}/edit", "Save the meeting")):
            answer = page.goto(f"{live_server}{path}")
            assert answer.status == 200 and wanted in page.inner_text("body"), path
            fits(page, path)
            page.screenshot(path=str(screenshot_dir / f"meetings-{slug}-{width}.png"), full_page=True)
        page.goto(f"{live_server}/")
        home = page.locator("#your-twg-actions")
        assert home.is_visible() and "Share the final NICHE" in home.inner_text()
        fits(page, "/")
        home.screenshot(path=str(screenshot_dir / f"meetings-home-secretariat-{width}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_the_owner_updates_an_action_from_the_home_page(browser, live_server, screenshot_dir, width, owned_action, app):
    from mel.db import db
    from mel.meetings.models import MeetingAction

    _, action_id = owned_action
    context = browser.new_context(viewport=VIEWPORTS[width])
    page = context.new_page()
    try:
        sign_in(page, live_server, "officer.kisumu@demo.test")
        section = page.locator("#your-twg-actions")
        assert "Send the Kisumu payment-point survey" in section.inner_text() and "overdue" in section.inner_text()
        fits(page, "/")
        page.screenshot(path=str(screenshot_dir / f"meetings-home-owner-{width}.png"), full_page=True)
        section.get_by_role("link", name="Send the Kisumu payment-point survey to the TWG.").click()
        page.wait_for_url(f"{live_server}/meetings/actions/{action_id}")
        assert page.get_by_role("heading", name="Update your action").is_visible()
        page.select_option("#a-status", "in_progress")
        page.fill("#a-progress", "Survey sent to 12 pay points; 9 answered.")
        fits(page, "action page")
        page.screenshot(path=str(screenshot_dir / f"meetings-action-owner-{width}.png"), full_page=True)
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"{live_server}/meetings/actions/{action_id}")
        assert "saved: in progress" in page.locator(".flash").inner_text()
        assert "Survey sent to 12 pay points; 9 answered." in page.inner_text("body")
        with app.app_context():
            stored = db.session.get(MeetingAction, action_id)
            assert (stored.status, stored.progress) == ("in_progress", "Survey sent to 12 pay points; 9 answered.")
            stored.status, stored.progress = "open", ""  # the next width starts from the same action
            db.session.commit()
    finally:
        context.close()
