"""Creating agenda items: nesting, positions, sites, and times on the conference's days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.live import move_agenda
from agenda.models import ITEM_KINDS, AgendaItem
from agenda.schemas import (
    AgendaItemCreate,
    AgendaItemUpdate,
    AgendaReorder,
    AgendaSettings,
    SpeakerCreate,
)
from agenda.services import (
    create_agenda_item,
    delete_agenda_item,
    reorder_agenda,
    update_agenda_item,
    update_agenda_settings,
)
from agenda.speakers import call_next, request_speaker
from agenda.state import load_agenda
from conference.actors import Actor
from conference.db import Database
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from conference.models import Conference, LiveEvent
from tests.agenda.stage import Floor
from tests.agenda.test_jobs import add_item
from tests.conftest import new_conference

HANOI = timezone(timedelta(hours=7))


async def setup(db: Database) -> tuple[Conference, Actor]:
    conference, actor, _ = await new_conference(db, sites=(("TW", "Hà Nội"),))
    return conference, actor


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


async def test_the_agenda_reads_in_order_and_reorders(floor: Floor) -> None:
    assert await titles(floor) == [
        "Khai mạc",
        "Thảo luận",
        "Tham luận của các điểm cầu",
        "Ý kiến của đại biểu",
        "Bế mạc",
    ]
    order = [floor.items["closing"], floor.items["session"], floor.items["opening"]]

    async def reorder(order: list[str], actor: Actor, parent: str | None = None) -> object:
        data = AgendaReorder(order=order, parent=parent)
        return await floor.run(lambda s: reorder_agenda(s, floor.conference, data, actor=actor))

    await reorder(order, floor.organizer)
    reordered = ["Bế mạc", "Thảo luận", "Tham luận của các điểm cầu", "Ý kiến của đại biểu"]
    assert await titles(floor) == [*reordered, "Khai mạc"]
    # The items inside a session are a level of their own.
    await reorder(
        [floor.items["talk2"], floor.items["talk1"]], floor.organizer, floor.items["session"]
    )
    reordered[2:] = reordered[:1:-1]
    assert await titles(floor) == [*reordered, "Khai mạc"]
    # A stale or partial order is a conflict and changes nothing.
    before = await floor.last_seq()
    with pytest.raises(Conflict) as excinfo:
        await reorder(order[:2], floor.organizer)
    assert excinfo.value.field == "order"
    with pytest.raises(Conflict):
        await reorder([*order, floor.items["talk1"]], floor.organizer)
    # Only an organizer builds the agenda.
    with pytest.raises(Forbidden):
        await reorder(order[::-1], floor.chair)
    assert await floor.last_seq() == before
    assert await titles(floor) == [*reordered, "Khai mạc"]
    logged = [(t, d) for _, t, d in await floor.events() if t == "agenda/reordered"]
    assert logged == [
        ("agenda/reordered", {"parent": None, "order": order}),
        (
            "agenda/reordered",
            {
                "parent": floor.items["session"],
                "order": [floor.items["talk2"], floor.items["talk1"]],
            },
        ),
    ]


async def update(floor: Floor, key: str, **changes: Any) -> AgendaItem:
    data = AgendaItemUpdate.model_validate(changes)
    return await floor.run(
        lambda s: update_agenda_item(
            s, floor.conference, floor.items.get(key, key), data, actor=floor.organizer
        )
    )


async def delete(floor: Floor, key: str) -> None:
    await floor.run(
        lambda s: delete_agenda_item(
            s, floor.conference, floor.items.get(key, key), actor=floor.organizer
        )
    )


async def test_items_are_changed_and_removed_while_planned(floor: Floor) -> None:
    item = await update(
        floor, "opening", title="Khai mạc hội nghị", speaking_limit_seconds=120, site="hni"
    )
    assert (item.title, item.speaking_limit_seconds, item.site_id) == (
        "Khai mạc hội nghị",
        120,
        floor.sites["HNI"].id,
    )
    assert (await titles(floor))[0] == "Khai mạc hội nghị"
    [event] = [d for _, t, d in await floor.events() if t == "agenda_item/updated"]
    assert (event["id"], event["title"], event["site"]) == (
        floor.items["opening"],
        "Khai mạc hội nghị",
        "HNI",
    )
    for body in (
        {"title": ""},
        {"site": "X X"},
        {"speaking_limit_seconds": -1},
        {"duration_minutes": "ten"},
        {"colour": "red"},
    ):
        with pytest.raises(ValidationError):
            AgendaItemUpdate.model_validate(body)
    with pytest.raises(InvalidInput) as excinfo:
        await update(floor, "opening", site="XXX")
    assert excinfo.value.field == "site"
    with pytest.raises(InvalidInput) as excinfo:
        await update(floor, "opening", title=None)
    assert excinfo.value.field == "title"
    await delete(floor, "closing")
    assert "Bế mạc" not in await titles(floor)
    await floor.run(lambda s: move_agenda(s, floor.conference, "start", actor=floor.chair))
    with pytest.raises(Conflict):
        await delete(floor, "opening")
    with pytest.raises(NotFound):
        await delete(floor, "nosuchitem")
    assert (await titles(floor))[0] == "Khai mạc hội nghị"
    deleted = [d for _, t, d in await floor.events() if t == "agenda_item/deleted"]
    assert deleted == [{"id": floor.items["closing"], "items": [floor.items["closing"]]}]


async def test_a_session_goes_with_the_items_inside_it(floor: Floor) -> None:
    await delete(floor, "session")
    assert await titles(floor) == ["Khai mạc", "Bế mạc"]
    [deleted] = [d for _, t, d in await floor.events() if t == "agenda_item/deleted"]
    assert deleted == {
        "id": floor.items["session"],
        "items": [floor.items["session"], floor.items["talk1"], floor.items["talk2"]],
    }
    assert [a for a in await floor.audited() if a == "agenda_item.delete"] == ["agenda_item.delete"]


async def test_the_presenter_is_a_delegate_or_a_name(floor: Floor) -> None:
    lci = floor.delegates["LCI0"]
    item = await floor.run(
        lambda s: create_agenda_item(
            s,
            floor.conference,
            AgendaItemCreate(
                title="Tham luận Lào Cai", kind="speech", presenter_delegate=lci.public_id
            ),
            actor=floor.organizer,
        )
    )
    assert (item.presenter_name, item.presenter_delegate_id) == (lci.full_name, lci.id)
    floor.items["lci"] = item.public_id
    item = await update(floor, "lci", presenter_delegate=None, presenter="Khách mời")
    assert (item.presenter_name, item.presenter_delegate_id) == ("Khách mời", None)
    with pytest.raises(InvalidInput) as excinfo:
        await update(floor, "lci", presenter_delegate="nobody")
    assert excinfo.value.field == "presenter_delegate"
    # Naming the delegate again takes their name, unless a presenter is given too.
    await update(floor, "lci", presenter_delegate=lci.public_id, presenter="Đồng chí Páo")
    async with floor.db.read() as session:
        assert floor.conference.id is not None
        agenda = await load_agenda(session, floor.conference.id)
    listed = agenda.data(agenda.get(item.public_id))
    assert (listed["presenter"], listed["presenter_delegate"]) == ("Đồng chí Páo", lci.public_id)


async def test_every_kind_is_stored_and_takes_its_own_speaking_limit(floor: Floor) -> None:
    """Each kind an item may have is stored as it is, and a speaker on an item of that
    kind gets the limit set for the kind."""
    limits = {kind: 60 + n for n, kind in enumerate(ITEM_KINDS)}
    await floor.run(
        lambda s: update_agenda_settings(
            s, floor.conference, AgendaSettings(kind_limits=limits), actor=floor.chair
        )
    )
    for kind in ITEM_KINDS:
        item = await floor.run(
            lambda s, kind=kind: create_agenda_item(
                s, floor.conference, AgendaItemCreate(title=kind, kind=kind), actor=floor.organizer
            )
        )

        async def speak(s: AsyncSession, item: str = item.public_id) -> dict[str, Any]:
            await move_agenda(s, floor.conference, "start", item=item, actor=floor.chair)
            await request_speaker(
                s, floor.conference, SpeakerCreate(item=item, name="Trần Văn B"), actor=floor.chair
            )
            return await call_next(s, floor.conference, item, actor=floor.chair)

        called = await floor.run(speak)
        assert called["changed"][0]["limit_seconds"] == limits[kind], kind
    async with floor.db.read() as session:
        stored = {row.title: row.kind for row in await session.exec(select(AgendaItem))}
    assert {kind: stored[kind] for kind in ITEM_KINDS} == {kind: kind for kind in ITEM_KINDS}
