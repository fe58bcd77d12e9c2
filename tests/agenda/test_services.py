"""Creating agenda items: nesting, positions, sites, and times on the conference's days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import get_args

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from agenda.models import ITEM_KINDS, AgendaItem
from agenda.schemas import AgendaItemCreate, ItemKind
from agenda.services import create_agenda_item, delete_agenda_item
from agenda.state import load_agenda
from conference.actors import Actor
from conference.db import Database
from conference.errors import InvalidInput
from conference.models import Conference, LiveEvent
from tests.agenda.stage import Floor
from tests.agenda.test_jobs import add_item
from tests.conftest import new_conference

HANOI = timezone(timedelta(hours=7))


async def setup(db: Database) -> tuple[Conference, Actor]:
    conference, actor, _ = await new_conference(db, sites=(("TW", "Hà Nội"),))
    return conference, actor


def test_kinds_match_the_model() -> None:
    assert get_args(ItemKind) == ITEM_KINDS


async def test_items_nest_and_take_the_next_position(db: Database) -> None:
    conference, actor = await setup(db)
    async with db.transaction() as session:
        opening = await create_agenda_item(
            session,
            conference,
            AgendaItemCreate(
                title="Khai mạc",
                kind="opening",
                planned_start=datetime(2026, 12, 1, 8, 0, tzinfo=HANOI),
                duration_minutes=10,
                presenter="Nguyễn Văn A",
                site="tw",
            ),
            actor=actor,
        )
        block = await create_agenda_item(
            session, conference, AgendaItemCreate(title="Tham luận", kind="session"), actor=actor
        )
        first = await create_agenda_item(
            session,
            conference,
            AgendaItemCreate(title="Tham luận 1", kind="speech", parent=block.public_id),
            actor=actor,
        )
        second = await create_agenda_item(
            session,
            conference,
            AgendaItemCreate(title="Tham luận 2", kind="speech", parent=block.public_id),
            actor=actor,
        )
    assert (opening.position, block.position) == (1, 2)
    assert (first.position, second.position) == (1, 2)
    assert first.parent_id == block.id and opening.parent_id is None
    assert opening.planned_start == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    async with db.transaction() as session:
        event = (await session.exec(select(LiveEvent).order_by(col(LiveEvent.seq).desc()))).first()
    assert event is not None and event.type == "agenda_item/created"
    assert event.data["parent"] == block.public_id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # Times outside the conference's days are allowed (a postponed conference keeps
        # them); absurd years are not.
        ({"planned_start": datetime(1800, 12, 2, 8, 0, tzinfo=HANOI)}, "planned_start"),
        ({"planned_start": datetime(9999, 12, 31, 23, 0, tzinfo=UTC)}, "planned_start"),
        ({"site": "XYZ"}, "site"),
        ({"parent": "no-such-item"}, "parent"),
    ],
)
async def test_refused_items_name_the_field(
    db: Database, changes: dict[str, object], field: str
) -> None:
    conference, actor = await setup(db)
    with pytest.raises(InvalidInput) as excinfo:
        async with db.transaction() as session:
            data = AgendaItemCreate.model_validate({"title": "Khai mạc", **changes})
            await create_agenda_item(session, conference, data, actor=actor)
    assert excinfo.value.field == field
    async with db.transaction() as session:
        assert list(await session.exec(select(AgendaItem))) == []


async def test_a_postponed_conference_keeps_its_items_times(db: Database) -> None:
    conference, actor = await setup(db)
    start = datetime(2026, 11, 24, 8, 0, tzinfo=HANOI)
    item = await add_item(db, conference, actor, "Khai mạc", planned_start=start)
    assert item.planned_start == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


async def test_a_time_just_after_midnight_local_is_on_the_day(db: Database) -> None:
    conference, actor = await setup(db)
    start = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    item = await add_item(db, conference, actor, "Sớm", planned_start=start)
    assert item.id is not None


@pytest.mark.parametrize(
    "raw",
    [
        {"title": "X", "planned_start": "2026-12-01T08:00:00"},  # no zone
        {"title": "X", "kind": "lunch"},
        {"title": "X", "duration_minutes": -1},
        {"title": "X", "duration_minutes": "10"},
        {"title": ""},
    ],
)
def test_bad_item_input_is_refused(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AgendaItemCreate.model_validate(raw)


async def titles(floor: Floor) -> list[str]:
    """The agenda's titles in reading order."""
    async with floor.db.read() as session:
        assert floor.conference.id is not None
        agenda = await load_agenda(session, floor.conference.id)
    return [item.title for item in agenda.in_order()]


async def delete(floor: Floor, key: str) -> None:
    await floor.run(
        lambda s: delete_agenda_item(
            s, floor.conference, floor.items.get(key, key), actor=floor.organizer
        )
    )


async def test_a_session_goes_with_the_items_inside_it(floor: Floor) -> None:
    await delete(floor, "session")
    assert await titles(floor) == ["Khai mạc", "Bế mạc"]
    [deleted] = [d for _, t, d in await floor.events() if t == "agenda_item/deleted"]
    assert deleted == {
        "id": floor.items["session"],
        "items": [floor.items["session"], floor.items["talk1"], floor.items["talk2"]],
    }
    assert [a for a in await floor.audited() if a == "agenda_item.delete"] == ["agenda_item.delete"]
