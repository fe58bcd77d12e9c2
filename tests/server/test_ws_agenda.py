"""The live agenda over the WebSocket: a client that was away for 100 changes ends with
the database's state, a too large gap gets a snapshot, heartbeats make sites present,
delegates follow by their personal link, and the chair's commands."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agenda import presence
from conference.dbtypes import utcnow
from runtime.config import Config
from server.app import create_app
from server.keys import db_key
from server.runtime import presence_key
from tests.conftest import Api, add_account
from tests.server.stage import Stage, make_stage
from tests.server.test_ws import WS, Socket, connect, origin

Client = TestClient[Any, Any]
ClientFactory = Callable[[web.Application], Awaitable[Client]]


# --- a client's view of the live agenda, built from a snapshot and events ----------------------


def project(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What a screen shows, from a snapshot: item states, the current item, the lists."""
    return {
        "current": snapshot["agenda"]["current"],
        "items": {i["id"]: (i["status"], i["speakers_open"]) for i in snapshot["agenda"]["items"]},
        "lists": {
            lst["item"]: {
                "version": lst["version"],
                "open": lst["open"],
                "speaking": lst["speaking"],
                "order": lst["order"],
                "speakers": {s["id"]: s["status"] for s in lst["speakers"]},
            }
            for lst in snapshot["speakers"]
        },
    }


def apply(view: dict[str, Any], event: dict[str, Any]) -> None:
    data = event["data"]
    if event["type"] == "agenda/live":
        view["current"] = data["current"]
        for item in data["items"]:
            view["items"][item["id"]] = (item["status"], item["speakers_open"])
    elif event["type"] == "speakers/updated":
        lst = view["lists"].setdefault(
            data["item"],
            {"version": 0, "open": True, "speaking": None, "order": [], "speakers": {}},
        )
        lst.update(version=data["version"], open=data["open"], speaking=data["speaking"])
        lst["order"] = data["order"]
        for speaker in data["changed"]:
            lst["speakers"][speaker["id"]] = speaker["status"]
        status, _ = view["items"][data["item"]]
        view["items"][data["item"]] = (status, data["open"])


Fresh = Callable[[], aiohttp.ClientSession]


@pytest.fixture
async def fresh() -> AsyncIterator[Fresh]:
    """New HTTP sessions (the test client carries the organizer's cookie)."""
    made: list[aiohttp.ClientSession] = []

    def new() -> aiohttp.ClientSession:
        made.append(aiohttp.ClientSession())
        return made[-1]

    yield new
    for session in made:
        await session.close()


async def as_token(client: Client, fresh: Fresh, token: str) -> Socket:
    return await connect(client, session=fresh(), token=token)


async def chair_socket(client: Client, fresh: Fresh, stage: Stage) -> Socket:
    return await as_token(client, fresh, stage.chair.bearer)


async def chair_and_operator(client: Client, fresh: Fresh, stage: Stage) -> tuple[Socket, Socket]:
    """The chair's socket and Lào Cai's operator's, both subscribed to the conference."""
    chair = await chair_socket(client, fresh, stage)
    await chair.subscribe(stage.cid)
    operator = await as_token(client, fresh, stage.operators["LCI"].bearer)
    await operator.subscribe(stage.cid)
    return chair, operator


async def hundred_changes(stage: Stage) -> int:
    """Moves and speaker list changes, 100 events in all."""
    item = stage.items["talk1"]
    status, _ = await stage.chair.post(stage.url("/agenda/live"), {"action": "start", "item": item})
    assert status == 200
    made = 1
    url = stage.url(f"/agenda/{item}/speakers")
    while made < 100:
        for key in sorted(stage.delegates):
            operator = stage.operators[key[:3]]
            status, ev = await operator.post(url, {"delegate": stage.delegates[key]["id"]})
            assert status == 201, ev
            sid = ev["changed"][0]["id"]
            for api, action in ((stage.chair, "approve"), (operator, "withdraw")):
                made += 1
                if made == 100:
                    return made
                status, ev = await api.post(stage.url(f"/speakers/{sid}"), {"action": action})
                assert status == 200, ev
            made += 1
            if made == 100:
                return made
    return made


async def test_a_client_away_for_100_changes_ends_with_the_database_state(
    client: Client, organizer: Api, fresh: Fresh
) -> None:
    stage = await make_stage(client, organizer)
    socket = await chair_socket(client, fresh, stage)
    _, result = await socket.subscribe(stage.cid)
    view = project(result["snapshot"])
    seq, epoch = result["seq"], result["epoch"]
    await socket.ws.close()
    assert await hundred_changes(stage) == 100
    socket = await chair_socket(client, fresh, stage)
    sub, result = await socket.subscribe(stage.cid, since=seq, epoch=epoch)
    assert result["snapshot"] is None and result["seq"] == seq + 100
    replay = await socket.events(100)
    assert [m["seq"] for m in replay] == list(range(seq + 1, seq + 101))
    assert all(m["id"] == sub for m in replay)
    for message in replay:
        apply(view, message["event"])
    status, fresh = await stage.chair.get(stage.url("/live"))
    assert status == 200 and fresh["seq"] == seq + 100
    assert view == project(fresh)
    await socket.assert_quiet()


async def test_a_client_whose_gap_is_too_large_gets_a_snapshot(
    aiohttp_client: ClientFactory, config: Config, fresh: Fresh
) -> None:
    app = create_app(dataclasses.replace(config, replay_limit=20))
    client = await aiohttp_client(app)
    await add_account(app[db_key], "organizer", can_create=True)
    organizer = Api(client)
    await organizer.login("organizer")
    stage = await make_stage(client, organizer)
    socket = await chair_socket(client, fresh, stage)
    _, result = await socket.subscribe(stage.cid)
    seq, epoch = result["seq"], result["epoch"]
    await socket.ws.close()
    await hundred_changes(stage)
    socket = await chair_socket(client, fresh, stage)
    _, result = await socket.subscribe(stage.cid, since=seq, epoch=epoch)
    assert result["snapshot"] is not None and result["snapshot"]["seq"] == seq + 100
    _status, fresh = await stage.chair.get(stage.url("/live"))
    assert project(result["snapshot"]) == project(fresh)


# --- presence ---------------------------------------------------------------------------------


async def test_heartbeats_make_a_site_present_and_silence_absent(
    client: Client, stage: Stage, fresh: Fresh
) -> None:
    chair, operator = await chair_and_operator(client, fresh, stage)
    answer = await operator.result("presence/beat", conference=stage.cid, latency_ms=42)
    assert answer["site"] == "LCI" and answer["server_time"]
    runner = client.app[presence_key]
    await runner.flush()
    [message] = await chair.events(1)
    assert message["event"]["type"] == "sites/presence"
    [entry] = message["event"]["data"]["sites"]
    assert (entry["site"], entry["connected"], entry["latency_ms"]) == ("LCI", True, 42)
    # Beating on: no news until the latency moves noticeably.
    await operator.result("presence/beat", conference=stage.cid, latency_ms=45)
    await runner.flush()
    await chair.assert_quiet()
    # The operator is not sent every site's connection.
    await operator.assert_quiet()
    # A chair's or a delegate's page does not speak for a site.
    error = await chair.error("presence/beat", conference=stage.cid)
    assert error["code"] == "forbidden"
    # Silent for longer than the timeout: disconnected, told once.
    db = client.app[db_key]
    async with db.transaction() as session:
        later = utcnow() + timedelta(seconds=runner.timeout + 1)
        assert await presence.mark_silent(session, silent_for=runner.timeout, now=later) == 1
    async with db.transaction() as session:
        assert await presence.mark_silent(session, silent_for=runner.timeout, now=later) == 0
    [message] = await chair.events(1)
    assert message["event"]["data"]["sites"][0]["connected"] is False
    _status, snap = await stage.chair.get(stage.url("/live"))
    assert [(p["site"], p["connected"]) for p in snap["presence"]] == [("LCI", False)]


async def test_a_screen_token_beats_for_its_site(
    client: Client, stage: Stage, fresh: Fresh
) -> None:
    status, token = await stage.organizer.post(
        stage.url("/tokens"), {"name": "máy chiếu Hải Phòng", "role": "screen", "site": "HPG"}
    )
    assert status == 201, token
    status, err = await stage.organizer.post(stage.url("/tokens"), {"name": "x", "role": "screen"})
    assert status == 422 and err["error"]["field"] == "site"
    screen = await as_token(client, fresh, token["token"])
    _, result = await screen.subscribe(stage.cid)
    # A screen sees the agenda, not the sites' connections nor contacts.
    assert "presence" not in result["snapshot"]
    assert (await screen.result("presence/beat", conference=stage.cid))["site"] == "HPG"
    # ...and may not move the agenda.
    error = await screen.error("agenda/move", conference=stage.cid, action="start")
    assert error["code"] == "forbidden"


# --- delegates by their link, and the chair's commands --------------------------------------------


async def link_socket(client: Client, session: aiohttp.ClientSession, link: str) -> Socket:
    """A socket authenticated by a personal link (its own session: no organizer cookie)."""
    ws = await session.ws_connect(client.make_url(WS), origin=origin(client))
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "auth_required"
    await ws.send_json({"type": "auth", "link": link})
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "auth_ok", first
    return Socket(ws, first["user"])


async def test_a_delegate_follows_and_asks_by_their_link(
    client: Client, stage: Stage, fresh: Fresh
) -> None:
    me = stage.delegates["LCI0"]
    delegate = await link_socket(client, fresh(), me["link"])
    assert delegate.user == me["name"]
    _, result = await delegate.subscribe(stage.cid)
    assert "presence" not in result["snapshot"]
    chair = await chair_socket(client, fresh, stage)
    moved = await chair.result("agenda/move", conference=stage.cid, action="start")
    assert moved["current"] == stage.items["opening"]
    [message] = await delegate.events(1)
    assert message["event"]["type"] == "agenda/live"
    # The change's event reaches the subscription as the command's answer is sent.
    msg_id = await delegate.send("speakers/request", conference=stage.cid)
    got = [await delegate.recv(), await delegate.recv()]
    [answer] = [m for m in got if m["type"] == "result"]
    [message] = [m for m in got if m["type"] == "event"]
    assert answer["id"] == msg_id and answer["success"] is True
    [mine] = answer["result"]["changed"]
    assert mine["delegate"] == me["id"] and mine["status"] == "requested"
    assert message["event"]["data"]["changed"][0]["id"] == mine["id"]
    # Not for someone else, not the chair's work.
    error = await delegate.error(
        "speakers/request", conference=stage.cid, delegate=stage.delegates["LCI1"]["id"]
    )
    assert error["code"] == "forbidden"
    error = await delegate.error(
        "speakers/act", conference=stage.cid, speaker=mine["id"], action="approve"
    )
    assert error["code"] == "forbidden"
    error = await delegate.error("presence/beat", conference=stage.cid)
    assert error["code"] == "forbidden"
    # Another conference does not know them.
    _status, other = await stage.organizer.post(
        "/api/v1/conferences",
        {"title": "Khác", "starts_on": "2026-12-01", "ends_on": "2026-12-01"},
    )
    error = await delegate.error("live/subscribe", conference=other["id"])
    assert error["code"] == "not_found"
    # The chair approves and calls over the socket.
    await chair.result("speakers/act", conference=stage.cid, speaker=mine["id"], action="approve")
    called = await chair.result("speakers/next", conference=stage.cid)
    assert called["speaking"] == mine["id"]
    # An operator of another site does not see the delegate.
    operator = await as_token(client, fresh, stage.operators["HPG"].bearer)
    error = await operator.error(
        "speakers/request", conference=stage.cid, delegate=stage.delegates["LCI1"]["id"]
    )
    assert error["code"] == "not_found"


async def test_a_wrong_link_is_refused(client: Client, stage: Stage, fresh: Fresh) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(client.make_url(WS), origin=origin(client))
        assert (await ws.receive_json(timeout=5))["type"] == "auth_required"
        await ws.send_json({"type": "auth", "link": "y" * 32})
        answer = await ws.receive_json(timeout=5)
        assert answer["type"] == "auth_invalid"
        await ws.close()


async def test_minutes_events_reach_the_staff_only(
    client: Client, stage: Stage, fresh: Fresh
) -> None:
    chair, operator = await chair_and_operator(client, fresh, stage)
    status, _ = await stage.secretary.post(
        stage.url("/minutes/sections/opening"), {"text": "Mở đầu", "revision": 0}
    )
    assert status == 200
    [message] = await chair.events(1)
    assert message["event"]["type"] == "minutes/updated"
    assert message["event"]["data"]["revision"] == 1
    await operator.assert_quiet()
    # Once the sites may read the minutes, their operators hear of each save too.
    status, _ = await stage.organizer.patch(stage.url("/minutes/settings"), {"readers": "sites"})
    assert status == 200
    status, _ = await stage.secretary.post(
        stage.url("/minutes/sections/opening"), {"text": "Mở đầu.", "revision": 1}
    )
    assert status == 200
    [message] = await operator.events(1)
    assert message["event"]["type"] == "minutes/updated"
    data = message["event"]["data"]
    assert (data["revision"], data["readers"]) == (2, "sites")


async def test_award_records_reach_the_staff_only_and_the_ceremony_everyone(
    client: Client, stage: Stage, fresh: Fresh
) -> None:
    chair, operator = await chair_and_operator(client, fresh, stage)
    status, decision = await stage.organizer.post(
        stage.url("/awards/decisions"),
        {
            "number": "3-QĐ/VPTW",
            "issued_on": "2026-12-15",
            "issuing_body": "Văn phòng Trung ương Đảng",
            "signer_name": "Nguyễn Văn Thắng",
            "signer_title": "Chánh Văn phòng",
            "award_kind": "certificate_of_merit",
        },
    )
    assert status == 201, decision
    status, award = await stage.organizer.post(
        stage.url(f"/awards/decisions/{decision['id']}/awards"),
        {"name": "Văn phòng Tỉnh ủy Lào Cai", "site": "LCI"},
    )
    assert status == 201, award
    got = [m["event"]["type"] for m in await chair.events(2)]
    assert got == ["decision/created", "award/created"]
    await operator.assert_quiet()
    status, item = await stage.organizer.post(
        stage.url("/agenda"), {"title": "Khen thưởng", "kind": "awards"}
    )
    await chair.events(1)
    await operator.events(1)
    await stage.chair.post(stage.url("/agenda/live"), {"action": "start", "item": item["id"]})
    await chair.events(1)
    await operator.events(1)
    status, _ = await stage.chair.post(stage.url("/awards/announce"), {})
    assert status == 200
    [message] = await operator.events(1)
    assert message["event"]["type"] == "awards/announced"
    assert "code" not in message["event"]["data"]["award"]
