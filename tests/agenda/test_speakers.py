"""Speaker lists against the database: requests, approval and the one queue order, the
timer, who may ask and withdraw, stale reorders, fair order, and concurrent requests."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agenda.live import move_agenda
from agenda.schemas import AgendaSettings, SpeakerCreate
from agenda.services import update_agenda_settings
from agenda.snapshot import agenda_snapshot
from agenda.speakers import (
    SpeakerAction,
    act_on_speaker,
    call_next,
    list_speakers,
    reorder_speakers,
    request_speaker,
    set_speakers_open,
    speaking_stats,
)
from conference.actors import Actor
from conference.db import Database
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.agenda.stage import Floor, make_floor

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def started(floor: Floor, key: str = "talk1") -> str:
    """The item of key, running."""
    item = floor.items[key]
    await floor.run(
        lambda s: move_agenda(s, floor.conference, "start", item=item, actor=floor.chair)
    )
    return item


async def ask(floor: Floor, actor: Actor, **data: Any) -> dict[str, Any]:
    return await floor.run(
        lambda s: request_speaker(
            s, floor.conference, SpeakerCreate.model_validate(data), actor=actor
        )
    )


async def act(
    floor: Floor, speaker: str, action: SpeakerAction, actor: Actor | None = None, **kw: Any
) -> dict[str, Any]:
    return await floor.run(
        lambda s: act_on_speaker(
            s, floor.conference, speaker, action, actor=actor or floor.chair, **kw
        )
    )


async def next_speaker(floor: Floor, item: str, now: datetime | None = None) -> dict[str, Any]:
    return await floor.run(
        lambda s: call_next(s, floor.conference, item, actor=floor.chair, now=now)
    )


async def test_requests_are_approved_queued_called_and_timed(floor: Floor) -> None:
    item = await started(floor)
    lci, hpg, hni = (floor.delegates[key] for key in ("LCI0", "HPG0", "HNI0"))
    # An operator asks for their site's delegate; it waits for the chair.
    ev = await ask(floor, floor.operator("LCI"), delegate=lci.public_id, topic="Chuyển đổi số")
    [asked] = ev["changed"]
    assert (asked["status"], asked["site"], asked["name"], asked["topic"]) == (
        "requested",
        "LCI",
        lci.full_name,
        "Chuyển đổi số",
    )
    assert (asked["delegate"], asked["item"], ev["item"]) == (lci.public_id, item, item)
    assert ev["order"] == []
    # The delegate asks from their phone, for themself, on the running item.
    ev = await ask(floor, floor.delegate("HPG0"))
    mine = ev["changed"][0]["id"]
    assert (ev["item"], ev["changed"][0]["delegate"]) == (item, hpg.public_id)
    with pytest.raises(Conflict) as excinfo:
        await ask(floor, floor.delegate("HPG0"))
    assert excinfo.value.field == "delegate"
    # The chair approves both: queued in the order approved.
    for speaker in (mine, asked["id"]):
        ev = await act(floor, speaker, "approve")
    assert ev["order"] == [mine, asked["id"]]
    # A point of order goes ahead of the queue.
    ev = await ask(floor, floor.chair, item=item, delegate=hni.public_id, kind="point_of_order")
    point = ev["changed"][0]["id"]
    assert ev["order"] == [point, mine, asked["id"]] and ev["changed"][0]["status"] == "queued"
    # Next: the point of order speaks, with the conference's default limit, timer running.
    ev = await next_speaker(floor, item, T0)
    assert ev["speaking"] == point and ev["order"] == [mine, asked["id"]]
    speaking = next(s for s in ev["changed"] if s["id"] == point)
    assert speaking["status"] == "speaking" and speaking["timer_started_at"] == T0.isoformat()
    assert speaking["limit_seconds"] == 300
    ev = await act(floor, point, "pause", now=T0 + timedelta(seconds=42))
    paused = ev["changed"][0]
    assert paused["timer_started_at"] is None and paused["spoken_seconds"] == 42
    with pytest.raises(Conflict):
        await act(floor, point, "pause", now=T0 + timedelta(seconds=50))
    ev = await act(floor, point, "start", now=T0 + timedelta(seconds=60))
    assert ev["changed"][0]["timer_generation"] == 2
    # Calling the next ends the one speaking; the pause did not count.
    ev = await next_speaker(floor, item, T0 + timedelta(seconds=70))
    assert ev["speaking"] == mine
    done = next(s for s in ev["changed"] if s["id"] == point)
    assert done["status"] == "done" and done["ended_at"] and done["spoken_seconds"] == 52
    ev = await act(floor, mine, "finish")
    assert ev["speaking"] is None and ev["changed"][0]["status"] == "done"
    # Statistics count who spoke.
    async with floor.db.read() as session:
        stats = await speaking_stats(session, floor.conference)
        lst = await list_speakers(session, floor.conference, item)
        snapshot = await agenda_snapshot(session, floor.conference, actor=floor.chair)
    assert {s["site"]: s["count"] for s in stats["sites"]} == {"HNI": 1, "HPG": 1}
    assert {p["name"] for p in stats["people"]} == {hni.full_name, hpg.full_name}
    # The list's version counts its changes; the list and the snapshot hold the same.
    [listed] = [entry for entry in snapshot["speakers"] if entry["item"] == item]
    assert listed == lst
    assert lst["version"] == ev["version"] == 10 and lst["order"] == [asked["id"]]
    assert {s["id"]: s["status"] for s in lst["speakers"]} == {
        asked["id"]: "queued",
        mine: "done",
        point: "done",
    }
    assert {"speaker.request", "speaker.approve", "speaker.call"} <= set(await floor.audited())


async def test_who_may_ask_and_withdraw(floor: Floor) -> None:
    item = await started(floor)
    lci = floor.delegates["LCI0"].public_id
    # An operator of another site does not see the delegate.
    with pytest.raises(NotFound):
        await ask(floor, floor.operator("HPG"), item=item, delegate=lci)
    # An operator may not plan speeches nor add free names; a delegate asks only for themself.
    with pytest.raises(Forbidden):
        await ask(floor, floor.operator("LCI"), item=item, delegate=lci, kind="registered")
    with pytest.raises(InvalidInput) as excinfo:
        await ask(floor, floor.operator("LCI"), item=item, name="Khách mời")
    assert excinfo.value.field == "delegate"
    with pytest.raises(Forbidden):
        await ask(floor, floor.delegate("LCI1"), item=item, delegate=lci)
    ev = await ask(floor, floor.operator("LCI"), item=item, delegate=lci)
    speaker = ev["changed"][0]["id"]
    # A delegate cannot withdraw another's request; their operator can, another site's not.
    with pytest.raises(Forbidden):
        await act(floor, speaker, "withdraw", floor.delegate("LCI1"))
    with pytest.raises(NotFound):
        await act(floor, speaker, "withdraw", floor.operator("HPG"))
    with pytest.raises(Forbidden):
        await act(floor, speaker, "approve", floor.operator("LCI"))
    ev = await act(floor, speaker, "withdraw", floor.operator("LCI"))
    assert ev["changed"][0]["status"] == "withdrawn"
    with pytest.raises(Conflict):
        await act(floor, speaker, "withdraw", floor.operator("LCI"))
    # A closed list takes requests only from the chair.
    ev = await floor.run(
        lambda s: set_speakers_open(s, floor.conference, item, False, actor=floor.chair)
    )
    assert ev["open"] is False and ev["changed"] == []
    with pytest.raises(Conflict) as closed:
        await ask(floor, floor.delegate("LCI0"), item=item)
    assert "closed" in str(closed.value)
    ev = await ask(floor, floor.chair, item=item, name="Đồng chí Khách mời", site="HNI")
    guest = ev["changed"][0]
    assert (guest["status"], guest["site"], guest["delegate"]) == ("queued", "HNI", None)
    # A delegate withdraws their own request.
    await floor.run(lambda s: set_speakers_open(s, floor.conference, item, True, actor=floor.chair))
    ev = await ask(floor, floor.delegate("LCI1"), item=item)
    own = ev["changed"][0]["id"]
    ev = await act(floor, own, "withdraw", floor.delegate("LCI1"))
    assert ev["changed"][0]["status"] == "withdrawn"


async def test_planned_speeches_keep_their_order_and_requests_follow(floor: Floor) -> None:
    item = await started(floor)
    planned = []
    for key in ("HPG0", "LCI0", "HNI1"):
        ev = await ask(
            floor,
            floor.organizer,
            item=item,
            delegate=floor.delegates[key].public_id,
            kind="registered",
        )
        planned.append(ev["changed"][0]["id"])
    ev = await ask(
        floor, floor.operator("LCI"), item=item, delegate=floor.delegates["LCI1"].public_id
    )
    floor_request = ev["changed"][0]["id"]
    await act(floor, floor_request, "approve")
    ev = await ask(
        floor,
        floor.organizer,
        item=item,
        delegate=floor.delegates["HPG1"].public_id,
        kind="registered",
    )
    late = ev["changed"][0]["id"]
    assert ev["order"] == [*planned, late, floor_request]


async def test_fair_order_puts_sites_that_spoke_less_first(floor: Floor) -> None:
    item = await started(floor)
    await floor.run(
        lambda s: update_agenda_settings(
            s, floor.conference, AgendaSettings(fair_order=True), actor=floor.chair
        )
    )
    # LCI speaks once.
    await ask(floor, floor.chair, item=item, delegate=floor.delegates["LCI0"].public_id)
    await next_speaker(floor, item)
    # Then LCI asks again before HPG: HPG, which has not spoken, goes first.
    ids = {}
    for key, site in (("LCI1", "LCI"), ("HPG0", "HPG")):
        ev = await ask(
            floor, floor.operator(site), item=item, delegate=floor.delegates[key].public_id
        )
        ids[key] = ev["changed"][0]["id"]
    for key in ("LCI1", "HPG0"):
        ev = await act(floor, ids[key], "approve")
    assert ev["order"] == [ids["HPG0"], ids["LCI1"]]


async def test_a_stale_reorder_is_refused_and_changes_nothing(floor: Floor) -> None:
    item = await started(floor)
    ids = []
    for key in ("HNI0", "LCI0", "HPG0"):
        ev = await ask(floor, floor.chair, item=item, delegate=floor.delegates[key].public_id)
        ids.append(ev["changed"][0]["id"])
    version = ev["version"]

    async def reorder(order: list[str], version: int) -> dict[str, Any]:
        return await floor.run(
            lambda s: reorder_speakers(s, floor.conference, item, order, version, actor=floor.chair)
        )

    ev = await reorder(ids[::-1], version)
    assert ev["order"] == ids[::-1] and ev["version"] == version + 1
    # A second chair tab still holds the old version: refused, whatever it asks.
    before = await floor.last_seq()
    with pytest.raises(Conflict) as excinfo:
        await reorder(ids, version)
    assert excinfo.value.details == {"version": version + 1}
    # The current version but not the queue's entries: refused too.
    with pytest.raises(Conflict) as excinfo:
        await reorder(ids[:2], version + 1)
    assert excinfo.value.field == "order"
    with pytest.raises(Conflict):
        await reorder([ids[0], ids[0], ids[1]], version + 1)
    assert await floor.last_seq() == before
    async with floor.db.read() as session:
        lst = await list_speakers(session, floor.conference, item)
    assert lst["order"] == ids[::-1]


async def test_concurrent_requests_from_many_sites_end_in_one_order(db: Database) -> None:
    sites = tuple((f"S{n:02d}", f"Điểm cầu {n}") for n in range(34))
    floor = await make_floor(db, sites)
    item = await started(floor)
    before = await floor.last_seq()
    answers = await asyncio.gather(
        *(
            ask(
                floor,
                floor.operator(code),
                item=item,
                delegate=floor.delegates[f"{code}0"].public_id,
            )
            for code, _ in sites
        )
    )
    versions = sorted(ev["version"] for ev in answers)
    assert versions == list(range(versions[0], versions[0] + 34))
    # The chair approves all at once too: one order, the order of the events.
    requested = [ev["changed"][0]["id"] for ev in answers]
    await asyncio.gather(*(act(floor, sid, "approve") for sid in requested))
    logged = [d for _, t, d in await floor.events(before) if t == "speakers/updated"]
    assert len(logged) == 68
    assert [d["version"] for d in logged] == sorted(d["version"] for d in logged)
    final = logged[-1]["order"]
    assert sorted(final) == sorted(requested)
    # Each approval appended the approved entry at the end of the order before it.
    for prev, cur in itertools.pairwise(logged):
        assert cur["order"][:-1] == prev["order"]
    async with floor.db.read() as session:
        lst = await list_speakers(session, floor.conference, item)
    assert lst["order"] == final
    assert [s["position"] for s in lst["speakers"] if s["status"] == "queued"] == list(range(1, 35))
