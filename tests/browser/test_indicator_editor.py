"""The secretariat creates an indicator, edits its definition with a reason and reads version 2 and version 1,
in real Chromium at a laptop's and a phone's width (screenshots in the screenshot directory)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from mel.catalogue.models import Indicator, IndicatorVersion
from mel.db import db
from mel.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _forget(app, code: str) -> None:
    """Take the test's indicator out of the shared database again (its audit events stay, as they must)."""
    with app.app_context():
        session = db.session
        found = session.scalar(select(Indicator.id).where(Indicator.code == code))
        if found is not None:
            session.execute(delete(IndicatorVersion).where(IndicatorVersion.indicator_id == found))
            session.execute(delete(Indicator).where(Indicator.id == found))
            session.commit()


@pytest.mark.parametrize("size", list(SIZES))
def test_create_edit_and_read_both_versions(browser, live_server, app, screenshot_dir, size):
    code = f"BT{SIZES[size]['width']}"
    first = "Community volunteers trained on case management in the quarter."
    second = "Community volunteers trained on case management in the quarter, each counted once."
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("#email", "secretariat@demo.test")
        page.fill("#password", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")

        page.goto(f"{live_server}/indicators")
        page.get_by_role("link", name="New indicator").click()
        page.fill("#code", code)
        page.fill("#name", "Number of community volunteers trained")
        page.fill("#short_name", "Volunteers trained")
        page.fill("#definition", first)
        page.select_option("#pillar", "cross_cutting")
        page.select_option("#disaggregation", "none")
        page.fill("#reason", "Asked by the MERL TWG.")
        page.screenshot(path=str(screenshot_dir / f"indicator-new-{size}.png"), full_page=True)
        page.get_by_role("button", name="Create the indicator").click()
        page.wait_for_url(f"{live_server}/indicators/{code}")
        assert "version 1" in page.locator("main").inner_text()

        page.get_by_role("link", name=f"Edit, retire or reactivate {code}").click()
        page.fill("#definition", second)
        page.fill("#reason", "Each volunteer counted once.")
        page.screenshot(path=str(screenshot_dir / f"indicator-edit-{size}.png"), full_page=True)
        page.get_by_role("button", name="Save as version 2").click()
        page.wait_for_url(f"{live_server}/indicators/{code}")
        main = page.locator("main").inner_text()
        assert "version 2" in main and second in main
        page.screenshot(path=str(screenshot_dir / f"indicator-sheet-v2-{size}.png"), full_page=True)

        page.get_by_role("link", name="version 2").click()
        page.wait_for_url(f"{live_server}/catalogue/indicators/{code}/versions")
        versions = page.locator("main").inner_text()
        assert "Version 2" in versions and "Version 1" in versions and "Each volunteer counted once." in versions
        page.screenshot(path=str(screenshot_dir / f"indicator-versions-{size}.png"), full_page=True)

        page.get_by_role("link", name="Version 1", exact=True).click()
        page.wait_for_url(f"{live_server}/catalogue/indicators/{code}/versions/1")
        old = page.locator("main").inner_text()
        assert first in old and second not in old and "An earlier version" in old
        page.screenshot(path=str(screenshot_dir / f"indicator-version-1-{size}.png"), full_page=True)
        # Nothing is wider than the screen (a phone scrolls down, never sideways).
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    finally:
        context.close()
        _forget(app, code)
