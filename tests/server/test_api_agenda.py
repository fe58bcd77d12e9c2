"""The live agenda over HTTP: building the agenda, the chair's moves, speaker lists with
their one total order and stale reorders, who may do what, roll calls, and the event
log that carries every change."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from conference.models import AuditEntry, Conference, LiveEvent
from server.keys import db_key
from tests.conftest import Api
from tests.server.stage import Stage, make_stage

Client = TestClient[Any, Any]


async def events(client: Client, cid: str, after: int = 0) -> list[tuple[int, str, dict[str, Any]]]:
    async with client.app[db_key].read() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == cid))
        ).one()
        rows = await session.exec(
            select(LiveEvent)
            .where(col(LiveEvent.conference_id) == conference.id, col(LiveEvent.seq) > after)
            .order_by(col(LiveEvent.seq))
        )
        return [(row.seq, row.type, row.data) for row in rows]


async def last_seq(client: Client, cid: str) -> int:
    found = await events(client, cid)
    return found[-1][0] if found else 0


def statuses(items: list[dict[str, Any]]) -> dict[str, str]:
    return {item["title"]: item["status"] for item in items}


# --- building the agenda --------------------------------------------------------------------


async def test_the_agenda_lists_in_reading_order_and_reorders(stage: Stage) -> None:
    status, body = await stage.chair.get(stage.url("/agenda"))
    assert status == 200
    titles = [i["title"] for i in body["items"]]
    assert titles == [
        "Khai mạc",
        "Thảo luận",
        "Tham luận của các điểm cầu",
        "Ý kiến của đại biểu",
        "Bế mạc",
    ]
    assert all(i["status"] == "planned" for i in body["items"])
    order = [stage.items["closing"], stage.items["session"], stage.items["opening"]]
    status, body = await stage.organizer.post(stage.url("/agenda/order"), {"order": order})
    assert status == 200, body
    status, body = await stage.chair.get(stage.url("/agenda"))
    assert next(i["title"] for i in body["items"]) == "Bế mạc"
    # A stale or partial order is a conflict and changes nothing.
    status, body = await stage.organizer.post(stage.url("/agenda/order"), {"order": order[:2]})
    assert status == 409 and body["error"]["code"] == "conflict"
    status, again = await stage.chair.get(stage.url("/agenda"))
    assert next(i["title"] for i in again["items"]) == "Bế mạc"
    # Only an organizer builds the agenda.
    status, body = await stage.chair.post(stage.url("/agenda/order"), {"order": order})
    assert status == 403 and body["error"]["code"] == "forbidden"


async def test_items_are_changed_and_removed_while_planned(stage: Stage) -> None:
    status, item = await stage.organizer.patch(
        stage.url(f"/agenda/{stage.items['opening']}"),
        {"title": "Khai mạc hội nghị", "speaking_limit_seconds": 120, "site": "HNI"},
    )
    assert status == 200, item
    assert (item["title"], item["speaking_limit_seconds"], item["site"]) == (
        "Khai mạc hội nghị",
        120,
        "HNI",
    )
    for body, _fieldname in (
        ({"title": ""}, "title"),
        ({"site": "XXX"}, "site"),
        ({"speaking_limit_seconds": -1}, "speaking_limit_seconds"),
        ({"duration_minutes": "ten"}, "duration_minutes"),
        ({"colour": "red"}, "colour"),
    ):
        status, err = await stage.organizer.patch(
            stage.url(f"/agenda/{stage.items['opening']}"), body
        )
        assert status in (400, 422), (body, err)
        assert err["error"]["code"] == "invalid_format"
    status, item = await stage.chair.get(stage.url("/agenda"))
    assert item["items"][0]["title"] == "Khai mạc hội nghị"
    status, _ = await stage.organizer.delete(stage.url(f"/agenda/{stage.items['closing']}"))
    assert status == 204
    status, _ = await stage.chair.post(stage.url("/agenda/live"), {"action": "start"})
    assert status == 200
    status, err = await stage.organizer.delete(stage.url(f"/agenda/{stage.items['opening']}"))
    assert status == 409 and err["error"]["code"] == "conflict"
    status, err = await stage.organizer.delete(stage.url("/agenda/nosuchitem"))
    assert status == 404


# --- moving through the agenda ----------------------------------------------------------------


async def test_the_chair_moves_through_the_steps(client: Client, stage: Stage) -> None:
    before = await last_seq(client, stage.cid)
    status, move = await stage.chair.post(stage.url("/agenda/live"), {"action": "start"})
    assert status == 200, move
    assert move["current"] == stage.items["opening"]
    assert statuses(move["items"]) == {"Khai mạc": "running"}
    # The next step is inside the session: the session runs with it.
    status, move = await stage.chair.post(stage.url("/agenda/live"), {"action": "start"})
    assert move["current"] == stage.items["talk1"]
    assert statuses(move["items"]) == {
        "Khai mạc": "done",
        "Thảo luận": "running",
        "Tham luận của các điểm cầu": "running",
    }
    status, move = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "skip", "item": stage.items["talk2"]}
    )
    assert status == 200 and statuses(move["items"]) == {"Ý kiến của đại biểu": "skipped"}
    status, move = await stage.chair.post(stage.url("/agenda/live"), {"action": "end"})
    assert move["current"] is None
    assert statuses(move["items"]) == {"Thảo luận": "done", "Tham luận của các điểm cầu": "done"}
    # Back: the step before the next one (here the skipped one) runs, its session with it.
    status, move = await stage.chair.post(stage.url("/agenda/live"), {"action": "back"})
    assert move["current"] == stage.items["talk2"]
    assert statuses(move["items"]) == {"Thảo luận": "running", "Ý kiến của đại biểu": "running"}
    status, move = await stage.chair.post(stage.url("/agenda/live"), {"action": "start"})
    assert move["current"] == stage.items["closing"]
    status, err = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "start", "item": stage.items["closing"]}
    )
    assert status == 409 and err["error"]["code"] == "conflict"
    status, err = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "start", "item": stage.items["session"]}
    )
    assert status == 422 and err["error"]["field"] == "item"
    # One event per move, gapless, in the order the moves were made.
    logged = await events(client, stage.cid, before)
    assert [seq for seq, _, _ in logged] == list(range(before + 1, before + 1 + len(logged)))
    assert [(t, d["action"]) for _, t, d in logged] == [
        ("agenda/live", "start"),
        ("agenda/live", "start"),
        ("agenda/live", "skip"),
        ("agenda/live", "end"),
        ("agenda/live", "back"),
        ("agenda/live", "start"),
    ]
    # The snapshot agrees with the log.
    status, snap = await stage.chair.get(stage.url("/live"))
    assert snap["seq"] == logged[-1][0]
    assert snap["agenda"]["current"] == stage.items["closing"]
    assert statuses(snap["agenda"]["items"]) == {
        "Khai mạc": "done",
        "Thảo luận": "done",
        "Tham luận của các điểm cầu": "done",
        "Ý kiến của đại biểu": "done",
        "Bế mạc": "running",
    }
    item = next(i for i in snap["agenda"]["items"] if i["title"] == "Khai mạc")
    assert item["started_at"] and item["ended_at"] and item["ended_at"] >= item["started_at"]


async def test_only_the_chair_or_an_organizer_moves_the_agenda(
    client: Client, stage: Stage
) -> None:
    before = await last_seq(client, stage.cid)
    delegate = Api(client)
    for api in (stage.secretary, stage.operators["LCI"]):
        status, err = await api.post(stage.url("/agenda/live"), {"action": "start"})
        assert status == 403 and err["error"]["code"] == "forbidden"
    status, err = await delegate.post(stage.url("/agenda/live"), {"action": "start"})
    assert status in (401, 403, 404)
    status, err = await stage.chair.post(stage.url("/agenda/live"), {"action": "jump"})
    assert status == 422 and err["error"]["code"] == "invalid_format"
    assert await last_seq(client, stage.cid) == before
    status, _ = await stage.organizer.post(stage.url("/agenda/live"), {"action": "start"})
    assert status == 200


# --- speaker lists -------------------------------------------------------------------------------


async def started(stage: Stage, key: str = "talk1") -> str:
    status, move = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "start", "item": stage.items[key]}
    )
    assert status == 200, move
    return stage.items[key]


async def test_requests_are_approved_queued_called_and_timed(client: Client, stage: Stage) -> None:
    item = await started(stage)
    lci, hpg = stage.delegates["LCI0"], stage.delegates["HPG0"]
    # An operator asks for their site's delegate; it waits for the chair.
    status, ev = await stage.operators["LCI"].post(
        stage.url("/agenda/current/speakers"), {"delegate": lci["id"], "topic": "Chuyển đổi số"}
    )
    assert status == 201, ev
    [asked] = ev["changed"]
    assert (asked["status"], asked["site"], asked["name"], asked["topic"]) == (
        "requested",
        "LCI",
        lci["name"],
        "Chuyển đổi số",
    )
    assert ev["order"] == []
    # The delegate asks from their phone (their personal link).
    status, ev2 = await Api(client).post(f"/api/v1/delegate/{hpg['link']}/speakers", {})
    assert status == 201, ev2
    mine = ev2["changed"][0]["id"]
    status, dup = await Api(client).post(f"/api/v1/delegate/{hpg['link']}/speakers", {})
    assert status == 409 and dup["error"]["code"] == "conflict"
    # The chair approves both: queued in the order approved.
    for speaker in (mine, asked["id"]):
        status, ev = await stage.chair.post(
            stage.url(f"/speakers/{speaker}"), {"action": "approve"}
        )
        assert status == 200, ev
    assert ev["order"] == [mine, asked["id"]]
    # A point of order goes ahead of the queue.
    status, ev = await stage.chair.post(
        stage.url(f"/agenda/{item}/speakers"),
        {"delegate": stage.delegates["HNI0"]["id"], "kind": "point_of_order"},
    )
    point = ev["changed"][0]["id"]
    assert ev["order"] == [point, mine, asked["id"]] and ev["changed"][0]["status"] == "queued"
    # Next: the point of order speaks, with the item's limit, timer running.
    status, ev = await stage.chair.post(stage.url(f"/agenda/{item}/speakers/next"))
    assert status == 200, ev
    assert ev["speaking"] == point and ev["order"] == [mine, asked["id"]]
    speaking = next(s for s in ev["changed"] if s["id"] == point)
    assert speaking["status"] == "speaking" and speaking["timer_started_at"]
    assert speaking["limit_seconds"] == 300  # the conference default
    status, ev = await stage.chair.post(stage.url(f"/speakers/{point}"), {"action": "pause"})
    paused = ev["changed"][0]
    assert paused["timer_started_at"] is None and paused["spoken_seconds"] >= 0
    status, _err = await stage.chair.post(stage.url(f"/speakers/{point}"), {"action": "pause"})
    assert status == 409
    status, ev = await stage.chair.post(stage.url(f"/speakers/{point}"), {"action": "start"})
    assert ev["changed"][0]["timer_generation"] == 2
    # Calling the next ends the one speaking.
    status, ev = await stage.chair.post(stage.url(f"/agenda/{item}/speakers/next"))
    assert ev["speaking"] == mine
    done = next(s for s in ev["changed"] if s["id"] == point)
    assert done["status"] == "done" and done["ended_at"]
    status, ev = await stage.chair.post(stage.url(f"/speakers/{mine}"), {"action": "finish"})
    assert ev["speaking"] is None and ev["changed"][0]["status"] == "done"
    # Statistics count who spoke.
    status, stats = await stage.chair.get(stage.url("/speaking-stats"))
    assert status == 200
    assert {s["site"]: s["count"] for s in stats["sites"]} == {"HNI": 1, "HPG": 1}
    assert {p["name"] for p in stats["people"]} == {stage.delegates["HNI0"]["name"], hpg["name"]}
    # The list's version counts its changes; the snapshot holds the same list.
    status, snap = await stage.chair.get(stage.url("/live"))
    [lst] = [entry for entry in snap["speakers"] if entry["item"] == item]
    assert lst["version"] == ev["version"] and lst["order"] == [asked["id"]]
    assert {s["id"]: s["status"] for s in lst["speakers"]} == {
        asked["id"]: "queued",
        mine: "done",
        point: "done",
    }


async def test_who_may_ask_and_withdraw(client: Client, stage: Stage) -> None:
    item = await started(stage)
    lci = stage.delegates["LCI0"]
    url = stage.url(f"/agenda/{item}/speakers")
    # An operator of another site does not see the delegate.
    status, err = await stage.operators["HPG"].post(url, {"delegate": lci["id"]})
    assert status == 404 and err["error"]["code"] == "not_found"
    # An operator may not plan speeches nor add free names; a delegate only themself.
    status, err = await stage.operators["LCI"].post(
        url, {"delegate": lci["id"], "kind": "registered"}
    )
    assert status == 403
    status, err = await stage.operators["LCI"].post(url, {"name": "Khách mời"})
    assert status == 422 and err["error"]["field"] == "delegate"
    status, ev = await stage.operators["LCI"].post(url, {"delegate": lci["id"]})
    assert status == 201
    speaker = ev["changed"][0]["id"]
    # A delegate cannot withdraw another's request; their operator can.
    other = stage.delegates["LCI1"]["link"]
    status, err = await Api(client).post(
        f"/api/v1/delegate/{other}/speakers/{speaker}/withdraw", {}
    )
    assert status == 403
    status, err = await stage.operators["HPG"].post(
        stage.url(f"/speakers/{speaker}"), {"action": "withdraw"}
    )
    assert status == 404
    status, err = await stage.operators["LCI"].post(
        stage.url(f"/speakers/{speaker}"), {"action": "approve"}
    )
    assert status == 403
    status, ev = await stage.operators["LCI"].post(
        stage.url(f"/speakers/{speaker}"), {"action": "withdraw"}
    )
    assert status == 200 and ev["changed"][0]["status"] == "withdrawn"
    # A closed list takes requests only from the chair.
    status, ev = await stage.chair.post(url + "/open", {"open": False})
    assert status == 200 and ev["open"] is False
    status, err = await Api(client).post(f"/api/v1/delegate/{lci['link']}/speakers", {"item": item})
    assert status == 409 and "closed" in err["error"]["message"]
    status, ev = await stage.chair.post(
        url, {"name": "Đồng chí Khách mời", "site": "HNI", "title": "Trưởng ban"}
    )
    assert status == 201 and ev["changed"][0]["status"] == "queued"
    # A wrong personal link is not found (and counts as a guess).
    status, err = await Api(client).post("/api/v1/delegate/" + "x" * 32 + "/speakers", {})
    assert status == 404


async def test_planned_speeches_keep_their_order_and_requests_follow(stage: Stage) -> None:
    item = await started(stage)
    url = stage.url(f"/agenda/{item}/speakers")
    planned = []
    for key in ("HPG0", "LCI0", "HNI1"):
        status, ev = await stage.organizer.post(
            url, {"delegate": stage.delegates[key]["id"], "kind": "registered"}
        )
        assert status == 201, ev
        planned.append(ev["changed"][0]["id"])
    status, ev = await stage.operators["LCI"].post(url, {"delegate": stage.delegates["LCI1"]["id"]})
    floor = ev["changed"][0]["id"]
    status, ev = await stage.chair.post(stage.url(f"/speakers/{floor}"), {"action": "approve"})
    status, ev = await stage.organizer.post(
        url, {"delegate": stage.delegates["HPG1"]["id"], "kind": "registered"}
    )
    late = ev["changed"][0]["id"]
    assert ev["order"] == [*planned, late, floor]


async def test_fair_order_puts_sites_that_spoke_less_first(stage: Stage) -> None:
    item = await started(stage)
    url = stage.url(f"/agenda/{item}/speakers")
    status, _ = await stage.chair.patch(stage.url("/agenda/settings"), {"fair_order": True})
    assert status == 200
    # LCI speaks once.
    status, ev = await stage.chair.post(url, {"delegate": stage.delegates["LCI0"]["id"]})
    await stage.chair.post(url + "/next")
    # Then LCI asks again before HPG: HPG, which has not spoken, goes first.
    ids = {}
    for key, site in (("LCI1", "LCI"), ("HPG0", "HPG")):
        status, ev = await stage.operators[site].post(url, {"delegate": stage.delegates[key]["id"]})
        ids[key] = ev["changed"][0]["id"]
    for key in ("LCI1", "HPG0"):
        status, ev = await stage.chair.post(
            stage.url(f"/speakers/{ids[key]}"), {"action": "approve"}
        )
    assert ev["order"] == [ids["HPG0"], ids["LCI1"]]


async def test_a_stale_reorder_is_refused_and_changes_nothing(client: Client, stage: Stage) -> None:
    item = await started(stage)
    url = stage.url(f"/agenda/{item}/speakers")
    ids = []
    for key in ("HNI0", "LCI0", "HPG0"):
        status, ev = await stage.chair.post(url, {"delegate": stage.delegates[key]["id"]})
        ids.append(ev["changed"][0]["id"])
    version = ev["version"]
    status, ev = await stage.chair.post(url + "/order", {"order": ids[::-1], "version": version})
    assert status == 200 and ev["order"] == ids[::-1] and ev["version"] == version + 1
    # A second chair tab still holds the old version: refused, whatever it asks.
    before = await last_seq(client, stage.cid)
    status, err = await stage.chair.post(url + "/order", {"order": ids, "version": version})
    assert status == 409 and err["error"]["code"] == "conflict"
    assert err["error"]["details"] == {"version": version + 1}
    # Current version but not the queue's entries: refused too.
    status, err = await stage.chair.post(url + "/order", {"order": ids[:2], "version": version + 1})
    assert status == 409 and err["error"]["field"] == "order"
    status, err = await stage.chair.post(
        url + "/order", {"order": [ids[0], ids[0], ids[1]], "version": version + 1}
    )
    assert status == 409
    assert await last_seq(client, stage.cid) == before
    status, lst = await stage.chair.get(url)
    assert lst["order"] == ids[::-1]


async def test_concurrent_requests_from_many_sites_end_in_one_order(
    client: Client, organizer: Api
) -> None:
    sites = tuple((f"S{n:02d}", f"Điểm cầu {n}") for n in range(34))
    stage = await make_stage(client, organizer, sites)
    item = await started(stage)
    url = stage.url(f"/agenda/{item}/speakers")
    before = await last_seq(client, stage.cid)

    async def ask(code: str) -> tuple[int, Any]:
        return await stage.operators[code].post(
            url, {"delegate": stage.delegates[f"{code}0"]["id"]}
        )

    answers = await asyncio.gather(*(ask(code) for code, _ in sites))
    assert all(status == 201 for status, _ in answers), answers
    versions = sorted(ev["version"] for _, ev in answers)
    assert versions == list(range(versions[0], versions[0] + 34))
    # The chair approves all at once too: one order, the order of the events.
    requested = [ev["changed"][0]["id"] for _, ev in answers]
    approvals = await asyncio.gather(
        *(
            stage.chair.post(stage.url(f"/speakers/{sid}"), {"action": "approve"})
            for sid in requested
        )
    )
    assert all(status == 200 for status, _ in approvals)
    logged = [d for _, t, d in await events(client, stage.cid, before) if t == "speakers/updated"]
    assert len(logged) == 68
    assert [d["version"] for d in logged] == sorted(d["version"] for d in logged)
    final = logged[-1]["order"]
    assert sorted(final) == sorted(requested)
    # Each approval appended the approved entry at the end of the order before it.
    for prev, cur in itertools.pairwise(logged):
        assert cur["order"][:-1] == prev["order"]
    _status, lst = await stage.chair.get(url)
    assert lst["order"] == final
    assert [s["position"] for s in lst["speakers"] if s["status"] == "queued"] == list(range(1, 35))


# --- roll call ---------------------------------------------------------------------------------


async def test_roll_call_of_sites(client: Client, stage: Stage) -> None:
    status, _ = await stage.operators["LCI"].post(stage.url("/roll-call/answer"), {})
    assert status == 409
    status, call = await stage.chair.post(stage.url("/roll-call"))
    assert status == 201 and call["sites"] == ["HNI", "LCI", "HPG"]
    status, ans = await stage.operators["LCI"].post(stage.url("/roll-call/answer"), {})
    assert status == 200 and ans["site"] == "LCI"
    status, _ = await stage.operators["LCI"].post(stage.url("/roll-call/answer"), {})
    assert status == 409
    status, _ = await stage.operators["LCI"].post(stage.url("/roll-call/answer"), {"site": "HPG"})
    assert status == 404
    status, ans = await stage.chair.post(stage.url("/roll-call/answer"), {"site": "HNI"})
    assert status == 200
    status, state = await stage.operators["HPG"].get(stage.url("/roll-call"))
    assert set(state["answered"]) == {"LCI", "HNI"} and state["missing"] == ["HPG"]
    status, closed = await stage.chair.post(stage.url("/roll-call/close"))
    assert closed["answered"] == 2 and closed["missing"] == ["HPG"]
    status, _err = await stage.operators["HPG"].post(stage.url("/roll-call/answer"), {})
    assert status == 409
    kinds = [t for _, t, _ in await events(client, stage.cid) if t.startswith("roll_call/")]
    assert kinds == [
        "roll_call/started",
        "roll_call/answered",
        "roll_call/answered",
        "roll_call/closed",
    ]
    async with client.app[db_key].read() as session:
        actions = list(
            await session.exec(
                select(AuditEntry.action).where(col(AuditEntry.action).startswith("roll_call."))
            )
        )
    assert actions.count("roll_call.answer") == 2


async def test_every_change_is_audited(client: Client, stage: Stage) -> None:
    item = await started(stage)
    await stage.chair.post(
        stage.url(f"/agenda/{item}/speakers"), {"delegate": stage.delegates["LCI0"]["id"]}
    )
    await stage.chair.post(stage.url(f"/agenda/{item}/speakers/next"))
    async with client.app[db_key].read() as session:
        actions = set(await session.exec(select(AuditEntry.action)))
    assert {"agenda.start", "speaker.request", "speaker.call"} <= actions


async def test_the_presenter_is_a_delegate_or_a_name(stage: Stage) -> None:
    lci = stage.delegates["LCI0"]
    status, item = await stage.organizer.post(
        stage.url("/agenda"),
        {"title": "Tham luận Lào Cai", "kind": "speech", "presenter_delegate": lci["id"]},
    )
    assert status == 201, item
    assert (item["presenter"], item["presenter_delegate"]) == (lci["name"], lci["id"])
    url = stage.url(f"/agenda/{item['id']}")
    status, item = await stage.organizer.patch(
        url, {"presenter_delegate": None, "presenter": "Khách mời"}
    )
    assert (item["presenter"], item["presenter_delegate"]) == ("Khách mời", None)
    status, err = await stage.organizer.patch(url, {"presenter_delegate": "nobody"})
    assert status == 422 and err["error"]["field"] == "presenter_delegate"
    status, listing = await stage.chair.get(stage.url("/agenda"))
    [again] = [i for i in listing["items"] if i["id"] == item["id"]]
    assert again["presenter"] == "Khách mời"
