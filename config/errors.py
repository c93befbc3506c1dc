"""Refused business actions. Services raise these; the API turns them into status codes."""

from typing import Any


class DomainError(Exception):
    """A business rule refused an action: a stable code, a message for people, and details."""

    code = "refused"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class Conflict(DomainError):
    """The action is not possible in the record's current state (HTTP 409)."""

    code = "conflict"
    http_status = 409
