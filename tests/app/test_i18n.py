"""Kiswahili and English (issue 19, first screens): which language a page is in, the switch, the
catalogue, and dates and periods in the page's language."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

from indicators.periods import parse_period
from mel.accounts.models import User
from mel.i18n import (
    CONFIG,
    ROOT,
    SOURCES,
    compile_catalogues,
    day,
    known,
    period_words,
    untranslated,
)
from tests.helpers import csrf_token, login

OFFICER = "officer.kisumu@demo.test"
# Pages done in Kiswahili so far, and English strings of their templates that must not show in it.
PAGES = ("templates/base.html", "templates/auth/login.html", "templates/home/officer.html", "templates/_macros.html",
         "templates/email/invitation.txt", "templates/email/invitation.html", "templates/email/password_reset.txt",
         "templates/email/password_reset.html", "templates/auth/forgot.html", "templates/auth/forgot_sent.html",
         "templates/auth/set_password.html", "templates/auth/link_refused.html", "templates/auth/login_code.html")
LOGIN_ENGLISH = ("Sign in", "Forgot your password?", "Password", "Sector monitoring, evaluation and learning",
                 "Skip to content", "Periods follow Kenya")
HOME_ENGLISH = ("Welcome,", "Reporting now", "Your scope", "your returns", "Upload a filled template", "Not started",
                "Your earlier returns", "Sign out", "Notifications", "Dashboard", "Results framework", "Window:",
                "due in", "closed on", "(all counties)", "Programmes:", "Org units:", " Oct ", " Aug ")


def visible_text(page: str) -> str:
    """The words a person reads: no tags, no attribute values other than titles."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_a_visitor_gets_the_browsers_language(client):
    swahili = client.get("/login", headers={"Accept-Language": "sw-KE,sw;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="sw">' in swahili
    text = visible_text(swahili)
    assert "Ingia" in text and "Nenosiri" in text and "Umesahau nenosiri lako?" in text
    assert not [s for s in LOGIN_ENGLISH if s in text]
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Forgot your password?" in english
    # a language the service does not speak falls back to English
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_a_visitors_choice_is_kept_in_the_session(client):
    token = csrf_token(client)
    response = client.post("/language", data={"lang": "sw", "next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="sw">' in page and "Ingia" in page
    client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "sw"}).get_data(as_text=True)


@pytest.mark.parametrize("lang", ["fr", "", "sw'><script>", "x" * 500])
def test_an_unknown_language_is_refused_and_nothing_changes(client, lang):
    token = csrf_token(client)
    response = client.post("/language", data={"lang": lang, "next": "/login", "csrf_token": token},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "the service speaks English (en), Kiswahili (sw)" in response.get_data(as_text=True)
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_the_switch_never_leaves_the_site_and_needs_its_csrf_token(client):
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post("/language", data={"lang": "sw", "next": target, "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] in ("/", "http://localhost/")
    assert client.post("/language", data={"lang": "sw", "next": "/login"}).status_code in (400, 403)


def test_an_officers_choice_is_kept_on_the_account_and_follows_them(app, client, session):
    assert login(client, OFFICER).status_code == 302
    token = csrf_token(client, "/")
    assert client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": token}).status_code == 302
    assert session.scalar(select(User.locale).where(User.email == OFFICER)) == "sw"
    other = app.test_client()  # another device: a new session, a browser asking for English
    assert login(other, OFFICER).status_code == 302
    page = other.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    text = visible_text(page)
    assert '<html lang="sw">' in page and "Karibu, Peter Otieno" in text and "Kuripoti sasa" in text
    assert "Afisa wa ufuatiliaji na tathmini" in text and "Ripoti zako za awali" in text
    assert not [s for s in HOME_ENGLISH if s in text], [s for s in HOME_ENGLISH if s in text]
    assert not re.search(r"FY\d{4}", text)
    assert re.search(r"Mwaka wa Fedha \d{4}/\d{2}, Robo ya [1-4] \(\w{3}–\w{3} \d{4}\)", text)
    assert re.search(r"\d{2} (Jan|Feb|Mac|Apr|Mei|Jun|Jul|Ago|Sep|Okt|Nov|Des) \d{4}", text)  # submitted on
    # the same officer in English: the same figures and states, in English words
    other.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(other, "/")})
    english = visible_text(other.get("/", headers={"Accept-Language": "sw"}).get_data(as_text=True))
    assert "Welcome, Peter Otieno" in english and re.search(r"FY\d{4}/\d{2} Q[1-4] \(\w{3}–\w{3} \d{4}\)", english)
    assert english.count("Approved") == text.count("Imeidhinishwa")


def test_periods_and_dates_in_the_pages_language(app):
    quarter, year = parse_period("2025Q3"), parse_period("2025July")
    with app.test_request_context("/"):
        with force_locale("sw"):
            assert period_words(quarter) == "Mwaka wa Fedha 2025/26, Robo ya 1 (Jul–Sep 2025)"
            assert period_words(parse_period("2026Q1")) == "Mwaka wa Fedha 2025/26, Robo ya 3 (Jan–Mac 2026)"
            assert period_words(year) == "Mwaka wa Fedha 2025/26 (Jul 2025–Jun 2026)"
            assert day(date(2025, 8, 5)) == "05 Agosti 2025"
            assert period_words(quarter, short=True) == "Robo 1, 25/26"
            assert period_words(year, short=True) == "Mwaka wa Fedha 2025/26"
        with force_locale("en"):
            for period in ("2025Q3", "2026Q1", "2025Q4", "2025July", "2024July"):
                assert period_words(parse_period(period)) == parse_period(period).label
                assert period_words(parse_period(period), short=True) == parse_period(period).short_label
            assert day(date(2025, 8, 5)) == "05 August 2025"
    assert day(date(2025, 8, 5)) == "05 August 2025"  # outside a request (scheduler, command line): English


@pytest.mark.parametrize("raw, code", [("sw", "sw"), ("SW", "sw"), ("sw-KE", "sw"), ("sw_KE", "sw"), ("en-GB", "en"),
                                       ("fr", None), ("", None), (None, None)])
def test_language_codes_are_read_the_way_clients_send_them(raw, code):
    assert known(raw) == code


def test_extraction_finds_every_string_of_the_kiswahili_pages_translated(tmp_path):
    """pybabel extracts the messages; every one found in the pages done so far has a Kiswahili
    translation (0 untranslated), and the catalogue has no untranslated or fuzzy entry at all."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(CONFIG), "-k", "_l", "-k", "N_",
                    "-o", str(pot), str(ROOT)], check=True, cwd=ROOT)
    with pot.open("rb") as handle:
        extracted = read_po(handle)
    with (SOURCES / "sw" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        swahili = read_po(handle)
    on_pages = [m for m in extracted if m.id and any(path.replace("\\", "/").endswith(PAGES) for path, _ in m.locations)]
    assert len(on_pages) >= 50
    missing = [m.id for m in on_pages if m.id not in swahili or not swahili[m.id].string]
    assert missing == []
    assert untranslated() == {"sw": []}
    for message in swahili:  # placeholders survive translation
        if message.id and isinstance(message.id, str):
            assert sorted(re.findall(r"%\(\w+\)s", message.id)) == sorted(re.findall(r"%\(\w+\)s", message.string))


def test_catalogues_are_compiled_when_missing_or_older_than_their_source(tmp_path):
    first = compile_catalogues(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in first] == ["sw/LC_MESSAGES/messages.mo"]
    assert compile_catalogues(tmp_path) == []  # up to date: nothing written
    mo = tmp_path / "sw" / "LC_MESSAGES" / "messages.mo"
    source = SOURCES / "sw" / "LC_MESSAGES" / "messages.po"
    import os

    os.utime(mo, (source.stat().st_mtime - 10, source.stat().st_mtime - 10))
    assert compile_catalogues(tmp_path) == [mo]
    assert not list(Path(tmp_path).rglob("*.tmp"))


def test_mel_i18n_compile_writes_where_it_is_told(runner, tmp_path):
    result = runner.invoke(args=["i18n", "compile", "--to", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "sw" / "LC_MESSAGES" / "messages.mo").exists()


# --------------------------------------------------------------------------- e-mails


@pytest.fixture
def mailer(app, smtp_server, monkeypatch):
    """The app's e-mail goes to the loopback SMTP server; returns its inbox."""
    inbox, port = smtp_server
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "BASE_URL", "https://mel.example.go.ke")
    return inbox


def forgot(client, email: str, language: str):
    headers = {"Accept-Language": language}
    token = csrf_token(client, "/forgot-password")
    return client.post("/forgot-password", data={"email": email, "csrf_token": token}, headers=headers)


@pytest.mark.parametrize("chosen, page, expected", [("sw", "en", "sw"), ("", "sw-KE", "sw"), ("", "en", "en"),
                                                    ("en", "sw", "en")])
def test_a_reset_e_mail_is_in_the_persons_language_else_the_pages(client, session, mailer, chosen, page, expected):
    from mel.accounts import mail
    from mel.accounts.operations import create_user

    user = create_user(session, "amina@example.go.ke", "reviewer", name="Amina W", password="Old tortoise paints rainbows")
    user.locale = chosen
    session.flush()
    assert forgot(client, user.email, page).status_code == 200
    mail.wait_for_background()
    [plain] = mailer.bodies(user.email)
    [html] = mailer.bodies(user.email, "html")
    if expected == "sw":
        assert plain.startswith("Badilisha nenosiri lako la Kenya SP MEL")
        assert "Habari Amina W," in plain and "kwa saa 2" in plain and "Sekretarieti ya Kitaifa" in plain
        assert '<html lang="sw">' in html and "Chagua nenosiri jipya" in html
        assert not [s for s in ("Hello", "Someone", "password", "hours") if s in plain.split("\n", 1)[1]
                    .replace("https://mel.example.go.ke/reset-password", "")]
    else:
        assert plain.startswith("Reset your Kenya SP MEL password") and "Hello Amina W," in plain
        assert '<html lang="en">' in html and "Choose a new password" in html


def test_an_invitation_names_the_role_in_the_invitees_language(app, session, mailer):
    from mel.accounts import mail, self_service
    from mel.accounts.operations import create_user

    invitee = create_user(session, "baraka@example.go.ke", "officer", name="Baraka O", password=None,
                          programme_codes=["OPCT"], org_unit_codes=["042"])
    invitee.locale = "sw"
    session.flush()
    secretariat = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        self_service._queue_invitation(session, app.config, invitee, actor=secretariat,
                                       link_for=lambda token: f"https://mel.example.go.ke/invitation/{token}")
        mail.send_queued(session, app.config)
    mail.wait_for_background()
    [plain] = mailer.bodies(invitee.email)
    assert plain.startswith("Umealikwa kwenye Kenya SP MEL")
    assert "kama Afisa wa ufuatiliaji na tathmini." in plain and "kwa saa" in plain


# --------------------------------------------------------------------------- the upload page

UPLOAD_ENGLISH = ("Upload figures", "Check only", "Download a template", "CSV files have the columns", "Templates",
                  "Had the file been right", "Would create", "Would update", "Unchanged", "all your org units",
                  "warnings to explain")


def test_the_upload_page_and_its_result_table_in_kiswahili(client, session):
    import time_machine

    from tests.app.returns_helpers import IN_WINDOW, rows_like

    rows = rows_like(session, "OPCT", ["042"])
    body = rows[["indicator", "option", "org_unit", "period", "value", "comment"]].to_csv(index=False).encode()
    with time_machine.travel(IN_WINDOW, tick=False):
        login(client, "officer.opct@demo.test")
        client.post("/language", data={"lang": "sw", "next": "/upload", "csrf_token": csrf_token(client, "/")})
        page = visible_text(client.get("/upload").get_data(as_text=True))
        assert "Pakia takwimu" in page and "Kagua tu (hakuna kinachohifadhiwa)" in page and "Violezo" in page
        response = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"), "programme": "OPCT",
                                                "check_only": "1", "file": (BytesIO(body), "opct.csv")})
    result = visible_text(response.get_data(as_text=True))
    assert response.status_code == 200, result[:1000]
    assert "Kama zingehifadhiwa" in result and "Zingeundwa" in result and "Zingesasishwa" in result
    assert re.search(r"OPCT Kisumu Robo [1-4], \d{2}/\d{2} 38 0 0 Rasimu", result), result[:3000]
    assert not [s for s in UPLOAD_ENGLISH if s in page + result], [s for s in UPLOAD_ENGLISH if s in page + result]


def test_a_read_only_instance_folder_still_gets_its_catalogues(tmp_path, monkeypatch):
    """The catalogues are compiled where the process may write when the instance folder is read-only."""
    import mel.i18n as i18n
    from mel.app import create_app

    calls = []
    real = i18n.compile_catalogues

    def refuse_instance(target, sources=SOURCES):
        calls.append(target)
        if str(target).startswith(str(tmp_path)):
            raise PermissionError(13, "Read-only file system", str(target))
        return real(target, sources)

    monkeypatch.setattr(i18n, "compile_catalogues", refuse_instance)
    app = create_app("testing", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", INSTANCE_DIR=str(tmp_path / "inst"),
                     LOG_LEVEL="WARNING")
    folder = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    assert len(calls) == 2 and not str(folder).startswith(str(tmp_path))
    assert (folder / "sw" / "LC_MESSAGES" / "messages.mo").exists()
    page = app.test_client().get("/login", headers={"Accept-Language": "sw"}).get_data(as_text=True)
    assert "Ingia" in page


def test_the_password_reset_pages_in_kiswahili(app, client, session, mailer):
    """Forgot password, the page after it, the reset link's page and the page of a used link."""
    from mel.accounts import mail
    from mel.accounts.operations import create_user

    sw = {"Accept-Language": "sw"}
    user = create_user(session, "neema@example.go.ke", "viewer", name="Neema M", password="Old tortoise paints rainbows")
    session.flush()
    forgot_page = visible_text(client.get("/forgot-password", headers=sw).get_data(as_text=True))
    assert "Umesahau nenosiri lako?" in forgot_page and "Nitumie kiungo kwa barua pepe" in forgot_page
    sent = visible_text(forgot(client, user.email, "sw").get_data(as_text=True))
    assert "Angalia barua pepe yako" in sent and "kwa saa 2" in sent
    mail.wait_for_background()
    path = re.search(r"https://mel\.example\.go\.ke(/reset-password/\S+)", mailer.bodies(user.email)[0]).group(1)
    choose = visible_text(client.get(path, headers=sw).get_data(as_text=True))
    assert "Chagua nenosiri jipya" in choose and "Nenosiri jipya tena" in choose and "Angalau herufi" in choose
    token = csrf_token(client, path)
    password = "Seven herons wade at Lake Naivasha"
    done = client.post(path, data={"password": password, "confirm": password, "csrf_token": token}, headers=sw)
    assert done.status_code == 302
    used = client.get(path, headers=sw)
    text = visible_text(used.get_data(as_text=True))
    assert used.status_code == 410 and "Kiungo hiki hakiwezi kutumika" in text and "Omba kiungo kipya" in text
    english = ("Forgot your password?", "E-mail me a link", "Check your e-mail", "Choose a new password",
               "New password again", "This link cannot be used", "Ask for a new link", "Back to sign in")
    assert not [e for e in english if e in forgot_page + sent + choose + text]


@pytest.mark.parametrize("language, required, too_long", [
    ("en", "This field is required.", "Field cannot be longer than 128 characters."),
    ("sw", "Sehemu hii inahitajika.", "Sehemu hii haiwezi kuzidi herufi 128.")])
def test_form_errors_are_in_the_pages_language(client, language, required, too_long):
    """WTForms has no Kiswahili catalogue: the forms' own messages are the service's, translated."""
    answer = client.post("/login", headers={"Accept-Language": language},
                         data={"csrf_token": csrf_token(client), "email": "", "password": "x" * 129})
    text = answer.get_data(as_text=True)
    assert answer.status_code in (200, 400, 422) and required in text and too_long in text
