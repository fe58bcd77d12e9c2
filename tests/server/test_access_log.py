"""The access log keeps screen tokens and personal link secrets out."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request

from attendance import links
from server.access_log import AccessLogger, redacted_target


@pytest.mark.parametrize(
    ("target", "written"),
    [
        ("/c/abc/screen?token=plnr_secret&lang=en", "/c/abc/screen?token=***&lang=en"),
        ("/d/s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t", "/d/***"),
        ("/api/v1/delegate/s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t/live", "/api/v1/delegate/***/live"),
        ("/api/v1/conferences/abc/live", "/api/v1/conferences/abc/live"),
        ("/c/abc/checkin?site=LCI", "/c/abc/checkin?site=LCI"),
    ],
)
def test_secrets_are_hidden(target: str, written: str) -> None:
    assert redacted_target(make_mocked_request("GET", target)) == written


def test_the_line_has_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("plenary.test.access")
    request = make_mocked_request("GET", "/c/abc/screen?token=plnr_topsecret")
    with caplog.at_level(logging.INFO, logger="plenary.test.access"):
        AccessLogger(logger, "").log(request, web.Response(status=200), 0.0123)
    [line] = caplog.messages
    assert "plnr_topsecret" not in line and "token=***" in line and " 200 " in line


def test_no_line_is_built_when_info_is_off() -> None:
    logger = logging.getLogger("plenary.test.access.quiet")
    logger.setLevel(logging.WARNING)
    assert AccessLogger(logger, "").enabled is False
    logger.setLevel(logging.INFO)
    assert AccessLogger(logger, "").enabled is True


# --- a 500 on a route that carries a secret ---------------------------------------------------

SECRET = "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tXy"  # shaped like a personal link's secret
TOKEN = "plnr_screen_token_in_the_query"


@pytest.mark.parametrize(
    ("target", "route"),
    [
        (f"/api/v1/delegate/{SECRET}?token={TOKEN}", "/api/v1/delegate/{secret}"),
        (f"/api/v1/delegate/{SECRET}/live", "/api/v1/delegate/{secret}/live"),
        (f"/d/{SECRET}?token={TOKEN}", "/d/{secret}"),
    ],
)
async def test_a_server_error_logs_the_route_never_the_secret(
    aiohttp_client: Any,
    app: web.Application,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    route: str,
) -> None:
    async def broken(session: Any, secret: str) -> Any:
        # The worst case: the failing code puts the secret into its own message.
        raise RuntimeError(f"cannot load the link {secret} (asked with {TOKEN})")

    monkeypatch.setattr(links, "delegate_by_link", broken)
    # The server's access log, as `plenary serve` runs it.
    server = TestServer(app)
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    with caplog.at_level(logging.DEBUG):
        resp = await client.get(target)
        assert resp.status == 500
        assert (await resp.json())["error"]["code"] == "unknown_error"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the server error was not logged"
    assert any(route in r.getMessage() and "RuntimeError" in r.getMessage() for r in errors)
    for record in caplog.records:
        written = " ".join(
            [record.getMessage(), repr(record.args), record.exc_text or "", str(record.msg)]
        )
        if record.exc_info:
            written += "".join(traceback.format_exception(*record.exc_info))
        assert SECRET not in written, written
        if TOKEN in target:
            assert TOKEN not in written, written
