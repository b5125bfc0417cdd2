"""The five journeys of issue 16, in Chromium at 1280×800 and 390×844, against the app served on
127.0.0.1 with a fresh database holding the demo as of today (the real date: the served app's clock
is never moved). Each step asserts what the person sees, that the screen is no wider than the
window and that Sign out is within reach, and keeps a full-page screenshot named
journey-<role>-<width>-<step>-<screen>.png in the screenshot folder (MEL_SCREENSHOT_DIR in CI).

The journeys share one server and stay independent: `cast` hands each journey and screen size its
own returns, plans and report quarters, picked from the demo before any journey runs. The viewer's
check of unapproved figures is computed from the database when it runs, so it holds whatever the
other journeys did before it.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import openpyxl
import pypdf
import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from indicators.periods import parse_period
from mel import clock
from mel.app import create_app
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import OrgUnit, Programme
from mel.catalogue.operations import seed_catalogue
from mel.db import db, make_engine
from mel.demo import load_demo
from mel.migrate import upgrade
from mel.plans.models import Pmp
from mel.reporting.models import ReportRun
from mel.returns.models import DataValue, Return, ValueFlag
from mel.review.models import ValueQuery
from tests.app.returns_helpers import rows_like
from tests.browser.journey_helpers import VIEWPORTS, Journey, figure_texts
from tests.helpers import PG_URL, field_name, reset_postgres_database, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = list(VIEWPORTS)  # "1280", "390"


# --------------------------------------------------------------------------- the server


@dataclass
class Served:
    base: str
    app: Flask
    as_of: date

    @property
    def quarter(self) -> str:
        """The quarter officers report on today."""
        return clock.reporting_quarter(self.as_of).id


def _journeys_database(tmp_path_factory) -> tuple[str, str | None]:
    """A new empty database: SQLite in tmp, or `<MEL_TEST_DATABASE_URL's db>_journeys` on PostgreSQL."""
    if PG_URL and PG_URL.startswith("postgresql"):
        url = make_url(PG_URL)
        fresh = url.set(database=f"{url.database}_journeys").render_as_string(hide_password=False)
        reset_postgres_database(fresh)
        return fresh, fresh
    return f"sqlite:///{tmp_path_factory.mktemp('journeys') / 'mel.sqlite3'}", None


def _drop_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def journey_server(tmp_path_factory):
    """The app on 127.0.0.1 over a fresh database with the demo as people find it today."""
    url, postgres = _journeys_database(tmp_path_factory)
    # Reports render in a thread of the served process: no worker is needed and pages poll progress.
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("journeys-instance")),
                     LOG_LEVEL="WARNING", REPORT_EXECUTOR="thread")
    today = clock.today(config=app.config)
    with app.app_context():
        upgrade(db.engine)
        seed_catalogue(db.session)
        load_demo(db.session, as_of=today)
        db.session.commit()
    try:
        with serving(app) as base:
            yield Served(base, app, today)
    finally:
        with app.app_context():
            db.engine.dispose()
        if postgres:
            _drop_postgres_database(postgres)


def _context(browser, size: str):
    return browser.new_context(viewport=VIEWPORTS[size], accept_downloads=True)


# --------------------------------------------------------------------------- who uses what


@dataclass
class Cast:
    """The returns, plans and quarters each journey works on, one set per screen size."""

    grid_units: dict[str, str]  # OPCT county the officer fills in the grid
    excel_units: dict[str, str]  # OPCT county the officer fills offline in Excel
    review_units: dict[str, str]  # submitted OPCT return the reviewer queries then approves
    plan_scopes: dict[str, str]  # PMP the secretariat starts for next year
    report_quarters: dict[str, str]  # quarter of the sector report the secretariat publishes


def _returns_of(session, programme: str, period: str) -> dict[str, Return]:
    rows = session.execute(select(OrgUnit.code, Return).join(Return, Return.org_unit_id == OrgUnit.id)
                           .join(Programme, Programme.id == Return.programme_id)
                           .where(Programme.code == programme, Return.period == period))
    return {code: record for code, record in rows}


@pytest.fixture(scope="module")
def cast(journey_server) -> Cast:
    return pick_cast(journey_server)


def pick_cast(served: Served) -> Cast:
    """Distinct returns, plans and quarters for every journey and screen size, from the demo."""
    with served.app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        units = sorted(catalogue.form_org_units(catalogue.programmes["OPCT"].id, served.quarter) - {"KE"})
        records = _returns_of(session, "OPCT", served.quarter)
        not_started = [u for u in units if u not in records]
        open_queries = set(session.scalars(select(ValueQuery.return_id).where(ValueQuery.status != "closed")))
        submitted = [u for u in units if u in records and records[u].state == "submitted"
                     and records[u].id not in open_queries]
        taken_plans = {p.scope for p in session.scalars(select(Pmp).where(Pmp.fiscal_year == _next_fy(served)))}
    assert len(not_started) >= 4, f"the demo leaves {len(not_started)} OPCT returns not started; the journeys need 4"
    assert len(submitted) >= 2, f"the demo has {len(submitted)} submitted OPCT returns without a query; need 2"
    assert not {"SECTOR", "OPCT"} & taken_plans, "next year's plans exist already in the demo"
    reporting = parse_period(served.quarter)
    return Cast(grid_units=dict(zip(SIZES, not_started[:2], strict=True)),
                excel_units=dict(zip(SIZES, not_started[2:4], strict=True)),
                review_units=dict(zip(SIZES, submitted[:2], strict=True)),
                plan_scopes={"1280": "SECTOR", "390": "OPCT"},
                report_quarters={"1280": reporting.shift(-2).id, "390": reporting.shift(-3).id})


def _next_fy(served: Served) -> str:
    return parse_period(served.quarter).financial_year().shift(1).id


def _stored(app: Flask, programme: str, unit: str, period: str) -> tuple[Return | None, dict[str, Decimal]]:
    """A return and its figures by grid field name, as the database holds them now."""
    with app.app_context():
        session = db.session
        record = _returns_of(session, programme, period).get(unit)
        values: dict[str, Decimal] = {}
        if record is not None:
            catalogue = load_catalogue(session)
            for value in session.scalars(select(DataValue).where(DataValue.return_id == record.id)):
                code = catalogue.indicator_codes[value.indicator_id]
                option = catalogue.combo_codes[value.option_combo_id]
                values[f"v.{code}.{value.component}.{option}"] = value.value
            session.expunge(record)
        return record, values


def _typed_figures(app: Flask, unit: str, period: str) -> dict[str, str]:
    """What the officer types: last quarter's figures grown by 1%, by grid field name."""
    previous = parse_period(period).previous().id
    with app.app_context():
        rows = rows_like(db.session, "OPCT", [unit], source=previous, period=period, factor=1.01)
    return {field_name(r["indicator"], r["option"]): r["value"] for r in rows.to_dict("records")}


def _same(stored: Decimal | None, typed: str) -> bool:
    return stored is not None and stored == Decimal(typed)


# --------------------------------------------------------------------------- 1. the officer, in the grid


def officer_in_the_grid(browser, served: Served, size: str, unit: str, screenshot_dir) -> None:
    context = _context(browser, size)
    try:
        journey = Journey(context, served.base, "officer", screenshot_dir)
        page = journey.page
        journey.sign_in("officer.opct@demo.test")
        label = parse_period(served.quarter).label
        assert "Reporting now" in journey.text() and label in journey.text()
        with served.app.app_context():
            name = load_catalogue(db.session).org_units[unit].name
        row = page.locator("tr", has=page.get_by_role("link", name=name, exact=True))
        assert "Not started" in row.inner_text()
        journey.shoot("home")

        # Open the current return.
        row.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"**/returns/OPCT/{unit}/{served.quarter}")
        assert name in page.locator("h1").inner_text() and "not started" in page.locator(".return-head").inner_text()
        assert "due in" in page.locator(".return-head .window").inner_text()  # the window is open today
        card_layout = page.evaluate("getComputedStyle(document.querySelector('table.entry tr.figure-row')).display")
        assert card_layout == ("block" if size == "390" else "table-row")  # a phone shows one card per indicator
        journey.shoot("return-opened")

        # Fill the grid by keyboard: Enter moves from figure to figure.
        typed = _typed_figures(served.app, unit, served.quarter)
        jumped = "v.SA15.value.default"
        typed[jumped] = str(int(typed[jumped]) * 3)  # a payroll clean-up: exits far above their history
        figures = page.locator("#grid-form input.num")
        names = figures.evaluate_all("els => els.map(e => e.name)")
        assert set(typed) <= set(names), set(typed) - set(names)
        figures.first.focus()
        bad = "v.SA14.value.F_A70P"
        for field in names:
            assert page.evaluate("document.activeElement.name") == field  # Enter moved here
            if field == bad:
                page.keyboard.type(f"{int(typed[field]) + 1000:,}")  # as a spreadsheet would print it
            else:
                page.keyboard.type(typed.get(field, ""))
            page.keyboard.press("Enter")
            if field == bad:
                error = page.locator(f"#err-{bad.replace('.', '-')}")
                assert "has a thousands separator, which is read as text" in error.inner_text(), error.all_inner_texts()
                assert page.locator(f'[name="{bad}"]').get_attribute("aria-invalid") == "true"
                journey.shoot("inline-error")
                # Fix it: back to the figure, type it without the separator.
                page.keyboard.press("Shift+Enter")
                page.keyboard.press("Control+a")
                page.keyboard.type(typed[bad])
                page.keyboard.press("Enter")
                assert error.count() == 0 and page.locator(f'[name="{bad}"]').get_attribute("aria-invalid") is None
        page.fill("#narrative", "Two payment cycles paid; the June enrolment reached the payroll.")
        journey.shoot("grid-filled")

        # Save the draft: the payroll's jump draws a warning to explain.
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_load_state()
        journey.expect_flash("Saved:")
        flags = page.locator("#grid-form .flag-item.open")
        assert flags.count() >= 1 and all("(SA15)" in t for t in flags.all_inner_texts())
        assert f"({flags.count()} of {flags.count()} open)" in page.locator("#warnings h2").inner_text()
        journey.shoot("warning")
        for index in range(flags.count()):
            flag = flags.nth(index)
            flag.locator("select").select_option(index=1)
            flag.locator("textarea").fill("Payroll clean-up: 1,250 deceased beneficiaries removed after the IPRS check.")
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_load_state()
        journey.expect_flash("saved.")
        assert re.search(r"\(0 of \d+ open\)", page.locator("#warnings h2").inner_text())
        with served.app.app_context():
            record = _returns_of(db.session, "OPCT", served.quarter)[unit]
            explained = db.session.scalars(select(ValueFlag.explanation).where(ValueFlag.return_id == record.id)).all()
        assert explained and all("1,250 deceased" in (e or "") for e in explained)
        journey.shoot("warning-explained")

        # Reload: nothing lost.
        page.reload()
        for field, value in typed.items():
            assert float(page.locator(f'[name="{field}"]').input_value()) == float(value), field
        assert "1,250 deceased beneficiaries" in page.locator(".flag-item textarea").first.input_value()
        assert page.locator("#draft-notice").is_hidden()
        record, stored = _stored(served.app, "OPCT", unit, served.quarter)
        assert record is not None and record.state == "draft"
        assert all(_same(stored.get(f), v) for f, v in typed.items()), "the database lacks a typed figure"
        journey.shoot("reloaded")

        # The connection drops mid-edit, and comes back: nothing lost.
        exits = "v.SA14.value.M_A70P"
        typed[exits] = str(int(typed[exits]) + 7)
        context.set_offline(True)
        notice = page.locator("#draft-notice")
        page.locator(f'[name="{exits}"]').fill(typed[exits])
        page.fill("#narrative", "Typed on the road to Kondele; the connection dropped.")
        page.get_by_role("button", name="Save draft").click()
        assert "You are offline, so nothing was sent" in notice.inner_text()
        assert page.locator(f'[name="{exits}"]').input_value() == typed[exits]
        journey.shoot("offline")
        context.set_offline(False)
        page.wait_for_function("navigator.onLine")
        assert "The connection is back" in notice.inner_text()
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_load_state()
        journey.expect_flash("Saved:")
        assert page.locator(f'[name="{exits}"]').input_value() == typed[exits]
        assert page.locator("#narrative").input_value() == "Typed on the road to Kondele; the connection dropped."
        record, stored = _stored(served.app, "OPCT", unit, served.quarter)
        assert _same(stored.get(exits), typed[exits]) and record.narrative.startswith("Typed on the road")
        journey.shoot("back-online")

        # Submit.
        page.get_by_role("button", name="Save and submit").click()
        page.wait_for_load_state()
        journey.expect_flash("Submitted to the MERL TWG for review.")
        assert "Submitted" in page.locator(".return-head").inner_text()
        record, stored = _stored(served.app, "OPCT", unit, served.quarter)
        assert record.state == "submitted" and all(_same(stored.get(f), v) for f, v in typed.items())
        journey.shoot("submitted")
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_officer_fills_the_grid_by_keyboard_and_submits(browser, journey_server, cast, size, screenshot_dir):
    officer_in_the_grid(browser, journey_server, size, cast.grid_units[size], screenshot_dir)


# --------------------------------------------------------------------------- 2. the officer, offline in Excel


def _fill_template(data: bytes, typed: dict[str, str], bad: str, bad_text: str) -> tuple[bytes, str]:
    """The downloaded template with the officer's figures typed into its value column, one of them
    mistyped; returns the file and the address of the mistyped cell (I43)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Data"]
    header = [cell.value for cell in sheet[1]]
    column = {name: header.index(name) + 1 for name in ("indicator", "option", "value")}
    bad_row = 0
    for row in range(2, sheet.max_row + 1):
        code, option = sheet.cell(row, column["indicator"]).value, sheet.cell(row, column["option"]).value
        if not code:
            continue
        field = field_name(code, option)
        if field == bad:
            sheet.cell(row, column["value"]).value, bad_row = bad_text, row
        elif field in typed:
            sheet.cell(row, column["value"]).value = float(typed[field]) if "." in typed[field] else int(typed[field])
    assert bad_row, f"{bad} is not in the template"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), sheet.cell(bad_row, column["value"]).coordinate


def _upload(journey: Journey, name: str, data: bytes) -> None:
    page = journey.page
    page.get_by_role("link", name="Upload a filled template").click()
    page.wait_for_url("**/upload")
    page.set_input_files("#file", files=[{"name": name, "mimeType": "application/vnd.openxmlformats-officedocument"
                                           ".spreadsheetml.sheet", "buffer": data}])
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()


def officer_offline_in_excel(browser, served: Served, size: str, unit: str, screenshot_dir) -> None:
    context = _context(browser, size)
    try:
        journey = Journey(context, served.base, "officer-excel", screenshot_dir)
        page = journey.page
        journey.sign_in("officer.opct@demo.test")
        journey.go(f"/returns/OPCT/{unit}/{served.quarter}")
        journey.shoot("return-opened")
        with page.expect_download() as waiting:
            page.get_by_role("link", name="Download as Excel").click()
        download = waiting.value
        assert download.suggested_filename == f"OPCT_{unit}_{served.quarter}.xlsx"
        template = download.path().read_bytes()

        # Filled offline, with one figure typed as words.
        typed = _typed_figures(served.app, unit, served.quarter)
        bad = "v.SA14.value.M_A70P"
        filled, bad_cell = _fill_template(template, typed, bad, "ninety")
        _upload(journey, download.suggested_filename, filled)
        alert = page.get_by_role("alert").inner_text()
        assert "nothing was stored: 1 problem" in alert, alert
        assert f"Data!{bad_cell} " in alert and "'ninety' is not a number" in alert and "men 70+" in alert, alert
        record, _ = _stored(served.app, "OPCT", unit, served.quarter)
        assert record is None, "a refused file stored a return"
        journey.shoot("located-error")

        # Fixed in the workbook, uploaded again.
        fixed, _ = _fill_template(template, typed, bad, typed[bad])
        page.goto(f"{served.base}/returns/OPCT/{unit}/{served.quarter}")
        _upload(journey, download.suggested_filename, fixed)
        assert page.get_by_role("alert").count() == 0 or "Nothing" not in page.get_by_role("alert").inner_text()
        stored_line = page.locator("table tbody tr", has_text=parse_period(served.quarter).short_label)
        assert stored_line.count() == 1 and int(stored_line.locator("td").nth(1).inner_text()) == len(typed)
        record, stored = _stored(served.app, "OPCT", unit, served.quarter)
        assert record is not None and all(_same(stored.get(f), v) for f, v in typed.items())
        journey.shoot("uploaded")

        # Submit from the return page, explaining any warning first.
        stored_line.get_by_role("link").click()
        page.wait_for_url(f"**/returns/OPCT/{unit}/{served.quarter}")
        flags = page.locator("#grid-form .flag-item.open")
        for index in range(flags.count()):
            flags.nth(index).locator("select").select_option(index=1)
            flags.nth(index).locator("textarea").fill("Checked against the MIS payroll extract of 2 October.")
        page.fill("#narrative", "Filled offline in the Excel template and uploaded.")
        journey.shoot("before-submit")
        page.get_by_role("button", name="Save and submit").click()
        page.wait_for_load_state()
        journey.expect_flash("Submitted to the MERL TWG for review.")
        record, _ = _stored(served.app, "OPCT", unit, served.quarter)
        assert record.state == "submitted"
        journey.shoot("submitted")
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_officer_fills_the_excel_template_offline_and_submits(browser, journey_server, cast, size, screenshot_dir):
    officer_offline_in_excel(browser, journey_server, size, cast.excel_units[size], screenshot_dir)


# --------------------------------------------------------------------------- 3. the reviewer


def reviewer_queries_then_approves(browser, served: Served, size: str, unit: str, screenshot_dir) -> None:
    reviewer_context, officer_context = _context(browser, size), _context(browser, size)
    try:
        reviewer = Journey(reviewer_context, served.base, "reviewer", screenshot_dir)
        page = reviewer.page
        reviewer.sign_in("reviewer@demo.test")
        reviewer.go("/review/")
        assert parse_period(served.quarter).label in page.locator("h1").inner_text()
        page.select_option("#programme", "OPCT")
        page.select_option("#state", "submitted")
        page.get_by_role("button", name="Show").click()
        page.wait_for_load_state()
        with served.app.app_context():
            name = load_catalogue(db.session).org_units[unit].name
        row = page.locator("table.queue tbody tr", has=page.get_by_role("link", name=name, exact=True))
        assert "Submitted" in row.inner_text()
        reviewer.shoot("queue")

        row.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"**/review/OPCT/{unit}/{served.quarter}**")
        review_url = page.url
        assert name in page.locator("h1").inner_text()
        reviewer.shoot("return")

        # A query on one figure: the payroll's women.
        record, stored = _stored(served.app, "OPCT", unit, served.quarter)
        figure = "v.SA02.value.F"
        question = "Women on the payroll moved; is this the final payroll extract?"
        line = page.locator("table.review tbody tr", has=page.get_by_role("link", name="SA02", exact=True))
        line.locator("summary", has_text="Ask about a figure").click()
        line.get_by_label("Figure").select_option("SA02")
        line.get_by_label("Disaggregation").select_option("F")
        line.get_by_label("Question").fill(question)
        line.get_by_role("button", name="Ask").click()
        page.wait_for_load_state()
        reviewer.expect_flash("Query sent to the officer.")
        thread = page.locator(".thread", has_text=question)
        assert "open" in thread.inner_text()
        reviewer.shoot("query-raised")

        # The officer answers and corrects the figure.
        officer = Journey(officer_context, served.base, "reviewer-officer", screenshot_dir)
        officer.sign_in("officer.opct@demo.test")
        officer.go(f"/returns/OPCT/{unit}/{served.quarter}")
        asked = officer.page.locator(".thread.open", has_text=question)
        assert "SA02" in asked.inner_text()
        officer.shoot("query-received")
        corrected = int(stored[figure]) - 25
        asked.get_by_label("Your answer").fill("The final extract removed 25 women who died before the payment; corrected.")
        asked.get_by_label("Corrected figure (optional)").fill(str(corrected))
        asked.get_by_role("button", name="Send the answer").click()
        officer.page.wait_for_load_state()
        officer.expect_flash("Answer sent to the reviewers.")
        _, stored = _stored(served.app, "OPCT", unit, served.quarter)
        assert stored[figure] == corrected
        officer.shoot("query-answered")

        # The reviewer sees the answer and the corrected figure, approves and moves on.
        page.goto(review_url)
        thread = page.locator(".thread", has_text=question)
        assert "answered" in thread.inner_text() and "25 women who died" in thread.inner_text()
        reviewer.shoot("answer-seen")
        page.get_by_role("button", name="Approve and open the next").click()
        page.wait_for_load_state()
        reviewer.expect_flash("Approved: the return is locked.")
        assert f"/review/OPCT/{unit}/" not in page.url and "/review/" in page.url
        assert "Submitted" in page.locator("main").inner_text()  # the next return waits for a decision
        record, stored = _stored(served.app, "OPCT", unit, served.quarter)
        assert record.state == "approved" and stored[figure] == corrected
        with served.app.app_context():
            statuses = db.session.scalars(select(ValueQuery.status).where(ValueQuery.return_id == record.id)).all()
        assert statuses and set(statuses) == {"closed"}
        reviewer.shoot("next-return")
    finally:
        reviewer_context.close()
        officer_context.close()


@pytest.mark.parametrize("size", SIZES)
def test_reviewer_queries_a_figure_then_approves(browser, journey_server, cast, size, screenshot_dir):
    reviewer_queries_then_approves(browser, journey_server, size, cast.review_units[size], screenshot_dir)


# --------------------------------------------------------------------------- 4. the secretariat

PUBLISH_WAIT_S = 900  # a sector report renders in about 20 s on a quiet machine; a busy CI runner is far slower


def _wait_for_stage(journey: Journey, wanted: str, seconds: int = PUBLISH_WAIT_S) -> None:
    """Poll the run page (as a person pressing Refresh would) until its status line says `wanted`."""
    page = journey.page
    stage = page.locator("#stage")
    deadline = time.monotonic() + seconds
    while wanted not in stage.inner_text():
        assert "could not be generated" not in stage.inner_text(), page.locator("#run").inner_text()
        assert page.locator("#publish-error").count() == 0, page.locator("#publish-error").inner_text()
        assert time.monotonic() < deadline, f"after {seconds} s the run page still says {stage.inner_text()!r}"
        page.wait_for_timeout(3000)
        try:
            page.reload()
        except PlaywrightError as exc:
            # The page's own script (report-progress.js) reloads it when the run changes state; a
            # refresh pressed at that moment is aborted by the browser, as a person's would be.
            if "ERR_ABORTED" not in str(exc):
                raise
            page.wait_for_load_state()


def secretariat_plans_and_publishes(browser, served: Served, size: str, scope: str, quarter: str,
                                    screenshot_dir) -> None:
    context, viewer_context = _context(browser, size), _context(browser, size)
    try:
        journey = Journey(context, served.base, "secretariat", screenshot_dir)
        page = journey.page
        journey.sign_in("secretariat@demo.test")
        journey.shoot("home")

        # Next year's performance monitoring plan, started in the interface from this year's.
        next_fy = _next_fy(served)
        journey.go("/plans/")
        page.select_option("#pmp-scope", scope)
        page.select_option("#pmp-year", next_fy)
        assert page.locator("input[name=from_previous]").is_checked()
        journey.shoot("plans")
        page.get_by_role("button", name="Start the plan").click()
        page.wait_for_url(f"**/plans/pmps/{scope}/{next_fy}/edit")
        journey.expect_flash("started from last year's indicators and baselines: set its targets and save.")
        version = int(re.search(r"Saving stores version (\d+)", journey.text()).group(1))
        target = page.locator('input.target[name^="t.SA11.KE."]').first  # payments on schedule, in %
        target.fill("97")
        page.fill("#reason", f"Targets agreed for {parse_period(next_fy).label}")
        journey.shoot("plan-targets")
        page.get_by_role("button", name="Save as a new version").click()
        page.wait_for_url(f"**/plans/pmps/{scope}/{next_fy}")
        journey.expect_flash(f"Stored as version {version}.")
        assert f"Targets agreed for {parse_period(next_fy).label}" in journey.text()
        with served.app.app_context():
            plan = db.session.scalar(select(Pmp).where(Pmp.scope == scope, Pmp.fiscal_year == next_fy))
            assert plan is not None and plan.current_version == version
        journey.shoot("plan-saved")

        # The sector report: generate, follow its progress, download, publish.
        journey.go("/reports/")
        page.select_option("#kind", "sector")
        page.select_option("#period", quarter)
        journey.shoot("reports")
        page.get_by_role("button", name="Generate").click()
        page.wait_for_url("**/reports/runs/*")
        run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        assert page.locator("progress#bar").count() == 1
        journey.shoot("generating")
        _wait_for_stage(journey, "Draft ready")
        pages = int(page.locator("#pages").inner_text())
        journey.shoot("draft-ready")
        with page.expect_download() as waiting:
            page.locator("#result").get_by_role("link", name="Download").click()
        pdf = pypdf.PdfReader(io.BytesIO(waiting.value.path().read_bytes()))
        assert len(pdf.pages) == pages and "DRAFT" in pdf.pages[0].extract_text()

        page.get_by_label("I have checked this draft").check()
        page.get_by_role("button", name="Publish (removes the DRAFT mark)").click()
        page.wait_for_load_state()
        journey.shoot("publishing")
        _wait_for_stage(journey, "Published")
        assert "it can no longer change" in page.locator("table.facts").inner_text()
        with served.app.app_context():
            run = db.session.get(ReportRun, run_id)
            assert run.published_at is not None and run.kind == "sector" and run.period == quarter
            title = run.title
        journey.shoot("published")

        # A viewer finds it listed among the published reports.
        viewer = Journey(viewer_context, served.base, "secretariat-viewer", screenshot_dir)
        viewer.sign_in("viewer@demo.test")
        viewer.go("/reports/")
        listed = viewer.page.locator("tbody tr", has=viewer.page.get_by_role("link", name=str(run_id), exact=True))
        assert title in listed.inner_text() and "Published" in listed.inner_text()
        viewer.shoot("viewer-sees-it")
    finally:
        context.close()
        viewer_context.close()


@pytest.mark.parametrize("size", SIZES)
def test_secretariat_starts_next_years_plan_and_publishes_the_sector_report(browser, journey_server, cast, size,
                                                                            screenshot_dir):
    secretariat_plans_and_publishes(browser, journey_server, size, cast.plan_scopes[size],
                                    cast.report_quarters[size], screenshot_dir)


# --------------------------------------------------------------------------- 5. the viewer

VIEWER_PAGES = ["/", "/dashboard/", "/dashboard/indicators/SA02", "/dashboard/indicators/SA15", "/programmes/OPCT",
                "/counties/042"]


def _unapproved_figures(app: Flask, quarter: str, count: int = 24) -> dict[str, set[str]]:
    """Texts of figures that exist only in the open quarter's returns nobody has approved yet
    (draft, submitted, returned): {what they are: the ways a page would print them}."""
    with app.app_context():
        session = db.session
        catalogue = load_catalogue(session)
        approved = set(session.scalars(select(DataValue.value).join(Return, Return.id == DataValue.return_id)
                                       .where(Return.state == "approved")))
        rows = session.execute(
            select(DataValue, Return.state).join(Return, Return.id == DataValue.return_id)
            .where(Return.period == quarter, Return.state != "approved", DataValue.value >= 10_000)
            .order_by(DataValue.value.desc()))
        candidates = [(value, state) for value, state in rows if value.value not in approved]
    assert len(candidates) >= count, f"only {len(candidates)} unapproved figures of {quarter} to look for"
    step = len(candidates) // count  # spread over large and small figures, every programme
    found: dict[str, set[str]] = {}
    for value, state in candidates[::step][:count]:
        what = (f"{catalogue.indicator_codes[value.indicator_id]} {value.component} "
                f"{catalogue.combo_codes[value.option_combo_id]} of a {state} return: {value.value}")
        texts = figure_texts(float(value.value), 2 if value.value != value.value.to_integral_value() else 0)
        if texts:
            found[what] = texts
    assert len(found) >= count // 2, found
    return found


def viewer_sees_approved_figures_only(browser, served: Served, size: str, screenshot_dir) -> None:
    from mel.reporting import operations as reporting

    with served.app.app_context():  # a run asked for and not rendered yet: a viewer must not find it
        from mel.accounts.operations import load_user

        queued = reporting.request_report(db.session, kind="county", period=served.quarter, org_unit="042",
                                          user=load_user(db.session, "secretariat@demo.test"))
        db.session.commit()
        unpublished = set(db.session.scalars(select(ReportRun.id).where(ReportRun.published_at.is_(None))))
        published = db.session.scalars(select(ReportRun).where(ReportRun.published_at.is_not(None))
                                       .order_by(ReportRun.id)).all()
        assert queued.id in unpublished and published, "the demo has no published report"
        first_published = (published[0].id, published[0].title)
    hidden = _unapproved_figures(served.app, served.quarter)
    context = _context(browser, size)
    try:
        journey = Journey(context, served.base, "viewer", screenshot_dir)
        page = journey.page
        journey.sign_in("viewer@demo.test")

        def no_unapproved_figure(where: str) -> None:
            shown = journey.text()
            leaks = {what: sorted(t for t in texts if t in shown) for what, texts in hidden.items()}
            leaks = {what: texts for what, texts in leaks.items() if texts}
            assert not leaks, f"{where} shows figures nobody approved: {leaks}"

        for path in VIEWER_PAGES:
            journey.go(path)
            no_unapproved_figure(path)
            journey.shoot(path.strip("/").replace("/", "-") or "home")

        journey.go("/reports/")
        links = set(page.locator("tbody a").all_inner_texts())
        assert str(first_published[0]) in links and first_published[1] in journey.text()
        assert not links & {str(i) for i in unpublished}, "a viewer sees unpublished report runs listed"
        no_unapproved_figure("/reports/")
        journey.shoot("reports")
        for run_id in unpublished:
            refused = page.request.get(f"{served.base}/reports/runs/{run_id}")
            assert refused.status in (403, 404), f"run {run_id} answered {refused.status} to a viewer"

        page.get_by_role("link", name=str(first_published[0]), exact=True).click()
        page.wait_for_url(f"**/reports/runs/{first_published[0]}")
        assert "Published" in page.locator("#stage").inner_text()
        assert page.locator("form.publish-form").count() == 0
        journey.shoot("report")
        page.get_by_role("link", name="Preview in the browser").click()
        page.wait_for_load_state()
        no_unapproved_figure("the published report")
        journey.shoot("report-preview", app_page=False)

        # Where unapproved figures live, a viewer is turned away.
        for path in (f"/returns/OPCT/{unit}/{served.quarter}" for unit in ("001", "042")):
            assert page.request.get(f"{served.base}{path}").status == 403, path
        assert page.request.get(f"{served.base}/review/").status == 403
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_viewer_sees_dashboards_and_published_reports_only(browser, journey_server, size, screenshot_dir):
    viewer_sees_approved_figures_only(browser, journey_server, size, screenshot_dir)
