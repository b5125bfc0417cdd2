"""One mapping of errors to responses: JSON under /api, HTML pages elsewhere."""

from __future__ import annotations

import logging
import re

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mel.converters import BadIdentifier
from mel.errors import ErrorDetail, MelError, Unauthorized
from mel.i18n import N_

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
              500: "internal_error"}
# Werkzeug's own descriptions of the errors a page can show, marked for the catalogue: an HTML page shows
# them in its language (a description an abort() wrote itself is shown as it is). JSON stays English.
PAGE_MESSAGES = {
    400: N_("The browser (or proxy) sent a request that this server could not understand."),
    403: N_("You don't have the permission to access the requested resource. It is either read-protected or not "
            "readable by the server."),
    404: N_("The requested URL was not found on the server. If you entered the URL manually please check your "
            "spelling and try again."),
    405: N_("The method is not allowed for the requested URL."),
    429: N_("This user has exceeded an allotted request count. Try again later."),
    500: N_("The server encountered an internal error and was unable to complete your request. Either the server "
            "is overloaded or there is an error in the application."),
}
# mel/limits.py's refusals (429), said again in the page's language: "Too many file imports: your account may
# make 20 per hour (MEL_RATELIMIT_IMPORTS). Wait for …".
LIMIT_MESSAGE = re.compile(r"Too many (?P<what>.+?): (?P<subject>your account|your address) may make (?P<limit>.+?) "
                           r"\((?P<setting>MEL_RATELIMIT_\w+)\)\. Wait for the time in the Retry-After header and "
                           r"send it again\.")
LIMIT_WORDS = (N_("file imports"), N_("report requests"), N_("API calls"), N_("password requests"),
               N_("your account"), N_("your address"))
UNEXPECTED = N_("Something went wrong on our side. The error was logged; nothing was saved.")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _dhis2_path() -> bool:
    from mel.dhis2.messages import is_dhis2_path

    return is_dhis2_path(request.path)


def _flatten(messages, prefix: str = "") -> list[ErrorDetail]:
    """Turn webargs/marshmallow nested messages into located details."""
    details: list[ErrorDetail] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "form", "files", "headers", "view_args") and not prefix:
                details.extend(_flatten(value, ""))
            else:
                details.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list | tuple):
        for message in messages:
            details.extend(_flatten(message, prefix))
    else:
        details.append(ErrorDetail(f"{prefix}: {messages}" if prefix else str(messages),
                                   {"field": prefix} if prefix else {}))
    return details


def _discard_failed_work() -> None:
    """Roll back before answering: a failed statement leaves PostgreSQL's transaction unusable, and the
    error page itself reads the database (the signed-in person's notices)."""
    from mel.db import db

    try:
        db.session.rollback()
    except Exception:  # the answer must still go out
        log.exception("rollback after an unhandled error failed")


def _too_large(translated: bool = False) -> str:
    """A request body over MAX_CONTENT_LENGTH, refused before any file in it is read (in English for
    the API; `translated`: in the page's language)."""
    from flask import current_app

    from mel.returns.upload_limits import SPLIT

    limit = current_app.config["MAX_UPLOAD_MB"]
    size = f" ({request.content_length / 1048576:.1f} MB)" if request.content_length else ""
    if translated:
        return _("The upload%(size)s is over the %(limit)s MB limit (MEL_MAX_UPLOAD_MB), so no file in it was read "
                 "and nothing was stored; %(split)s.", size=size, limit=limit, split=_(SPLIT))
    return (f"The upload{size} is over the {limit} MB limit (MEL_MAX_UPLOAD_MB), so no file in it was read "
            f"and nothing was stored; {SPLIT}.")


def _page_message(status: int, description: str) -> str:
    """What an HTML error page says: werkzeug's and the rate limiter's messages in the page's language."""
    if status == 413:
        return _too_large(translated=True)
    if description and description == PAGE_MESSAGES.get(status):
        return _(description)
    limited = LIMIT_MESSAGE.fullmatch(description or "") if status == 429 else None
    if limited:
        return _("Too many %(what)s: %(subject)s may make %(limit)s (%(setting)s). Wait for the time in the "
                 "Retry-After header and send it again.", what=_(limited["what"]), subject=_(limited["subject"]),
                 limit=limited["limit"], setting=limited["setting"])
    return description


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(MelError)
    def _mel_error(exc: MelError):
        if _dhis2_path():  # the DHIS2 dialect answers WebMessages, even where no route matched
            from mel.dhis2.messages import answer_outside_routes

            return answer_outside_routes(exc)
        if wants_json():
            return jsonify(exc.as_dict()), exc.status
        if isinstance(exc, Unauthorized):
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return render_template("errors/error.html", error=exc, status=exc.status), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        from mel.security import needs_https

        secure_address = needs_https()
        if secure_address:
            message = N_("This service works only over a secure connection (HTTPS): on a plain http:// address "
                         "the browser does not keep the sign-in cookie, so no form can be sent. Open "
                         "%(address)s instead.")
        else:
            message = N_("The form expired or was sent from another site (CSRF check failed). "
                         "Reload the page and try again.")
        if wants_json():  # the API answers in English
            return jsonify({"status": 400, "error": "csrf_failed", "message": message % {"address": secure_address}
                            if secure_address else message}), 400
        error = MelError(_(message, address=secure_address) if secure_address else _(message))
        return render_template("errors/error.html", error=error, status=400), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if isinstance(exc, BadIdentifier):  # a malformed period in the path, refused while routing
            return _mel_error(exc.error)
        if _dhis2_path():  # the DHIS2 dialect answers WebMessages, even where no route matched
            from mel.dhis2.messages import answer_outside_routes

            return answer_outside_routes(exc)
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        if status == 413:
            exc.description = _too_large()
        if wants_json():
            body = {"status": status, "error": HTTP_CODES.get(status, "error"),
                    "message": data.get("message") or exc.description}
            messages = data.get("errors") or data.get("messages")
            if messages:
                details = _flatten(messages)
                body["message"] = details[0].message if len(details) == 1 else (
                    f"{len(details)} fields are invalid: " + "; ".join(d.message for d in details[:5]))
                body["details"] = [d.as_dict() for d in details]
            return jsonify(body), status, {**dict(exc.get_headers()), **(data.get("headers") or {}),
                                           "Content-Type": "application/json"}
        error = MelError(_page_message(status, exc.description) or exc.name)
        allow = {k: v for k, v in exc.get_headers() if k == "Allow"}  # 405 names the methods allowed
        return render_template("errors/error.html", error=error, status=status), status, allow

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        _discard_failed_work()
        if wants_json():
            from mel.logs import request_id

            return jsonify({"status": 500, "error": "internal_error", "message": UNEXPECTED,
                            "request_id": request_id()}), 500
        return render_template("errors/error.html", error=MelError(_(UNEXPECTED)), status=500), 500
