"""`plenary serve` answers what aiohttp's parser refuses in the API's JSON error shape,
logs it in one line, and still stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from tests.server.test_checkin_crash import spawn
from tests.server.test_http_edges import error_code, raw_exchange_at

pytestmark = pytest.mark.slow


def tail(log: Path) -> str:
    return log.read_text()[-2000:]


async def start_server(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`plenary serve`, once /healthz answers (a loaded machine may take a while)."""
    server, base = spawn(url, log)
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert server.poll() is None, tail(log)
            try:
                async with http.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return server, base
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    server.kill()
    raise AssertionError("the server did not answer /healthz in 120 s")


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
