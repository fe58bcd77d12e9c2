"""Group commit of single scans: one transaction for the scans that arrive together, and a
scan that fails never fails the others of its group; a caller's lookup is kept a moment."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance import checkin
from attendance.models import CheckIn, Delegate
from attendance.scans import Outcome, Scan
from attendance.schemas import DelegateCreate
from attendance.services import insert_delegates
from conference.actors import Actor, Principal
from conference.db import Database
from conference.errors import Forbidden, NotFound, PlenaryError
from conference.models import Conference, Site
from conference.signing import Keyring, load_keyring
from runtime.batching import GroupCommit
from tests.conftest import new_conference


def nonce() -> str:
    return secrets.token_urlsafe(12)


class Door:
    """A conference with one site, its operator (a token) and some delegates."""

    def __init__(self, conference: Conference, site: Site, ids: list[str], ring: Keyring) -> None:
        self.conference, self.site, self.ids, self.ring = conference, site, ids, ring
        principal = Principal(
            kind="token",
            name="token scanner",
            token_id=1,
            token_conference_id=conference.id,
            token_role="site_operator",
            token_site_id=site.id,
        )
        self.operator = Actor(principal, conference.id, frozenset({"site_operator"}), site.id)

    async def resolve(self, session: AsyncSession) -> tuple[Conference, Actor, Site]:
        """The conference and site loaded in the writer's session, as the route does."""
        conference = await session.get(Conference, self.conference.id)
        site = await session.get(Site, self.site.id)
        assert conference is not None and site is not None
        return conference, self.operator, site

    def scan(
        self, writer: GroupCommit, key: str, n: int, **options: Any
    ) -> asyncio.Future[Outcome]:
        """One scan of delegate n submitted as the check-in route does, under key."""
        options.setdefault("method", "search")
        resolve = options.pop("resolve", self.resolve)
        scan = Scan(options.pop("nonce", None) or nonce(), delegate_id=self.ids[n])

        async def write(session: AsyncSession, scans: list[Scan]) -> list[Outcome | PlenaryError]:
            try:
                conference, actor, site = await writer.kept(key, session, resolve)
            except PlenaryError as exc:
                return [exc] * len(scans)
            outcomes = await checkin.check_in(
                session, conference, site, scans, actor=actor, keyring=self.ring, **options
            )
            return list(outcomes)

        group = (key, *sorted(options.items()))
        return asyncio.ensure_future(writer.submit(group, scan, write))


@pytest.fixture
async def door(db: Database) -> Door:
    conference, _, (site,) = await new_conference(db, sites=(("HNI", "Hà Nội"),))
    assert conference.id is not None and site.id is not None
    async with db.transaction() as session:
        await insert_delegates(
            session,
            conference.id,
            {"HNI": site.id},
            [DelegateCreate(name=f"Đại biểu {n}", site="HNI") for n in range(6)],
        )
        ring = await load_keyring(session)
        ids = list(await session.exec(select(Delegate.public_id).order_by(col(Delegate.id))))
    return Door(conference, site, ids, ring)


@pytest.fixture
async def writer(db: Database) -> Any:
    running = GroupCommit(db)
    running.start()
    yield running
    await running.stop()


async def ledger(db: Database) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(CheckIn))).one())


async def test_scans_arriving_together_share_a_transaction(
    db: Database, door: Door, writer: GroupCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = checkin.check_in

    async def counted(*args: Any, **kwargs: Any) -> list[Outcome]:
        calls.append(len(args[3]))
        return await real(*args, **kwargs)

    monkeypatch.setattr(checkin, "check_in", counted)
    same = nonce()
    scans = [door.scan(writer, "op", n) for n in range(4)]
    scans += [door.scan(writer, "op", 4, nonce=same), door.scan(writer, "op", 4, nonce=same)]
    outcomes = await asyncio.gather(*scans)
    assert calls == [6]  # one call (one transaction) for all six
    assert [o.outcome for o in outcomes] == ["ok"] * 6
    assert outcomes[4].checkin_id == outcomes[5].checkin_id  # one nonce, one row
    assert await ledger(db) == 5


async def test_a_failing_scan_does_not_fail_its_group(
    db: Database, door: Door, writer: GroupCommit
) -> None:
    async def nowhere(session: AsyncSession) -> tuple[Conference, Actor, Site]:
        raise NotFound("no such conference", field="conference")

    scans = [
        door.scan(writer, "op", 0),
        door.scan(writer, "ghost", 1, resolve=nowhere),
        # An operator may not override: check_in raises for the whole call.
        door.scan(writer, "op", 2, method="manual", override=True, note="VIP"),
        door.scan(writer, "op", 3),
    ]
    done = await asyncio.gather(*scans, return_exceptions=True)
    assert isinstance(done[0], Outcome) and done[0].outcome == "ok"
    assert isinstance(done[1], NotFound)
    assert isinstance(done[2], Forbidden)
    assert isinstance(done[3], Outcome) and done[3].outcome == "ok"
    assert await ledger(db) == 2


async def test_an_integrity_error_falls_back_to_one_scan_per_transaction(
    db: Database, door: Door, writer: GroupCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if another process wrote the same nonce meanwhile: the ledger's unique nonce
    # refuses the second row, which rolls the whole group back.
    async def no_replays(*args: Any) -> dict[str, Outcome]:
        return {}

    monkeypatch.setattr(checkin, "_replays", no_replays)
    same = nonce()
    scans = [
        door.scan(writer, "a", 0, nonce=same),
        door.scan(writer, "a", 1),
        door.scan(writer, "b", 2, nonce=same),
        door.scan(writer, "b", 3),
    ]
    done = await asyncio.gather(*scans, return_exceptions=True)
    assert [getattr(o, "outcome", None) for o in done] == ["ok", "ok", None, "ok"]
    assert isinstance(done[2], IntegrityError)
    assert await ledger(db) == 3


async def test_stopping_writes_what_is_queued(db: Database, door: Door) -> None:
    writer = GroupCommit(db)
    writer.start()
    scans = [door.scan(writer, "op", n) for n in range(3)]
    await asyncio.sleep(0)
    await writer.stop()
    assert [o.outcome for o in await asyncio.gather(*scans)] == ["ok"] * 3
    assert await ledger(db) == 3


async def test_a_callers_lookup_is_kept_until_access_changes(
    db: Database, door: Door, writer: GroupCommit
) -> None:
    looked_up: list[str] = []

    async def counted(session: AsyncSession) -> tuple[Conference, Actor, Site]:
        looked_up.append("op")
        return await door.resolve(session)

    first = await door.scan(writer, "op", 0, resolve=counted)
    second = await door.scan(writer, "op", 1, resolve=counted)
    assert [first.outcome, second.outcome] == ["ok", "ok"]
    assert looked_up == ["op"]  # the second group used the first one's lookup
    writer.forget()  # what the access bell does when a role or a setting changes
    assert (await door.scan(writer, "op", 2, resolve=counted)).outcome == "ok"
    assert looked_up == ["op", "op"]
