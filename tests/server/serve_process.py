"""A real `plenary serve` process for the tests that need one: started on a free port,
handed back once /healthz answers, never before and never after a fixed sleep."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
# Only ends a start that has already failed: a loaded machine takes well over 15 s to
# import the server's stack and check the schema.
STARTUP = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(log: Path) -> str:
    return log.read_text()[-2000:]


def spawn(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`plenary serve --local` on `url`, its output appended to `log`; not waited for."""
    port = free_port()
    env = {
        **os.environ,
        "PLENARY_DATABASE_URL": url,
        "PLENARY_CHECKIN_RATE": "1000000",
        "PLENARY_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--local", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://127.0.0.1:{port}"


async def start_server(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`spawn`, then wait until /healthz answers 200 or the process exits."""
    server, base = spawn(url, log)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            if server.poll() is not None:
                raise AssertionError(f"the server exited: {tail(log)}")
            try:
                async with http.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return server, base
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    server.kill()
    raise AssertionError(f"the server did not answer /healthz in {STARTUP:.0f} s: {tail(log)}")
