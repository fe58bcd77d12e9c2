"""The runtime (runtime/: document jobs, the parse pool, presence, the scheduler, the
check-in writer) started and stopped with the app: each one's key and cleanup context.

The runners know nothing of aiohttp; this module hands them the app's database and
settings, keeps them under typed keys and stops them before the database goes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from aiohttp import web

from runtime.batching import GroupCommit
from runtime.documents import DocumentRunner
from runtime.parsing import WAITING_PER_WORKER, ParsePool
from runtime.presence import PresenceRunner
from runtime.scheduler import SchedulerRunner
from server.keys import config_key, db_key
from server.signing import ready_keyring

T = TypeVar("T")

# Renders PDFs in a process pool and works the document job queue.
documents_key = web.AppKey("documents_key", DocumentRunner)
# A pool lent to the app (tests, benchmarks): used, never shut down by it.
lent_pool_key = web.AppKey("lent_pool_key", Executor)
# The threads that read uploaded files, apart from password hashing.
parse_pool_key = web.AppKey("parse_pool_key", ParsePool)
presence_key = web.AppKey("presence_key", PresenceRunner)
# The timed work; None when PLENARY_SCHEDULER is off.
scheduler_key: web.AppKey[SchedulerRunner | None] = web.AppKey("scheduler_key")
group_commit_key = web.AppKey("group_commit_key", GroupCommit)


def document_runner(request: web.Request) -> DocumentRunner:
    return request.app[documents_key]


async def documents_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the document runner after the database; stop it (and its pool) before."""
    runner = DocumentRunner(
        app[db_key], partial(ready_keyring, app), app[config_key], pool=app.get(lent_pool_key)
    )
    app[documents_key] = runner
    runner.start()
    yield
    await runner.close()


async def parse_pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the parse pool with the app; stop it (after the readers in it end) on cleanup."""
    workers = app[config_key].parse_workers
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plenary-parse")
    app[parse_pool_key] = ParsePool(executor, limit=workers * (1 + WAITING_PER_WORKER))
    yield
    await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)


async def in_parse_pool(app: web.Application, fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in the app's parse pool, off the event loop and off the default executor."""
    return await app[parse_pool_key].run(fn, *args)


async def presence_ctx(app: web.Application) -> AsyncIterator[None]:
    runner = PresenceRunner(app[db_key], app[config_key].presence_timeout_seconds)
    app[presence_key] = runner
    runner.start()
    yield
    await runner.close()


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[config_key]
    if not config.scheduler:
        app[scheduler_key] = None
        yield
        return
    runner = SchedulerRunner(config, app[db_key])
    app[scheduler_key] = runner
    runner.start()
    yield
    await runner.close()


async def group_commit_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the app's group writer (single scans) while the app runs (after the database)."""
    writer = GroupCommit(app[db_key])
    writer.start()
    app[group_commit_key] = writer
    yield
    await writer.stop()
