"""Saving the minutes against the database: each save on the revision it was made on, a
stale one refused with the current text, every revision kept, one event and audit each."""

from __future__ import annotations

from typing import Any

import pytest

from agenda.minutes.models import MinutesSection
from agenda.minutes.services import read_minutes, save_section, section_revisions
from conference.actors import Actor
from conference.errors import Conflict, Forbidden, NotFound
from tests.agenda.stage import Floor

OPENING = "Đồng chí Chủ trì phát biểu khai mạc."


async def save(
    floor: Floor, key: str, text: str, revision: int, actor: Actor | None = None, **kw: Any
) -> MinutesSection:
    return await floor.run(
        lambda s: save_section(
            s,
            floor.conference,
            floor.items.get(key, key),
            text,
            revision,
            actor=actor or floor.role("secretary"),
            **kw,
        )
    )


async def test_sections_save_on_their_revision_and_keep_every_text(floor: Floor) -> None:
    item = floor.items["opening"]
    saved = await save(floor, "opening", OPENING, 0)
    assert (saved.key, saved.revision, saved.updated_by) == (item, 1, "secretary")
    # A second tab still on revision 0: refused, with the current text to merge.
    before = await floor.last_seq()
    with pytest.raises(Conflict) as excinfo:
        await save(floor, "opening", "Bản khác", 0, floor.organizer)
    assert excinfo.value.field == "revision"
    assert (excinfo.value.details["revision"], excinfo.value.details["text"]) == (1, OPENING)
    assert await floor.last_seq() == before
    # Merged and saved on revision 1.
    merged = OPENING + "\n\n**Kết luận:** thống nhất chương trình."
    saved = await save(floor, "opening", merged, 1, floor.organizer, decisions=["Thống nhất"])
    assert saved.revision == 2
    chair = floor.chair
    async with floor.db.read() as session:
        history = await section_revisions(session, floor.conference, item, actor=chair)
        whole = await read_minutes(session, floor.conference, actor=chair)
    assert [(r["revision"], r["text"], r["decisions"]) for r in history] == [
        (1, OPENING, []),
        (2, merged, ["Thống nhất"]),
    ]
    assert [(s["section"], s["revision"], s["text"]) for s in whole] == [(item, 2, merged)]
    # One event per save, without the text; one audit entry each.
    logged = [d for _, t, d in await floor.events() if t == "minutes/updated"]
    assert [d["revision"] for d in logged] == [1, 2] and "text" not in logged[0]
    assert (await floor.audited()).count("minutes.save") == 2


async def test_the_minutes_own_sections_and_unknown_ones(floor: Floor) -> None:
    # The opening and closing sections are the minutes' own, with or without an item.
    for key in ("opening", "closing"):
        saved = await floor.run(
            lambda s, key=key: save_section(
                s, floor.conference, key, "", 0, actor=floor.role("secretary")
            )
        )
        assert (saved.key, saved.item_id, saved.revision) == (key, None, 1)
    with pytest.raises(NotFound) as excinfo:
        await save(floor, "nosuchitem", "x", 0)
    assert excinfo.value.field == "section"
    async with floor.db.read() as session:
        with pytest.raises(NotFound):
            await section_revisions(session, floor.conference, "talk1", actor=floor.chair)


async def test_only_the_secretary_and_organizers_write_and_the_staff_read(floor: Floor) -> None:
    for actor in (floor.chair, floor.operator("LCI")):
        with pytest.raises(Forbidden):
            await save(floor, "opening", "x", 0, actor)
    await save(floor, "opening", "x", 0)
    async with floor.db.read() as session:
        with pytest.raises(Forbidden):
            await section_revisions(
                session, floor.conference, floor.items["opening"], actor=floor.operator("LCI")
            )
