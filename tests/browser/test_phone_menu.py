"""On a phone the main menu folds behind "Menu", Sign out stays in view, and the main pages of each
role are no wider than the screen; on a laptop the menu is shown in full. Real Chromium."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = {
    "secretariat@demo.test": ["/", "/dashboard/", "/dashboard/indicators/SA02", "/plans/", "/reports/", "/admin/users", "/admin/audit", "/indicators",
                              "/review/?period=2025Q2", "/account", "/account/two-factor",
                              "/catalogue/disaggregations", "/catalogue/disaggregations/categories/age_group",
                              "/catalogue/disaggregations/sets/sex_age"],
    "reviewer@demo.test": ["/", "/review/?period=2025Q2", "/review/OPCT/042/2025Q2"],
    "officer.opct@demo.test": ["/", "/returns/OPCT/042/2025Q2"],
    "viewer@demo.test": ["/", "/dashboard/", "/reports/", "/catalogue/disaggregations/sets/sex_age"],
}


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", "demo-password-2025")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/**")


@pytest.fixture
def a_token(app):
    """The secretariat's account page lists an API token (its widest table), removed afterwards."""
    from sqlalchemy import delete

    from mel.accounts.models import ApiToken
    from mel.accounts.operations import create_token
    from mel.db import db

    with app.app_context():
        issued = create_token(db.session, "secretariat@demo.test", name="A programme MIS with a long name")
        token_id = issued.record.id
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(delete(ApiToken).where(ApiToken.id == token_id))
        db.session.commit()


@pytest.mark.parametrize("email", list(PAGES))
def test_the_menu_folds_on_a_phone_and_pages_fit(browser, live_server, screenshot_dir, email, a_token):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live_server, email)
        for path in PAGES[email]:
            answer = page.goto(f"{live_server}{path}")
            assert answer.status == 200, path
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            header = page.locator("header.topbar")
            assert header.bounding_box()["height"] < 130, path  # was 38% of the screen
            assert page.get_by_role("button", name="Sign out").is_visible(), path
            assert not page.locator("header nav").is_visible(), path
        role = email.split("@")[0].split(".")[0]
        page.screenshot(path=str(screenshot_dir / f"phone-menu-folded-{role}.png"))
        toggle = page.get_by_role("button", name="Menu")
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true" and page.locator("header nav").is_visible()
        links = page.locator("header nav a")
        assert all(links.nth(i).bounding_box()["height"] >= 24 for i in range(links.count()))  # touch targets
        page.screenshot(path=str(screenshot_dir / f"phone-menu-open-{role}.png"))
        page.keyboard.press("Escape")
        assert not page.locator("header nav").is_visible()
    finally:
        context.close()


def test_a_laptop_shows_the_whole_menu(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "secretariat@demo.test")
    assert page.locator("header nav").is_visible()
    assert not page.get_by_role("button", name="Menu").is_visible()
    assert page.get_by_role("link", name="People").is_visible()


def test_without_javascript_the_menu_is_simply_shown(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "reviewer@demo.test")
        assert page.locator("header nav").is_visible()
        assert page.get_by_role("link", name="Review").first.is_visible()
    finally:
        context.close()
