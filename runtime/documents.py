"""The document runner: a process pool that renders PDFs and a task that works the job queue.

The pool (``spawn``, ``config.document_workers`` processes) starts on first use, so a
server that never prints pays nothing for it. One task takes queued jobs, renders them
chunk by chunk in the pool, reports progress, beats the job's heartbeat and stores the
file. On start and every :data:`SWEEP_SECONDS` it queues again the jobs a dead process
left running and removes finished jobs older than ``config.document_keep_days``
(DESIGN.md section 8, conference/jobs.py). Stopping cleanly puts the job in hand back
in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

from attendance import badges
from awards import documents as award_documents
from awards import render as award_render
from conference import documents, jobs
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import PlenaryError
from conference.models import Conference, DocumentJob
from conference.signing import Keyring
from runtime.background import Outage, stop_task
from runtime.config import Config

log = logging.getLogger("plenary.documents")

T = TypeVar("T")
# How often an idle runner looks for jobs queued by another server process.
POLL_SECONDS = 5.0
# How often the runner requeues orphaned jobs and removes old ones.
SWEEP_SECONDS = 60.0
# How often the job being rendered shows its renderer is alive (< jobs.STALE_SECONDS).
HEARTBEAT_SECONDS = 20.0


def _log_missing(rendered: documents.Rendered, what: str) -> None:
    if rendered.missing:
        listed = ", ".join(f"U+{ord(ch):04X}" for ch in rendered.missing)
        log.warning("%s: no installed font has %s (printed as empty boxes)", what, listed)


class JobFailed(Exception):
    """A job that cannot be rendered, with the reason its orderer sees."""


class DocumentRunner:
    """Renders documents in a lazily started process pool; works the queue in one task."""

    def __init__(
        self,
        db: Database,
        keyring: Callable[[], Awaitable[Keyring]],
        config: Config,
        *,
        pool: Executor | None = None,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.config = config
        self.workers = max(1, config.document_workers)
        self._pool = pool
        self._owns_pool = pool is None
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[Any]] = set()
        self.poll_seconds = POLL_SECONDS
        self.sweep_seconds = SWEEP_SECONDS
        self.heartbeat_seconds = HEARTBEAT_SECONDS
        self.finished = 0

    def pool(self) -> Executor:
        if self._pool is None:
            self._pool = documents.new_pool(self.workers, memory_mb=self.config.document_memory_mb)
        return self._pool

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="plenary-documents")

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        """Stop taking jobs; one cut short stays running in the database and is redone."""
        self._stopping = True
        await stop_task(self._task)
        if self._writes:
            finished, _ = await asyncio.wait(set(self._writes), timeout=30)
            for task in finished:
                if not task.cancelled() and task.exception() is not None:
                    log.warning("document job bookkeeping failed", exc_info=task.exception())
        if self._pool is not None and self._owns_pool:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def render_now(self, template: str, context: documents.Context) -> documents.Rendered:
        """One small document, rendered in the pool while the caller waits."""
        loop = asyncio.get_running_loop()
        task: documents.RenderTask = {"template": template, "context": context}
        result = await self.in_pool(loop.run_in_executor(self.pool(), documents.render_task, task))
        rendered = documents.Rendered.of(result)
        _log_missing(rendered, template)
        return rendered

    async def in_pool(self, work: Awaitable[T]) -> T:
        """work's result. A worker killed at its deadline or lost is replaced by the pool
        itself (conference/pool.py): only that document fails, the pool goes on."""
        return await work

    async def _db(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Database work that runs to its end even if the runner is cancelled meanwhile."""
        task = asyncio.create_task(work())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return await asyncio.shield(task)

    # --- the queue -----------------------------------------------------------------------

    async def _sweep(self) -> None:
        async with self.db.transaction() as session:
            found = await jobs.requeue_unfinished(session)
            purged = await jobs.purge_finished(session, keep_days=self.config.document_keep_days)
        if found:
            log.info("queued again %d document job(s) left unfinished", len(found))
        if purged:
            log.info("removed %d finished document job(s) past their keeping time", purged)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        outage = Outage(
            log,
            "the document runner cannot reach the database",
            "the document runner reaches the database again",
        )
        while not self._stopping:
            try:
                # First the jobs a dead process left running; only then take any.
                if loop.time() >= next_sweep:
                    await self._db(self._sweep)
                    next_sweep = loop.time() + self.sweep_seconds
                self._wake.clear()
                job = await self._db(self._claim)
                outage.succeeded()
                if job is not None:
                    await self._process(job)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database is away (/healthz says so): say it once, try again later.
                outage.failed()
            with contextlib.suppress(TimeoutError):
                wait = max(0.0, min(self.poll_seconds, next_sweep - loop.time()))
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _claim(self) -> DocumentJob | None:
        # Looking is a read: an idle runner takes no write lock every few seconds.
        async with self.db.read() as session:
            if not await jobs.has_queued(session):
                return None
        async with self.db.transaction() as session:
            return await jobs.claim_next(session)

    async def _heartbeat(self, job_id: int) -> None:
        """Show the job's renderer is alive until cancelled (the job is finished)."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)

            async def beat() -> None:
                async with self.db.transaction() as session:
                    await jobs.beat(session, job_id)

            try:
                await self._db(beat)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cannot note document job %s alive", job_id, exc_info=True)

    async def _process(self, job: DocumentJob) -> None:
        assert job.id is not None
        job_id = job.id
        heartbeat = asyncio.create_task(self._heartbeat(job_id), name="plenary-job-heartbeat")
        try:
            rendered, count = await self._render(job)
        except asyncio.CancelledError:
            # Stopping: the job goes back to the queue for this or another process.
            async def release() -> None:
                async with self.db.transaction() as session:
                    await jobs.release(session, job_id)

            with contextlib.suppress(Exception):
                await asyncio.shield(self._db(release))
            raise
        except Exception as exc:
            if isinstance(exc, JobFailed):
                reason = str(exc)
            else:
                log.exception("document job %s (%s) failed", job.public_id, job.kind)
                reason = "the document could not be rendered; see the server log"

            async def fail() -> None:
                async with self.db.transaction() as session:
                    await jobs.fail_job(session, job_id, reason)

            await self._db(fail)
            return
        finally:
            heartbeat.cancel()
        _log_missing(rendered, f"job {job.public_id}")

        async def finish() -> None:
            async with self.db.transaction() as session:
                await jobs.finish_job(session, job_id, rendered.pdf, total=count)

        await self._db(finish)
        self.finished += 1

    async def _progress_of(self, job_id: int) -> documents.Progress:
        """A progress callback noting the job's progress now and then."""
        reported = 0

        async def progress(done: int, total: int) -> None:
            nonlocal reported
            if not jobs.progress_due(total, done, reported):
                return
            reported = done

            async def note() -> None:
                async with self.db.transaction() as session:
                    await jobs.record_progress(session, job_id, done, total)

            await self._db(note)

        return progress

    async def _render_awards(self, job: DocumentJob) -> tuple[documents.Rendered, int]:
        """Every award of a decision (or the conference): a ZIP of one PDF per award and
        the combined print-ready PDF; each award's SHA-256 is recorded."""
        assert job.id is not None

        async def gather() -> award_render.Batch | None:
            async with self.db.read() as session:
                conference = await session.get(Conference, job.conference_id)
                if conference is None:
                    return None
                actor = Actor(CLI, conference.id, frozenset({"organizer"}))
                return await award_render.batch_to_render(
                    session,
                    conference,
                    decision_id=job.params.get("decision"),
                    verify_base=str(job.params.get("verify_base", "")),
                    actor=actor,
                )

        try:
            batch = await self._db(gather)
        except PlenaryError as exc:
            raise JobFailed(exc.message) from None
        if batch is None or not batch.items:
            raise JobFailed("there are no awards to render")
        try:
            pdfs, combined, missing = await self.in_pool(
                award_documents.render_awards(
                    self.pool(),
                    batch.items,
                    workers=self.workers,
                    templates=batch.templates,
                    progress=await self._progress_of(job.id),
                    seconds=self.config.template_seconds,
                )
            )
        except Exception as exc:
            if not batch.templates:
                raise
            # The conference's own templates failed: the organizer is told why.
            raise JobFailed(
                f"the conference's award templates do not render: {type(exc).__name__}: {exc}"
            ) from None
        awards = batch.awards

        async def note() -> None:
            async with self.db.transaction() as session:
                await award_render.record_rendered(session, awards, pdfs)

        await self._db(note)
        archive = award_render.zip_documents(awards, pdfs, combined)
        return documents.Rendered(archive, len(pdfs), missing), len(pdfs)

    async def _render(self, job: DocumentJob) -> tuple[documents.Rendered, int]:
        if job.kind == award_render.KIND:
            return await self._render_awards(job)
        if job.kind != badges.KIND:
            raise JobFailed(f"unknown kind of document: {job.kind}")
        assert job.id is not None
        job_id = job.id
        layout = str(job.params.get("layout", "sheet"))
        if layout not in badges.PER_PAGE:
            raise JobFailed(f"unknown layout: {layout}")

        async def gather() -> tuple[Conference | None, list[badges.BadgeRow]]:
            async with self.db.read() as session:
                conference = await session.get(Conference, job.conference_id)
                if conference is None:
                    return None, []
                site_id = job.params.get("site_id")
                rows = await badges.badge_rows(session, conference, site_id=site_id)
                return conference, rows

        conference, rows = await self._db(gather)
        if conference is None:
            raise JobFailed("the conference is gone")
        if not rows:
            raise JobFailed("there are no delegates to print badges for")
        items = await badges.badge_items(
            await self.keyring(), conference, rows, self.config.credential_valid_days
        )
        progress = await self._progress_of(job_id)
        rendered = await self.in_pool(
            documents.render_in_pool(
                self.pool(),
                badges.TEMPLATE,
                badges.badge_context(conference, layout, []),
                items,
                per_page=badges.PER_PAGE[layout],
                workers=self.workers,
                progress=progress,
            )
        )
        return rendered, len(items)
