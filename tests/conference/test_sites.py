"""Site rules that protect what people entered."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from attendance.models import Delegate
from conference.db import Database
from conference.errors import Conflict
from conference.models import AuditEntry, Site
from conference.services import delete_site
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


async def _count(db: Database, model: type[Site] | type[Delegate] | type[AuditEntry]) -> int:
    async with db.sessionmaker() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()
