"""Two-factor sign-in (TOTP): setting it up, signing in with an app code or a recovery code, replays,
throttling, the secretariat's reset, MEL_REQUIRE_2FA, and Basic credentials on the DHIS2 API.

Codes come from pyotp, as an authenticator app makes them; time moves with time_machine.
"""

from __future__ import annotations

import base64
import re
import time

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from config import ConfigError, load_config
from mel.accounts.models import AuditEvent, RecoveryCode, SignInAttempt
from mel.accounts.operations import create_token, create_user
from tests.helpers import csrf_token, login

PASSWORD = "Giraffes graze near Naivasha at dusk"
KEY = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
CODES = re.compile(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>")


@pytest.fixture
def person(session):
    user = create_user(session, "achieng@example.go.ke", "reviewer", name="Achieng O", password=PASSWORD)
    session.flush()
    return user


def post(client, path: str, data: dict, form: str | None = None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form or path)})


def enrol(client, person) -> tuple[pyotp.TOTP, list[str]]:
    """Sign in with the password, set two-factor sign-in up from the account page, sign out."""
    assert login(client, person.email, PASSWORD).status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page and "QR code for your authenticator app" in page
    secret = KEY.search(page).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    done = post(client, "/account/two-factor", {"code": totp.now()})
    assert done.status_code == 302
    shown = client.get("/account/two-factor").get_data(as_text=True)
    codes = CODES.findall(shown)
    assert len(codes) == 10 and "It is on" in shown
    assert CODES.findall(client.get("/account/two-factor").get_data(as_text=True)) == []  # shown once
    post(client, "/logout", {}, "/account")
    return totp, codes


def actions(session, email: str) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.object == email).order_by(AuditEvent.id)))


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


# --------------------------------------------------------------------------- setting it up


def test_a_wrong_or_malformed_code_does_not_turn_it_on(client, session, person):
    assert login(client, person.email, PASSWORD).status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = KEY.search(page).group(1).replace(" ", "")
    for code, says in (("", "6-digit code"), ("12345", "6-digit code"), ("abcdef", "6-digit code"),
                       ("1" * 64, "6-digit code"), ("\x00" * 6, "NUL character")):
        refused = post(client, "/account/two-factor", {"code": code})
        assert refused.status_code == 422 and says in refused.get_data(as_text=True), code
    wrong = str((int(pyotp.TOTP(secret).now()) + 1) % 1_000_000).zfill(6)
    refused = post(client, "/account/two-factor", {"code": wrong})
    assert refused.status_code == 422 and "does not match" in refused.get_data(as_text=True)
    session.refresh(person)
    assert not person.has_two_factor
    # The same key is offered until it is confirmed, so the app the person already set up stays right.
    assert KEY.search(client.get("/account/two-factor").get_data(as_text=True)).group(1).replace(" ", "") == secret


def test_turning_it_on_shows_ten_recovery_codes_once_and_is_audited(client, session, person):
    _, codes = enrol(client, person)
    session.refresh(person)
    assert person.has_two_factor and len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == person.id)).all()
    assert len(stored) == 10 and not any(c.replace("-", "") in h for c in codes for h in stored)  # hashes only
    assert "user.2fa_enabled" in actions(session, person.email)


# --------------------------------------------------------------------------- signing in


def test_sign_in_asks_for_the_code_after_the_password(client, session, person):
    totp, _ = enrol(client, person)
    first = login(client, person.email, PASSWORD)
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/code")
    assert not signed_in(client)  # the password alone opens nothing
    assert "Enter your sign-in code" in client.get("/login/code").get_data(as_text=True)

    wrong = post(client, "/login/code", {"code": "000000" if totp.now() != "000000" else "111111"})
    assert wrong.status_code == 401 and "That code is not right" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    with time_machine.travel(time.time() + 31, tick=False):  # the next code the app shows
        right = post(client, "/login/code", {"code": totp.now()})
        assert right.status_code == 302 and signed_in(client)
    trail = actions(session, person.email)
    assert trail.index("sign_in.password") < trail.index("sign_in.2fa_failed") < trail.index("sign_in.2fa")
    outcomes = session.scalars(select(SignInAttempt.outcome).where(SignInAttempt.email == person.email)
                               .order_by(SignInAttempt.id)).all()
    assert list(outcomes)[-2:] == ["failure", "success"]


def test_a_code_is_accepted_once(client, session, person):
    totp, _ = enrol(client, person)
    with time_machine.travel(time.time() + 31, tick=False):
        code = totp.now()
        login(client, person.email, PASSWORD)
        assert post(client, "/login/code", {"code": code}).status_code == 302
        post(client, "/logout", {}, "/account")
        login(client, person.email, PASSWORD)
        replay = post(client, "/login/code", {"code": code})
        assert replay.status_code == 401 and not signed_in(client)


def test_a_recovery_code_signs_in_once(client, session, person):
    _, codes = enrol(client, person)
    login(client, person.email, PASSWORD)
    assert post(client, "/login/code", {"code": codes[3].upper().replace("-", " - ")}).status_code == 302
    assert signed_in(client)
    post(client, "/logout", {}, "/account")
    login(client, person.email, PASSWORD)
    assert post(client, "/login/code", {"code": codes[3]}).status_code == 401
    assert post(client, "/login/code", {"code": codes[4]}).status_code == 302


def test_the_code_step_expires_after_five_minutes(client, session, person):
    totp, _ = enrol(client, person)
    login(client, person.email, PASSWORD)
    with time_machine.travel(time.time() + 301, tick=False):
        late = post(client, "/login/code", {"code": totp.now()}, "/login")
        assert late.status_code == 302 and late.headers["Location"].endswith("/login")
        assert not signed_in(client)


def test_wrong_codes_are_throttled_like_passwords(app, client, session, person, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_FREE_FAILURES", 2)
    totp, _ = enrol(client, person)
    login(client, person.email, PASSWORD)
    wrong = "000000" if totp.now() != "000000" else "111111"
    for _ in range(3):
        post(client, "/login/code", {"code": wrong})
    slowed = post(client, "/login/code", {"code": totp.now()})
    assert slowed.status_code == 401 and "Too many wrong codes" in slowed.get_data(as_text=True)
    assert not signed_in(client)


# --------------------------------------------------------------------------- managing it


def test_turning_it_off_needs_a_code(client, session, person):
    totp, codes = enrol(client, person)
    login(client, person.email, PASSWORD)
    post(client, "/login/code", {"code": codes[0]})
    refused = post(client, "/account/two-factor/off", {"code": "12"}, "/account/two-factor")
    assert refused.status_code == 422
    assert post(client, "/account/two-factor/off", {"code": codes[1]}, "/account/two-factor").status_code == 302
    session.refresh(person)
    assert not person.has_two_factor
    assert session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == person.id)).all() == []
    post(client, "/logout", {}, "/account")
    assert login(client, person.email, PASSWORD).headers["Location"].endswith("/")


def test_new_recovery_codes_replace_the_old_ones(client, session, person):
    totp, codes = enrol(client, person)
    login(client, person.email, PASSWORD)
    post(client, "/login/code", {"code": codes[0]})
    with time_machine.travel(time.time() + 31, tick=False):
        renewed = post(client, "/account/two-factor/recovery-codes", {"code": totp.now()}, "/account/two-factor")
        assert renewed.status_code == 302 and renewed.headers["Location"].endswith("/account/two-factor")
        fresh = CODES.findall(client.get("/account/two-factor").get_data(as_text=True))
        post(client, "/logout", {}, "/account")
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    login(client, person.email, PASSWORD)
    assert post(client, "/login/code", {"code": codes[5]}).status_code == 401
    assert post(client, "/login/code", {"code": fresh[5]}).status_code == 302


def test_the_secretariat_resets_a_lost_second_factor(client, session, person, as_user):
    _, codes = enrol(client, person)
    login(client, person.email, PASSWORD)
    post(client, "/login/code", {"code": codes[0]})
    other = client.application.test_client()
    assert login(other, "reviewer@demo.test").status_code == 302
    path = f"/admin/users/{person.id}/two-factor/reset"
    assert post(other, path, {"reason": "lost phone"}, "/account").status_code == 403
    admin = client.application.test_client()
    assert login(admin, "secretariat@demo.test").status_code == 302
    no_reason = post(admin, path, {"reason": "  "}, "/admin/users")
    assert no_reason.status_code == 302
    assert "say why" in admin.get("/admin/users").get_data(as_text=True)
    session.refresh(person)
    assert person.has_two_factor
    assert post(admin, path, {"reason": "Lost phone; identity checked by a call."}, "/admin/users").status_code == 302
    session.refresh(person)
    assert not person.has_two_factor
    assert not signed_in(client)  # their sessions ended
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.2fa_reset")).one()
    assert event.actor == "secretariat@demo.test" and event.details["reason"].startswith("Lost phone")


# --------------------------------------------------------------------------- required for the secretariat


def test_required_2fa_lets_the_secretariat_only_set_it_up(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_2FA", "secretariat")
    boss = create_user(session, "katibu@example.go.ke", "secretariat", name="Katibu", password=PASSWORD)
    session.flush()
    assert login(client, boss.email, PASSWORD).status_code == 302
    for path in ("/", "/admin/users", "/reports/", "/account"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/two-factor"), path
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "Your role needs two-factor sign-in" in page
    totp = pyotp.TOTP(KEY.search(page).group(1).replace(" ", ""))
    assert post(client, "/account/two-factor", {"code": totp.now()}).status_code == 302
    assert client.get("/admin/users").status_code == 200
    # Officers are not asked.
    officer = app.test_client()
    assert login(officer, "officer.opct@demo.test").status_code == 302
    assert officer.get("/").status_code == 200


def test_the_setting_is_checked():
    with pytest.raises(ConfigError, match="MEL_REQUIRE_2FA"):
        load_config("testing", {"REQUIRE_2FA": "everyone"})
    assert load_config("testing", {"REQUIRE_2FA": "secretariat"}).REQUIRE_2FA == "secretariat"


# --------------------------------------------------------------------------- the DHIS2 API


def test_basic_credentials_do_not_open_an_account_with_two_factors(client, session, person):
    enrol(client, person)
    basic = base64.b64encode(f"{person.email}:{PASSWORD}".encode()).decode()
    refused = client.get("/api/me", headers={"Authorization": f"Basic {basic}"})
    assert refused.status_code == 401 and "ApiToken" in refused.get_json()["devMessage"]
    issued = create_token(session, person.email, name="script")
    assert client.get("/api/me", headers={"Authorization": f"ApiToken {issued.token}"}).status_code == 200


def test_the_command_line_resets_a_second_factor(client, session, person, runner):
    enrol(client, person)
    assert "(two-factor)" in runner.invoke(args=["users", "list"]).output
    refused = runner.invoke(args=["users", "reset-2fa", person.email, "--reason", " "])
    assert refused.exit_code != 0 and "say why" in refused.output
    done = runner.invoke(args=["users", "reset-2fa", person.email, "--reason", "Lost phone, checked by call."])
    assert done.exit_code == 0, done.output
    session.refresh(person)
    assert not person.has_two_factor
    assert session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "user.2fa_reset")).one() == "system"
