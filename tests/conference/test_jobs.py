"""Document jobs: claiming in order, progress in few steps, files with their hash,
requeueing after a restart, and who sees which job."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import col, select

from conference import jobs
from conference.actors import CLI, Actor
from conference.db import Database
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, NotFound
from conference.events import DOCUMENT_UPDATED
from conference.models import Conference, DocumentFile, DocumentJob, LiveEvent, Site
from tests.conftest import new_conference


async def setup(db: Database) -> tuple[Conference, Actor, list[Site]]:
    return await new_conference(db, sites=(("LCI", "Lào Cai"), ("HN", "Hà Nội")))


async def order(db: Database, conference: Conference, actor: Actor, site: Site | None) -> int:
    params = {"site": site.code if site else None, "site_id": site.id if site else None}
    async with db.transaction() as session:
        job = await jobs.create_job(
            session, conference, "badges", params=params, total=40, filename="b.pdf", actor=actor
        )
    assert job.id is not None
    return job.id


def test_progress_is_reported_in_at_most_sixteen_steps() -> None:
    for total in (1, 7, 16, 40, 10_000):
        reported, events = 0, 0
        for done in range(1, total + 1):
            if jobs.progress_due(total, done, reported):
                reported, events = done, events + 1
        assert events <= jobs.PROGRESS_STEPS
        assert not jobs.progress_due(total, total, reported)  # the finish reports the end


async def test_a_job_goes_from_queued_to_done_with_its_file(db: Database) -> None:
    conference, actor, (lci, _) = await setup(db)
    first = await order(db, conference, actor, lci)
    second = await order(db, conference, actor, None)
    async with db.transaction() as session:
        claimed = await jobs.claim_next(session)
    assert claimed is not None and claimed.id == first and claimed.status == "running"
    async with db.transaction() as session:
        job = await jobs.record_progress(session, first, 16, 41)
    assert job is not None and (job.done, job.total) == (16, 41)
    async with db.transaction() as session:
        job = await jobs.finish_job(session, first, b"%PDF-1.7 ...", total=41)
    assert job is not None and job.status == "done" and job.done == 41
    assert job.sha256 == hashlib.sha256(b"%PDF-1.7 ...").hexdigest() and job.size == 12
    async with db.read() as session:
        assert await jobs.job_file(session, job) == b"%PDF-1.7 ..."
        events = list(
            await session.exec(
                select(LiveEvent)
                .where(LiveEvent.type == DOCUMENT_UPDATED.name)
                .order_by(col(LiveEvent.seq))
            )
        )
    mine = [(e.data["status"], e.data["done"]) for e in events if e.data["site"] == "LCI"]
    assert mine == [("queued", 0), ("running", 0), ("running", 16), ("done", 41)]
    # Finished is finished: late news of it changes nothing.
    async with db.transaction() as session:
        assert await jobs.record_progress(session, first, 1, 41) is None
        assert await jobs.fail_job(session, first, "late") is None
        assert await jobs.finish_job(session, first, b"again") is None
        nxt = await jobs.claim_next(session)
        assert nxt is not None and nxt.id == second
        assert await jobs.claim_next(session) is None


async def test_a_job_whose_renderer_stopped_beating_is_queued_again(db: Database) -> None:
    conference, actor, (lci, _) = await setup(db)
    job_id = await order(db, conference, actor, lci)
    async with db.transaction() as session:
        await jobs.claim_next(session)
        await jobs.record_progress(session, job_id, 24, 40)
    # Another process is rendering it and beating: a runner starting now leaves it alone.
    async with db.transaction() as session:
        assert await jobs.requeue_unfinished(session) == []
        assert await jobs.beat(session, job_id)
    later = utcnow() + timedelta(seconds=jobs.STALE_SECONDS - 5)
    async with db.transaction() as session:
        assert await jobs.requeue_unfinished(session, now=later) == []
    # No beat for longer than STALE_SECONDS: its process died; the job is queued again.
    dead = utcnow() + timedelta(seconds=jobs.STALE_SECONDS + 1)
    async with db.transaction() as session:
        again = await jobs.requeue_unfinished(session, now=dead)
        assert [j.id for j in again] == [job_id]
        assert await jobs.has_queued(session)
        assert not await jobs.beat(session, job_id)  # no longer running
    async with db.read() as session:
        job = await session.get(DocumentJob, job_id)
        assert job is not None and (job.status, job.done, job.heartbeat_at) == ("queued", 0, None)
        with pytest.raises(Conflict):
            await jobs.job_file(session, job)


async def test_a_released_job_is_queued_again_at_once(db: Database) -> None:
    conference, actor, (lci, _) = await setup(db)
    job_id = await order(db, conference, actor, lci)
    async with db.transaction() as session:
        await jobs.claim_next(session)
        released = await jobs.release(session, job_id)
        assert released is not None and released.status == "queued"
        assert await jobs.release(session, job_id) is None  # only a running job
        again = await jobs.claim_next(session)
        assert again is not None and again.id == job_id and again.heartbeat_at is not None


async def test_finished_jobs_and_their_files_are_removed_after_the_keeping_time(
    db: Database,
) -> None:
    conference, actor, (lci, _) = await setup(db)
    done_id, failed_id, queued_id = [await order(db, conference, actor, lci) for _ in range(3)]
    async with db.transaction() as session:
        await jobs.claim_next(session)
        await jobs.finish_job(session, done_id, b"%PDF-1.7 old")
        await jobs.claim_next(session)
        await jobs.fail_job(session, failed_id, "no delegates")
    async with db.transaction() as session:
        assert await jobs.purge_finished(session, keep_days=7) == 0
        assert (
            await jobs.purge_finished(session, keep_days=7, now=utcnow() + timedelta(days=6)) == 0
        )
    async with db.transaction() as session:
        week = utcnow() + timedelta(days=7, minutes=1)
        assert await jobs.purge_finished(session, keep_days=7, now=week) == 2
    async with db.read() as session:
        left = list(await session.exec(select(DocumentJob.id)))
        files = list(await session.exec(select(DocumentFile.job_id)))
    assert left == [queued_id] and files == []


async def test_operators_see_their_own_sites_jobs_only(db: Database) -> None:
    conference, organizer, (lci, hn) = await setup(db)
    everyone = await order(db, conference, organizer, None)
    ours = await order(db, conference, organizer, lci)
    theirs = await order(db, conference, organizer, hn)
    operator = Actor(CLI, conference.id, frozenset({"site_operator"}), lci.id, lci.code)
    async with db.read() as session:
        rows = await jobs.list_jobs(session, conference, actor=organizer)
        assert [j.id for j in rows] == [theirs, ours, everyone]
        rows = await jobs.list_jobs(session, conference, actor=operator)
        assert [j.id for j in rows] == [ours]
        by_id = {
            j.id: j.public_id for j in await jobs.list_jobs(session, conference, actor=organizer)
        }
        assert (await jobs.get_job(session, conference, by_id[ours], actor=operator)).id == ours
        for hidden in (by_id[theirs], by_id[everyone], "nope", "bad id!"):
            with pytest.raises(NotFound):
                await jobs.get_job(session, conference, hidden, actor=operator)
        delegate = Actor(CLI, conference.id, frozenset({"delegate"}))
        with pytest.raises(Forbidden):
            await jobs.list_jobs(session, conference, actor=delegate)
