"""The parse pool: the threads that read uploaded files, apart from password hashing.

Reading a conference file or a spreadsheet is seconds of pure computation. Password
hashing (Argon2, :mod:`conference.accounts`) runs in the event loop's default executor,
a handful of threads: uploads read there could hold every one of them and stall each
login behind them. Uploads are read in this pool instead, a few threads of its own
(`PLENARY_PARSE_WORKERS`). Each reader bounds its own work (size, rows, cells, time),
and the pool bounds how many files wait: past WAITING_PER_WORKER per thread, a new
upload is refused at once (429 with Retry-After) rather than held in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from conference.errors import RateLimited

T = TypeVar("T")
WAITING_PER_WORKER = 4
RETRY_SECONDS = 5.0


@dataclass
class ParsePool:
    """A thread pool that refuses work past limit files being read or waiting."""

    executor: ThreadPoolExecutor
    limit: int
    # Files being read or waiting; a file stops counting when its reading ends, even if
    # the request that sent it has gone.
    busy: int = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in the pool, or RateLimited when limit files are already in it."""
        if self.busy >= self.limit:
            raise RateLimited(
                f"the server is reading {self.limit} files already: "
                f"send this one again in {RETRY_SECONDS:g} seconds",
                retry_after=RETRY_SECONDS,
            )
        loop = asyncio.get_running_loop()
        self.busy += 1
        future: Future[T] = self.executor.submit(fn, *args)
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        self.busy -= 1
