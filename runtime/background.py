"""Stopping the app's background tasks for sure.

One `task.cancel()` is a request, not a guarantee: a cancellation can be swallowed on its
way (a database driver turning it into an error that the task's retry loop then catches,
seen with the scheduler's lock connection on PostgreSQL), and a shutdown that awaits such
a task waits for ever. `stop_task` cancels again until the task has ended, and loops that
retry on errors ask `cancelling()` before they do.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("plenary.background")

# How long to wait for a cancelled task before cancelling it again.
RECANCEL_SECONDS = 1.0


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel task and return once it has ended, cancelling again while it runs on."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
    if not task.cancelled() and task.exception() is not None:
        log.warning("%s ended with an error", task.get_name(), exc_info=task.exception())


def cancelling() -> bool:
    """Whether the running task was asked to stop (an error caught now may be that
    request in disguise: the loop must end, not retry)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
