"""Every refused save in the web grid re-renders the grid with the typed values and located messages."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import func, select

from mel.returns.models import DataValue, Return
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import AFTER_CLOSE, PAGE, grid_form, input_value, login, saved_draft, textarea

ROLES = ["officer.kisumu@demo.test", "officer.opct@demo.test", "secretariat@demo.test"]


def figures(session) -> list:
    return session.execute(select(DataValue.indicator_id, DataValue.component, DataValue.option_combo_id,
                                  DataValue.value).where(DataValue.period == "2025Q3")
                           .order_by(DataValue.id)).all()


@pytest.mark.parametrize("started", [True, False], ids=["draft", "not-started"])
@pytest.mark.parametrize("email", ROLES)
def test_a_typo_in_a_cell_shows_the_cell_error_and_keeps_every_typed_value(email, started, client, session):
    if started:
        saved_draft(session)
    before = figures(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, email)
        data = grid_form(session, client, version="1" if started else "0")
        data["v.SA02.value.F"] = "1,000"
        data["v.SA01.value.F_A70P"] = "12x"
        response = client.post(PAGE, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:2000]
    assert "Nothing was saved." in page
    assert "&#39;1,000&#39; has a thousands separator, which is read as text. Type 1000." in page
    assert re.search(r'name="v\.SA02\.value\.F"[^>]*aria-invalid="true"', page)
    assert 'class="cell-error" id="err-v-SA01-value-F_A70P"' in page
    # The error summary links each problem to its figure's field (WCAG: the summary leads to the fields).
    summary = page.split('id="problems"')[1].split("</div>")[0]
    assert '<a href="#v.SA02.value.F">' in summary and '<a href="#v.SA01.value.F_A70P">' in summary
    assert 'id="v.SA02.value.F"' in page
    assert input_value(page, "v.SA02.value.F") == "1,000" and input_value(page, "v.SA01.value.F_A70P") == "12x"
    assert input_value(page, "v.SA14.value.F_A70P") == data["v.SA14.value.F_A70P"]
    assert input_value(page, "c.SA02.value.F") == "checked against the payroll"
    assert textarea(page, "narrative") == "Two payment cycles paid."
    assert figures(session) == before
    assert session.scalar(select(func.count()).select_from(Return).where(Return.period == "2025Q3")) == int(started)


@pytest.mark.parametrize("email", ROLES)
def test_a_stale_version_shows_the_conflict_and_keeps_the_typed_values(email, client, session):
    saved_draft(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, email)
        data = grid_form(session, client, version="1")
        # Someone else saves first: the return moves to version 2.
        saved_draft(session, factor=1.02)
        before = figures(session)
        data["v.SA02.value.F"] = "4321"
        response = client.post(PAGE, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409, page[:2000]
    assert "This return is now at version 2, but you edited version 1." in page
    assert "officer.opct@demo.test changed" in page
    assert input_value(page, "v.SA02.value.F") == "4321"
    assert textarea(page, "narrative") == "Two payment cycles paid."
    # The form still carries the version the typed values were based on: saving again conflicts again.
    assert input_value(page, "version") == "1"
    assert figures(session) == before


@pytest.mark.parametrize("email", ["officer.kisumu@demo.test", "officer.opct@demo.test"])
def test_a_closed_window_shows_why_and_keeps_the_typed_values(email, client, session):
    saved_draft(session)
    before = figures(session)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, email)
        data = grid_form(session, client, version="1")
        data["v.SA02.value.F"] = "4321"
        response = client.post(PAGE, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:2000]
    assert "closed on 14 November 2025; only the secretariat can accept figures now" in page
    assert input_value(page, "v.SA02.value.F") == "4321"
    assert textarea(page, "narrative") == "Two payment cycles paid."
    assert figures(session) == before


@pytest.mark.parametrize("email", ROLES)
def test_check_only_re_renders_the_typed_values_and_stores_nothing(email, client, session):
    saved_draft(session)
    before = figures(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, email)
        data = grid_form(session, client, version="1", action="check")
        data["v.SA02.value.F"] = "4321"
        response = client.post(PAGE, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert "Check only: check only, nothing stored" in page
    assert input_value(page, "v.SA02.value.F") == "4321"
    assert textarea(page, "narrative") == "Two payment cycles paid."
    assert figures(session) == before


def test_a_refused_submit_keeps_the_saved_draft_and_lists_the_reasons(client, session):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        data = grid_form(session, client, action="submit")
        for name in [k for k in data if k.startswith("v.SA12.")]:
            data[name] = ""
        response = client.post(PAGE, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        page = client.get(PAGE).get_data(as_text=True)
    assert "Saved:" in page and "cannot be submitted" in page
    assert "SA12.N" in page and "this figure is required but empty" in page
    record = session.scalar(select(Return).where(Return.period == "2025Q3"))
    assert record.state == "draft" and record.narrative == "Two payment cycles paid."
    assert textarea(page, "narrative") == "Two payment cycles paid."
