"""The scheduler in a real app: timed events once, across restarts and between processes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from agenda.events import OVERRUN, TIME_UP
from agenda.live import move_agenda
from conference.actors import CLI, Actor
from conference.catalogue import EventType
from conference.dbtypes import utcnow
from conference.models import Conference, LiveEvent
from runtime.config import Config
from runtime.scheduler import SCHEDULER_JOBS, MigratedJobStore, job_store_engine, job_store_url
from server.app import create_app
from server.keys import db_key
from server.runtime import scheduler_key
from tests.conftest import CONFERENCE, Api, add_account

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]


# Tests name the database before aiohttp_client: the apps stop before it is dropped.


def fast(url: str, **kw: Any) -> Config:
    """Settings with the scheduler's intervals in fractions of a second."""
    return Config(
        database_url=url,
        scheduler_poll_seconds=0.2,
        scheduler_sweep_seconds=0.5,
        **kw,
    )


@pytest.fixture
def config(db_url: str) -> Config:
    return fast(db_url)


async def login(client: Client, username: str = "organizer") -> Api:
    api = Api(client)
    await api.login(username)
    return api


async def new_organizer(client: Client) -> Api:
    await add_account(client.app[db_key], "organizer", can_create=True)
    return await login(client)


async def new_conference(api: Api) -> str:
    status, body = await api.post("/api/v1/conferences", CONFERENCE)
    assert status == 201, body
    return str(body["id"])


async def organized(client: Client) -> tuple[Api, str]:
    """An organizer logged in on client, and the public id of a conference they made."""
    api = await new_organizer(client)
    return api, await new_conference(api)


@pytest.fixture
async def running(aiohttp_client: MakeClient, app: web.Application) -> tuple[Api, str]:
    """The app served, with an organizer logged in and their conference."""
    return await organized(await aiohttp_client(app))


async def call_speaker(api: Api, cid: str, limit: int) -> tuple[str, str]:
    """Start an item whose speakers have limit seconds and call one; (item, speaker) ids."""
    agenda = f"/api/v1/conferences/{cid}/agenda"
    status, item = await api.post(agenda, {"title": "Thảo luận", "speaking_limit_seconds": limit})
    assert status == 201, item
    status, body = await api.post(agenda + "/live", {"action": "start", "item": item["id"]})
    assert status == 200, body
    speakers = f"{agenda}/{item['id']}/speakers"
    status, body = await api.post(speakers, {"name": "Nguyễn Văn A"})
    assert status == 201, body
    status, body = await api.post(speakers + "/next")
    assert status == 200, body
    return item["id"], body["speaking"]


async def logged(app: web.Application, type_: EventType) -> list[dict[str, Any]]:
    async with app[db_key].read() as session:
        rows = await session.exec(
            select(LiveEvent).where(col(LiveEvent.type) == type_.name).order_by(col(LiveEvent.seq))
        )
        return [row.data for row in rows]


async def until(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Wait until check() holds, looking every tenth of a second."""
    async with asyncio.timeout(within):
        # The state is in the database: there is no event to wait on.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def wait_for(app: web.Application, type_: EventType, count: int = 1) -> list[dict[str, Any]]:
    """The events of type_ once there are count of them; then a little more, to see no more."""

    async def enough() -> bool:
        return len(await logged(app, type_)) >= count

    await until(enough)
    await asyncio.sleep(1.0)
    return await logged(app, type_)


async def wait_stored(app: web.Application, job_id: str) -> None:
    async def stored() -> bool:
        return job_id in await stored_job_ids(app)

    await until(stored, 5)


async def elected(*clients: Client) -> list[bool]:
    out = []
    for client in clients:
        runner = client.app[scheduler_key]
        out.append(runner is not None and runner.elected)
    return out


async def stored_job_ids(app: web.Application) -> set[str]:
    async with app[db_key].read() as session:
        rows = await session.exec(sa.select(SCHEDULER_JOBS.c.id))  # type: ignore[call-overload]
        return {row[0] for row in rows}


async def test_a_speakers_time_up_is_announced_once(
    app: web.Application, running: tuple[Api, str]
) -> None:
    api, cid = running
    item, speaker = await call_speaker(api, cid, 2)
    await wait_stored(app, f"timeup:{speaker}")
    events = await wait_for(app, TIME_UP)
    assert len(events) == 1
    assert events[0]["speaker"] == speaker and events[0]["item"] == item
    assert events[0]["limit_seconds"] == 2
    # Done jobs leave the store.
    assert f"timeup:{speaker}" not in await stored_job_ids(app)


async def test_a_paused_timer_announces_nothing(
    app: web.Application, running: tuple[Api, str]
) -> None:
    api, cid = running
    _, speaker = await call_speaker(api, cid, 1)
    status, body = await api.post(
        f"/api/v1/conferences/{cid}/speakers/{speaker}", {"action": "pause"}
    )
    assert status == 200, body
    await asyncio.sleep(2.0)
    assert await logged(app, TIME_UP) == []
    assert f"timeup:{speaker}" not in await stored_job_ids(app)


async def test_an_item_running_over_is_announced_once(
    app: web.Application, running: tuple[Api, str]
) -> None:
    api, cid = running
    agenda = f"/api/v1/conferences/{cid}/agenda"
    status, item = await api.post(agenda, {"title": "Báo cáo", "duration_minutes": 1})
    assert status == 201, item
    db = app[db_key]
    # Started 59 seconds ago: one second of its minute is left.
    started = utcnow() - timedelta(seconds=59)
    async with db.transaction() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == cid))
        ).one()
        actor = Actor(CLI, conference.id, frozenset({"chair"}))
        await move_agenda(session, conference, "start", item=item["id"], actor=actor, now=started)
    events = await wait_for(app, OVERRUN)
    assert len(events) == 1
    assert events[0]["item"] == item["id"]
    assert events[0]["started_at"] == started.isoformat()
    assert events[0]["planned_end"] == (started + timedelta(minutes=1)).isoformat()


async def test_a_job_survives_a_restart_and_runs_once(
    config: Config, aiohttp_client: MakeClient
) -> None:
    first = await aiohttp_client(create_app(config))
    api, cid = await organized(first)
    _, speaker = await call_speaker(api, cid, 2)
    await wait_stored(first.app, f"timeup:{speaker}")
    await first.close()
    # Down past the job's time; the job stays in the database.
    await asyncio.sleep(2.5)
    second = await aiohttp_client(create_app(config))
    assert f"timeup:{speaker}" in await stored_job_ids(second.app)
    assert await logged(second.app, TIME_UP) == []
    events = await wait_for(second.app, TIME_UP)
    assert [e["speaker"] for e in events] == [speaker]


async def test_the_scheduler_can_be_off(db_url: str, aiohttp_client: MakeClient) -> None:
    client = await aiohttp_client(create_app(fast(db_url, scheduler=False)))
    assert client.app[scheduler_key] is None
    api, cid = await organized(client)
    await call_speaker(api, cid, 1)
    assert await stored_job_ids(client.app) == set()


async def test_one_scheduler_among_processes_and_a_standby_takes_over(
    pg_url: str, aiohttp_client: MakeClient
) -> None:
    config = fast(pg_url)
    one = await aiohttp_client(create_app(config))
    two = await aiohttp_client(create_app(config))

    async def one_elected() -> bool:
        return any(await elected(one, two))

    await until(one_elected)
    await asyncio.sleep(0.5)
    assert sorted(await elected(one, two)) == [False, True]
    leader, standby = (one, two) if (await elected(one, two))[0] else (two, one)
    await add_account(one.app[db_key], "organizer", can_create=True)
    # Through the standby: the leader sees the change in its sweep (no Redis here).
    api = await login(standby)
    cid = await new_conference(api)
    _, first = await call_speaker(api, cid, 1)
    events = await wait_for(leader.app, TIME_UP)
    assert [e["speaker"] for e in events] == [first]
    # The leader goes; the standby takes over and runs what comes next.
    await leader.close()

    async def taken_over() -> bool:
        return (await elected(standby))[0]

    await until(taken_over, 5)
    _, second = await call_speaker(api, cid, 1)
    events = await wait_for(standby.app, TIME_UP, 2)
    assert [e["speaker"] for e in events] == [first, second]


def test_the_job_store_urls() -> None:
    assert job_store_url("sqlite+aiosqlite:///plenary.db") == "sqlite:///plenary.db"
    assert (
        job_store_url("postgresql+asyncpg://u:p@db/plenary")
        == "postgresql+psycopg://u:p@db/plenary"
    )


def test_the_migrated_table_is_the_job_stores(tmp_path: Any) -> None:
    engine = job_store_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        store = MigratedJobStore(engine=engine, tablename=SCHEDULER_JOBS.name)
        ours = [(c.name, repr(c.type), c.primary_key, c.nullable) for c in SCHEDULER_JOBS.c]
        theirs = [(c.name, repr(c.type), c.primary_key, c.nullable) for c in store.jobs_t.c]
        assert ours == theirs
        assert {i.name for i in SCHEDULER_JOBS.indexes} == {i.name for i in store.jobs_t.indexes}
    finally:
        engine.dispose()


def test_an_unreachable_database_does_not_end_the_schedulers_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """APScheduler calls get_next_run_time outside its error handling: the store retries."""
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/plenary_no_such_db")
    try:
        store = MigratedJobStore(engine=engine, tablename=SCHEDULER_JOBS.name)
        before = utcnow()
        with caplog.at_level("WARNING", logger="plenary.scheduler"):
            again = store.get_next_run_time()
        assert again is not None and timedelta(seconds=4) < again - before < timedelta(seconds=10)
        assert "cannot read its jobs" in caplog.text
    finally:
        engine.dispose()
