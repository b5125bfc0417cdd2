"""DHIS2 WebMessages: the one answer shape of the DHIS2 dialect, for successes with a summary and for errors.

`web_message` builds one; `Dhis2Error` is raised anywhere under the DHIS2 blueprint and `install(bp)`
turns it, and any MelError, werkzeug HTTPException or marshmallow error raised there, into a
WebMessage (never the /api/v1 error JSON).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Blueprint, Response, jsonify
from marshmallow import ValidationError as MarshmallowError
from werkzeug.exceptions import HTTPException

from mel.errors import MelError

log = logging.getLogger(__name__)

# Spring's reason phrases where Python's differ.
_PHRASES = {413: "Payload Too Large"}
# What our errors are in DHIS2's words: (HTTP status, DHIS2 error code). DHIS2 answers invalid input
# with 409 Conflict; 422 is not a status it uses.
_MEL_STATUS = {400: (400, "E1003"), 401: (401, None), 403: (403, "E1006"), 404: (404, "E1005"),
               409: (409, None), 413: (413, None), 422: (409, None), 429: (429, None)}


def http_status_phrase(code: int) -> str:
    """The `httpStatus` text DHIS2 (Spring) gives a status code: "Conflict", "Not Found", ..."""
    if code in _PHRASES:
        return _PHRASES[code]
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def web_message_body(http_status_code: int, message: str | None, *, status: str | None = None,
                     error_code: str | None = None, response: dict | None = None,
                     dev_message: str | None = None) -> dict:
    """The WebMessage as a dict, keys in DHIS2's order, absent when None."""
    body: dict = {"httpStatus": http_status_phrase(http_status_code), "httpStatusCode": http_status_code,
                  "status": status or ("OK" if 200 <= http_status_code < 300 else "ERROR")}
    if message is not None:
        body["message"] = message
    if dev_message is not None:
        body["devMessage"] = dev_message
    if error_code is not None:
        body["errorCode"] = error_code
    if response is not None:
        body["response"] = response
    return body


def web_message(http_status_code: int, message: str, *, status: str | None = None,
                error_code: str | None = None, response: dict | None = None,
                dev_message: str | None = None) -> Response:
    """A DHIS2 WebMessage answer with its HTTP status (status OK for 2xx, else ERROR, unless given)."""
    answer = jsonify(web_message_body(http_status_code, message, status=status, error_code=error_code,
                                      response=response, dev_message=dev_message))
    answer.status_code = http_status_code
    return answer


class Dhis2Error(Exception):
    """An error answered as a DHIS2 WebMessage: raise it anywhere in a DHIS2 view."""

    def __init__(self, http_status_code: int, message: str, error_code: str | None = None, *,
                 response: dict | None = None, dev_message: str | None = None,
                 status: str | None = None) -> None:
        super().__init__(message)
        self.http_status_code = http_status_code
        self.message = message
        self.error_code = error_code
        self.response = response
        self.dev_message = dev_message
        self.status = status

    def to_response(self) -> Response:
        return web_message(self.http_status_code, self.message, status=self.status, error_code=self.error_code,
                           response=self.response, dev_message=self.dev_message)


def from_mel_error(exc: MelError) -> Response:
    """A MelError (scope refusals, not found, validation...) in DHIS2's words."""
    code, error_code = _MEL_STATUS.get(exc.status, (exc.status, None))
    if code == 401:
        return unauthorized(exc.message)
    details = "; ".join(d.message for d in exc.details[:5]) or None
    return web_message(code, exc.message, error_code=error_code, dev_message=details)


def unauthorized(dev_message: str | None = None) -> Response:
    """DHIS2's 401: {"httpStatus": "Unauthorized", ..., "message": "Unauthorized"}."""
    return web_message(401, "Unauthorized", dev_message=dev_message)


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages:  # webargs: the request's parameters failed their schema
        return web_message(409 if code == 422 else code, _flat(messages))
    if code == 401:
        return unauthorized(exc.description)
    if code == 404:
        return web_message(404, exc.description or "Not Found", error_code="E1005")
    answer = web_message(code, exc.description or exc.name)
    for name, value in exc.get_headers():
        if name in ("Allow", "Retry-After"):
            answer.headers[name] = value
    return answer


def _flat(messages) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_flat(v)}" if k not in ("query", "json", "form", "view_args") else _flat(v)
                         for k, v in messages.items())
    if isinstance(messages, list | tuple):
        return "; ".join(_flat(m) for m in messages)
    return str(messages)


def _unexpected(exc: Exception) -> Response:
    from mel.db import db
    from mel.logs import request_id

    log.exception("unhandled error in the DHIS2 API")
    try:
        db.session.rollback()
    except Exception:  # the answer must still go out
        log.exception("rollback after an unhandled error failed")
    return web_message(500, "Something went wrong on our side. The error was logged; nothing was saved.",
                       dev_message=f"request id {request_id()}")


def install(bp: Blueprint) -> None:
    """Answer every error raised under the DHIS2 blueprint with a WebMessage."""
    bp.register_error_handler(Dhis2Error, lambda exc: exc.to_response())
    bp.register_error_handler(MelError, from_mel_error)
    bp.register_error_handler(MarshmallowError, lambda exc: web_message(409, _flat(exc.messages)))
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected)


def is_dhis2_path(path: str) -> bool:
    """Whether a path belongs to the DHIS2 dialect: /api/… except our own /api/v1/…."""
    return path.startswith("/api/") and not (path == "/api/v1" or path.startswith("/api/v1/"))


def answer_outside_routes(exc: Exception) -> Response:
    """A WebMessage for an error on a DHIS2 path that matched no route (404, 405) or failed before one
    did; mel/errors_views.py asks for it, as the blueprint's own handlers never see these."""
    if isinstance(exc, MelError):
        return from_mel_error(exc)
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    return _unexpected(exc)
