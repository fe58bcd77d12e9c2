"""Live fan-out: how fast site changes reach many WebSocket subscribers.

Starts a real `plenary serve` (SQLite in a temporary folder) in its own process,
connects N subscribers with the `websockets` client, makes K changes through the
HTTP API and measures the time until every subscriber holds every event, in
order. The baseline, measured in the same run, is the same K changes watched by a
single subscriber; the ratio shows what fanning out to N costs.

    python bench/live_fanout.py --sockets 300 --events 200

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import websockets
from common import PASSWORD, report, serve, set_up, wait_until_up


async def prepare(base: str) -> tuple[aiohttp.ClientSession, str, str]:
    """A logged-in organizer session, a public conference and one site."""
    # unsafe: accept cookies from an IP address host.
    http = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(
        "/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}
    ) as r:
        csrf = (await r.json())["csrf_token"]
    http.headers["X-CSRF-Token"] = csrf
    body = {
        "title": "Benchmark",
        "starts_on": "2026-12-15",
        "ends_on": "2026-12-15",
        "public": True,
    }
    async with http.post("/api/v1/conferences", json=body) as r:
        answer = await r.json()
        assert r.status == 201, answer
        cid = answer["id"]
    async with http.post(
        f"/api/v1/conferences/{cid}/sites", json={"code": "HNI", "name": "Hà Nội"}
    ) as r:
        sid = (await r.json())["id"]
    return http, cid, sid


async def subscriber(
    url: str, origin: str, cid: str, ready: asyncio.Event, go: asyncio.Event, events: int
) -> float:
    """Subscribe, then return the moment the last of `events` events arrived."""
    async with websockets.connect(url, origin=origin, max_size=2**20) as ws:  # type: ignore[arg-type]
        assert json.loads(await ws.recv())["type"] == "auth_required"
        await ws.send(json.dumps({"type": "auth"}))
        assert json.loads(await ws.recv())["type"] == "auth_ok"
        await ws.send(json.dumps({"id": 1, "type": "live/subscribe", "conference": cid}))
        result = json.loads(await ws.recv())
        last = result["result"]["seq"]
        ready.set()
        await go.wait()
        seen = 0
        while seen < events:
            message = json.loads(await ws.recv())
            assert message["type"] == "event" and message["seq"] == last + 1, message
            last = message["seq"]
            seen += 1
        return time.perf_counter()


async def run(base: str, sockets: int, events: int) -> float:
    """Seconds from the first change until every subscriber has every event."""
    http, cid, sid = await prepare(base)
    url = base.replace("http", "ws") + "/api/v1/ws"
    go = asyncio.Event()
    readies = [asyncio.Event() for _ in range(sockets)]
    tasks = []
    for ready in readies:
        tasks.append(asyncio.create_task(subscriber(url, base, cid, ready, go, events)))
        if len(tasks) % 50 == 0:
            await asyncio.sleep(0)
    for ready in readies:
        await ready.wait()
    go.set()
    start = time.perf_counter()
    for n in range(events):
        async with http.patch(
            f"/api/v1/conferences/{cid}/sites/{sid}", json={"name": f"Hà Nội {n}"}
        ) as r:
            assert r.status == 200, await r.text()
    ends = await asyncio.gather(*tasks)
    await http.close()
    return max(ends) - start


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "PLENARY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
        "PLENARY_LOG_LEVEL": "WARNING",
        "PLENARY_WS_MAX_PENDING": "100000",
    }
    set_up(env)
    return serve(env, stderr=subprocess.DEVNULL)


async def measure(sockets: int, events: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(Path(tmp))
        try:
            await wait_until_up(base, server, tries=200)
            baseline = await run(base, 1, events)
            fanned = await run(base, sockets, events)
        finally:
            server.terminate()
            server.wait(10)
    return {
        "sockets": sockets,
        "events": events,
        "seconds": round(fanned, 3),
        "deliveries_per_s": round(sockets * events / fanned),
        "baseline_seconds": round(baseline, 3),
        "baseline_deliveries_per_s": round(events / baseline),
        "fanout_cost_ratio": round(fanned / baseline, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=300, help="subscribers (default 300)")
    parser.add_argument("--events", type=int, default=200, help="changes made (default 200)")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.sockets, args.events))
    report(
        figures,
        f"{figures['events']} changes to {figures['sockets']} subscribers: "
        f"{figures['seconds']} s, {figures['deliveries_per_s']} deliveries/s",
        f"baseline, 1 subscriber: {figures['baseline_seconds']} s "
        f"({figures['baseline_deliveries_per_s']} deliveries/s); "
        f"fanning out costs x{figures['fanout_cost_ratio']} the time",
    )


if __name__ == "__main__":
    main()
