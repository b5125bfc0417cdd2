"""CSRF protection and security headers for every response."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def csp_with_inline_styles(html: str) -> str:
    """The CSP for a page whose styles are inline (the HTML preview of a report, styled as its PDF):
    the same policy, with each <style> block and style attribute allowed by its SHA-256 and nothing
    else (no 'unsafe-inline')."""
    import base64
    import hashlib
    import re
    from html import unescape

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"

    blocks = {digest(m) for m in re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S)}
    attributes = {digest(unescape(m)) for m in re.findall(r'\sstyle="([^"]*)"', html)}
    allowed = " ".join(sorted(blocks) + (["'unsafe-hashes'"] + sorted(attributes) if attributes else []))
    return CSP.replace("style-src 'self';", f"style-src 'self' {allowed};") if allowed else CSP


def _signed_in() -> bool:
    from flask_login import current_user

    try:
        return bool(current_user.is_authenticated)
    except Exception:  # noqa: BLE001 - the answer must go out even if the user could not be loaded
        return False


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
        # An API write with no credentials (no token, no signed-in session) is unauthenticated, not
        # a forged form: say 401, as for a read.
        if request.path.startswith("/api/") and not _signed_in():
            # A cookie may be there (a CSRF token kept for an earlier form) without a signed-in
            # session behind it: the write is still unauthenticated.
            from mel.errors import Unauthorized

            raise Unauthorized("Send an API token: Authorization: Bearer <token> (mel tokens create).")
        csrf.protect()

    @app.before_request
    def _refuse_nul() -> None:
        # No text people or programs send has a NUL character; PostgreSQL refuses one in any string,
        # so it is refused here, named, before anything reads it.
        from indicators.messages import N_, message, text
        from mel.errors import ValidationFailed

        if "\x00" in request.path or "%00" in request.query_string.decode("latin-1"):
            raise ValidationFailed(text(message(N_("The address contains a NUL character (%%00); remove it."))))
        if any("\x00" in value for values in request.form.listvalues() for value in values):
            raise ValidationFailed(text(message(N_("A form field contains a NUL character; remove it."))))
        if request.is_json and b"\\u0000" in request.get_data().lower():
            raise ValidationFailed("The JSON body contains a NUL character (\\u0000); remove it.")  # API only

    @app.after_request
    def _headers(response):
        # What a signed-in person or a token reads is theirs: no shared or browser cache keeps it.
        if request.endpoint != "static" and (request.headers.get("Authorization") or _signed_in()):
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
