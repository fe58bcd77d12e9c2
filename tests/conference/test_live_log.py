"""The live log: gapless seq per conference, in the change's transaction, hub after commit."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlmodel import col, select

from conference.actors import CLI, Actor
from conference.db import Database
from conference.live import Event, append_event, events_between
from conference.models import Conference, LiveEvent, Site
from conference.schemas import SiteCreate, SiteUpdate
from conference.services import create_site, get_conference, update_site
from tests.conftest import own_event

ORGANIZER = Actor(CLI, roles=frozenset({"organizer"}))


class Boom(Exception):
    pass


class FakeSubscriber:
    def __init__(self) -> None:
        self.received: list[tuple[Event, str]] = []

    def deliver(self, event: Event, payload_json: str) -> None:
        self.received.append((event, payload_json))


async def new_conference(db: Database, title: str = "Hội nghị") -> Conference:
    """A conference row with an empty log (no creation event)."""
    async with db.transaction() as session:
        conference = Conference(
            title=title, starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 11)
        )
        session.add(conference)
    assert conference.id is not None and conference.last_seq == 0
    return conference


async def followed_conference(db: Database) -> tuple[Conference, FakeSubscriber]:
    """A new conference and a subscriber of its events on the hub."""
    conference = await new_conference(db)
    assert conference.id is not None
    subscriber = FakeSubscriber()
    db.hub.subscribe(conference.id, subscriber)
    return conference, subscriber


async def logged(db: Database, conference_id: int) -> tuple[list[int], int]:
    """The seqs in the log and the conference's counter."""
    async with db.transaction() as session:
        seqs = (
            await session.exec(
                select(LiveEvent.seq)
                .where(LiveEvent.conference_id == conference_id)
                .order_by(col(LiveEvent.seq))
            )
        ).all()
        conference = await session.get(Conference, conference_id)
        assert conference is not None
        await session.refresh(conference)
    return list(seqs), conference.last_seq


async def test_seq_is_gapless_and_per_conference(db: Database) -> None:
    first = await new_conference(db, "A")
    second = await new_conference(db, "B")
    assert first.id is not None and second.id is not None
    for n in range(3):
        async with db.transaction() as session:
            a = await append_event(session, first.id, own_event("a"), {"n": n})
        assert a.seq == n + 1
        if n < 2:
            async with db.transaction() as session:
                b = await append_event(session, second.id, own_event("b"), {"n": n})
            assert b.seq == n + 1
    # Two events in one transaction take consecutive seqs.
    async with db.transaction() as session:
        pair = [await append_event(session, first.id, own_event("a"), {}) for _ in range(2)]
    assert [e.seq for e in pair] == [4, 5]
    assert await logged(db, first.id) == ([1, 2, 3, 4, 5], 5)
    assert await logged(db, second.id) == ([1, 2], 2)
    async with db.transaction() as session:
        events = await events_between(session, first.id, first.epoch, 1, 3)
    assert [(e.seq, e.data) for e in events] == [(2, {"n": 1}), (3, {"n": 2})]


async def test_concurrent_appends_are_gapless(db: Database) -> None:
    conference = await new_conference(db)
    assert conference.id is not None
    conference_id = conference.id

    async def append(n: int) -> int:
        async with db.transaction() as session:
            event = await append_event(session, conference_id, own_event("concurrent"), {"n": n})
            await asyncio.sleep(0)  # let the others pile up on the counter row
            return event.seq

    seqs = await asyncio.gather(*(append(n) for n in range(40)))
    assert sorted(seqs) == list(range(1, 41))
    assert await logged(db, conference_id) == (list(range(1, 41)), 40)
    async with db.transaction() as session:
        rows = (await session.exec(select(LiveEvent))).all()
    # Each seq carries the event of the transaction that took it.
    by_n = {row.data["n"]: row.seq for row in rows}
    assert sorted(by_n) == list(range(40))
    assert [by_n[n] for n in range(40)] == seqs


async def test_concurrent_site_updates_are_gapless(db: Database) -> None:
    conference = await new_conference(db)
    assert conference.id is not None
    async with db.transaction() as session:
        site = await create_site(
            session, conference, SiteCreate(code="HNI", name="Hà Nội"), actor=ORGANIZER
        )

    async def change(n: int) -> None:
        async with db.transaction() as session:
            loaded = await get_conference(session, conference.public_id)
            row = await session.get(Site, site.id)
            assert row is not None
            data = SiteUpdate(expected_attendance=n + 1)
            await update_site(session, loaded, row, data, actor=ORGANIZER)

    await asyncio.gather(*(change(n) for n in range(40)))
    assert await logged(db, conference.id) == (list(range(1, 42)), 41)
    async with db.transaction() as session:
        last = (
            await session.exec(select(LiveEvent).order_by(col(LiveEvent.seq).desc()).limit(1))
        ).one()
        stored = await session.get(Site, site.id)
    # The newest event describes the state that was committed last.
    assert stored is not None and last.data["expected_attendance"] == stored.expected_attendance


async def test_rollback_leaves_no_event_and_keeps_the_seq(db: Database) -> None:
    conference, subscriber = await followed_conference(db)
    assert conference.id is not None
    with pytest.raises(Boom):
        async with db.transaction() as session:
            event = await append_event(session, conference.id, own_event("doomed"), {})
            assert event.seq == 1
            raise Boom
    assert await logged(db, conference.id) == ([], 0)
    assert subscriber.received == []
    assert db.hub.published == 0
    async with db.transaction() as session:
        event = await append_event(session, conference.id, own_event("kept"), {})
    assert event.seq == 1
    assert [e.seq for e, _ in subscriber.received] == [1]


async def test_hub_hears_only_after_commit(db: Database) -> None:
    conference = await new_conference(db)
    other = await new_conference(db, "B")
    assert conference.id is not None and other.id is not None
    subscriber = FakeSubscriber()
    bystander = FakeSubscriber()
    db.hub.subscribe(conference.id, subscriber)
    db.hub.subscribe(other.id, bystander)
    async with db.transaction() as session:
        await append_event(session, conference.id, own_event("first"), {"text": "Nguyễn"})
        await append_event(session, conference.id, own_event("second"), {})
        assert subscriber.received == []  # not before the commit
    assert [(e.seq, e.type) for e, _ in subscriber.received] == [
        (1, "test/first"),
        (2, "test/second"),
    ]
    assert bystander.received == []
    payload: Any = subscriber.received[0][1]
    assert '"text":"Nguyễn"' in payload  # serialised once, readable
    db.hub.unsubscribe(conference.id, subscriber)
    async with db.transaction() as session:
        await append_event(session, conference.id, own_event("third"), {})
    assert len(subscriber.received) == 2


async def test_a_session_publishes_on_its_own_commit_and_forgets_a_rollback(db: Database) -> None:
    """Any session of the deployment hands over its events when it commits, not only
    db.transaction(); what a rolled-back transaction logged never reaches the hub, and a
    savepoint that ends keeps the events logged before it."""
    conference, subscriber = await followed_conference(db)
    assert conference.id is not None
    async with db.sessionmaker() as session:
        await append_event(session, conference.id, own_event("undone"), {})
        await session.rollback()
        await append_event(session, conference.id, own_event("kept"), {})
        async with session.begin_nested():
            pass
        assert subscriber.received == []
        await session.commit()
    assert [(e.seq, e.type) for e, _ in subscriber.received] == [(1, "test/kept")]
    assert await logged(db, conference.id) == ([1], 1)


async def test_a_savepoint_that_rolls_back_takes_its_events_with_it(db: Database) -> None:
    conference, subscriber = await followed_conference(db)
    assert conference.id is not None
    async with db.transaction() as session:
        await append_event(session, conference.id, own_event("before"), {})
        with pytest.raises(Boom):
            async with session.begin_nested():
                await append_event(session, conference.id, own_event("undone"), {})
                raise Boom
        async with session.begin_nested():
            await append_event(session, conference.id, own_event("released"), {})
        await append_event(session, conference.id, own_event("after"), {})
    # The rolled-back savepoint's seq was taken again: one event per seq, none lost.
    assert [(e.seq, e.type) for e, _ in subscriber.received] == [
        (1, "test/before"),
        (2, "test/released"),
        (3, "test/after"),
    ]
    assert await logged(db, conference.id) == ([1, 2, 3], 3)


async def test_a_failing_subscriber_fails_neither_the_commit_nor_the_others(
    db: Database,
) -> None:
    conference = await new_conference(db)
    assert conference.id is not None

    class Broken:
        def deliver(self, event: Event, payload_json: str) -> None:
            raise RuntimeError("a subscriber's bug")

    db.hub.subscribe(conference.id, Broken())
    async with db.transaction() as session:
        await append_event(session, conference.id, own_event("first"), {})
        await append_event(session, conference.id, own_event("second"), {})
    assert db.hub.published == 2  # both handed over, the commit went through
    assert await logged(db, conference.id) == ([1, 2], 2)
