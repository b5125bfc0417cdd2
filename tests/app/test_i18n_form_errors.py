"""The errors of the programme and form administration and of the results-framework editor in the
reader's language (issue 19): a Kiswahili account reads them in Kiswahili on the pages (the error box,
each field's error, the 403 and 404 pages), while /api/v1 answers the same refusal in English, word for
word as before. The English of each converted message is checked against the text it always had."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

from indicators.messages import say
from mel.accounts.operations import create_token
from mel.catalogue import form_admin, form_contents
from mel.catalogue.form_admin import REFUSALS, checked_reason, date_words, refusal, stated_quarter
from mel.catalogue.operations import save_results_framework
from mel.errors import ErrorDetail, ValidationFailed
from tests.app.returns_helpers import rows_like, send
from tests.app.test_i18n import visible_text
from tests.helpers import choose_language, csrf_token, login

SECRETARIAT = "secretariat@demo.test"
FORM_PAGE = "/catalogue/programmes/OPCT/form"
# On 1 December 2025 the quarter being reported is 2025Q3 (FY2025/26 Q1), whose window closed on 14 November.
DECEMBER = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
FILES = ("mel/catalogue/form_admin.py", "mel/catalogue/form_contents.py", "mel/catalogue/programme_admin.py",
         "mel/catalogue/form_views.py", "mel/catalogue/views.py", "mel/catalogue/operations.py")


@pytest.fixture(autouse=True)
def reporting_2025q3():
    with time_machine.travel(DECEMBER, tick=False):
        yield



@pytest.fixture
def api(session):
    return {"Authorization": f"Bearer {create_token(session, SECRETARIAT, name='i18n forms').token}"}


def _post(client, path: str, data: dict, page: str = FORM_PAGE):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _text(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


def _messages(body: dict) -> list[str]:
    return [body["message"], *(d["message"] for d in body.get("details", []))]


# --------------------------------------------------------------------------- the pages and the API


def test_a_refused_window_change_reads_kiswahili_and_the_api_keeps_its_english(swahili, client, api):
    bad = {"frequency": "annual", "opens_days": "0", "due_days": "70", "closes_days": "45",
           "from_period": "2025Q2", "reason": " "}
    response = _post(swahili, FORM_PAGE, bad)
    assert response.status_code == 422
    page = _text(response)
    assert "Muda wa kuwasilisha wa OPCT-QR haukuhifadhiwa." in page
    assert ("from_period: Mwaka wa Fedha 2024/25, Robo ya 4 (Apr–Jun 2025) iko kabla ya Mwaka wa Fedha 2025/26, "
            "Robo ya 1 (Jul–Sep 2025), robo inayoripotiwa sasa") in page
    assert ("frequency: 'annual' si marudio ya fomu: fomu huomba takwimu kila robo ya mwaka au kila mwezi."
            in page)
    assert "reason: eleza kwa nini unafanya mabadiliko haya (huhifadhiwa katika kumbukumbu za ukaguzi)." in page
    for english in ("was not saved", "is before", "is not a form's frequency", "say why", "kept in the audit",
                    "the quarter being reported now"):
        assert english not in page, english
    # the order of the days, refused alone (the quarter is good), in Kiswahili too
    order = _text(_post(swahili, FORM_PAGE, {**bad, "frequency": "quarterly", "from_period": "2025Q3",
                                              "reason": "PFM calendar"}))
    assert ("due_days: muda wa kuwasilisha lazima ufunguliwe, ufikie mwisho na ufungwe kwa mpangilio huo "
            "(unafunguliwa siku 0, mwisho ni siku 70 na unafungwa siku 45 baada ya robo).") in order
    assert "in that order" not in order

    through_api = client.put("/api/v1/forms/OPCT", headers=api, json={
        "due_days": 70, "closes_days": 45, "from_period": "2025Q2", "reason": "x"})
    assert through_api.status_code == 422
    assert _messages(through_api.json) == [
        "The window of OPCT-QR was not saved.",
        "from_period: FY2024/25 Q4 (Apr–Jun 2025) is before FY2025/26 Q1 (Jul–Sep 2025), the quarter being "
        "reported now; closed quarters keep the form their returns were made with. State 2025Q3 or later.",
        "due_days: the window must open, fall due and close in that order (opens 0, due 70, closes 45 days after "
        "the quarter)."]


def test_window_exception_errors_say_their_dates_in_kiswahili(swahili, client, api):
    early = _post(swahili, f"{FORM_PAGE}/exceptions", {"org_unit": "042", "period": "2025Q3",
                                                        "closes_on": "2025-11-10", "reason": "Floods"})
    assert early.status_code == 422
    page = _text(early)
    assert "Msamaha wa muda wa kuwasilisha kwenye OPCT-QR haukuhifadhiwa." in page
    assert ("closes_on: 10 Novemba 2025 si baada ya tarehe ya kufungwa ya fomu yenyewe kwa Mwaka wa Fedha "
            "2025/26, Robo ya 1 (Jul–Sep 2025) (14 Novemba 2025); msamaha unaruhusu ripoti kutumwa baadaye.") in page
    assert "November" not in page and "is not after" not in page
    unknown = _text(_post(swahili, f"{FORM_PAGE}/exceptions", {"org_unit": "999", "period": "2025Q9",
                                                                "closes_on": "15/12/2025", "reason": "Floods"}))
    assert "org_unit: '999' si eneo linalojulikana." in unknown
    assert "period: '2025Q9' si kipindi (" in unknown and "closes_on: '15/12/2025' si tarehe: tumia muundo" in unknown
    assert "is not a known org unit" not in unknown and "is not a date" not in unknown
    granted = _post(swahili, f"{FORM_PAGE}/exceptions", {"org_unit": "042", "period": "2025Q3",
                                                          "closes_on": "2025-12-15", "reason": "Floods"})
    assert granted.status_code == 302
    again = _post(swahili, f"{FORM_PAGE}/exceptions", {"org_unit": "042", "period": "2025Q3",
                                                        "closes_on": "2025-12-20", "reason": "Again"})
    assert again.status_code == 409
    assert ("Kisumu tayari lina msamaha wa Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025) (unafungwa tarehe "
            "15 Desemba 2025); uondoe kwanza ili kutoa tarehe nyingine.") in _text(again)

    through_api = client.post("/api/v1/forms/OPCT/window-exceptions", headers=api, json={
        "org_unit": "042", "period": "2025Q3", "closes_on": "2025-12-20", "reason": "Again"})
    assert through_api.status_code == 409 and through_api.json["message"] == (
        "Kisumu already has an exception for FY2025/26 Q1 (Jul–Sep 2025) (closes on 15 December 2025); remove it "
        "first to give another date.")
    too_early = client.post("/api/v1/forms/OPCT/window-exceptions", headers=api, json={
        "org_unit": "001", "period": "2025Q3", "closes_on": "2025-11-10", "reason": "Floods"})
    assert too_early.status_code == 422 and _messages(too_early.json) == [
        "The window exception on OPCT-QR was not saved.",
        "closes_on: 10 November 2025 is not after the form's own closing date for FY2025/26 Q1 (Jul–Sep 2025) "
        "(14 November 2025); an exception lets a return be sent later."]


def test_a_refused_programme_reads_kiswahili_by_its_fields_and_the_api_keeps_its_english(swahili, client, api):
    new = "/catalogue/programmes/new"
    response = _post(swahili, new, {"code": "K$", "name": "Kisumu County Cash Transfer", "pillar": "nope",
                                    "agency": "", "level": "regional", "from_period": "2025Q3", "reason": ""},
                     page=new)
    assert response.status_code == 422
    page = _text(response)
    assert "Mpango haukuundwa." in page
    assert "code: 'K$' inaweza kutumia herufi A–Z, tarakimu, - na _ pekee." in page
    assert "pillar: 'nope' si nguzo; chagua mojawapo ya" in page
    assert "agency: sehemu hii inahitajika." in page
    assert "level: 'regional' si ngazi;" in page
    assert "org_units: chagua mahali mpango unapofanya kazi (angalau eneo moja)." in page
    # each field's own error (beside the field) is in Kiswahili too
    markup = html.unescape(response.get_data(as_text=True))
    assert '<p class="field-error" id="pillar-error">pillar: \'nope\' si nguzo;' in markup
    for english in ("was not created", "is not a pillar", "this is required", "may use only", "choose where"):
        assert english not in page, english

    through_api = client.post("/api/v1/programmes", headers=api, json={
        "code": "KSMCT", "name": "Kisumu County Cash Transfer", "pillar": "nope", "agency": "County of Kisumu",
        "level": "county", "org_units": ["999"], "from_period": "2025Q3", "reason": "New scheme"})
    assert through_api.status_code == 422
    messages = _messages(through_api.json)
    assert messages[0] == "The programme was not created."
    assert any(m.startswith("pillar: 'nope' is not a pillar; choose one of ") for m in messages)
    assert ("org_units[0]: '999' is not an org unit: use KE, a county code (001–047, e.g. 042), a sub-county code "
            "(SC001–SC290), a ward code (W0001–W1450), or a name.") in messages


def test_a_refused_programme_change_and_form_contents_read_kiswahili(swahili, client, api):
    edit = "/catalogue/programmes/HSNP/edit"
    same = _post(swahili, edit, {"name": "", "pillar": "social_assistance", "agency": "NDMA", "level": "national",
                                 "from_period": "2025Q3", "reason": "Tidy"}, page=edit)
    assert same.status_code == 422
    page = _text(same)
    assert "Mpango HSNP haukuhifadhiwa." in page and "name: sehemu hii inahitajika." in page
    assert "was not saved" not in page

    contents = _post(swahili, f"{FORM_PAGE}/contents", {"indicator": ["SA01"], "order.SA01": "1",
                                                         "org_units": ["042"], "from_period": "2025Q2",
                                                         "reason": "Shorter form"})
    assert contents.status_code == 422
    page = _text(contents)
    assert "Viashiria na maeneo ya OPCT-QR havikuhifadhiwa." in page
    assert "from_period: Mwaka wa Fedha 2024/25, Robo ya 4 (Apr–Jun 2025) iko kabla ya" in page
    assert "were not saved" not in page and "is before" not in page

    through_api = client.put("/api/v1/forms/OPCT", headers=api, json={
        "from_period": "2025Q3", "indicators": [{"indicator": "SA99"}, {"indicator": ""}], "reason": "x"})
    assert through_api.status_code == 422 and _messages(through_api.json) == [
        "The indicators and org units of OPCT-QR were not saved.",
        "indicators[0]: 'SA99' is not an indicator of the catalogue.",
        "indicators[1]: the indicator code is empty."]


def test_refusals_to_people_who_are_not_the_secretariat(client, session):
    login(client, "officer.opct@demo.test")
    choose_language(client, "sw")
    refused = client.get(FORM_PAGE)
    assert refused.status_code == 403
    page = _text(refused)
    assert "Ni sekretarieti pekee inayobadilisha fomu za kuripoti." in page and "Only the secretariat" not in page
    framework = client.get("/results-framework/edit")
    assert framework.status_code == 403
    assert "Ni sekretarieti pekee inayohariri mfumo wa matokeo." in _text(framework)
    token = create_token(session, "officer.opct@demo.test", name="i18n forms").token
    through_api = client.get("/api/v1/forms/OPCT", headers={"Authorization": f"Bearer {token}"})
    assert through_api.status_code == 403
    assert through_api.json["message"] == "Only the secretariat administers reporting forms."


def test_a_refused_results_framework_and_an_unknown_county_read_kiswahili(swahili):
    edit = "/results-framework/edit"
    response = _post(swahili, edit, {"new.code": "O9", "new.kind": "output", "new.parent": "", "new.name": "",
                                     "name_sw.O1.1": "m" * 301}, page=edit)
    assert response.status_code == 422
    page = _text(response)
    assert "Mfumo wa matokeo haukuhifadhiwa." in page
    assert "O9: zao linapaswa kuwa chini ya matokeo (kipengele cha juu hakipo)." in page
    assert "O9: jina halijajazwa." in page
    assert "O1.1: jina kwa Kiswahili: herufi zisizozidi 300 (zimetolewa 301)." in page
    for english in ("was not saved", "belongs under", "the name is empty", "the name in Kiswahili", "at most"):
        assert english not in page, english
    county = swahili.get("/counties/KE")
    assert county.status_code == 404 and "'KE' si kaunti." in _text(county)
    assert "is not a county" not in _text(county)


# --------------------------------------------------------------------------- the English as it was


def test_the_english_of_the_checks_is_unchanged():
    problems: list[ErrorDetail] = []
    assert stated_quarter("", problems) is None
    assert stated_quarter("2025July", problems) is None
    assert stated_quarter("2099Q1", problems) is None
    checked_reason("", problems)
    checked_reason("x" * 501, problems, label="Reason", kept="it is kept with the version and in the audit")
    checked_reason("", problems, label="Reason", kept="it is kept with the version and in the audit")
    assert [p.message for p in problems] == [
        "from_period: say from which quarter on the change applies (e.g. 2025Q3); earlier quarters keep their form.",
        "from_period: '2025July' is not a quarter: use the form 2026Q4.",
        "from_period: FY2098/99 Q3 (Jan–Mar 2099) is more than 12 quarters ahead; state a nearer quarter.",
        "reason: say why you make this change (it is kept in the audit).",
        "Reason: at most 500 characters (501 given).",
        "Reason: say why you make this change (it is kept with the version and in the audit)."]
    for what in REFUSALS:
        assert str(refusal(what)) == f"Only the secretariat {what}."
    assert str(refusal("tidies the catalogue")) == "Only the secretariat tidies the catalogue."
    assert str(date_words(date(2025, 11, 4))) == "04 November 2025" == f"{date(2025, 11, 4):%d %B %Y}"
    rows = [("OPCT", f"{n:03d}", "2025Q3") for n in range(12)]
    assert str(form_contents._named(rows)) == ", ".join(f"OPCT {n:03d} 2025Q3" for n in range(10)) + " and 2 more"
    assert form_contents._named(rows[:2]) == "OPCT 000 2025Q3, OPCT 001 2025Q3"


def test_the_english_of_the_services_is_unchanged(session):
    from tests.app.returns_helpers import user

    actor = user(session, SECRETARIAT)
    with pytest.raises(ValidationFailed) as refused:
        form_admin.save_window(session, actor, "OPCT", {"opens_days": "x", "closes_days": "400", "reason": "r"})
    assert [d.message for d in refused.value.details] == [
        "opens_days: 'x' is not a whole number of days.", "closes_days: 400 days is outside 0–366."]
    with pytest.raises(ValidationFailed) as refused:
        form_admin.add_window_exception(session, actor, "OPCT", {"org_unit": "042", "period": "2025Q3",
                                                                 "closes_on": "2027-01-01", "reason": "r"})
    assert refused.value.details[0].message == (
        "closes_on: 01 January 2027 is more than 366 days after FY2025/26 Q1 (Jul–Sep 2025) ended (latest "
        "01 October 2026).")
    with pytest.raises(ValidationFailed) as refused:
        form_contents.save_form(session, actor, "OPCT", {"reason": "r"})
    assert _messages(refused.value.as_dict()) == [
        "Nothing to change on the OPCT form.",
        "indicators: give the window (frequency, opens_days, due_days, closes_days), the indicators and org units "
        "with from_period, or both."]
    with pytest.raises(ValidationFailed) as refused:
        save_results_framework(session, [], {"code": "O8", "name": "x", "kind": "outcome", "parent": "O1"},
                               {"SA01": "NOPE"})
    assert [d.message for d in refused.value.details] == [
        "O8: an outcome belongs under a goal (parent O1).", "results-framework node 'NOPE' does not exist."]


def test_returns_that_hold_figures_are_named_in_english_and_in_kiswahili(session, app):
    from tests.app.returns_helpers import IN_WINDOW

    with time_machine.travel(IN_WINDOW, tick=False):
        result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"]))
        assert not result.errors, result.errors[:3]
        form = form_admin.form_of(session, "OPCT")
        quarter = stated_quarter("2025Q3", [])
        kept = [form_contents.Item(row.indicator, True) for row in form.items_in("2025Q3")
                if row.indicator.code != "SA01"]
        units = [u for u in form.org_units_in("2025Q3") if u.code != "042"]
        problems = form_contents._removal_problems(session, form, quarter, kept, units)
    indicator, unit = (p.message for p in problems)
    assert indicator == (
        "indicators: SA01 cannot come off the form from FY2025/26 Q1 (Jul–Sep 2025): 1 return of that quarter or "
        "later hold its figures (OPCT 042 2025Q3). State a later quarter, or clear those figures first.")
    assert unit == ("org_units: 042 cannot come off the form from FY2025/26 Q1 (Jul–Sep 2025): its return "
                    "OPCT 042 2025Q3 already exists. State a later quarter.")
    with app.test_request_context(), force_locale("sw"):
        assert say(indicator, gettext).startswith(
            "indicators: SA01 hakiwezi kuondolewa kwenye fomu kuanzia Mwaka wa Fedha 2025/26, Robo ya 1 "
            "(Jul–Sep 2025): ripoti 1 ya robo hiyo au inayofuata ina takwimu zake (OPCT 042 2025Q3).")
        assert say(unit, gettext) == (
            "org_units: 042 haliwezi kuondolewa kwenye fomu kuanzia Mwaka wa Fedha 2025/26, Robo ya 1 "
            "(Jul–Sep 2025): ripoti yake OPCT 042 2025Q3 tayari ipo. Taja robo ya baadaye.")


# --------------------------------------------------------------------------- the catalogue


def test_every_message_of_these_files_has_its_kiswahili():
    """Each English template of the form administration's files is translated, its placeholders kept."""
    with (ROOT / "mel/translations/sw/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    missing, damaged = [], []
    for name in FILES:
        for _, msgid, _, _ in extract_from_file("python", ROOT / name, keywords={
                "N_": None, "gettext": None, "ngettext": (1, 2)}):
            key = msgid if isinstance(msgid, str) else msgid[0]
            entry = catalogue.get(key)
            strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
                (entry.string,) if entry is not None else ())
            if entry is None or entry.fuzzy or not all(strings):
                missing.append(key)
                continue
            wanted = sorted(re.findall(r"%\(\w+\)s", key))
            if any(sorted(re.findall(r"%\(\w+\)s", s)) != wanted for s in strings):
                damaged.append(key)
    assert not missing, json.dumps(missing, indent=1)
    assert not damaged, damaged
