"""Documents made in the background: the jobs, their progress and the files they produce.

A job goes ``queued -> running -> done | failed``. Whoever renders it (the server's
document runner) claims it, reports progress as it goes and stores the file with its
SHA-256. The process rendering a job beats its heartbeat (:func:`beat`); a running job
whose heartbeat is older than :data:`STALE_SECONDS` was left by a process that died and
is queued again (:func:`requeue_unfinished`) by any runner, while a job another live
process is rendering is left alone. A runner that stops cleanly puts its job back in
the queue (:func:`release`). Finished jobs and their files are removed after the
configured number of days (:func:`purge_finished`).

Every change of a job appends a ``document/updated`` live event {id, kind, status, done,
total, site} in the same transaction; progress is reported at most
:data:`PROGRESS_STEPS` times per job.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.actors import STAFF_ROLES, Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, NotFound
from conference.events import DOCUMENT_UPDATED, DocumentProgress
from conference.live import append_event
from conference.models import Conference, DocumentFile, DocumentJob
from conference.queries import conference_row
from conference.rawjson import JsonObject
from conference.text import is_public_id

STATUSES = ("queued", "running", "done", "failed")
UNFINISHED = ("queued", "running")
# Progress events per job at most (besides queued, running, done or failed).
PROGRESS_STEPS = 16
# Who may see jobs: the staff, and a site operator the jobs of their own site.
VIEW_ROLES = (*sorted(STAFF_ROLES), "site_operator")
# Jobs whose documents carry delegates' credentials (a badge's QR checks its holder in):
# only organizers and the operator of the job's site see them, never the chair or the
# secretary, who have no badges to print.
CREDENTIAL_KINDS = frozenset({"badges"})
MAX_ERROR = 1000
# A running job whose renderer has not beaten for this long is taken to be orphaned.
STALE_SECONDS = 90


def job_data(job: DocumentJob) -> DocumentProgress:
    """The live event's data: enough for a page to show a progress bar."""
    return {
        "id": job.public_id,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "site": job.params.get("site"),
    }


async def _announce(session: AsyncSession, job: DocumentJob) -> None:
    await append_event(session, job.conference_id, DOCUMENT_UPDATED, job_data(job))


async def create_job(
    session: AsyncSession,
    conference: Conference,
    kind: str,
    *,
    params: JsonObject,
    total: int,
    filename: str,
    actor: Actor,
    content_type: str = "application/pdf",
) -> DocumentJob:
    """Queue a document. params["site_id"] (and "site", its code) scope it to one site.

    The caller has checked that actor may order this document.
    """
    assert conference.id is not None
    job = DocumentJob(
        conference_id=conference.id,
        kind=kind,
        params=params,
        total=total,
        filename=filename,
        content_type=content_type,
        created_by=actor.name[:200],
    )
    session.add(job)
    await session.flush()
    changes = {k: v for k, v in params.items() if k != "site_id"} | {"total": total}
    await record(session, actor, "document.create", kind, job.public_id, changes)
    await _announce(session, job)
    return job


async def claim_next(session: AsyncSession) -> DocumentJob | None:
    """Take the oldest queued job (of any conference) and mark it running; None if none.

    With several processes on PostgreSQL, SKIP LOCKED lets each take a different one.
    """
    query = (
        select(DocumentJob)
        .where(col(DocumentJob.status) == "queued")
        .order_by(col(DocumentJob.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    job = (await session.exec(query)).first()
    if job is None:
        return None
    claimed = await session.exec(
        update(DocumentJob)
        .where(col(DocumentJob.id) == job.id, col(DocumentJob.status) == "queued")
        .values(status="running", done=0, heartbeat_at=utcnow())
        .returning(col(DocumentJob.id))
        .execution_options(synchronize_session=False)
    )
    if claimed.first() is None:
        return None
    await session.refresh(job)
    await _announce(session, job)
    return job


async def _locked(session: AsyncSession, job_id: int) -> DocumentJob | None:
    """The job, its row locked for this transaction (another process may finish it too)."""
    query = select(DocumentJob).where(col(DocumentJob.id) == job_id).with_for_update()
    return (await session.exec(query)).first()


def progress_due(total: int, done: int, reported: int) -> bool:
    """Whether done is far enough past the last reported count to be worth an event.

    The last step is left to the job's finish, which reports done = total.
    """
    step = max(1, math.ceil(total / PROGRESS_STEPS))
    return done < total and done - reported >= step


async def record_progress(
    session: AsyncSession, job_id: int, done: int, total: int
) -> DocumentJob | None:
    """Note that done of total are rendered; None if the job is no longer running."""
    job = await _locked(session, job_id)
    if job is None or job.status != "running":
        return None
    job.total = total
    job.done = min(done, total)
    job.heartbeat_at = utcnow()
    session.add(job)
    await session.flush()
    await _announce(session, job)
    return job


async def finish_job(
    session: AsyncSession, job_id: int, content: bytes, *, total: int | None = None
) -> DocumentJob | None:
    """Store the job's file with its size and SHA-256; None if it is no longer running."""
    job = await _locked(session, job_id)
    if job is None or job.status != "running":
        return None
    if total is not None:
        job.total = total
    job.status = "done"
    job.done = job.total
    job.size = len(content)
    job.sha256 = hashlib.sha256(content).hexdigest()
    job.finished_at = utcnow()
    job.error = ""
    session.add(job)
    session.add(DocumentFile(job_id=job_id, content=content))
    await session.flush()
    await _announce(session, job)
    return job


async def fail_job(session: AsyncSession, job_id: int, error: str) -> DocumentJob | None:
    """Mark the job failed with a message for the person who ordered it."""
    job = await _locked(session, job_id)
    if job is None or job.status not in UNFINISHED:
        return None
    job.status = "failed"
    job.error = error[:MAX_ERROR]
    job.finished_at = utcnow()
    session.add(job)
    await session.flush()
    await _announce(session, job)
    return job


async def beat(session: AsyncSession, job_id: int) -> bool:
    """The renderer of a running job is alive; False if the job is no longer running."""
    beaten = await session.exec(
        update(DocumentJob)
        .where(col(DocumentJob.id) == job_id, col(DocumentJob.status) == "running")
        .values(heartbeat_at=utcnow())
        .returning(col(DocumentJob.id))
        .execution_options(synchronize_session=False)
    )
    return beaten.first() is not None


async def release(session: AsyncSession, job_id: int) -> DocumentJob | None:
    """Put a running job back in the queue (its renderer stops before finishing it)."""
    job = await _locked(session, job_id)
    if job is None or job.status != "running":
        return None
    job.status = "queued"
    job.done = 0
    job.heartbeat_at = None
    session.add(job)
    await session.flush()
    await _announce(session, job)
    return job


async def requeue_unfinished(
    session: AsyncSession, *, now: datetime | None = None
) -> list[DocumentJob]:
    """Queue again, from the start, every running job whose renderer stopped beating."""
    stale_before = (now or utcnow()) - timedelta(seconds=STALE_SECONDS)
    jobs = list(
        await session.exec(
            select(DocumentJob)
            .where(col(DocumentJob.status) == "running")
            .where(
                or_(
                    col(DocumentJob.heartbeat_at).is_(None),
                    col(DocumentJob.heartbeat_at) < stale_before,
                )
            )
            .order_by(col(DocumentJob.id))
            .with_for_update(skip_locked=True)
        )
    )
    for job in jobs:
        job.status = "queued"
        job.done = 0
        job.heartbeat_at = None
        session.add(job)
    await session.flush()
    for job in jobs:
        await _announce(session, job)
    return jobs


async def purge_finished(
    session: AsyncSession, *, keep_days: int, now: datetime | None = None
) -> int:
    """Remove jobs that finished (done or failed) more than keep_days ago, with their files."""
    before = (now or utcnow()) - timedelta(days=keep_days)
    old = select(DocumentJob.id).where(
        col(DocumentJob.status).in_(("done", "failed")),
        col(DocumentJob.finished_at) < before,
    )
    ids = [row for row in await session.exec(old)]
    if not ids:
        return 0
    await session.exec(delete(DocumentFile).where(col(DocumentFile.job_id).in_(ids)))
    await session.exec(delete(DocumentJob).where(col(DocumentJob.id).in_(ids)))
    return len(ids)


async def has_queued(session: AsyncSession) -> bool:
    found = await session.exec(
        select(DocumentJob.id).where(col(DocumentJob.status) == "queued").limit(1)
    )
    return found.first() is not None


# --- reading --------------------------------------------------------------------------------


def _visible(job: DocumentJob, actor: Actor) -> bool:
    own_site = actor.has("site_operator") and job.params.get("site_id") == actor.site_id
    if job.kind in CREDENTIAL_KINDS:
        return actor.has("organizer") or own_site
    return actor.sees_all_sites or own_site


async def list_jobs(
    session: AsyncSession, conference: Conference, *, actor: Actor, limit: int = 50
) -> list[DocumentJob]:
    """The conference's jobs the actor may see, newest first."""
    actor.require(*VIEW_ROLES)
    rows = await session.exec(
        select(DocumentJob)
        .where(col(DocumentJob.conference_id) == conference.id)
        .order_by(col(DocumentJob.id).desc())
    )
    found = []
    for job in rows:
        if _visible(job, actor):
            found.append(job)
            if len(found) >= limit:
                break
    return found


async def get_job(
    session: AsyncSession, conference: Conference, public_id: str, *, actor: Actor
) -> DocumentJob:
    """One job of the conference the actor may see; else NotFound."""
    actor.require(*VIEW_ROLES)
    missing = NotFound("no such document in this conference", field="document")
    if not is_public_id(public_id):
        raise missing
    job = await conference_row(session, DocumentJob, conference.id, public_id=public_id)
    if job is None or not _visible(job, actor):
        raise missing
    return job


async def job_file(session: AsyncSession, job: DocumentJob) -> bytes:
    """The finished job's file; Conflict while it is queued, running or failed."""
    if job.status != "done":
        raise Conflict(f"the document is {job.status}, not ready", field="document")
    stored = await session.get(DocumentFile, job.id)
    if stored is None:
        raise NotFound("the document's file is gone", field="document")
    return stored.content
