"""What every journey step does: sign in as a demo user, look at a screen as a person would (no
sideways scrolling, Sign out within reach) and keep a full-page screenshot of it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from mel.demo import DEMO_PASSWORD

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"1280": DESK, "390": PHONE}


# The innermost elements that stick out past the window's right edge (for a failure's message).
WIDEST = """Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5
                && !Array.from(el.children).some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ': '
                   + (el.textContent || '').trim().slice(0, 60))"""


@dataclass
class Journey:
    """One person's way through the app in one browser context, at one screen size."""

    context: BrowserContext
    base: str
    role: str
    screenshot_dir: Path
    page: Page = field(init=False)
    screens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page = self.context.new_page()

    @property
    def width(self) -> int:
        return self.page.viewport_size["width"]

    def sign_in(self, email: str) -> None:
        page = self.page
        page.goto(f"{self.base}/login")
        page.fill("#email", email)
        page.fill("#password", DEMO_PASSWORD)
        page.locator("main button[type=submit]").click()
        page.wait_for_url(f"{self.base}/")

    def go(self, path: str) -> None:
        answer = self.page.goto(f"{self.base}{path}")
        assert answer is not None and answer.status == 200, f"{path} answered {answer and answer.status}"

    def shoot(self, slug: str, app_page: bool = True) -> Path:
        """Check the screen fits and Sign out is reachable, then keep its full-page screenshot.
        A report's own HTML (its preview) is the document as printed, without the app's header."""
        page = self.page
        page.wait_for_load_state()
        where = f"{self.role} at {self.width}px, screen {slug!r} ({page.url})"
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= page.evaluate("window.innerWidth"), \
            f"{where} is {wide}px wide: it scrolls sideways; too wide: {page.evaluate(WIDEST)}"
        if app_page:
            sign_out = page.get_by_role("button", name="Sign out")
            assert sign_out.is_visible() and sign_out.is_enabled(), f"{where}: Sign out is not reachable"
        self.screens.append(slug)
        path = self.screenshot_dir / f"journey-{self.role}-{self.width}-{len(self.screens):02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def text(self) -> str:
        return self.page.inner_text("body")

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())

    def expect_flash(self, wanted: str) -> None:
        """The page says `wanted` in a flash message (else the failure shows what it said instead).
        A click that submits a form returns before the next page has come: wait for the message."""
        try:
            expect(self.page.locator(".flash", has_text=wanted).first).to_be_visible()
        except AssertionError:
            pass  # the assertion below says what the page said instead
        said = self.flash()
        alerts = " | ".join(self.page.locator("[role=alert]").all_inner_texts())
        assert wanted in said, f"{self.role} at {self.width}px on {self.page.url}: {said!r}; alerts: {alerts!r}"


def figure_texts(value: float | int, decimals: int) -> set[str]:
    """The ways a page may print a figure: plain, with thousands separators, rounded."""
    texts = {f"{value:,.{decimals}f}", f"{value:.{decimals}f}"}
    if decimals:
        texts |= {f"{value:,.0f}", f"{value:.0f}"}
    return {t for t in texts if len(re.sub(r"\D", "", t)) >= 5}  # short figures occur by chance
