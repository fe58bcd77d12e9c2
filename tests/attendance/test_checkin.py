"""Check-in decisions against the database: once per delegate, a nonce counts once, what
each kind of bad code is called, a site's scope, overrides and undo, offline uploads and
their conflicts, clocks, and the ledger that only grows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from attendance import credentials
from attendance.checkin import check_in
from attendance.figures import attendance
from attendance.ledger import list_checkins, open_conflicts, resolve_conflict, undo_checkin
from attendance.links import reissue
from attendance.models import CheckIn, Delegate
from attendance.scans import Outcome, Scan
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.actors import CLI, Actor, Principal
from conference.db import Database
from conference.errors import Conflict, NotFound
from conference.models import AuditEntry, Conference, Site
from conference.schemas import ConferenceCreate, SiteCreate
from conference.services import create_conference, create_site
from conference.signing import Keyring, new_key_row

PEOPLE = (
    ("Nguyễn Văn An", "HNI"),
    ("Trần Thị Bình", "HNI"),
    ("Lê Văn Cường", "LCI"),
    ("Phạm Thị Dung", "LCI"),
    ("Hoàng Văn Em", "HPG"),
)
RING = Keyring.of([new_key_row(1)])


def nonce() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class Door:
    """A conference in three days' time with three sites and five delegates."""

    db: Database
    conference: Conference
    organizer: Actor
    sites: dict[str, Site]
    delegates: dict[str, Delegate] = field(default_factory=dict)

    def operator(self, code: str) -> Actor:
        site = self.sites[code]
        return Actor(
            Principal(kind="token", name=f"scanner {code}"),
            self.conference.id,
            frozenset({"site_operator"}),
            site.id,
            site.code,
        )

    def badge(self, name: str, version: int = 1) -> str:
        return credentials.credential_for(
            RING,
            self.conference.public_id,
            self.conference.ends_on,
            self.delegates[name].public_id,
            version,
            7,
        )

    async def scan(
        self, code: str, *scans: Scan, actor: Actor | None = None, **kw: Any
    ) -> list[Outcome]:
        """scans at the site of code, by its operator unless actor is given."""
        async with self.db.transaction() as session:
            return await check_in(
                session,
                self.conference,
                self.sites[code],
                list(scans),
                actor=actor or self.operator(code),
                keyring=RING,
                **kw,
            )

    async def one(self, code: str, scan: Scan, **kw: Any) -> Outcome:
        [outcome] = await self.scan(code, scan, **kw)
        return outcome

    async def ledger(self) -> list[tuple[str, str]]:
        """The ledger's rows, oldest first: (action, outcome)."""
        async with self.db.read() as session:
            rows = await session.exec(
                select(CheckIn.action, CheckIn.outcome).order_by(col(CheckIn.id))
            )
            return [(action, outcome) for action, outcome in rows]

    async def figures(self, actor: Actor | None = None) -> tuple[dict[str, int], int]:
        async with self.db.read() as session:
            sites, conflicts = await attendance(
                session, self.conference, actor=actor or self.organizer
            )
        return {f.site.code: f.checked_in for f in sites}, conflicts


async def make_door(db: Database, *, cross_site: bool = False, title: str = "Hội nghị") -> Door:
    today = date.today()
    async with db.transaction() as session:
        conference = await create_conference(
            session,
            ConferenceCreate(
                title=title,
                starts_on=today + timedelta(days=3),
                ends_on=today + timedelta(days=4),
                cross_site_checkin=cross_site,
            ),
            actor=Actor(CLI),
        )
        organizer = Actor(CLI, conference.id, frozenset({"organizer"}))
        sites = {
            code: await create_site(
                session, conference, SiteCreate(code=code, name=name), actor=organizer
            )
            for code, name in (("HNI", "Hà Nội"), ("LCI", "Lào Cai"), ("HPG", "Hải Phòng"))
        }
        door = Door(db, conference, organizer, sites)
        for name, code in PEOPLE:
            door.delegates[name] = await create_delegate(
                session,
                conference,
                DelegateCreate(name=name, site=code, title="Chánh Văn phòng"),
                actor=organizer,
            )
    return door


@pytest.fixture
async def door(db: Database) -> Door:
    return await make_door(db)


async def test_a_badge_checks_in_once_and_the_same_nonce_answers_the_same(door: Door) -> None:
    sent = Scan(nonce(), door.badge("Nguyễn Văn An"))
    first = await door.one("HNI", sent)
    assert (first.outcome, first.site, first.method) == ("ok", "HNI", "scan")
    assert first.delegate is not None and first.delegate.full_name == "Nguyễn Văn An"
    assert first.present == {"site": "HNI", "checked_in": 1, "expected": 2}
    again = await door.one("HNI", sent)
    assert again.replayed and (again.outcome, again.checkin_id, again.at) == (
        "ok",
        first.checkin_id,
        first.at,
    )
    assert await door.ledger() == [("checkin", "ok")]
    # A new scan of the same badge: already in, with where and when.
    later = await door.one("HNI", Scan(nonce(), door.badge("Nguyễn Văn An")))
    assert (later.outcome, later.site, later.at) == ("already_checked_in", "HNI", first.at)
    error = later.error()
    assert first.at is not None and error is not None and error.code == "already_checked_in"
    assert error.details == {"site": "HNI", "site_name": "Hà Nội", "at": first.at.isoformat()}
    # The message names the time in the conference's zone.
    local = first.at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f"{local:%H:%M}" in str(error)
    assert await door.ledger() == [("checkin", "ok"), ("checkin", "already_checked_in")]
    # The delegate's row keeps the one admission.
    async with door.db.read() as session:
        admitted = list(
            await session.exec(
                select(Delegate.full_name, Delegate.checked_in_at).where(
                    col(Delegate.checked_in_at).is_not(None)
                )
            )
        )
    assert admitted == [("Nguyễn Văn An", first.at)]


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (lambda t: t[:-6], "credential_malformed"),
        (lambda t: t[:40], "credential_malformed"),
        (lambda t: "hello world", "credential_malformed"),
        (lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:], "credential_forged"),
    ],
)
async def test_bad_codes_are_refused_by_name(door: Door, spoil: Any, code: str) -> None:
    outcome = await door.one("HNI", Scan(nonce(), spoil(door.badge("Nguyễn Văn An"))))
    assert (outcome.outcome, outcome.code) == ("refused", code)
    error = outcome.error()
    assert error is not None and error.code == code
    assert await door.ledger() == []
    assert (await door.figures())[0]["HNI"] == 0


async def test_expired_revoked_and_other_conference_badges(db: Database) -> None:
    door = await make_door(db)
    other = await make_door(db, title="Hội nghị khác")
    an = door.delegates["Nguyễn Văn An"]
    cases = {
        credentials.issue(
            RING,
            door.conference.public_id,
            an.public_id,
            1,
            datetime.now(UTC) - timedelta(minutes=1),
        ): "credential_expired",
        other.badge("Nguyễn Văn An"): "credential_other_conference",
        credentials.issue(
            Keyring.of([new_key_row(1)]),
            door.conference.public_id,
            an.public_id,
            1,
            datetime(2099, 1, 1, tzinfo=UTC),
        ): "credential_forged",
    }
    for badge, code in cases.items():
        outcome = await door.one("HNI", Scan(nonce(), badge))
        assert (outcome.outcome, outcome.code) == ("refused", code)
    # Reissued: the old badge is revoked, the new one admits.
    async with db.transaction() as session:
        fresh = await session.get(Delegate, an.id)
        assert fresh is not None
        renewed = await reissue(session, door.conference, fresh, actor=door.organizer)
    assert renewed.credential_version == 2
    outcome = await door.one("HNI", Scan(nonce(), door.badge("Nguyễn Văn An")))
    assert (outcome.outcome, outcome.code) == ("refused", "credential_revoked")
    assert await door.ledger() == []
    outcome = await door.one("HNI", Scan(nonce(), door.badge("Nguyễn Văn An", version=2)))
    assert outcome.outcome == "ok"


async def test_an_operator_admits_only_their_own_sites_delegates(door: Door) -> None:
    lci = door.delegates["Lê Văn Cường"]
    # By badge: a clear refusal naming the delegate's site (the person is standing there).
    outcome = await door.one("HNI", Scan(nonce(), door.badge("Lê Văn Cường")))
    assert (outcome.outcome, outcome.code, outcome.message) == (
        "refused",
        "delegate_other_site",
        "Lê Văn Cường is registered at Lào Cai, not here",
    )
    # By id: the operator does not see them at all.
    outcome = await door.one("HNI", Scan(nonce(), delegate_id=lci.public_id))
    assert (outcome.outcome, outcome.code) == ("refused", "not_found")
    assert outcome.delegate is None
    assert (await door.one("LCI", Scan(nonce(), delegate_id=lci.public_id))).outcome == "ok"
    hni = door.operator("HNI")
    async with door.db.transaction() as session:
        with pytest.raises(NotFound):
            await undo_checkin(session, door.conference, lci.public_id, "", actor=hni)
    async with door.db.read() as session:
        assert await list_checkins(session, door.conference, actor=hni) == []
        seen = await list_checkins(session, door.conference, actor=door.operator("LCI"))
    assert [row.delegate.full_name for row in seen] == ["Lê Văn Cường"]
    assert (await door.figures(hni))[0] == {"HNI": 0}
    assert await door.ledger() == [("checkin", "ok")]


async def test_organizer_override_undo_and_attendance(door: Door) -> None:
    lci = door.delegates["Lê Văn Cường"]
    scan = Scan(nonce(), delegate_id=lci.public_id)
    refused = await door.one("HNI", scan, actor=door.organizer)
    assert (refused.outcome, refused.code) == ("refused", "delegate_other_site")
    admitted = await door.one(
        "HNI",
        Scan(nonce(), delegate_id=lci.public_id),
        actor=door.organizer,
        method="manual",
        override=True,
        note="came with the Hà Nội delegation",
    )
    assert (admitted.outcome, admitted.site) == ("ok", "HNI")
    assert await door.figures() == ({"HNI": 1, "LCI": 0, "HPG": 0}, 0)
    async with door.db.transaction() as session:
        _, _, present = await undo_checkin(
            session, door.conference, lci.public_id, "wrong person", actor=door.organizer
        )
    assert present["checked_in"] == 0
    with pytest.raises(Conflict):
        async with door.db.transaction() as session:
            await undo_checkin(session, door.conference, lci.public_id, "", actor=door.organizer)
    assert await door.figures() == ({"HNI": 0, "LCI": 0, "HPG": 0}, 0)
    async with door.db.read() as session:
        actions = list(await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))))
    assert "checkin.override" in actions and "checkin.undo" in actions
    assert await door.ledger() == [("checkin", "ok"), ("undo", "ok")]


async def test_an_offline_upload_keeps_its_times_and_flags_conflicts(db: Database) -> None:
    door = await make_door(db, cross_site=True)
    await door.one("HNI", Scan(nonce(), delegate_id=door.delegates["Nguyễn Văn An"].public_id))
    at_the_door = datetime.now(UTC) - timedelta(minutes=20)
    batch = [
        Scan(nonce(), door.badge("Trần Thị Bình"), happened_at=at_the_door),
        Scan(nonce(), door.badge("Nguyễn Văn An"), happened_at=at_the_door),
        Scan(nonce(), "PL1GARBAGE", happened_at=at_the_door),
    ]
    results = await door.scan("LCI", *batch, offline=True)
    assert [r.outcome for r in results] == ["ok", "conflict", "refused"]
    assert results[0].at == at_the_door and results[1].site == "HNI"
    assert results[2].code == "credential_malformed"
    # Uploading the same batch again changes nothing.
    again = await door.scan("LCI", *batch, offline=True)
    assert [r.outcome for r in again] == ["ok", "conflict", "refused"]
    assert all(r.replayed for r in again[:2])
    assert len(await door.ledger()) == 3
    async with db.read() as session:
        conflicts = await open_conflicts(session, door.conference, actor=door.organizer)
    assert [c.delegate.full_name for c in conflicts] == ["Nguyễn Văn An"]
    assert (await door.figures())[1] == 1
    async with db.transaction() as session:
        await resolve_conflict(
            session,
            door.conference,
            conflicts[0].row.public_id,
            "conflicting",
            "",
            actor=door.organizer,
        )
    assert await door.figures() == ({"HNI": 0, "LCI": 2, "HPG": 0}, 0)
    async with db.read() as session:
        refused = list(
            await session.exec(
                select(AuditEntry).where(col(AuditEntry.action) == "checkin.refused")
            )
        )
    assert len(refused) == 2 and refused[0].changes["code"] == "credential_malformed"


async def test_a_wrong_clock_refuses_only_its_own_scans(door: Door) -> None:
    now = datetime.now(UTC)
    results = await door.scan(
        "HNI",
        Scan(nonce(), door.badge("Nguyễn Văn An"), happened_at=now + timedelta(hours=2)),
        Scan(nonce(), door.badge("Nguyễn Văn An"), happened_at=datetime(2020, 1, 1, tzinfo=UTC)),
        Scan(nonce(), door.badge("Trần Thị Bình"), happened_at=now),
        offline=True,
    )
    assert [(r.outcome, r.code) for r in results] == [
        ("refused", "scan_time_invalid"),
        ("refused", "scan_time_invalid"),
        ("ok", ""),
    ]
    assert await door.ledger() == [("checkin", "ok")]


async def test_a_nonce_reused_for_another_person_or_site_is_refused(door: Door) -> None:
    used = nonce()
    assert (await door.one("HNI", Scan(used, door.badge("Nguyễn Văn An")))).outcome == "ok"
    for code, name in (("LCI", "Lê Văn Cường"), ("HNI", "Trần Thị Bình")):
        outcome = await door.one(code, Scan(used, door.badge(name)))
        assert (outcome.outcome, outcome.code) == ("refused", "nonce_reused")
        # Nothing about whom the nonce admitted.
        assert outcome.delegate is None and "Nguyễn" not in outcome.message
    assert await door.ledger() == [("checkin", "ok")]


async def test_the_ledger_is_append_only(door: Door) -> None:
    assert (await door.one("HNI", Scan(nonce(), door.badge("Nguyễn Văn An")))).outcome == "ok"
    for statement in ("UPDATE checkin SET outcome = 'conflict'", "DELETE FROM checkin"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with door.db.transaction() as session:
                await session.exec(text(statement))  # type: ignore[call-overload]
    async with door.db.read() as session:
        assert (await session.exec(select(func.count()).select_from(CheckIn))).one() == 1
