"""Roll calls of sites against the database: who answers for which site, once, while
the call is open; each step an event and an audit entry."""

from __future__ import annotations

import pytest

from agenda.presence import answer_roll_call, close_roll_call, roll_call_data, start_roll_call
from conference.actors import Actor
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.agenda.stage import Floor


async def answer(floor: Floor, actor: Actor, site: str | None = None) -> dict[str, object]:
    return await floor.run(lambda s: answer_roll_call(s, floor.conference, site=site, actor=actor))


async def test_roll_call_of_sites(floor: Floor) -> None:
    lci = floor.operator("LCI")
    with pytest.raises(Conflict):
        await answer(floor, lci)
    call = await floor.run(lambda s: start_roll_call(s, floor.conference, actor=floor.chair))
    assert call["sites"] == ["HNI", "LCI", "HPG"] and call["replaces"] is None
    answered = await answer(floor, lci)
    assert answered["site"] == "LCI" and answered["id"] == call["id"]
    with pytest.raises(Conflict) as excinfo:
        await answer(floor, lci)
    assert excinfo.value.field == "site"
    # An operator answers for their own site only (naming it is allowed).
    with pytest.raises(NotFound):
        await answer(floor, lci, "HPG")
    with pytest.raises(Forbidden):
        await answer(floor, floor.role("secretary"), "HPG")
    # The chair answers for a site it names.
    with pytest.raises(InvalidInput):
        await answer(floor, floor.chair)
    with pytest.raises(NotFound):
        await answer(floor, floor.chair, "XYZ")
    assert (await answer(floor, floor.chair, "hni"))["site"] == "HNI"
    async with floor.db.read() as session:
        assert floor.conference.id is not None
        state = await roll_call_data(session, floor.conference.id)
    assert set(state["answered"]) == {"LCI", "HNI"} and state["missing"] == ["HPG"]
    closed = await floor.run(lambda s: close_roll_call(s, floor.conference, actor=floor.chair))
    assert closed["answered"] == 2 and closed["missing"] == ["HPG"]
    with pytest.raises(Conflict):
        await answer(floor, floor.operator("HPG"))
    with pytest.raises(Conflict):
        await floor.run(lambda s: close_roll_call(s, floor.conference, actor=floor.chair))
    kinds = [t for _, t, _ in await floor.events() if t.startswith("roll_call/")]
    assert kinds == [
        "roll_call/started",
        "roll_call/answered",
        "roll_call/answered",
        "roll_call/closed",
    ]
    actions = [a for a in await floor.audited() if a.startswith("roll_call.")]
    assert actions == [
        "roll_call.start",
        "roll_call.answer",
        "roll_call.answer",
        "roll_call.close",
    ]


async def test_a_new_roll_call_closes_the_open_one(floor: Floor) -> None:
    first = await floor.run(lambda s: start_roll_call(s, floor.conference, actor=floor.chair))
    await answer(floor, floor.operator("LCI"))
    second = await floor.run(lambda s: start_roll_call(s, floor.conference, actor=floor.chair))
    assert second["replaces"] == first["id"]
    # The new call starts with nobody's answer.
    assert (await answer(floor, floor.operator("LCI")))["id"] == second["id"]
