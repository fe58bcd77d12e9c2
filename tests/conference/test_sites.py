"""Site rules against the database: codes and the main site unique, text in NFC,
positions, what is audited and logged, racing writers, and what must not be removed."""

from __future__ import annotations

import asyncio
import unicodedata
from typing import Any

import pytest
from sqlmodel import col, func, select

from attendance.models import Delegate
from conference.actors import Actor
from conference.db import Database
from conference.errors import Conflict
from conference.models import AuditEntry, Conference, LiveEvent, Site
from conference.schemas import SiteCreate, SiteUpdate
from conference.services import create_site, delete_site, list_sites, update_site
from tests.conftest import new_conference


async def test_a_site_with_delegates_cannot_be_removed(db: Database) -> None:
    conference, actor, (site,) = await new_conference(db)
    async with db.transaction() as session:
        assert conference.id is not None and site.id is not None
        session.add(Delegate(conference_id=conference.id, site_id=site.id, full_name="Lò Văn Páo"))
    audit_before = await _count(db, AuditEntry)
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            fresh = await session.get(Site, site.id)
            assert fresh is not None
            await delete_site(session, conference, fresh, actor=actor)
    assert excinfo.value.code == "conflict"
    assert excinfo.value.field == "site"
    assert await _count(db, Site) == 1
    assert await _count(db, Delegate) == 1
    assert await _count(db, AuditEntry) == audit_before


async def _count(
    db: Database, model: type[Site] | type[Delegate] | type[AuditEntry] | type[LiveEvent]
) -> int:
    async with db.sessionmaker() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


HNI = {"code": "HNI", "name": "Hà Nội", "kind": "remote", "expected_attendance": 40}


async def add(db: Database, conference: Conference, actor: Actor, **fields: Any) -> Site:
    async with db.transaction() as session:
        data = SiteCreate.model_validate({**HNI, **fields})
        return await create_site(session, conference, data, actor=actor)


async def change(
    db: Database, conference: Conference, actor: Actor, site: Site, **fields: Any
) -> Site:
    async with db.transaction() as session:
        fresh = await session.get(Site, site.id)
        assert fresh is not None
        return await update_site(
            session, conference, fresh, SiteUpdate.model_validate(fields), actor=actor
        )


async def sites_and_records(db: Database) -> tuple[Any, ...]:
    """Every site, and the audit and event counts: a refused change alters none."""
    async with db.read() as session:
        rows = (await session.exec(select(Site).order_by(col(Site.id)))).all()
    return [r.model_dump() for r in rows], await _count(db, AuditEntry), await _count(db, LiveEvent)


async def test_a_code_is_one_sites_whatever_its_case(db: Database) -> None:
    conference, actor, _ = await new_conference(db, sites=())
    await add(db, conference, actor)
    hcm = await add(db, conference, actor, code="HCM", name="TP. Hồ Chí Minh")
    before = await sites_and_records(db)
    # Codes are compared trimmed and upper-cased: " hni" is "HNI".
    for code in ("HNI", "hni", " hni"):
        with pytest.raises(Conflict) as excinfo:
            await add(db, conference, actor, code=code, name="Hà Nội 2")
        assert excinfo.value.field == "code"
    with pytest.raises(Conflict) as excinfo:
        await change(db, conference, actor, hcm, code="hni")
    assert excinfo.value.field == "code"
    assert await sites_and_records(db) == before
    # Another conference has codes of its own.
    other, other_actor, _ = await new_conference(db, title="Hội nghị khác", sites=())
    assert (await add(db, other, other_actor)).code == "HNI"


async def test_a_conference_has_one_main_site(db: Database) -> None:
    conference, actor, _ = await new_conference(db, sites=())
    main = await add(db, conference, actor, code="TW", name="Hội trường Trung ương", kind="main")
    hcm = await add(db, conference, actor, code="HCM", name="TP. Hồ Chí Minh")
    before = await sites_and_records(db)
    with pytest.raises(Conflict) as excinfo:
        await add(db, conference, actor, code="DN", name="Đà Nẵng", kind="main")
    assert excinfo.value.field == "kind"
    with pytest.raises(Conflict) as excinfo:
        await change(db, conference, actor, hcm, kind="main")
    assert excinfo.value.field == "kind"
    assert await sites_and_records(db) == before
    # The main site itself may be saved as main again.
    await change(db, conference, actor, main, kind="main", name="Hội trường")
    await change(db, conference, actor, main, kind="remote")
    assert (await change(db, conference, actor, hcm, kind="main")).kind == "main"


async def test_site_text_is_nfc_and_codes_upper_case(db: Database) -> None:
    conference, actor, _ = await new_conference(db, sites=())
    name = unicodedata.normalize("NFD", "Điểm cầu xã Nguyễn Huệ")
    contact = unicodedata.normalize("NFD", "Nguyễn Văn Á")
    site = await add(db, conference, actor, name=name, contact_name=contact, code="nh1")
    async with db.read() as session:
        row = await session.get(Site, site.id)
    assert row is not None
    assert (row.code, row.name, row.contact_name) == (
        "NH1",
        "Điểm cầu xã Nguyễn Huệ",
        "Nguyễn Văn Á",
    )
    assert unicodedata.is_normalized("NFC", row.name)
    changed = await change(db, conference, actor, site, region=unicodedata.normalize("NFD", "Huế"))
    assert changed.region == "Huế"


async def test_positions_follow_creation(db: Database) -> None:
    conference, actor, _ = await new_conference(db, sites=())
    for code in ("C", "A", "B"):
        await add(db, conference, actor, code=code, name=f"Site {code}")
    await add(db, conference, actor, code="Z", name="First", position=0)
    async with db.read() as session:
        listed = await list_sites(session, conference, actor=actor)
    assert [s.code for s in listed] == ["Z", "C", "A", "B"]


async def test_changes_are_audited_and_logged(db: Database) -> None:
    conference, actor, _ = await new_conference(db, sites=())
    site = await add(db, conference, actor)
    await change(db, conference, actor, site, expected_attendance=55, name="Hà Nội")
    # Nothing new: nothing recorded.
    await change(db, conference, actor, site, expected_attendance=55)
    async with db.transaction() as session:
        fresh = await session.get(Site, site.id)
        assert fresh is not None
        await delete_site(session, conference, fresh, actor=actor)
    async with db.read() as session:
        entries = list(
            await session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.target_type) == "site")
                .order_by(col(AuditEntry.id))
            )
        )
        events = list(
            await session.exec(
                select(LiveEvent)
                .where(col(LiveEvent.type).startswith("site/"))
                .order_by(col(LiveEvent.seq))
            )
        )
    assert [e.action for e in entries] == ["site.create", "site.update", "site.delete"]
    assert all(e.target_id == site.public_id for e in entries)
    assert entries[0].changes["code"] == "HNI"
    # Only what changed is recorded: the name was sent unchanged.
    assert entries[1].changes == {"expected_attendance": [40, 55]}
    assert entries[2].changes["name"] == "Hà Nội"
    assert [e.type for e in events] == ["site/created", "site/updated", "site/deleted"]
    assert [e.seq for e in events] == [events[0].seq, events[0].seq + 1, events[0].seq + 2]
    assert events[1].data["expected_attendance"] == 55
    assert events[2].data == {"id": site.public_id, "code": "HNI"}


async def test_racing_creates_of_one_code_give_one_site(db: Database) -> None:
    conference, actor, _ = await new_conference(db, sites=())

    async def create(n: int, **fields: Any) -> Site | Conflict:
        try:
            return await add(db, conference, actor, name=f"Site {n}", **fields)
        except Conflict as refused:
            return refused

    results = await asyncio.gather(*(create(n) for n in range(4)))
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 3 and all(r.field == "code" for r in refused)
    results = await asyncio.gather(*(create(n, code=f"M{n}", kind="main") for n in range(4)))
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 3 and all(r.field == "kind" for r in refused)
    async with db.read() as session:
        listed = await list_sites(session, conference, actor=actor)
    assert sorted((s.kind, s.code[0]) for s in listed) == [("main", "M"), ("remote", "H")]
