"""The officer's grid page weighs under 150 KB (HTML + CSS + JS, as decoded by Chromium) and loads
nothing from anywhere but the server itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mel.catalogue.models import OrgUnit, Programme
from mel.db import db
from mel.demo import DEMO_PASSWORD
from mel.returns.models import Return

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIMIT = 150 * 1024
COUNTED = ("document", "stylesheet", "script")


def officer_grid(app) -> str:
    """The Kisumu officer's latest OPCT return: the grid an officer opens most."""
    with app.app_context():
        period = db.session.scalar(
            select(Return.period).join(Programme, Programme.id == Return.programme_id)
            .join(OrgUnit, OrgUnit.id == Return.org_unit_id)
            .where(Programme.code == "OPCT", OrgUnit.code == "042").order_by(Return.period.desc()).limit(1))
    assert period, "the demo has no OPCT return for Kisumu"
    return f"/returns/OPCT/042/{period}"


def test_the_grid_weighs_under_150_kb_and_loads_nothing_from_elsewhere(browser, live_server, app):
    signing_in = browser.new_context()
    try:
        page = signing_in.new_page()
        page.goto(f"{live_server}/login")
        page.fill("#email", "officer.kisumu@demo.test")
        page.fill("#password", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        signed_in = signing_in.storage_state()
    finally:
        signing_in.close()
    # A fresh context with the session cookie only: an empty cache, so every asset is fetched and counted.
    context = browser.new_context(storage_state=signed_in, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        requested: list[str] = []
        responses = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("response", lambda response: responses.append(response))
        path = officer_grid(app)
        answer = page.goto(f"{live_server}{path}")
        assert answer.status == 200, path
        page.wait_for_load_state("networkidle")
        assets = page.evaluate("document.querySelectorAll('link[rel=stylesheet][href], script[src]').length")
        weights = {response.url: len(response.body()) for response in responses
                   if response.request.resource_type in COUNTED and response.status == 200}
    finally:
        context.close()

    assert len(weights) == 1 + assets, f"the page names {assets} stylesheets and scripts; fetched {sorted(weights)}"
    total = sum(weights.values())
    print(f"\n{path}: {total / 1024:.1f} KB over {len(weights)} responses (HTML + CSS + JS, decoded)")
    for url, size in sorted(weights.items(), key=lambda item: -item[1]):
        print(f"  {size / 1024:7.1f} KB  {urlsplit(url).path}")
    assert total < LIMIT, f"the grid weighs {total / 1024:.1f} KB, over the 150 KB budget: {weights}"

    own = urlsplit(live_server).netloc
    elsewhere = [url for url in requested if urlsplit(url).scheme not in ("data", "blob")
                 and (urlsplit(url).netloc != own or urlsplit(url).hostname != "127.0.0.1")]
    assert requested and not elsewhere, f"requests beyond {own}: {elsewhere}"
