"""The scheduler: APScheduler with its jobs in the database, one per deployment.

One process is elected (PostgreSQL: a session-level advisory lock held on a connection
for the process's life; SQLite: the one process). It keeps the job store in step with
the database: once when elected, after each event that can move a job (seen through
the hub, from this process or from a peer through Redis), after each job run, and in a
sweep every ``scheduler_sweep_seconds``. The others try to take over every
``scheduler_poll_seconds``; when the holder dies its lock goes with its connection.

The scheduler is APScheduler's BackgroundScheduler: its own thread reads and writes the
job store with a synchronous engine. On the event loop, a job-store write on SQLite
could wait for the file's write lock held by a transaction that needs the loop to
commit; in a thread it just waits its turn. The jobs themselves (agenda/jobs.py) run
on the event loop, each in one transaction, through :class:`LoopExecutor`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sys
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from agenda import events as agenda_events
from agenda import jobs as agenda_jobs
from conference.db import Database
from conference.dbtypes import utcnow
from conference.live import Event
from runtime.background import cancelling, stop_task
from runtime.config import Config

# APScheduler's job store table, in the layout its SQLAlchemyJobStore builds: described
# here so that migrations create it (server/schema.py) and the schema check covers it.
SCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

log = logging.getLogger("plenary.scheduler")
# How soon the scheduler's thread looks again when the database did not answer.
RETRY_SECONDS = 5.0

# The advisory lock that elects the scheduler ("plenary"); locks are per database.
LOCK_KEY = 0x706C656E617279
# Events after which a conference's jobs may differ.
WATCHED = frozenset(
    event.name
    for event in (
        agenda_events.AGENDA_LIVE,
        agenda_events.SPEAKERS_UPDATED,
        agenda_events.ITEM_CREATED,
        agenda_events.ITEM_UPDATED,
        agenda_events.ITEM_DELETED,
        agenda_events.REORDERED,
    )
)
# Seconds a stopping server waits for jobs under way.
DRAIN_SECONDS = 10.0


def job_store_url(url: str) -> str:
    """The synchronous driver's URL for the database of url (the job store's engine)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        parsed = parsed.set(drivername="sqlite")
    elif parsed.drivername.startswith(("postgresql", "postgres")):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def job_store_engine(url: str) -> sa.Engine:
    sync_url = job_store_url(url)
    if sync_url.startswith("sqlite"):
        return sa.create_engine(sync_url, connect_args={"timeout": 30})
    return sa.create_engine(sync_url, pool_pre_ping=True, pool_size=2, max_overflow=2)


class MigratedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """The SQLAlchemy job store on the table `plenary migrate` made: it creates nothing.

    Its engine is disposed by its owner once the scheduler's thread has ended: that
    thread looks for due jobs once more after the scheduler shut its stores down.
    """

    def start(self, scheduler: Any, alias: str) -> None:
        BaseJobStore.start(self, scheduler, alias)

    def shutdown(self) -> None:
        pass

    def get_next_run_time(self) -> datetime | None:
        # Outside APScheduler's own error handling: an error here would end the
        # scheduler's thread for good (the database restarting, or gone at shutdown).
        try:
            found: datetime | None = super().get_next_run_time()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("the scheduler cannot read its jobs (%s); trying again soon", exc)
            return datetime.now(UTC) + timedelta(seconds=RETRY_SECONDS)
        return found


class LoopExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs each job on the server's event loop as fn(session, *args) in one transaction."""

    def __init__(self, loop: asyncio.AbstractEventLoop, db: Database, ran: Any) -> None:
        super().__init__()
        self._loop = loop
        self._db = db
        self._ran = ran
        self._futures: set[concurrent.futures.Future[list[JobExecutionEvent]]] = set()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        # Called from the scheduler's thread.
        future = asyncio.run_coroutine_threadsafe(self._run(job, run_times), self._loop)
        self._futures.add(future)

        def finished(f: concurrent.futures.Future[list[JobExecutionEvent]]) -> None:
            self._futures.discard(f)
            try:
                events = f.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        future.add_done_callback(finished)

    async def _run(self, job: Job, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events = []
        alias = job._jobstore_alias
        for run_time in run_times:
            late = datetime.now(UTC) - run_time
            if job.misfire_grace_time is not None and late > timedelta(
                seconds=job.misfire_grace_time
            ):
                log.warning("job %s missed its time by %s", job.id, late)
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
                continue
            try:
                async with self._db.transaction() as session:
                    result = await job.func(session, *job.args, **job.kwargs)
            except Exception as exc:
                log.exception("job %s failed", job.id)
                events.append(
                    JobExecutionEvent(
                        EVENT_JOB_ERROR,
                        job.id,
                        alias,
                        run_time,
                        exception=exc,
                        traceback=traceback.format_exc(),
                    )
                )
            else:
                log.info("job %s ran (%s)", job.id, "announced" if result else "nothing to do")
                events.append(
                    JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time, retval=result)
                )
                # The job's conference: its jobs are planned again (a job that came too
                # early is put back; the one that ran is done).
                self._ran(job.args[0])
        return events

    async def drain(self, seconds: float) -> None:
        """Wait (a few seconds at most) for the jobs under way."""
        pending = [asyncio.wrap_future(f) for f in list(self._futures)]
        if pending:
            await asyncio.wait(pending, timeout=seconds)


class LostLock(Exception):
    """The connection holding the scheduler's advisory lock is gone."""


class SchedulerRunner:
    """Campaigns for the scheduler, and while elected keeps the job store in step."""

    def __init__(self, config: Config, db: Database) -> None:
        self.config = config
        self.db = db
        self.elected = False
        self.scheduler: BackgroundScheduler | None = None
        self._lock_conn: AsyncConnection | None = None
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._threads: set[asyncio.Future[Any]] = set()

    def start(self) -> None:
        self.db.hub.add_watcher(self._watch)
        self._task = asyncio.create_task(self._main(), name="plenary-scheduler")

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None
        await self._release()

    def _watch(self, event: Event) -> None:
        if self.elected and event.type in WATCHED:
            self._mark(event.conference_id)

    def _mark(self, conference_id: int) -> None:
        self._dirty.add(conference_id)
        self._wake.set()

    async def _main(self) -> None:
        poll = self.config.scheduler_poll_seconds
        failing = False
        while True:
            try:
                if await self._campaign():
                    log.info("this process runs the scheduler")
                    await self._lead()
                else:
                    await asyncio.sleep(poll)
                failing = False
            except LostLock:
                if cancelling():
                    raise asyncio.CancelledError from None
                log.warning("the scheduler's lock was lost: standing by")
                await self._release()
            except Exception:
                if cancelling():  # a cancellation the database driver turned into an error
                    raise asyncio.CancelledError from None
                if not failing:
                    log.warning("the scheduler stopped; trying again", exc_info=True)
                failing = True
                await self._release()
                await asyncio.sleep(poll)

    async def _campaign(self) -> bool:
        """Whether this process may run the scheduler (takes the lock on PostgreSQL)."""
        if self.db.dialect != "postgresql":
            return True
        if self._lock_conn is None:
            conn = await self.db.engine.connect()
            self._lock_conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        won = await self._lock_conn.scalar(
            sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
        )
        return bool(won)

    async def _check_lock(self) -> None:
        if self._lock_conn is None:
            return
        try:
            await self._lock_conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            raise LostLock from exc

    async def _release(self) -> None:
        """Give the lock back and drop its connection (a pooled one would keep the lock)."""
        conn, self._lock_conn = self._lock_conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        with contextlib.suppress(Exception):
            await conn.invalidate()
        with contextlib.suppress(Exception):
            await conn.close()

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        """fn(*args) in a thread (the job store is synchronous); a stop waits for it."""
        future = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        self._threads.add(future)
        future.add_done_callback(self._threads.discard)
        return await asyncio.shield(future)

    def _new_scheduler(self, engine: sa.Engine) -> tuple[BackgroundScheduler, LoopExecutor]:
        loop = asyncio.get_running_loop()
        executor = LoopExecutor(loop, self.db, self._ran_on_loop(loop))
        store = MigratedJobStore(engine=engine, tablename=SCHEDULER_JOBS.name)
        scheduler = BackgroundScheduler(
            jobstores={"default": store},
            executors={"default": executor},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                # A job due while no scheduler ran still runs once; the job itself
                # decides whether what it announces still holds.
                "misfire_grace_time": None,
            },
            timezone=UTC,
        )
        return scheduler, executor

    def _ran_on_loop(self, loop: asyncio.AbstractEventLoop) -> Any:
        def ran(conference_id: int) -> None:
            loop.call_soon_threadsafe(self._mark, conference_id)

        return ran

    async def _lead(self) -> None:
        engine = job_store_engine(self.db.url)
        scheduler, executor = self._new_scheduler(engine)
        loop = asyncio.get_running_loop()
        try:
            await self._in_thread(lambda: scheduler.start(paused=True))
            self.scheduler = scheduler
            self.elected = True
            self._dirty.clear()
            await self._reconcile_all()
            scheduler.resume()
            poll = self.config.scheduler_poll_seconds
            sweep = self.config.scheduler_sweep_seconds
            next_check, next_sweep = loop.time() + poll, loop.time() + sweep
            while True:
                timeout = max(0.0, min(next_check, next_sweep) - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                self._wake.clear()
                if loop.time() >= next_check:
                    await self._check_lock()
                    next_check = loop.time() + poll
                if loop.time() >= next_sweep:
                    self._dirty.clear()
                    await self._reconcile_all()
                    next_sweep = loop.time() + sweep
                dirty, self._dirty = self._dirty, set()
                for conference_id in sorted(dirty):
                    await self.reconcile(conference_id)
        finally:
            self.elected = False
            self.scheduler = None
            # The job store's engine goes with the scheduler: let its users finish first.
            if self._threads:
                await asyncio.wait(set(self._threads), timeout=DRAIN_SECONDS)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(scheduler.shutdown, False)
            await asyncio.to_thread(engine.dispose)
            await executor.drain(DRAIN_SECONDS)

    async def _reconcile_all(self) -> None:
        scheduler = self.scheduler
        assert scheduler is not None
        async with self.db.read() as session:
            wanted = await agenda_jobs.live_conferences(session)
        stored = await self._in_thread(scheduler.get_jobs)
        wanted.update(job.args[0] for job in stored if job.args)
        for conference_id in sorted(wanted):
            await self.reconcile(conference_id)

    async def reconcile(self, conference_id: int) -> None:
        """Add, replace and remove the conference's jobs to match the database."""
        scheduler = self.scheduler
        if scheduler is None:
            return
        async with self.db.read() as session:
            wanted = await agenda_jobs.planned_jobs(
                session, conference_id, reminder_minutes=self.config.reminder_minutes, now=utcnow()
            )
        await self._in_thread(_apply, scheduler, conference_id, wanted)


def _apply(
    scheduler: BackgroundScheduler, conference_id: int, wanted: dict[str, agenda_jobs.PlannedJob]
) -> None:
    """Make the stored jobs of a conference those wanted (in a thread: the store is sync)."""
    have = {job.id: job for job in scheduler.get_jobs() if job.args[:1] == (conference_id,)}
    for job_id in have.keys() - wanted.keys():
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(job_id)
    for job_id, plan in wanted.items():
        job = have.get(job_id)
        if job is not None and job.func_ref == plan.func and tuple(job.args) == plan.args:
            continue
        scheduler.add_job(
            plan.func,
            "date",
            run_date=plan.run_at,
            args=plan.args,
            id=job_id,
            name=job_id,
            replace_existing=True,
        )
