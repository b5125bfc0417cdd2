"""The secretariat generates a report in Chromium, watches its progress and opens the PDF."""

from __future__ import annotations

import io

import pypdf
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", "demo-password-2025")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def test_generate_a_county_profile_and_follow_its_progress(page, live_server, app, screenshot_dir, monkeypatch):
    # In a thread, as a worker process would: the page follows the run through its status URL.
    monkeypatch.setitem(app.config, "REPORT_EXECUTOR", "thread")
    sign_in(page, live_server, "secretariat@demo.test")
    page.get_by_role("link", name="Reports").click()
    page.select_option("#kind", "county")
    page.select_option("#period", "2025Q2")
    page.select_option("#org_unit", "042")
    page.screenshot(path=str(screenshot_dir / "reports-form.png"), full_page=True)
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/reports/runs/*")
    assert page.locator("progress").count() == 1
    page.wait_for_selector("text=Draft ready", timeout=60_000)
    page.screenshot(path=str(screenshot_dir / "report-run-done.png"), full_page=True)
    assert "Kisumu County" in page.locator("h1").inner_text()
    pages = int(page.locator("#pages").inner_text())
    href = page.get_by_role("link", name="Open the PDF").get_attribute("href")
    response = page.request.get(f"{live_server}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert len(pypdf.PdfReader(io.BytesIO(response.body())).pages) == pages
    page.get_by_role("link", name="Preview in the browser").click()
    # The click starts a navigation; wait for the preview to arrive before counting its headings.
    page.wait_for_url("**/preview")
    expect(page.locator("h1", has_text="All programmes together")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "report-preview.png"))
