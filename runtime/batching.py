"""Group commit: writes that arrive together share one transaction.

A request hands :meth:`GroupCommit.submit` one item and the function that writes a
list of such items (the scans of one caller at one site go to
``attendance.checkin.check_in`` together). One writer task takes everything queued and
writes it in one transaction: the items with equal keys in one call of the first one's
function. Every request is answered after the commit, never before. While it writes,
the next items queue up, so the groups grow with the load and a lone item waits for
nobody.

When the transaction fails as a whole (a unique key raced by another process, an error
that one call raises for all its items), it is rolled back and its items are written
again one per transaction, so that one bad item never fails the others.

What a group's function looks up about its caller (conference, roles, site) may be kept
a moment with :meth:`GroupCommit.kept`, like a bearer token's lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.db import Database
from conference.errors import PlenaryError
from runtime.background import stop_task

log = logging.getLogger("plenary.checkin")

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")

# Items written in one transaction at most (attendance.scans.MAX_BATCH per check-in call).
MAX_GROUP = 256
# How long a lookup kept with `kept` serves the next groups of its key. A change to a
# conference's settings, a site or a role forgets them at once (server.access_bell); this
# bound only matters to a process that missed the bell.
KEPT_SECONDS = 1.0

# Writes the items of one group in the writer's transaction: one answer per item, in
# order; an error in the list answers that item's request (a refusal of the caller).
Write = Callable[[AsyncSession, list[T]], Awaitable[Sequence[R | PlenaryError]]]


@dataclass
class _Job(Generic[T, R]):
    key: Hashable
    item: T
    write: Write[T, R]
    answer: asyncio.Future[R] = field(repr=False)


class GroupCommit:
    """The queue of single writes and the task that writes them, a group per call."""

    def __init__(self, db: Database, max_group: int = MAX_GROUP) -> None:
        self.db = db
        self.max_group = max_group
        self._queue: asyncio.Queue[_Job[Any, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._kept: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0

    def forget(self) -> None:
        """Look every caller up again: their roles or their conference's settings changed."""
        self._generation += 1
        self._kept.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None:
            return
        if not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=30)
        await stop_task(self._task)
        self._task = None

    async def submit(self, key: Hashable, item: T, write: Write[T, R]) -> R:
        """What write answers for item, once committed.

        Items with equal keys are written by one call of the first one's write, so
        equal keys must mean interchangeable functions (the same caller, site, options);
        a key starts with the name of its kind of write (e.g. "checkin"), so that two
        kinds never share a group.
        """
        if self._task is None or self._task.done():
            raise RuntimeError("the group writer is not running")
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        answer.add_done_callback(_retrieved)
        self._queue.put_nowait(_Job(key, item, write, answer))
        # The item is written even if this request goes away meanwhile: the writer holds
        # the job, and a cancelled answer (the request's) is only left unset.
        return await answer

    async def kept(
        self, key: Hashable, session: AsyncSession, look_up: Callable[[AsyncSession], Awaitable[V]]
    ) -> V:
        """What look_up finds for key, looked up at most once a KEPT_SECONDS (what failed
        is looked up again every time). The key names what look_up checks (e.g. "checkin"
        and the caller): a lookup admitted for one route must not serve another."""
        now = time.monotonic()
        known = self._kept.get(key)
        if known is not None and now - known[0] <= KEPT_SECONDS:
            found: V = known[1]
            return found
        generation = self._generation
        found = await look_up(session)
        if generation != self._generation:
            return found  # forgotten meanwhile: this group only, remember nothing
        if len(self._kept) >= 10_000:
            self._kept.clear()
        self._kept[key] = (now, found)
        return found

    async def _run(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            # Let the requests already read from their sockets queue up behind this one.
            await asyncio.sleep(0)
            while len(jobs) < self.max_group and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                await self._write(jobs)
            except Exception as exc:  # never leave a request waiting
                log.exception("group write failed")
                for job in jobs:
                    _settle(job, exc)
            finally:
                for _ in jobs:
                    self._queue.task_done()

    async def _write(self, jobs: list[_Job[Any, Any]]) -> None:
        groups: dict[Hashable, list[_Job[Any, Any]]] = {}
        for job in jobs:
            groups.setdefault(job.key, []).append(job)
        answers: list[tuple[_Job[Any, Any], Any]] = []
        try:
            async with self.db.transaction() as session:
                for members in groups.values():
                    results = await members[0].write(session, [job.item for job in members])
                    answers.extend(zip(members, results, strict=True))
        except Exception as exc:
            # Lookups made in the rolled-back session are expired and detached (and one kept
            # from before may be what failed): look everyone up again.
            self._kept.clear()
            if len(jobs) == 1 and not isinstance(exc, IntegrityError):
                _settle(jobs[0], exc)
                return
            # Someone's item spoiled the transaction: each again on its own.
            for job in jobs:
                await self._write_one(job)
            return
        for job, result in answers:
            _settle(job, result)

    async def _write_one(self, job: _Job[Any, Any]) -> None:
        """One item in its own transaction; a unique key raced by another writer is tried
        again (the second time the item finds the first one's row)."""
        for attempt in range(2):
            try:
                async with self.db.transaction() as session:
                    [result] = await job.write(session, [job.item])
            except IntegrityError as exc:
                # What was looked up in the rolled-back session is expired and detached.
                self._kept.clear()
                if attempt == 0:
                    continue
                _settle(job, exc)
            except Exception as exc:
                self._kept.clear()
                _settle(job, exc)
            else:
                _settle(job, result)
            return


def _settle(job: _Job[Any, Any], result: Any) -> None:
    if job.answer.done():
        return
    if isinstance(result, BaseException):
        job.answer.set_exception(result)
    else:
        job.answer.set_result(result)


def _retrieved(answer: asyncio.Future[Any]) -> None:
    """Mark an error as seen: a request that went away leaves nobody to read it."""
    if not answer.cancelled():
        answer.exception()
