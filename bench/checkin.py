"""Check-in throughput: badges scanned over HTTP against a real server, and its baseline.

Starts a real `plenary serve` (SQLite in a temporary folder) in its own process,
prepares a conference dated from today with one site, N delegates and a site
operator's API token, then sends one check-in per delegate (its badge code and a
fresh nonce) from this process with an aiohttp client holding C requests in
flight over keep-alive connections. Every request must answer 200.

The baseline, measured in the same run, is the same `check_in` service call made
directly on a copy of the same prepared database with no server: one scan per
transaction, one after another (the first `--baseline-n` delegates). `--seconds`
ends each phase early. With `--badges`, the badge PDF benchmark (`bench/badges.py`)
runs too.

    python bench/checkin.py --n 20000 --concurrency 32 --badges 10000

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from common import (
    PASSWORD,
    delegate_badges,
    report,
    serve,
    set_up,
    stop_server,
    tail,
    wait_until_up,
)

SITE = "HNI"


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PLENARY_DATABASE_URL": url,
        "PLENARY_LOG_LEVEL": "WARNING",
        # The run's own rate: one token sends every check-in.
        "PLENARY_CHECKIN_RATE": "10000000",
    }


def start_server(url: str, prefix: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with log.open("ab") as out:
        return serve(server_env(url), stderr=out, prefix=prefix)


@dataclass
class Prepared:
    cid: str
    token: str
    badges: list[str]  # one credential per delegate, in the order they are scanned


async def _call(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
    async with http.post(path, json=body) as r:
        answer = await r.json()
        assert r.status in (200, 201), answer
        return answer


async def prepare(base: str, url: str, delegates: int) -> Prepared:
    """Conference, site and token through the API; delegates straight into the database."""
    from sqlmodel import col, select

    from attendance.schemas import DelegateCreate
    from attendance.services import insert_delegates
    from conference.db import Database
    from conference.models import Conference, Site

    jar = aiohttp.CookieJar(unsafe=True)  # cookies from an IP address host
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar) as http:
        login = await _call(http, "/api/v1/auth/login", {"username": "bench", "password": PASSWORD})
        http.headers["X-CSRF-Token"] = login["csrf_token"]
        today = date.today()
        conf = await _call(
            http,
            "/api/v1/conferences",
            {
                "title": "Hội nghị toàn quốc (benchmark)",
                "starts_on": today.isoformat(),
                "ends_on": (today + timedelta(days=1)).isoformat(),
            },
        )
        cid = conf["id"]
        await _call(http, f"/api/v1/conferences/{cid}/sites", {"code": SITE, "name": "Hà Nội"})
        token = await _call(
            http,
            f"/api/v1/conferences/{cid}/tokens",
            {"name": "scanner", "role": "site_operator", "site": SITE},
        )
    db = Database(url)
    try:
        async with db.transaction() as session:
            conference = (
                await session.exec(select(Conference).where(col(Conference.public_id) == cid))
            ).one()
            site = (
                await session.exec(
                    select(Site).where(
                        col(Site.conference_id) == conference.id, col(Site.code) == SITE
                    )
                )
            ).one()
            assert conference.id is not None and site.id is not None
            rows = [
                DelegateCreate(name=f"Nguyễn Văn Đại Biểu {n:06d}", site=SITE, unit="Văn phòng")
                for n in range(delegates)
            ]
            for start in range(0, len(rows), 2000):
                await insert_delegates(
                    session, conference.id, {SITE: site.id}, rows[start : start + 2000]
                )
        async with db.transaction() as session:
            badges = [badge for _, badge in await delegate_badges(session, conference)]
    finally:
        await db.dispose()
    return Prepared(cid, token["token"], badges)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (its WAL included)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def nonce() -> str:
    return secrets.token_urlsafe(12)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


@dataclass
class Run:
    done: int
    seconds: float
    latencies: list[float]
    errors: list[str]

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "checkins": self.done,
            "seconds": round(self.seconds, 3),
            "checkins_per_s": round(self.done / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
            "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
            "errors": len(self.errors),
        }


async def drive(
    base: str, prepared: Prepared, badges: list[str], concurrency: int, seconds: float
) -> Run:
    """Send one check-in per badge, `concurrency` at a time; stop early after `seconds`."""
    path = f"/api/v1/conferences/{prepared.cid}/checkins"
    headers = {
        "Authorization": f"Bearer {prepared.token}",
        "Content-Type": "application/json",
    }
    bodies = iter(
        [json.dumps({"nonce": nonce(), "credential": badge}).encode() for badge in badges]
    )
    latencies: list[float] = []
    errors: list[str] = []
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    deadline = time.perf_counter() + seconds if seconds > 0 else float("inf")

    async def worker(http: aiohttp.ClientSession) -> None:
        for body in bodies:
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            try:
                async with http.post(path, data=body, headers=headers) as resp:
                    text = await resp.read()
                    status = resp.status
            except aiohttp.ClientError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"{status}: {text[:300].decode(errors='replace')}")

    async with aiohttp.ClientSession(base_url=base, connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Run(len(latencies), elapsed, latencies, errors)


async def baseline(url: str, prepared: Prepared, badges: list[str], seconds: float) -> Run:
    """The same service call without a server: one scan per transaction, one after another."""
    from sqlmodel import col, select

    from attendance.checkin import check_in
    from attendance.scans import Scan
    from conference.accounts import principal_for_token
    from conference.actors import resolve_actor
    from conference.db import Database
    from conference.models import Conference, Site
    from conference.signing import load_keyring

    db = Database(url)
    try:
        async with db.transaction() as session:
            conference = (
                await session.exec(
                    select(Conference).where(col(Conference.public_id) == prepared.cid)
                )
            ).one()
            principal = await principal_for_token(session, prepared.token)
            assert principal is not None
            actor = await resolve_actor(session, principal, conference)
            site = await session.get(Site, actor.site_id)
            assert site is not None
            ring = await load_keyring(session)
        latencies: list[float] = []
        errors: list[str] = []
        deadline = time.perf_counter() + seconds if seconds > 0 else float("inf")
        started = time.perf_counter()
        for badge in badges:
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            async with db.transaction() as session:
                [outcome] = await check_in(
                    session, conference, site, [Scan(nonce(), badge)], actor=actor, keyring=ring
                )
            latencies.append(time.perf_counter() - began)
            if outcome.outcome != "ok":
                errors.append(f"{outcome.outcome}: {outcome.code} {outcome.message}")
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()
    return Run(len(latencies), elapsed, latencies, errors)


def measure_badges(n: int) -> dict[str, Any]:
    """The figures of bench/badges.py for n badges (null when skipped or not there)."""
    if n <= 0:
        return {"badges": 0, "badges_per_s": None}
    try:
        module = importlib.import_module("badges")
    except ModuleNotFoundError:
        return {"badges": n, "badges_per_s": None, "badges_note": "bench/badges.py is missing"}
    measured = module.measure_badges(n)
    return {
        "badges": n,
        "badges_per_s": measured.get("badges_per_s"),
        "badges_seconds": measured.get("seconds"),
        "badges_missing_glyphs": measured.get("missing_glyphs"),
        "badges_baseline_per_s": measured.get("baseline_badges_per_s"),
    }


async def measure(
    n: int,
    concurrency: int,
    seconds: float,
    warmup: int,
    baseline_n: int,
    profile: str | None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="plenary-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        set_up(server_env(url))
        prefix = []
        if profile:
            kind = "flamegraph" if profile.endswith(".svg") else "raw"
            prefix = ["py-spy", "record", "--gil", "--rate", "200", "-f", kind, "-o", profile, "--"]
        log = folder / "server.log"
        server, base = start_server(url, prefix, log)
        try:
            await wait_until_up(base, server, tries=400, log=log)
            prepared = await prepare(base, url, n + warmup)
            copy = folder / "baseline.db"
            copy_database(path, copy)
            warm, timed = prepared.badges[:warmup], prepared.badges[warmup:]
            if warm:
                await drive(base, prepared, warm, concurrency, 0)
            server_cpu, own_cpu = cpu_seconds(server.pid), time.process_time()
            served = await drive(base, prepared, timed, concurrency, seconds)
            server_cpu = cpu_seconds(server.pid) - server_cpu
            own_cpu = time.process_time() - own_cpu
        finally:
            if profile:
                server.send_signal(2)  # SIGINT: py-spy writes its profile
                server.wait(60)
            else:
                stop_server(server)
        log_tail = tail(log)
        copy_url = f"sqlite+aiosqlite:///{copy}"
        if warm:
            await baseline(copy_url, prepared, warm, 0)
        base_run = await baseline(copy_url, prepared, timed[:baseline_n], seconds)
    figures = served.figures()
    base_figures = base_run.figures()
    for error in served.errors[:5]:
        print(f"error: {error}", file=sys.stderr)
    if served.errors:
        print(f"the server's log ends with:\n{log_tail}", file=sys.stderr)
    if profile:
        server_cpu = 0.0  # the process measured was py-spy's
    return {
        "database": "sqlite",
        "n": len(timed),
        "concurrency": concurrency,
        **figures,
        # CPU time per check-in: the server's process, and this one's (the HTTP clients).
        "server_cpu_ms": round(server_cpu / max(1, served.done) * 1000, 3),
        "client_cpu_ms": round(own_cpu / max(1, served.done) * 1000, 3),
        "baseline_checkins": base_figures["checkins"],
        "baseline_per_s": base_figures["checkins_per_s"],
        "baseline_p50_ms": base_figures["p50_ms"],
        "baseline_p99_ms": base_figures["p99_ms"],
        "baseline_errors": base_figures["errors"],
        "ratio_to_baseline": (
            round(figures["checkins_per_s"] / base_figures["checkins_per_s"], 2)
            if base_figures["checkins_per_s"]
            else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", type=int, default=20_000, help="check-ins (= delegates) to send (default 20000)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=0,
        help="stop each phase after this long, even before --n (default: no limit)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight (default 32)"
    )
    parser.add_argument(
        "--baseline-n",
        type=int,
        default=2_000,
        help="check-ins of the baseline, one after another (default 2000, at most --n)",
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="untimed check-ins first (default: 2 x C)"
    )
    parser.add_argument(
        "--badges", type=int, default=10_000, help="badges rendered to PDF (default 10000; 0 skips)"
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run the server under `py-spy record` into FILE (.svg: a flame graph, else raw)",
    )
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else 2 * args.concurrency
    figures = asyncio.run(
        measure(args.n, args.concurrency, args.seconds, warmup, args.baseline_n, args.profile)
    )
    figures |= measure_badges(args.badges)
    lines = [
        f"{figures['checkins']} check-ins over HTTP, {figures['concurrency']} in flight: "
        f"{figures['checkins_per_s']}/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"{figures['errors']} errors",
        f"baseline, the service call with no server: {figures['baseline_per_s']}/s "
        f"(p50 {figures['baseline_p50_ms']} ms); server / baseline x{figures['ratio_to_baseline']}",
    ]
    if figures.get("badges_per_s") is not None:
        lines.append(
            f"{figures['badges']} badges to PDF in {figures['badges_seconds']} s: "
            f"{figures['badges_per_s']}/s (one document per badge: "
            f"{figures['badges_baseline_per_s']}/s)"
        )
    report(figures, *lines)


if __name__ == "__main__":
    main()
