"""Kiswahili and English (issue 19): the review pages, the home pages of the reviewer, the secretariat
and a viewer, the results dashboards and the error page, with the review's flash messages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from indicators.figures import figure_code
from mel.accounts.models import User
from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.review import operations as review
from tests.app.test_i18n import visible_text
from tests.helpers import csrf_token, login, submitted_return

RETURN_PAGE = "/review/OPCT/042/2025Q3"
# English strings of the templates (and flash messages) that must not show on a Kiswahili page.
QUEUE_ENGLISH = ("Review queue", "All programmes", "All counties", "All pillars", "Every state",
                 "Completeness and timeliness by programme", "Figures filled", "expected returns",
                 "waiting for a decision", "Missing figures", "Warnings (unexplained)", "Open queries",
                 "Largest change against last quarter", "Approve the ticked returns", "Clean: no missing figure",
                 "Or send the ticked returns back", "What must change", "Return the ticked returns",
                 "Needing attention first", "Returned to the officer", "Required figures are missing",
                 "Data quality", "Not started", "Completeness", "Timeliness")
RETURN_ENGLISH = ("Review queue", "all figures and history", "Officer's narrative", "Approve and open the next",
                  "Approve (locks the return)", "Return to the officer because", "What must change",
                  "Return with these reasons", "Return and open the next", "Decisions", "Queries",
                  "Close the query", "Ask about a figure", "This quarter", "Last quarter", "A year ago",
                  "Share of national", "Flag:", "Officer:", "no explanation yet", "in the form's order",
                  "changed most against last quarter", "version ", "submitted ", "Next return needing attention",
                  "waits for a decision", "Supporting evidence is needed")
QUALITY_ENGLISH = ("Data quality", "Review queue", "Warnings without an explanation", "Explanations by reason",
                   "Explained warnings", "Outliers across counties", "Rates for ratio indicators",
                   "Identical figures three quarters running", "Completeness by pillar", "Completeness by county",
                   "TWG decision log", "Median of counties", "No decisions yet", "Expected", "Received")
HOME_ENGLISH = {"reviewer@demo.test": ("MERL TWG review", "Returns of the latest period with data"),
                "secretariat@demo.test": ("Secretariat", "Catalogue", "reporting forms", " users",
                                          "Returns of the latest period with data"),
                "viewer@demo.test": ("Kenya's social protection sector", "The framework", "sector indicators",
                                     "reporting programmes", "Approved data", "Figures become visible here",
                                     "Latest approved period", "See the results framework",
                                     "Approved returns of the latest period")}
SECTOR_ENGLISH = ("Sector dashboard", "Sector results", "All (sector)", "Where", "Approved figures only",
                  "Indicator Performance Tracking Table", "Baseline", "since last quarter", "On track",
                  "Needs attention", "Off track", "Not reported", "Partial:", "target:", "Actual", "Year",
                  "improving", "worsening", " returns")
INDICATOR_ENGLISH = ("reference sheet", "all programmes", "By county", "By programme", "Returns behind it",
                     "No map:", "since last quarter", "Trend", "Status", "actual ÷ target", "On track",
                     "Not reported", "Dashboard", " returns")
ERROR_ENGLISH = ("Not found", "The requested URL was not found", "Back to the home page", "Error 404")


def english_shown(text: str, strings) -> list[str]:
    return [s for s in strings if s in text]


def signed_in(app, session, email: str, lang: str):
    user = session.scalar(select(User).where(User.email == email))
    user.locale = lang
    session.flush()
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


@pytest.fixture
def under_review(session):
    """OPCT Kisumu's submitted 2025Q3 return with a reviewer's query on one figure."""
    record = submitted_return(session)
    catalogue = load_catalogue(session)
    code = next(item.indicator.code for item in catalogue.forms[record.programme_id].items_in("2025Q3"))
    figure = figure_code(code, catalogue.specs[code].components[0])
    review.raise_query(session, catalogue, load_user(session, "reviewer@demo.test"), record, figure, "default",
                       "Why did this figure fall?")
    session.flush()
    return record


def pages(client) -> dict[str, tuple[int, str]]:
    wanted = {"queue": "/review/?period=2025Q3", "return": RETURN_PAGE,
              "quality": "/review/data-quality?period=2025Q3", "home": "/", "sector": "/dashboard/",
              "indicator": "/dashboard/indicators/SA11", "error": "/no-such-page"}
    out = {}
    for name, path in wanted.items():
        response = client.get(path)
        out[name] = (response.status_code, visible_text(response.get_data(as_text=True)))
    return out


ENGLISH = {"queue": QUEUE_ENGLISH, "return": RETURN_ENGLISH, "quality": QUALITY_ENGLISH, "sector": SECTOR_ENGLISH,
           "indicator": INDICATOR_ENGLISH, "error": ERROR_ENGLISH}


@pytest.mark.parametrize("email", ["reviewer@demo.test", "secretariat@demo.test"])
def test_the_review_pages_in_kiswahili_and_in_english(app, session, under_review, email):
    client = signed_in(app, session, email, "sw")
    seen = pages(client)
    for name, (status, text) in seen.items():
        assert status == (404 if name == "error" else 200), (name, status, text[:500])
        strings = HOME_ENGLISH[email] if name == "home" else ENGLISH[name]
        assert english_shown(text, strings) == [], (name, english_shown(text, strings))
    assert "Foleni ya mapitio" in seen["queue"][1] and "zinazosubiri uamuzi" in seen["queue"][1]
    assert "Simulizi ya afisa" in seen["return"][1] and "Uliza kuhusu takwimu" in seen["return"][1]
    assert "Funga hoja" in seen["return"][1] and "wazi" in seen["return"][1]  # the query and its state
    assert "Ubora wa takwimu" in seen["quality"][1] and "Kumbukumbu ya maamuzi" in seen["quality"][1]
    assert "Matokeo ya sekta" in seen["sector"][1] and "Kwa kaunti" in seen["indicator"][1]
    assert "Haikupatikana" in seen["error"][1] and "Anwani uliyoomba haikupatikana" in seen["error"][1]
    # the same person in English: every one of those strings is back
    english = pages(signed_in(app, session, email, "en"))
    for name in ("queue", "return", "quality", "error"):
        text = english[name][1]
        missing = [s for s in ENGLISH[name] if s not in text and s not in OPTIONAL_ENGLISH]
        assert missing == [], (name, missing)
    assert english_shown(english["home"][1], HOME_ENGLISH[email]) == list(HOME_ENGLISH[email])


# Strings the demo's figures do not always bring onto a page (a status no figure has, a second page…).
OPTIONAL_ENGLISH = {"Not started", "Next return needing attention", "waits for a decision", "Flag:", "Officer:",
                    "no explanation yet", "No decisions yet", "Supporting evidence is needed", "Expected", "Received",
                    "Share of national", "version ", "submitted "}


def test_a_viewer_sees_the_home_page_and_dashboards_in_kiswahili(app, session):
    client = signed_in(app, session, "viewer@demo.test", "sw")
    home = visible_text(client.get("/").get_data(as_text=True))
    assert english_shown(home, HOME_ENGLISH["viewer@demo.test"]) == []
    assert "Sekta ya hifadhi ya jamii ya Kenya" in home and "Takwimu zilizoidhinishwa" in home
    sector = client.get("/dashboard/")
    assert sector.status_code == 200
    text = visible_text(sector.get_data(as_text=True))
    assert english_shown(text, SECTOR_ENGLISH) == [], english_shown(text, SECTOR_ENGLISH)
    assert "Jedwali la Ufuatiliaji wa Utendaji wa Viashiria" in text and "Mwaka wa Fedha" in text
    indicator = client.get("/dashboard/indicators/SA11")
    text = visible_text(indicator.get_data(as_text=True))
    assert indicator.status_code == 200 and english_shown(text, INDICATOR_ENGLISH) == []
    missing = client.get("/dashboard/indicators/NOPE1")
    assert missing.status_code == 404 and "hakimo kwenye orodha ya viashiria" in missing.get_data(as_text=True)
    english = signed_in(app, session, "viewer@demo.test", "en")
    assert "Indicator Performance Tracking Table" in english.get("/dashboard/").get_data(as_text=True)
    assert "not in the catalogue" in english.get("/dashboard/indicators/NOPE1").get_data(as_text=True)


def test_the_reviews_flash_messages_in_kiswahili(app, session, under_review):
    client = signed_in(app, session, "reviewer@demo.test", "sw")
    token = csrf_token(client, RETURN_PAGE)
    page = client.post(RETURN_PAGE, data={"csrf_token": token, "action": "nothing"}, follow_redirects=True)
    assert "Kitendo &#39;nothing&#39; hakijulikani." in page.get_data(as_text=True)
    page = client.post("/review/bulk-return", data={"csrf_token": token, "period": "2025Q3"}, follow_redirects=True)
    assert "Weka alama kwenye angalau ripoti moja iliyowasilishwa" in page.get_data(as_text=True)
    page = client.post("/review/bulk-approve", data={"csrf_token": token, "period": "2025Q3"}, follow_redirects=True)
    assert "Ripoti 0 safi zimeidhinishwa." in page.get_data(as_text=True)
    english = signed_in(app, session, "reviewer@demo.test", "en")
    token = csrf_token(english, RETURN_PAGE)
    page = english.post(RETURN_PAGE, data={"csrf_token": token, "action": "nothing"}, follow_redirects=True)
    assert "Unknown action &#39;nothing&#39;." in page.get_data(as_text=True)
    page = english.post("/review/bulk-approve", data={"csrf_token": token, "period": "2025Q3"}, follow_redirects=True)
    assert "Approved 0 clean returns." in page.get_data(as_text=True)


def test_target_sources_on_the_results_pages_are_in_the_pages_language(app, session):
    """A target's source is a message the figures carry (indicators/targets.py): said in the page's
    language, the plan's names and versions as they are."""
    pages = {}
    for lang in ("en", "sw"):
        client = signed_in(app, session, "secretariat@demo.test", lang)
        pages[lang] = client.get("/dashboard/?period=2025Q2").get_data(as_text=True)
    sources = re.findall(r"target: ([^<]+)", pages["en"])
    assert sources, "the sector dashboard names where its targets come from"
    assert any("the only programme reporting it" in s or "sum of" in s for s in sources)
    assert "the only programme reporting it" not in pages["sw"] and "sum of programme targets" not in pages["sw"]
    assert "mpango pekee unaokiripoti" in pages["sw"] or "jumla ya malengo" in pages["sw"]
