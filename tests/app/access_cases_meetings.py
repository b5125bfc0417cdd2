"""Access-matrix cases for MERL TWG meetings and their actions (mel/meetings/), merged by
tests/app/test_access_matrix.py.

Everyone signed in reads meetings and actions; the secretariat and the TWG's reviewers record them;
an action's owner updates its status and progress, and nothing else. The demo's actions give each
officer of the matrix a case as owner and as a non-owner: the OPCT desk (`officer`) owns the SA11
action, the Kisumu officer (`officer_unit`) the training action, the HSNP desk (`officer_programme`)
the scale-up action; the viewer owns none.
"""

from __future__ import annotations

from sqlalchemy import select

from mel.meetings.models import Meeting, MeetingAction

OWNED = {  # a demo action's words -> the matrix role that owns it
    "Explain the drop in OPCT payments": "officer",
    "Train Kisumu county M&E officers": "officer_unit",
    "Confirm the HSNP drought scale-up figures": "officer_programme",
}
MISSING = 999999


def _ids(s) -> tuple[int, dict[str, int]]:
    """The demo's review of April–June 2025 and the actions the matrix's officers own."""
    if s.current is not None:
        s.current.close()
        s.current = None
    meeting = s.connection.execute(select(Meeting.id).where(Meeting.title.like("%Apr–Jun 2025"))).scalar_one()
    actions = {}
    for words, role in OWNED.items():
        actions[role] = s.connection.execute(select(MeetingAction.id).where(
            MeetingAction.text.like(f"{words}%"))).scalar_one()
    return meeting, actions


def cases(s) -> dict:
    from tests.app.test_access_matrix import HIDDEN, REVIEWERS, WRITE, Case, only, signed

    meeting, actions = _ids(s)
    record = {"title": "Matrix meeting", "held_on": "2025-11-18", "status": "planned", "agenda": "Opening"}
    action = {"text": "Matrix action.", "owner": "2", "due_on": "2025-12-01", "status": "open"}
    api_action = {"meeting": meeting, "text": "Matrix action.", "owner": "reviewer@demo.test", "due_on": "2025-12-01"}

    def owner_or_twg(role_owning: str, api: bool = False):
        return only((*REVIEWERS, role_owning), WRITE, api=api)

    found = {
        ("meetings.index", "GET"): [Case("GET", "/meetings/", signed())],
        ("meetings.new_meeting", "GET"): [Case("GET", "/meetings/new", only(REVIEWERS))],
        ("meetings.new_meeting", "POST"): [Case("POST", "/meetings/new", only(REVIEWERS, WRITE), data=record)],
        ("meetings.meeting_page", "GET"): [Case("GET", f"/meetings/{meeting}", signed()),
                                           Case("GET", f"/meetings/{MISSING}", signed(HIDDEN), label="missing")],
        ("meetings.minutes", "GET"): [Case("GET", f"/meetings/{meeting}/minutes", signed()),
                                      Case("GET", f"/meetings/{MISSING}/minutes", signed(HIDDEN), label="missing")],
        ("meetings.edit_meeting", "GET"): [Case("GET", f"/meetings/{meeting}/edit", only(REVIEWERS)),
                                           Case("GET", f"/meetings/{MISSING}/edit", signed(HIDDEN), label="missing")],
        ("meetings.edit_meeting", "POST"): [Case("POST", f"/meetings/{meeting}/edit", only(REVIEWERS, WRITE),
                                                 data={**record, "title": "Matrix title"})],
        ("meetings.add_action", "POST"): [Case("POST", f"/meetings/{meeting}/actions", only(REVIEWERS, WRITE),
                                               data=action),
                                          Case("POST", f"/meetings/{MISSING}/actions", signed(HIDDEN), data=action,
                                               label="missing")],
        ("meetings.action_list", "GET"): [Case("GET", "/meetings/actions", signed()),
                                          Case("GET", "/meetings/actions", signed(), query={
                                              "owner": "me", "overdue": "1", "status": "open"}, label="filtered"),
                                          Case("GET", "/meetings/actions", signed(), query={
                                              "owner": "nope", "meeting": "99999999999"}, label="bad filters")],
        ("meetings.action_page", "GET"): [Case("GET", f"/meetings/actions/{MISSING}", signed(HIDDEN), label="missing")],
        ("meetings.action_page", "POST"): [],
        ("meetings_api.Meetings", "GET"): [Case("GET", "/api/v1/meetings", signed(api=True))],
        ("meetings_api.Meetings", "POST"): [Case("POST", "/api/v1/meetings", only(REVIEWERS, WRITE, api=True),
                                                 json={"title": "Matrix meeting", "held_on": "2025-11-18"})],
        ("meetings_api.MeetingOne", "GET"): [Case("GET", f"/api/v1/meetings/{meeting}", signed(api=True)),
                                             Case("GET", f"/api/v1/meetings/{MISSING}", signed(HIDDEN, api=True),
                                                  label="missing")],
        ("meetings_api.MeetingOne", "PATCH"): [Case("PATCH", f"/api/v1/meetings/{meeting}",
                                                    only(REVIEWERS, WRITE, api=True), json={"venue": "Matrix room"})],
        ("meetings_api.MeetingActions", "GET"): [
            Case("GET", "/api/v1/meeting-actions", signed(api=True)),
            Case("GET", "/api/v1/meeting-actions", signed(api=True), query={"overdue": "true", "status": "open"},
                 label="filtered")],
        ("meetings_api.MeetingActions", "POST"): [Case("POST", "/api/v1/meeting-actions",
                                                       only(REVIEWERS, WRITE, api=True), json=api_action)],
        ("meetings_api.MeetingActionOne", "GET"): [Case("GET", f"/api/v1/meeting-actions/{MISSING}",
                                                        signed(HIDDEN, api=True), label="missing")],
        ("meetings_api.MeetingActionOne", "PATCH"): [],
    }
    for role, action_id in actions.items():
        page, api = f"/meetings/actions/{action_id}", f"/api/v1/meeting-actions/{action_id}"
        found[("meetings.action_page", "GET")].append(Case("GET", page, signed(), label=f"{role}'s action"))
        found[("meetings_api.MeetingActionOne", "GET")].append(Case("GET", api, signed(api=True),
                                                                    label=f"{role}'s action"))
        # Status and progress: the owner and the TWG; any other officer and the viewer are refused.
        found[("meetings.action_page", "POST")].append(Case(
            "POST", page, owner_or_twg(role), data={"status": "in_progress", "progress": "Matrix note."},
            label=f"{role}'s action"))
        found[("meetings_api.MeetingActionOne", "PATCH")].append(Case(
            "PATCH", api, owner_or_twg(role, api=True), json={"status": "in_progress", "progress": "Matrix note."},
            label=f"{role}'s action: status"))
        # Its text, owner or due date: the TWG only, the owner too is refused.
        found[("meetings_api.MeetingActionOne", "PATCH")].append(Case(
            "PATCH", api, only(REVIEWERS, WRITE, api=True), json={"due_on": "2026-01-31"},
            label=f"{role}'s action: due date"))
    return found
