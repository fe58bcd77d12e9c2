"""Domain errors shared by every package.

Each error carries a stable ``code`` (snake_case, also the WebSocket error
code) and a human ``message``; ``field`` names the offending input when there
is one, ``details`` carries structured extras.

    PlenaryError
    ├── InvalidInput          invalid_format
    │   └── TemplateLimits    template_limits
    ├── Unauthorized          unauthorized
    ├── Forbidden             forbidden
    ├── NotFound              not_found
    ├── Conflict              conflict
    │   └── StaleSchema       stale_schema
    ├── RateLimited           rate_limited
    └── DatabaseUnavailable   database_unavailable
"""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

INVALID_FORMAT = "invalid_format"
UNKNOWN_COMMAND = "unknown_command"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
CONFLICT = "conflict"
RATE_LIMITED = "rate_limited"
TOO_LARGE = "too_large"
STALE_SCHEMA = "stale_schema"
UNKNOWN_ERROR = "unknown_error"
DATABASE_UNAVAILABLE = "database_unavailable"


class ErrorBody(TypedDict):
    """An error as HTTP and WebSocket answers carry it (docs/api.md)."""

    code: str
    message: str
    field: NotRequired[str]
    details: NotRequired[Any]


class PlenaryError(Exception):
    """Base of every domain error."""

    code = UNKNOWN_ERROR

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: Any = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code is not None:
            self.code = code

    def as_dict(self) -> ErrorBody:
        """The error body shared by HTTP and WebSocket answers."""
        body: ErrorBody = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidInput(PlenaryError):
    code = INVALID_FORMAT


class TemplateLimits(InvalidInput):
    """An organizer's template took more time or memory than a document may (422, as
    InvalidInput: the code is the family's own, like a domain's AlreadyX(Conflict))."""

    code = "template_limits"


class Unauthorized(PlenaryError):
    code = UNAUTHORIZED


class Forbidden(PlenaryError):
    code = FORBIDDEN


class NotFound(PlenaryError):
    code = NOT_FOUND


class Conflict(PlenaryError):
    code = CONFLICT


class StaleSchema(Conflict):
    code = STALE_SCHEMA


class RateLimited(PlenaryError):
    code = RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseUnavailable(PlenaryError):
    """The database cannot be reached now (restarted, failing over, refusing connections).

    Nothing of the request was committed; sending it again later is safe (check-ins carry
    their nonce)."""

    code = DATABASE_UNAVAILABLE

    def __init__(self, message: str, *, retry_after: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
