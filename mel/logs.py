"""Logs people can follow: a request id on every record and response, JSON lines in production.

Every request gets an id: the `X-Request-ID` a proxy sent (letters, digits, `.`, `_`, `-`, up to
64), or a new one. It is returned in the `X-Request-ID` response header, printed on error pages
("reference"), and added to every log record made while the request runs, so one line in a
person's report finds every line the server wrote about it. `MEL_LOG_FORMAT=json` (production's
default) writes one JSON object per line (python-json-logger) for a log collector.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

_INCOMING = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


def request_id() -> str:
    """The id of the request being served, or "-" outside a request."""
    if has_request_context():
        return g.get("request_id", "-")
    return "-"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record a handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


def handler_for(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                                       "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    return handler


def configure(app: Flask) -> None:
    """Log to stderr in the configured format (unless something, e.g. pytest, already set up the
    root logger), and give every request its id."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(handler_for(str(app.config.get("LOG_FORMAT", "text"))))
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logging.getLogger("alembic").setLevel(logging.WARNING)

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _INCOMING.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _return_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        return response
