"""The life of a live event: logged with a gapless seq, handed to the hub after the
commit, fanned out to subscribers, put in order on the way.

1. A service calls :func:`append_event` inside its transaction: the event takes the
   conference's next seq (the counter row is locked until the commit), its row joins
   the transaction, and it waits in the session for the commit.
2. When the transaction commits, :class:`LiveSession` hands what waited to the
   deployment's :class:`LiveHub` (a rolled-back transaction's events are dropped with it).
3. The hub serialises each event once and gives it to every local subscriber of the
   conference (the live socket, ``server/ws_live.py``), to its taps (the Redis doorbell
   for the other processes) and to its watchers (the scheduler).
4. A subscriber puts what it receives in seq order with an :class:`OrderedFeed`, which
   fills a gap from the log (:func:`events_between`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import event as orm_event
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.orm.session import Session
from typing_extensions import TypedDict

from conference.bulk import insert_rows
from conference.catalogue import EventType, without_private
from conference.dbtypes import utcnow
from conference.models import Conference, LiveEvent
from conference.rawjson import JsonObject

# Keys of a session's info: the events its transaction logged, and the hub they go to.
PENDING_EVENTS = "plenary_pending_events"
HUB = "plenary_live_hub"
SAVEPOINTS = "plenary_savepoints"  # open savepoint -> how many events were logged before it

log = logging.getLogger("plenary.live")


class EventPayload(TypedDict):
    """An event as the socket sends it (inside the frame's "event")."""

    type: str
    data: JsonObject
    at: str


@dataclass(frozen=True, slots=True)
class Event:
    """A committed live event as subscribers see it."""

    conference_id: int
    epoch: str
    seq: int
    type: str
    data: JsonObject
    at: datetime

    def payload(self) -> EventPayload:
        return {"type": self.type, "data": self.data, "at": self.at.isoformat()}

    @classmethod
    def from_row(cls, row: LiveEvent) -> Event:
        return cls(row.conference_id, row.epoch, row.seq, row.type, row.data, row.at)


async def _take_seqs(session: AsyncSession, conference_id: int, count: int) -> tuple[int, str]:
    """Take the next count seqs (locking the conference row): the last of them, and the epoch."""
    result = await session.exec(
        update(Conference)
        .where(col(Conference.id) == conference_id)
        .values(last_seq=col(Conference.last_seq) + count)
        .returning(col(Conference.last_seq), col(Conference.epoch))
        .execution_options(synchronize_session=False)
    )
    last, epoch = result.one()
    # The UPDATE bypassed the ORM: keep a loaded Conference in step so answers show this seq.
    loaded = session.sync_session.identity_map.get(identity_key(Conference, conference_id))
    if loaded is not None:
        set_committed_value(loaded, "last_seq", last)
    return last, epoch


async def append_event(
    session: AsyncSession, conference_id: int, event_type: EventType, data: Mapping[str, Any]
) -> Event:
    """Take the next seq (locking the conference row) and log the event in this transaction."""
    type_, data = event_type.name, dict(data)
    seq, epoch = await _take_seqs(session, conference_id, 1)
    at = utcnow()
    session.add(
        LiveEvent(conference_id=conference_id, epoch=epoch, seq=seq, type=type_, data=data, at=at)
    )
    item = Event(conference_id, epoch, seq, type_, data, at)
    session.info.setdefault(PENDING_EVENTS, []).append(item)
    return item


async def append_events(
    session: AsyncSession, conference_id: int, items: Sequence[tuple[EventType, Mapping[str, Any]]]
) -> list[Event]:
    """Log several events with consecutive seqs in one statement (bulk check-ins)."""
    if not items:
        return []
    last, epoch = await _take_seqs(session, conference_id, len(items))
    at = utcnow()
    first = last - len(items) + 1
    events = [
        Event(conference_id, epoch, first + n, event_type.name, dict(data), at)
        for n, (event_type, data) in enumerate(items)
    ]
    # One statement: the ORM would insert row by row on SQLite to read each id back.
    await insert_rows(
        session,
        LiveEvent,
        [
            {
                "conference_id": conference_id,
                "epoch": epoch,
                "seq": e.seq,
                "type": e.type,
                "data": e.data,
                "at": at,
            }
            for e in events
        ],
    )
    session.info.setdefault(PENDING_EVENTS, []).extend(events)
    return events


async def lock_conference(session: AsyncSession, conference_id: int) -> None:
    """Serialise this transaction with the conference's other writers (FOR NO KEY UPDATE).

    Check-then-write rules (unique codes, one main site, the last organizer) hold
    under concurrency only when their writers take turns; SQLite's BEGIN IMMEDIATE
    already does that, PostgreSQL needs the row lock.
    """
    await session.exec(
        select(Conference.id)
        .where(col(Conference.id) == conference_id)
        .with_for_update(key_share=True)
    )


async def events_between(
    session: AsyncSession, conference_id: int, epoch: str, after: int, upto: int | None = None
) -> list[Event]:
    """Logged events with after < seq <= upto, in order."""
    query = (
        select(LiveEvent)
        .where(LiveEvent.conference_id == conference_id)
        .where(LiveEvent.epoch == epoch)
        .where(LiveEvent.seq > after)
        .order_by(col(LiveEvent.seq))
    )
    if upto is not None:
        query = query.where(LiveEvent.seq <= upto)
    rows = (await session.exec(query)).all()
    return [Event.from_row(row) for row in rows]


class Subscriber(Protocol):
    def deliver(self, event: Event, payload_json: str) -> None: ...


class LiveHub:
    """Fans committed events out to the local subscribers of each conference."""

    PUBLIC_CACHE = 256

    def __init__(self) -> None:
        self._public: dict[tuple[int, str, int], str] = {}
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._taps: list[Callable[[Event], None]] = []
        self._watchers: list[Callable[[Event], None]] = []
        self.published = 0

    def subscribe(self, conference_id: int, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(conference_id, set()).add(subscriber)

    def unsubscribe(self, conference_id: int, subscriber: Subscriber) -> None:
        subs = self._subscribers.get(conference_id)
        if subs is not None:
            subs.discard(subscriber)
            if not subs:
                del self._subscribers[conference_id]

    def add_tap(self, tap: Callable[[Event], None]) -> None:
        """Hand every locally committed event to tap (e.g. the Redis doorbell)."""
        self._taps.append(tap)

    def add_watcher(self, watcher: Callable[[Event], None]) -> None:
        """Show watcher every event this hub fans out, local or from a peer."""
        self._watchers.append(watcher)

    def public_json(
        self, event: Event, event_type: EventType, payload_json: str | None
    ) -> str | None:
        """The payload without contact details, serialised once per event for all viewers.

        None means the payload has nothing to hide (send it as it is).
        """
        data = without_private(event_type, event.data)
        if data is None:
            return payload_json
        key = (event.conference_id, event.epoch, event.seq)
        cached = self._public.get(key)
        if cached is None:
            payload = {**event.payload(), "data": data}
            cached = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            if len(self._public) >= self.PUBLIC_CACHE:
                self._public.clear()
            self._public[key] = cached
        return cached

    def conference_ids(self) -> list[int]:
        """Conferences that have local subscribers."""
        return list(self._subscribers)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def publish(self, event: Event, *, from_peer: bool = False) -> None:
        self.published += 1
        for watcher in self._watchers:
            watcher(event)
        if not from_peer:
            for tap in self._taps:
                tap(event)
        subs = self._subscribers.get(event.conference_id)
        if not subs:
            return
        payload_json = json.dumps(event.payload(), ensure_ascii=False, separators=(",", ":"))
        for sub in list(subs):
            sub.deliver(event, payload_json)


class LiveSession(Session):
    """A session whose committed transaction hands its logged events to the hub in its info.

    A rolled-back transaction's events are dropped with it, and so are those logged
    inside a savepoint that rolls back (its seqs and rows went with it).
    """


@orm_event.listens_for(LiveSession, "after_commit")
def _hand_over(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release (this event fires for those too): wait for the root
    events: list[Event] = session.info.pop(PENDING_EVENTS, [])
    hub: LiveHub | None = session.info.get(HUB)
    if hub is None:
        return
    for item in events:
        # The data is committed whatever a subscriber does: one that fails must neither
        # fail the commit nor keep the next events from the others (they fill the gap).
        try:
            hub.publish(item)
        except Exception:
            log.exception("a subscriber of the live hub failed on event %d", item.seq)


@orm_event.listens_for(LiveSession, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(SAVEPOINTS, {})
        marks[transaction] = len(session.info.get(PENDING_EVENTS, ()))


@orm_event.listens_for(LiveSession, "after_soft_rollback")
def _drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # Fired after the savepoint's end (a released one keeps its mark until the root ends).
    if transaction.nested:
        mark = session.info.get(SAVEPOINTS, {}).pop(transaction, None)
        pending = session.info.get(PENDING_EVENTS)
        if mark is not None and pending is not None:
            del pending[mark:]


@orm_event.listens_for(LiveSession, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # After a commit nothing is left (handed over above); after a rollback of the
        # whole transaction its events never happened.
        session.info.pop(PENDING_EVENTS, None)
        session.info.pop(SAVEPOINTS, None)


def live_sessions(engine: AsyncEngine, hub: LiveHub) -> async_sessionmaker[AsyncSession]:
    """The session factory of a deployment: its transactions publish to hub once committed."""
    return async_sessionmaker(
        engine,
        class_=AsyncSession,
        sync_session_class=LiveSession,
        expire_on_commit=False,
        info={HUB: hub},
    )


Fetch = Callable[[int, str, int, int], Awaitable[list[Event]]]


class OrderedFeed:
    """Puts one subscriber's events in seq order, filling gaps from the log.

    Events from concurrent transactions may reach the hub out of order, and
    with several processes some may only be in the database.
    """

    def __init__(self, conference_id: int, epoch: str, last_seq: int, fetch: Fetch) -> None:
        self.conference_id = conference_id
        self.epoch = epoch
        self.last_seq = last_seq
        self._fetch = fetch
        self._pending: dict[int, tuple[Event, str | None]] = {}

    @property
    def has_gap(self) -> bool:
        return bool(self._pending)

    def offer(self, event: Event, payload_json: str | None) -> list[tuple[Event, str | None]]:
        """Accept one event; return those now ready to send, in order."""
        if event.epoch != self.epoch or event.seq <= self.last_seq:
            return []
        self._pending[event.seq] = (event, payload_json)
        return self._drain()

    def _drain(self) -> list[tuple[Event, str | None]]:
        ready = []
        while self.last_seq + 1 in self._pending:
            self.last_seq += 1
            ready.append(self._pending.pop(self.last_seq))
        return ready

    async def fill_gap(self) -> list[tuple[Event, str | None]]:
        """Load the missing events from the log and return everything now in order."""
        if not self._pending:
            return []
        upto = min(self._pending) - 1
        for event in await self._fetch(self.conference_id, self.epoch, self.last_seq, upto):
            # offer() may have moved past these while the log was being read.
            if event.seq > self.last_seq:
                self._pending.setdefault(event.seq, (event, None))
        return self._drain()


class Watermarks:
    """The newest seq this process has seen per conference, to notice missed events."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[str, int]] = {}

    def note(self, event: Event) -> None:
        epoch, seq = self._seen.get(event.conference_id, (event.epoch, 0))
        if epoch != event.epoch or event.seq > seq:
            self._seen[event.conference_id] = (event.epoch, event.seq)

    def get(self, conference_id: int) -> tuple[str, int] | None:
        return self._seen.get(conference_id)

    def set(self, conference_id: int, epoch: str, seq: int) -> None:
        self._seen[conference_id] = (epoch, seq)


async def catch_up(session: AsyncSession, hub: LiveHub, marks: Watermarks) -> int:
    """Publish, from the log, events of watched conferences this process never saw.

    With several processes the Redis doorbell may miss events (Redis down, a
    process restarting); the database log is the record, so read it.
    """
    published = 0
    for conference_id in hub.conference_ids():
        row = (
            await session.exec(
                select(Conference.epoch, Conference.last_seq).where(
                    col(Conference.id) == conference_id
                )
            )
        ).one_or_none()
        if row is None:
            continue
        epoch, last_seq = row
        mark = marks.get(conference_id)
        if mark is None or mark[0] != epoch:
            # Nothing known yet: subscribers start from the database, so this is the baseline.
            marks.set(conference_id, epoch, last_seq)
            continue
        if last_seq <= mark[1]:
            continue
        for event in await events_between(session, conference_id, epoch, mark[1], last_seq):
            hub.publish(event, from_peer=True)
            published += 1
        marks.set(conference_id, epoch, last_seq)
    return published
