"""Kiswahili and English on the officer's return grid (its page, the words grid.js writes, its flash
messages), the query answer, the review notices and their e-mails, and the account and two-factor
pages. English stays as it was; figures are the same in both languages."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pyotp
import pytest
import time_machine
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlalchemy import select

from indicators.explanations import EXPLANATION_CHOICES
from indicators.messages import say
from mel.accounts.models import User
from mel.accounts.operations import create_token, create_user, load_user
from mel.catalogue.lookup import load_catalogue
from mel.i18n import CONFIG, ROOT, SOURCES, report_catalogues
from mel.returns.models import ValueFlag
from mel.review import notify
from mel.review import operations as review
from mel.review.models import Notification
from tests.app.returns_helpers import IN_WINDOW, rows_like, send
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
# Files made bilingual here: every message extracted from them has its Kiswahili translation.
FILES = ("templates/returns/grid.html", "mel/returns/grid_page.py", "mel/returns/views.py", "mel/review/views.py",
         "mel/review/notify.py", "templates/review/notifications.html", "templates/email/notice.html",
         "templates/email/notice.txt", "templates/auth/account.html", "templates/auth/two_factor.html",
         "mel/accounts/self_service_views.py", "mel/accounts/two_factor_views.py", "mel/accounts/views.py")
# English words of the grid's template and of grid.js's messages, which a Kiswahili page never shows.
GRID_ENGLISH = ("Save draft", "Check only", "Save and submit", "Narrative", "History", "Disaggregation",
                "Last quarter", "Comment", "Numerator", "Denominator", "Common reason", "Choose a common reason",
                "Explanation", "Your answer", "Corrected figure", "Send the answer", "Download as Excel",
                "Upload a filled template", "Window:", "opens ", "closes ", "version ", "Warnings to explain",
                "Each warning sits under", "Query", "(question)", "What happened", "parts add up to", "Warning",
                "Who", "When", "Via", "Why", "County", "Home", "not started", "submitted ", "Returned", "Approved",
                "Payroll cleaning", "Drought scale-up", "New enrolment wave", "Other")
SCRIPT_ENGLISH = ("parts add up", "not the total", "Add comment", "Unsaved", "Discard", "discarded", "restored",
                  "version", "offline", "connection", "typed", "Save")


def english_in(text: str, words) -> list[str]:
    """The English words (whole words, not parts of Kiswahili ones: "Via" in "Viashiria") found in a text."""
    return [w for w in words if re.search(r"(?<!\w)" + re.escape(w.strip()) + r"(?!\w)", text)]


def choose(client, language: str, where: str = "/") -> None:
    response = client.post("/language", data={"lang": language, "next": where, "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302


def figures_of(page: str) -> list[str]:
    """Every figure the grid shows: typed-into inputs, computed ratios and last quarter's column."""
    typed = re.findall(r'<input class="num[^"]*" name="([^"]+)"[^>]*value="([^"]*)"', page)
    shown = re.findall(r'<td class="(?:computed|prev)"[^>]*>([^<]*)</td>', page)
    parts = re.findall(r'<output class="parts" data-parts="([^"]+)">[^<]*?([\d,.]+)?</output>', page)
    return [*map(str, typed), *shown, *map(str, parts)]


@pytest.fixture
def returned_with_a_query(session):
    """OPCT Kisumu's 2025Q3 return with a reviewer's open query, sent back to the officer."""
    catalogue = load_catalogue(session)
    reviewer = load_user(session, "reviewer@demo.test")
    record = submitted_return(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        query = review.raise_query(session, catalogue, reviewer, record, "SA15", "default", "Exits doubled; why?")
        review.return_to_officer(session, catalogue, reviewer, record, ["explanation"], "Explain the exits.")
    return record, query


# --------------------------------------------------------------------------- the grid


def test_the_grid_in_kiswahili_has_the_same_figures_as_in_english(client, session, returned_with_a_query):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        choose(client, "sw")
        swahili = client.get(PAGE).get_data(as_text=True)
        choose(client, "en")
        english = client.get(PAGE).get_data(as_text=True)
    text = visible_text(swahili)
    assert '<html lang="sw">' in swahili
    for words in ("Hifadhi rasimu", "Kagua tu", "Hifadhi na uwasilishe", "Simulizi", "Historia", "Mgawanyo",
                  "Robo iliyopita", "Jibu lako", "Tuma jibu", "Pakua kama Excel", "Muda wa kuwasilisha:",
                  "Imerudishwa", "Hoja", "(swali)", "toleo 3", "Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025)",
                  "Robo iliyopita (Robo 4, 24/25)", "unafunguliwa 30 Sep 2025, mwisho 15 Okt 2025"):
        assert words in text, words
    assert not english_in(text, GRID_ENGLISH), english_in(text, GRID_ENGLISH)
    assert 'placeholder="What happened' not in swahili and 'aria-label="Comment on' not in swahili
    # grid.js writes only what the page gives it, in the page's language
    words = json.loads(re.search(r"data-words='([^']*)'", swahili).group(1).replace("&#39;", "'"))
    assert words["parts"] == "sehemu zinajumlisha {sum}" and words["add_comment"] == "Ongeza maoni"
    assert words["restored_one"].count("{count}") == words["restored_other"].count("{count}") == 1
    assert words["locale"] == "sw-KE"
    said = " ".join(re.sub(r"\{\w+\}", "", v) for k, v in words.items() if k != "locale")  # without {names}
    leftover = [w for w in SCRIPT_ENGLISH if w in said]
    assert not leftover, leftover
    english_words = json.loads(re.search(r"data-words='([^']*)'", english).group(1).replace("&#39;", "'"))
    assert english_words["parts_not_total"] == "parts add up to {sum}, not the total of {total}"
    assert english_words["add_comment_on"] == "Add comment on {figure}" and english_words["locale"] == "en-GB"
    # the same figures, as the same numbers, in both languages
    assert figures_of(swahili) == figures_of(english) and len(figures_of(english)) > 20
    english_text = visible_text(english)
    for words in ("Save draft", "Your answer",
                  "Disaggregation", "Last quarter (FY24/25 Q4)", "Window: opens 30 Sep 2025, due 15 Oct 2025",
                  "version 3", "(question): Exits doubled; why?", "Returned"):
        assert words in english_text, words


def test_a_warning_to_explain_in_kiswahili(client, session):
    rows = rows_like(session, "OPCT", ["042"])
    index = rows.index[(rows["indicator"] == "SA14") & (rows["option"] == "F_A70P")][0]
    rows.loc[index, "value"] = str(int(rows.loc[index, "value"]) * 4)  # a jump the checks flag
    assert send(session, OFFICER, rows).warnings
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        choose(client, "sw")
        page = client.get(PAGE).get_data(as_text=True)
        choose(client, "en")
        english = client.get(PAGE).get_data(as_text=True)
    text = visible_text(page)
    assert re.search(r"Maonyo ya kueleza \(\d+ kati ya \d+ bado wazi\)", text)
    assert "Kila onyo liko chini ya takwimu yake:" in text and "Sababu ya kawaida" in text
    assert "Chagua sababu ya kawaida…" in text and "Usafishaji wa orodha ya malipo" in text and "Onyo" in text
    assert not english_in(text, GRID_ENGLISH), english_in(text, GRID_ENGLISH)
    # the reasons' codes are what is posted, in either language
    assert re.findall(r'<option value="(\w*)"', page) == re.findall(r'<option value="(\w*)"', english)
    assert "Payroll cleaning" in english and "Warnings to explain (" in english
    # The warning itself, stored with its words, is said in the page's language; English as stored.
    flag = session.scalars(select(ValueFlag).where(ValueFlag.kind != "rule")).first()
    assert flag.message_words and flag.words == flag.message
    swahili = Translations.load(str(report_catalogues()), ["sw"]).gettext
    what_sw, what_en = say(flag.what, swahili), str(flag.what)
    assert what_sw != what_en and what_en in visible_text(english).replace("&#39;", "'")
    assert what_sw in text.replace("&#39;", "'") and what_en not in text.replace("&#39;", "'")


def test_a_refused_save_and_a_check_in_kiswahili(client, session, returned_with_a_query):
    record, _ = returned_with_a_query
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        choose(client, "sw")
        data = grid_form(session, client, version=str(record.version))
        data["v.SA02.value.F"] = "1,000"
        refused = client.post(PAGE, data=data)
        checked = client.post(PAGE, data={**grid_form(session, client, version=str(record.version)),
                                          "action": "check"})
    page = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "Hakuna kilichohifadhiwa." in page and re.search(r"\b(Tatizo|Matatizo) \d+:", page)
    assert "Nothing was saved" not in page and "problem" not in page
    assert checked.status_code == 200
    flash = visible_text(checked.get_data(as_text=True))
    assert "Kagua tu: " in flash and "Check only:" not in flash


def test_a_stale_save_in_kiswahili_keeps_what_was_typed_and_offers_a_choice(client, session):
    saved_draft(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        choose(client, "sw")
        data = grid_form(session, client, version="1")
        saved_draft(session, factor=1.02)  # someone else saves first: the return moves to version 2
        data["v.SA02.value.F"] = "4321"
        response = client.post(PAGE, data=data)
    page = response.get_data(as_text=True)
    text = visible_text(page)
    assert response.status_code == 409
    assert "Mtu mwingine amehifadhi ripoti hii baada ya wewe kuifungua" in text
    assert "Hakuna chochote chako kilichohifadhiwa bado" in text and "Hifadhi kwa machaguo haya" in text
    assert "SA02" in text and "4321" in text and "Iliyohifadhiwa sasa" in text
    assert not english_in(text, ("Someone else saved", "Nothing of yours was saved", "Save with these choices",
                                 "Saved now", "Yours", "reload the return"))


def test_a_closed_window_in_kiswahili_says_why_and_who_to_ask(client, session):
    with time_machine.travel(AFTER_CLOSE, tick=False):
        login(client, OFFICER)
        choose(client, "sw")
        page = visible_text(client.get(PAGE).get_data(as_text=True))
    assert "Ripoti hii ni ya kusoma tu kwako." in page
    assert ("Muda wa kuwasilisha wa Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025) ulifungwa tarehe 14 Novemba "
            "2025; sasa ni sekretarieti pekee inayoweza kupokea takwimu.") in page
    assert "Wa kuuliza: " in page and "secretariat@demo.test" in page
    assert not [w for w in ("read-only", "Who to ask", "closed on", "only the secretariat") if w in page]


def test_an_unreadable_version_is_refused_in_the_pages_language(client, session):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        choose(client, "sw")
        response = client.post(PAGE, data={**grid_form(session, client), "version": "x'<1>"})
    page = visible_text(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Sehemu ya fomu &#39;version&#39; lazima iwe namba kamili" in page and "must be a whole number" not in page


# --------------------------------------------------------------------------- queries


def test_the_officer_answers_a_query_in_kiswahili(client, session, returned_with_a_query):
    _, query = returned_with_a_query
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, OFFICER)
        choose(client, "sw")
        token = csrf_token(client, PAGE)
        response = client.post(f"/review/queries/{query.id}/answer",
                                data={"csrf_token": token, "text": "Ukaguzi wa vifo, Seme."}, follow_redirects=True)
        missing = client.post("/review/queries/999999/answer", data={"csrf_token": token, "text": "x"})
    page = visible_text(response.get_data(as_text=True))
    assert response.status_code == 200 and "Jibu limetumwa kwa wakaguzi." in page
    assert "Answer sent" not in page and "imejibiwa" in page  # the thread's state, in Kiswahili
    assert missing.status_code == 404 and "Hoja 999999 haipo." in missing.get_data(as_text=True)


def test_the_notifications_page_in_kiswahili(client, session, returned_with_a_query):
    login(client, OFFICER)
    choose(client, "sw")
    page = visible_text(client.get("/review/notifications").get_data(as_text=True))
    assert "Arifa" in page and "Notifications" not in page
    assert "Query on SA15" in page  # written in English when it was raised (the officer had no language then)


# --------------------------------------------------------------------------- review notices and their e-mails


@pytest.fixture
def mailer(app, smtp_server, monkeypatch):
    """The app's e-mail goes to the loopback SMTP server; returns its inbox."""
    inbox, port = smtp_server
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "BASE_URL", "https://mel.example.go.ke")
    return inbox


def reviewer(session, email: str, language: str) -> User:
    person = create_user(session, email, "reviewer", name=email.split("@")[0].title(), password=None)
    person.locale = language
    session.flush()
    return person


def test_a_review_notice_is_written_and_e_mailed_in_each_recipients_language(app, session, mailer):
    reviewer(session, "zawadi@example.go.ke", "sw")
    reviewer(session, "john@example.go.ke", "en")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):  # the officer's page that submits
        submitted_return(session)
        assert notify.send_pending(session, app.config) >= 2
    [swahili] = mailer.bodies("zawadi@example.go.ke")
    [swahili_html] = mailer.bodies("zawadi@example.go.ke", "html")
    [english] = mailer.bodies("john@example.go.ke")
    [english_html] = mailer.bodies("john@example.go.ke", "html")
    label = "OPCT Kisumu Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025)"
    assert swahili.startswith(f"Imewasilishwa kwa mapitio – {label}\n")
    assert "amewasilisha ripoti." in swahili and "Ifungue kwenye huduma ya MEL: https://mel.example.go.ke/returns/" \
        "OPCT/042/2025Q3" in swahili and "Nyakati ni za Afrika Mashariki" in swahili
    assert '<html lang="sw">' in swahili_html and "Fungua huduma ya MEL" in swahili_html
    assert not [w for w in ("Submitted for review", "submitted the return", "Open it in", "You receive this",
                            "Open the MEL service", "FY2025") if w in swahili + swahili_html]
    assert english.startswith("Submitted for review – OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025)\n")
    assert "submitted the return." in english and "Open it in the MEL service: https://mel.example.go.ke" in english
    assert '<html lang="en">' in english_html and "Open the MEL service" in english_html
    stored = dict(session.execute(select(User.email, Notification.subject).join(User, User.id == Notification.user_id)
                                  .where(Notification.kind == "submitted")).all())
    assert stored["zawadi@example.go.ke"].startswith("Imewasilishwa kwa mapitio")
    assert stored["john@example.go.ke"].startswith("Submitted for review")


@pytest.mark.parametrize("language", ["sw", "en"])
def test_query_return_and_reopen_notices_in_the_officers_language(app, session, language):
    officer = load_user(session, OFFICER)
    officer.locale = language
    record = submitted_return(session)
    with app.test_request_context("/"):
        notify.query_raised(session, record, load_user(session, "reviewer@demo.test"), code="SA15", option="default",
                            text=" Exits doubled; why? ", query_id=10_001)
        notify.returned(session, record, reasons=["explanation"], text="Explain the exits.", event_id=10_002)
        notify.reopened(session, record, text="Audit correction", event_id=10_003)
    notes = {n.kind: n for n in session.scalars(select(Notification).where(Notification.user_id == officer.id))}
    if language == "sw":
        assert notes["query"].subject == ("Hoja kuhusu SA15 default – OPCT Kisumu Mwaka wa Fedha 2025/26, Robo ya 1 "
                                          "(Jul–Sep 2025)")
        assert notes["query"].body.endswith("anauliza: Exits doubled; why?")
        assert notes["returned"].subject.startswith("Imerudishwa kwa marekebisho – OPCT Kisumu")
        assert notes["returned"].body.startswith("Sababu: ") and notes["returned"].body.endswith("Explain the exits.")
        assert notes["reopened"].subject.startswith("Imefunguliwa upya – ")
    else:  # as the English notices have always read
        assert notes["query"].subject == "Query on SA15 default – OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025)"
        assert notes["returned"].body == "Reasons: An explanation is missing or not convincing. Explain the exits."
        assert notes["reopened"].subject == "Reopened – OPCT Kisumu FY2025/26 Q1 (Jul–Sep 2025)"
    assert notes["reopened"].body == "Audit correction"  # a person's words stay as written


# --------------------------------------------------------------------------- account and two-factor pages

ACCOUNT_ENGLISH = ("Your account", "Change your password", "Current password", "New password", "Two-factor sign-in",
                   "Set up two-factor", "Your API tokens", "Programme systems use", "Starts with", "Last used",
                   "Expires", "never", "Revoke", "last signed in", "At least")
TWO_FACTOR_ENGLISH = ("Set it up", "Install an authenticator", "add an account by scanning", "Key:", "time-based",
                      "Code from the app", "Turn on", "Your recovery codes", "It is on", "recovery code", "Since ",
                      "Make new recovery codes", "Turn two-factor sign-in off")


def test_the_account_and_two_factor_pages_in_kiswahili_and_english(client, session):
    person = create_user(session, "amani@example.go.ke", "reviewer", name="Amani K",
                         password="Zebras cross the Mara at dawn")
    token = create_token(session, person.email, name="county-mis")
    session.flush()
    login(client, person.email, "Zebras cross the Mara at dawn")
    choose(client, "sw")
    account = visible_text(client.get("/account").get_data(as_text=True))
    assert "Akaunti yako" in account and "Tokeni zako za API" in account and "county-mis" in account
    assert "uliingia mara ya mwisho" in account and "hai" in account
    assert not english_in(account, ACCOUNT_ENGLISH), english_in(account, ACCOUNT_ENGLISH)
    revoked = client.post(f"/account/tokens/{token.record.id}/revoke",
                          data={"csrf_token": csrf_token(client, "/account")}, follow_redirects=True)
    assert "imebatilishwa" in visible_text(revoked.get_data(as_text=True))
    setup_page = client.get("/account/two-factor").get_data(as_text=True)
    setup = visible_text(setup_page)
    assert "Uweke" in setup and "Sakinisha programu ya uthibitishaji" in setup and "Ufunguo:" in setup
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', setup_page).group(1).replace(" ", "")
    on = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now(),
                                                  "csrf_token": csrf_token(client, "/account/two-factor")},
                     follow_redirects=True)
    done = visible_text(on.get_data(as_text=True))
    assert "Uthibitishaji wa hatua mbili umewashwa." in done and "Misimbo yako ya dharura" in done
    assert "Misimbo 10 ya dharura haijatumika." in done
    assert not english_in(setup + done, TWO_FACTOR_ENGLISH), english_in(setup + done, TWO_FACTOR_ENGLISH)
    choose(client, "en")
    english = visible_text(client.get("/account/two-factor").get_data(as_text=True))
    assert "It is on" in english and "10 recovery codes unused." in english
    english_account = visible_text(client.get("/account").get_data(as_text=True))
    assert "Change your password" in english_account and "Manage two-factor sign-in" in english_account
    assert "revoked" in english_account


# --------------------------------------------------------------------------- the catalogue


def test_every_message_of_these_pages_has_its_kiswahili_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(CONFIG), "-k", "_l",
                    "-k", "N_", "-o", str(pot), str(ROOT)], check=True, cwd=ROOT, capture_output=True)
    with pot.open("rb") as handle:
        extracted = read_po(handle)
    with (SOURCES / "sw" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        swahili = read_po(handle)
    ours = [m for m in extracted if m.id and any(p.replace("\\", "/").endswith(FILES) for p, _ in m.locations)]
    assert len(ours) > 150
    missing = []
    for message in ours:
        found = swahili.get(message.id, context=message.context)
        strings = found.string if found and isinstance(found.string, tuple) else (found.string if found else "",)
        if not found or found.fuzzy or not all(strings):
            missing.append(message.id)
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for string in strings:  # placeholders survive translation
            assert sorted(set(re.findall(r"%\(\w+\)s", " ".join(ids)))) == sorted(
                set(re.findall(r"%\(\w+\)s", string))), (message.id, string)
    assert missing == []
    # every message the Python code writes is extracted (pybabel silently skips a call that passes `_` on)
    for path in [name for name in FILES if name.endswith(".py")]:
        written = {node.args[0].value for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8")))
                   if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_", "gettext", "ngettext", "N_")
                   and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}
        taken = {m.id if isinstance(m.id, str) else m.id[0] for m in ours
                 if any(where.replace("\\", "/").endswith(path) for where, _ in m.locations)}
        assert written and written <= taken, (path, written - taken)
    # the reasons come from indicators/explanations.py: a label changed there needs its translation again
    assert all(swahili.get(label) and swahili.get(label).string for _, label in EXPLANATION_CHOICES)
