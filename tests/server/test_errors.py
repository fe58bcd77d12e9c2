"""Each domain error maps to one HTTP status and keeps its code (DESIGN.md section 5)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from conference import errors
from conference.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InvalidInput,
    NotFound,
    PlenaryError,
    RateLimited,
    StaleSchema,
    TemplateLimits,
    Unauthorized,
)
from server import http
from server.http import error_response, status_for

TABLE: list[tuple[PlenaryError, int, str]] = [
    (InvalidInput("bad", field="title"), 422, "invalid_format"),
    (TemplateLimits("too slow", field="source"), 422, "template_limits"),
    (Unauthorized("who?"), 401, "unauthorized"),
    (Forbidden("no"), 403, "forbidden"),
    (NotFound("gone", field="site"), 404, "not_found"),
    (Conflict("taken", field="code"), 409, "conflict"),
    (StaleSchema("migrate"), 503, "stale_schema"),
    (RateLimited("slow down"), 429, "rate_limited"),
    (DatabaseUnavailable("later"), 503, "database_unavailable"),
    (PlenaryError("boom"), 500, "unknown_error"),
    (PlenaryError("big", code=errors.TOO_LARGE), 413, "too_large"),
    (PlenaryError("json", code=http.INVALID_JSON), 400, "invalid_json"),
    (PlenaryError("type", code=http.UNSUPPORTED_MEDIA_TYPE), 415, "unsupported_media_type"),
    (PlenaryError("csrf", code=http.CSRF_FAILED), 403, "csrf_failed"),
    (PlenaryError("verb", code=http.METHOD_NOT_ALLOWED), 405, "method_not_allowed"),
]


@pytest.mark.parametrize(
    ("error", "status", "code"), TABLE, ids=[f"{type(e).__name__}-{c}" for e, _, c in TABLE]
)
async def test_error_maps_to_status_and_code(error: PlenaryError, status: int, code: str) -> None:
    assert error.code == code
    assert status_for(error) == status
    response = error_response(error)
    assert response.status == status
    assert response.text is not None
    assert f'"code": "{code}"' in response.text
    assert error.as_dict()["code"] == code
    if error.field is not None:
        assert error.as_dict()["field"] == error.field


def test_every_code_constant_has_a_status() -> None:
    codes = {
        value
        for name, value in vars(errors).items()
        if name.isupper() and isinstance(value, str) and name != "UNKNOWN_COMMAND"
    }
    # unknown_command only exists on the WebSocket; every other code has an HTTP status.
    assert codes - set(http.STATUS_BY_CODE) == set()


def test_a_domain_error_with_its_own_code_keeps_its_family_status() -> None:
    class AlreadyCheckedIn(Conflict):
        code = "already_checked_in"

    class CredentialRevoked(Forbidden):
        code = "credential_revoked"

    class NoSuchDelegate(NotFound):
        code = "no_such_delegate"

    assert status_for(AlreadyCheckedIn("twice")) == 409
    assert status_for(CredentialRevoked("revoked")) == 403
    assert status_for(NoSuchDelegate("who")) == 404
    assert AlreadyCheckedIn("twice").as_dict()["code"] == "already_checked_in"


def test_error_body_carries_field_and_details() -> None:
    error = InvalidInput("title: empty", field="title", details=[{"field": "title"}])
    assert error.as_dict() == {
        "code": "invalid_format",
        "message": "title: empty",
        "field": "title",
        "details": [{"field": "title"}],
    }
    assert PlenaryError("x").as_dict() == {"code": "unknown_error", "message": "x"}


def test_a_database_outage_says_when_to_try_again() -> None:
    response = error_response(DatabaseUnavailable("later", retry_after=5))
    assert (response.status, response.headers["Retry-After"]) == (503, "6")


def test_retry_after_header() -> None:
    error = RateLimited("wait")
    error.retry_after = 12.3  # type: ignore[attr-defined]
    assert error_response(error).headers["Retry-After"] == "13"


async def test_errors_through_the_app(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    app: web.Application,
) -> None:
    async def boom(request: web.Request) -> web.StreamResponse:
        raise RuntimeError("secret detail from the database")

    async def domain(request: web.Request) -> web.StreamResponse:
        raise Conflict("that seat is taken", field="seat", details={"by": "HNI"})

    app.router.add_get("/api/v1/test-boom", boom)
    app.router.add_get("/api/v1/test-domain", domain)
    client = await aiohttp_client(app)

    resp = await client.get("/api/v1/test-boom")
    body = await resp.json()
    assert resp.status == 500
    assert body == {"error": {"code": "unknown_error", "message": "internal error"}}

    resp = await client.get("/api/v1/test-domain")
    assert resp.status == 409
    assert await resp.json() == {
        "error": {
            "code": "conflict",
            "message": "that seat is taken",
            "field": "seat",
            "details": {"by": "HNI"},
        }
    }

    resp = await client.get("/api/v1/no-such-thing")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"

    resp = await client.put("/api/v1/conferences", json={})
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_a_database_outage_is_the_same_code_on_the_websocket() -> None:
    from server.ws_connection import error_for
    from tests.conference.test_db_unavailable import refused_connection

    caught = await refused_connection()
    assert isinstance(caught, Exception)
    assert error_for(caught).code == "database_unavailable"
