"""Fixtures: one migrated, seeded database per run; each test inside a rolled-back transaction.

The suite runs on SQLite by default and on PostgreSQL when MEL_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import settings
from sqlalchemy.orm import Session

from mel.app import create_app
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from mel.demo import load_demo
from mel.migrate import upgrade
from tests.helpers import PG_URL, choose_language, login, reset_postgres_database

# Examples are judged on what they find, not on how fast a loaded machine runs them: no deadline.
settings.register_profile("mel", deadline=None)
settings.load_profile("mel")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if PG_URL:
        reset_postgres_database(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'mel.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(
        "testing",
        DATABASE_URL=database_url,
        INSTANCE_DIR=str(tmp_path_factory.mktemp("instance")),
        LOG_LEVEL="WARNING",
        FIGURES_CHECK=True,  # every figure read from the settled spans is compiled from the data values too
    )
    with app.app_context():
        upgrade(db.engine)
        session = db.session
        seed_catalogue(session)
        load_demo(session, as_of=date(2025, 10, 5), live=False)  # the fixed history: 2023Q3–2025Q2
        session.commit()
        session.close()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def session(app) -> Iterator[Session]:
    """A session whose work is rolled back after the test, shared with every request.

    No application context stays pushed during the test: each request gets its own, as in
    production (a pushed context would be reused and hide per-request behaviour).
    """
    state = app.extensions["mel.db"]
    connection = state.engine.connect()
    outer = connection.begin()
    shared = Session(bind=connection, join_transaction_mode="create_savepoint",
                     expire_on_commit=False)
    shared._mel_shared = True
    original = state.session_factory
    db.use_session_factory(app, lambda: shared)
    try:
        yield shared
    finally:
        db.use_session_factory(app, original)
        shared.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def runner(app, session):
    return app.test_cli_runner()


@pytest.fixture
def swahili(client):
    """The secretariat, signed in, whose account reads Kiswahili (the i18n error tests' client)."""
    assert login(client, "secretariat@demo.test").status_code == 302
    choose_language(client, "sw")
    return client


@pytest.fixture
def as_user(client):
    """Sign the test client in as a demo user: as_user('reviewer@demo.test')."""

    def _login(email: str):
        response = login(client, email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return _login


@pytest.fixture
def smtp_server():
    """(inbox, port) of a real SMTP server (aiosmtpd) on 127.0.0.1 for the test."""
    from aiosmtpd.controller import Controller

    from tests.app.smtp_helpers import Inbox, free_port

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()
