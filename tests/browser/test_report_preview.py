"""The HTML preview of a report is styled as its PDF in a real browser: its content security policy
allows exactly its own inline styles (by hash), and nothing is refused."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_preview_is_styled_and_nothing_is_refused(page, live_server, screenshot_dir):
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server}/login")
    page.fill("#email", "reviewer@demo.test")
    page.fill("#password", "demo-password-2025")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/**")
    answer = page.goto(f"{live_server}/reports/preview?kind=factsheet&period=2025Q2")
    assert answer.status == 200
    policy = answer.headers["content-security-policy"]
    assert "'sha256-" in policy and "unsafe-inline" not in policy and "script-src 'self'" in policy
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(217, 222, 219)"  # the preview's page-on-a-desk background: the styles apply
    width = page.evaluate("document.body.getBoundingClientRect().width")
    assert 700 < width < 900  # about 200 mm wide (with its padding), as the printed page
    assert refused == []
    page.screenshot(path=str(screenshot_dir / "report-preview.png"))
