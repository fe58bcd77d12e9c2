"""Hostile bodies and malformed HTTP: each is a 4xx in the API's JSON error shape, changes
nothing and logs no traceback (issue 14: no input starves the server)."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Api, Public

BIG_INT = b"9" * 5000
DEEP_LIST = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000


@pytest.fixture
def quiet_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Fails the test if anything logged a traceback or an error."""
    with caplog.at_level(logging.INFO):
        yield caplog
    noisy = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.exc_info or r.levelno >= logging.ERROR
    ]
    assert not noisy, noisy


async def state(api: Api, cid: str) -> Any:
    """What the hostile requests must leave unchanged."""
    paths = ("", "/sites", "/delegates", "/agenda")
    return [await api.get(f"/api/v1/conferences/{cid}{path}") for path in paths]


def error_code(text: str) -> str:
    body = json.loads(text)
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str)
    return str(body["error"]["code"])


JSON_BODIES = [
    b'{"code": "HNI", "name": "Ha Noi", "order": ' + BIG_INT + b"}",
    b'{"code": "HNI", "name": ' + BIG_INT + b"}",
    b'{"code": "HNI", "name": "x", "extra": ' + DEEP_LIST + b"}",
    DEEP_OBJECT,
    b'{"code": "HNI", "name": "x", "order": 1e999999}',
]


async def test_hostile_json_bodies_are_invalid_json(
    organizer: Api, conference: dict[str, Any], quiet_log: Any
) -> None:
    cid = conference["id"]
    before = await state(organizer, cid)
    for body, (method, path) in itertools.product(
        JSON_BODIES,
        (
            ("POST", f"/api/v1/conferences/{cid}/sites"),
            ("PATCH", f"/api/v1/conferences/{cid}"),
            ("POST", f"/api/v1/conferences/{cid}/agenda"),
        ),
    ):
        resp = await organizer.client.request(
            method,
            path,
            data=body,
            headers={"X-CSRF-Token": organizer.csrf, "Content-Type": "application/json"},
        )
        text = await resp.text()
        assert resp.status in (400, 422), (path, text)
        assert error_code(text) in ("invalid_json", "invalid_format"), text
    assert await state(organizer, cid) == before


async def test_a_5000_digit_integer_in_a_json_conference_file(
    organizer: Api, quiet_log: Any
) -> None:
    """The JSON conference file is read with Python's json, whose int() refuses it: the
    number is a named problem with its place in the file (was a 500)."""
    body = (
        b'{"plenary": 1, "conference": {"title": "x", "starts_on": "2026-12-10", '
        b'"ends_on": "2026-12-10"}, "sites": [{"code": "HNI", "name": "x", "order": '
        + BIG_INT
        + b"}]}"
    )
    status, err = await organizer.post(
        "/api/v1/conferences/import", data=body, headers={"Content-Type": "application/json"}
    )
    assert status == 422, err
    assert err["error"]["code"] == "invalid_format"
    problem = err["error"]["details"][0]
    assert "digits" in problem["message"] and problem.get("line") == 1, problem
    status, listed = await organizer.get("/api/v1/conferences")
    assert status == 200 and listed["items"] == [], listed


async def test_a_ten_megabyte_string_is_too_large(
    organizer: Api, conference: dict[str, Any], quiet_log: Any
) -> None:
    cid = conference["id"]
    before = await state(organizer, cid)
    body = b'{"code": "HNI", "name": "' + b"x" * 10_000_000 + b'"}'
    resp = await organizer.client.post(
        f"/api/v1/conferences/{cid}/sites",
        data=io.BytesIO(body),
        headers={"X-CSRF-Token": organizer.csrf, "Content-Type": "application/json"},
    )
    assert resp.status == 413
    assert error_code(await resp.text()) == "too_large"
    assert await state(organizer, cid) == before


async def test_hostile_json_on_minutes_verification(public: Public, quiet_log: Any) -> None:
    """The one route that reads any JSON value (not a model) refuses the same way."""
    for body in (BIG_INT, DEEP_LIST, DEEP_OBJECT, b'{"sha256": ' + BIG_INT + b"}"):
        status, answer = await public.call(
            "POST",
            "/api/v1/verify/minutes",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        assert status == 400, answer
        assert answer["error"]["code"] == "invalid_json"


NO_BOUNDARY = {"Content-Type": "multipart/form-data"}
BROKEN_FORM = {"Content-Type": "multipart/form-data; boundary=xyz"}


async def test_every_multipart_route_refuses_an_unreadable_form(
    organizer: Api, public: Public, conference: dict[str, Any], quiet_log: Any
) -> None:
    cid = conference["id"]
    status, decision = await organizer.post(
        f"/api/v1/conferences/{cid}/awards/decisions",
        {
            "number": "12-QĐ/VPTW",
            "issued_on": "2026-12-01",
            "issuing_body": "Văn phòng Trung ương Đảng",
            "signer_name": "Nguyễn Văn Thắng",
            "signer_title": "Chánh Văn phòng",
            "award_kind": "certificate_of_merit",
        },
    )
    assert status == 201, decision
    before = await state(organizer, cid)
    for headers in (NO_BOUNDARY, BROKEN_FORM):
        garbage = b"--xyz\r\nContent-Disposition: form-data; name=file\r\n" + b"x" * 100
        for path in (
            f"/api/v1/conferences/{cid}/delegates/import",
            f"/api/v1/conferences/{cid}/awards/decisions/{decision['id']}/import",
        ):
            status, body = await organizer.post(path, data=garbage, headers=headers)
            assert status == 400, (path, body)
            assert body["error"]["code"] == "invalid_form"
        # Cookie sessions send forms with their CSRF token in a field: the check reads the form.
        status, body = await organizer.call(
            "POST",
            f"/api/v1/conferences/{cid}/sites",
            data=garbage,
            headers={**headers, "X-CSRF-Token": ""},
        )
        assert status == 400, body
        assert body["error"]["code"] == "invalid_form"
        status, body = await public.call(
            "POST", "/api/v1/verify/minutes", data=garbage, headers=headers
        )
        assert status == 400, body
        assert body["error"]["code"] == "invalid_form"
        for page in ("/login", "/verify/minutes"):
            status, body = await public.call("POST", page, data=garbage, headers=headers)
            assert status == 400, (page, body)
    assert await state(organizer, cid) == before


async def raw_exchange(client: TestClient[Any, Any], request: bytes) -> tuple[int, str]:
    """Sends bytes as they are (no client would send them) and reads the answer."""
    assert client.port is not None
    return await raw_exchange_at(client.host, client.port, request)


async def raw_exchange_at(host: str, port: int, request: bytes) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return status, (await reader.readexactly(length)).decode()
    finally:
        writer.close()
        await writer.wait_closed()


MALFORMED = [
    pytest.param(
        b"FOO /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n",
        405,
        "method_not_allowed",
        id="unknown-method",
    ),
    pytest.param(
        b"GET /api/v1/me?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        431,
        "request_head_too_large",
        id="long-request-line",
    ),
    pytest.param(
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
        431,
        "request_head_too_large",
        id="long-header",
    ),
    pytest.param(
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
        400,
        "bad_request",
        id="space-in-header-name",
    ),
    pytest.param(
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        400,
        "bad_request",
        id="bad-content-length",
    ),
    pytest.param(
        b"GET /api/v1/me HTTP/7.0\r\nHost: x\r\n\r\n", 400, "bad_request", id="bad-version"
    ),
    pytest.param(
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        405,
        "method_not_allowed",
        id="tls-on-http",
    ),
]


async def test_requests_the_parser_refuses_answer_json(
    client: TestClient[Any, Any], quiet_log: Any
) -> None:
    for case in MALFORMED:
        request_bytes, status, code = case.values
        got, text = await raw_exchange(client, request_bytes)
        assert (case.id, got) == (case.id, status), text
        assert error_code(text) == code
        # The server still serves.
        resp = await client.get("/healthz")
        assert resp.status == 200


async def test_the_refusal_log_line_carries_no_request_bytes(
    client: TestClient[Any, Any], quiet_log: pytest.LogCaptureFixture
) -> None:
    secret = b"s3cr3t-personal-link"
    status, _ = await raw_exchange(
        client, b"GET /api/v1/delegate/" + secret + b"?" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n"
    )
    assert status == 431
    lines = [r.getMessage() for r in quiet_log.records if r.name == "plenary.http"]
    assert lines and all("s3cr3t" not in line for line in lines), lines
    assert all("s3cr3t" not in r.getMessage() for r in quiet_log.records)


PERCENT = [
    ("/api/v1/conferences/%zz", 404, "not_found"),
    ("/api/v1/conferences/%ff%fe", 404, "not_found"),
    ("/api/v1/conferences/%", 404, "not_found"),
    ("/api/v1/conferences/{cid}/audit?before=%zz", 422, "invalid_format"),
    ("/api/v1/conferences/{cid}/audit?before=%ff", 422, "invalid_format"),
    ("/api/v1/%c0%ae%c0%ae/me", 404, "not_found"),
]


async def test_bad_percent_encoding_is_a_json_error(
    organizer: Api, conference: dict[str, Any], quiet_log: Any
) -> None:
    client = organizer.client
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
    for target, status, code in PERCENT:
        path = target.replace("{cid}", conference["id"])
        got, text = await raw_exchange(
            client, f"GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        assert (path, got) == (path, status), text
        assert error_code(text) == code


CONTENT_TYPES = [
    ("text/plain", 415, "unsupported_media_type"),
    ("application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("application/json; charset=klingon", 422, "invalid_format"),
    ("application/json/../xml", 415, "unsupported_media_type"),
    ("", 415, "unsupported_media_type"),
]


async def test_bad_content_types_are_json_errors(
    organizer: Api, conference: dict[str, Any], quiet_log: Any
) -> None:
    cid = conference["id"]
    before = await state(organizer, cid)
    for content_type, status, code in CONTENT_TYPES:
        headers = {"X-CSRF-Token": organizer.csrf}
        if content_type:
            headers["Content-Type"] = content_type
        resp = await organizer.client.post(
            f"/api/v1/conferences/{cid}/sites", data=b'{"code": "HNI"}', headers=headers
        )
        text = await resp.text()
        assert (content_type, resp.status) == (content_type, status), text
        assert error_code(text) == code
    assert await state(organizer, cid) == before
