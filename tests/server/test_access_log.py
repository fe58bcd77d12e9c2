"""The access log keeps screen tokens and personal link secrets out."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

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
