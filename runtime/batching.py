"""Group commit for single check-ins: scans arriving together share one transaction.

A scan request is parsed and rate-limited by its handler, then queued here with a
function that finds its conference, site and actor. One writer task takes
everything queued and handles it in one transaction: for each caller, site and
kind of scan it makes one `check_in` call with all their scans (the lookup is
kept a second for the caller's next scans). Every request is answered after the
commit, never before. While it writes, the next scans queue up, so the groups
grow with the load and a lone scan waits for nobody.

When a group fails as a whole (a nonce raced by another process, an error that one
call raises for all its scans), it is rolled back and its scans are handled again
one per transaction, so that one bad scan never fails the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance import checkin
from attendance.scans import Outcome, Scan
from conference.actors import Actor
from conference.db import Database
from conference.errors import PlenaryError
from conference.models import Conference, Site
from conference.signing import Keyring
from runtime.background import stop_task

log = logging.getLogger("plenary.checkin")

# Scans handled in one transaction at most (attendance.scans.MAX_BATCH per call).
MAX_GROUP = 256
# How long a caller's conference, actor and site, once looked up, serve their next scans
# (like a bearer token's lookup, server.auth.TokenCache). A change to a conference's
# settings, a site or a role forgets them at once (server.access_bell); this bound only
# matters to a process that missed the bell.
RESOLVED_SECONDS = 1.0

# Finds (conference, actor, site) of a scan in the writer's transaction; raises
# PlenaryError (not found, forbidden) for the request.
Resolve = Callable[[AsyncSession], Awaitable[tuple[Conference, Actor, Site]]]


@dataclass
class _Job:
    key: tuple[Hashable, ...]
    resolve: Resolve
    scan: Scan
    keyring: Keyring
    method: str
    override: bool
    note: str
    answer: asyncio.Future[Outcome] = field(repr=False)


class CheckinBatcher:
    """The queue of single scans and the task that writes them, a group per transaction."""

    def __init__(self, db: Database, max_group: int = MAX_GROUP) -> None:
        self.db = db
        self.max_group = max_group
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._resolved: dict[Hashable, tuple[float, tuple[Conference, Actor, Site]]] = {}
        self._generation = 0

    def forget(self) -> None:
        """Look every caller up again: their roles or their conference's settings changed."""
        self._generation += 1
        self._resolved.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="checkin-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None:
            return
        if not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=30)
        await stop_task(self._task)
        self._task = None

    async def check_in(
        self,
        key: Hashable,
        resolve: Resolve,
        scan: Scan,
        *,
        keyring: Keyring,
        method: str,
        override: bool = False,
        note: str = "",
    ) -> Outcome:
        """What `attendance.checkin.check_in` answers for this one scan, once committed.

        Scans with equal keys (the same caller, conference and site) share one lookup
        and one `check_in` call.
        """
        if self._task is None or self._task.done():
            raise RuntimeError("the check-in writer is not running")
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        answer.add_done_callback(_retrieved)
        group = (key, method, override, note)
        self._queue.put_nowait(_Job(group, resolve, scan, keyring, method, override, note, answer))
        # The scan is written even if this request goes away meanwhile: the writer holds
        # the job, and a cancelled answer (the request's) is only left unset.
        return await answer

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
                log.exception("check-in group failed")
                for job in jobs:
                    _settle(job, exc)
            finally:
                for _ in jobs:
                    self._queue.task_done()

    async def _write(self, jobs: list[_Job]) -> None:
        groups: dict[tuple[Hashable, ...], list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.key, []).append(job)
        answers: list[tuple[_Job, Outcome | PlenaryError]] = []
        try:
            async with self.db.transaction() as session:
                for members in groups.values():
                    first = members[0]
                    try:
                        conference, actor, site = await self._resolve(session, first)
                    except PlenaryError as exc:
                        answers.extend((job, exc) for job in members)
                        continue
                    outcomes = await checkin.check_in(
                        session,
                        conference,
                        site,
                        [job.scan for job in members],
                        actor=actor,
                        keyring=first.keyring,
                        method=first.method,
                        override=first.override,
                        note=first.note,
                    )
                    answers.extend(zip(members, outcomes, strict=True))
        except Exception as exc:
            self._resolved.clear()  # in case a lookup kept from before is what failed
            if len(jobs) == 1 and not isinstance(exc, IntegrityError):
                _settle(jobs[0], exc)
                return
            # Someone's scan spoiled the group: each again on its own.
            for job in jobs:
                await self._write_one(job)
            return
        for job, outcome in answers:
            _settle(job, outcome)

    async def _resolve(self, session: AsyncSession, job: _Job) -> tuple[Conference, Actor, Site]:
        """The conference, actor and site of job's caller, looked up at most once a
        RESOLVED_SECONDS (what failed is looked up again every time)."""
        caller = job.key[0]
        now = time.monotonic()
        known = self._resolved.get(caller)
        if known is not None and now - known[0] <= RESOLVED_SECONDS:
            return known[1]
        generation = self._generation
        found = await job.resolve(session)
        if generation != self._generation:
            return found  # forgotten meanwhile: this group only, remember nothing
        if len(self._resolved) >= 10_000:
            self._resolved.clear()
        self._resolved[caller] = (now, found)
        return found

    async def _write_one(self, job: _Job) -> None:
        """One scan in its own transaction; a nonce raced by another writer is tried again
        (the second time it finds the first answer in the ledger)."""
        for attempt in range(2):
            try:
                async with self.db.transaction() as session:
                    conference, actor, site = await job.resolve(session)
                    [outcome] = await checkin.check_in(
                        session,
                        conference,
                        site,
                        [job.scan],
                        actor=actor,
                        keyring=job.keyring,
                        method=job.method,
                        override=job.override,
                        note=job.note,
                    )
            except IntegrityError as exc:
                if attempt == 0:
                    continue
                _settle(job, exc)
            except Exception as exc:
                _settle(job, exc)
            else:
                _settle(job, outcome)
            return


def _settle(job: _Job, result: Outcome | BaseException) -> None:
    if job.answer.done():
        return
    if isinstance(result, BaseException):
        job.answer.set_exception(result)
    else:
        job.answer.set_result(result)


def _retrieved(answer: asyncio.Future[Outcome]) -> None:
    """Mark an error as seen: a request that went away leaves nobody to read it."""
    if not answer.cancelled():
        answer.exception()
