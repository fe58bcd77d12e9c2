"""`plenary serve` answers what aiohttp's parser refuses in the API's JSON error shape,
logs it in one line, and still stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import pytest

from tests.server.serve_process import start_server, tail
from tests.server.test_http_edges import error_code, raw_exchange_at

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
async def test_serve_answers_parser_refusals_as_json_and_stops_cleanly(
    tmp_path: Path, sqlite_template: Path, stop: signal.Signals
) -> None:
    database = tmp_path / "plenary.db"
    shutil.copy(sqlite_template, database)
    log = tmp_path / "serve.log"
    server, base = await start_server(f"sqlite+aiosqlite:///{database}", log)
    try:
        host, port = base.removeprefix("http://").split(":")
        status, text = await raw_exchange_at(
            host, int(port), b"GET /healthz HTTP/1.1\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n"
        )
        assert status == 431, text
        assert error_code(text) == "request_head_too_large"
        status, text = await raw_exchange_at(host, int(port), b"FOO /api/v1/me HTTP/1.1\r\n\r\n")
        assert status == 405, text
        assert error_code(text) == "method_not_allowed"
        server.send_signal(stop)
        code = await asyncio.to_thread(server.wait, 60)
    finally:
        if server.poll() is None:
            server.kill()
    assert code == 0, tail(log)
    assert "Traceback" not in log.read_text(), tail(log)
