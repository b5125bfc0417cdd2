"""Settings: defaults, MEL_* overrides, and production refusing unsafe values."""

from __future__ import annotations

import secrets

import pytest

from config import DEFAULT_SECRET_KEY, ConfigError, load_config


@pytest.fixture(autouse=True)
def _redis_set(monkeypatch):
    """Production needs MEL_REDIS_URL (refused without it: tests/app/test_queue_limits.py)."""
    monkeypatch.setenv("MEL_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_environment_variables_override_defaults(monkeypatch):
    monkeypatch.setenv("MEL_DATABASE_URL", "sqlite:////tmp/other.sqlite3")
    monkeypatch.setenv("MEL_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("MEL_SESSION_COOKIE_SECURE", "true")
    config = load_config("development")
    assert config.DATABASE_URL == "sqlite:////tmp/other.sqlite3"
    assert config.MAX_UPLOAD_MB == 3
    assert config.MAX_CONTENT_LENGTH == 3 * 1024 * 1024
    assert config.SESSION_COOKIE_SECURE is True


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("MEL_DATABASE_URL", raising=False)
    config = load_config("development")
    assert config.DATABASE_URL.startswith("sqlite:///")
    assert config.DATABASE_URL.endswith("instance/mel.sqlite3")


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.delenv("MEL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="MEL_SECRET_KEY"):
        load_config("production")
    monkeypatch.setenv("MEL_SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigError):
        load_config("production")


PG = "postgresql+psycopg://mel@127.0.0.1:5432/mel"


def test_production_refuses_a_short_key_and_debug(monkeypatch):
    monkeypatch.setenv("MEL_DATABASE_URL", PG)
    monkeypatch.setenv("MEL_SECRET_KEY", "short")
    with pytest.raises(ConfigError):
        load_config("production")
    monkeypatch.setenv("MEL_SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("MEL_DEBUG", "1")
    with pytest.raises(ConfigError, match="MEL_DEBUG"):
        load_config("production")


@pytest.mark.parametrize(("key", "accepted"), [
    ("a" * 32, False), ("x" * 40, False), ("ab" * 16, False), ("abcd" * 8, False),
    (secrets.token_hex(16), True), (secrets.token_urlsafe(32), True), (secrets.token_urlsafe(48), True),
], ids=["a*32", "x*40", "ab*16", "abcd*8", "token_hex16", "token_urlsafe32", "token_urlsafe48"])
def test_production_refuses_a_guessable_key(monkeypatch, key, accepted):
    monkeypatch.setenv("MEL_DATABASE_URL", PG)
    monkeypatch.setenv("MEL_SECRET_KEY", key)
    monkeypatch.delenv("MEL_DEBUG", raising=False)
    if accepted:
        assert load_config("production").SECRET_KEY == key
    else:
        with pytest.raises(ConfigError, match="looks guessable"):
            load_config("production")


def test_production_refuses_sqlite_unless_allowed(monkeypatch):
    monkeypatch.setenv("MEL_SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.delenv("MEL_DEBUG", raising=False)
    monkeypatch.setenv("MEL_DATABASE_URL", "sqlite:////srv/mel/mel.sqlite3")
    with pytest.raises(ConfigError, match="MEL_ALLOW_SQLITE=1"):
        load_config("production")
    monkeypatch.setenv("MEL_ALLOW_SQLITE", "1")
    assert load_config("production").DATABASE_URL.startswith("sqlite")


def test_production_starts_with_a_real_key(monkeypatch):
    monkeypatch.setenv("MEL_DATABASE_URL", PG)
    monkeypatch.setenv("MEL_SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.delenv("MEL_DEBUG", raising=False)
    config = load_config("production")
    assert config.SESSION_COOKIE_SECURE is True and config.LOG_FORMAT == "json"


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="MEL_ENV"):
        load_config("staging")
