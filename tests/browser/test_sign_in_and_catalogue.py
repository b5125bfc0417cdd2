"""A reviewer signs in with the keyboard, browses the catalogue and signs out, in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mel.accounts.operations import SIGN_IN_REFUSED
from mel.clock import reporting_quarter

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_keyboard_sign_in_catalogue_and_sign_out(page, live_server, screenshot_dir):
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    # The e-mail field has focus; the rest is typed and tabbed.
    page.wait_for_selector("#email:focus")
    page.keyboard.type("reviewer@demo.test")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password-2025")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("h1").inner_text() == "MERL TWG review"
    # The quarter being reported now is shown in Kenya's financial-year terms.
    assert reporting_quarter().label in page.locator(".calendar").inner_text()
    page.screenshot(path=str(screenshot_dir / "home-reviewer.png"), full_page=True)

    page.get_by_role("link", name="Indicators").first.click()
    page.select_option("#pillar", "social_assistance")
    page.get_by_role("button", name="Filter").click()
    # A click starts a navigation and returns: wait for the new page before reading it.
    page.wait_for_url("**/indicators?pillar=social_assistance*")
    expect(page.locator("main")).to_contain_text("17 indicators")
    page.get_by_role("link", name="SA11").click()
    page.wait_for_url(f"{live_server}/indicators/SA11")
    expect(page.locator("main")).to_contain_text("Payment cycles credited on or before scheduled date")
    page.screenshot(path=str(screenshot_dir / "indicator-sheet.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    expect(page.locator("body")).to_contain_text("You have signed out.")
    page.goto(f"{live_server}/indicators")
    assert page.url.startswith(f"{live_server}/login")


def test_wrong_password_shows_an_error_in_the_page(page, live_server):
    page.goto(f"{live_server}/login")
    page.fill("#email", "viewer@demo.test")
    page.fill("#password", "not-the-password")
    page.click("main button[type=submit]")
    assert page.get_by_role("alert").inner_text() == SIGN_IN_REFUSED
