"""Settings for the MEL service: safe defaults, overridden by MEL_* environment variables."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
MIN_SECRET_BITS = 100  # estimated: a random key of 32 hex digits (128 bits) passes, "a" × 32 does not


def estimated_bits(secret: str) -> float:
    """A conservative estimate of a key's entropy: its length × the Shannon entropy of its characters.

    Random keys from `secrets.token_urlsafe(48)` estimate at about 360 bits, `token_hex(16)` at
    about 115; a key made of one repeated character at 0, "ab" × 16 at 32.
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return abs(per_char) * len(secret)


class ConfigError(RuntimeError):
    """Raised when settings are unsafe or inconsistent (e.g. production with the default key)."""


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = DEFAULT_SECRET_KEY
    DEBUG = False
    TESTING = False
    INSTANCE_DIR = str(BASE_DIR / "instance")
    DATABASE_URL = f"sqlite:///{BASE_DIR / 'instance' / 'mel.sqlite3'}"
    DATABASE_ECHO = False
    LOG_LEVEL = "INFO"
    LOG_FORMAT = "text"  # "json": one JSON object per line, with the request id (production default)
    ALLOW_SQLITE = False  # production refuses SQLite unless MEL_ALLOW_SQLITE=1
    # Reverse proxies in front that set X-Forwarded-For/-Proto/-Host (production: the TLS-terminating nginx).
    TRUSTED_PROXIES = 0
    HEALTH_MIN_FREE_MB = 500  # /healthz fails when the reports folder's disk has less free space
    # MEL_TIMEZONE: the reporting calendar's zone. Windows, lateness, the quarter being reported on and
    # every time shown (pages, jobs, report stamps) follow its day; instants are stored in UTC (mel.clock).
    TIMEZONE = "Africa/Nairobi"
    BASE_URL = "http://127.0.0.1:5000"

    # Sessions: 12 h absolute, 30 min idle (OWASP ASVS 3.3.2).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_ABSOLUTE_HOURS = 12
    SESSION_IDLE_MINUTES = 30
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    PASSWORD_MIN_LENGTH = 12
    API_TOKEN_DAYS = 365

    # Validation: history check (robust z-score over 8 quarters, else a quarter-on-quarter band;
    # a warning also needs a material change by the indicator's thresholds, indicators/history.py),
    # and a county's share of the national figure moving by more than HISTORY_SHARE_POINTS points.
    HISTORY_BAND = 0.5
    HISTORY_Z = 3.5
    HISTORY_SHARE_POINTS = 3.0

    # Reminders: days before the due date (and on the due day).
    REMINDER_DAYS = [7, 2]
    # 0: jobs run at their daily times; N > 0: every N seconds (for trials and tests).
    SCHEDULER_INTERVAL_SECONDS = 0

    # Reporting calendar: the TWG reviews within this many days of quarter end; the scheduler then
    # drafts the sector quarterly report (the report itself is due at +45 days).
    REVIEW_DAYS = 30

    # Reports: where PDFs are kept (default instance/reports) and where they render:
    # "process" (a short-lived worker process per report), "thread" or "inline".
    REPORTS_DIR = ""
    REPORT_EXECUTOR = "process"
    # Worker processes that lay out the sector report's county annex (1: all in one document).
    REPORT_WORKERS = 1

    # Status bands of achievement (percent of target).
    STATUS_ON_TRACK = 90.0
    STATUS_NEEDS_ATTENTION = 70.0

    # E-mail (SMTP); an empty host keeps notifications in the web only.
    SMTP_HOST = ""
    SMTP_PORT = 25
    SMTP_USE_TLS = False
    SMTP_USE_SSL = False
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    MAIL_FROM = "Kenya SP MEL <no-reply@localhost>"

    # Uploads.
    MAX_UPLOAD_MB = 10
    WTF_CSRF_CHECK_DEFAULT = False  # checked in a before_request hook, skipped for bearer tokens
    WTF_CSRF_TIME_LIMIT = None

    # OpenAPI (flask-smorest).
    API_TITLE = "Kenya Social Protection MEL API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_REDOC_PATH = None
    OPENAPI_SWAGGER_UI_PATH = None

    @property
    def MAX_CONTENT_LENGTH(self) -> int:  # noqa: N802 - Flask reads this name
        return int(self.MAX_UPLOAD_MB) * 1024 * 1024

    def validate(self) -> None:
        """Refuse settings that are unsafe for this environment."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False  # the Werkzeug debugger is never turned on by default


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    DATABASE_URL = "sqlite://"
    WTF_CSRF_ENABLED = True
    SECRET_KEY = "testing-secret-key-not-for-production-use"
    REPORT_EXECUTOR = "inline"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    LOG_FORMAT = "json"
    TRUSTED_PROXIES = 1

    def validate(self) -> None:
        advice = "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        if self.SECRET_KEY == DEFAULT_SECRET_KEY or len(self.SECRET_KEY) < 32:
            raise ConfigError(
                f"MEL_SECRET_KEY must be set to a random value of at least 32 characters in production {advice}."
            )
        if estimated_bits(self.SECRET_KEY) < MIN_SECRET_BITS:
            raise ConfigError(
                f"MEL_SECRET_KEY looks guessable (about {estimated_bits(self.SECRET_KEY):.0f} bits; at least "
                f"{MIN_SECRET_BITS} are needed): use a random value {advice}."
            )
        if self.DEBUG:
            raise ConfigError("MEL_DEBUG must be off in production: the debugger runs arbitrary code.")
        if str(self.DATABASE_URL).startswith("sqlite") and not self.ALLOW_SQLITE:
            raise ConfigError(
                "Production runs on PostgreSQL (MEL_DATABASE_URL=postgresql+psycopg://…): SQLite lets one "
                "process write at a time and lives on one disk. To run a single small office on SQLite "
                "anyway, set MEL_ALLOW_SQLITE=1."
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _coerce(current: object, raw: str) -> object:
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, list | tuple):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(current, dict):
        return json.loads(raw)
    return raw


def load_config(name: str | None = None, overrides: dict | None = None) -> Config:
    """Build the settings object for an environment, applying MEL_* variables and overrides."""
    name = name or os.environ.get("MEL_ENV", "development")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"MEL_ENV={name!r} is not known; use one of {', '.join(sorted(CONFIGS))}."
        ) from None
    config = cls()
    for key, raw in os.environ.items():
        if not key.startswith("MEL_") or key == "MEL_ENV":
            continue
        attr = key[4:]
        if attr.startswith("TEST_"):
            continue
        current = getattr(config, attr, None)
        setattr(config, attr, _coerce(current, raw) if current is not None else raw)
    for key, value in (overrides or {}).items():
        setattr(config, key, value)
    if name == "testing" and os.environ.get("MEL_TEST_DATABASE_URL") and not (
        overrides and "DATABASE_URL" in overrides
    ):
        config.DATABASE_URL = os.environ["MEL_TEST_DATABASE_URL"]
    config.validate()
    return config


def as_mapping(config: Config) -> dict[str, object]:
    """Return every upper-case setting (class attributes and properties) as a dict for Flask."""
    return {key: getattr(config, key) for key in dir(config) if key.isupper()}
