"""The officer's narrative: shown and kept by the grid, kept by writes that leave it out, written under
the same role, scope, window and state rules as the figures, audited, and read by the reviewer."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import func, select

from mel.accounts.operations import create_token, load_user
from mel.returns import operations
from mel.returns.models import Return
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import (
    AFTER_CLOSE,
    PAGE,
    alert,
    csrf_token,
    grid_form,
    input_value,
    login,
    saved_draft,
    textarea,
)

API = "/api/v1/returns/OPCT/042/2025Q3"
TEXT = "Both payment cycles paid; 112 accounts dormant after the June cycle."


def headers(session, email: str = "officer.opct@demo.test") -> dict:
    return {"Authorization": f"Bearer {create_token(session, email).token}"}


def the_return(session, period: str = "2025Q3") -> Return | None:
    record = session.scalar(select(Return).where(Return.period == period, Return.org_unit_id == _kisumu(session),
                                                 Return.programme_id == _opct(session)))
    if record is not None:
        session.refresh(record)
    return record


def _kisumu(session) -> int:
    from mel.catalogue.models import OrgUnit

    return session.scalar(select(OrgUnit.id).where(OrgUnit.code == "042"))


def _opct(session) -> int:
    from mel.catalogue.models import Programme

    return session.scalar(select(Programme.id).where(Programme.code == "OPCT"))


def draft_with_narrative(client, session) -> Return:
    saved_draft(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put(API, json={"version": 1, "narrative": TEXT}, headers=headers(session))
    assert response.status_code == 200, response.json
    record = the_return(session)
    assert record.narrative == TEXT
    return record


def test_the_grid_shows_the_saved_narrative_and_a_figures_save_keeps_it(client, session):
    record = draft_with_narrative(client, session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
        assert textarea(page, "narrative") == TEXT
        # Save a changed figure the way a browser posts the page it was shown.
        data = grid_form(session, client, version=str(record.version), narrative=textarea(page, "narrative"))
        data["v.SA15.value.default"] = str(int(data["v.SA15.value.default"]) + 3)
        response = client.post(PAGE, data=data)
        assert response.status_code == 302, alert(response.get_data(as_text=True))
        assert the_return(session).narrative == TEXT
        # A form without the narrative field (an older page, a script) leaves it as it was too.
        version = the_return(session).version
        data = grid_form(session, client, version=str(version))
        del data["narrative"]
        data["v.SA15.value.default"] = str(int(data["v.SA15.value.default"]) + 5)
        assert client.post(PAGE, data=data).status_code == 302
        page = client.get(PAGE).get_data(as_text=True)
    assert the_return(session).narrative == TEXT
    assert textarea(page, "narrative") == TEXT
    assert input_value(page, "version") == str(the_return(session).version)
    assert "Narrative changed" in page


def test_a_put_of_figures_without_narrative_keeps_it(client, session):
    record = draft_with_narrative(client, session)
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put(API, json={"version": record.version, "values": [
            {"indicator": "SA15", "option": "default", "value": 1234}]}, headers=headers(session))
        assert response.status_code == 200, response.json
        assert client.get(API, headers=headers(session)).json["narrative"] == TEXT
    assert the_return(session).narrative == TEXT


def test_a_put_with_a_narrative_changes_it_and_the_change_is_audited(client, session):
    from mel.returns.models import NarrativeChange

    record = draft_with_narrative(client, session)
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put(API, json={"version": record.version, "narrative": "  Revised: one cycle late.  "},
                              headers=headers(session))
    assert response.status_code == 200, response.json
    record = the_return(session)
    assert record.narrative == "Revised: one cycle late."
    changes = session.scalars(select(NarrativeChange).where(NarrativeChange.return_id == record.id)
                              .order_by(NarrativeChange.id)).all()
    officer = load_user(session, "officer.opct@demo.test")
    assert [(c.old_text, c.new_text, c.changed_by_id, c.channel) for c in changes] == [
        ("", TEXT, officer.id, "api"), (TEXT, "Revised: one cycle late.", officer.id, "api")]
    assert changes[-1].return_version == record.version
    assert changes[-1].changed_at.replace(tzinfo=None) == IN_WINDOW.replace(tzinfo=None)


def test_a_reviewer_cannot_write_a_narrative(client, session):
    record = draft_with_narrative(client, session)
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put(API, json={"version": record.version, "narrative": "Overwritten by the TWG."},
                              headers=headers(session, "reviewer@demo.test"))
    assert response.status_code == 403, response.json
    assert the_return(session).narrative == TEXT


def test_an_officer_of_another_county_cannot_write_a_narrative(client, session):
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put("/api/v1/returns/OPCT/037/2025Q3", json={"version": 0, "narrative": "Not mine."},
                              headers=headers(session, "officer.kisumu@demo.test"))
    assert response.status_code == 403, response.json
    assert session.scalar(select(func.count()).select_from(Return).where(Return.period == "2025Q3")) == 0


def test_a_narrative_only_put_before_the_window_opens_is_refused_and_creates_no_return(client, session):
    # On 5 Oct 2025 the window of 2025Q4 (Oct–Dec) has not opened: it opens on 31 Dec 2025.
    with time_machine.travel(IN_WINDOW, tick=False):
        response = client.put("/api/v1/returns/OPCT/042/2025Q4", json={"version": 0, "narrative": "Early."},
                              headers=headers(session))
    assert response.status_code == 422, response.json
    assert "opens on 31 December 2025" in response.json["message"]
    assert session.scalar(select(func.count()).select_from(Return).where(Return.period == "2025Q4")) == 0


def test_a_narrative_only_put_after_the_window_closed_is_refused_for_an_officer(client, session):
    record = draft_with_narrative(client, session)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        response = client.put(API, json={"version": record.version, "narrative": "Late words."},
                              headers=headers(session))
    assert response.status_code == 422, response.json
    assert "closed on 14 November 2025" in response.json["message"]
    assert the_return(session).narrative == TEXT


def test_a_narrative_on_a_submitted_or_approved_return_is_refused(client, session):
    record = draft_with_narrative(client, session)
    with time_machine.travel(IN_WINDOW, tick=False):
        operations.submit(session, load_user(session, "officer.opct@demo.test"), record)
        session.commit()
        submitted = client.put(API, json={"version": record.version, "narrative": "After submitting."},
                               headers=headers(session))
        approved_record = the_return(session, "2025Q2")
        approved = client.put("/api/v1/returns/OPCT/042/2025Q2",
                              json={"version": approved_record.version, "narrative": "Rewritten history."},
                              headers=headers(session))
    assert submitted.status_code == 422, submitted.json
    assert "submitted and waiting for review; it cannot be changed" in submitted.json["message"]
    assert the_return(session).narrative == TEXT
    assert approved.status_code == 422, approved.json
    assert "approved (locked)" in approved.json["message"]
    assert the_return(session, "2025Q2").narrative == approved_record.narrative


def test_the_reviewer_reads_the_narrative_on_the_review_page(client, session):
    record = draft_with_narrative(client, session)
    with time_machine.travel(IN_WINDOW, tick=False):
        operations.submit(session, load_user(session, "officer.opct@demo.test"), record)
        session.commit()
        login(client, "reviewer@demo.test")
        page = client.get("/review/OPCT/042/2025Q3").get_data(as_text=True)
        grid = client.get(PAGE).get_data(as_text=True)
    assert "Officer&#39;s narrative" in page or "Officer's narrative" in page
    assert TEXT in page
    assert TEXT in grid and textarea(grid, "narrative") is None


def test_the_web_grid_refuses_a_narrative_change_after_the_window_closed(client, session):
    record = draft_with_narrative(client, session)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, "officer.kisumu@demo.test")
        token = csrf_token(client, PAGE)
        data = grid_form(session, client, version=str(record.version), narrative="Changed after the close.")
        data["csrf_token"] = token
        # The figures are the ones stored: only the narrative would change.
        from tests.app.returns_helpers import rows_like
        from tests.helpers import field_name

        for row in rows_like(session, "OPCT", ["042"]).to_dict("records"):
            data[field_name(row["indicator"], row["option"])] = row["value"]
        data["c.SA02.value.F"] = ""
        response = client.post(PAGE, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:2000]
    assert "closed on 14 November 2025" in page
    assert textarea(page, "narrative") == "Changed after the close."
    assert the_return(session).narrative == TEXT


def test_a_stale_narrative_write_is_a_conflict_naming_who_changed_the_narrative(client, session):
    record = draft_with_narrative(client, session)
    stale = record.version
    with time_machine.travel(IN_WINDOW, tick=False):
        first = client.put(API, json={"version": stale, "narrative": "First words."}, headers=headers(session))
        assert first.status_code == 200, first.json
        second = client.put(API, json={"version": stale, "narrative": "Second words."},
                            headers=headers(session, "secretariat@demo.test"))
    assert second.status_code == 409, second.json
    assert f"you edited version {stale}" in second.json["message"]
    assert "officer.opct@demo.test changed the narrative" in second.json["message"]
    assert the_return(session).narrative == "First words."


def test_the_database_keeps_the_narrative_audit_append_only(client, session):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from mel.returns.models import NarrativeChange

    record = draft_with_narrative(client, session)
    audit = select(func.count()).select_from(NarrativeChange).where(NarrativeChange.return_id == record.id)
    assert session.scalar(audit) == 1
    for statement in ("UPDATE narrative_change SET new_text = 'forged' WHERE return_id = :id",
                      "DELETE FROM narrative_change WHERE return_id = :id"):
        with pytest.raises((IntegrityError, DBAPIError)), session.begin_nested():
            session.execute(text(statement), {"id": record.id})
    assert session.scalar(audit) == 1


def test_a_narrative_typed_in_the_grid_is_saved_and_audited_as_a_web_change(client, session):
    from mel.returns.models import NarrativeChange

    record = draft_with_narrative(client, session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
        data = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
                if name.startswith(("v.", "c.", "version", "csrf_token"))}
        data |= {"action": "save", "narrative": TEXT + "\nSeme sheets arrived late."}
        response = client.post(PAGE, data=data)
        assert response.status_code == 302, alert(response.get_data(as_text=True))
        page = client.get(PAGE).get_data(as_text=True)
    assert "Nothing changed in the figures. The narrative was saved." in page
    change = session.scalars(select(NarrativeChange).where(NarrativeChange.return_id == record.id)
                             .order_by(NarrativeChange.id.desc())).first()
    kisumu = load_user(session, "officer.kisumu@demo.test")
    assert (change.old_text, change.new_text, change.channel, change.changed_by_id) == (
        TEXT, TEXT + "\nSeme sheets arrived late.", "web", kisumu.id)
