"""CSRF protection and security headers for every response."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def needs_https() -> str:
    """The https:// address of this page when the session cookie is `Secure` but the request came
    over plain HTTP (the browser would drop the cookie, so no form could be sent); else ""."""
    if current_app.config.get("SESSION_COOKIE_SECURE") and not request.is_secure:
        return "https://" + request.host + request.full_path.rstrip("?")
    return ""


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.add_template_global(needs_https, "needs_https")

    @app.before_request
    def _check_csrf() -> None:
        # Browsers send cookies by themselves; a bearer token is never sent implicitly.
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        # Requests carrying an Authorization header are authenticated by it alone (see auth.py),
        # and a browser cannot attach one cross-site, so they need no CSRF token.
        if request.headers.get("Authorization"):
            return
        csrf.protect()

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
