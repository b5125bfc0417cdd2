"""One mapping of errors to responses: JSON under /api, HTML pages elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mel.converters import BadIdentifier
from mel.errors import ErrorDetail, MelError, Unauthorized

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
              500: "internal_error"}


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


def _too_large() -> str:
    """A request body over MAX_CONTENT_LENGTH, refused before any file in it is read."""
    from flask import current_app

    from mel.returns.upload_limits import SPLIT

    limit = current_app.config["MAX_UPLOAD_MB"]
    size = f" ({request.content_length / 1048576:.1f} MB)" if request.content_length else ""
    return (f"The upload{size} is over the {limit} MB limit (MEL_MAX_UPLOAD_MB), so no file in it was read "
            f"and nothing was stored; {SPLIT}.")


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
            message = (f"This service works only over a secure connection (HTTPS): on a plain http:// address "
                       f"the browser does not keep the sign-in cookie, so no form can be sent. Open "
                       f"{secure_address} instead.")
        else:
            message = ("The form expired or was sent from another site (CSRF check failed). "
                       "Reload the page and try again.")
        if wants_json():
            return jsonify({"status": 400, "error": "csrf_failed", "message": message}), 400
        error = MelError(message)
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
        error = MelError(exc.description or exc.name)
        allow = {k: v for k, v in exc.get_headers() if k == "Allow"}  # 405 names the methods allowed
        return render_template("errors/error.html", error=error, status=status), status, allow

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        _discard_failed_work()
        message = "Something went wrong on our side. The error was logged; nothing was saved."
        if wants_json():
            from mel.logs import request_id

            return jsonify({"status": 500, "error": "internal_error", "message": message,
                            "request_id": request_id()}), 500
        return render_template("errors/error.html", error=MelError(message), status=500), 500
