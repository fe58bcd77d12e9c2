"""The parse pool: the threads that read uploaded files, apart from password hashing.

Reading a conference file or a spreadsheet is seconds of pure computation. Password
hashing (Argon2, :mod:`conference.accounts`) runs in the event loop's default executor,
a handful of threads: uploads read there could hold every one of them and stall each
login behind them. Uploads are read in this pool instead, a few threads of its own
(`PLENARY_PARSE_WORKERS`); more uploads at once wait their turn here, not in the
default executor. Each reader bounds its own work (size, rows, cells, time).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiohttp import web

from server.keys import config_key, parse_pool_key

T = TypeVar("T")


async def parse_pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the parse pool with the app; stop it (after the readers in it end) on cleanup."""
    pool = ThreadPoolExecutor(
        max_workers=app[config_key].parse_workers, thread_name_prefix="plenary-parse"
    )
    app[parse_pool_key] = pool
    yield
    await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


async def in_parse_pool(app: web.Application, fn: Callable[..., T], *args: object) -> T:
    """fn(*args) in the parse pool, off the event loop and off the default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(app[parse_pool_key], fn, *args)
