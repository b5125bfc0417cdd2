"""The secretariat invites a person, who sets a password from the e-mailed link and signs in; then
looks after their own account. Real Chromium at desktop (1280×800) and phone (390×844) sizes."""

from __future__ import annotations

import re
import uuid

import pytest

from mel.accounts import mail

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "Giraffes read maps by lamplight"


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def test_invite_set_password_sign_in_and_own_account(app, browser, live_server, smtp_server, monkeypatch,
                                                      screenshot_dir):
    inbox, port = smtp_server
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    email = f"browser.{uuid.uuid4().hex[:8]}@example.go.ke"

    desktop = browser.new_context(viewport={"width": 1280, "height": 800})
    page = desktop.new_page()
    sign_in(page, live_server, "secretariat@demo.test", "demo-password-2025")
    page.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Invite a person").click()
    page.fill("#email", email)
    page.fill("#name", "Browser Person")
    page.select_option("#role", "viewer")
    page.screenshot(path=str(screenshot_dir / "invite-desktop.png"), full_page=True)
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url(f"{live_server}/admin/users")
    assert f"{email} is invited" in page.content()
    assert page.get_by_role("button", name=f"Re-send the invitation to {email}").is_visible()
    page.screenshot(path=str(screenshot_dir / "people-desktop.png"), full_page=True)
    desktop.close()

    mail.wait_for_background()
    [body] = inbox.bodies(email)
    link = re.search(re.escape(live_server) + r"/invitation/\S+", body).group(0)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    page.goto(link)
    assert "set your password" in page.locator("h1").inner_text().lower()
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.screenshot(path=str(screenshot_dir / "invitation-phone.png"), full_page=True)
    page.get_by_role("button", name="Set my password").click()
    page.wait_for_url(f"{live_server}/login")
    assert "Your password is set" in page.content()
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/account")
    assert page.locator("h1").inner_text() == "Your account"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off a phone screen
    page.screenshot(path=str(screenshot_dir / "account-phone.png"), full_page=True)
    page.goto(link)
    assert "already been used" in page.content()
    phone.close()


def test_forgot_password_pages(browser, live_server, screenshot_dir):
    for name, size in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
        context = browser.new_context(viewport=size)
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.fill("#email", "nobody@example.go.ke")
        page.screenshot(path=str(screenshot_dir / f"forgot-{name}.png"), full_page=True)
        page.get_by_role("button", name="E-mail me a link").click()
        assert "Check your e-mail" in page.locator("h1").inner_text()
        page.screenshot(path=str(screenshot_dir / f"forgot-sent-{name}.png"), full_page=True)
        page.goto(f"{live_server}/reset-password/nope")
        assert "not valid" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        context.close()
