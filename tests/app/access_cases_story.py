"""Access-matrix cases for a report's story (merged by tests/app/test_access_matrix.py): the
commentary of the matrix's draft and published runs, and actions of two programme scopes.

The matrix's runs have no stored figures, so a commentary the secretariat may write is refused
as a conflict (409); everyone else is refused as a person (403), or does not see a draft (404).
Actions: officers read the sector's and their own programme's; an OPCT action is hidden from the
HSNP officer and an HSNP action from the OPCT officers (a foreign scope).
"""

from __future__ import annotations

from sqlalchemy import insert, select

from mel.db import utcnow
from mel.reporting.actions import ReportAction

MARK = "ACTIONMATRIX"
# The programme each action belongs to: who may read it besides the secretariat, TWG and viewers.
ACTIONS = {"OPCT": ("officer", "officer_unit"), "HSNP": ("officer_programme",)}


def _action_ids(s) -> dict[str, int]:
    """The matrix's actions, added once to the module's transaction (each request rolls back its own work)."""
    if s.current is not None:  # its savepoint would take the rows with it when it closes
        s.current.close()
        s.current = None
    table = ReportAction.__table__
    found = dict(s.connection.execute(select(table.c.scope_code, table.c.id).where(table.c.text.like(f"{MARK}%"))).all())
    for code in ACTIONS:
        if code not in found:
            found[code] = s.connection.execute(insert(table).values(
                text=f"{MARK} {code}", owner="", status="open", scope="programme", scope_code=code,
                raised_period="2025Q2", created_at=utcnow(), updated_at=utcnow()).returning(table.c.id)).scalar()
    return found


def cases(s) -> dict:
    """{(endpoint, method): [Case, ...]} for the story's routes."""
    from tests.app.test_access_matrix import (
        ADMIN,
        API_LOGIN,
        DENIED,
        HIDDEN,
        REVIEWERS,
        SIGNED_IN,
        WRITE,
        Case,
        only,
        signed,
    )

    found: dict = {k: [] for k in (("report_story.save_commentary", "POST"), ("story_api.ReportCommentary", "GET"),
                                   ("story_api.ReportCommentary", "PUT"))}
    for name, run_id in s.runs.items():
        visible = REVIEWERS if name == "draft" else SIGNED_IN

        def write(api: bool, visible=visible):
            return lambda role: (API_LOGIN if api else {302}) if role == "anonymous" else (
                WRITE if role == "secretariat" else DENIED if role in visible else HIDDEN)

        found[("report_story.save_commentary", "POST")].append(Case(
            "POST", f"/reports/runs/{run_id}/commentary", write(False), data={"key_messages": "Mine."}, label=name))
        found[("story_api.ReportCommentary", "GET")].append(Case(
            "GET", f"/api/v1/reports/{run_id}/commentary", only(visible, api=True, otherwise=HIDDEN), label=name))
        found[("story_api.ReportCommentary", "PUT")].append(Case(
            "PUT", f"/api/v1/reports/{run_id}/commentary", write(True), json={"key_messages": ["Mine."]}, label=name))

    ids = _action_ids(s)
    found[("story_api.Actions", "GET")] = [Case("GET", "/api/v1/actions", signed(api=True)),
                                           Case("GET", "/api/v1/actions", signed(api=True), query={"status": "open"})]
    found[("story_api.Actions", "POST")] = [Case("POST", "/api/v1/actions", only(ADMIN, WRITE, api=True), json={
        "text": "Act.", "raised_period": "2025Q2", "scope": "programme", "scope_code": "OPCT"})]
    found[("story_api.ActionOne", "GET")] = []
    found[("story_api.ActionOne", "PATCH")] = []
    found[("report_story.action_update", "POST")] = []
    for code, readers in ACTIONS.items():
        action_id = ids[code]

        def reads(role, readers=readers):
            return role not in ("officer", "officer_unit", "officer_programme") or role in readers

        def get(api: bool, reads=reads):
            return lambda role: (API_LOGIN if api else {302}) if role == "anonymous" else (
                {200} if reads(role) else HIDDEN)

        def change(api: bool, reads=reads):
            return lambda role: (API_LOGIN if api else {302}) if role == "anonymous" else (
                WRITE if role == "secretariat" else DENIED if reads(role) else HIDDEN)

        found[("story_api.ActionOne", "GET")].append(Case("GET", f"/api/v1/actions/{action_id}", get(True), label=code))
        found[("story_api.ActionOne", "PATCH")].append(Case("PATCH", f"/api/v1/actions/{action_id}", change(True),
                                                            json={"status": "done"}, label=code))
        found[("report_story.action_update", "POST")].append(Case(
            "POST", f"/reports/actions/{action_id}", change(False), data={"status": "done"}, label=code))
    found[("report_story.action_list", "GET")] = [Case("GET", "/reports/actions", signed())]
    found[("report_story.action_create", "POST")] = [Case("POST", "/reports/actions", only(ADMIN, WRITE), data={
        "text": "Act.", "raised_period": "2025Q2", "scope": "sector"})]
    return found
