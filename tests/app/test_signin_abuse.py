"""Sign-in abuse: parallel attempts, back-off instead of lockout, one answer for every refusal,
the password policy, and the audit the secretariat reads."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import requests
import time_machine
from sqlalchemy import delete, func, select
from werkzeug.serving import make_server

from mel.accounts import operations
from mel.accounts.models import AuditEvent, SignInAttempt, User
from mel.accounts.operations import (
    SignInPolicy,
    authenticate,
    backoff_seconds,
    check_password_policy,
)
from mel.app import create_app
from mel.db import db, utcnow
from mel.demo import DEMO_PASSWORD
from mel.errors import Unauthorized, ValidationFailed
from mel.migrate import upgrade
from tests.helpers import CSRF_RE, fresh_database_url, login

WRONG = "wrong-password-123"
OWNER = "owner@example.test"
OWNER_PASSWORD = "owner-sign-in-secret-2025"


# --------------------------------------------------------------------------- parallel attempts


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A real threaded HTTP server on its own database (committed, not a rolled-back test transaction)."""
    url = fresh_database_url(tmp_path_factory, "signin_live")
    # A back-off far longer than the burst: the limit of checks in a burst is the free failures.
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("live")),
                     LOG_LEVEL="WARNING", LOGIN_ACCOUNT_BACKOFF_SECONDS=600, LOGIN_IP_BACKOFF_SECONDS=600)
    with app.app_context():
        upgrade(db.engine)
        operations.create_user(db.session, OWNER, "viewer", password=OWNER_PASSWORD)
        db.session.commit()
        db.session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    with app.app_context():
        db.engine.dispose()


class HashSpy:
    """Counts password-hash checks: real ones (against an account's hash) and stand-ins."""

    def __init__(self, monkeypatch):
        self.lock = threading.Lock()
        self.real = self.dummy = 0
        original = operations.check_password_hash

        def spy(pwhash, password):
            with self.lock:
                if pwhash == operations._DUMMY_HASH:
                    self.dummy += 1
                else:
                    self.real += 1
            return original(pwhash, password)

        monkeypatch.setattr(operations, "check_password_hash", spy)

    @property
    def total(self) -> int:
        return self.real + self.dummy


def _burst(base: str, emails: list[str], password: str) -> list[int]:
    """Every client fetches the form first, then all post their password at the same moment."""
    clients = []
    for email in emails:
        http = requests.Session()
        page = http.get(f"{base}/login", timeout=30).text
        match = CSRF_RE.search(page)
        clients.append((http, email, match.group(1) or match.group(2)))
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(http, email, token):
        barrier.wait()
        response = http.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token},
                             allow_redirects=False, timeout=120)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=client) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return statuses


@pytest.mark.parametrize(
    ("emails", "limit", "known_account"),
    [
        ([OWNER] * 30, 5, True),  # one account from one address: the account's free failures
        ([f"nobody{n}@example.test" for n in range(30)], 20, False),  # 30 accounts from one address: the address's
    ],
    ids=["one-account", "password-spraying"],
)
def test_thirty_parallel_wrong_passwords_never_get_more_than_the_limit_of_checks(
    live, monkeypatch, emails, limit, known_account
):
    app, base = live
    with app.app_context():
        db.session.execute(delete(SignInAttempt))
        db.session.commit()
    spy = HashSpy(monkeypatch)
    statuses = _burst(base, emails, WRONG)
    assert statuses == [401] * 30
    assert spy.total == 30  # every attempt, checked or refused, spends one hash's time
    with app.app_context():
        outcomes = dict(db.session.execute(
            select(SignInAttempt.outcome, func.count()).group_by(SignInAttempt.outcome)).all())
        db.session.close()
    checked = outcomes.get("failure", 0)
    # Parallel attempts may only refuse more (a running attempt counts as a failure), never check more:
    # when all 30 are recorded before any is judged, none is checked.
    assert checked <= limit, outcomes
    assert outcomes == ({"failure": checked, "throttled": 30 - checked} if checked else {"throttled": 30})
    assert spy.real == (checked if known_account else 0)


def test_the_owner_signs_in_after_a_parallel_attack_once_the_back_off_is_over(live):
    app, base = live
    with app.app_context():
        db.session.execute(delete(SignInAttempt))
        db.session.commit()
    assert _burst(base, [OWNER] * 10, WRONG) == [401] * 10
    with app.app_context():
        # The attack's last failure was 601 s ago: the (test's 600 s) back-off is over.
        attempts = db.session.scalars(select(SignInAttempt)).all()
        for row in attempts:
            row.attempted_at = row.attempted_at - timedelta(seconds=601)
        db.session.commit()
    assert _burst(base, [OWNER], OWNER_PASSWORD) == [302]


# --------------------------------------------------------------------------- back-off


@pytest.mark.parametrize(
    ("failures", "free", "base", "cap", "expected"),
    [
        (0, 5, 2, 60, 0),
        (4, 5, 2, 60, 0),
        (5, 5, 2, 60, 2),
        (6, 5, 2, 60, 4),
        (7, 5, 2, 60, 8),
        (9, 5, 2, 60, 32),
        (10, 5, 2, 60, 60),
        (10_000, 5, 2, 60, 60),
        (20, 20, 4, 900, 4),
        (28, 20, 4, 900, 900),
    ],
)
def test_backoff_doubles_after_the_free_failures_up_to_its_cap(failures, free, base, cap, expected):
    assert backoff_seconds(failures, free, base, cap) == expected


POLICY = SignInPolicy(window_minutes=15, account_free=5, account_base=2, account_max=60,
                      ip_free=20, ip_base=4, ip_max=900)
ATTACKER, OWNER_ADDR, OTHER = "10.0.0.66", "10.0.0.7", "10.0.0.8"


def _try(session, email, password, addr) -> str:
    try:
        authenticate(session, email, password, remote_addr=addr, policy=POLICY)
    except Unauthorized as exc:
        assert exc.message == operations.SIGN_IN_REFUSED
        return "refused"
    return "in"


# Each case: earlier attempts (email, password, address) made `spacing` seconds apart, then the
# attempt, its delay in seconds after the last earlier one, and whether it got in or was refused unchecked.
V, R = "viewer@demo.test", "reviewer@demo.test"
SPRAY = [(f"n{n}@example.test", WRONG, ATTACKER) for n in range(20)]
CASES = {
    "4 failures: the 5th attempt is checked": ([(V, WRONG, ATTACKER)] * 4, 5, (V, DEMO_PASSWORD, OWNER_ADDR), 0, "in"),
    "5 failures from another address: the owner waits 2 s": (
        [(V, WRONG, ATTACKER)] * 5, 5, (V, DEMO_PASSWORD, OWNER_ADDR), 1.9, "refused"),
    "5 failures from another address: after 2 s the owner is in": (
        [(V, WRONG, ATTACKER)] * 5, 5, (V, DEMO_PASSWORD, OWNER_ADDR), 2.1, "in"),
    "6 failures: 4 s": ([(V, WRONG, ATTACKER)] * 6, 5, (V, DEMO_PASSWORD, OWNER_ADDR), 3.9, "refused"),
    "6 failures: after 4 s the owner is in": ([(V, WRONG, ATTACKER)] * 6, 5, (V, DEMO_PASSWORD, OWNER_ADDR), 4.1, "in"),
    "7 failures: 8 s": ([(V, WRONG, ATTACKER)] * 7, 9, (V, DEMO_PASSWORD, OWNER_ADDR), 7.9, "refused"),
    "a burst of 30 gets 5 checks, so the owner waits only 2 s": (
        [(V, WRONG, ATTACKER)] * 30, 0.01, (V, DEMO_PASSWORD, OWNER_ADDR), 2.1, "in"),
    "failures older than the window do not count": (
        [(V, WRONG, ATTACKER)] * 5, 5, (V, DEMO_PASSWORD, OWNER_ADDR), 15 * 60 + 1, "in"),
    "a success starts the account's count again": (
        [(V, WRONG, OWNER_ADDR)] * 4 + [(V, DEMO_PASSWORD, OWNER_ADDR)] + [(V, WRONG, OWNER_ADDR)] * 4, 5,
        (V, DEMO_PASSWORD, OWNER_ADDR), 0, "in"),
    "20 failures on 20 accounts from one address: that address waits 4 s": (
        SPRAY, 5, (R, DEMO_PASSWORD, ATTACKER), 3.9, "refused"),
    "20 failures on 20 accounts from one address: after 4 s it is checked again": (
        SPRAY, 5, (R, DEMO_PASSWORD, ATTACKER), 4.1, "in"),
    "20 failures on 20 accounts from one address: other addresses are not slowed": (
        SPRAY, 5, (R, DEMO_PASSWORD, OTHER), 0, "in"),
    "an address's count is not cleared by signing in to an account of its own": (
        SPRAY[:19] + [(R, DEMO_PASSWORD, ATTACKER), ("n99@example.test", WRONG, ATTACKER)], 5,
        (V, DEMO_PASSWORD, ATTACKER), 3.9, "refused"),
    "unknown e-mails are throttled like accounts": (
        [("ghost@example.test", WRONG, ATTACKER)] * 5, 5, ("ghost@example.test", WRONG, OTHER), 1.9, "refused"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_backoff_cases(session, case):
    earlier, spacing, (email, password, addr), delay, expected = CASES[case]
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        for n, (e, p, a) in enumerate(earlier):
            clock.move_to(start + timedelta(seconds=spacing * n))
            _try(session, e, p, a)
        clock.move_to(start + timedelta(seconds=spacing * (len(earlier) - 1) + delay))
        assert _try(session, email, password, addr) == expected
    last = session.scalars(select(SignInAttempt).order_by(SignInAttempt.id.desc())).first()
    assert last.outcome == {"in": "success", "refused": "throttled"}[expected]


# --------------------------------------------------------------------------- one answer for every refusal


def _normalised(page: str, email: str) -> str:
    page = CSRF_RE.sub("CSRF", page)
    return re.sub(re.escape(email), "EMAIL", page, flags=re.IGNORECASE)


def test_unknown_wrong_inactive_and_throttled_get_the_same_answer_and_one_hash(client, session, monkeypatch):
    inactive = session.scalar(select(User).where(User.email == "officer.kisumu@demo.test"))
    inactive.is_active = False
    session.flush()
    answers = {}
    with time_machine.travel(utcnow(), tick=False):  # the back-off does not run out during the test
        for _ in range(5):
            login(client, "reviewer@demo.test", WRONG)
        spy = HashSpy(monkeypatch)
        for case, email, password in [
            ("wrong password", "viewer@demo.test", WRONG),
            ("unknown e-mail", "nobody@demo.test", WRONG),
            ("inactive account, right password", "officer.kisumu@demo.test", DEMO_PASSWORD),
            ("throttled, right password", "reviewer@demo.test", DEMO_PASSWORD),
            ("throttled, wrong password", "reviewer@demo.test", WRONG),
        ]:
            before = spy.total
            response = login(client, email, password)
            assert spy.total - before == 1, case  # each refusal spends exactly one hash's time
            answers[case] = (response.status_code, _normalised(response.get_data(as_text=True), email))
    assert spy.real == 1 and spy.dummy == 4  # only the known, active, unthrottled account is checked
    baseline = answers["wrong password"]
    assert baseline[0] == 401 and operations.SIGN_IN_REFUSED in baseline[1]
    for case, answer in answers.items():
        assert answer == baseline, case


# --------------------------------------------------------------------------- password policy


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12 characters"),
        ("x" * 129, "at most 128 characters"),
        ("password1234", "most common passwords"),
        ("1q2w3e4r5t6y", "most common passwords"),
        ("iloveyou1234", "too easy to guess"),
        ("P@ssw0rd1234", "too easy to guess"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("123456789012", "too easy to guess"),
        ("qwertyuiopasdfgh", "too easy to guess"),
        (DEMO_PASSWORD, None),
        ("correct horse battery staple", None),
        ("long-enough-password", None),
        ("x" * 6 + "Q7#mZ" + "p", None),
    ],
)
def test_password_policy(password, problem):
    if problem is None:
        check_password_policy(password)
    else:
        with pytest.raises(ValidationFailed, match=problem):
            check_password_policy(password)


def test_the_policy_applies_to_users_create_and_set_password(runner, session):
    created = runner.invoke(args=["users", "create", "new@example.test", "--role", "viewer",
                                  "--password", "password1234"])
    assert created.exit_code == 1 and "most common passwords" in created.output
    assert session.scalar(select(User).where(User.email == "new@example.test")) is None
    refused = runner.invoke(args=["users", "set-password", "viewer@demo.test", "--password", "123456789012"])
    assert refused.exit_code == 1 and "too easy to guess" in refused.output
    accepted = runner.invoke(args=["users", "set-password", "viewer@demo.test", "--password",
                                   "tin roof rusted 1989"])
    assert accepted.exit_code == 0, accepted.output
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_set")).one()
    assert (event.actor, event.object) == ("system", "viewer@demo.test")


# --------------------------------------------------------------------------- the audit


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (None, 302),
        ("officer.opct@demo.test", 403),
        ("reviewer@demo.test", 403),
        ("viewer@demo.test", 403),
        ("secretariat@demo.test", 200),
    ],
)
def test_the_audit_page_is_for_the_secretariat_only(client, email, status):
    if email:
        assert login(client, email).status_code == 302
    response = client.get("/admin/audit?action=sign_in")
    assert response.status_code == status
    nav = client.get("/").get_data(as_text=True) if email else ""
    assert ('href="/admin/audit"' in nav) == (email == "secretariat@demo.test")
    if status == 302:
        assert response.headers["Location"].startswith("/login")
    if status == 200:
        page = response.get_data(as_text=True)
        assert "Signed in" in page and "secretariat@demo.test" in page
        assert 'name="viewport"' in page and "<table" not in page  # a list that reads on a phone


def _newest_audit_id(session) -> int:
    """The audit is append-only (the database refuses deletions): a test reads the events after this id."""
    return session.scalar(select(func.max(AuditEvent.id))) or 0


def test_the_audit_records_sign_ins_tokens_and_admin_actions_and_filters_them(client, runner, session):
    start = _newest_audit_id(session)
    login(client, "viewer@demo.test", WRONG)
    for _ in range(6):
        login(client, "ghost.auditing@demo.test", WRONG)
    issued = runner.invoke(args=["tokens", "create", "viewer@demo.test", "--name", "MIS"])
    assert issued.exit_code == 0
    token_id = session.scalars(select(AuditEvent).where(AuditEvent.action == "token.created",
                                                        AuditEvent.id > start)).one().object
    number = int(re.search(r"#(\d+)", token_id).group(1))
    assert runner.invoke(args=["tokens", "revoke", str(number)]).exit_code == 0
    assert runner.invoke(args=["users", "create", "sps@example.test", "--role", "viewer", "--password",
                               "tin roof rusted 1989"]).exit_code == 0
    login(client, "secretariat@demo.test")
    actions = [a for a in session.scalars(select(AuditEvent.action).where(AuditEvent.id > start)
                                          .order_by(AuditEvent.id))]
    assert actions == (["sign_in.failed"] * 6 + ["sign_in.throttled", "token.created", "token.revoked",
                                                 "user.created", "sign_in"])
    failed = client.get("/admin/audit?action=sign_in.failed&user=ghost.auditing").get_data(as_text=True)
    assert failed.count('class="card audit-event"') == 5 and "Sign-in throttled</strong>" not in failed
    viewer = client.get("/admin/audit?action=sign_in.failed&user=viewer@demo.test").get_data(as_text=True)
    assert viewer.count('class="card audit-event"') >= 1
    ghost = client.get("/admin/audit?user=ghost.auditing").get_data(as_text=True)
    assert ghost.count('class="card audit-event"') == 6  # 5 failures + 1 throttled; not the viewer's
    assert "127.0.0.1" in ghost
    for query, status in [("action=nope&user=%27%22<x>&page=99999999999999999999", 200),
                          ("page=-3&action=", 200), ("user=%00", 422)]:
        assert client.get(f"/admin/audit?{query}").status_code == status, query


def test_the_audit_pages_fifty_events_at_a_time(as_user, session):
    from mel.accounts import audit

    for n in range(60):
        audit.record(session, "user.created", object=f"u{n}@paging.example.test", remote_addr="")
    client = as_user("secretariat@demo.test")
    first = client.get("/admin/audit?action=user.created&object=paging.example").get_data(as_text=True)
    assert first.count('class="card audit-event"') == 50 and "u59@paging.example.test" in first
    assert 'rel="next"' in first and "page 1 of 2" in first
    second = client.get("/admin/audit?action=user.created&object=paging.example&page=2").get_data(as_text=True)
    assert second.count('class="card audit-event"') == 10 and "u0@paging.example.test" in second


def test_the_database_refuses_to_change_or_delete_an_audit_event(session):
    from sqlalchemy import update
    from sqlalchemy.exc import DatabaseError

    from mel.accounts import audit

    event = audit.record(session, "user.created", object="kept@example.test", details={"role": "viewer"})
    for statement in (update(AuditEvent).where(AuditEvent.id == event.id).values(object="changed@example.test"),
                      update(AuditEvent).where(AuditEvent.id == event.id).values(details={"role": "secretariat"}),
                      delete(AuditEvent).where(AuditEvent.id == event.id),
                      delete(AuditEvent)):
        savepoint = session.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(statement)
        savepoint.rollback()
    assert session.scalar(select(AuditEvent.object).where(AuditEvent.id == event.id)) == "kept@example.test"


def test_reopening_a_return_is_audited(session):
    from mel.accounts.operations import load_user
    from mel.catalogue.lookup import load_catalogue
    from mel.review import operations as review
    from tests.app.returns_helpers import IN_WINDOW
    from tests.helpers import submitted_return

    catalogue = load_catalogue(session)
    record = submitted_return(session)
    with time_machine.travel(IN_WINDOW, tick=False):
        review.approve(session, catalogue, load_user(session, "reviewer@demo.test"), record)
        review.reopen(session, catalogue, load_user(session, "secretariat@demo.test"), record, "Audit correction")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "return.reopened")).one()
    assert event.actor == "secretariat@demo.test" and event.details["reason"] == "Audit correction"
