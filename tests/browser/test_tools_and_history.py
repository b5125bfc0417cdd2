"""The Reporting tools page and an indicator's history in real Chromium at a laptop's and a phone's width:
choose a programme and download its pack; read a history with its charts, targets and notes (screenshots
in the screenshot directory); nothing is wider than the screen, and axe finds no serious violation."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from mel.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_tools_page_downloads_a_pack_at_both_widths(browser, live_server, screenshot_dir, size):
    from tests.browser.test_accessibility import audit

    width = SIZES[size]["width"]
    context = browser.new_context(viewport=SIZES[size], accept_downloads=True)
    page = context.new_page()
    try:
        _sign_in(page, live_server, "officer.kisumu@demo.test")
        page.goto(f"{live_server}/tools/")
        main = page.locator("main").inner_text()
        assert "Reporting tools" in main and "All programmes (a folder each)" in main and "COUNTY" in main
        _fits(page, width)
        assert not audit(page, "tools", size).blocking
        page.screenshot(path=str(screenshot_dir / f"tools-{size}.png"), full_page=True)
        page.select_option("#programme", "OPCT")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the pack (.zip)").click()
        saved = download.value
        assert saved.suggested_filename.startswith("tools_OPCT_") and saved.suggested_filename.endswith(".zip")
        with zipfile.ZipFile(io.BytesIO(open(saved.path(), "rb").read())) as archive:
            names = archive.namelist()
            manifest = json.loads(archive.read("manifest.json"))
        assert names[0].startswith("OPCT_042_") and manifest["programme"] == "OPCT"
        assert [f["org_unit"] for f in manifest["files"]] == ["042"]
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_an_indicators_history_at_both_widths(browser, live_server, screenshot_dir, size):
    from tests.browser.test_accessibility import audit

    width = SIZES[size]["width"]
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    try:
        _sign_in(page, live_server, "reviewer@demo.test")
        page.goto(f"{live_server}/indicators/SA01")
        page.get_by_role("link", name="History across years").click()
        page.wait_for_url("**/dashboard/indicators/SA01/history")
        page.select_option("#programme", "OPCT")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/history?programme=OPCT&org_unit=KE")
        main = page.locator("main").inner_text()
        assert "Targets and their revisions" in main and "Mid-year review" in main and "Kenya" in main
        assert page.locator("main .chart svg:visible").count() == 2  # the laptop's or the phone's drawing
        _fits(page, width)
        assert not audit(page, "history", size).blocking
        page.screenshot(path=str(screenshot_dir / f"indicator-history-{size}.png"), full_page=True)
    finally:
        context.close()
