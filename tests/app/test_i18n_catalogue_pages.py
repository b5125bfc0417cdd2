"""The catalogue's pages in Kiswahili: the list and reference sheets, versions, validation rules, the
programme, form, results-framework and disaggregation editors and the counties say their own words in
the account's language (their English strings are gone), and stay exactly as they were in English."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mel.accounts.models import User
from tests.helpers import csrf_token, login

SECRETARIAT = "secretariat@demo.test"

# A page, the English strings of its template that a Kiswahili page must not show, and a Kiswahili one it shows.
PAGES = [
    ("/indicators", ["Sector indicator catalogue", "All pillars", ">Validation rules<",
                     ">New indicator<", '<th scope="col">Over time</th>'], "Orodha ya viashiria vya sekta"),
    ("/indicators/SA01", ["Performance Indicator Reference Sheet", "<dt>Short name</dt>", "<dt>Over time</dt>",
                          "<dt>Data source</dt>", "Edit, retire or reactivate SA01", "<dt>Desired direction</dt>"], "Karatasi ya Marejeo ya Kiashiria cha Utendaji"),
    ("/catalogue/indicators/SA01/versions", ["Each change of the reference sheet is a version", ">Version 1<",
                                             "The first version."], "Toleo la sasa ni"),
    ("/catalogue/indicators/SA01/versions/1", ["The current version", "kept on", "<dt>Short name</dt>"], "Toleo la sasa"),
    ("/catalogue/indicators/SA01/edit", ["Saving a change keeps it", "printed in report tables", "Why this change",
                                         "Save as version", "A retired indicator is no longer asked for",
                                         ">Retire SA01<"], "Hifadhi kama toleo"),
    ("/catalogue/indicators/new", ["Every field of the Performance Indicator", "Create the indicator",
                                   "count (one figure", "<label for=\"name\">Name"], "Unda kiashiria"),
    ("/catalogue/validation-rules", ["Checks <code>left operator right</code>", ">New rule<",
                                     '<th scope="col">In words</th>', '<th scope="col">Importance</th>'],
     "Kanuni za uthibitishaji"),
    ("/catalogue/validation-rules/VR01", ["<dt>Why it holds</dt>", "Active: runs on every save", "Edit or try this rule",
                                          "Retire the rule", "<h2>History</h2>"], "Hariri au jaribu kanuni hii"),
    ("/catalogue/validation-rules/VR01/edit", ["Write each side as arithmetic", "Left side", "Right side",
                                               "Try it on the last four quarters", "Save the rule",
                                               "(blocks submission)"], "Upande wa kushoto"),
    ("/catalogue/validation-rules/new", ["New validation rule", "Create the rule", "Missing values"],
     "Kanuni mpya ya uthibitishaji"),
    ("/programmes", ["Reporting programmes", ">New programme<", '<th scope="col">Operates in</th>',
                     "All 47 counties"], "Mipango inayoripoti"),
    ("/programmes/OPCT", ["Edit the programme", "Edit its reporting form", "<dt>Funding</dt>", "Reporting form:",
                          "days after the quarter ends", '<th scope="col">Required</th>'], "Fomu ya kuripoti"),
    ("/catalogue/programmes/OPCT/edit", ["Edit programme OPCT", "Where the programme operates", "From quarter",
                                         "Save the programme", "(kept in the audit)"], "Hifadhi mpango"),
    ("/catalogue/programmes/new", ["Creating a programme creates", "Create the programme", "it does not change later"],
     "Unda mpango"),
    ("/catalogue/programmes/OPCT/form", ["Indicators and org units", "A change applies from the quarter",
                                         "Frequency and window", "Window exceptions", "Grant an exception",
                                         "Save the window", "New closing date", "the form asks for"],
     "Misamaha ya muda wa kuwasilisha"),
    ("/results-framework", ["Sector results framework", "Goal → outcomes → outputs"], "Mfumo wa matokeo wa sekta"),
    ("/results-framework/edit", ["Edit the results framework", "Where each indicator hangs",
                                 "Save the results framework", 'aria-label="Kind of the new node"'],
     "Hifadhi mfumo wa matokeo"),
    ("/catalogue/disaggregations", ["A set crosses the options", "<h2>Sets</h2>", "<h2>Categories</h2>",
                                    "Options, in order", ">New category<"], "Seti za mgawanyo"),
    ("/catalogue/disaggregations/sets/sex_age", ["<h2>Combinations</h2>", "Change the set", "Save the set",
                                                 "The categories are crossed", "<h2>History</h2>"],
     "Michanganyiko"),
    ("/catalogue/disaggregations/sets/new", ["New disaggregation set", "Create the set", "Categories, in order",
                                             "kept for good"], "Unda seti"),
    ("/catalogue/disaggregations/categories/sex", ["Retire an option that should take", "Change the category",
                                                   "Save the category", "Names and order of the options",
                                                   "<h2>Options</h2>", "<dt>Crossed in</dt>"], "Hifadhi kundi"),
    ("/catalogue/disaggregations/categories/new", ["A category such as disability status", "Create the category",
                                                   "one per line"], "Unda kundi"),
    ("/counties", ["Codes follow the First Schedule", "Former province", "Programmes reporting here"],
     "Mkoa wa zamani"),
]


@pytest.fixture
def secretariat(client, session):
    def _as(language: str):
        user = session.scalar(select(User).where(User.email == SECRETARIAT))
        user.locale = language
        session.flush()
        assert login(client, SECRETARIAT).status_code == 302
        return client

    return _as


@pytest.mark.parametrize("path, english, kiswahili", PAGES, ids=[p[0] for p in PAGES])
def test_a_catalogue_page_is_in_kiswahili_for_a_kiswahili_account_and_unchanged_in_english(
        secretariat, session, path, english, kiswahili):
    client = secretariat("sw")
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    assert [text for text in english if text in page] == []
    assert kiswahili in page
    user = session.scalar(select(User).where(User.email == SECRETARIAT))
    user.locale = "en"
    session.flush()
    english_page = client.get(path).get_data(as_text=True)
    assert [text for text in english if text not in english_page] == []
    assert kiswahili not in english_page


def test_a_county_page_is_in_kiswahili(secretariat):
    client = secretariat("sw")
    counties = client.get("/counties").get_data(as_text=True)
    code = counties.split('href="/counties/', 1)[1].split('"', 1)[0]
    page = client.get(f"/counties/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Programmes operating here" not in text and "Mipango inayotekelezwa hapa" in text
    assert "Kaunti ya " in text and " County</h1>" not in text


def test_flash_messages_of_the_catalogue_are_in_the_accounts_language(secretariat):
    client = secretariat("sw")
    token = csrf_token(client, "/catalogue/validation-rules/VR01")
    response = client.post("/catalogue/validation-rules/VR01/retire", data={"reason": "jaribio", "csrf_token": token},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Kanuni VR01 imestaafishwa." in page and "Rule VR01 retired." not in page
    token = csrf_token(client, "/catalogue/validation-rules/VR01")
    page = client.post("/catalogue/validation-rules/VR01/reactivate", data={"reason": "jaribio", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Kanuni VR01 imerejeshwa." in page
