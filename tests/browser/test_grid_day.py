"""An officer's day in the return grid, in real Chromium: keyboard entry, checks as a field loses
focus, live sums, a reload and a dropped connection that lose nothing, a stale save, a closed window.

The server's clock travels (time_machine) to a day in an open window of a quarter that ends after
the real today: the browser keeps the session cookie by its own (real) clock, so the travelled day
must not lie in its past.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from indicators.periods import quarter_of
from mel.db import db
from mel.returns.models import Return
from tests.app.returns_helpers import rows_like, send

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}
MAX_PAGE_BYTES = 150_000


def future_quarter() -> str:
    """A quarter ending after the real today (so days in its window lie in the browser's future)."""
    return quarter_of(date.today() + timedelta(days=100)).id


def day_of(period: str, days_after_end: int) -> datetime:
    from indicators.periods import parse_period

    end = parse_period(period).end
    day = end + timedelta(days=days_after_end)
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)  # 09:00 in Nairobi


@contextmanager
def on(moment: datetime):
    with time_machine.travel(moment, tick=True):
        yield


def sign_in(page, live_server, email="officer.kisumu@demo.test"):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", "demo-password-2025")
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/")


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name || ''")


def value(page, name: str) -> str:
    return page.locator(f'[name="{name}"]').input_value()


def shoot(page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / f"{name}-{page.viewport_size['width']}.png"), full_page=False)


def no_sideways_scroll(page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport=DESK)
    yield context
    context.close()


def test_keyboard_entry_checks_on_blur_live_sums_and_a_reload_that_loses_nothing(desk, live_server, screenshot_dir):
    period = future_quarter()
    url = f"{live_server}/returns/OPCT/042/{period}"
    page = desk.new_page()
    with on(day_of(period, 5)):
        sign_in(page, live_server)
        page.goto(url)
        assert "due in 10 days" in page.inner_text(".window")
        assets = page.evaluate("""Array.from(document.querySelectorAll('link[rel=stylesheet], script[src]'))
                                  .map(el => el.href || el.src)""")
        assert any(a.endswith("/js/grid.js") for a in assets) and all(a.startswith(live_server) for a in assets)
        sizes = {address: len(page.request.get(address).body()) for address in [url, *assets]}
        assert sum(sizes.values()) < MAX_PAGE_BYTES, sizes

        # Enter moves from figure to figure; the percentage follows the typing.
        page.locator('[name="v.SPX08.numerator.default"]').focus()
        page.keyboard.type("950")
        page.keyboard.press("Enter")
        assert focused(page) == "v.SPX08.denominator.default"
        page.keyboard.type("1000")
        assert page.locator('td.computed[data-ratio="SPX08|default"]').inner_text() == "95.0"
        page.keyboard.press("Enter")
        assert focused(page) == "v.SPX10.value.F"
        assert page.url == url  # Enter never sent the form
        page.keyboard.type("12")
        page.keyboard.press("ArrowDown")
        assert focused(page) == "v.SPX10.value.M"
        # A thousands separator is refused as the field loses focus, in the server's words.
        page.keyboard.type("1,000")
        page.keyboard.press("ArrowDown")
        assert focused(page) == "v.SPX10.value.total"
        error = page.locator("#err-v-SPX10-value-M")
        assert error.inner_text() == "'1,000' has a thousands separator, which is read as text. Type 1000."
        assert page.locator('[name="v.SPX10.value.M"]').get_attribute("aria-invalid") == "true"
        page.keyboard.type("50")
        page.keyboard.press("ArrowUp")
        assert focused(page) == "v.SPX10.value.M"
        parts = page.locator('output[data-parts="SPX10|value"]')
        assert parts.inner_text() == "parts add up to 12"
        page.keyboard.press("Control+a")
        page.keyboard.type("30")
        assert parts.inner_text() == "parts add up to 42, not the total of 50"
        page.keyboard.press("Enter")
        assert error.count() == 0 and page.locator('[name="v.SPX10.value.M"]').get_attribute("aria-invalid") is None
        page.keyboard.press("Control+a")
        page.keyboard.type("42")
        assert parts.inner_text() == "parts add up to 42"
        # Comments are out of the tab order until opened.
        comment = page.locator('[name="c.SPX10.value.F"]')
        assert comment.is_hidden() and comment.get_attribute("tabindex") == "-1"
        page.get_by_role("button", name="Add comment on SPX10 Female").click()
        assert comment.is_visible() and comment.get_attribute("tabindex") is None
        page.keyboard.type("MIS extract of 3 Jan")
        shoot(page, screenshot_dir, "grid-day-typed")
        expect(page.locator("#save-state")).to_contain_text("Unsaved changes")

        # Reloading asks first (unsaved changes), then puts every typed figure back.
        asked: list[str] = []

        def accept(dialog):
            asked.append(dialog.type)
            dialog.accept()

        page.on("dialog", accept)
        page.reload()
        assert asked == ["beforeunload"]
        notice = page.locator("#draft-notice")
        assert "We restored your unsaved figures" in notice.inner_text()
        assert [value(page, n) for n in ("v.SPX08.numerator.default", "v.SPX08.denominator.default", "v.SPX10.value.F",
                                         "v.SPX10.value.M", "v.SPX10.value.total", "c.SPX10.value.F")] == \
            ["950", "1000", "12", "30", "42", "MIS extract of 3 Jan"]
        assert page.locator('td.computed[data-ratio="SPX08|default"]').inner_text() == "95.0"
        shoot(page, screenshot_dir, "grid-day-restored")
        page.get_by_role("button", name="Discard them").click()
        assert value(page, "v.SPX08.numerator.default") == "" and value(page, "v.SPX10.value.M") == ""
        page.reload()
        assert page.locator("#draft-notice").is_hidden()


def test_a_dropped_connection_mid_edit_loses_nothing(desk, live_server, app, screenshot_dir):
    period = future_quarter()
    url = f"{live_server}/returns/OPCT/042/{period}"
    page = desk.new_page()
    with on(day_of(period, 6)):
        sign_in(page, live_server)
        page.goto(url)
        page.fill('[name="v.SPX08.numerator.default"]', "960")
        desk.set_offline(True)
        page.fill('[name="v.SPX08.denominator.default"]', "1000")
        page.fill('[name="narrative"]', "Typed on a bus between Kisumu and Kondele.")
        page.get_by_role("button", name="Save draft").click()
        notice = page.locator("#draft-notice")
        assert "You are offline, so nothing was sent" in notice.inner_text()
        assert page.url == url and value(page, "v.SPX08.denominator.default") == "1000"
        shoot(page, screenshot_dir, "grid-day-offline")
        desk.set_offline(False)
        page.wait_for_function("navigator.onLine")
        assert "The connection is back" in notice.inner_text()
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("body")).to_contain_text("Saved:")
        assert value(page, "v.SPX08.numerator.default") == "960"
        assert value(page, "narrative") == "Typed on a bus between Kisumu and Kondele."
        assert page.locator("#draft-notice").is_hidden()  # the draft was spent: the server has it all
    with app.app_context():
        record = db.session.scalar(select(Return).where(Return.period == period, Return.org_unit.has(code="042"),
                                                        Return.programme.has(code="OPCT")))
        assert record is not None and record.narrative == "Typed on a bus between Kisumu and Kondele."


def test_a_stale_save_keeps_the_typed_figure_and_shows_both(desk, live_server, app, screenshot_dir):
    period = future_quarter()
    when = day_of(period, 7)
    url = f"{live_server}/returns/COUNTY/042/{period}"
    with on(when):
        with app.app_context():
            rows = rows_like(db.session, "COUNTY", ["042"], period=period, factor=1.0)
            assert send(db.session, "secretariat@demo.test", rows, programme="COUNTY", now=when).outcome == "stored"
            db.session.commit()
        page = desk.new_page()
        sign_in(page, live_server)
        page.goto(url)
        first = page.locator("input.num").first
        name = first.get_attribute("name")
        with app.app_context():  # someone else saves first
            again = rows_like(db.session, "COUNTY", ["042"], period=period, factor=1.5)
            assert send(db.session, "secretariat@demo.test", again, programme="COUNTY", now=when).outcome == "stored"
            db.session.commit()
        theirs = page.evaluate("n => fetch(location.href).then(r => r.text()).then(t => new DOMParser()"
                               ".parseFromString(t, 'text/html').querySelector(`[name='${n}']`).value)", name)
        first.fill("7")
        page.get_by_role("button", name="Save draft").click()
        stale = page.locator("#stale")
        expect(stale).to_contain_text("Someone else saved this return after you opened it")
        assert "Someone else saved this return after you opened it" in stale.inner_text()
        assert value(page, name) == "7"
        mine = stale.locator(f'input[name="pick.{name}"][value="mine"]')
        other = stale.locator(f'input[name="pick.{name}"][value="theirs"]')
        assert mine.is_checked() and other.get_attribute("data-value") == theirs
        page.set_viewport_size(PHONE)
        no_sideways_scroll(page)
        shoot(page, screenshot_dir, "grid-day-stale")
        page.set_viewport_size(DESK)
        shoot(page, screenshot_dir, "grid-day-stale")
        other.check()
        assert value(page, name) == theirs
        mine.check()
        assert value(page, name) == "7"
        page.get_by_role("button", name="Save with these choices").click()
        expect(page.locator("body")).to_contain_text("Saved:")
        assert value(page, name) == "7"


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])
def test_a_closed_window_is_read_only_with_the_reason(browser, live_server, screenshot_dir, viewport):
    period = future_quarter()
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        with on(day_of(period, 60)):
            sign_in(page, live_server)
            page.goto(f"{live_server}/returns/OPCT/042/{period}")
            notice = page.locator(".closed-notice")
            assert "This return is read-only for you." in notice.inner_text()
            assert "only the secretariat can accept figures now" in notice.inner_text()
            assert "Who to ask:" in notice.inner_text()
            assert page.locator("input.num").count() == 0
            assert page.get_by_role("button", name="Save draft").count() == 0
            no_sideways_scroll(page)
            shoot(page, screenshot_dir, "grid-day-closed")
    finally:
        context.close()


def test_on_a_phone_each_indicator_is_a_card_with_fingertip_targets(browser, live_server, screenshot_dir):
    period = future_quarter()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        with on(day_of(period, 8)):
            sign_in(page, live_server)
            page.goto(f"{live_server}/returns/OPCT/042/{period}")
            no_sideways_scroll(page)
            assert page.locator("table.entry thead").first.is_hidden()
            assert page.evaluate("getComputedStyle(document.querySelector('table.entry tr.figure-row')).display") == "block"
            small = page.evaluate("""() => Array.from(document.querySelectorAll(
                  '#grid-form input:not([type=hidden]), #grid-form button, #grid-form select, #grid-form textarea'))
                .filter(el => el.offsetParent !== null)
                .map(el => [el.name || el.textContent.trim(), el.getBoundingClientRect()])
                .filter(([, box]) => box.width < 24 || box.height < 24).map(([n]) => n)""")
            assert small == []
            page.locator('[name="v.SA02.value.F"]').fill("100")
            page.locator('[name="v.SA02.value.M"]').fill("80")
            assert page.locator('output[data-parts="SA02|value"]').inner_text() == "parts add up to 180"
            shoot(page, screenshot_dir, "grid-day-card")
            bar = page.locator(".action-bar").bounding_box()
            assert bar["y"] + bar["height"] <= PHONE["height"] + 1  # the sticky bar stays on screen
    finally:
        context.close()
