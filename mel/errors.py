"""The service's exception hierarchy, mapped once to JSON on /api and to HTML pages elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ErrorDetail:
    """One located problem: where it is (file, sheet, row, column, indicator, period) and what."""

    message: str
    location: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, **({"location": self.location} if self.location else {})}


class MelError(Exception):
    """Base of every error the service reports to a user."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "error": self.code, "message": self.message}
        if self.details:
            body["details"] = [d.as_dict() for d in self.details]
        return body


class ValidationFailed(MelError):
    status = 422
    code = "validation_failed"


class Unauthorized(MelError):
    status = 401
    code = "unauthorized"


class Forbidden(MelError):
    status = 403
    code = "forbidden"


class NotFound(MelError):
    status = 404
    code = "not_found"


class Conflict(MelError):
    status = 409
    code = "conflict"
