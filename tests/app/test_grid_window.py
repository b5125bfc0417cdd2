"""The window is known before typing (home page and grid), and a stale save offers both values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from indicators.validation import VALUE_MESSAGES, entry_rules, parse_numbers, value_issues
from mel.accounts.models import User
from mel.catalogue.models import Indicator, OptionCombo
from mel.returns.models import DataValue, Return
from mel.returns.workflow import Window
from mel.web.filters import plain
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import (
    AFTER_CLOSE,
    PAGE,
    grid_form,
    input_value,
    login,
    saved_draft,
    submitted_return,
    textarea,
)

# 2025Q3 (July–September 2025): opens 30 September, due 15 October, closes 14 November 2025.
NAIROBI_NOON = 9  # UTC hour


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=NAIROBI_NOON, tzinfo=UTC)


def home(client, email: str, when: datetime) -> str:
    with time_machine.travel(when, tick=False):
        login(client, email)
        response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def row_of(page: str, org_unit: str, programme: str) -> str:
    """The officer's home-page row of one expected return."""
    rows = re.findall(r"<tr><td>(.*?)</tr>", page, re.S)
    found = [r for r in rows if r.startswith(programme + "</td>") and f">{org_unit}</a>" in r]
    assert found, f"no row for {programme} {org_unit}"
    return found[0]


@pytest.mark.parametrize(("day", "words"), [
    ("2025-10-12", "due in 3 days"),
    ("2025-10-14", "due in 1 day"),
    ("2025-10-15", "due today"),
    ("2025-10-20", "late: was due on 15 October 2025; closes on 14 November 2025"),
    ("2025-11-28", "closed on 14 November 2025"),
])
def test_the_officers_home_says_where_the_window_stands(client, day, words):
    page = home(client, "officer.kisumu@demo.test", at(day))
    card = re.search(r'<div class="card calendar">.*?</div>', page, re.S).group(0)
    assert f"Window: <strong>{words}</strong>" in card, card
    assert words in row_of(page, "Kisumu", "OPCT")
    # the closed window is never announced as open ("Reporting now … due 15 October" after it closed)
    if day == "2025-11-28":
        assert "only the secretariat can accept figures now" in card and "due in" not in page


def test_a_submitted_return_says_when_it_was_sent_instead_of_the_window(client, session):
    submitted_return(session)
    page = home(client, "officer.opct@demo.test", at("2025-10-20"))
    assert "sent on time" in row_of(page, "Kisumu", "OPCT")
    assert "late: was due on" in row_of(page, "Mombasa", "OPCT")


def test_a_closed_window_shows_the_grid_read_only_with_the_reason_and_who_to_ask(client, session):
    secretariat = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, "officer.opct@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
    assert "This return is read-only for you." in page
    assert ("The window for FY2025/26 Q1 (Jul–Sep 2025) closed on 14 November 2025; only the secretariat "
            "can accept figures now.") in page
    assert f"{secretariat.name} &lt;secretariat@demo.test&gt;" in page
    assert 'class="num"' in page and "<input class=\"num" not in page  # figures shown, none typed into
    assert "Save draft" not in page and 'data-editable' not in page
    assert "Window: opens 30 Sep 2025, due 15 Oct 2025, closes 14 Nov 2025 — <strong>closed on 14 November 2025" in page


def test_the_contact_comes_from_the_setting_when_there_is_one(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SECRETARIAT_CONTACT", "MEL desk, +254 20 000 0000, mel@sps.example")
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, "officer.kisumu@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
    assert "Who to ask: MEL desk, +254 20 000 0000, mel@sps.example." in page


def test_the_secretariat_still_types_after_the_window_closed(client):
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, "secretariat@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
    assert "read-only" not in page and '<input class="num' in page and "Save draft" in page


def test_an_open_window_gives_the_browser_the_servers_value_rules(client):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        page = client.get(PAGE).get_data(as_text=True)
    assert "<strong>due in 10 days</strong>" in page
    assert "/static/js/grid.js" in page and "/static/css/grid.css" in page
    rules = re.search(r"data-rules='([^']*)'", page).group(1)
    import json

    assert json.loads(rules) == json.loads(json.dumps(entry_rules()))
    field = re.search(r'<input class="num"[^>]*name="v\.SA12\.numerator\.F"[^>]*>', page).group(0)
    assert 'data-measure="ratio"' in field and 'data-component="numerator"' in field


@pytest.mark.parametrize(("raw", "measure", "component", "problem"), [
    ("1,000", "count", "value", "thousands_separator"),
    ("12x", "count", "value", "not_a_number"),
    ("-4", "count", "value", "negative"),
    ("4.5", "ratio", "numerator", "not_whole"),
    ("10.005", "amount", "value", "too_many_decimals"),
    ("95%", "ratio", "numerator", "percent_sign"),
    ("1e16", "amount", "value", "too_large"),
])
def test_the_messages_the_browser_gets_are_the_servers(raw, measure, component, problem):
    import pandas as pd

    frame = pd.DataFrame([{"indicator": "SA12", "component": component, "option": "F", "value": raw}])
    parsed = parse_numbers(frame, pd.Series([measure]))
    [issue] = value_issues(parsed)
    assert issue.code == problem
    kind = entry_rules()["kinds"]["value" if component == "value" else "part"]
    expected = VALUE_MESSAGES[problem].format(quoted=repr(raw), raw=raw, fixed=raw.replace(",", ""),
                                              indicator="SA12", kind=kind)
    assert issue.what == expected


def stored(session, code: str, component: str, option: str):
    return session.scalar(
        select(DataValue.value).join(Indicator, Indicator.id == DataValue.indicator_id)
        .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
        .where(Indicator.code == code, DataValue.component == component, OptionCombo.code == option,
               DataValue.period == "2025Q3"))


def test_a_stale_save_shows_each_figure_both_ways_and_saves_the_choices(client, session):
    saved_draft(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        data = grid_form(session, client, version="1")
        saved_draft(session, factor=1.02)  # someone else saves first: version 2
        theirs_m = plain(stored(session, "SA02", "value", "M"))
        data["v.SA02.value.F"] = "4321"
        response = client.post(PAGE, data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 409, page[:2000]
        stale = re.search(r'<section class="card stale".*?</section>', page, re.S).group(0)
        assert "Someone else saved this return after you opened it" in stale
        assert re.search(r'name="pick\.v\.SA02\.value\.F" value="mine"[^>]*checked> 4321', stale)
        theirs_f = plain(stored(session, "SA02", "value", "F"))
        assert f'name="pick.v.SA02.value.F" value="theirs" data-field="v.SA02.value.F" data-value="{theirs_f}"> {theirs_f}' in stale
        assert 'name="resolved_version" value="2"' in stale
        assert input_value(page, "v.SA02.value.F") == "4321" and input_value(page, "version") == "1"
        # The officer keeps 4321 for women, takes the other person's figure for men (typed 1% lower).
        again = data | {"pick.v.SA02.value.F": "mine", "pick.v.SA02.value.M": "theirs", "resolved_version": "2"}
        assert again["v.SA02.value.M"] != theirs_m
        response = client.post(PAGE, data=again)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert plain(stored(session, "SA02", "value", "F")) == "4321"
    assert plain(stored(session, "SA02", "value", "M")) == theirs_m
    assert session.scalar(select(Return.version).where(Return.period == "2025Q3")) > 2  # saved on top of theirs


@pytest.mark.parametrize("field", ["version", "resolved_version"])
def test_a_version_that_is_not_a_number_is_refused_by_name(client, session, field):
    saved_draft(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        data = grid_form(session, client, version="1") | {field: "two"}
        response = client.post(PAGE, data=data)
    assert response.status_code == 422
    assert f"The form field &#39;{field}&#39; must be a whole number" in response.get_data(as_text=True)


def test_a_refused_save_after_the_window_closed_keeps_the_figures_read_only(client, session):
    saved_draft(session)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, "officer.opct@demo.test")
        data = grid_form(session, client, version="1")
        data["v.SA02.value.F"] = "4321"
        page = client.post(PAGE, data=data).get_data(as_text=True)
    field = re.search(r'<input class="num[^>]*name="v\.SA02\.value\.F"[^>]*>', page).group(0)
    assert 'value="4321"' in field and "readonly" in field
    assert textarea(page, "narrative") == "Two payment cycles paid."
    assert "Save draft" not in page


@pytest.mark.parametrize(("day", "state", "words"), [
    (date(2025, 9, 29), "not_open", "opens on 30 September 2025"),
    (date(2025, 9, 30), "open", "due in 15 days"),
    (date(2025, 10, 15), "open", "due today"),
    (date(2025, 10, 16), "late", "late: was due on 15 October 2025; closes on 14 November 2025"),
    (date(2025, 11, 14), "late", "late: was due on 15 October 2025; closes on 14 November 2025"),
    (date(2025, 11, 15), "closed", "closed on 14 November 2025"),
])
def test_a_window_reads_as_an_officer_would_say_it(day, state, words):
    window = Window(date(2025, 9, 30), date(2025, 10, 15), date(2025, 11, 14))
    assert window.state(day) == state and window.words(day) == words
