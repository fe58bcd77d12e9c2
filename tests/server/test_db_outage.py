"""PostgreSQL goes away during a stream of check-ins and comes back (issue 14).

The shared PostgreSQL server is never stopped: the outage is of this test's database only.
Its connections are terminated (`pg_terminate_backend`) and new ones refused
(`ALTER DATABASE ... ALLOW_CONNECTIONS false`) until a 503 was seen, then allowed again.
A real `plenary serve` process with Redis and the scheduler: requests during the outage get
a JSON 503 with Retry-After, the server recovers by itself, every acknowledged (200)
check-in is in the ledger, and a live event still reaches a subscriber afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.server.serve_process import start_server
from tests.server.test_checkin_crash import Hall, ledger, nonce, prepare

# The redis tests' group and database: pub/sub channels are shared by every database.
REDIS_URL = os.environ.get("PLENARY_TEST_REDIS", "redis://127.0.0.1:6379/15")
WAIT = 60.0  # ends a wait that has already failed; each wait is for a signal

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("redis")]


@dataclass
class Stream:
    """What the check-in clients saw: nonce -> status, and the refusals in full."""

    status: dict[str, int] = field(default_factory=dict)
    refusals: list[tuple[int, str | None, Any]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def note(self, key: str, status: int) -> None:
        self.status[key] = status
        async with self.changed:
            self.changed.notify_all()

    async def until(self, check: Callable[[], bool], what: str) -> None:
        try:
            async with asyncio.timeout(WAIT), self.changed:
                await self.changed.wait_for(check)
        except TimeoutError:
            pytest.fail(f"no {what} within {WAIT} s: {self.refusals[-3:]}")

    def count(self, status: int) -> int:
        return sum(1 for s in self.status.values() if s == status)


async def admin(url: str, *sql: str) -> None:
    """Run statements on the server's maintenance database (never on the tested one)."""
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in sql:
            await conn.execute(statement)
    finally:
        await conn.close()


async def take_down(url: str) -> None:
    name = make_url(url).database
    await admin(
        url,
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


async def bring_back(url: str) -> None:
    await admin(url, f'ALTER DATABASE "{make_url(url).database}" ALLOW_CONNECTIONS true')


async def check_in_stream(
    http: aiohttp.ClientSession, base: str, hall: Hall, scans: list[dict[str, str]], seen: Stream
) -> None:
    """Check the scans in one after another, noting each answer."""
    url = f"{base}/api/v1/conferences/{hall.cid}/checkins"
    headers = {"Authorization": f"Bearer {hall.token}"}
    for scan in scans:
        key = nonce()
        async with http.post(url, json={"nonce": key, **scan}, headers=headers) as resp:
            answer = await resp.json()
            if resp.status != 200:
                seen.refusals.append((resp.status, resp.headers.get("Retry-After"), answer))
            await seen.note(key, resp.status)


async def subscriber(base: str, hall: Hall) -> tuple[aiohttp.ClientSession, Any]:
    http = aiohttp.ClientSession()
    ws = await http.ws_connect(f"{base}/api/v1/ws")
    assert (await ws.receive_json(timeout=WAIT))["type"] == "auth_required"
    await ws.send_json({"type": "auth", "token": hall.token})
    assert (await ws.receive_json(timeout=WAIT))["type"] == "auth_ok"
    await ws.send_json({"id": 1, "type": "live/subscribe", "conference": hall.cid})
    answer = await ws.receive_json(timeout=WAIT)
    assert answer["success"], answer
    return http, ws


async def next_checkin_event(ws: Any, delegate: str) -> dict[str, Any]:
    """Read events until the check-in of delegate comes (events of the outage may precede)."""
    while True:
        frame = await ws.receive_json(timeout=WAIT)
        data = frame.get("event", {}).get("data", {})
        if delegate in str(data):
            return dict(frame)


async def settle(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_an_outage_is_503_then_recovers_and_loses_no_acknowledged_checkin(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hall = await prepare(db_url)
    monkeypatch.setenv("PLENARY_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("PLENARY_REDIS_CHANNEL", f"test-{uuid.uuid4().hex}")
    monkeypatch.setenv("PLENARY_SCHEDULER_POLL_SECONDS", "0.2")
    log = tmp_path / "server.log"
    server, base = await start_server(db_url, log)
    seen = Stream()
    http, ws = await subscriber(base, hall)
    tasks: list[asyncio.Task[None]] = []
    try:
        timeout = aiohttp.ClientTimeout(total=WAIT)
        async with aiohttp.ClientSession(timeout=timeout) as clients:
            scans = hall.scans[:-1]
            tasks = [
                asyncio.create_task(check_in_stream(clients, base, hall, scans[n::4], seen))
                for n in range(4)
            ]
            await seen.until(lambda: seen.count(200) >= 20, "check-ins before the outage")
            await take_down(db_url)
            try:
                await seen.until(lambda: seen.count(503) >= 1, "503 during the outage")
            finally:
                await bring_back(db_url)
            before = seen.count(200)
            await seen.until(lambda: seen.count(200) >= before + 20, "200 after the outage")
            await settle(tasks)
        assert server.poll() is None, log.read_text()[-2000:]
        statuses = set(seen.status.values())
        assert statuses <= {200, 503}, seen.refusals
        for _, retry_after, answer in seen.refusals:
            assert answer["error"]["code"] == "database_unavailable", answer
            assert retry_after is not None and int(retry_after) >= 1
        rows, outcome, _ = await ledger(db_url)
        acknowledged = [key for key, status in seen.status.items() if status == 200]
        assert all(rows[key] == 1 and outcome[key] == "ok" for key in acknowledged)
        # The hub, the Redis bridge and the socket outlived the outage: a live event arrives.
        await a_live_event_arrives(base, hall, ws)
    finally:
        await settle(tasks)
        await ws.close()
        await http.close()
        server.terminate()
        server.wait(WAIT)
    assert "Task exception was never retrieved" not in log.read_text()


async def a_live_event_arrives(base: str, hall: Hall, ws: Any) -> None:
    """Check the last delegate in; its event must reach the socket."""
    scan = hall.scans[-1]
    async with aiohttp.ClientSession() as http:
        url = f"{base}/api/v1/conferences/{hall.cid}/checkins"
        headers = {"Authorization": f"Bearer {hall.token}"}
        async with http.post(url, json={"nonce": nonce(), **scan}, headers=headers) as resp:
            answer = await resp.json()
            assert resp.status == 200, answer
    delegate = answer["checkin"]["delegate"]["id"]
    frame = await next_checkin_event(ws, delegate)
    assert frame["type"] == "event", frame
