"""The secretariat fills a return in the grid with the keyboard, sees an inline error, fixes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mel.db import db
from mel.returns.models import Return

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The 2026Q3 window has closed (today is later), so only the secretariat may enter figures:
# that is the path this test drives. PWSD in Lamu has no return for 2026Q3 in the demo.
PAGE = "/returns/PWSD/005/2026Q3"


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", "demo-password-2025")
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/")


def test_grid_entry_with_an_inline_error_then_a_saved_draft(page, live_server, app, screenshot_dir):
    sign_in(page, live_server, "secretariat@demo.test")
    page.goto(f"{live_server}{PAGE}")
    assert "FY2026/27 Q1 (Jul–Sep 2026)" in page.content()
    first = page.locator("input.num").first
    first.focus()
    # Type into the first three figures using only the keyboard (Tab moves to the next input).
    page.keyboard.type("950")
    page.keyboard.press("Tab")
    page.keyboard.type("1,000")
    page.keyboard.press("Tab")
    page.keyboard.type("checked against the IPRS extract")
    page.get_by_role("button", name="Save draft").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was saved")
    assert "'1,000' has a thousands separator, which is read as text. Type 1000." in page.content()
    assert page.locator("input[aria-invalid=true]").count() == 1
    page.screenshot(path=str(screenshot_dir / "grid-error.png"), full_page=False)
    with app.app_context():
        assert db.session.scalar(select(Return).where(Return.period == "2026Q3")) is None

    invalid = page.locator("input[aria-invalid=true]")
    invalid.fill("1000")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("body")).to_contain_text("Saved:")
    assert "2 created" in page.content()
    assert page.locator("td.computed").first.inner_text() == "95.0"
    assert "History" in page.content()
    page.screenshot(path=str(screenshot_dir / "grid-saved.png"), full_page=False)
