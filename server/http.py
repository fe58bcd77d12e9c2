"""HTTP plumbing: the one place errors become responses, body parsing, API routes."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from sqlmodel.ext.asyncio.session import AsyncSession

from conference import errors
from conference.db import unavailable_error
from conference.errors import InvalidInput, PlenaryError
from server.access_log import redacted_traceback, route_name
from server.keys import config_key, db_key

log = logging.getLogger("plenary.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)

INVALID_JSON = "invalid_json"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
METHOD_NOT_ALLOWED = "method_not_allowed"
CSRF_FAILED = "csrf_failed"
BAD_REQUEST = "bad_request"
INVALID_FORM = "invalid_form"
REQUEST_HEAD_TOO_LARGE = "request_head_too_large"

STATUS_BY_CODE: dict[str, int] = {
    INVALID_JSON: 400,
    BAD_REQUEST: 400,
    INVALID_FORM: 400,
    errors.INVALID_FORMAT: 422,
    errors.UNAUTHORIZED: 401,
    errors.FORBIDDEN: 403,
    CSRF_FAILED: 403,
    errors.NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    errors.CONFLICT: 409,
    errors.TOO_LARGE: 413,
    UNSUPPORTED_MEDIA_TYPE: 415,
    REQUEST_HEAD_TOO_LARGE: 431,
    errors.RATE_LIMITED: 429,
    errors.STALE_SCHEMA: 503,
    errors.DATABASE_UNAVAILABLE: 503,
    errors.UNKNOWN_ERROR: 500,
}


class InvalidForm(InvalidInput):
    """A multipart or urlencoded body that cannot be read (no boundary, broken parts)."""

    code = INVALID_FORM


def status_for(error: PlenaryError) -> int:
    """The status of error's code, else of the nearest base class's code (AlreadyX(Conflict))."""
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in STATUS_BY_CODE and code != errors.UNKNOWN_ERROR:
            return STATUS_BY_CODE[code]
    return 400


def error_response(error: PlenaryError) -> web.Response:
    response = web.json_response({"error": error.as_dict()}, status=status_for(error))
    retry = getattr(error, "retry_after", None)
    if retry:
        response.headers["Retry-After"] = str(int(retry) + 1)
    return response


def error_from_http(exc: web.HTTPException) -> PlenaryError:
    """aiohttp's own refusals, in our error shape."""
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PlenaryError("the request body is too large", code=errors.TOO_LARGE)
    if isinstance(exc, web.HTTPNotFound):
        return PlenaryError("no such resource", code=errors.NOT_FOUND)
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return PlenaryError(f"{exc.method} is not allowed here", code=METHOD_NOT_ALLOWED)
    return PlenaryError(exc.reason or "request refused", code=errors.UNKNOWN_ERROR)


def validation_error(exc: ValidationError, prefix: str = "") -> PlenaryError:
    """A pydantic error naming every field; malformed JSON gets its own code."""
    problems = []
    for item in exc.errors(include_url=False, include_input=False):
        if item["type"] == "json_invalid":
            return PlenaryError(
                f"the body is not valid JSON: {item.get('ctx', {}).get('error', item['msg'])}",
                code=INVALID_JSON,
            )
        loc = ".".join(str(part) for part in item["loc"])
        name = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "body")
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "model_type":
            message = "must be a JSON object"
        problems.append({"field": name, "message": message, "type": item["type"]})
    first = problems[0]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return InvalidInput(summary, field=first["field"], details=problems)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Translate every domain error, in exactly one place."""
    try:
        return await handler(request)
    except PlenaryError as exc:
        return error_response(exc)
    except ValidationError as exc:
        return error_response(validation_error(exc))
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        return error_response(error_from_http(exc))
    except Exception as exc:
        if (outage := unavailable_error(exc)) is not None:
            log.warning("database unavailable (%s): answered 503", type(exc).__name__)
            return error_response(outage)
        # The route's pattern and a scrubbed traceback: a personal link's secret or a
        # screen's token in the URL must not reach the log.
        log.error(
            "unhandled error on %s %s\n%s",
            request.method,
            route_name(request),
            redacted_traceback(request, exc),
        )
        return error_response(PlenaryError("internal error", code=errors.UNKNOWN_ERROR))


async def read_body(request: web.Request, *, limit: int | None = None) -> bytes:
    """The raw body, refusing oversized ones before and after reading."""
    limit = limit or request.app[config_key].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PlenaryError(f"the request body is larger than {limit} bytes", code=errors.TOO_LARGE)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PlenaryError(
            f"the request body is larger than {limit} bytes", code=errors.TOO_LARGE
        ) from None
    if len(raw) > limit:
        raise PlenaryError(f"the request body is larger than {limit} bytes", code=errors.TOO_LARGE)
    return raw


async def parse_body(request: web.Request, model: type[M]) -> M:
    """Validate a JSON body against model; errors name the field."""
    if request.content_type != "application/json":
        raise PlenaryError(
            "send the body as JSON with Content-Type: application/json",
            code=UNSUPPORTED_MEDIA_TYPE,
        )
    raw = await read_body(request)
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_json(raw: bytes) -> Any:
    """Any JSON value; huge numbers, deep nesting and broken text are invalid_json."""
    try:
        # Python's json would raise ValueError past 4,300 digits and RecursionError when
        # deeply nested; pydantic's parser bounds both and names the place.
        return from_json(raw or b"null")
    except ValueError as exc:
        raise PlenaryError(f"the body is not valid JSON: {exc}", code=INVALID_JSON) from None


async def read_json(request: web.Request) -> Any:
    """The JSON body (any value), read within the body limit."""
    return parse_json(await read_body(request))


# What aiohttp raises on a form it cannot read: no boundary (ValueError), an unknown
# charset (LookupError), a part with broken headers (HttpProcessingError).
FORM_ERRORS = (ValueError, LookupError, HttpProcessingError)


async def read_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The fields of a multipart or urlencoded form; an unreadable one is invalid_form."""
    try:
        return await request.post()
    except FORM_ERRORS as exc:
        raise InvalidForm(f"the form cannot be read: {exc}", field="body") from None


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


# json.dumps(v, ensure_ascii=False) makes a new encoder for every call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.json_response(dump(value), status=status, dumps=_encode)


def plain_json_response(value: Any, status: int = 200) -> web.Response:
    """json_response for a value made only of dicts, lists, str, numbers, bools and None."""
    return web.json_response(value, status=status, dumps=_encode)


def public_base(request: web.Request) -> str:
    """The address people open (Config.public_base); the Host header a client sends is
    never believed (anyone can send any Host and have links made to their own site)."""
    return request.app[config_key].public_base


@asynccontextmanager
async def transaction(request: web.Request) -> AsyncIterator[AsyncSession]:
    """One database transaction for this request (a read-only one for GET and HEAD)."""
    db = request.app[db_key]
    if request.method in ("GET", "HEAD"):
        async with db.read() as session:
            yield session
    else:
        async with db.transaction() as session:
            yield session
