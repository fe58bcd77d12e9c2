"""Moving through the agenda against the database: start, end, skip and back, one event
per move, and who may move it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from agenda.live import Action, move_agenda
from agenda.schemas import AgendaMove
from agenda.snapshot import agenda_snapshot
from conference.actors import Actor
from conference.errors import Conflict, Forbidden, InvalidInput
from conference.models import Conference
from conference.snapshot import conference_snapshot
from tests.agenda.stage import Floor


def statuses(items: list[dict[str, Any]]) -> dict[str, str]:
    return {item["title"]: item["status"] for item in items}


async def move(
    floor: Floor, action: Action, item: str | None = None, actor: Actor | None = None
) -> dict[str, Any]:
    return await floor.run(
        lambda s: move_agenda(s, floor.conference, action, item=item, actor=actor or floor.chair)
    )


async def test_the_chair_moves_through_the_steps(floor: Floor) -> None:
    before = await floor.last_seq()
    moved = await move(floor, "start")
    assert moved["current"] == floor.items["opening"]
    assert statuses(moved["items"]) == {"Khai mạc": "running"}
    # The next step is inside the session: the session runs with it.
    moved = await move(floor, "start")
    assert moved["current"] == floor.items["talk1"]
    assert statuses(moved["items"]) == {
        "Khai mạc": "done",
        "Thảo luận": "running",
        "Tham luận của các điểm cầu": "running",
    }
    moved = await move(floor, "skip", floor.items["talk2"])
    assert statuses(moved["items"]) == {"Ý kiến của đại biểu": "skipped"}
    moved = await move(floor, "end")
    assert moved["current"] is None
    assert statuses(moved["items"]) == {"Thảo luận": "done", "Tham luận của các điểm cầu": "done"}
    # Back: the step before the next one (here the skipped one) runs, its session with it.
    moved = await move(floor, "back")
    assert moved["current"] == floor.items["talk2"]
    assert statuses(moved["items"]) == {"Thảo luận": "running", "Ý kiến của đại biểu": "running"}
    moved = await move(floor, "start")
    assert moved["current"] == floor.items["closing"]
    with pytest.raises(Conflict):
        await move(floor, "start", floor.items["closing"])
    # A session is not a step: it runs with its items.
    with pytest.raises(InvalidInput) as excinfo:
        await move(floor, "start", floor.items["session"])
    assert excinfo.value.field == "item"
    # One event per move, gapless, in the order the moves were made.
    logged = await floor.events(before)
    assert [seq for seq, _, _ in logged] == list(range(before + 1, before + 1 + len(logged)))
    assert [(t, d["action"]) for _, t, d in logged] == [
        ("agenda/live", "start"),
        ("agenda/live", "start"),
        ("agenda/live", "skip"),
        ("agenda/live", "end"),
        ("agenda/live", "back"),
        ("agenda/live", "start"),
    ]
    assert [a for a in await floor.audited() if a.startswith("agenda.")] == [
        "agenda.start",
        "agenda.start",
        "agenda.skip",
        "agenda.end",
        "agenda.back",
        "agenda.start",
    ]
    # The snapshot agrees with the log.
    async with floor.db.consistent_read() as session:
        conference = await session.get(Conference, floor.conference.id)
        assert conference is not None
        core = await conference_snapshot(session, conference, actor=floor.chair)
        snap = await agenda_snapshot(session, conference, actor=floor.chair)
    assert core["seq"] == logged[-1][0]
    assert snap["agenda"]["current"] == floor.items["closing"]
    assert statuses(snap["agenda"]["items"]) == {
        "Khai mạc": "done",
        "Thảo luận": "done",
        "Tham luận của các điểm cầu": "done",
        "Ý kiến của đại biểu": "done",
        "Bế mạc": "running",
    }
    item = next(i for i in snap["agenda"]["items"] if i["title"] == "Khai mạc")
    assert item["started_at"] and item["ended_at"] and item["ended_at"] >= item["started_at"]


async def test_only_the_chair_or_an_organizer_moves_the_agenda(floor: Floor) -> None:
    before = await floor.last_seq()
    for actor in (floor.role("secretary"), floor.operator("LCI"), floor.delegate("LCI0")):
        with pytest.raises(Forbidden):
            await move(floor, "start", actor=actor)
    with pytest.raises(ValidationError):
        AgendaMove.model_validate({"action": "jump"})
    assert await floor.last_seq() == before
    moved = await move(floor, "start", actor=floor.organizer)
    assert moved["current"] == floor.items["opening"]
