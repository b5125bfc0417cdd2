"""axe-core (vendored, WCAG 2.2 AA rules) on every main page of each role, at a laptop's and a
phone's size: no serious or critical violation. And the grid's error summary after a refused save,
with and without JavaScript: it takes focus and each problem links to its figure's field.

The summary per page and size (counts by impact) is printed and written to
`accessibility-<size>.json` in the screenshot directory (MEL_SCREENSHOT_DIR).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from mel import clock
from mel.db import db
from mel.demo import DEMO_PASSWORD
from mel.reporting import operations as report_ops
from mel.reporting.models import ReportRun
from mel.returns.models import EDITABLE_STATES, Return

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")
IMPACTS = ("critical", "serious", "moderate", "minor")
SIZES = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
OFFICER = "officer.kisumu@demo.test"  # OPCT and county-funded schemes in Kisumu (042)


@dataclass
class Finding:
    page: str
    size: str
    counts: Counter = field(default_factory=Counter)
    blocking: list[str] = field(default_factory=list)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def audit(page, label: str, size: str) -> Finding:
    """Run axe on the loaded page; the finding counts every violation, and words the blocking ones."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS)
    finding = Finding(label, size)
    for violation in result["violations"]:
        impact = violation.get("impact") or "minor"
        finding.counts[impact] += len(violation["nodes"])
        if impact in BLOCKING:
            targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:6])
            more = len(violation["nodes"]) - 6
            finding.blocking.append(
                f"{label} at {size}: {violation['id']} ({impact}) on {targets}{f' and {more} more' if more > 0 else ''}"
                f": {violation['help']}")
    return finding


def _editable_first(app) -> list[str]:
    """The officer's grids to try, editable ones first: draft/returned/reopened returns of OPCT in Kisumu,
    the quarter being reported (not started, perhaps open), then the latest approved one."""
    from mel.catalogue.models import OrgUnit, Programme

    with app.app_context():
        rows = db.session.execute(
            select(Return.period, Return.state).join(Programme, Programme.id == Return.programme_id)
            .join(OrgUnit, OrgUnit.id == Return.org_unit_id)
            .where(Programme.code == "OPCT", OrgUnit.code == "042").order_by(Return.period.desc())).all()
        reporting = clock.reporting_quarter(config=app.config).id
    editable = [period for period, state in rows if state in EDITABLE_STATES]
    approved = [period for period, state in rows if state == "approved"]
    periods = [*editable, *([reporting] if reporting not in {p for p, _ in rows} else []), *approved[:1]]
    return [f"/returns/OPCT/042/{period}" for period in dict.fromkeys(periods)]


def officer_grid(page, base: str, app) -> tuple[str, bool]:
    """The officer's grid to check, as the signed-in user may use it: an editable one if any exists
    today, else an approved one read-only."""
    candidates = _editable_first(app)
    for path in candidates:
        answer = page.goto(f"{base}{path}")
        if answer.status == 200 and page.get_by_role("button", name="Save draft").count():
            return path, True
    return candidates[-1], False


def under_review(app) -> str:
    """A submitted return's review page (else the latest approved one)."""
    from mel.catalogue.models import OrgUnit, Programme

    with app.app_context():
        for state in ("submitted", "approved"):
            row = db.session.execute(
                select(Programme.code, OrgUnit.code, Return.period).join(Programme, Programme.id == Return.programme_id)
                .join(OrgUnit, OrgUnit.id == Return.org_unit_id).where(Return.state == state)
                .order_by(Return.period.desc(), Programme.code, OrgUnit.code).limit(1)).first()
            if row:
                return "/review/{}/{}/{}".format(*row)
    raise AssertionError("the demo has no submitted or approved return to review")


@pytest.fixture(scope="module")
def report_run(app) -> int:
    """A finished report run: the demo's if it has one, else a county profile rendered here."""
    with app.app_context():
        found = db.session.scalar(select(ReportRun.id).where(ReportRun.state == "done")
                                  .order_by(ReportRun.id.desc()).limit(1))
        if found:
            return found
        period = db.session.scalar(select(Return.period).where(Return.state == "approved")
                                   .order_by(Return.period.desc()).limit(1))
        run = report_ops.request_report(db.session, kind="county", period=period, org_unit="042", trigger="cli")
        db.session.commit()
        report_ops.execute(db.session, run.id, app.config)
        return run.id


def first_link(page, base: str, listing: str, pattern: str) -> str:
    page.goto(f"{base}{listing}")
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))")
    found = [h for h in hrefs if re.fullmatch(pattern, h)]
    assert found, f"{listing} links to nothing like {pattern}"
    return found[0]


def pages_of(page, base: str, app, role: str, run_id: int) -> list[tuple[str, str]]:
    """(label, path) of the main pages a role works with; found at test time from what the demo holds."""
    if role == "officer":
        grid, editable = officer_grid(page, base, app)
        return [("officer home (return list)", "/"), (f"grid ({'editable' if editable else 'read-only'})", grid),
                ("upload", "/upload"), ("notifications", "/review/notifications"), ("account", "/account")]
    if role == "reviewer":
        review = under_review(app)
        period = review.rsplit("/", 1)[1]
        return [("reviewer home", "/"), ("review queue", f"/review/?period={period}"),
                ("a return under review", review), ("data quality", "/review/data-quality")]
    if role == "viewer":
        return [("viewer home", "/"), ("sector dashboard", "/dashboard/"), ("reports list", "/reports/")]
    pmp = first_link(page, base, "/plans/", r"/plans/pmps/[^/]+/[^/]+")
    workplan = first_link(page, base, "/plans/", r"/plans/workplans/[^/]+")
    return [
        ("secretariat home", "/"), ("sector dashboard", "/dashboard/"),
        ("indicator dashboard with its map", "/dashboard/indicators/SA02"),
        ("county dashboard", "/dashboard/?org_unit=042"), ("county page", "/counties/042"),
        ("plans (PMP list)", "/plans/"), ("a PMP", pmp), ("work plan", workplan),
        ("reports list", "/reports/"), ("a report run", f"/reports/runs/{run_id}"),
        ("results framework", "/results-framework"), ("indicator catalogue", "/indicators"),
        ("indicator sheet", "/indicators/SA02"), ("indicator editor", "/catalogue/indicators/SA02/edit"),
        ("indicator versions", "/catalogue/indicators/SA02/versions"), ("programmes", "/programmes"),
        ("new programme", "/catalogue/programmes/new"),
        ("a programme's form (indicators, org units, window)", "/catalogue/programmes/OPCT/form"),
        ("disaggregations", "/catalogue/disaggregations"),
        ("a disaggregation category (options, retire)", "/catalogue/disaggregations/categories/age_group"),
        ("a disaggregation set (combinations)", "/catalogue/disaggregations/sets/sex_age"),
        ("account (tokens)", "/account"), ("two-factor set-up", "/account/two-factor"),
        ("people", "/admin/users"), ("audit", "/admin/audit"), ("jobs", "/admin/jobs/"),
        ("not found (signed in)", "/no-such-page"),
    ]


@pytest.mark.parametrize("size", list(SIZES))
def test_no_serious_or_critical_axe_violation_on_the_main_pages(browser, live_server, app, screenshot_dir,
                                                                 report_run, size):
    findings: list[Finding] = []
    anonymous = browser.new_context(viewport=SIZES[size])
    try:
        page = anonymous.new_page()
        for label, path in [("sign-in", "/login"), ("forgot password", "/forgot-password"),
                            ("not found (signed out)", "/no-such-page")]:
            page.goto(f"{live_server}{path}")
            findings.append(audit(page, label, size))
    finally:
        anonymous.close()
    for role, email in [("officer", OFFICER), ("reviewer", "reviewer@demo.test"),
                        ("secretariat", "secretariat@demo.test"), ("viewer", "viewer@demo.test")]:
        context = browser.new_context(viewport=SIZES[size])
        try:
            page = context.new_page()
            sign_in(page, live_server, email)
            for label, path in pages_of(page, live_server, app, role, report_run):
                answer = page.goto(f"{live_server}{path}")
                expected = 404 if path == "/no-such-page" else 200
                assert answer.status == expected, f"{role} {path} answered {answer.status}"
                page.wait_for_load_state("networkidle")
                findings.append(audit(page, f"{role}: {label} ({path})", size))
        finally:
            context.close()

    summary = [{"page": f.page, "size": f.size, **{impact: f.counts.get(impact, 0) for impact in IMPACTS}}
               for f in findings]
    (screenshot_dir / f"accessibility-{size}.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"\naxe-core {TAGS} at {size} {SIZES[size]['width']}x{SIZES[size]['height']}: "
          f"{len(findings)} pages (critical/serious/moderate/minor nodes)")
    for row in summary:
        print(f"  {row['critical']}/{row['serious']}/{row['moderate']}/{row['minor']}  {row['page']}")
    blocking = [line for f in findings for line in f.blocking]
    assert not blocking, "\n".join(blocking)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_grid_error_summary_takes_focus_and_links_each_problem_to_its_field(browser, live_server, app,
                                                                                  screenshot_dir, javascript):
    context = browser.new_context(viewport=SIZES["desk"], java_script_enabled=javascript)
    try:
        page = context.new_page()
        sign_in(page, live_server, OFFICER)
        path, editable = officer_grid(page, live_server, app)
        if not editable:  # no window open for the officer today: the secretariat enters out of window
            context.clear_cookies()
            sign_in(page, live_server, "secretariat@demo.test")
            path, editable = officer_grid(page, live_server, app)
        assert editable, f"neither the officer nor the secretariat may edit any of {_editable_first(app)}"
        page.goto(f"{live_server}{path}")
        first = page.locator("input.num:not([readonly])").first
        field_name = first.get_attribute("name")
        first.fill("1,000")
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_load_state()

        summary = page.locator("#problems")
        assert "Nothing was saved" in summary.inner_text()
        assert page.evaluate("document.activeElement && document.activeElement.id") == "problems"
        links = summary.locator("a[href^='#']")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert f"#{field_name}" in hrefs, f"{hrefs} has no link to {field_name}"
        for href in hrefs:
            target = page.locator(f'[id="{href[1:]}"]')
            assert target.count() == 1 and target.evaluate("el => el.tagName") in ("INPUT", "TEXTAREA", "SELECT"), href
            assert target.get_attribute("aria-invalid") == "true", href
        summary.locator(f"a[href='#{field_name}']").click()
        assert page.evaluate("document.activeElement.id") == field_name
        page.screenshot(path=str(screenshot_dir / f"grid-error-summary-{'js' if javascript else 'no-js'}.png"))
        if javascript:  # the refused grid, as a screen reader user meets it
            finding = audit(page, f"grid after a refused save ({path})", "desk")
            assert not finding.blocking, "\n".join(finding.blocking)
    finally:
        context.close()
