"""Timed jobs: each announces once, only while what it announces holds; the jobs planned."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from agenda import events as agenda_events
from agenda import jobs
from agenda.live import move_agenda
from agenda.models import AgendaItem, Speaker
from agenda.schemas import AgendaItemCreate, AgendaItemUpdate, SpeakerCreate
from agenda.services import create_agenda_item, update_agenda_item
from agenda.speakers import SpeakerAction, act_on_speaker, request_speaker
from conference.actors import Actor
from conference.catalogue import EventType
from conference.db import Database
from conference.models import Conference, LiveEvent
from tests.conftest import new_conference

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def setup(db: Database) -> tuple[Conference, Actor]:
    conference, actor, _ = await new_conference(db)
    return conference, actor


async def add_item(
    db: Database, conference: Conference, actor: Actor, title: str, **fields: Any
) -> AgendaItem:
    async with db.transaction() as session:
        return await create_agenda_item(
            session, conference, AgendaItemCreate(title=title, **fields), actor=actor
        )


async def events(db: Database, conference: Conference, type_: EventType) -> list[dict[str, Any]]:
    async with db.read() as session:
        rows = await session.exec(
            select(LiveEvent)
            .where(col(LiveEvent.conference_id) == conference.id, col(LiveEvent.type) == type_.name)
            .order_by(col(LiveEvent.seq))
        )
        return [row.data for row in rows]


async def planned(
    db: Database, conference: Conference, now: datetime, minutes: int = 5
) -> dict[str, jobs.PlannedJob]:
    assert conference.id is not None
    async with db.read() as session:
        return await jobs.planned_jobs(session, conference.id, reminder_minutes=minutes, now=now)


async def run(db: Database, func: Any, *args: Any, now: datetime) -> dict[str, Any] | None:
    async with db.transaction() as session:
        result: dict[str, Any] | None = await func(session, *args, now=now)
        return result


async def speaking(
    db: Database, conference: Conference, actor: Actor, limit: int, now: datetime
) -> tuple[AgendaItem, Speaker]:
    """A running item whose limit is limit seconds, with a speaker called at now."""
    item = await add_item(db, conference, actor, "Thảo luận", speaking_limit_seconds=limit)
    async with db.transaction() as session:
        await move_agenda(session, conference, "start", item=item.public_id, actor=actor, now=now)
        out = await request_speaker(
            session, conference, SpeakerCreate(item=item.public_id, name="Trần Thị B"), actor=actor
        )
        speaker_id = out["changed"][0]["id"]
        await act_on_speaker(session, conference, speaker_id, "call", actor=actor, now=now)
    async with db.read() as session:
        speaker = (await session.exec(select(Speaker).where(Speaker.public_id == speaker_id))).one()
    return item, speaker


async def act(
    db: Database,
    conference: Conference,
    actor: Actor,
    speaker: Speaker,
    action: SpeakerAction,
    at: datetime,
) -> None:
    """The chair acts on the speaker's timer (pause, start, finish) at the time given."""
    async with db.transaction() as session:
        await act_on_speaker(session, conference, speaker.public_id, action, actor=actor, now=at)


async def test_a_reminder_is_planned_and_sent_once(db: Database) -> None:
    conference, actor = await setup(db)
    start = T0 + timedelta(hours=1)
    item = await add_item(db, conference, actor, "Khai mạc", planned_start=start)
    wanted = await planned(db, conference, T0)
    job = wanted[f"reminder:{item.public_id}"]
    assert job.func == jobs.REMIND_JOB
    assert job.run_at == start - timedelta(minutes=5)
    assert job.args == (conference.id, item.public_id, start.isoformat(), 5)

    at = job.run_at
    assert await run(db, jobs.remind_item, *job.args, now=at - timedelta(minutes=1)) is None
    data = await run(db, jobs.remind_item, *job.args, now=at)
    assert data == {"item": item.public_id, "planned_start": start.isoformat(), "minutes_before": 5}
    # Run again (a crash after the event, a second process): nothing more.
    assert await run(db, jobs.remind_item, *job.args, now=at) is None
    assert await events(db, conference, agenda_events.REMINDER) == [data]
    assert f"reminder:{item.public_id}" not in await planned(db, conference, at)


async def test_no_reminder_once_started_moved_or_past(db: Database) -> None:
    conference, actor = await setup(db)
    start = T0 + timedelta(minutes=30)
    moved = await add_item(db, conference, actor, "Báo cáo", planned_start=start)
    started = await add_item(db, conference, actor, "Phát biểu", planned_start=start)
    later = await add_item(db, conference, actor, "Bế mạc", planned_start=T0 - timedelta(hours=1))
    plan = await planned(db, conference, T0)
    assert set(plan) == {f"reminder:{moved.public_id}", f"reminder:{started.public_id}"}
    async with db.transaction() as session:
        await update_agenda_item(
            session,
            conference,
            moved.public_id,
            AgendaItemUpdate(planned_start=start + timedelta(hours=1)),
            actor=actor,
        )
        await move_agenda(session, conference, "start", item=started.public_id, actor=actor)
    near = start - timedelta(minutes=4)
    for item in (moved, started):
        args = plan[f"reminder:{item.public_id}"].args
        assert await run(db, jobs.remind_item, *args, now=near) is None
    # The planned start has passed: a reminder would come too late.
    late = (conference.id, later.public_id, (T0 - timedelta(hours=1)).isoformat(), 5)
    assert await run(db, jobs.remind_item, *late, now=T0) is None
    assert await events(db, conference, agenda_events.REMINDER) == []
    # The moved item gets a job for its new time; no reminders with 0 minutes.
    again = await planned(db, conference, near)
    assert again[f"reminder:{moved.public_id}"].run_at == start + timedelta(minutes=55)
    assert await planned(db, conference, near, minutes=0) == {}


async def test_time_up_once_at_the_limit(db: Database) -> None:
    conference, actor = await setup(db)
    item, speaker = await speaking(db, conference, actor, 60, T0)
    plan = await planned(db, conference, T0)
    job = plan[f"timeup:{speaker.public_id}"]
    assert job.func == jobs.TIME_UP_JOB
    assert job.run_at == T0 + timedelta(seconds=60)
    assert job.args == (conference.id, speaker.public_id, speaker.timer_generation)
    assert await run(db, jobs.announce_time_up, *job.args, now=T0 + timedelta(seconds=50)) is None
    data = await run(db, jobs.announce_time_up, *job.args, now=job.run_at)
    assert data == {
        "item": item.public_id,
        "speaker": speaker.public_id,
        "limit_seconds": 60,
        "generation": speaker.timer_generation,
    }
    assert await run(db, jobs.announce_time_up, *job.args, now=job.run_at) is None
    assert await events(db, conference, agenda_events.TIME_UP) == [data]
    assert f"timeup:{speaker.public_id}" not in await planned(db, conference, job.run_at)


async def test_a_restarted_timer_counts_what_was_spoken(db: Database) -> None:
    conference, actor = await setup(db)
    _, speaker = await speaking(db, conference, actor, 60, T0)
    first = (await planned(db, conference, T0))[f"timeup:{speaker.public_id}"]
    await act(db, conference, actor, speaker, "pause", T0 + timedelta(seconds=20))
    assert f"timeup:{speaker.public_id}" not in await planned(db, conference, T0)
    assert await run(db, jobs.announce_time_up, *first.args, now=first.run_at) is None
    restart = T0 + timedelta(minutes=5)
    await act(db, conference, actor, speaker, "start", restart)
    second = (await planned(db, conference, restart))[f"timeup:{speaker.public_id}"]
    assert second.run_at == restart + timedelta(seconds=40)
    assert second.args[2] == first.args[2] + 1
    # The first run's job, even at the new deadline, names an old generation.
    assert await run(db, jobs.announce_time_up, *first.args, now=second.run_at) is None
    data = await run(db, jobs.announce_time_up, *second.args, now=second.run_at)
    assert data is not None and data["generation"] == second.args[2]
    assert len(await events(db, conference, agenda_events.TIME_UP)) == 1


async def test_no_time_up_after_the_speaker_finished(db: Database) -> None:
    conference, actor = await setup(db)
    _, speaker = await speaking(db, conference, actor, 60, T0)
    job = (await planned(db, conference, T0))[f"timeup:{speaker.public_id}"]
    await act(db, conference, actor, speaker, "finish", T0 + timedelta(seconds=30))
    assert await run(db, jobs.announce_time_up, *job.args, now=job.run_at) is None
    assert not [k for k in await planned(db, conference, T0) if k.startswith("timeup:")]
    assert await events(db, conference, agenda_events.TIME_UP) == []


async def test_a_timer_restarted_after_its_time_was_up_is_not_announced_again(
    db: Database,
) -> None:
    conference, actor = await setup(db)
    _, speaker = await speaking(db, conference, actor, 60, T0)
    job = (await planned(db, conference, T0))[f"timeup:{speaker.public_id}"]
    assert await run(db, jobs.announce_time_up, *job.args, now=job.run_at) is not None
    steps: tuple[tuple[SpeakerAction, int], ...] = (("pause", 70), ("start", 80))
    for action, seconds in steps:
        await act(db, conference, actor, speaker, action, T0 + timedelta(seconds=seconds))
    assert f"timeup:{speaker.public_id}" not in await planned(db, conference, T0)
    args = (conference.id, speaker.public_id, speaker.timer_generation + 1)
    assert await run(db, jobs.announce_time_up, *args, now=T0 + timedelta(seconds=90)) is None
    assert len(await events(db, conference, agenda_events.TIME_UP)) == 1


async def test_an_item_running_over_is_announced_once(db: Database) -> None:
    conference, actor = await setup(db)
    item = await add_item(db, conference, actor, "Báo cáo chính trị", duration_minutes=10)
    untimed = await add_item(db, conference, actor, "Phát biểu")
    async with db.transaction() as session:
        await move_agenda(session, conference, "start", item=item.public_id, actor=actor, now=T0)
    job = (await planned(db, conference, T0))[f"overrun:{item.public_id}"]
    end = T0 + timedelta(minutes=10)
    assert job.func == jobs.OVERRUN_JOB
    assert (job.run_at, job.args) == (end, (conference.id, item.public_id, end.isoformat()))
    assert await run(db, jobs.announce_overrun, *job.args, now=end - timedelta(minutes=1)) is None
    data = await run(db, jobs.announce_overrun, *job.args, now=end)
    assert data == {
        "item": item.public_id,
        "planned_end": end.isoformat(),
        "started_at": T0.isoformat(),
    }
    assert await run(db, jobs.announce_overrun, *job.args, now=end) is None
    assert await events(db, conference, agenda_events.OVERRUN) == [data]
    assert f"overrun:{item.public_id}" not in await planned(db, conference, end)
    # An item of no duration never runs over.
    async with db.transaction() as session:
        await move_agenda(session, conference, "start", item=untimed.public_id, actor=actor)
    assert not [k for k in await planned(db, conference, end) if k.startswith("overrun:")]


async def test_no_overrun_for_an_item_ended_or_lengthened(db: Database) -> None:
    conference, actor = await setup(db)
    ended = await add_item(db, conference, actor, "Khai mạc", duration_minutes=5)
    longer = await add_item(db, conference, actor, "Báo cáo", duration_minutes=5)
    async with db.transaction() as session:
        await move_agenda(session, conference, "start", item=ended.public_id, actor=actor, now=T0)
    first = (await planned(db, conference, T0))[f"overrun:{ended.public_id}"]
    async with db.transaction() as session:
        await move_agenda(session, conference, "start", item=longer.public_id, actor=actor, now=T0)
    second = (await planned(db, conference, T0))[f"overrun:{longer.public_id}"]
    async with db.transaction() as session:
        await update_agenda_item(
            session,
            conference,
            longer.public_id,
            AgendaItemUpdate(duration_minutes=20),
            actor=actor,
        )
    later = T0 + timedelta(minutes=6)
    assert await run(db, jobs.announce_overrun, *first.args, now=later) is None
    assert await run(db, jobs.announce_overrun, *second.args, now=later) is None
    assert await events(db, conference, agenda_events.OVERRUN) == []
    again = (await planned(db, conference, later))[f"overrun:{longer.public_id}"]
    assert again.run_at == T0 + timedelta(minutes=20)


async def test_jobs_of_another_conference_do_nothing(db: Database) -> None:
    conference, actor = await setup(db)
    other, _, _ = await new_conference(db, title="Hội nghị khác", sites=(("HN", "Hà Nội"),))
    item = await add_item(db, conference, actor, "Khai mạc", planned_start=T0)
    args = (other.id, item.public_id, T0.isoformat(), 5)
    assert await run(db, jobs.remind_item, *args, now=T0 - timedelta(minutes=5)) is None
    overrun = (other.id, item.public_id, T0.isoformat())
    assert await run(db, jobs.announce_overrun, *overrun, now=T0) is None
    assert await run(db, jobs.announce_time_up, other.id, "nobody", 1, now=T0) is None


async def test_live_conferences(db: Database) -> None:
    quiet, quiet_actor = await setup(db)
    busy, actor, _ = await new_conference(db, title="Hội nghị 2", sites=(("HN", "Hà Nội"),))
    await add_item(db, quiet, quiet_actor, "Xong", planned_start=T0 - timedelta(days=1))
    await add_item(db, busy, actor, "Sắp tới", planned_start=T0 + timedelta(days=1))
    async with db.read() as session:
        assert await jobs.live_conferences(session, now=T0) == {busy.id}


async def test_the_same_job_run_twice_at_once_announces_once(db: Database) -> None:
    conference, actor = await setup(db)
    _, speaker = await speaking(db, conference, actor, 60, T0)
    job = (await planned(db, conference, T0))[f"timeup:{speaker.public_id}"]
    results = await asyncio.gather(
        *(run(db, jobs.announce_time_up, *job.args, now=job.run_at) for _ in range(2))
    )
    assert sorted(r is None for r in results) == [False, True]
    assert len(await events(db, conference, agenda_events.TIME_UP)) == 1
