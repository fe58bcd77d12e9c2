"""What the benchmarks share: the project on the import path, the `plenary` command run to
completion, a server started, awaited and stopped, sample Vietnamese names, the delegates'
badges and the closing report.

Importing it puts the project's root on ``sys.path``, so that a script run as
``python bench/<script>.py`` can import the packages after it. The tests that drive a real
server (tests/server/test_checkin_crash.py) import it as ``bench.common``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLE = ("Thị", "Văn", "Quốc", "Ngọc", "Thanh", "Hữu", "Minh", "Thùy")
GIVEN = ("Hằng", "Việt", "Ẩn", "Dũng", "Hương", "Quý", "Phượng", "Tuấn", "Yến", "Đức")
PASSWORD = "benchmark password"
TITLES = ("Chánh Văn phòng", "Phó Chánh Văn phòng", "Chuyên viên", "Trưởng phòng Tổng hợp")


def sample_name(k: int) -> str:
    """The k-th of 800 full names, with the stacked diacritics documents must print."""
    return f"{SURNAMES[k % 10]} {MIDDLE[k // 10 % 8]} {GIVEN[k // 80 % 10]}"


def sample_title(k: int) -> str:
    """The k-th person's post."""
    return TITLES[k % len(TITLES)]


@contextmanager
def warm_pool(new_pool: Callable[[int], Any], workers: int) -> Iterator[tuple[Any, float]]:
    """A document pool (from new_pool) with every worker started, and the seconds that took;
    shut down on leaving."""
    started = time.perf_counter()
    pool = new_pool(workers)
    try:
        # Spawned workers start on demand: keep each busy a moment so that all of them start.
        futures = [pool.submit(time.sleep, 0.5) for _ in range(workers)]
        for future in futures:
            future.result()
        yield pool, time.perf_counter() - started
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def used_cpu_seconds() -> float:
    """The CPU time of this process and of its ended children (a pool's workers) so far."""
    used = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(u.ru_utime + u.ru_stime for u in used)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plenary(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def set_up(env: dict[str, str]) -> None:
    """Migrate the database env names and add the organizer `bench` (password PASSWORD)."""
    plenary("migrate", env=env)
    plenary(
        "user", "add", "bench", "--can-create", "--password-stdin", env=env, stdin=PASSWORD + "\n"
    )


def serve(
    env: dict[str, str], *, stderr: int | IO[bytes], prefix: Sequence[str] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """`plenary serve` on a free local port (prefix: a profiler to run it under), and its URL."""
    port = free_port()
    server = subprocess.Popen(
        [*prefix, sys.executable, "-m", "cli", "serve", "--local", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd=ROOT,
    )
    return server, f"http://127.0.0.1:{port}"


def stop_server(server: subprocess.Popen[bytes], grace: float = 30) -> None:
    """Ask a server to stop, and kill it when it has not within grace seconds."""
    server.terminate()
    try:
        server.wait(grace)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def tail(log: Path) -> str:
    """The end of a server's log."""
    return log.read_text(errors="replace")[-3000:]


async def wait_until_up(
    base: str, server: subprocess.Popen[bytes], *, tries: int, log: Path | None = None
) -> None:
    """Return once the server at base answers /healthz; RuntimeError if it exits or never does."""
    async with aiohttp.ClientSession() as http:
        for _ in range(tries):
            if server.poll() is not None:
                raise RuntimeError("the server exited" + (f":\n{tail(log)}" if log else ""))
            try:
                async with http.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the server did not start")


async def delegate_badges(session: Any, conference: Any) -> list[tuple[str, str]]:
    """Each delegate of conference (a conference.models.Conference), in the order they were
    added: their public id and their badge's code."""
    from sqlmodel import col, select

    from attendance.credentials import credential_for
    from attendance.models import Delegate
    from conference.signing import load_keyring

    ring = await load_keyring(session)
    ids = await session.exec(
        select(Delegate.public_id)
        .where(col(Delegate.conference_id) == conference.id)
        .order_by(col(Delegate.id))
    )
    cid, ends_on = conference.public_id, conference.ends_on
    return [(did, credential_for(ring, cid, ends_on, did, 1, 7)) for did in ids]


def report(figures: dict[str, Any], *lines: str) -> None:
    """Print the summary lines, then the figures as the one JSON object of the last line."""
    for line in lines:
        print(line)
    print(json.dumps(figures))
