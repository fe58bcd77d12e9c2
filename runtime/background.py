"""Stopping the app's background tasks for sure.

One `task.cancel()` is a request, not a guarantee: a cancellation can be swallowed on its
way (a database driver turning it into an error that the task's retry loop then catches,
seen with the scheduler's lock connection on PostgreSQL), and a shutdown that awaits such
a task waits for ever. `stop_task` cancels again until the task has ended, and loops that
retry on errors ask `cancelling()` before they do. `Outage` is how such a loop says
once, not every round, that it cannot reach the database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
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


@dataclass
class Outage:
    """A retrying loop's lost database, logged once when lost and (if back says so) once back."""

    log: logging.Logger
    lost: str
    back: str = ""
    away: bool = False

    def failed(self) -> None:
        """Note a failed round; only the first of a run is logged, with its traceback."""
        if not self.away:
            self.log.warning(self.lost, exc_info=True)
        self.away = True

    def succeeded(self) -> None:
        """Note a round that reached the database."""
        if self.away and self.back:
            self.log.info(self.back)
        self.away = False
