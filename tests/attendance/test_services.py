"""Creating delegates: site by code, NFC, duplicates, audit and live event."""

from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError
from sqlmodel import col, func, select

from attendance.models import CATEGORIES, Delegate
from attendance.schemas import Category, DelegateCreate
from attendance.services import create_delegate
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import Conflict, Forbidden, InvalidInput
from conference.models import AuditEntry, Conference, LiveEvent
from tests.conftest import new_conference


async def setup(db: Database) -> tuple[Conference, Actor]:
    conference, actor, _ = await new_conference(db)
    return conference, actor


def test_categories_match_the_model() -> None:
    assert Category.__args__ == CATEGORIES  # type: ignore[attr-defined]


async def test_create_delegate_normalises_and_announces(db: Database) -> None:
    conference, actor = await setup(db)
    decomposed = unicodedata.normalize("NFD", "  Lò Văn Páo ")
    async with db.transaction() as session:
        data = DelegateCreate(
            name=decomposed,
            title=unicodedata.normalize("NFD", "Chánh Văn phòng Tỉnh ủy"),
            site="lci",
            email="pao@example.org",
        )
        delegate = await create_delegate(session, conference, data, actor=actor)
    assert delegate.full_name == "Lò Văn Páo"
    assert unicodedata.is_normalized("NFC", delegate.title)
    assert delegate.name_folded == "lo van pao"
    assert delegate.category == "official"
    async with db.transaction() as session:
        events = list(await session.exec(select(LiveEvent).order_by(col(LiveEvent.seq))))
        audit = list(
            await session.exec(select(AuditEntry).where(AuditEntry.action == "delegate.create"))
        )
    assert events[-1].type == "delegate/created"
    assert events[-1].data["site"] == "LCI" and "email" not in events[-1].data
    assert len(audit) == 1 and audit[0].target_id == delegate.public_id


async def test_same_name_at_the_same_site_is_refused(db: Database) -> None:
    conference, actor = await setup(db)
    async with db.transaction() as session:
        await create_delegate(
            session, conference, DelegateCreate(name="Lò Văn Páo", site="LCI"), actor=actor
        )
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            data = DelegateCreate(name="lo van pao", site="LCI")
            await create_delegate(session, conference, data, actor=actor)
    assert excinfo.value.field == "name"
    async with db.transaction() as session:
        assert (await session.exec(select(func.count()).select_from(Delegate))).one() == 1


async def test_unknown_site_and_missing_role(db: Database) -> None:
    conference, actor = await setup(db)
    with pytest.raises(InvalidInput) as excinfo:
        async with db.transaction() as session:
            data = DelegateCreate(name="Lò Văn Páo", site="XYZ")
            await create_delegate(session, conference, data, actor=actor)
    assert excinfo.value.field == "site"
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            data = DelegateCreate(name="Lò Văn Páo", site="LCI")
            viewer = Actor(CLI, conference.id, frozenset({"viewer"}))
            await create_delegate(session, conference, data, actor=viewer)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", 12),
        ("category", "vip"),
        ("email", "not-an-email"),
        ("phone", "call me"),
        ("site", "two words"),
        ("extra", "x"),
    ],
)
def test_bad_delegate_input_names_the_field(field: str, value: object) -> None:
    raw: dict[str, object] = {"name": "Lò Văn Páo", "site": "LCI", field: value}
    with pytest.raises(ValidationError) as excinfo:
        DelegateCreate.model_validate(raw)
    assert excinfo.value.errors()[0]["loc"][0] == field
