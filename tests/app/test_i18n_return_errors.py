"""The refusals of returns, the review and the results in the reader's language (issue 19): a Kiswahili
account reads why a save, a submission, a query or a period was refused in Kiswahili on the grid, the
upload, the review and the dashboards, while /api/v1 answers the same refusals in English, byte for byte
as before. The English texts of the converted messages are unchanged."""

from __future__ import annotations

import html
import re
from datetime import date
from io import BytesIO
from types import SimpleNamespace

import pytest
import time_machine
from babel.support import Translations
from sqlalchemy import select

from indicators.messages import Text, say
from indicators.periods import PeriodError, parse_period
from mel.accounts.models import ROLE_LABELS, User
from mel.accounts.operations import create_token, load_user
from mel.catalogue.lookup import load_catalogue
from mel.errors import Forbidden, ValidationFailed
from mel.i18n import report_catalogues
from mel.returns import operations as return_ops
from mel.returns.models import Return
from mel.returns.workflow import ROLE_PLURALS, Window, not_editable_message, window_problem
from mel.review import operations as review
from tests.app.returns_helpers import IN_WINDOW, rows_like
from tests.app.test_i18n import visible_text
from tests.helpers import (
    AFTER_CLOSE,
    PAGE,
    csrf_token,
    grid_form,
    login,
    saved_draft,
    submitted_return,
)

OFFICER = "officer.opct@demo.test"
REVIEWER = "reviewer@demo.test"
API = "/api/v1/returns/OPCT/042/2025Q3"
FLOODS = "Floods cut the Kisumu county office off for three weeks"


@pytest.fixture(scope="module")
def swahili():
    """The Kiswahili catalogue's gettext, as the pages use it."""
    return Translations.load(str(report_catalogues()), ["sw"]).gettext


def _speaks(session, email: str, language: str) -> None:
    session.scalar(select(User).where(User.email == email)).locale = language
    session.flush()


def _text(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


def _headers(session, email: str = OFFICER) -> dict:
    return {"Authorization": f"Bearer {create_token(session, email).token}"}


def _problems(response) -> str:
    """The words of the grid's error box (what was refused and why)."""
    found = re.search(r'id="problems".*?</div>', response.get_data(as_text=True), re.S)
    assert found, response.get_data(as_text=True)[:2000]
    return html.unescape(visible_text(found.group(0)))


def _flashes(client, path: str = PAGE) -> str:
    return _text(client.get(path))


# --------------------------------------------------------------------------- the officer's grid


def test_a_stale_save_is_explained_in_kiswahili_and_the_api_keeps_its_english(client, session):
    saved_draft(session)
    _speaks(session, OFFICER, "sw")
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        data = grid_form(session, client, version="1")
        saved_draft(session, factor=1.02)  # someone else saves first: version 2
        data["v.SA02.value.F"] = "4321"
        response = client.post(PAGE, data=data)
        assert response.status_code == 409
        page = _problems(response)
        assert "Ripoti hii sasa iko kwenye toleo 2, lakini wewe ulihariri toleo 1." in page, page[:3000]
        assert re.search(r"officer\.opct@demo\.test alibadilisha takwimu \d+ tarehe \d\d \w+ 2025 \d\d:\d\d: ", page)
        assert ("Hakuna chochote chako kilichohifadhiwa bado: ulichoandika kimetunzwa hapa chini" in page)
        for english in ("This return is now at version", "you edited version", " changed ", "Nothing of yours",
                        "reload the return"):
            assert english not in page, english
        # The API answers the same conflict in English, whatever the account's language.
        answer = client.put(API, json={"version": 1, "values": [{"indicator": "SA02", "option": "F",
                                                                  "value": 4321}]}, headers=_headers(session))
    assert answer.status_code == 409
    message = answer.json["message"]
    assert message.startswith("This return is now at version 2, but you edited version 1. officer.opct@demo.test "
                              "changed "), message
    assert message.endswith("Nothing of yours was saved; reload the return and enter your changes again.")


def test_a_closed_window_refuses_in_kiswahili_on_the_grid_and_the_upload(app, client, session):
    saved_draft(session)
    _speaks(session, OFFICER, "sw")
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, OFFICER)
        data = grid_form(session, client, version="1")
        data["v.SA02.value.F"] = "4321"
        grid = client.post(PAGE, data=data)
        body = rows_like(session, "OPCT", ["001"])[["indicator", "option", "org_unit", "period", "value",
                                                   "comment"]].to_csv(index=False).encode()
        upload = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"), "programme": "OPCT",
                                              "file": (BytesIO(body), "opct.csv")})
    assert grid.status_code == 422
    page = _problems(grid)
    said = ("muda wa kuwasilisha wa Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025) ulifungwa tarehe 14 Novemba "
            "2025; sasa ni sekretarieti pekee inayoweza kupokea takwimu.")
    assert said in page, page[:3000]
    assert "closed on" not in page and "only the secretariat" not in page
    assert upload.status_code == 422
    text = _text(upload)
    assert said in text and "Mombasa" in text, text[-3000:]
    assert "closed on" not in text


def test_a_window_exception_is_said_in_kiswahili_with_its_reason_as_written(client, session):
    login(client, "secretariat@demo.test")
    granted = client.post("/catalogue/programmes/OPCT/form/exceptions", data={
        "csrf_token": csrf_token(client, "/catalogue/programmes/OPCT/form"), "org_unit": "042", "period": "2025Q3",
        "closes_on": "2025-12-15", "reason": FLOODS})
    assert granted.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    _speaks(session, OFFICER, "sw")
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, OFFICER)
        page = _text(client.get(PAGE))
        home = _text(client.get("/"))
    assert f"Kisumu kutokana na msamaha: {FLOODS}" in page, page[:3000]
    assert f"kwa Kisumu kutokana na msamaha: {FLOODS}" in home
    assert "by exception" not in page and "by exception" not in home
    # English, as it was: the Window keeps the English text, which remembers its words.
    window = load_catalogue(session).forms[load_catalogue(session).programmes["OPCT"].id]
    problem = window_problem(window, "2025Q3", load_user(session, OFFICER), date(2025, 12, 16),
                             load_catalogue(session).org_units["042"].id)
    assert problem == ("the window for FY2025/26 Q1 (Jul–Sep 2025) closed on 15 December 2025 for Kisumu by "
                       f"exception: {FLOODS}; only the secretariat can accept figures now.")


def test_a_refused_submission_is_counted_in_kiswahili_and_in_english_by_the_api(client, session):
    _speaks(session, "officer.kisumu@demo.test", "sw")
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.kisumu@demo.test")
        data = grid_form(session, client, action="submit")
        for name in [k for k in data if k.startswith("v.SA12.")]:
            data[name] = ""
        assert client.post(PAGE, data=data).status_code == 302
        page = _flashes(client)
        answer = client.post(f"{API}/submit", headers=_headers(session, "officer.kisumu@demo.test"))
    summary = re.search(r"OPCT Kisumu Mwaka wa Fedha 2025/26, Robo ya 1 \(Jul–Sep 2025\) haiwezi kuwasilishwa: "
                        r"(kosa 1|makosa \d+) na (onyo 1 lisiloelezwa|maonyo \d+ yasiyoelezwa)\.", page)
    assert summary, page[:3000]
    assert "cannot be submitted" not in page and "unexplained" not in page
    assert answer.status_code == 422
    assert re.fullmatch(r"OPCT Kisumu FY2025/26 Q1 \(Jul–Sep 2025\) cannot be submitted: (1 error|\d+ errors) and "
                        r"(1 unexplained warning|\d+ unexplained warnings)\.", answer.json["message"])


def test_an_unknown_county_or_quarter_in_the_address_is_said_in_kiswahili(client, session):
    _speaks(session, OFFICER, "sw")
    login(client, OFFICER)
    county = client.get("/returns/OPCT/999/2025Q3")
    quarter = client.get("/returns/OPCT/042/2025Q5")
    assert county.status_code == 404
    assert ("Eneo '999' halijulikani: tumia KE, msimbo wa kaunti (042), wa kaunti ndogo (SC238) au wa wadi (W1186), "
            "au jina.") in _text(county)
    assert quarter.status_code == 422
    said = _text(quarter)
    assert ("'2025Q5' si kipindi halali: robo lazima iwe 1–4. Tumia 2025Q3 (robo), 2025July (Mwaka wa Fedha "
            "Julai–Juni), 202509 (mwezi) au 2025 (mwaka).") in said, said[:3000]
    assert "is not a valid period" not in said
    headers = _headers(session)
    assert client.get("/api/v1/returns/OPCT/999/2025Q3", headers=headers).json["message"] == (
        "Org unit '999' is not known: use KE, a county code (042), a sub-county (SC238) or ward code (W1186), "
        "or a name.")
    assert client.get("/api/v1/returns/OPCT/042/2025Q5", headers=headers).json["message"] == (
        "'2025Q5' is not a valid period: quarter must be 1–4. Use 2025Q3 (quarter), 2025July (financial year "
        "July–June), 202509 (month) or 2025 (year).")


# --------------------------------------------------------------------------- the review


def test_the_reviewers_refusals_in_kiswahili_and_the_api_in_english(client, session):
    record = submitted_return(session)
    catalogue = load_catalogue(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        review.raise_query(session, catalogue, load_user(session, REVIEWER), record, "SA15", "default", "Why?")
    session.commit()
    _speaks(session, REVIEWER, "sw")
    page = "/review/OPCT/042/2025Q3"
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, REVIEWER)
        token = csrf_token(client, page)
        client.post(page, data={"csrf_token": token, "action": "query", "figure": "SA01", "text": " "})
        empty = _flashes(client, page)
        client.post(page, data={"csrf_token": token, "action": "query", "figure": "ZZ99", "text": "Why?"})
        unknown = _flashes(client, page)
        client.post(page, data={"csrf_token": token, "action": "approve"})
        approve = _flashes(client, page)
        client.post("/review/bulk-approve", data={"csrf_token": token, "period": "2025Q3",
                                                  "return_id": str(record.id)})
        bulk = _flashes(client, "/review/?period=2025Q3")
        api = client.post(f"{API}/approve", headers=_headers(session, REVIEWER))
    assert "Andika swali." in empty and "Write the question." not in empty
    assert "Kiashiria 'ZZ99' hakimo kwenye orodha ya viashiria." in unknown
    assert ("OPCT Kisumu Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025) ina hoja zilizo wazi; subiri majibu au "
            "uzifunge kwanza.") in approve, approve[:3000]
    assert "Zimeachwa 1: kuna hoja zilizo wazi" in bulk and "open queries" not in bulk
    assert api.status_code == 409
    assert api.json["message"] == ("OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025) has open queries; wait for the answers "
                                   "or close them first.")


# --------------------------------------------------------------------------- the dashboards and results


def test_the_dashboards_refuse_in_kiswahili_and_the_results_api_in_english(client, session):
    _speaks(session, "viewer@demo.test", "sw")
    login(client, "viewer@demo.test")
    period = client.get("/dashboard/?period=2025Q5")
    county = client.get("/dashboard/indicators/SA01?period=2025Q2&org_unit=999")
    assert period.status_code == 404 and "'2025Q5' si kipindi halali: robo lazima iwe 1–4." in _text(period)
    assert county.status_code == 404 and "Eneo '999' halijulikani." in _text(county)
    assert "is not known" not in _text(county)
    headers = _headers(session, "viewer@demo.test")
    unknown = client.get("/api/v1/results?period=2025Q2&org_unit=999", headers=headers)
    assert unknown.status_code == 404 and unknown.json["message"] == "Org unit '999' is not known."
    refused = client.get("/api/v1/results?period=2025Q2&org_unit=042&include=submitted&programme=OPCT",
                         headers=headers)
    assert refused.status_code == 403
    assert refused.json["message"] == (
        "include=submitted is not open to you: Viewers see approved figures only (OPCT in Kisumu is outside it). "
        "Leave out include=submitted for approved figures.")


# --------------------------------------------------------------------------- the messages themselves


def test_the_english_of_the_converted_messages_is_unchanged(session, swahili):
    catalogue = load_catalogue(session)
    label = return_ops.return_label(catalogue.programmes["OPCT"], catalogue.org_units["042"], "2025Q3")
    summary = return_ops.submit_summary(label, 1, 2)
    assert str(summary) == "OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025) cannot be submitted: 1 error and 2 " \
                           "unexplained warnings."
    assert str(return_ops.submit_summary(label, 0, 1)).endswith("submitted: 0 errors and 1 unexplained warning.")
    assert say(summary, swahili) == ("OPCT Kisumu Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025) haiwezi "
                                     "kuwasilishwa: kosa 1 na maonyo 2 yasiyoelezwa.")
    approved = not_editable_message(SimpleNamespace(state="approved"), label)
    assert isinstance(approved, Text)
    assert approved == ("the return for OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025) is approved (locked); it cannot be "
                        "changed (the secretariat can reopen it with a reason).")
    assert say(approved, swahili).endswith("imeidhinishwa (imefungwa); haiwezi kubadilishwa (sekretarieti inaweza "
                                           "kuifungua upya kwa kutoa sababu).")
    assert not_editable_message(SimpleNamespace(state="draft"), "X") == "the return for X is a draft; it cannot be " \
                                                                       "changed."
    opens = Window(date(2025, 9, 30), date(2025, 10, 15), date(2025, 11, 14))
    assert opens.describe() == "opens 30 Sep 2025, due 15 Oct 2025, closes 14 Nov 2025"
    # Each role's plural is its label and an "s", as the messages have always said.
    assert all(ROLE_PLURALS[role] == label + "s" for role, label in ROLE_LABELS.items())


def test_period_refusals_keep_their_english_and_are_said_in_kiswahili(swahili):
    from mel.periods import financial_year, quarter

    with pytest.raises(PeriodError) as caught:
        parse_period("2025q3")
    assert str(caught.value) == ("'2025q3' is not a valid period: periods are case-sensitive; did you mean "
                                 "'2025Q3'? Use 2025Q3 (quarter), 2025July (financial year July–June), 202509 "
                                 "(month) or 2025 (year).")
    assert isinstance(caught.value.message, Text) and caught.value.message == str(caught.value)
    assert say(caught.value.message, swahili).startswith(
        "'2025q3' si kipindi halali: vipindi hutofautisha herufi kubwa na ndogo; ulimaanisha '2025Q3'? Tumia")
    with pytest.raises(ValidationFailed) as refused:
        quarter("2025July")
    assert refused.value.message == "'2025July' is not a quarter; use the form 2025Q3."
    assert refused.value.details[0].message == refused.value.message
    assert say(refused.value.message, swahili) == "'2025July' si robo; tumia muundo 2025Q3."
    with pytest.raises(ValidationFailed) as refused:
        financial_year("3000July")
    assert str(refused.value.message).startswith("'3000July' is not a valid period: financial year must start in "
                                                 "1900–2998.")
    with pytest.raises(ValidationFailed) as refused:
        quarter("1900Q1")
    assert refused.value.message == "'1900Q1' is outside the years this service reports on (1901–2998)."


def test_the_review_and_results_messages_keep_their_english(session, swahili):
    from mel.results.queries import resolve_query

    catalogue = load_catalogue(session)
    with pytest.raises(ValidationFailed) as refused:
        resolve_query(catalogue, indicators=["ZZ1", "ZZ2"], period="2025Q2", org_unit="KE", programme="ALL")
    assert refused.value.message == "Indicator(s) ZZ1, ZZ2 are not in the catalogue."
    assert say(refused.value.message, swahili) == "Viashiria ZZ1, ZZ2 havimo kwenye orodha ya viashiria."
    with pytest.raises(ValidationFailed) as refused:
        resolve_query(catalogue, indicators=None, period="2025Q2", org_unit="KE", programme="ALL", by=["x"])
    assert refused.value.message.startswith("by=x is not one of ")
    officer = load_user(session, "officer.kisumu@demo.test")
    with pytest.raises(Forbidden) as forbidden:
        resolve_query(catalogue, indicators=None, period="2025Q2", org_unit="001", programme="OPCT",
                      include_submitted=True, user=officer)
    assert forbidden.value.message == (
        "include=submitted is not open to you: M&E officers see unapproved figures only within your own scope "
        "(OPCT in Mombasa is outside it). Leave out include=submitted for approved figures.")
    assert say(forbidden.value.message, swahili).startswith(
        "include=submitted hairuhusiwi kwako: Maafisa wa ufuatiliaji na tathmini huona takwimu ambazo "
        "hazijaidhinishwa ndani ya wigo wako pekee (OPCT katika Mombasa")
    record = session.scalar(select(Return).where(Return.period == "2025Q2").limit(1))
    reviewer = load_user(session, REVIEWER)
    with pytest.raises(ValidationFailed) as refused:
        review.return_to_officer(session, catalogue, reviewer, record, ["nonsense"], "Because.")
    assert refused.value.message.startswith("Choose at least one reason from: ")
    assert refused.value.message.endswith(" (not nonsense).")
    with pytest.raises(ValidationFailed) as refused:
        review.figure_of(catalogue, "SA12", catalogue.specs["SA12"].options[0])
    assert refused.value.message == "SA12 is not a figure of SA12; use SA12.N or SA12.D."
    assert say(refused.value.message, swahili) == "SA12 si takwimu ya SA12; tumia SA12.N au SA12.D."
