"""Two server processes' hubs linked by Redis over one PostgreSQL (DESIGN.md section 3)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from agenda.schemas import AgendaItemCreate, SpeakerCreate
from agenda.services import create_agenda_item
from agenda.speakers import list_speakers, request_speaker
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.actors import CLI, Actor
from conference.db import Database
from conference.live import Event, OrderedFeed, events_between
from conference.models import Conference, Site
from conference.schemas import SiteUpdate
from conference.services import update_site
from runtime.config import Config
from runtime.redis_bridge import RedisBridge
from tests.conftest import _pg_admin, new_conference
from tests.server.serve_process import free_port

# Redis channels are shared by every database of a Redis server: each test here has a
# channel of its own, and with pytest-xdist they run on one worker, one at a time.
pytestmark = pytest.mark.xdist_group("redis")
REDIS_URL = os.environ.get("PLENARY_TEST_REDIS", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("PLENARY_REQUIRE_REDIS") == "1"
CONNECTED = 60.0  # ends a wait for a connection that has already failed


async def _redis_reachable(url: str) -> bool:
    client = aioredis.from_url(url, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


@pytest.fixture
def channel() -> str:
    """A deployment's channel of this test's own: pub/sub ignores the database number, so
    the other tests that use this Redis server (and any other user of it) stay apart."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
async def redis_url() -> str:
    if not await _redis_reachable(REDIS_URL):
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set PLENARY_TEST_REDIS)")
    return REDIS_URL


class Collector:
    """A subscriber that puts what it receives in seq order, as a WebSocket does."""

    def __init__(self, db: Database, conference: Conference) -> None:
        assert conference.id is not None
        self.db = db
        self.feed = OrderedFeed(conference.id, conference.epoch, conference.last_seq, self._fetch)
        self.received: list[Event] = []
        self.got = asyncio.Event()

    @classmethod
    async def following(cls, db: Database, conference_id: int | None) -> Collector:
        """A collector subscribed to db's hub from the conference's seq as db reads it now."""
        async with db.sessionmaker() as session:
            fresh = await session.get(Conference, conference_id)
            assert fresh is not None and conference_id is not None
        collector = cls(db, fresh)
        db.hub.subscribe(conference_id, collector)
        return collector

    async def _fetch(self, cid: int, epoch: str, after: int, upto: int) -> list[Event]:
        async with self.db.sessionmaker() as session:
            return await events_between(session, cid, epoch, after, upto)

    def deliver(self, event: Event, payload_json: str) -> None:
        self.received.extend(e for e, _ in self.feed.offer(event, payload_json))
        self.got.set()

    async def wait_for(self, seq: int) -> None:
        async with asyncio.timeout(10):
            while self.feed.last_seq < seq:
                self.got.clear()
                await self.got.wait()


async def _setup(db: Database) -> tuple[Conference, Site]:
    conference, _, (site,) = await new_conference(db, sites=(("HNI", "Hà Nội"),))
    return conference, site


async def _rename(db: Database, conference: Conference, site: Site, name: str) -> None:
    async with db.transaction() as session:
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        fresh = await session.get(Site, site.id)
        assert fresh is not None
        await update_site(session, conference, fresh, SiteUpdate(name=name), actor=actor)


@pytest.fixture
async def two_processes(pg_url: str) -> AsyncIterator[tuple[Database, Database]]:
    a, b = Database(pg_url), Database(pg_url)
    yield a, b
    await a.dispose()
    await b.dispose()


@asynccontextmanager
async def bridges(
    redis_url: str, channel: str, catch_up_interval: float, *dbs: Database
) -> AsyncIterator[list[RedisBridge]]:
    """A bridge on channel for each database, started and connected; stopped after."""
    made = [
        RedisBridge(redis_url, db, channel=channel, catch_up_interval=catch_up_interval)
        for db in dbs
    ]
    for bridge in made:
        await bridge.start()
    try:
        for bridge in made:
            await asyncio.wait_for(bridge.connected.wait(), CONNECTED)
        yield made
    finally:
        for bridge in made:
            await bridge.stop()


async def test_changes_made_in_a_reach_subscribers_of_b(
    two_processes: tuple[Database, Database], redis_url: str, channel: str
) -> None:
    db_a, db_b = two_processes
    conference, site = await _setup(db_a)
    # A long catch-up interval: what arrives here came through Redis.
    async with bridges(redis_url, channel, 3600, db_a, db_b) as (bridge_a, bridge_b):
        collector = await Collector.following(db_b, conference.id)
        start = collector.feed.last_seq
        for n in range(10):
            await _rename(db_a, conference, site, f"Hà Nội {n}")
        await collector.wait_for(start + 10)
        assert [e.seq for e in collector.received] == list(range(start + 1, start + 11))
        assert collector.received[-1].data["name"] == "Hà Nội 9"
        assert bridge_b.relayed >= 10
        assert bridge_a.relayed == 0  # nothing from B, and its own messages are ignored


async def test_deployments_sharing_one_redis_do_not_hear_each_other(
    two_processes: tuple[Database, Database], pg_url: str, redis_url: str, channel: str
) -> None:
    """Two deployments on one Redis server, each with its PLENARY_REDIS_CHANNEL: both have a
    conference 1, and one must never relay the other's events to its screens."""
    db_a, db_b = two_processes
    db_c, db_d = Database(pg_url), Database(pg_url)
    conference, site = await _setup(db_a)
    # Deployment X: processes A and C. Deployment Y: processes B and D.
    a = RedisBridge(redis_url, db_a, channel=f"{channel}-x", catch_up_interval=3600)
    c = RedisBridge(redis_url, db_c, channel=f"{channel}-x", catch_up_interval=3600)
    b = RedisBridge(redis_url, db_b, channel=f"{channel}-y", catch_up_interval=3600)
    d = RedisBridge(redis_url, db_d, channel=f"{channel}-y", catch_up_interval=3600)
    bridges = (a, b, c, d)
    try:
        for bridge in bridges:
            await bridge.start()
        for bridge in bridges:
            await asyncio.wait_for(bridge.connected.wait(), CONNECTED)
        for n in range(3):
            await _rename(db_a, conference, site, f"X {n}")
        await _wait_until(lambda: c.relayed >= 3)
        # Y's own change after X's three: Redis hands B its messages in the order they were
        # published, so once B has relayed this one, any of X's would have come before it.
        await _rename(db_d, conference, site, "Y")
        await _wait_until(lambda: b.relayed >= 1)
        assert (a.relayed, b.relayed, c.relayed, d.relayed) == (0, 1, 3, 0)
    finally:
        for bridge in bridges:
            await bridge.stop()
        await db_c.dispose()
        await db_d.dispose()


async def _wait_until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(CONNECTED):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_the_bridge_outlives_a_database_that_refuses_it_while_it_connects(
    two_processes: tuple[Database, Database],
    redis_url: str,
    channel: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis back before PostgreSQL (a machine restarting): the catch-up that follows the
    connection fails, and the bridge must still relay once the database is back."""
    db_a, db_b = two_processes
    conference, site = await _setup(db_a)
    # A subscriber here: the catch-up reads the database for its conference.
    collector = await Collector.following(db_b, conference.id)
    start = collector.feed.last_seq
    name = make_url(db_b.url).database
    await _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    bridge_a = RedisBridge(redis_url, db_a, channel=channel, catch_up_interval=3600)
    bridge_b = RedisBridge(redis_url, db_b, channel=channel, catch_up_interval=3600)
    try:
        await _pg_admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )
        await bridge_b.start()
        listen = bridge_b._tasks[0]
        # The signal: the catch-up after connecting has failed (logged, or the task died).
        async with asyncio.timeout(CONNECTED):
            while not listen.done() and "catch-up" not in caplog.text:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    try:
        assert not listen.done(), listen
        await bridge_a.start()
        await asyncio.wait_for(bridge_a.connected.wait(), CONNECTED)
        await _rename(db_a, conference, site, "Hà Nội mới")
        await collector.wait_for(start + 1)
        assert bridge_b.relayed >= 1 and not listen.done()
    finally:
        await bridge_a.stop()
        await bridge_b.stop()


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_nothing_is_lost_while_redis_is_down(
    two_processes: tuple[Database, Database], redis_url: str
) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed to stop and restart a private Redis")
    db_a, db_b = two_processes
    conference, site = await _setup(db_a)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _start_redis(port)
    bridge_a = RedisBridge(url, db_a, catch_up_interval=0.5)
    bridge_b = RedisBridge(url, db_b, catch_up_interval=0.5)
    try:
        # Until our redis-server answers (a loaded machine takes seconds to start it).
        async with asyncio.timeout(CONNECTED):
            while not await _redis_reachable(url):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        await bridge_a.start()
        await bridge_b.start()
        await asyncio.wait_for(bridge_b.connected.wait(), CONNECTED)
        collector = await Collector.following(db_b, conference.id)
        start = collector.feed.last_seq

        await _rename(db_a, conference, site, "trước")
        await collector.wait_for(start + 1)

        server.terminate()
        server.wait(10)
        for n in range(5):
            await _rename(db_a, conference, site, f"khi mất Redis {n}")
        # Delayed, never lost: the catch-up loop reads them from the database.
        await collector.wait_for(start + 6)

        server = _start_redis(port)
        await asyncio.wait_for(bridge_b.connected.wait(), CONNECTED)
        await _rename(db_a, conference, site, "sau")
        await collector.wait_for(start + 7)
        assert [e.seq for e in collector.received] == list(range(start + 1, start + 8))
        assert [e.data["name"] for e in collector.received][-1] == "sau"
        assert bridge_b.caught_up >= 5
    finally:
        await bridge_a.stop()
        await bridge_b.stop()
        server.terminate()
        server.wait(10)


async def test_speaker_requests_through_two_processes_end_in_one_order(
    two_processes: tuple[Database, Database], redis_url: str, channel: str
) -> None:
    """34 sites ask through process A or B at once; subscribers of both see the same
    events in the same order, ending with the list the database holds."""
    db_a, db_b = two_processes
    codes = [f"S{n:02d}" for n in range(34)]
    conference, actor, sites = await new_conference(
        db_a, sites=tuple((code, f"Điểm cầu {code}") for code in codes)
    )
    delegates = []
    async with db_a.transaction() as session:
        item = await create_agenda_item(
            session, conference, AgendaItemCreate(title="Thảo luận", kind="discussion"), actor=actor
        )
        for site in sites:
            delegates.append(
                await create_delegate(
                    session,
                    conference,
                    DelegateCreate(name=f"Đại biểu {site.code}", site=site.code),
                    actor=actor,
                )
            )
    async with bridges(redis_url, channel, 0.5, db_a, db_b):
        collectors = [await Collector.following(db, conference.id) for db in (db_a, db_b)]
        start = collectors[0].feed.last_seq

        async def ask(n: int) -> None:
            db = (db_a, db_b)[n % 2]
            async with db.transaction() as session:
                fresh = await session.get(Conference, conference.id)
                assert fresh is not None
                await request_speaker(
                    session,
                    fresh,
                    SpeakerCreate(item=item.public_id, delegate=delegates[n].public_id),
                    actor=actor,
                )

        await asyncio.gather(*(ask(n) for n in range(34)))
        for collector in collectors:
            await collector.wait_for(start + 34)
        seen = [
            [(e.seq, e.data["version"], e.data["changed"][0]["id"]) for e in c.received]
            for c in collectors
        ]
        assert seen[0] == seen[1]
        assert [s for s, _, _ in seen[0]] == list(range(start + 1, start + 35))
        assert [v for _, v, _ in seen[0]] == list(range(1, 35))
        async with db_b.read() as session:
            fresh = await session.get(Conference, conference.id)
            assert fresh is not None
            listed = await list_speakers(session, fresh, item.public_id)
        # Put on the list by an organizer: queued at once, in the order of the events.
        assert listed["order"] == [sid for _, _, sid in seen[0]]
        assert seen[0][-1][0] == start + 34
        last = collectors[1].received[-1].data
        assert last["order"] == listed["order"] and last["version"] == listed["version"]
        assert listed["version"] == 34


def test_the_channel_setting_names_a_bad_value_and_defaults_to_plenary() -> None:
    assert Config.from_env({}).redis_channel == "plenary"
    assert Config.from_env({"PLENARY_REDIS_CHANNEL": " hn-staging "}).redis_channel == (
        "hn-staging"
    )
    for bad in ("", "plenary*", "two words", "x" * 101):
        with pytest.raises(ValueError, match="PLENARY_REDIS_CHANNEL: not a channel name"):
            Config.from_env({"PLENARY_REDIS_CHANNEL": bad})
