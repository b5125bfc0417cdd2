"""The secretariat administers reporting forms in the browser and through the API: a form's window
and frequency from a stated quarter on (earlier quarters keep their window), and window exceptions
(one org unit's later closing date for one quarter)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mel import clock
from mel.accounts.models import AuditEvent
from mel.accounts.operations import create_token
from mel.catalogue.form_admin import add_window_exception
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Programme, ReportingForm, ReportingFormWindow, WindowException
from mel.returns.workflow import Window, window_for, window_problem
from tests.app.returns_helpers import rows_like, send, user
from tests.helpers import AFTER_CLOSE, csrf_token, login

FORM_PAGE = "/catalogue/programmes/OPCT/form"
KISUMU, MOMBASA = "042", "001"
FLOODS = "Floods cut the Kisumu county office off for three weeks"
# 2025Q3 closes on 14 November 2025 (45 days); AFTER_CLOSE is 28 November 2025. On 1 December 2025
# the quarter being reported is still 2025Q3.
DECEMBER = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)


def _form(session) -> ReportingForm:
    return session.scalar(select(ReportingForm).join(ReportingForm.programme).where(Programme.code == "OPCT"))


def _exceptions(session) -> int:
    return session.scalar(select(func.count()).select_from(WindowException))


def _audits(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, FORM_PAGE), **data})


@pytest.fixture
def secretariat(client):
    login(client, "secretariat@demo.test")
    return client


@pytest.fixture
def api(session):
    token = create_token(session, "secretariat@demo.test", name="forms").token
    return {"Authorization": f"Bearer {token}"}


def _grant_kisumu(client):
    response = _post(client, f"{FORM_PAGE}/exceptions", {"org_unit": KISUMU, "period": "2025Q3",
                                                         "closes_on": "2025-12-15", "reason": FLOODS})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def test_an_exception_lets_one_county_send_after_the_close_and_nobody_else(session, secretariat, client):
    _grant_kisumu(secretariat)
    catalogue = load_catalogue(session)
    form = catalogue.forms[catalogue.programmes["OPCT"].id]
    officer = user(session, "officer.opct@demo.test")
    today = date(2025, 11, 28)
    assert window_problem(form, "2025Q3", officer, today, catalogue.org_units[KISUMU].id) is None
    assert window_problem(form, "2025Q3", officer, today, catalogue.org_units[MOMBASA].id) == (
        "the window for FY2025/26 Q1 (Jul–Sep 2025) closed on 14 November 2025; only the secretariat can "
        "accept figures now.")
    assert window_problem(form, "2025Q3", officer, date(2025, 12, 16), catalogue.org_units[KISUMU].id) == (
        "the window for FY2025/26 Q1 (Jul–Sep 2025) closed on 15 December 2025 for Kisumu by exception: "
        f"{FLOODS}; only the secretariat can accept figures now.")
    # The import (every channel goes through it) follows the same rule: Mombasa refused, Kisumu taken.
    result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", [KISUMU, MOMBASA]), now=AFTER_CLOSE)
    refused = [issue for issue in result.errors if issue.code == "window"]
    assert refused and {issue.location.get("org_unit") for issue in refused} == {MOMBASA}
    assert "Mombasa" in refused[0].message and "closed on 14 November 2025" in refused[0].message


def test_the_grid_says_in_words_that_the_window_closes_later_by_exception(session, secretariat, client):
    _grant_kisumu(secretariat)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, "officer.opct@demo.test")
        kisumu = client.get("/returns/OPCT/042/2025Q3").get_data(as_text=True)
        mombasa = client.get("/returns/OPCT/001/2025Q3").get_data(as_text=True)
        home = client.get("/").get_data(as_text=True)
    assert f"closes 15 Dec 2025 for Kisumu by exception: {FLOODS}" in kisumu
    assert "late: was due on 15 October 2025; closes on 15 December 2025 for Kisumu by exception" in kisumu
    assert "read-only" not in kisumu and "Save draft" in kisumu
    assert "read-only" in mombasa and "closed on 14 November 2025" in mombasa and "by exception" not in mombasa
    assert "closes on 15 December 2025 for Kisumu by exception" in home


def test_removing_the_exception_closes_the_window_again_and_both_changes_are_audited(session, secretariat):
    _grant_kisumu(secretariat)
    granted = session.scalar(select(WindowException))
    [added] = _audits(session, "catalogue.window_exception_added")
    assert added.object == "reporting form OPCT-QR" and added.actor == "secretariat@demo.test"
    assert added.details == {"reason": FLOODS, "before": {}, "after": {
        "org_unit": KISUMU, "period": "2025Q3", "closes_on": "2025-12-15", "reason": FLOODS}}
    page = secretariat.get(FORM_PAGE).get_data(as_text=True)
    assert "Kisumu" in page and "15 Dec 2025" in page and "14 Nov 2025" in page
    response = _post(secretariat, f"{FORM_PAGE}/exceptions/{granted.id}/remove", {"reason": "Sent by e-mail"})
    assert response.status_code == 302
    assert _exceptions(session) == 0
    [removed] = _audits(session, "catalogue.window_exception_removed")
    assert removed.details["before"]["closes_on"] == "2025-12-15" and removed.details["reason"] == "Sent by e-mail"
    catalogue = load_catalogue(session)
    form = catalogue.forms[catalogue.programmes["OPCT"].id]
    officer = user(session, "officer.opct@demo.test")
    assert "closed on 14 November 2025" in window_problem(form, "2025Q3", officer, date(2025, 11, 28),
                                                          catalogue.org_units[KISUMU].id)


def _windows(session) -> list[tuple]:
    """The form's stated window rows (from_period, opens, due, closes) and its own days."""
    form = _form(session)
    rows = session.execute(select(ReportingFormWindow.from_period, ReportingFormWindow.opens_days,
                                  ReportingFormWindow.due_days, ReportingFormWindow.closes_days)
                           .where(ReportingFormWindow.form_id == form.id).order_by(ReportingFormWindow.from_period))
    return [(None, form.opens_days, form.due_days, form.closes_days), *map(tuple, rows)]


def test_a_window_change_from_the_quarter_reported_reopens_it_and_leaves_past_quarters_closed(session, client):
    """On 1 December 2025 the quarter reported is 2025Q3, closed on 14 November (45 days). Closing 180
    days after the quarter from 2025Q3 on reopens it; 2025Q2 (closed 14 August, 27 December with 180 days)
    stays closed."""
    officer = user(session, "officer.opct@demo.test")
    mombasa = load_catalogue(session).org_units[MOMBASA].id
    with time_machine.travel(DECEMBER, tick=False):
        form = load_catalogue(session).forms[load_catalogue(session).programmes["OPCT"].id]
        assert "closed on 14 November 2025" in window_problem(form, "2025Q3", officer, DECEMBER.date(), mombasa)
        login(client, "secretariat@demo.test")
        response = _post(client, FORM_PAGE, {"frequency": "quarterly", "opens_days": "0", "due_days": "30",
                                             "closes_days": "180", "from_period": "2025Q3", "reason": "PFM deadline"})
        assert response.status_code == 302 and response.headers["Location"].endswith("quarter=2025Q3#window")
        page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
        assert "From FY2025/26 Q1 (Jul–Sep 2025) on the window of OPCT-QR opens 0, falls due 30 and closes 180" in page
        assert "The window by quarters" in page and "before 2025Q3" in page
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        login(client, "officer.opct@demo.test")
        grid = client.get("/returns/OPCT/001/2025Q3").get_data(as_text=True)
    # The form's own days stay the window of every quarter before 2025Q3; 2025Q3 on gets the new row.
    assert _windows(session) == [(None, 0, 15, 45), ("2025Q3", 0, 30, 180)]
    [event] = _audits(session, "catalogue.form_changed")
    assert event.details == {
        "reason": "PFM deadline", "from_period": "2025Q3", "replaced": [],
        "before": {"frequency": "quarterly", "opens_days": 0, "due_days": 15, "closes_days": 45},
        "after": {"frequency": "quarterly", "opens_days": 0, "due_days": 30, "closes_days": 180}}
    # Every entry point reads the catalogue again at once: 2025Q3 is open (late), 2025Q2 stays closed.
    catalogue = load_catalogue(session)
    form = catalogue.forms[catalogue.programmes["OPCT"].id]
    assert window_problem(form, "2025Q3", officer, DECEMBER.date(), mombasa) is None
    assert window_problem(form, "2025Q2", officer, DECEMBER.date(), mombasa) == (
        "the window for FY2024/25 Q4 (Apr–Jun 2025) closed on 14 August 2025; only the secretariat can "
        "accept figures now.")
    assert window_for(form, "2025Q2") == Window(date(2025, 6, 30), date(2025, 7, 15), date(2025, 8, 14))
    assert window_for(form, "2025Q3") == Window(date(2025, 9, 30), date(2025, 10, 30), date(2026, 3, 29))
    assert window_for(form, "2025Q4").closes == date(2026, 6, 29) and window_for(form, "2026").closes == date(2027, 6, 29)
    assert "late: was due on 30 October 2025; closes on 29 March 2026" in grid and "read-only" not in grid
    with time_machine.travel(DECEMBER, tick=False):  # the import of every channel agrees
        result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", [MOMBASA]), now=DECEMBER)
    assert not [issue for issue in result.errors if issue.code == "window"]


def test_a_window_change_from_a_past_quarter_is_refused_with_its_field_named_and_nothing_saved(session, client, api):
    with time_machine.travel(DECEMBER, tick=False):
        login(client, "secretariat@demo.test")
        response = _post(client, FORM_PAGE, {"frequency": "quarterly", "opens_days": "0", "due_days": "15",
                                             "closes_days": "120", "from_period": "2025Q2", "reason": "Late"})
        through_api = client.put("/api/v1/forms/OPCT", headers=api,
                                 json={"closes_days": 120, "from_period": "2025Q2", "reason": "Late"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and through_api.status_code == 422
    words = ("from_period: FY2024/25 Q4 (Apr–Jun 2025) is before FY2025/26 Q1 (Jul–Sep 2025), the quarter being "
             "reported now")
    assert words in page and 'value="2025Q2"' in page and 'value="120"' in page
    [detail] = through_api.json["details"]
    assert words in detail["message"] and detail["location"] == {"field": "from_period", "value": "2025Q2"}
    assert _windows(session) == [(None, 0, 15, 45)] and not _audits(session, "catalogue.form_changed")


def test_a_window_stated_again_replaces_the_later_one_and_the_api_shows_the_windows(session, client, api):
    with time_machine.travel(DECEMBER, tick=False):
        def put(**change):
            return client.put("/api/v1/forms/OPCT", headers=api, json={"reason": "PFM calendar", **change})

        ahead = put(closes_days=90, from_period="2026Q1")
        assert ahead.status_code == 200, ahead.json
        assert ahead.json["quarter"] == "2025Q3" and ahead.json["closes_days"] == 45  # the quarter reported
        assert ahead.json["windows"] == [
            {"from": None, "until": "2026Q1", "frequency": "quarterly", "opens_days": 0, "due_days": 15, "closes_days": 45},
            {"from": "2026Q1", "until": None, "frequency": "quarterly", "opens_days": 0, "due_days": 15, "closes_days": 90}]
        nearer = put(closes_days=60, due_days=20, from_period="2025Q4")
        assert nearer.status_code == 200 and [w["from"] for w in nearer.json["windows"]] == [None, "2025Q4"]
        assert _windows(session) == [(None, 0, 15, 45), ("2025Q4", 0, 20, 60)]
        first, second = _audits(session, "catalogue.form_changed")
        assert first.details["from_period"] == "2026Q1" and first.details["replaced"] == []
        assert second.details["before"]["closes_days"] == 45 and second.details["after"]["closes_days"] == 60
        assert second.details["replaced"] == [
            {"from": "2026Q1", "until": None, "frequency": "quarterly", "opens_days": 0, "due_days": 15, "closes_days": 90}]
        # Stating the form's own days again from 2025Q4 leaves one stretch: no needless row.
        back = put(closes_days=45, due_days=15, from_period="2025Q4")
        assert back.status_code == 200 and len(back.json["windows"]) == 1 and _windows(session) == [(None, 0, 15, 45)]
        same = put(closes_days=45, from_period="2025Q4")
        assert same.status_code == 409 and "already has this window" in same.json["message"]
        # Without from_period a window change applies from the quarter being reported.
        default = put(due_days=25)
        assert default.status_code == 200 and default.json["due_days"] == 25
        assert _audits(session, "catalogue.form_changed")[-1].details["from_period"] == "2025Q3"
        # With the contents in one change, the window follows the contents' from_period.
        order = [item["indicator"] for item in default.json["indicators"]]
        both = put(due_days=30, from_period="2026Q2",
                   indicators=[{"indicator": code, "required": True} for code in reversed(order)])
        assert both.status_code == 200, both.json
        assert both.json["windows"][-1] == {"from": "2026Q2", "until": None, "frequency": "quarterly", "opens_days": 0, "due_days": 30,
                                            "closes_days": 45}
        assert _audits(session, "catalogue.form_changed")[-1].details["from_period"] == "2026Q2"
        assert _audits(session, "catalogue.form_contents_changed")[-1].details["from_period"] == "2026Q2"


@pytest.mark.parametrize(("data", "where", "words"), [
    ({"due_days": "x"}, "due_days", "'x' is not a whole number"),
    ({"closes_days": "400"}, "closes_days", "400 days is outside 0–366"),
    ({"opens_days": "-1"}, "opens_days", "-1 days is outside"),
    ({"due_days": "70"}, "due_days", "open, fall due and close in that order"),
    ({"frequency": "annual"}, "frequency", "is not a form's frequency: a form asks figures quarterly or monthly"),
    ({"reason": " "}, "reason", "say why"),
    ({"from_period": "2025Q9"}, "from_period", "'2025Q9' is not a period"),
    ({"from_period": "2025July"}, "from_period", "is not a quarter"),
    ({"from_period": "2025Q2"}, "from_period", "is before"),
    ({"from_period": "2099Q1"}, "from_period", "quarters ahead"),
])
def test_a_bad_window_is_refused_with_its_field_named_and_nothing_saved(session, secretariat, data, where, words):
    values = {"frequency": "quarterly", "opens_days": "0", "due_days": "15", "closes_days": "60",
              "reason": "Test", **data}
    response = _post(secretariat, FORM_PAGE, values)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert f"{where}: " in page and words in page, page
    form = _form(session)
    assert (form.frequency, form.opens_days, form.due_days, form.closes_days) == ("quarterly", 0, 15, 45)
    assert _windows(session) == [(None, 0, 15, 45)] and not _audits(session, "catalogue.form_changed")


@pytest.mark.parametrize(("data", "where", "words"), [
    ({"org_unit": ""}, "org_unit", "choose the org unit"),
    ({"org_unit": "999"}, "org_unit", "'999' is not a known org unit"),
    ({"period": "2025Q9"}, "period", "'2025Q9' is not a period"),
    ({"period": "2025July"}, "period", "is not a quarter"),
    ({"closes_on": "15/12/2025"}, "closes_on", "'15/12/2025' is not a date"),
    ({"closes_on": "2025-11-10"}, "closes_on", "is not after the form's own closing date"),
    ({"closes_on": "2027-01-01"}, "closes_on", "more than 366 days after"),
    ({"reason": ""}, "reason", "say why"),
])
def test_a_bad_exception_is_refused_with_its_field_named_and_nothing_saved(session, secretariat, data, where, words):
    values = {"org_unit": KISUMU, "period": "2025Q3", "closes_on": "2025-12-15", "reason": FLOODS, **data}
    response = _post(secretariat, f"{FORM_PAGE}/exceptions", values)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert f"{where}: " in page and words in page, page
    assert _exceptions(session) == 0 and not _audits(session, "catalogue.window_exception_added")


def test_an_org_unit_off_the_form_and_a_second_exception_are_refused(session, secretariat, api, client):
    catalogue = load_catalogue(session)
    hsnp_units = {u.code for u in catalogue.forms[catalogue.programmes["HSNP"].id].org_units_in("2025Q3")}
    outside = next(code for code in ("001", "047", "030") if code not in hsnp_units)
    response = client.post("/api/v1/forms/HSNP/window-exceptions", headers=api, json={
        "org_unit": outside, "period": "2025Q3", "closes_on": "2025-12-15", "reason": "x"})
    assert response.status_code == 422 and "is not on the HSNP-QR form" in response.json["details"][0]["message"]
    assert response.json["details"][0]["location"]["field"] == "org_unit"
    _grant_kisumu(secretariat)
    again = _post(secretariat, f"{FORM_PAGE}/exceptions", {"org_unit": KISUMU, "period": "2025Q3",
                                                           "closes_on": "2025-12-20", "reason": "Again"})
    assert again.status_code == 409 and "already has an exception" in again.get_data(as_text=True)
    assert _exceptions(session) == 1


def test_the_api_changes_the_window_and_manages_exceptions_with_the_same_rules(session, client, api):
    form = client.get("/api/v1/forms/OPCT", headers=api)
    assert form.status_code == 200 and form.json["code"] == "OPCT-QR" and form.json["closes_days"] == 45
    assert {"indicator": "SA01", "required": True} in form.json["indicators"] and KISUMU in form.json["org_units"]
    bad = client.put("/api/v1/forms/OPCT", headers=api, json={"due_days": 60, "reason": "x"})
    assert bad.status_code == 422 and "in that order" in bad.json["details"][0]["message"]
    changed = client.put("/api/v1/forms/OPCT", headers=api, json={"closes_days": 50, "reason": "PFM"})
    assert changed.status_code == 200 and changed.json["closes_days"] == 50
    [event] = _audits(session, "catalogue.form_changed")
    assert (event.details["before"]["closes_days"], event.details["after"]["closes_days"]) == (45, 50)
    assert event.details["from_period"] == clock.reporting_quarter().id  # by default, the quarter reported
    created = client.post("/api/v1/forms/OPCT/window-exceptions", headers=api, json={
        "org_unit": KISUMU, "period": "2025Q3", "closes_on": "2025-12-15", "reason": FLOODS})
    assert created.status_code == 201, created.json
    assert created.json["org_unit"] == KISUMU and created.json["closes_on"] == "2025-12-15"
    listed = client.get("/api/v1/forms/OPCT/window-exceptions", headers=api).json
    assert [g["id"] for g in listed] == [created.json["id"]]
    no_reason = client.delete(f"/api/v1/forms/OPCT/window-exceptions/{created.json['id']}", headers=api)
    assert no_reason.status_code == 422 and _exceptions(session) == 1
    gone = client.delete(f"/api/v1/forms/OPCT/window-exceptions/{created.json['id']}?reason=Sent", headers=api)
    assert gone.status_code == 204 and _exceptions(session) == 0
    assert client.delete(f"/api/v1/forms/OPCT/window-exceptions/{created.json['id']}?reason=Sent",
                         headers=api).status_code == 404
    assert client.get("/api/v1/forms/NOPE", headers=api).status_code == 404
    spec = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "put"} <= set(spec["/api/v1/forms/{code}"])
    assert {"get", "post"} <= set(spec["/api/v1/forms/{code}/window-exceptions"])


NEW_ROUTES = [("GET", FORM_PAGE), ("POST", FORM_PAGE), ("POST", f"{FORM_PAGE}/exceptions"),
              ("POST", f"{FORM_PAGE}/exceptions/1/remove")]
API_ROUTES = [("GET", "/api/v1/forms/OPCT"), ("PUT", "/api/v1/forms/OPCT"),
              ("GET", "/api/v1/forms/OPCT/window-exceptions"), ("POST", "/api/v1/forms/OPCT/window-exceptions"),
              ("DELETE", "/api/v1/forms/OPCT/window-exceptions/1?reason=x")]


@pytest.mark.parametrize("email", ["officer.opct@demo.test", "reviewer@demo.test", "viewer@demo.test"])
def test_only_the_secretariat_administers_forms(session, client, email):
    login(client, email)
    token = csrf_token(client, "/")
    for method, path in NEW_ROUTES:
        response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 403, (method, path, response.status_code)
    headers = {"Authorization": f"Bearer {create_token(session, email, name='forms').token}"}
    for method, path in API_ROUTES:
        body = {"org_unit": KISUMU, "period": "2025Q3", "closes_on": "2025-12-15", "reason": "x"} \
            if method == "POST" else {"closes_days": 50, "reason": "x"} if method == "PUT" else None
        response = client.open(path, method=method, headers=headers, json=body)
        assert response.status_code == 403, (method, path, response.status_code)
    assert _exceptions(session) == 0 and _windows(session) == [(None, 0, 15, 45)]


_TEXT = st.one_of(st.none(), st.text(max_size=12), st.integers(-10**12, 10**12), st.booleans(),
                  st.sampled_from(["042", "2025Q3", "2025-12-15", "quarterly", "2025July", "", "0"]))


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=st.dictionaries(st.sampled_from(["org_unit", "period", "closes_on", "reason", "frequency",
                                                "opens_days", "due_days", "closes_days", "from_period", "extra"]),
                               _TEXT))
def test_random_payloads_never_give_500_and_change_nothing_unless_accepted(session, client, api, payload):
    before = (_exceptions(session), _windows(session))
    for method, path in (("PUT", "/api/v1/forms/OPCT"), ("POST", "/api/v1/forms/OPCT/window-exceptions")):
        response = client.open(path, method=method, headers=api, json=payload)
        assert response.status_code < 500, (payload, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            session.expire_all()
            assert (_exceptions(session), _windows(session)) == before
        before = (_exceptions(session), _windows(session))


def test_when_one_county_closes_later_the_other_entry_points_agree(session):
    """`window_for` without an org unit (the scheduler's reminders) keeps the form's own dates."""
    add_window_exception(session, user(session, "secretariat@demo.test"), "OPCT",
                         {"org_unit": "Kisumu", "period": "2025Q3", "closes_on": "2025-12-15", "reason": FLOODS})
    kisumu = load_catalogue(session).org_units[KISUMU]
    catalogue = load_catalogue(session)
    loaded = catalogue.forms[catalogue.programmes["OPCT"].id]
    assert window_for(loaded, "2025Q3").closes == date(2025, 11, 14)
    assert window_for(loaded, "2025Q3", kisumu.id).closes == date(2025, 12, 15)
    assert window_for(loaded, "2025Q4", kisumu.id).closes == date(2026, 2, 14)


def test_the_form_page_links_to_the_audit_of_the_form_and_of_the_programme(as_user, session):
    from mel.catalogue.form_admin import save_window

    save_window(session, user(session, "secretariat@demo.test"), "OPCT",
                {"opens_days": 0, "due_days": 20, "closes_days": 45, "reason": "Counties asked for five more days"})
    client = as_user("secretariat@demo.test")
    page = client.get(FORM_PAGE).get_data(as_text=True)
    links = {text: href for href, text in
             re.findall(r'<a href="(/admin/audit\?object=[^"]+)">(Changes to th[a-z ]+)</a>', page)}
    assert sorted(links) == ["Changes to the programme", "Changes to this form"], links
    form_audit = client.get(html.unescape(links["Changes to this form"])).get_data(as_text=True)
    assert "Counties asked for five more days" in form_audit
    assert client.get(html.unescape(links["Changes to the programme"])).status_code == 200
