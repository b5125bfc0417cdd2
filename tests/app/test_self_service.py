"""People getting in on their own: forgot password, invitations, one's own password and API tokens.

E-mails go to a real SMTP server on 127.0.0.1 (aiosmtpd); links are followed as a person would.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from mel.accounts import mail
from mel.accounts.models import ApiToken, AuditEvent, User
from mel.accounts.operations import create_token, create_user, load_user
from mel.unit_of_work import finish
from tests.helpers import csrf_token, login

BASE = "https://mel.example.go.ke"
PASSWORD = "Old tortoise paints rainbows"
NEW_PASSWORD = "Seven herons wade at Lake Naivasha"
LINK = re.compile(re.escape(BASE) + r"(/(?:reset-password|invitation)/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def mailer(app, smtp_server, monkeypatch):
    """The app's e-mail goes to the loopback server; returns its inbox."""
    inbox, port = smtp_server
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "BASE_URL", BASE)
    return inbox


@pytest.fixture
def person(session):
    user = create_user(session, "wanjiru@example.go.ke", "reviewer", name="Wanjiru K", password=PASSWORD)
    session.flush()
    return user


def links_to(inbox, email: str) -> list[str]:
    mail.wait_for_background()
    return [LINK.search(body).group(1) for body in inbox.bodies(email)]


def forgot(client, email: str):
    return client.post("/forgot-password", data={"email": email, "csrf_token": csrf_token(client, "/forgot-password")})


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "confirm": confirm or password, "csrf_token": token})


def audit_actions(session, email: str) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.object == email).order_by(AuditEvent.id)))


# --------------------------------------------------------------------------- forgot password


def test_the_sign_in_page_offers_a_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in page


def test_a_reset_link_arrives_by_email_and_works_once(app, client, session, mailer, person):
    response = forgot(client, "  Wanjiru@Example.go.ke ")
    assert response.status_code == 200 and "Check your e-mail" in response.get_data(as_text=True)
    [path] = links_to(mailer, person.email)
    assert mailer.bodies(person.email)[0].startswith("Reset your Kenya SP MEL password")

    page = client.get(path)
    assert page.status_code == 200 and person.email in page.get_data(as_text=True)
    weak = set_password(client, path, "password1234")
    assert weak.status_code == 422 and "most common passwords" in weak.get_data(as_text=True)
    assert set_password(client, path, NEW_PASSWORD, "something else").status_code == 422
    done = set_password(client, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")

    assert login(client, person.email, NEW_PASSWORD).status_code == 302
    again = client.get(path)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    other = app.test_client()
    replay = other.post(path, data={"password": "Another fine password for later",
                                    "confirm": "Another fine password for later",
                                    "csrf_token": csrf_token(other, "/login")})
    assert replay.status_code == 410
    assert login(app.test_client(), person.email, NEW_PASSWORD).status_code == 302
    assert audit_actions(session, person.email) == ["user.created", "password_reset.requested",
                                                    "user.password_set", "sign_in", "sign_in"]
    details = session.scalar(select(AuditEvent.details).where(AuditEvent.action == "user.password_set"))
    assert details == {"how": "reset link"}


def test_a_reset_link_is_dead_after_two_hours(client, mailer, person):
    forgot(client, person.email)
    [path] = links_to(mailer, person.email)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1, minutes=55), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2, minutes=1), tick=False):
        response = client.get(path)
        assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert client.get(path.replace("reset-password", "invitation")).status_code == 404  # another salt
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_a_new_password_ends_the_links_made_before_it(client, session, mailer, person):
    forgot(client, person.email)
    forgot(client, person.email)
    first, second = links_to(mailer, person.email)
    assert set_password(client, second).status_code == 302
    assert client.get(first).status_code == 410


def test_an_unknown_address_gets_the_same_page_and_no_email(client, session, mailer, person):
    known = forgot(client, person.email)
    unknown = forgot(client, "nobody@example.go.ke")
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data() == known.get_data()
    mail.wait_for_background()
    assert [rcpt for m in mailer.messages for rcpt in m.rcpt_tos] == [person.email]
    assert audit_actions(session, "nobody@example.go.ke") == ["password_reset.requested"]


def test_a_deactivated_account_gets_no_reset_email(client, session, mailer, person):
    person.is_active = False
    session.flush()
    assert forgot(client, person.email).status_code == 200
    mail.wait_for_background()
    assert mailer.messages == []


def test_one_address_gets_at_most_three_reset_emails_an_hour(client, mailer, person):
    for _ in range(5):
        assert forgot(client, person.email).status_code == 200
    assert len(links_to(mailer, person.email)) == 3


def test_a_reset_ends_the_persons_signed_in_sessions(app, client, mailer, person):
    elsewhere = app.test_client()
    assert login(elsewhere, person.email, PASSWORD).status_code == 302
    assert elsewhere.get("/account").status_code == 200
    forgot(client, person.email)
    [path] = links_to(mailer, person.email)
    assert set_password(client, path).status_code == 302
    assert elsewhere.get("/account").status_code == 302  # to the sign-in page


def test_forgot_password_requests_are_rate_limited(database_url, tmp_path):
    from mel.app import create_app

    limited = create_app("testing", DATABASE_URL=database_url, INSTANCE_DIR=str(tmp_path), LOG_LEVEL="WARNING",
                         RATELIMIT_ENABLED=True, RATELIMIT_ACCOUNT="2 per minute")
    client = limited.test_client()
    token = csrf_token(client, "/forgot-password")
    answers = [client.post("/forgot-password", data={"csrf_token": token, "email": ""}).status_code
               for _ in range(3)]
    assert answers == [422, 422, 429]  # an empty address is refused by the form; the third is over the limit


# --------------------------------------------------------------------------- the unit of work


def test_an_email_of_work_that_rolled_back_is_never_sent(app, session, mailer):
    user = load_user(session, "viewer@demo.test")
    config = dict(app.config)

    def queue(subject: str) -> None:
        mail.queue(session, config, to=user.email, subject=subject, template="password_reset",
                   user=user, link=BASE + "/x", hours=2)

    queue("rolled back")
    session.rollback()
    with pytest.raises(RuntimeError), session.begin_nested():
        queue("savepoint rolled back")
        raise RuntimeError("refused step")
    queue("committed")
    finish(session, config)
    subjects = [b.split("\n", 1)[0] for b in mailer.bodies(user.email)]
    assert subjects == ["committed"]


# --------------------------------------------------------------------------- invitations


def invite(client, **fields):
    data = {"email": "amina@example.go.ke", "name": "Amina O", "role": "officer",
            "programmes": ["OPCT"], "org_units": ["042"], **fields}
    data["csrf_token"] = csrf_token(client, "/admin/users/invite")
    return client.post("/admin/users/invite", data=data)


def test_the_secretariat_invites_an_officer_who_sets_a_password_and_signs_in(app, as_user, session, mailer):
    secretariat = as_user("secretariat@demo.test")
    response = invite(secretariat)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users")
    people = secretariat.get("/admin/users").get_data(as_text=True)
    assert "amina@example.go.ke" in people and "invited" in people and "is invited" in people

    invited = load_user(session, "amina@example.go.ke")
    assert invited.password_hash is None and [p.code for p in invited.programmes] == ["OPCT"]
    [path] = links_to(mailer, invited.email)
    assert "You are invited" in mailer.bodies(invited.email)[0]
    assert "72 hours" in mailer.bodies(invited.email)[0]

    newcomer = app.test_client()
    assert login(newcomer, invited.email, NEW_PASSWORD).status_code == 401  # no password yet
    page = newcomer.get(path)
    assert page.status_code == 200 and "set your password" in page.get_data(as_text=True).lower()
    assert set_password(newcomer, path).status_code == 302
    assert login(newcomer, invited.email, NEW_PASSWORD).status_code == 302
    assert newcomer.get("/returns/OPCT/042/2025Q3").status_code in (200, 404)
    assert app.test_client().get(path).status_code == 410
    assert audit_actions(session, invited.email)[:3] == ["user.created", "user.invited", "user.invitation_sent"]


def test_an_invitation_link_lasts_72_hours(as_user, mailer, app):
    invite(as_user("secretariat@demo.test"), role="viewer", programmes=[], org_units=[])
    [path] = links_to(mailer, "amina@example.go.ke")
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=71), tick=False):
        assert app.test_client().get(path).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=73), tick=False):
        assert app.test_client().get(path).status_code == 410
    assert app.test_client().get(path.replace("invitation", "reset-password")).status_code == 404


def test_an_invitation_is_resent_only_while_no_password_is_set(as_user, session, mailer):
    secretariat = as_user("secretariat@demo.test")
    invite(secretariat, role="reviewer", programmes=[], org_units=[])
    invited = load_user(session, "amina@example.go.ke")
    token = csrf_token(secretariat, "/admin/users")
    assert secretariat.post(f"/admin/users/{invited.id}/invitation", data={"csrf_token": token}).status_code == 302
    assert len(links_to(mailer, invited.email)) == 2
    active = load_user(session, "reviewer@demo.test")
    assert secretariat.post(f"/admin/users/{active.id}/invitation", data={"csrf_token": token}).status_code == 409
    assert secretariat.post("/admin/users/99999/invitation", data={"csrf_token": token}).status_code == 404


def test_an_invitation_is_refused_with_the_reason(as_user, session, mailer):
    secretariat = as_user("secretariat@demo.test")
    response = invite(secretariat, programmes=[], org_units=[])
    assert response.status_code == 422 and "An officer needs at least one programme" in response.get_data(as_text=True)
    response = invite(secretariat, email="reviewer@demo.test", role="reviewer")
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == "amina@example.go.ke")) is None
    mail.wait_for_background()
    assert mailer.messages == []


def test_without_a_mail_server_the_secretariat_is_told_the_invitation_was_not_sent(as_user, session):
    secretariat = as_user("secretariat@demo.test")
    response = invite(secretariat, role="viewer", programmes=[], org_units=[])
    assert response.status_code == 302
    page = secretariat.get("/admin/users").get_data(as_text=True)
    assert "was not sent" in page and "MEL_SMTP_HOST" in page


@pytest.mark.parametrize("email", ["officer.opct@demo.test", "viewer@demo.test", "reviewer@demo.test"])
def test_only_the_secretariat_invites(as_user, session, email):
    client = as_user(email)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/invite").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/admin/users/invite", data={"csrf_token": token, "email": "x@example.org", "name": "X",
                                                   "role": "secretariat"}).status_code == 403
    assert session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_forms_without_a_csrf_token_are_refused(client, as_user):
    assert client.post("/forgot-password", data={"email": "viewer@demo.test"}).status_code == 400
    secretariat = as_user("secretariat@demo.test")
    assert secretariat.post("/admin/users/invite", data={"email": "a@example.org", "name": "A",
                                                         "role": "viewer"}).status_code == 400
    assert secretariat.post("/account/password", data={"current": "x", "password": "y", "confirm": "y"}).status_code == 400


# --------------------------------------------------------------------------- one's own account


def test_changing_ones_password_needs_the_current_one(app, client, session, person):
    assert login(client, person.email, PASSWORD).status_code == 302
    elsewhere = app.test_client()
    assert login(elsewhere, person.email, PASSWORD).status_code == 302

    def change(current: str, new: str = NEW_PASSWORD):
        token = csrf_token(client, "/account")
        return client.post("/account/password", data={"current": current, "password": new, "confirm": new,
                                                      "csrf_token": token})

    wrong = change("not my password at all")
    assert wrong.status_code == 422 and "current password is not correct" in wrong.get_data(as_text=True)
    assert change(PASSWORD, "short").status_code == 422
    done = change(PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/account")
    assert client.get("/account").status_code == 200  # this session stays
    assert elsewhere.get("/account").status_code == 302  # the other one ended
    assert login(app.test_client(), person.email, PASSWORD).status_code == 401
    assert login(app.test_client(), person.email, NEW_PASSWORD).status_code == 302


def test_the_account_page_lists_and_revokes_only_ones_own_tokens(client, session, person):
    mine = create_token(session, person.email, name="County MIS").record
    create_token(session, person.email, name="Old laptop", days=1).record.expires_at = datetime.now(UTC) - timedelta(days=1)
    theirs = create_token(session, "viewer@demo.test", name="Viewer script").record
    session.flush()
    assert login(client, person.email, PASSWORD).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "County MIS" in page and mine.prefix in page and "expired" in page and "Old laptop" in page
    assert "Viewer script" not in page and theirs.prefix not in page

    token = csrf_token(client, "/account")
    assert client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert session.get(ApiToken, theirs.id).revoked_at is None
    assert client.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": token}).status_code == 302
    assert session.get(ApiToken, mine.id).revoked_at is not None
    assert "revoked" in client.get("/account").get_data(as_text=True)


def test_the_account_page_needs_a_signed_in_user(client):
    assert client.get("/account").status_code == 302
