"""Who may see and change what, proven for every route of the URL map × method × role.

One database is built for the module: OPCT returns of 2025Q3 in every state (draft, submitted
with an open query, returned, approved after a query) and a reopened 2025Q2 return, each with
its own marker figure, narrative, comment and query texts; a draft and a published report run;
work-plan progress. Every route is then asked by anonymous, each role, and officers outside the
object's scope (another org unit, another programme, another agency). Each answer must have the
expected status, and no response body (HTML, JSON, CSV, the XML inside an .xlsx, PDF bytes) may
carry a marker of something its reader may not see. Every request runs in a transaction rolled
back afterwards, so allowed writes really happen and the next request sees the same data.

A route missing from ROUTES fails `test_every_route_is_in_the_matrix`: classify it there.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import time
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.accounts.operations import create_token, load_user
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.plans import operations as plan_ops
from mel.plans.models import Activity, Pmp, WorkPlan
from mel.reporting.models import ReportRun
from mel.returns import operations as return_ops
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import Return
from mel.review import operations as review
from tests.app import (
    access_cases_dhis2_analytics,
    access_cases_dhis2_data,
    access_cases_dhis2_meta,
    access_cases_disaggregations,
    access_cases_forms,
    access_cases_handbook,
    access_cases_indicators,
    access_cases_learning,
    access_cases_meetings,
    access_cases_people,
    access_cases_programmes,
    access_cases_review_day,
    access_cases_rules,
    access_cases_story,
    access_cases_tools,
    access_cases_two_factor,
)
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import csrf_token, explain_all, flat_rows, login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROLES = {
    "anonymous": None,
    "secretariat": "secretariat@demo.test",
    "reviewer": "reviewer@demo.test",
    "officer": "officer.opct@demo.test",  # OPCT, every county; agency SDSPSCA
    "officer_unit": "officer.kisumu@demo.test",  # OPCT in Kisumu (042) only; no agency
    "officer_programme": "officer.hsnp@demo.test",  # HSNP: another programme; agency NDMA
    "viewer": "viewer@demo.test",
}
SIGNED_IN = [r for r in ROLES if r != "anonymous"]
OFFICERS = ("officer", "officer_unit", "officer_programme")

# The returns, by state: (programme, org unit, period, marker figure).
RETURNS = {
    "draft": ("OPCT", "001", "2025Q3", 7777771),
    "submitted": ("OPCT", "002", "2025Q3", 7777772),  # an open query on it: "queried"
    "returned": ("OPCT", "003", "2025Q3", 7777773),
    "approved": ("OPCT", "042", "2025Q3", 7777774),  # approved after a query was answered
    "reopened": ("OPCT", "042", "2025Q2", 7777775),  # the approved return's previous quarter
}
TIMES: dict[str, float] = {}  # seconds per request path, all roles (pytest -s prints the slowest)
DRAFT_RUN_MARK = "DRAFTRUNMARK5151"
PUBLISHED_RUN_MARK = "PUBLISHEDRUNMARK5252"


def reads_return(role: str, state: str) -> bool:
    """Whether the role may read the return in this state (the rule under test, written out)."""
    unit = RETURNS[state][1]
    return {"secretariat": True, "reviewer": True, "officer": True, "officer_unit": unit == "042",
            "officer_programme": False, "viewer": state == "approved", "anonymous": False}[role]


def writes_return(role: str, state: str) -> bool:
    """Whether the role may write figures of the return (its state aside)."""
    return role in ("secretariat", "officer") or (role == "officer_unit" and RETURNS[state][1] == "042")


def reads_queries(role: str, state: str) -> bool:
    return reads_return(role, state) and role != "viewer"


def markers(state: str) -> list[str]:
    """What identifies a return's content in any body: its figure (plain, with separators, and the
    sum of the two sexes) and its texts."""
    figure = RETURNS[state][3]
    return [str(figure), f"{figure:,}", str(2 * figure), f"{2 * figure:,}", f"NARRMARK-{state}",
            f"CMARK-{state}", f"QMARK-{state}", f"RMARK-{state}"]


def forbidden_markers(role: str) -> list[str]:
    """Markers the role must never get: of returns it may not read (an approved return's figures
    excepted: the dashboards show approved figures to everyone signed in), of query threads it may
    not read, of draft report runs."""
    found = [m for state in RETURNS if not reads_return(role, state) for m in markers(state)
             if not (state == "approved" and role != "anonymous" and m[0].isdigit())]
    found += [f"QMARK-{state}" for state in RETURNS if reads_return(role, state) and not reads_queries(role, state)]
    if role not in ("secretariat", "reviewer"):
        found.append(DRAFT_RUN_MARK)
    if role == "anonymous":
        found.append(PUBLISHED_RUN_MARK)
    return found


# --------------------------------------------------------------------------- the database


def _with_markers(session, state: str):
    programme, unit, period, figure = RETURNS[state]
    rows = flat_rows(session, programme, unit, period, figure)
    rows.loc[rows.index[0], "comment"] = f"CMARK-{state}"
    return rows


def _store(session, user, state: str, now: datetime) -> Return:
    programme, unit, period, _ = RETURNS[state]
    result = ingest(session, user, Incoming(_with_markers(session, state), "api"), programme=programme, now=now)
    assert result.outcome == "stored", [e.message for e in result.errors]
    catalogue = load_catalogue(session)
    record = session.get(Return, result.returns[0].return_id)
    return_ops.save_narrative(session, user, catalogue, catalogue.programmes[programme], catalogue.org_units[unit],
                              period, f"NARRMARK-{state}", channel="api")
    explain_all(session, user, record)
    return record


def _build(session) -> dict:
    catalogue = load_catalogue(session)
    secretariat = load_user(session, "secretariat@demo.test")
    reviewer = load_user(session, "reviewer@demo.test")
    officer = load_user(session, "officer.opct@demo.test")
    now = IN_WINDOW
    # The approved demo quarter 2025Q2 of Kisumu, reopened, with an unapproved figure and narrative.
    _, unit, period, figure = RETURNS["reopened"]
    previous = session.scalar(select(Return).where(Return.period == period, Return.org_unit_id ==
                                                   catalogue.org_units[unit].id,
                                                   Return.programme_id == catalogue.programmes["OPCT"].id))
    review.reopen(session, catalogue, secretariat, previous, "RMARK-reopened", now=now)
    _store(session, secretariat, "reopened", now)
    with time_machine.travel(now, tick=False):
        draft = _store(session, officer, "draft", now)
        records = {"draft": draft}
        for state in ("submitted", "returned", "approved"):
            record = _store(session, officer, state, now)
            return_ops.submit(session, officer, record, now=now, catalogue=catalogue)
            records[state] = record
        queries = {}
        for state in ("submitted", "approved"):
            queries[state] = review.raise_query(session, catalogue, reviewer, records[state], "SA02", "F",
                                                f"QMARK-{state} question", now=now)
        review.answer_query(session, catalogue, officer, queries["approved"], "QMARK-approved answer", now=now)
        review.approve(session, catalogue, reviewer, records["approved"], now=now)
        review.return_to_officer(session, catalogue, reviewer, records["returned"], ["other"], "RMARK-returned",
                                 now=now)
    assert {s: r.state for s, r in records.items()} == {
        "draft": "draft", "submitted": "submitted", "returned": "returned", "approved": "approved"}
    # Report runs: a finished draft (TWG and secretariat only) and a published one (everyone signed in).
    runs = {}
    for name, mark, published in (("draft", DRAFT_RUN_MARK, None), ("published", PUBLISHED_RUN_MARK, now)):
        pdf = b"%PDF-1.4\n% " + mark.encode() + b"\n%%EOF\n"
        path = f"{session.info['instance']}/{name}.pdf"
        with open(path, "wb") as handle:
            handle.write(pdf)
        run = ReportRun(kind="county", period="2025Q2", programme="ALL", org_unit="042", title=f"{mark} report",
                        state="done", progress=100, stage="done", file_path=path, file_size=len(pdf),
                        sha256=hashlib.sha256(pdf).hexdigest(), requested_at=now, finished_at=now,
                        published_at=published, published_by_id=secretariat.id if published else None)
        session.add(run)
        session.flush()
        runs[name] = run.id
    plan = session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == "2024July"))
    activity = session.scalar(select(Activity).where(Activity.plan_id == plan.id, Activity.lead_agency == "SDSPSCA")
                              .order_by(Activity.code))
    plan_ops.record_progress(session, secretariat, activity, "2025Q1", status="on_track", percent_complete=40,
                             spend_to_date="1000", note="Progress note.")
    pmp = session.scalar(select(Pmp).where(Pmp.scope == "OPCT"))
    tokens = {role: create_token(session, email, name="matrix").token for role, email in ROLES.items() if email}
    return {"queries": {s: q.id for s, q in queries.items()}, "runs": runs, "activity": activity.code,
            "other_activity": session.scalar(select(Activity.code).where(
                Activity.plan_id == plan.id, Activity.lead_agency == "NDMA").order_by(Activity.code)),
            "pmp": (pmp.scope, pmp.fiscal_year), "tokens": tokens}


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    """Every object of the matrix on the suite's database, inside one transaction rolled back after
    the module; a signed-in client and an API token per role."""
    state = app.extensions["mel.db"]
    connection = state.engine.connect()
    outer = connection.begin()
    original = state.session_factory
    scene = Scene(app, connection, {}, {}, {}, "", "", ("", ""), {})
    db.use_session_factory(app, scene.session)
    patch = pytest.MonkeyPatch()
    # A report requested in the matrix is recorded, never rendered (its transaction is rolled back).
    patch.setattr("mel.reporting.executor.start", lambda app_, run_id: None)
    try:
        with app.app_context():
            session = db.session
            session.info["instance"] = str(tmp_path_factory.mktemp("matrix"))
            built = _build(session)
            session.commit()
        for name, value in built.items():
            setattr(scene, name, value)
        for role, email in ROLES.items():
            client = app.test_client()
            if email:
                assert login(client, email).status_code == 302
            scene.clients[role] = (client, csrf_token(client, "/login" if email is None else "/"))
        yield scene
    finally:
        patch.undo()
        db.use_session_factory(app, original)
        if scene.current is not None:
            scene.current.close()
        outer.rollback()
        connection.close()


@dataclass
class Scene:
    app: object
    connection: object
    clients: dict
    queries: dict
    runs: dict
    activity: str
    other_activity: str
    pmp: tuple
    tokens: dict
    current: Session | None = None

    def session(self) -> Session:
        """The session requests share (one per `rolled_back` block; one for the set-up)."""
        if self.current is None:
            self.current = Session(bind=self.connection, join_transaction_mode="create_savepoint",
                                   expire_on_commit=False)
            self.current._mel_shared = True
        return self.current


@contextmanager
def rolled_back(world: Scene):
    """Requests inside share one session whose work is rolled back at the end."""
    if world.current is not None:
        world.current.close()
        world.current = None
    savepoint = world.connection.begin_nested()
    try:
        yield
    finally:
        if world.current is not None:
            world.current.close()
            world.current = None
        savepoint.rollback()


# --------------------------------------------------------------------------- the matrix


@dataclass
class Case:
    """One request and the status each role must get (a set: any of them)."""

    method: str
    path: str
    expect: Callable[[str], set[int]]
    json: dict | None = None
    data: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    label: str = ""
    allows: tuple[str, ...] = ()  # markers this body may carry whoever asks (a published report is public)


OK = {200}
DENIED = {403}
HIDDEN = {404}
# A write the role may make, sent with content that may be refused (checked, not stored, or in
# conflict): any answer but a refusal of the person.
WRITE = {200, 201, 202, 302, 409, 422}
WEB_LOGIN = {302}  # to the sign-in page
API_LOGIN = {401}


def signed(ok: set[int] = OK, api: bool = False):
    return lambda role: (API_LOGIN if api else WEB_LOGIN) if role == "anonymous" else ok


def only(roles, ok: set[int] = OK, api: bool = False, otherwise: set[int] = DENIED):
    return lambda role: ((API_LOGIN if api else WEB_LOGIN) if role == "anonymous"
                         else ok if role in roles else otherwise)


def by(rule: Callable[[str], bool], ok: set[int] = OK, api: bool = False, otherwise: set[int] = DENIED):
    return lambda role: ((API_LOGIN if api else WEB_LOGIN) if role == "anonymous"
                         else ok if rule(role) else otherwise)


ADMIN = ("secretariat",)
REVIEWERS = ("secretariat", "reviewer")
ENTERING = ("secretariat", "officer", "officer_unit", "officer_programme")
PROGRESS = ("secretariat", "officer")  # the activity is led by SDSPSCA, officer.opct's agency
ANSWER = {"text": "Answer."}


def _return_cases(s: Scene, endpoint: str) -> list[Case]:
    cases = []
    for state, (programme, unit, period, _) in RETURNS.items():
        address = f"{programme}/{unit}/{period}"
        editable = state in ("draft", "returned", "reopened")
        reads = (lambda st: lambda role: reads_return(role, st))(state)
        writes = (lambda st, ed: lambda role: writes_return(role, st) and ed)(state, editable)
        queries = (lambda st: lambda role: reads_queries(role, st))(state)
        label = state
        if endpoint == "returns.return_page":
            cases.append(Case("GET", f"/returns/{address}", by(reads), label=label))
        elif endpoint == "returns.return_template":
            cases.append(Case("GET", f"/returns/{address}/template.xlsx", by(reads), label=label))
        elif endpoint == "returns.save_return":
            cases.append(Case("POST", f"/returns/{address}", by(writes, WRITE),
                              data={"action": "check", "narrative": "Checked."}, label=label))
        elif endpoint == "returns_api.ReturnItem":
            cases.append(Case("GET", f"/api/v1/returns/{address}", by(reads, api=True), label=label))
            cases.append(Case("PUT", f"/api/v1/returns/{address}",
                              by((lambda st: lambda role: writes_return(role, st))(state), WRITE, api=True),
                              json={"version": 1, "dry_run": True, "values": [
                                  {"indicator": "SA02", "option": "F", "value": 5}]}, label=label))
        elif endpoint == "returns_api.ReturnSubmit":
            cases.append(Case("POST", f"/api/v1/returns/{address}/submit",
                              by((lambda st: lambda role: writes_return(role, st))(state), WRITE, api=True),
                              label=label))
        elif endpoint == "review.review_return":
            cases.append(Case("GET", f"/review/{address}", only(REVIEWERS), label=label))
            cases.append(Case("POST", f"/review/{address}", only(REVIEWERS, WRITE), data={"action": "none"},
                              label=label))
        elif endpoint == "review_api.Approve":
            cases.append(Case("POST", f"/api/v1/returns/{address}/approve", only(REVIEWERS, WRITE, api=True),
                              label=label))
        elif endpoint == "review_api.ReturnToOfficer":
            cases.append(Case("POST", f"/api/v1/returns/{address}/return", only(REVIEWERS, WRITE, api=True),
                              json={"reasons": ["other"], "text": "Again."}, label=label))
        elif endpoint == "review_api.Reopen":
            cases.append(Case("POST", f"/api/v1/returns/{address}/reopen", only(ADMIN, WRITE, api=True),
                              json={"reason": "Again."}, label=label))
        elif endpoint == "review_api.Queries":
            cases.append(Case("GET", f"/api/v1/returns/{address}/queries", by(queries, api=True), label=label))
            cases.append(Case("POST", f"/api/v1/returns/{address}/queries", only(REVIEWERS, WRITE, api=True),
                              json={"indicator": "SA02", "option": "M", "text": "Why?"}, label=label))
    return cases


def _query_cases(s: Scene, endpoint: str) -> list[Case]:
    cases = []
    for state, query_id in s.queries.items():
        programme, unit, period, _ = RETURNS[state]
        answers = (lambda st: lambda role: writes_return(role, st))(state)
        if endpoint == "review_api.QueryItem":
            path = f"/api/v1/returns/{programme}/{unit}/{period}/queries/{query_id}"
            cases.append(Case("POST", path, by(answers, WRITE, api=True), json=ANSWER, label=f"answer {state}"))
            cases.append(Case("POST", path, only(REVIEWERS, WRITE, api=True), json=ANSWER | {"close": True},
                              label=f"close {state}"))
        else:
            cases.append(Case("POST", f"/review/queries/{query_id}/answer", by(answers, WRITE), data=ANSWER,
                              label=state))
    return cases


def _run_cases(s: Scene, endpoint: str) -> list[Case]:
    cases = []
    for name, run_id in s.runs.items():
        visible = REVIEWERS if name == "draft" else SIGNED_IN
        hidden = HIDDEN if name == "draft" else DENIED
        web = f"/reports/runs/{run_id}"
        api = f"/api/v1/reports/{run_id}"
        cases += {
            "reporting.show": [Case("GET", web, only(visible, otherwise=HIDDEN))],
            "reporting.status": [Case("GET", f"{web}/status", only(visible, otherwise=HIDDEN))],
            "reporting.pdf": [Case("GET", f"{web}/pdf", only(visible, otherwise=HIDDEN))],
            "reporting.run_preview": [Case("GET", f"{web}/preview", only(visible, {302}, otherwise=HIDDEN))],
            "reporting.publish": [Case("POST", f"{web}/publish", only(ADMIN, WRITE))],
            "reporting.rerun": [Case("POST", f"{web}/rerun", only(ADMIN, WRITE))],
            "reports_api.ReportOne": [Case("GET", api, only(visible, api=True, otherwise=HIDDEN))],
            "reports_api.ReportPdf": [Case("GET", f"{api}/pdf", only(visible, api=True, otherwise=HIDDEN))],
            # Publishing a draft the reader may not see is "not found"; a published run, "not yours".
            "reports_api.ReportPublish": [Case("POST", f"{api}/publish", lambda role, v=visible, h=hidden: (
                API_LOGIN if role == "anonymous" else WRITE if role == "secretariat"
                else DENIED if role in v else h))],
        }[endpoint]
    for case in cases:
        case.label = case.label or endpoint
    return cases


def _include_submitted(role: str) -> bool:
    return role in ("secretariat", "reviewer", "officer")


def routes(s: Scene) -> dict[tuple[str, str], list[Case] | None]:
    """Every (endpoint, method) of the URL map and its cases; None: not a resource (tested elsewhere)."""
    activity, other = s.activity, s.other_activity
    scope, fy = s.pmp
    progress = {"status": "on_track", "percent_complete": 50, "spend_to_date": 10, "note": "Note."}
    r = {
        ("static", "GET"): None,
        ("accounts.login", "GET"): None, ("accounts.login", "POST"): None, ("accounts.logout", "POST"): None,
        ("health.healthz", "GET"): [Case("GET", "/healthz", lambda role: {200, 503})],
        # The public results page and the published reports' PDFs are everyone's, signed in or not
        # (mel/public/); a draft's PDF is "not found" there for everyone, the secretariat included.
        ("public.index", "GET"): [Case("GET", "/public", lambda role: OK)],
        ("public.report_pdf", "GET"): [
            Case("GET", f"/public/reports/{s.runs['published']}.pdf", lambda role: OK, allows=(PUBLISHED_RUN_MARK,),
                 label="published"),
            Case("GET", f"/public/reports/{s.runs['draft']}.pdf", lambda role: HIDDEN, label="draft")],
        ("api-docs.openapi_json", "GET"): [Case("GET", "/api/v1/openapi.json", lambda role: {200})],
        ("web.home", "GET"): [Case("GET", "/", signed())],
        ("accounts.audit_log", "GET"): [Case("GET", "/admin/audit", only(ADMIN))],
        # Getting in on one's own (mel/accounts/self_service_views.py): the link pages are anyone's,
        # a made-up link is "not found"; one's account is one's own; only the secretariat invites.
        ("accounts.forgot_password", "GET"): [Case("GET", "/forgot-password", lambda role: OK)],
        ("accounts.forgot_password", "POST"): [Case("POST", "/forgot-password", lambda role: OK,
                                                    data={"email": "nobody@example.org"})],
        ("accounts.reset_password", "GET"): [Case("GET", "/reset-password/nope", lambda role: HIDDEN)],
        ("accounts.reset_password", "POST"): [Case("POST", "/reset-password/nope", lambda role: HIDDEN)],
        ("accounts.accept_invitation", "GET"): [Case("GET", "/invitation/nope", lambda role: HIDDEN)],
        ("accounts.accept_invitation", "POST"): [Case("POST", "/invitation/nope", lambda role: HIDDEN)],
        ("accounts.account", "GET"): [Case("GET", "/account", signed())],
        # The language switch is everyone's (mel/i18n.py): back to the page it was pressed on.
        ("accounts.choose_language", "POST"): [Case("POST", "/language", lambda role: {302},
                                                    data={"lang": "sw", "next": "/login"}),
                                               Case("POST", "/language", lambda role: {422},
                                                    data={"lang": "fr", "next": "/"}, label="unknown language")],
        ("accounts.change_password", "POST"): [Case("POST", "/account/password", signed({422}),
                                                    data={"current": "wrong", "password": "x", "confirm": "x"})],
        ("accounts.revoke_own_token", "POST"): [Case("POST", "/account/tokens/999999/revoke", signed(HIDDEN))],
        ("accounts.users", "GET"): [Case("GET", "/admin/users", only(ADMIN))],
        ("accounts.invite", "GET"): [Case("GET", "/admin/users/invite", only(ADMIN))],
        ("accounts.invite", "POST"): [Case("POST", "/admin/users/invite", only(ADMIN, WRITE),
                                           data={"email": "matrix@example.org", "name": "Matrix", "role": "viewer"})],
        ("accounts.resend_invitation", "POST"): [Case("POST", "/admin/users/999999/invitation",
                                                      only(ADMIN, HIDDEN))],
        ("accounts.deactivate", "POST"): [Case("POST", "/admin/users/999999/deactivate", only(ADMIN, HIDDEN),
                                               data={"reason": "Matrix."})],
        ("accounts.reactivate", "POST"): [Case("POST", "/admin/users/999999/reactivate", only(ADMIN, HIDDEN),
                                               data={"reason": "Matrix."})],
        ("accounts.sign_out_user", "POST"): [Case("POST", "/admin/users/999999/sign-out", only(ADMIN, HIDDEN))],
        # Background imports: their uploader's and the secretariat's; none exists here, so "not found".
        ("returns.import_job", "GET"): [Case("GET", "/imports/999", signed(HIDDEN))],
        ("returns.import_status", "GET"): [Case("GET", "/imports/999/status", signed(HIDDEN))],
        ("returns_api.ImportJobOne", "GET"): [Case("GET", "/api/v1/imports/999", signed(HIDDEN, api=True))],
        ("scheduler.index", "GET"): [Case("GET", "/admin/jobs/", only(ADMIN))],
        ("scheduler.run_now", "POST"): [Case("POST", "/admin/jobs/nope/run", only(ADMIN, {302, 404}))],
        # The queue's failed list (no Redis here: the job is not in it, 404 for the secretariat).
        ("scheduler.failed_job", "POST"): [Case("POST", f"/admin/jobs/failed/tasks/nope/{action}", only(ADMIN, {404}))
                                           for action in ("retry", "remove")],
        ("catalogue.county_list", "GET"): [Case("GET", "/counties", signed())],
        ("catalogue.county_detail", "GET"): [Case("GET", "/counties/042", signed())],
        ("catalogue.indicator_list", "GET"): [Case("GET", "/indicators", signed())],
        ("catalogue.indicator_sheet", "GET"): [Case("GET", "/indicators/SA02", signed())],
        ("catalogue.programme_list", "GET"): [Case("GET", "/programmes", signed())],
        ("catalogue.programme_detail", "GET"): [Case("GET", "/programmes/OPCT", signed())],
        ("catalogue.results_framework", "GET"): [Case("GET", "/results-framework", signed())],
        ("catalogue.results_framework_edit", "GET"): [Case("GET", "/results-framework/edit", only(ADMIN))],
        ("catalogue.results_framework_edit", "POST"): [Case("POST", "/results-framework/edit", only(ADMIN, WRITE))],
        ("results.sector", "GET"): [Case("GET", "/dashboard/", signed(), query={"period": "2025Q3"})],
        ("results.indicator", "GET"): [Case("GET", "/dashboard/indicators/SA02", signed(),
                                            query={"period": p, "programme": "OPCT", "org_unit": u})
                                       for p, u in (("2025Q3", "042"),)],
        ("plans.index", "GET"): [Case("GET", "/plans/", signed())],
        ("plans.index", "POST"): [Case("POST", "/plans/", only(ADMIN, WRITE), data={"fiscal_year": "nope"})],
        ("plans.pmp_page", "GET"): [Case("GET", f"/plans/pmps/{scope}/{fy}", signed())],
        ("plans.pmp_page", "POST"): [Case("POST", f"/plans/pmps/{scope}/{fy}", only(ADMIN, WRITE))],
        ("plans.pmp_edit", "GET"): [Case("GET", f"/plans/pmps/{scope}/{fy}/edit", only(ADMIN))],
        ("plans.pmp_edit", "POST"): [Case("POST", f"/plans/pmps/{scope}/{fy}/edit", only(ADMIN, WRITE))],
        ("plans.pmp_template", "GET"): [Case("GET", f"/plans/pmps/{scope}/{fy}/template.xlsx", signed())],
        ("plans.workplan_page", "GET"): [Case("GET", "/plans/workplans/2024July", signed())],
        ("plans.workplan_page", "POST"): [Case("POST", "/plans/workplans/2024July", only(ADMIN, WRITE))],
        ("plans.workplan_template", "GET"): [Case("GET", "/plans/workplans/2024July/template.xlsx", signed())],
        ("plans.activity_page", "GET"): [Case("GET", f"/plans/workplans/2024July/{activity}", signed())],
        ("plans.activity_page", "POST"): [
            Case("POST", f"/plans/workplans/2024July/{activity}", only(PROGRESS, WRITE),
                 data={"period": "2025Q1", "status": "nope"}, label="SDSPSCA activity"),
            Case("POST", f"/plans/workplans/2024July/{other}", only(("secretariat", "officer_programme"), WRITE),
                 data={"period": "2025Q1", "status": "nope"}, label="NDMA activity")],
        ("reporting.index", "GET"): [Case("GET", "/reports/", signed())],
        ("reporting.generate", "POST"): [Case("POST", "/reports/", only(ADMIN, WRITE),
                                              data={"kind": "county", "period": "2025Q2", "org_unit": "042"})],
        ("reporting.live_preview", "GET"): [Case("GET", "/reports/preview", only(REVIEWERS),
                                                 query={"kind": "factsheet", "period": "2025Q2"})],
        ("returns.programme_template", "GET"): [
            Case("GET", "/programmes/OPCT/template.xlsx", only(("secretariat", "reviewer", "officer", "officer_unit", "viewer")), query={"period": p},
                 label=p) for p in ("2025Q3", "2025Q2")],
        ("returns.upload", "GET"): [Case("GET", "/upload", only(ENTERING))],
        ("returns.upload", "POST"): [Case("POST", "/upload", only(ENTERING, WRITE))],
        # Owned by the import work (issue 15 item 3): a viewer's or reviewer's file is refused by the
        # ingest service (422 naming the rows) rather than up front (403); nothing is stored either way.
        ("returns_api.ReturnImport", "POST"): [Case("POST", "/api/v1/returns:import",
                                                    only(ENTERING, WRITE, api=True, otherwise={403, 422}),
                                                    data={"file": (b"indicator\n", "empty.csv")})],
        ("review.queue", "GET"): [Case("GET", "/review/", only(REVIEWERS), query={"period": "2025Q3"})],
        ("review.data_quality", "GET"): [Case("GET", "/review/data-quality", only(REVIEWERS),
                                              query={"period": "2025Q3"})],
        ("review.bulk_approve", "POST"): [Case("POST", "/review/bulk-approve", only(REVIEWERS, WRITE),
                                               data={"period": "2025Q3"})],
        ("review.notifications", "GET"): [Case("GET", "/review/notifications", signed())],
        ("review.notifications", "POST"): [Case("POST", "/review/notifications", signed())],
        ("catalogue_api.Indicators", "GET"): [Case("GET", "/api/v1/indicators", signed(api=True))],
        ("catalogue_api.IndicatorItem", "GET"): [Case("GET", "/api/v1/indicators/SA02", signed(api=True))],
        ("catalogue_api.OrgUnits", "GET"): [Case("GET", "/api/v1/org-units", signed(api=True))],
        ("catalogue_api.Periods", "GET"): [Case("GET", "/api/v1/periods", signed(api=True))],
        ("catalogue_api.Programmes", "GET"): [Case("GET", "/api/v1/programmes", signed(api=True))],
        ("catalogue_api.ProgrammeItem", "GET"): [Case("GET", "/api/v1/programmes/OPCT", signed(api=True))],
        ("plans_api.PmpList", "GET"): [Case("GET", "/api/v1/pmps", signed(api=True))],
        ("plans_api.PmpItem", "GET"): [Case("GET", f"/api/v1/pmps/{scope}/{fy}", signed(api=True))],
        ("plans_api.PmpItem", "PUT"): [Case("PUT", f"/api/v1/pmps/{scope}/{fy}", only(ADMIN, WRITE, api=True),
                                            json={"version": 0, "reason": "Matrix.", "lines": []})],
        ("plans_api.Targets", "GET"): [Case("GET", "/api/v1/targets", signed(api=True), query={"programme": "OPCT"})],
        ("plans_api.WorkPlanItem", "GET"): [Case("GET", "/api/v1/workplans/2024July", signed(api=True))],
        ("plans_api.WorkPlanItem", "PUT"): [Case("PUT", "/api/v1/workplans/2024July", only(ADMIN, WRITE, api=True),
                                                 json={"title": "Again"})],
        ("plans_api.ActivityItem", "PUT"): [Case("PUT", f"/api/v1/workplans/2024July/activities/{activity}",
                                                 only(ADMIN, WRITE, api=True),
                                                 json={"title": "Matrix", "working_group": "policy",
                                                       "lead_agency": "SDSPSCA"})],
        ("plans_api.ActivityProgress", "PUT"): [
            Case("PUT", f"/api/v1/workplans/2024July/activities/{activity}/progress/2025Q2",
                 only(PROGRESS, WRITE, api=True), json=progress, label="SDSPSCA activity"),
            Case("PUT", f"/api/v1/workplans/2024July/activities/{other}/progress/2025Q2",
                 only(("secretariat", "officer_programme"), WRITE, api=True), json=progress, label="NDMA activity")],
        ("results_api.Results", "GET"): [
            Case("GET", "/api/v1/results", signed(api=True), query={"indicator": "SA02", "period": p,
                                                                     "programme": "OPCT", "org_unit": u, "format": f},
                 label=f"{p} {u} {f}")
            for p, u, f in (("2025Q3", "KE", "json"), ("2025Q3", "042", "csv"), ("2025Q2", "042", "xlsx"))] + [
            Case("GET", "/api/v1/results", by(_include_submitted, api=True),
                 query={"indicator": "SA02", "period": "2025Q3", "programme": "OPCT", "org_unit": "KE",
                        "include": "submitted", "format": "xlsx"}, label="include=submitted")],
        ("results_api.Iptt", "GET"): [
            Case("GET", "/api/v1/iptt", signed(api=True), query={"fy": "2025July", "programme": "OPCT",
                                                                  "org_unit": "KE"}),
            Case("GET", "/api/v1/iptt", by(_include_submitted, api=True),
                 query={"fy": "2025July", "programme": "OPCT", "org_unit": "KE", "include": "submitted"},
                 label="include=submitted")],
        ("reports_api.Reports", "GET"): [Case("GET", "/api/v1/reports", signed(api=True))],
        ("reports_api.Reports", "POST"): [Case("POST", "/api/v1/reports", only(ADMIN, WRITE, api=True),
                                               json={"kind": "county", "period": "2025Q2", "org_unit": "042"})],
        ("review_api.ReviewQueue", "GET"): [Case("GET", "/api/v1/review-queue", only(REVIEWERS, api=True),
                                                 query={"period": "2025Q3"})],
        ("review_api.Completeness", "GET"): [Case("GET", "/api/v1/completeness",
                                                  only(REVIEWERS + OFFICERS, api=True), query={"period": "2025Q3"})],
    }
    for endpoint, method in (("returns.return_page", "GET"), ("returns.return_template", "GET"),
                             ("returns.save_return", "POST"), ("review.review_return", "GET"),
                             ("review.review_return", "POST"), ("review_api.Approve", "POST"),
                             ("review_api.ReturnToOfficer", "POST"), ("review_api.Reopen", "POST"),
                             ("review_api.Queries", "GET"), ("review_api.Queries", "POST"),
                             ("returns_api.ReturnSubmit", "POST")):
        r[(endpoint, method)] = [c for c in _return_cases(s, endpoint) if c.method == method]
    for method in ("GET", "PUT"):
        r[("returns_api.ReturnItem", method)] = [c for c in _return_cases(s, "returns_api.ReturnItem")
                                                 if c.method == method]
    r[("review_api.QueryItem", "POST")] = _query_cases(s, "review_api.QueryItem")
    r[("review.answer", "POST")] = _query_cases(s, "review.answer")
    for endpoint, method in (("reporting.show", "GET"), ("reporting.status", "GET"), ("reporting.pdf", "GET"),
                             ("reporting.run_preview", "GET"), ("reporting.publish", "POST"),
                             ("reporting.rerun", "POST"), ("reports_api.ReportOne", "GET"),
                             ("reports_api.ReportPdf", "GET"), ("reports_api.ReportPublish", "POST")):
        r[(endpoint, method)] = _run_cases(s, endpoint)
    # The DHIS2 dialect's routes (at /api and /api/41), each part's cases in a module of its own.
    for part in (access_cases_dhis2_meta, access_cases_dhis2_data, access_cases_dhis2_analytics, access_cases_two_factor,
                 access_cases_people, access_cases_story, access_cases_review_day, access_cases_rules,
                 access_cases_forms, access_cases_indicators, access_cases_disaggregations,
                 access_cases_programmes, access_cases_meetings, access_cases_learning, access_cases_tools,
                 access_cases_handbook):
        r.update(part.cases(s))
    return r


def url_map_routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_matrix(world):
    """A route added without deciding who may use it fails here: add it to `routes` above."""
    classified = routes(world)
    missing = sorted(url_map_routes(world.app) - set(classified))
    assert not missing, "routes missing from the access matrix: " + ", ".join(f"{m} {e}" for e, m in missing)
    stale = sorted(set(classified) - url_map_routes(world.app))
    assert not stale, f"the matrix names routes that no longer exist: {stale}"


def body_text(response) -> str:
    """Everything a reader gets: text, or the XML of every part of an .xlsx."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def _send(world: Scene, role: str, case: Case):
    client, token = world.clients[role]
    headers = {}
    kwargs: dict = {"query_string": case.query}
    api = case.path.startswith("/api/")
    if api:
        if role != "anonymous":
            headers["Authorization"] = f"Bearer {world.tokens[role]}"
        if case.json is not None:
            kwargs["json"] = case.json
        elif case.data:
            kwargs["data"] = {k: (io.BytesIO(v[0]), v[1]) for k, v in case.data.items()}
    elif case.method != "GET":
        kwargs["data"] = {"csrf_token": token, **case.data}
    with rolled_back(world):
        return client.open(case.path, method=case.method, headers=headers, **kwargs)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_answers_each_role_as_the_rules_say_and_leaks_nothing(world, role):
    failures, count = [], 0
    forbidden = forbidden_markers(role)
    for (endpoint, _), cases in sorted(routes(world).items()):
        for case in cases or ():
            started = time.perf_counter()
            response = _send(world, role, case)
            TIMES[f"{case.method} {case.path}"] = TIMES.get(f"{case.method} {case.path}", 0) + time.perf_counter() - started
            count += 1
            where = f"{case.method} {case.path} {case.query or ''} [{case.label or endpoint}]"
            expected = case.expect(role)
            if response.status_code not in expected:
                failures.append(f"{where}: {response.status_code}, expected {sorted(expected)}: "
                                + response.get_data(as_text=True)[:160].replace("\n", " "))
            if role == "anonymous" and response.status_code == 302:
                assert "/login" in response.headers["Location"], where
            text = body_text(response)
            leaked = [m for m in forbidden if m in text and m not in case.allows]
            if leaked:
                failures.append(f"{where}: {response.status_code} carries {leaked}")
    assert count > 100
    print("slowest:", sorted(TIMES.items(), key=lambda kv: -kv[1])[:8])
    assert not failures, f"{len(failures)} of {count} requests as {role} went wrong:\n" + "\n".join(failures)


def test_the_markers_are_there_for_those_who_may_see_them(world):
    """The leak checks would pass with empty pages: the same bodies carry the markers when allowed."""
    checks = [
        ("reviewer", Case("GET", "/returns/OPCT/002/2025Q3", signed()), markers("submitted")[1]),
        ("reviewer", Case("GET", "/api/v1/returns/OPCT/002/2025Q3/queries", signed(api=True)), "QMARK-submitted"),
        ("officer_unit", Case("GET", "/returns/OPCT/042/2025Q3", signed()), "QMARK-approved"),
        ("officer_unit", Case("GET", "/api/v1/returns/OPCT/042/2025Q3", signed(api=True)), "7777775"),
        ("officer", Case("GET", "/programmes/OPCT/template.xlsx", signed(), query={"period": "2025Q3"}), "7777772"),
        ("officer", Case("GET", "/returns/OPCT/042/2025Q3/template.xlsx", signed()), "7777775"),
        ("viewer", Case("GET", "/returns/OPCT/042/2025Q3", signed()), "NARRMARK-approved"),
        ("viewer", Case("GET", "/programmes/OPCT/template.xlsx", signed(), query={"period": "2025Q3"}), "7777774"),
        ("secretariat", Case("GET", "/reports/", signed()), DRAFT_RUN_MARK),
        ("viewer", Case("GET", f"/api/v1/reports/{world.runs['published']}/pdf", signed(api=True)),
         PUBLISHED_RUN_MARK),
        ("anonymous", Case("GET", f"/public/reports/{world.runs['published']}.pdf", lambda role: OK),
         PUBLISHED_RUN_MARK),
    ]
    for role, case, marker in checks:
        response = _send(world, role, case)
        assert response.status_code == 200, (case.path, response.status_code)
        assert marker in body_text(response), (role, case.path, marker)


def test_an_approved_return_shows_a_viewer_no_unapproved_previous_quarter(world):
    """2025Q2 of Kisumu was reopened and changed: beside the approved 2025Q3 a viewer sees no 'previous'."""
    response = _send(world, "viewer", Case("GET", "/api/v1/returns/OPCT/042/2025Q3", signed(api=True)))
    values = response.get_json()["values"]
    assert values and all(v["previous"] is None for v in values)
    assert {v["value"] for v in values if v["indicator"] == "SA02"} == {"7777774"}


@pytest.mark.parametrize(("role", "programmes"), [("officer", {"OPCT"}), ("officer_unit", {"OPCT", "COUNTY"}),
                                                  ("officer_programme", {"HSNP"}), ("reviewer", None)])
def test_completeness_covers_the_readers_scope(world, role, programmes):
    response = _send(world, role, Case("GET", "/api/v1/completeness", signed(api=True),
                                       query={"period": "2025Q3", "by": "programme"}))
    assert response.status_code == 200
    found = {row["programme"] for row in response.get_json()}
    assert found == programmes if programmes else len(found) == 9
    if role == "officer_unit":
        by_unit = _send(world, role, Case("GET", "/api/v1/completeness", signed(api=True),
                                          query={"period": "2025Q3", "by": "org_unit"})).get_json()
        assert {row["org_unit"] for row in by_unit} == {"042"}


@pytest.mark.parametrize(("role", "message"), [
    ("reviewer", "Only the secretariat and officers of the lead agency"),
    ("viewer", "Only the secretariat and officers of the lead agency"),
    ("officer_unit", "has no agency"),
    ("officer_programme", "is led by SDSPSCA; your account belongs to NDMA"),
])
def test_work_plan_progress_is_refused_with_the_reason(world, role, message):
    progress = {"status": "on_track", "percent_complete": 50, "spend_to_date": 10, "note": "Note."}
    response = _send(world, role, Case("PUT", f"/api/v1/workplans/2024July/activities/{world.activity}"
                                               "/progress/2025Q2", signed(api=True), json=progress))
    assert response.status_code == 403 and message in response.get_json()["message"]
    # The page says it in the client's language: English here (the route sweep may have chosen Kiswahili).
    _send(world, role, Case("POST", "/language", lambda role: {302}, data={"lang": "en", "next": "/"}))
    page = _send(world, role, Case("POST", f"/plans/workplans/2024July/{world.activity}", signed(),
                                   data=progress | {"period": "2025Q2"}))
    assert page.status_code == 403 and message in page.get_data(as_text=True)


def test_the_lead_agency_officer_records_progress(world):
    progress = {"status": "delayed", "percent_complete": 55, "spend_to_date": 10, "note": "Officer."}
    response = _send(world, "officer", Case("PUT", f"/api/v1/workplans/2024July/activities/{world.activity}"
                                                   "/progress/2025Q2", signed(api=True), json=progress))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["percent_complete"] == 55
    page = _send(world, "officer", Case("GET", f"/plans/workplans/2024July/{world.activity}", signed()))
    assert 'class="progress-form"' in page.get_data(as_text=True)
    page = _send(world, "officer_unit", Case("GET", f"/plans/workplans/2024July/{world.activity}", signed()))
    assert 'class="progress-form"' not in page.get_data(as_text=True)


def test_demo_desks_belong_to_agencies_that_lead_demo_activities():
    from mel.demo import DEMO_AGENCIES
    from mel.plans.demo import ACTIVITIES

    leads = {row[2] for row in ACTIVITIES}
    assert {a for a in DEMO_AGENCIES.values() if a} <= leads
    assert {"SDSPSCA", "NDMA"} <= set(DEMO_AGENCIES.values())


def test_users_create_sets_the_agency(world):
    runner = world.app.test_cli_runner()
    with rolled_back(world):
        result = runner.invoke(args=["users", "create", "desk@ndma.go.ke", "--role", "officer", "--programme",
                                     "HSNP", "--org-unit", "KE", "--agency", " NDMA ",
                                     "--password", "a long passphrase 42"])
        assert result.exit_code == 0, result.output
        assert "(NDMA)" in result.output
        with world.app.app_context():
            assert load_user(db.session, "desk@ndma.go.ke").agency == "NDMA"
