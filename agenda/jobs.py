"""Timed work of the live agenda: reminders, speaking time running out, items running over.

The scheduler (runtime/scheduler.py) runs each job at its time. A job takes ids, reloads
what it needs under the conference lock, and appends its event only if what it is
about still holds. What it announced is kept on the row in the same transaction, so a
job that runs twice (a crash after its event, two processes) announces once:

- ``agenda/reminder {item, planned_start, minutes_before}``: an item that has not
  started is due to start in ``minutes_before`` minutes (sent until its planned start).
- ``speaker/time_up {item, speaker, limit_seconds, generation}``: the speaker's timer
  reached its limit. A paused, finished or restarted timer (another generation) makes
  the job a no-op; a restarted timer's deadline counts what was already spoken.
- ``agenda/overrun {item, planned_end, started_at}``: a running item passed its
  start + duration (items of duration 0 have none).

:func:`planned_jobs` computes, from the database, which jobs should exist for a
conference now; the scheduler makes its job store agree after every change it sees.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.events import OVERRUN, REMINDER, TIME_UP, Overrun, Reminder, TimeUp
from agenda.models import AgendaItem, Speaker
from agenda.speakers import elapsed
from agenda.state import iso
from conference.dbtypes import utcnow
from conference.live import append_event, lock_conference
from conference.queries import conference_row

# The job functions by textual reference: a stored job names its function this way, so
# it survives a restart. Each is called as fn(session, conference_id, *ids): the
# scheduler stores (conference_id, *ids) and gives the session of the job's transaction.
REMIND_JOB = "agenda.jobs:remind_item"
TIME_UP_JOB = "agenda.jobs:announce_time_up"
OVERRUN_JOB = "agenda.jobs:announce_overrun"
# A job may come a little early by another process's clock; earlier than this, it waits
# for the job the scheduler plans again.
EARLY = timedelta(seconds=0.5)


Job = TypeVar("Job", bound=Callable[..., Awaitable[Any]])


def scheduled(fn: Job) -> Job:
    """Mark fn as a job function (its arguments after the session are the job's).

    APScheduler checks a job's stored arguments against the signature of its function;
    the session, which the scheduler's executor passes first, is not one of them.
    """
    signature = inspect.signature(fn)
    stored = list(signature.parameters.values())[1:]
    fn.__signature__ = signature.replace(parameters=stored)  # type: ignore[attr-defined]
    return fn


@dataclass(frozen=True)
class PlannedJob:
    """A job that should exist: its function, when it runs, and its arguments."""

    func: str
    run_at: datetime
    args: tuple[Any, ...]


def reminder_id(item: AgendaItem) -> str:
    return f"reminder:{item.public_id}"


def overrun_id(item: AgendaItem) -> str:
    return f"overrun:{item.public_id}"


def time_up_id(speaker: Speaker) -> str:
    return f"timeup:{speaker.public_id}"


def planned_end(item: AgendaItem) -> datetime | None:
    """When a running item should end, or None (not started, or no duration)."""
    if item.started_at is None or item.duration_minutes <= 0:
        return None
    return item.started_at + timedelta(minutes=item.duration_minutes)


def time_up_at(speaker: Speaker) -> datetime | None:
    """When the running timer reaches the limit, or None if it cannot this run.

    A run that starts with the limit already spent announces nothing: the speaker was
    told when it was reached.
    """
    if speaker.status != "speaking" or speaker.timer_started_at is None:
        return None
    if speaker.limit_seconds <= 0 or speaker.spoken_seconds >= speaker.limit_seconds:
        return None
    left = speaker.limit_seconds - speaker.spoken_seconds
    return speaker.timer_started_at + timedelta(seconds=left)


async def _item(session: AsyncSession, conference_id: int, public_id: str) -> AgendaItem | None:
    return await conference_row(session, AgendaItem, conference_id, public_id=public_id)


@scheduled
async def remind_item(
    session: AsyncSession,
    conference_id: int,
    item_id: str,
    planned_start: str,
    minutes_before: int,
    *,
    now: datetime | None = None,
) -> Reminder | None:
    """Announce that an item starts soon; None if it no longer does or was announced."""
    now = now or utcnow()
    start = datetime.fromisoformat(planned_start)
    await lock_conference(session, conference_id)
    item = await _item(session, conference_id, item_id)
    if item is None or item.status != "planned" or item.planned_start != start:
        return None
    if item.reminded_for == start or now >= start:
        return None
    if now < start - timedelta(minutes=minutes_before) - EARLY:
        return None
    item.reminded_for = start
    session.add(item)
    data: Reminder = {
        "item": item.public_id,
        "planned_start": iso(start),
        "minutes_before": minutes_before,
    }
    await append_event(session, conference_id, REMINDER, data)
    return data


@scheduled
async def announce_time_up(
    session: AsyncSession,
    conference_id: int,
    speaker_id: str,
    generation: int,
    *,
    now: datetime | None = None,
) -> TimeUp | None:
    """Announce that a speaker's time is up; None if this run of the timer is over."""
    now = now or utcnow()
    await lock_conference(session, conference_id)
    speaker = await conference_row(session, Speaker, conference_id, public_id=speaker_id)
    if speaker is None or speaker.timer_generation != generation:
        return None
    if speaker.time_up_generation == generation or time_up_at(speaker) is None:
        return None
    if elapsed(speaker, now) < speaker.limit_seconds - EARLY.total_seconds():
        return None
    item = await session.get(AgendaItem, speaker.item_id)
    assert item is not None
    speaker.time_up_generation = generation
    session.add(speaker)
    data: TimeUp = {
        "item": item.public_id,
        "speaker": speaker.public_id,
        "limit_seconds": speaker.limit_seconds,
        "generation": generation,
    }
    await append_event(session, conference_id, TIME_UP, data)
    return data


@scheduled
async def announce_overrun(
    session: AsyncSession,
    conference_id: int,
    item_id: str,
    end: str,
    *,
    now: datetime | None = None,
) -> Overrun | None:
    """Announce that a running item passed its planned end; None if it is no longer so."""
    now = now or utcnow()
    wanted = datetime.fromisoformat(end)
    await lock_conference(session, conference_id)
    item = await _item(session, conference_id, item_id)
    if item is None or item.status != "running" or planned_end(item) != wanted:
        return None
    if item.overrun_for == wanted or now < wanted - EARLY:
        return None
    item.overrun_for = wanted
    session.add(item)
    data: Overrun = {
        "item": item.public_id,
        "planned_end": iso(wanted),
        "started_at": iso(item.started_at),
    }
    await append_event(session, conference_id, OVERRUN, data)
    return data


async def planned_jobs(
    session: AsyncSession,
    conference_id: int,
    *,
    reminder_minutes: int,
    now: datetime | None = None,
) -> dict[str, PlannedJob]:
    """The jobs that should exist for a conference now, by job id."""
    now = now or utcnow()
    jobs: dict[str, PlannedJob] = {}
    items = await session.exec(
        select(AgendaItem).where(
            col(AgendaItem.conference_id) == conference_id,
            col(AgendaItem.status).in_(("planned", "running")),
        )
    )
    for item in items:
        start = item.planned_start
        remind = item.status == "planned" and reminder_minutes > 0
        if remind and start is not None and start > now and item.reminded_for != start:
            jobs[reminder_id(item)] = PlannedJob(
                REMIND_JOB,
                start - timedelta(minutes=reminder_minutes),
                (conference_id, item.public_id, start.isoformat(), reminder_minutes),
            )
        end = planned_end(item)
        if item.status == "running" and end is not None and item.overrun_for != end:
            jobs[overrun_id(item)] = PlannedJob(
                OVERRUN_JOB, end, (conference_id, item.public_id, end.isoformat())
            )
    speakers = await session.exec(
        select(Speaker).where(
            col(Speaker.conference_id) == conference_id, col(Speaker.status) == "speaking"
        )
    )
    for speaker in speakers:
        deadline = time_up_at(speaker)
        if deadline is not None and speaker.time_up_generation != speaker.timer_generation:
            jobs[time_up_id(speaker)] = PlannedJob(
                TIME_UP_JOB, deadline, (conference_id, speaker.public_id, speaker.timer_generation)
            )
    return jobs


async def live_conferences(session: AsyncSession, *, now: datetime | None = None) -> set[int]:
    """Conferences that may have jobs: an item to come or running, or someone speaking."""
    now = now or utcnow()
    items = await session.exec(
        select(AgendaItem.conference_id)
        .where(
            (col(AgendaItem.status) == "running")
            | ((col(AgendaItem.status) == "planned") & (col(AgendaItem.planned_start) > now))
        )
        .distinct()
    )
    speaking = await session.exec(
        select(Speaker.conference_id).where(col(Speaker.status) == "speaking").distinct()
    )
    return set(items) | set(speaking)
