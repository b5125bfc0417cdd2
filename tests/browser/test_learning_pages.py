"""The evidence register in real Chromium at a laptop's and a phone's width: search and filter the
register, read an item, add one with its PDF, read the learning questions (screenshots in the
screenshot directory); nothing is wider than the screen."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from mel.db import db
from mel.demo import DEMO_PASSWORD
from mel.learning.models import (
    EvidenceFile,
    EvidenceItem,
    LearningQuestion,
    evidence_indicator,
    evidence_node,
    evidence_question,
    question_node,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def register(app):
    """The demo's learning agenda and register in the shared database, taken out again afterwards."""
    from mel.learning.demo import load_learning

    with app.app_context():
        load_learning(db.session)
        db.session.commit()
    yield
    with app.app_context():
        session = db.session
        for table in (evidence_indicator, evidence_node, evidence_question, question_node):
            session.execute(delete(table))
        session.execute(delete(EvidenceItem))
        session.execute(delete(EvidenceFile))
        session.execute(delete(LearningQuestion))
        session.commit()


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _accessible(page, label: str, size: str, blocking: list[str]) -> None:
    """axe-core's WCAG 2.2 AA rules (tests/browser/test_accessibility.py): no serious or critical violation."""
    from tests.browser.test_accessibility import audit

    blocking.extend(audit(page, label, size).blocking)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_register_and_an_item_at_both_widths(browser, live_server, app, screenshot_dir, register, size, tmp_path):
    from tests.app.test_learning import pdf_bytes

    width = SIZES[size]["width"]
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    blocking: list[str] = []
    try:
        page.goto(f"{live_server}/login")
        page.fill("#email", "reviewer@demo.test")
        page.fill("#password", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")

        page.goto(f"{live_server}/learning/evidence")
        main = page.locator("main").inner_text()
        assert "Evidence register" in main and "process evaluation 2024 (demo)" in main
        _fits(page, width)
        _accessible(page, "register", size, blocking)
        page.screenshot(path=str(screenshot_dir / f"evidence-register-{size}.png"), full_page=True)

        page.fill("#f-q", "drought")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/learning/evidence?q=drought*")
        found = page.locator("main").inner_text()
        assert "Shock-responsive HSNP scale-up" in found and "CT-OVC impact evaluation" not in found
        page.goto(f"{live_server}/learning/evidence?indicator=SA04")
        assert "CT-OVC impact evaluation" in page.locator("main").inner_text()
        page.screenshot(path=str(screenshot_dir / f"evidence-register-filtered-{size}.png"), full_page=True)

        page.get_by_role("link", name="CT-OVC impact evaluation: endline report (demo)").click()
        page.wait_for_url("**/learning/evidence/*")
        item = page.locator("main").inner_text()
        assert "Key findings" in item and "Secondary school enrolment" in item and "SA04" in item
        _fits(page, width)
        _accessible(page, "item", size, blocking)
        page.screenshot(path=str(screenshot_dir / f"evidence-item-{size}.png"), full_page=True)

        page.goto(f"{live_server}/learning/evidence/new?indicators=SA11")
        pdf = tmp_path / f"timeliness-{size}.pdf"
        pdf.write_bytes(pdf_bytes(3))
        page.fill("#title", f"Payment timeliness spot check ({size})")
        page.fill("#agency", "SPS")
        page.fill("#published_on", "2025-07-01")
        page.fill("#key_findings", "Most pay points opened on the scheduled day.")
        page.set_input_files("#file", str(pdf))
        _fits(page, width)
        _accessible(page, "new item", size, blocking)
        page.screenshot(path=str(screenshot_dir / f"evidence-new-{size}.png"), full_page=True)
        page.get_by_role("button", name="Add to the register").click()
        page.wait_for_url("**/learning/evidence/*")
        added = page.locator("main").inner_text()
        assert f"timeliness-{size}.pdf" in added and "3 pages" in added and "SA11" in added
        page.screenshot(path=str(screenshot_dir / f"evidence-added-{size}.png"), full_page=True)

        page.goto(f"{live_server}/indicators/SA11")
        sheet = page.locator("#evidence").inner_text()
        assert "What the evidence says" in sheet and f"Payment timeliness spot check ({size})" in sheet
        page.locator("#evidence").screenshot(path=str(screenshot_dir / f"indicator-evidence-{size}.png"))

        page.goto(f"{live_server}/learning/questions")
        assert "LQ01" in page.locator("main").inner_text()
        _fits(page, width)
        _accessible(page, "questions", size, blocking)
        page.screenshot(path=str(screenshot_dir / f"learning-questions-{size}.png"), full_page=True)
        page.get_by_role("link", name="LQ01").click()
        page.wait_for_url("**/learning/questions/*")
        _fits(page, width)
        _accessible(page, "question", size, blocking)
        page.screenshot(path=str(screenshot_dir / f"learning-question-{size}.png"), full_page=True)
        assert not blocking, "\n".join(blocking)
    finally:
        context.close()
    with app.app_context():
        kept = db.session.scalar(select(EvidenceItem).where(EvidenceItem.title.like("Payment timeliness spot check%")))
        assert kept is not None and kept.file_id is not None
