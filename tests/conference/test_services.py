"""Conferences against the database: text in NFC, random public ids, who may create
one, and changes that record only what changed (and nothing when nothing did)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from conference.actors import ANONYMOUS, CLI, Actor, Principal
from conference.db import Database
from conference.errors import Forbidden, InvalidInput
from conference.models import AuditEntry, Conference, LiveEvent
from conference.schemas import ConferenceCreate, ConferenceUpdate
from conference.services import create_conference, update_conference

CONFERENCE = {
    "title": "Hội nghị toàn quốc Văn phòng cấp ủy",
    "starts_on": "2026-12-10",
    "ends_on": "2026-12-11",
}


async def create(db: Database, actor: Actor | None = None, **fields: object) -> Conference:
    async with db.transaction() as session:
        data = ConferenceCreate.model_validate({**CONFERENCE, **fields})
        return await create_conference(session, data, actor=actor or Actor(CLI))


async def records(db: Database) -> tuple[int, int]:
    """How many audit entries and live events there are."""
    async with db.read() as session:
        audits = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
        events = (await session.exec(select(func.count()).select_from(LiveEvent))).one()
    return audits, events


async def test_a_conference_is_stored_in_nfc(db: Database) -> None:
    decomposed = unicodedata.normalize("NFD", "Hội nghị họ Nguyễn")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    made = await create(db, title=decomposed, venue=f"  {decomposed} ")
    async with db.read() as session:
        stored = await session.get(Conference, made.id)
    assert stored is not None
    assert stored.title == "Hội nghị họ Nguyễn" and unicodedata.is_normalized("NFC", stored.title)
    assert stored.venue == "Hội nghị họ Nguyễn"


async def test_conferences_get_random_ids_and_are_audited(db: Database) -> None:
    made = [await create(db) for _ in range(2)]
    ids = [c.public_id for c in made]
    assert ids[0] != ids[1]
    assert all(len(i) >= 16 and not i.isdigit() for i in ids)
    assert [c.last_seq for c in made] == [1, 1]
    async with db.read() as session:
        rows = list(
            await session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.action) == "conference.create")
                .order_by(col(AuditEntry.id))
            )
        )
    assert [r.target_id for r in rows] == ids
    assert rows[0].changes["title"] == CONFERENCE["title"]


async def test_only_who_may_create_conferences_does(db: Database) -> None:
    plain = Principal(kind="account", name="plain", account_id=None)
    for principal in (plain, ANONYMOUS):
        with pytest.raises(Forbidden):
            await create(db, Actor(principal))
    assert await records(db) == (0, 0)


async def test_an_update_records_only_what_changed(db: Database) -> None:
    conference = await create(db)
    organizer = Actor(CLI, conference.id, frozenset({"organizer"}))
    audits, events = await records(db)

    async def update(**changes: object) -> Conference:
        async with db.transaction() as session:
            fresh = await session.get(Conference, conference.id)
            assert fresh is not None
            data = ConferenceUpdate.model_validate(changes)
            return await update_conference(session, fresh, data, actor=organizer)

    changed = await update(title="Hội nghị mới", public=True)
    assert (changed.title, changed.public, changed.last_seq) == ("Hội nghị mới", True, 2)
    assert await records(db) == (audits + 1, events + 1)
    async with db.read() as session:
        entry = (
            await session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1))
        ).one()
    assert entry.action == "conference.update"
    assert entry.changes == {
        "title": [CONFERENCE["title"], "Hội nghị mới"],
        "public": [False, True],
    }
    # The same values again change nothing: no audit entry, no event.
    assert (await update(title="Hội nghị mới")).last_seq == 2
    assert await records(db) == (audits + 1, events + 1)
    # Dates that end before they start are refused, against the stored start too.
    with pytest.raises(InvalidInput) as excinfo:
        await update(ends_on=date(2026, 12, 1))
    assert excinfo.value.field == "ends_on"
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            chair = Actor(CLI, conference.id, frozenset({"chair"}))
            await update_conference(session, conference, ConferenceUpdate(title="x"), actor=chair)
    assert await records(db) == (audits + 1, events + 1)
