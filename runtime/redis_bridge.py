"""The Redis doorbell between server processes (DESIGN.md section 3).

Each process publishes the events it commits on `<channel>:live:<conference id>`
and relays what other processes publish to its own subscribers. `<channel>` is the
deployment's `PLENARY_REDIS_CHANNEL` (default `plenary`): Redis pub/sub ignores the
database number, so two deployments that share a Redis server need channels of their own
or each would relay the other's events (both have a conference 1). Redis is never
the record: a catch-up loop reads the database log for watched conferences, so
events missed while Redis was away still arrive, only later.

It also carries the access bell (server/access_bell.py) on `<channel>:access`: a
process that revoked something rings it, the others check their sockets at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from typing_extensions import TypedDict

from conference.db import Database
from conference.live import Event, Watermarks, catch_up
from conference.rawjson import JsonObject
from runtime.background import stop_task

log = logging.getLogger("plenary.redis")

DEFAULT_CHANNEL = "plenary"
OUTBOX_LIMIT = 10_000


class Bell(TypedDict):
    """An event as it crosses Redis: the event, and the process that committed it."""

    origin: str
    conference_id: int
    epoch: str
    seq: int
    type: str
    data: JsonObject
    at: str


def encode(event: Event, origin: str) -> str:
    bell: Bell = {
        "origin": origin,
        "conference_id": event.conference_id,
        "epoch": event.epoch,
        "seq": event.seq,
        "type": event.type,
        "data": event.data,
        "at": event.at.isoformat(),
    }
    return json.dumps(bell, ensure_ascii=False, separators=(",", ":"))


def decode(raw: str | bytes) -> tuple[str, Event]:
    # Read as sent by encode; each field is converted again below.
    body: Bell = json.loads(raw)
    event = Event(
        conference_id=int(body["conference_id"]),
        epoch=str(body["epoch"]),
        seq=int(body["seq"]),
        type=str(body["type"]),
        data=dict(body["data"]),
        at=datetime.fromisoformat(body["at"]),
    )
    return str(body["origin"]), event


class RedisBridge:
    """Links this process's hub to the other processes through Redis pub/sub."""

    def __init__(
        self,
        url: str,
        db: Database,
        *,
        channel: str = DEFAULT_CHANNEL,
        catch_up_interval: float = 2.0,
    ) -> None:
        self.url = url
        self.db = db
        self.live_prefix = f"{channel}:live:"
        self.access_channel = f"{channel}:access"
        self.origin = secrets.token_hex(8)
        self.catch_up_interval = catch_up_interval
        self.marks = Watermarks()
        self.connected = asyncio.Event()
        self.relayed = 0
        self.caught_up = 0
        # Called when another process rings the access bell, and after (re)connecting,
        # since a bell may have rung while this process was away.
        self.on_access: Callable[[], None] | None = None
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(OUTBOX_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        self._client: aioredis.Redis | None = None

    def _tap(self, event: Event) -> None:
        try:
            self._outbox.put_nowait(
                (f"{self.live_prefix}{event.conference_id}", encode(event, self.origin))
            )
        except asyncio.QueueFull:
            # Peers will read it from the database in their catch-up loop.
            log.warning("redis outbox full; peers will catch up from the database")

    def ring_access(self) -> None:
        """Tell the other processes that access may have been withdrawn."""
        try:
            self._outbox.put_nowait((self.access_channel, json.dumps({"origin": self.origin})))
        except asyncio.QueueFull:
            # Peers find it at their sockets' periodic checks.
            log.warning("redis outbox full; peers will revalidate their sockets later")

    async def start(self) -> None:
        self.db.hub.add_watcher(self.marks.note)
        self.db.hub.add_tap(self._tap)
        self._client = aioredis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)
        self._tasks = [
            asyncio.create_task(self._listen(), name="redis-listen"),
            asyncio.create_task(self._publish(), name="redis-publish"),
            asyncio.create_task(self._catch_up_loop(), name="live-catch-up"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            await stop_task(task)
        if self._client is not None:
            await self._client.aclose()

    async def _publish(self) -> None:
        assert self._client is not None
        while True:
            channel, payload = await self._outbox.get()
            try:
                await self._client.publish(channel, payload)
            except (RedisError, OSError) as exc:
                log.warning("redis publish failed (%s); peers will catch up", exc)

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            pubsub = None
            try:
                assert self._client is not None
                pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                await pubsub.psubscribe(f"{self.live_prefix}*")
                await pubsub.subscribe(self.access_channel)
                self.connected.set()
                delay = 0.2
                # Whatever was missed while away is in the database.
                self._access_rung()
                try:
                    await self.run_catch_up()
                except Exception:
                    # The database may be back later than Redis: the catch-up loop retries.
                    log.warning("catch-up after connecting to redis failed", exc_info=True)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if _text(message.get("channel")) == self.access_channel:
                        self._heard_access(message["data"])
                    else:
                        self._relay(message["data"])
            except (RedisError, OSError) as exc:
                if self.connected.is_set():
                    log.warning("lost redis (%s); reconnecting", exc)
                self.connected.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(RedisError, OSError):
                        await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    def _heard_access(self, raw: str | bytes) -> None:
        try:
            origin = str(json.loads(raw)["origin"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed message on the access channel")
            return
        if origin != self.origin:
            self._access_rung()

    def _access_rung(self) -> None:
        if self.on_access is not None:
            self.on_access()

    def _relay(self, raw: str | bytes) -> None:
        try:
            origin, event = decode(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed message on the live channel")
            return
        if origin == self.origin:
            return
        self.relayed += 1
        self.db.hub.publish(event, from_peer=True)

    async def run_catch_up(self) -> int:
        async with self.db.sessionmaker() as session:
            found = await catch_up(session, self.db.hub, self.marks)
        self.caught_up += found
        return found

    async def _catch_up_loop(self) -> None:
        while True:
            await asyncio.sleep(self.catch_up_interval)
            try:
                await self.run_catch_up()
            except Exception:
                log.exception("catch-up from the database failed")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@contextlib.asynccontextmanager
async def running_bridge(
    url: str, db: Database, *, channel: str = DEFAULT_CHANNEL
) -> AsyncIterator[RedisBridge]:
    bridge = RedisBridge(url, db, channel=channel)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()
