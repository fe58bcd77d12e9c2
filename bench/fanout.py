"""Live fan-out from one server process: agenda moves to N subscribed WebSocket clients.

Starts a real `plenary serve` (SQLite in a temporary folder) in its own process. The N
subscribers are held by separate load-generator processes (this script with
``--generator``), so that the clients' CPU is not the server's; each reports its own CPU
time. The chair's agenda moves go through the HTTP API; for every event a subscriber
receives, the latency is the time from the event being logged (its ``at``, set in the
transaction that commits it) to the subscriber reading it. The run ends with a marker
change that every subscriber must see; an event a subscriber never got counts as missed.

The baseline, in the same run: a bare aiohttp server (``--bare``) that only sends the same
bytes to the same N clients, held by the same generators. The server's CPU per delivery
(from /proc) is compared with the bare server's; the memory per idle subscriber is the
server's RSS growth while the N subscribe, divided by N.

    python bench/fanout.py --subscribers 10000 --events 20 --generators 4

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from common import PASSWORD, free_port, report, serve, set_up, wait_until_up

END = "fan-out end"


# --- /proc -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# --- the load generator (a process of its own) -----------------------------------------


async def _hold(
    url: str, origin: str, cid: str | None, seen: list[float], done: asyncio.Event
) -> tuple[int, int]:
    """One subscriber until the end marker: (seqs received, seqs missed)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(url, origin=origin) as ws:
        last = 0
        if cid is not None:
            assert json.loads(await ws.receive_str())["type"] == "auth_required"
            await ws.send_str(json.dumps({"type": "auth"}))
            assert json.loads(await ws.receive_str())["type"] == "auth_ok"
            await ws.send_str(json.dumps({"id": 1, "type": "live/subscribe", "conference": cid}))
            last = json.loads(await ws.receive_str())["result"]["seq"]
        done.set()
        received = missed = 0
        while True:
            message = await ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"the server closed a subscriber: {message}")
            now = time.time()
            frame = json.loads(message.data)
            event = frame["event"]
            seen.append(now - datetime.fromisoformat(event["at"]).timestamp())
            received += 1
            if cid is not None:
                missed += frame["seq"] - last - 1
                last = frame["seq"]
            if event["data"].get("name") == END:
                return received, missed


async def generate(url: str, origin: str, cid: str | None, count: int) -> None:
    """Hold count subscribers; print "ready" once all are subscribed, then one JSON line."""
    seen: list[float] = []
    readies = [asyncio.Event() for _ in range(count)]
    tasks = []
    for n, ready in enumerate(readies):
        tasks.append(asyncio.create_task(_hold(url, origin, cid, seen, ready)))
        if n % 100 == 99:
            await asyncio.wait({asyncio.create_task(r.wait()) for r in readies[n - 99 : n + 1]})
    for ready in readies:
        await ready.wait()
    print("ready", flush=True)
    results = await asyncio.gather(*tasks)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "latencies": seen,
                "received": sum(r for r, _ in results),
                "missed": sum(m for _, m in results),
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
        ),
        flush=True,
    )


# --- the bare baseline server (a process of its own) -----------------------------------


def bare_server(port: int) -> None:
    """Accept sockets at /ws; POST /send sends the request's body to every socket."""
    from aiohttp import web

    sockets: set[web.WebSocketResponse] = set()

    async def ws(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(compress=False)
        await socket.prepare(request)
        sockets.add(socket)
        async for _ in socket:
            pass
        sockets.discard(socket)
        return socket

    async def send(request: web.Request) -> web.Response:
        text = (await request.read()).decode()
        for socket in list(sockets):
            await socket.send_str(text)
        return web.Response(text=str(len(sockets)))

    app = web.Application()
    app.router.add_get("/ws", ws)
    app.router.add_post("/send", send)
    web.run_app(app, host="127.0.0.1", port=port, print=lambda *_: print("up", flush=True))


# --- the run -----------------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, bufsize=1
    )


class Generators:
    """G generator processes sharing N subscribers."""

    def __init__(self, url: str, origin: str, cid: str | None, n: int, g: int) -> None:
        shares = [n // g + (1 if k < n % g else 0) for k in range(g)]
        extra = [cid] if cid else []
        self.procs = [
            _spawn("--generator", url, origin, str(share), *extra) for share in shares if share
        ]

    def wait_ready(self) -> None:
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a generator failed before it was ready: {line!r}")

    def results(self) -> list[dict[str, Any]]:
        out = []
        for proc in self.procs:
            assert proc.stdout is not None
            out.append(json.loads(proc.stdout.readline()))
            proc.wait(30)
        return out


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def summary(
    results: list[dict[str, Any]], cpu: float, deliveries: int, rss_before: int, rss_idle: int
) -> dict[str, Any]:
    latencies = [x for r in results for x in r["latencies"]]
    subscribers = deliveries and len(latencies)
    return {
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "cpu_us_per_delivery": round(cpu / max(deliveries, 1) * 1e6, 1),
        "received": subscribers,
        "missed": sum(r["missed"] for r in results),
        "generators_cpu_s": round(sum(r["cpu_s"] for r in results), 2),
        "rss_growth_kb": rss_idle - rss_before,
    }


async def _organizer(base: str) -> tuple[aiohttp.ClientSession, str, str, list[str]]:
    """A logged-in organizer, a public conference with one site and the agenda to move."""
    http = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(
        "/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}
    ) as r:
        http.headers["X-CSRF-Token"] = (await r.json())["csrf_token"]
    body = {"title": "Fan-out", "starts_on": "2026-12-15", "ends_on": "2026-12-15", "public": True}
    async with http.post("/api/v1/conferences", json=body) as r:
        cid = (await r.json())["id"]
    async with http.post(
        f"/api/v1/conferences/{cid}/sites", json={"code": "HNI", "name": "Hà Nội"}
    ) as r:
        sid = (await r.json())["id"]
    return http, cid, sid, []


async def _agenda(http: aiohttp.ClientSession, cid: str, moves: int) -> None:
    for n in range(moves):
        async with http.post(
            f"/api/v1/conferences/{cid}/agenda", json={"title": f"Mục {n + 1}"}
        ) as r:
            assert r.status == 201, await r.text()


async def _move(http: aiohttp.ClientSession, cid: str, sid: str, moves: int) -> None:
    """moves agenda moves (start the next item), then the end marker."""
    for _ in range(moves):
        async with http.post(
            f"/api/v1/conferences/{cid}/agenda/live", json={"action": "start"}
        ) as r:
            assert r.status == 200, await r.text()
    async with http.patch(f"/api/v1/conferences/{cid}/sites/{sid}", json={"name": END}) as r:
        assert r.status == 200, await r.text()


async def measure_plenary(folder: Path, subscribers: int, moves: int, g: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "PLENARY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
        "PLENARY_LOG_LEVEL": "WARNING",
        "PLENARY_WS_MAX_PENDING": "100000",
    }
    set_up(env)
    server, base = serve(env, stderr=subprocess.DEVNULL)
    try:
        await wait_until_up(base, server, tries=200)
        http, cid, sid, _ = await _organizer(base)
        await _agenda(http, cid, moves)
        rss_before = rss_kb(server.pid)
        gens = Generators(base.replace("http", "ws") + "/api/v1/ws", base, cid, subscribers, g)
        await asyncio.to_thread(gens.wait_ready)
        rss_idle = rss_kb(server.pid)
        cpu_before = cpu_seconds(server.pid)
        await _move(http, cid, sid, moves)
        results = await asyncio.to_thread(gens.results)
        cpu = cpu_seconds(server.pid) - cpu_before
        await http.close()
    finally:
        server.terminate()
        server.wait(30)
    received = sum(r["received"] for r in results)
    return summary(results, cpu, received, rss_before, rss_idle)


async def measure_bare(subscribers: int, frames: list[str], g: int) -> dict[str, Any]:
    port = free_port()
    bare = _spawn("--bare", str(port))
    try:
        assert bare.stdout is not None and bare.stdout.readline().strip() == "up"
        base = f"http://127.0.0.1:{port}"
        rss_before = rss_kb(bare.pid)
        gens = Generators(base.replace("http", "ws") + "/ws", base, None, subscribers, g)
        await asyncio.to_thread(gens.wait_ready)
        rss_idle = rss_kb(bare.pid)
        cpu_before = cpu_seconds(bare.pid)
        async with aiohttp.ClientSession() as http:
            for frame in frames:
                stamped = frame.replace("@AT@", datetime.now().astimezone().isoformat())
                async with http.post(base + "/send", data=stamped.encode()) as r:
                    assert r.status == 200
        results = await asyncio.to_thread(gens.results)
        cpu = cpu_seconds(bare.pid) - cpu_before
    finally:
        bare.terminate()
        bare.wait(30)
    received = sum(r["received"] for r in results)
    return summary(results, cpu, received, rss_before, rss_idle)


def bare_frames(moves: int) -> list[str]:
    """Frames of about the size plenary sends for an agenda move, then the end marker."""

    def frame(n: int, data: dict[str, Any]) -> str:
        event = {"type": "agenda/live", "data": data, "at": "@AT@"}
        return json.dumps({"id": 1, "type": "event", "seq": n, "epoch": "x" * 16, "event": event})

    item = {"id": "x" * 16, "title": "Mục", "kind": "other", "status": "running"}
    frames = [frame(n + 1, {"running": item, "started_at": "@AT@"}) for n in range(moves)]
    return [*frames, frame(moves + 1, {"name": END})]


async def measure(subscribers: int, moves: int, generators: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="plenary-fanout-") as tmp:
        ours = await measure_plenary(Path(tmp), subscribers, moves, generators)
    bare = await measure_bare(subscribers, bare_frames(moves), generators)
    return {
        "subscribers": subscribers,
        "events": ours["received"] // max(subscribers, 1),
        "p50_ms": ours["p50_ms"],
        "p99_ms": ours["p99_ms"],
        "cpu_us_per_delivery": ours["cpu_us_per_delivery"],
        "baseline_cpu_us_per_delivery": bare["cpu_us_per_delivery"],
        "cpu_ratio_to_baseline": round(
            ours["cpu_us_per_delivery"] / max(bare["cpu_us_per_delivery"], 0.1), 2
        ),
        "kb_per_subscriber": round(ours["rss_growth_kb"] / max(subscribers, 1), 1),
        "baseline_kb_per_subscriber": round(bare["rss_growth_kb"] / max(subscribers, 1), 1),
        "baseline_p50_ms": bare["p50_ms"],
        "baseline_p99_ms": bare["p99_ms"],
        "missed": ours["missed"] + (subscribers * (moves + 1) - bare["received"]),
        "generators_cpu_s": ours["generators_cpu_s"],
    }


def main() -> None:
    if sys.argv[1:2] == ["--generator"]:
        url, origin, count, *cid = sys.argv[2:]
        asyncio.run(generate(url, origin, cid[0] if cid else None, int(count)))
        return
    if sys.argv[1:2] == ["--bare"]:
        bare_server(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000, help="subscribers (default 1000)")
    parser.add_argument("--events", type=int, default=20, help="agenda moves (default 20)")
    parser.add_argument(
        "--generators", type=int, default=2, help="load-generator processes (default 2)"
    )
    args = parser.parse_args()
    figures = asyncio.run(measure(args.subscribers, args.events, args.generators))
    report(
        figures,
        f"{args.events} agenda moves to {figures['subscribers']} subscribers: "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"{figures['cpu_us_per_delivery']} us of server CPU per delivery, "
        f"{figures['kb_per_subscriber']} KB per idle subscriber, {figures['missed']} missed",
        f"baseline, a bare aiohttp server sending the same bytes: "
        f"{figures['baseline_cpu_us_per_delivery']} us per delivery "
        f"(x{figures['cpu_ratio_to_baseline']}), {figures['baseline_kb_per_subscriber']} KB "
        f"per subscriber, p99 {figures['baseline_p99_ms']} ms",
    )


if __name__ == "__main__":
    main()
