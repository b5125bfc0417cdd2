"""Rate limits (Flask-Limiter): per signed-in user or token owner, per IP address when anonymous.

Three budgets, each configurable (config.py, MEL_RATELIMIT_*):

- every /api/v1 call shares RATELIMIT_API (an application-wide limit exempt outside /api/);
- file imports (web upload, API import) share RATELIMIT_IMPORTS;
- report generations and re-runs (web and API) share RATELIMIT_REPORTS.

Counts live in Redis (REDIS_URL); development without Redis keeps them in memory, production
never starts without Redis (config.py). A refused request gets 429, a message naming the limit,
and Retry-After. Tests turn limits off (RATELIMIT_ENABLED) except where they test them.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import ApplicationLimit, Limiter

# Endpoint → (budget, methods counted). The one place that says what each budget covers.
LIMITED = {
    "returns.upload": ("imports", ["POST"]),
    "returns_api.ReturnImport": ("imports", ["POST"]),
    "reporting.generate": ("reports", ["POST"]),
    "reporting.rerun": ("reports", ["POST"]),
    "reports_api.Reports": ("reports", ["POST"]),
    "accounts.forgot_password": ("account", ["POST"]),
    "accounts.change_password": ("account", ["POST"]),
}
WORDS = {"imports": "file imports", "reports": "report requests", "api": "API calls",
         "account": "password requests"}


def who() -> str:
    """The key a request counts against: the user (session or token), else the client's address."""
    from flask_login import current_user

    try:
        if current_user.is_authenticated:
            return f"user:{current_user.id}"
    except Exception:  # an unreadable session or token counts against the address
        pass
    return f"ip:{request.remote_addr or 'unknown'}"


def _setting(kind: str):
    name = f"RATELIMIT_{kind.upper()}"
    return lambda: str(current_app.config[name])


def _message(kind: str):
    def message() -> str:
        subject = "your account" if who().startswith("user:") else "your address"
        return (f"Too many {WORDS[kind]}: {subject} may make {current_app.config[f'RATELIMIT_{kind.upper()}']} "
                f"(MEL_RATELIMIT_{kind.upper()}). Wait for the time in the Retry-After header and send it again.")
    return message


def _outside_api() -> bool:
    return not request.path.startswith("/api/")


def init_app(app: Flask) -> Limiter:
    """One limiter per application (its storage and switch are its own), applied to LIMITED."""
    config = app.config
    redis_url = str(config.get("REDIS_URL") or "").strip()
    if redis_url:
        config.setdefault("RATELIMIT_STORAGE_URI", redis_url)
    elif config.get("ENV_NAME") != "production":
        config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    api = ApplicationLimit(_setting("api"), exempt_when=_outside_api, error_message=_message("api"), scope="api")
    limiter = Limiter(key_func=who, application_limits=[api],
                      key_prefix=str(config.get("RATELIMIT_KEY_PREFIX", "mel")))
    limiter.init_app(app)
    for endpoint, (kind, methods) in LIMITED.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        app.view_functions[endpoint] = limiter.shared_limit(_setting(kind), scope=kind, methods=methods,
                                                            error_message=_message(kind))(view)
    app.extensions["mel.limiter"] = limiter
    return limiter
