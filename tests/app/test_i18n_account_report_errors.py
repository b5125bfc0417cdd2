"""Sign-in, two-factor, account, people and report errors in the reader's language (issue 19).

The service raises its errors as messages (indicators/messages.py): their English text is what the
API sends, unchanged, and the pages say them again in the page's language. Each case is triggered
through the page with Kiswahili chosen (the Kiswahili appears, the English does not) and, where the
API has the same operation, through /api/v1 (the English, exactly as before).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pyotp
import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from indicators.messages import say
from mel.accounts.models import User
from mel.accounts.operations import SIGN_IN_REFUSED, create_token, create_user
from tests.app.test_i18n import visible_text
from tests.helpers import csrf_token, login

PASSWORD = "Giraffes graze near Naivasha at dusk"
SECRETARIAT = "secretariat@demo.test"
KEY = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')


def _language(client, lang: str, path: str = "/") -> None:
    response = client.post("/language", data={"lang": lang, "next": "/", "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302


def _post(client, path: str, data: dict, form: str | None = None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form or path)})


def _text(response) -> str:
    return html.unescape(visible_text(response.get_data(as_text=True)))


def _flashes(client, path: str) -> str:
    return _text(client.get(path))


@pytest.fixture
def person(session):
    user = create_user(session, "achieng@example.go.ke", "reviewer", name="Achieng O", password=PASSWORD)
    session.flush()
    return user


@pytest.fixture
def api(session):
    """The secretariat's API headers; the account reads Kiswahili on the pages."""
    user = session.scalar(select(User).where(User.email == SECRETARIAT))
    user.locale = "sw"
    session.flush()
    return {"Authorization": f"Bearer {create_token(session, SECRETARIAT, name='tests').token}"}


def _wrong(totp: pyotp.TOTP) -> str:
    return str((int(totp.now()) + 1) % 1_000_000).zfill(6)


# --------------------------------------------------------------------------- sign-in and two-factor


def test_a_refused_sign_in_is_said_in_kiswahili(client, person):
    _language(client, "sw", "/login")
    refused = login(client, person.email, "not the password at all")
    assert refused.status_code == 401
    text = _text(refused)
    assert "Barua pepe au nenosiri si sahihi, au kumekuwa na majaribio mengi mno." in text
    assert "The e-mail or password is not correct" not in text and "Check them" not in text
    _language(client, "en", "/login")
    english = _text(login(client, person.email, "not the password at all"))
    assert SIGN_IN_REFUSED in english and str(SIGN_IN_REFUSED) == (
        "The e-mail or password is not correct, or there were too many attempts. Check them and try again in a minute.")


def test_a_page_that_needs_signing_in_says_so_in_kiswahili(client):
    _language(client, "sw", "/login")
    sent = client.get("/account")
    assert sent.status_code == 302 and "/login" in sent.headers["Location"]
    page = _flashes(client, "/login")
    assert "Tafadhali ingia ili kuendelea." in page and "Please sign in to continue." not in page
    _language(client, "en", "/login")
    client.get("/account")
    assert "Please sign in to continue." in _flashes(client, "/login")


def test_the_two_factor_pages_speak_kiswahili(app, client, session, person):
    assert login(client, person.email, PASSWORD).status_code == 302
    _language(client, "sw", "/account")
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "Msimbo wa QR kwa programu yako ya uthibitishaji" in page
    assert "QR code for your authenticator app" not in page
    totp = pyotp.TOTP(KEY.search(page).group(1).replace(" ", ""))
    malformed = _text(_post(client, "/account/two-factor", {"code": "12345"}))
    assert "msimbo: weka msimbo wa tarakimu 6" in malformed and "enter the 6-digit code" not in malformed
    wrong = _text(_post(client, "/account/two-factor", {"code": _wrong(totp)}))
    assert "msimbo: msimbo huo haulingani." in wrong and "does not match" not in wrong
    assert _post(client, "/account/two-factor", {"code": totp.now()}).status_code == 302
    refused = _text(_post(client, "/account/two-factor/recovery-codes", {"code": _wrong(totp)}, "/account/two-factor"))
    assert "msimbo: Msimbo huo si sahihi. Weka msimbo wa tarakimu 6" in refused
    assert "That code is not right" not in refused
    _post(client, "/logout", {}, "/account")

    # the sign-in's second step, for a visitor who chose Kiswahili (the account's choice is kept too)
    assert login(client, person.email, PASSWORD).headers["Location"].endswith("/login/code")
    step = _post(client, "/login/code", {"code": _wrong(totp)})
    assert step.status_code == 401
    text = _text(step)
    assert "Msimbo huo si sahihi." in text and "That code is not right" not in text


def test_too_many_wrong_codes_are_said_in_kiswahili(app, client, session, person, monkeypatch):
    from mel.accounts import two_factor

    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_FREE_FAILURES", 2)
    secret = two_factor.new_secret()
    totp = pyotp.TOTP(secret)
    two_factor.enable(session, person, secret, totp.now())
    person.locale = "sw"
    session.flush()
    _language(client, "sw", "/login")
    login(client, person.email, PASSWORD)
    for _ in range(3):
        _post(client, "/login/code", {"code": _wrong(totp)})
    slowed = _post(client, "/login/code", {"code": totp.now()})
    text = _text(slowed)
    assert slowed.status_code == 401 and "Misimbo mingi mno isiyo sahihi: subiri sekunde" in text
    assert "Too many wrong codes" not in text


# --------------------------------------------------------------------------- one's own account


def test_password_errors_on_the_account_and_link_pages(app, client, session, person):
    from mel.accounts import links

    assert login(client, person.email, PASSWORD).status_code == 302
    _language(client, "sw", "/account")
    wrong = _post(client, "/account/password", {"current": "not my password at all", "password": "a new one",
                                                 "confirm": "a new one"}, "/account")
    assert wrong.status_code == 422
    text = _text(wrong)
    assert "Nenosiri la sasa si sahihi." in text and "The current password is not correct." not in text
    same = _text(_post(client, "/account/password", {"current": PASSWORD, "password": PASSWORD,
                                                     "confirm": PASSWORD}, "/account"))
    assert "Nenosiri jipya ni sawa na la sasa: chagua jingine." in same

    path = f"/reset-password/{links.make(app.config, 'reset', person)}"
    _post(client, "/logout", {}, "/account")
    _language(client, "sw", "/login")
    for typed, kiswahili, english in (
            ("abcabcabcabcabc", 'Nenosiri hili ni rahisi mno kukisiwa (marudio kama "abcabcabc" ni magumu kidogo tu '
                                'kukisiwa kuliko "abc")', "too easy to guess"),
            ("1qaz2wsx3edc", "Nenosiri hili liko kwenye orodha ya manenosiri yanayotumika zaidi", "most common"),
            ("qwertyuiopasdfgh", "(hili linafanana na nenosiri linalotumika sana)", "commonly used")):
        refused = _post(client, path, {"password": typed, "confirm": typed})
        text = _text(refused)
        assert refused.status_code == 422 and kiswahili in text and english not in text, text[-600:]


# --------------------------------------------------------------------------- people (secretariat)


def test_people_errors_and_notices_in_kiswahili_and_the_api_in_english(client, session, api):
    secretariat = session.scalar(select(User).where(User.email == SECRETARIAT))
    officer = session.scalar(select(User).where(User.email == "officer.kisumu@demo.test"))
    assert login(client, SECRETARIAT).status_code == 302  # the account reads Kiswahili (the api fixture)

    own = _post(client, f"/admin/users/{secretariat.id}/deactivate", {"reason": "testing"}, "/admin/users")
    assert own.status_code == 302
    page = _flashes(client, "/admin/users")
    assert "Huwezi kusimamisha akaunti yako mwenyewe" in page and "You cannot deactivate" not in page
    _post(client, f"/admin/users/{officer.id}/deactivate", {"reason": ""}, "/admin/users")
    page = _flashes(client, "/admin/users")
    assert f"Eleza kwa nini akaunti ya {officer.email} inasimamishwa" in page and "Say why" not in page
    _post(client, f"/admin/users/{officer.id}/sign-out", {}, "/admin/users")
    page = _flashes(client, "/admin/users")
    assert f"{officer.email} ametolewa: vipindi 0 vya kuingia vimefungwa." in page and "signed out of" not in page

    unchanged = _post(client, f"/admin/users/{officer.id}/access", {
        "name": officer.name, "role": officer.role, "agency": officer.agency or "",
        "programmes": [p.code for p in officer.programmes], "org_units": [u.code for u in officer.org_units],
        "reason": "checking"})
    text = _text(unchanged)
    assert unchanged.status_code == 422 and f"Hakuna kinachobadilika kwa {officer.email}" in text
    assert "Nothing changes for" not in text

    # the API: the same refusals, in English, whatever the account reads
    refused = client.patch(f"/api/v1/users/{secretariat.id}", json={"reason": "testing", "active": False},
                           headers=api)
    assert refused.status_code == 409 and refused.get_json()["message"] == (
        "You cannot deactivate your own account: ask another member of the secretariat.")
    refused = client.patch(f"/api/v1/users/{officer.id}", json={"reason": "checking", "role": officer.role,
                                                                "name": officer.name}, headers=api)
    assert refused.status_code == 409 and refused.get_json()["message"] == (
        f"Nothing changes for {officer.email}: the form holds their current access.")


def test_the_audit_refuses_an_officer_in_kiswahili(client, session):
    officer = session.scalar(select(User).where(User.email == "officer.kisumu@demo.test"))
    officer.locale = "sw"
    session.flush()
    assert login(client, officer.email).status_code == 302
    refused = client.get("/admin/audit")
    text = _text(refused)
    assert refused.status_code == 403 and "Ni sekretarieti pekee inayosoma kumbukumbu za ukaguzi." in text
    assert "Only the secretariat reads the audit." not in text


def test_a_nul_character_in_a_form_is_refused_in_kiswahili(client, person):
    _language(client, "sw", "/login")
    refused = client.post("/login", data={"email": "a\x00@example.org", "password": "x",
                                          "csrf_token": csrf_token(client)})
    text = _text(refused)
    assert refused.status_code == 422 and "Kisanduku cha fomu kina herufi ya NUL; iondoe." in text
    assert "A form field contains a NUL character" not in text
    address = _text(client.get("/login?next=%00"))
    assert "Anwani ina herufi ya NUL (%00); iondoe." in address


def test_the_error_pages_speak_kiswahili_and_the_api_english(client, session, api):
    """mel/errors_views.py: a failed CSRF check and an unknown address on a page, in the page's language."""
    _language(client, "sw", "/login")
    forged = client.post("/login", data={"email": "viewer@demo.test", "password": "x"})
    text = _text(forged)
    assert forged.status_code == 400 and "Muda wa fomu umekwisha au ilitumwa kutoka tovuti nyingine" in text
    assert "CSRF check failed" not in text
    missing = _text(client.get("/no/such/page"))
    assert "The requested URL was not found" not in missing and "Hitilafu 404" in missing
    assert client.get("/api/v1/no/such/thing", headers=api).get_json()["message"].startswith(
        "The requested URL was not found on the server.")


# --------------------------------------------------------------------------- reports


def test_report_errors_in_kiswahili_and_the_api_in_english(client, session, api):
    from mel.reporting import operations

    assert login(client, SECRETARIAT).status_code == 302
    token = csrf_token(client, "/reports/")
    refused = client.post("/reports/", data={"kind": "programme", "period": "2025Q2", "programme": "NOPE",
                                             "csrf_token": token})
    text = _text(refused)
    assert refused.status_code == 422 and "mpango: ripoti ya mpango inahitaji mmojawapo wa" in text
    assert "'NOPE' si mmojawapo." in text and "a programme report needs" not in text
    answer = client.post("/api/v1/reports", json={"kind": "programme", "period": "2025Q2", "programme": "NOPE"},
                         headers=api)
    assert answer.status_code == 422
    assert re.fullmatch(r"programme: a programme report needs one of [A-Z, -]+; 'NOPE' is not one\.",
                        answer.get_json()["message"])

    run = operations.request_report(session, kind="factsheet", period="2025Q2", trigger="cli")
    session.commit()
    refused = client.post(f"/reports/runs/{run.id}/commentary", data={"key_messages": "One",
                                                                       "csrf_token": csrf_token(client, "/reports/")})
    text = _text(refused)
    assert refused.status_code == 409
    assert f"Hali ya utoaji wa ripoti {run.id} ni: kwenye foleni; ufafanuzi huandikwa kwenye rasimu iliyokamilika." \
        in text and "commentary is written" not in text
    answer = client.put(f"/api/v1/reports/{run.id}/commentary", json={"key_messages": ["One"]}, headers=api)
    assert answer.status_code == 409 and answer.get_json()["message"] == (
        f"Report run {run.id} is queued; commentary is written on a finished draft.")

    missing = _text(client.get("/reports/runs/999999"))
    assert "Hakuna utoaji wa ripoti 999999." in missing and "No report run" not in missing
    assert client.get("/api/v1/reports/999999", headers=api).get_json()["message"] == "No report run 999999."


def test_action_errors_and_scopes_in_kiswahili(client, session, api):
    from mel.catalogue.lookup import load_catalogue
    from mel.reporting import actions

    secretariat = session.scalar(select(User).where(User.email == SECRETARIAT))
    actions.create(session, load_catalogue(session), secretariat, text="Visit Kisumu", scope="county",
                   scope_code="042", raised_period="2025Q2")
    actions.create(session, load_catalogue(session), secretariat, text="Brief the PS", raised_period="2025Q2")
    session.commit()
    assert login(client, SECRETARIAT).status_code == 302
    page = _text(client.get("/reports/actions?scope=county&scope_code=999"))
    assert "msimbo wa wigo: hatua ya kaunti inahitaji kaunti (042, 42 au Kisumu); '999' si mojawapo." in page
    assert "a county action needs" not in page
    assert "Kaunti ya Kisumu" in page and "Kisumu County" not in page and "Sekta" in page
    refused = client.post("/reports/actions", data={"text": " ", "raised_period": "2025Q2", "scope": "sector",
                                                    "csrf_token": csrf_token(client, "/reports/actions")})
    text = _text(refused)
    assert refused.status_code == 422 and "text: andika kinachopaswa kufanywa; hakuna kilichoandikwa." in text
    answer = client.post("/api/v1/actions", json={"text": " ", "raised_period": "2025Q2"}, headers=api)
    assert answer.status_code == 422 and answer.get_json()["message"] == (
        "text: write what is to be done; it is empty.")


# --------------------------------------------------------------------------- the English, unchanged


def test_the_english_texts_are_as_before(app, session, person):
    """The messages give the very English strings the f-strings gave (the API's and the CLI's)."""
    from mel.accounts import self_service, two_factor
    from mel.accounts.operations import check_password_policy
    from mel.errors import MelError
    from mel.reporting import commentary
    from mel.reporting.queries import day_words

    def raised(call) -> MelError:
        with pytest.raises(MelError) as caught:
            call()
        return caught.value

    assert raised(lambda: check_password_policy("short", 12)).message == \
        "The password must have at least 12 characters."
    assert raised(lambda: check_password_policy("aaaaaaaaaaaaaa", 12)).message == (
        'This password is too easy to guess (repeats like "aaa" are easy to guess): choose another, '
        "e.g. three or four unrelated words.")
    assert raised(lambda: two_factor.disable(session, person, "x")).message == \
        "Two-factor sign-in is already off for your account."
    secret = two_factor.new_secret()
    two_factor.enable(session, person, secret, pyotp.TOTP(secret).now())
    wrong = raised(lambda: two_factor.disable(session, person, "000000" if pyotp.TOTP(secret).now() != "000000"
                                              else "111111"))
    assert wrong.message == ("code: That code is not right. Enter the 6-digit code your authenticator app shows "
                             "now, or one of your recovery codes.")
    assert raised(lambda: self_service.set_account_active(session, person.id, active=True, reason="x",
                                                          actor=None)).message == \
        "achieng@example.go.ke is already active."
    assert raised(lambda: self_service.set_account_active(session, person.id, active=False, reason=" ",
                                                          actor=None)).message == (
        "Say why achieng@example.go.ke is deactivated: the reason is kept in the audit log.")
    assert raised(lambda: commentary._texts(["a" * 1001], "key_messages", 1000, 15)).message == \
        "key_messages[1]: at most 1,000 characters; it has 1,001."
    assert raised(lambda: commentary._recommendations([{"text": "", "owner": "PS"}])).message == \
        "recommendations[1].text: write the recommendation; only its owner or due quarter was given."
    moment = datetime(2025, 8, 5, 9, 30, tzinfo=UTC)
    assert str(day_words(moment)) == f"{moment:%d %B %Y}" == "05 August 2025"
    with app.test_request_context(), force_locale("sw"):
        assert say(day_words(moment), gettext) == "05 Agosti 2025"
        assert say(wrong.message, gettext).startswith("msimbo: Msimbo huo si sahihi.")
