"""The public results page in real Chromium: no wider than a phone, the map and figures on screen and
in print, the language links. A database of its own: a published run can never be deleted."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, date, datetime

import pytest

from indicators.compile import Thresholds
from mel.app import create_app
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from mel.demo import load_demo
from mel.migrate import upgrade
from mel.reporting.models import ReportRun
from mel.reporting.snapshot import gather
from tests.helpers import fresh_database_url, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PUBLISHED = datetime(2025, 8, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def public_server(tmp_path_factory):
    """The base URL of a demo database with a published fact sheet of 2025Q2."""
    instance = tmp_path_factory.mktemp("public-instance")
    app = create_app("testing", DATABASE_URL=fresh_database_url(tmp_path_factory, "public"),
                     INSTANCE_DIR=str(instance), LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        session = db.session
        seed_catalogue(session)
        load_demo(session, as_of=date(2025, 10, 5), live=False)
        snapshot = gather(session, load_catalogue(session), kind="factsheet", period="2025Q2",
                          thresholds=Thresholds(), generated_at=PUBLISHED)
        raw = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
        pdf = b"%PDF-1.4\n% public page\n%%EOF\n"
        path = instance / "factsheet.pdf"
        path.write_bytes(pdf)
        session.add(ReportRun(kind="factsheet", period="2025Q2", title="Fact sheet", state="done", progress=100,
                              stage="done", file_path=str(path), file_size=len(pdf),
                              sha256=hashlib.sha256(pdf).hexdigest(), snapshot=gzip.compress(raw),
                              snapshot_sha256=hashlib.sha256(raw).hexdigest(), page_count=2,
                              requested_at=PUBLISHED, data_as_of=PUBLISHED, published_at=PUBLISHED))
        session.commit()
        session.close()
    with serving(app) as base:
        yield base
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_the_public_page_fits_the_screen_and_prints_the_figures_and_map(browser, public_server, screenshot_dir,
                                                                       width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        for language in ("en", "sw"):
            answer = page.goto(f"{public_server}/public?lang={language}")
            assert answer.status == 200 and not context.cookies()  # no session for a visitor
            assert page.evaluate("document.documentElement.scrollWidth") <= width, language
            assert page.locator(".kf").count() == 6 and page.locator("svg.county-map").is_visible()
            assert page.locator("svg.county-map").bounding_box()["width"] <= width
            page.screenshot(path=str(screenshot_dir / f"public-{width}-{language}.png"), full_page=True)
        assert page.get_by_role("link", name="English").get_attribute("aria-current") is None
        page.get_by_role("link", name="English").click()
        assert page.locator("html").get_attribute("lang") == "en"
        page.emulate_media(media="print")
        assert not page.locator("nav.langs").is_visible() and not page.locator("a.signin").is_visible()
        assert page.locator("svg.county-map").is_visible() and page.locator(".kf").first.is_visible()
        page.screenshot(path=str(screenshot_dir / f"public-{width}-print.png"), full_page=True)
    finally:
        context.close()
