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
MIN_SECRET_BITS = 80  # estimated: every random key of 32 hex digits passes (lowest of 200,000: 86), "abcd" × 8 (64) does not


def estimated_bits(secret: str) -> float:
    """A conservative estimate of a key's entropy: its length × the Shannon entropy of its characters.

    Random keys from `secrets.token_urlsafe(48)` estimate at about 360 bits, `token_hex(16)` at
    about 116 (never under 86 in 200,000 draws); a key made of one repeated character at 0, "ab" × 16 at 32.
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
    # Who officers ask when a return's window has closed (shown on the grid); empty: the active
    # secretariat accounts' names and e-mail addresses.
    SECRETARIAT_CONTACT = ""

    # Sessions: 12 h absolute, 30 min idle (OWASP ASVS 3.3.2).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_ABSOLUTE_HOURS = 12
    SESSION_IDLE_MINUTES = 30
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)
    # Sign-in throttling (no lockout): failed attempts are counted in a window, per account (every
    # address) and per client address (every account). After FREE failures the next password check
    # waits BACKOFF·2^k seconds after the last failure (k = failures beyond FREE), at most BACKOFF_MAX.
    # The account's back-off is short, so an attacker cannot keep its owner out for long; the
    # address's is long, so one address cannot keep guessing.
    LOGIN_WINDOW_MINUTES = 15
    LOGIN_ACCOUNT_FREE_FAILURES = 5
    LOGIN_ACCOUNT_BACKOFF_SECONDS = 2
    LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS = 60
    LOGIN_IP_FREE_FAILURES = 20
    LOGIN_IP_BACKOFF_SECONDS = 4
    LOGIN_IP_BACKOFF_MAX_SECONDS = 900
    PASSWORD_MIN_LENGTH = 12
    # Two-factor sign-in (TOTP): "" optional for everyone, "secretariat" required for the secretariat,
    # "all" required for everyone. Required people who have none can only set it up after the password.
    REQUIRE_2FA = ""
    # One-time links e-mailed to people (mel/accounts/links.py): hours a link stays valid.
    PASSWORD_RESET_HOURS = 2
    INVITATION_HOURS = 72
    PASSWORD_RESET_MAX_PER_HOUR = 3  # reset e-mails to one address; more requests get the same page, no e-mail
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
    # Worker processes that lay out the sector report's county annex beside the main document. 1: the
    # county pages are laid out in the rendering process after the main document, 16 counties at a
    # time (bench/report.py: 9.4 s, 343 MB in all). 2: in two processes at once (5.7 s, but 684 MB
    # in all); the queue already renders QUEUE_WORKERS reports at once, one per core (bench/renders.py,
    # six sector reports through the queue: 30 s and 669 MB with 1, 38 s and 1,261 MB with 2).
    REPORT_WORKERS = 1

    # Background work (mel/jobs.py): report renders and large imports go through RQ queues on Redis,
    # run by `mel worker` (QUEUE_WORKERS processes: at most that many at once, the rest wait their
    # turn). Production needs REDIS_URL; development uses it when Redis answers, else renders in a
    # process per report and imports inside the request, as before. Empty: no queue (tests).
    REDIS_URL = "redis://127.0.0.1:6379/0"
    # "auto": the queue when Redis answers (production) or a worker listens (development); "redis":
    # always the queue (the work waits for a worker); "inline": never, everything runs in the
    # process that asked (the embedded default without Redis).
    QUEUE = "auto"
    QUEUE_WORKERS = 2
    QUEUE_PREFIX = "mel"  # RQ queue names are <prefix>-imports, <prefix>-tasks and <prefix>-reports
    # A job whose worker died (or that raised) is tried again this many times, waiting these many
    # seconds before each new try; then it waits in the failed list of the admin jobs page.
    QUEUE_RETRIES = 3
    QUEUE_RETRY_INTERVALS = [30, 120, 600]
    # How often (seconds) a worker looks for jobs whose worker died without a word (killed, machine
    # lost): RQ finds them once their heartbeat has lapsed (60–90 s) and tries them again.
    QUEUE_MAINTENANCE_SECONDS = 120
    REPORT_JOB_TIMEOUT = 900  # seconds a render may take before its worker stops it
    IMPORT_JOB_TIMEOUT = 1800
    TASK_JOB_TIMEOUT = 900  # a scheduled job or a batch of e-mail
    # An upload larger than this (bytes) or with more CSV lines than this is imported in the
    # background with a progress page (web) or 202 + Location (API).
    IMPORT_INLINE_BYTES = 1024 * 1024
    IMPORT_INLINE_ROWS = 20000

    # Rate limits (Flask-Limiter, per signed-in user or token owner; per IP address when anonymous),
    # kept in Redis (REDIS_URL). Development without Redis keeps them in memory; production never.
    # Generous: 16 officers each pushing 251 returns in a minute stay well under them.
    RATELIMIT_ENABLED = True
    RATELIMIT_API = "1200 per minute"  # every /api/v1 call, one budget per user
    RATELIMIT_IMPORTS = "300 per minute"  # file imports (web upload and API), per user
    RATELIMIT_REPORTS = "20 per minute"  # report generations and re-runs (web and API), per user
    RATELIMIT_ACCOUNT = "10 per 15 minutes"  # "forgot password" requests (per address), own password changes (per user)
    RATELIMIT_STRATEGY = "sliding-window-counter"
    RATELIMIT_KEY_PREFIX = "mel-limits"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True  # Redis down: requests pass (logged) rather than fail

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

    # Uploads (mel/returns/upload_limits.py): checked before parsing, and again while the reader streams.
    MAX_UPLOAD_MB = 10
    DHIS2_MAX_UPLOAD_MB = 128  # DHIS2 data pushes (mel/dhis2/datavalues.py): a million values as CSV is ~60 MB
    UPLOAD_MAX_UNPACKED_MB = 100  # an .xlsx's parts together, uncompressed
    UPLOAD_MAX_SHEET_MB = 50  # one sheet's XML (or the shared text table), uncompressed
    UPLOAD_MAX_CELLS = 2_000_000  # cells of a workbook (all sheets) or fields of a CSV
    UPLOAD_MAX_ROWS = 250_000  # data rows of the sheet read, or lines of a CSV
    # Evidence register (mel/learning/files.py): the largest PDF kept; its upload may exceed MAX_UPLOAD_MB.
    EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
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
        self.validate_common()

    def validate_common(self) -> None:
        """Settings every environment refuses."""
        if str(self.REQUIRE_2FA).strip().lower() not in ("", "secretariat", "all"):
            raise ConfigError(f"MEL_REQUIRE_2FA must be empty, 'secretariat' or 'all', not {self.REQUIRE_2FA!r}.")
        if str(self.QUEUE).strip().lower() not in ("auto", "redis", "inline"):
            raise ConfigError(f"MEL_QUEUE must be 'auto', 'redis' or 'inline', not {self.QUEUE!r}.")
        if self.QUEUE == "redis" and not str(self.REDIS_URL).strip():
            raise ConfigError("MEL_QUEUE=redis needs MEL_REDIS_URL (redis://host:6379/0).")
        try:
            intervals = [int(seconds) for seconds in self.QUEUE_RETRY_INTERVALS]
        except (TypeError, ValueError):
            intervals = [-1]
        if int(self.QUEUE_RETRIES) < 0 or any(seconds < 0 for seconds in intervals):
            raise ConfigError("MEL_QUEUE_RETRIES must be 0 or more and MEL_QUEUE_RETRY_INTERVALS whole seconds, "
                              f"comma-separated (e.g. 30,120,600), not {self.QUEUE_RETRY_INTERVALS!r}.")


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
    REDIS_URL = ""  # no queue: tests that use Redis set it (tests/app/test_queue_limits.py)
    RATELIMIT_ENABLED = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    LOG_FORMAT = "json"
    TRUSTED_PROXIES = 1
    REDIS_URL = ""  # must be set: MEL_REDIS_URL

    def validate(self) -> None:
        self.validate_common()
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
        if not str(self.REDIS_URL).strip():
            raise ConfigError(
                "Production needs Redis (MEL_REDIS_URL=redis://host:6379/0): report renders and large "
                "imports queue there for `mel worker`, and rate limits are counted there, never in one "
                "process's memory."
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
