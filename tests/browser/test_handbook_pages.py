"""The reporting guidelines handbook in Chromium: the secretariat makes an edition (in the background, as
a worker process would) and its run's page follows the making until it links the edition; the handbook page
lists it with its downloads; the run page, the edition page and the current handbook read at 1280 and 390
pixels wide, nothing wider than the window."""

from __future__ import annotations

import io

import pypdf
import pytest
from sqlalchemy import delete

from mel.db import db
from mel.guidelines.models import HandbookEdition, HandbookFile, HandbookRun

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", "demo-password-2025")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.fixture
def no_editions(app):
    yield
    with app.app_context():
        db.session.execute(delete(HandbookRun))
        db.session.execute(delete(HandbookFile))
        db.session.execute(delete(HandbookEdition))
        db.session.commit()
        db.session.close()


def test_make_an_edition_and_read_it_at_two_widths(page, browser, live_server, app, screenshot_dir, monkeypatch,
                                                   no_editions):
    monkeypatch.setitem(app.config, "REPORT_EXECUTOR", "thread")
    sign_in(page, live_server, "secretariat@demo.test")
    page.get_by_role("link", name="Handbook").click()
    page.wait_for_url("**/guidelines/")
    assert "No edition yet." in page.locator("table.editions").inner_text()
    page.fill("#note", "First edition for the officers' training")
    page.get_by_role("button", name="Make a new edition").click()
    page.wait_for_url("**/guidelines/runs/*")
    run_url = page.url
    assert "Making handbook edition 1" in page.locator("h1").inner_text()
    # The page's script follows the stage and the bar, then shows the outcome (no reload by hand).
    page.wait_for_selector("#stage:has-text('Edition 1 is made.')", timeout=170_000)
    assert page.locator("#bar").get_attribute("value") == "100"
    page.screenshot(path=str(screenshot_dir / "handbook-run-1280.png"), full_page=True)
    assert overflow(page) <= 0
    page.get_by_role("link", name="Open edition 1").click()
    page.wait_for_url("**/guidelines/editions/1")
    page.get_by_role("link", name="Reporting guidelines handbook").first.click()
    page.wait_for_url("**/guidelines/")
    row = page.locator("#edition-1")
    assert "First edition" in row.inner_text() and "c-" in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "handbook-index-1280.png"), full_page=True)
    assert overflow(page) <= 0
    pdf = page.request.get(live_server + row.get_by_role("link", name="PDF · English").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(pypdf.PdfReader(io.BytesIO(pdf.body())).pages) > 50
    row.get_by_role("link", name="Edition 1").click()
    page.wait_for_url("**/guidelines/editions/1")
    assert "First edition: there is no earlier edition to compare with." in page.locator("main").inner_text()
    page.screenshot(path=str(screenshot_dir / "handbook-edition-1280.png"), full_page=True)
    page.get_by_role("link", name="Read HTML").first.click()
    page.wait_for_url("**/editions/1/en.html")
    assert page.locator("h1", has_text="8. Indicator reference sheets").count() == 1
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgb(217, 222, 219)"
    page.screenshot(path=str(screenshot_dir / "handbook-html-1280.png"))

    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state())
    small = phone.new_page()
    for path, name in ((run_url.removeprefix(live_server), "run"), ("/guidelines/", "index"),
                       ("/guidelines/editions/1", "edition"),
                       ("/guidelines/handbook", "current"), ("/guidelines/editions/1/sw.html", "html-sw")):
        answer = small.goto(live_server + path)
        assert answer.status == 200, path
        small.screenshot(path=str(screenshot_dir / f"handbook-{name}-390.png"), full_page=name in ("index", "edition"))
        assert overflow(small) <= 0, path
    phone.close()
