"""The stream is right for every command (Zulip's test_events, docs/architecture.md):
take a subscriber's snapshot, run the command, apply the events it emitted to that
snapshot (client/snapshot.py), and compare with a fresh snapshot: they must be equal.

Every WebSocket command of the registry has a case (a test fails when one is added
without); the HTTP actions that change what a snapshot holds have theirs too.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from client.snapshot import APPLY, IGNORED, apply_event
from server.events import build_catalogue
from server.runtime import presence_key
from server.ws import command_registry
from tests.conftest import Api
from tests.server.stage import Stage, make_stage
from tests.server.test_api_awards import DECISION
from tests.server.test_ws import Socket, connect

Client = TestClient[Any, Any]


@dataclass
class Hall:
    client: Client
    stage: Stage
    sessions: list[aiohttp.ClientSession]

    async def socket(self, api: Api) -> Socket:
        """A socket with api's token (each on its own HTTP session, without a cookie)."""
        self.sessions.append(aiohttp.ClientSession())
        return await connect(self.client, session=self.sessions[-1], token=api.bearer)

    async def ok(self, api: Api, method: str, rest: str, body: Any = None) -> Any:
        status, answer = await api.call(method, self.stage.url(rest), body)
        assert status in (200, 201, 204), (method, rest, status, answer)
        return answer

    def item(self, key: str) -> str:
        return self.stage.items[key]


Step = Callable[[Hall], Awaitable[None]]


async def nothing(hall: Hall) -> None:
    del hall


async def start_talk(hall: Hall) -> None:
    await hall.ok(
        hall.stage.chair, "POST", "/agenda/live", {"action": "start", "item": hall.item("talk1")}
    )


async def ask(hall: Hall, key: str) -> str:
    """Delegate key asks to speak on talk1 (through their site's operator): the entry's id."""
    operator = hall.stage.operators[key[:3]]
    body = {"item": hall.item("talk1"), "delegate": hall.stage.delegates[key]["id"]}
    answer = await hall.ok(operator, "POST", f"/agenda/{hall.item('talk1')}/speakers", body)
    return str(answer["changed"][0]["id"])


async def talk_with_requests(hall: Hall) -> None:
    await start_talk(hall)
    for key in ("HNI0", "LCI1"):
        speaker = await ask(hall, key)
        await hall.ok(hall.stage.chair, "POST", f"/speakers/{speaker}", {"action": "approve"})


# --- the commands --------------------------------------------------------------------------


async def ping(hall: Hall) -> None:
    assert (await (await hall.socket(hall.stage.chair)).result("ping"))["pong"] is True


async def subscribe(hall: Hall) -> None:
    other = await hall.socket(hall.stage.operators["LCI"])
    await other.subscribe(hall.stage.cid)


async def unsubscribe(hall: Hall) -> None:
    other = await hall.socket(hall.stage.operators["LCI"])
    sub, _ = await other.subscribe(hall.stage.cid)
    assert await other.result("live/unsubscribe", subscription=sub) is None


async def snapshot(hall: Hall) -> None:
    other = await hall.socket(hall.stage.chair)
    assert (await other.result("conference/snapshot", conference=hall.stage.cid))["agenda"]


async def beat(hall: Hall) -> None:
    operator = await hall.socket(hall.stage.operators["LCI"])
    await operator.result("presence/beat", conference=hall.stage.cid, latency_ms=42)
    await hall.client.app[presence_key].flush()


async def move(hall: Hall) -> None:
    chair = await hall.socket(hall.stage.chair)
    cid = hall.stage.cid
    await chair.result("agenda/move", conference=cid, action="start", item=hall.item("talk1"))
    await chair.result("agenda/move", conference=cid, action="end")
    await chair.result("agenda/move", conference=cid, action="start", item=hall.item("talk2"))
    await chair.result("agenda/move", conference=cid, action="back")
    await chair.result("agenda/move", conference=cid, action="skip", item=hall.item("closing"))


async def request(hall: Hall) -> None:
    operator = await hall.socket(hall.stage.operators["HNI"])
    delegate = hall.stage.delegates["HNI0"]["id"]
    await operator.result(
        "speakers/request", conference=hall.stage.cid, delegate=delegate, topic="Chuyển đổi số"
    )


async def act(hall: Hall) -> None:
    chair = await hall.socket(hall.stage.chair)
    cid = hall.stage.cid
    speaker = await ask(hall, "HPG1")
    for action in ("approve", "call", "pause", "start", "finish"):
        await chair.result("speakers/act", conference=cid, speaker=speaker, action=action)


async def next_speaker(hall: Hall) -> None:
    chair = await hall.socket(hall.stage.chair)
    await chair.result("speakers/next", conference=hall.stage.cid)
    await chair.result("speakers/next", conference=hall.stage.cid)


async def scan(hall: Hall) -> None:
    operator = await hall.socket(hall.stage.operators["LCI"])
    delegate = hall.stage.delegates["LCI0"]["id"]
    answer = await operator.result(
        "checkin/scan", conference=hall.stage.cid, delegate=delegate, nonce="proof-scan-1"
    )
    assert answer["outcome"] == "ok"


async def get_delegate(hall: Hall) -> None:
    operator = await hall.socket(hall.stage.operators["LCI"])
    delegate = hall.stage.delegates["LCI0"]["id"]
    answer = await operator.result("delegates/get", conference=hall.stage.cid, delegate=delegate)
    assert answer["id"] == delegate


# Each command: what is there before the snapshot is taken, and the command's use.
COMMANDS: dict[str, tuple[Step, Step]] = {
    "ping": (nothing, ping),
    "live/subscribe": (nothing, subscribe),
    "live/unsubscribe": (nothing, unsubscribe),
    "conference/snapshot": (nothing, snapshot),
    "presence/beat": (nothing, beat),
    "agenda/move": (nothing, move),
    "speakers/request": (start_talk, request),
    "speakers/act": (start_talk, act),
    "speakers/next": (talk_with_requests, next_speaker),
    "checkin/scan": (nothing, scan),
    "delegates/get": (nothing, get_delegate),
}


# --- the HTTP actions that change what a snapshot holds ---------------------------------------


async def sites(hall: Hall) -> None:
    organizer = hall.stage.organizer
    made = await hall.ok(organizer, "POST", "/sites", {"code": "CMU", "name": "Cà Mau"})
    await hall.ok(organizer, "PATCH", f"/sites/{made['id']}", {"name": "Tỉnh ủy Cà Mau"})
    gone = await hall.ok(organizer, "POST", "/sites", {"code": "DNG", "name": "Đà Nẵng"})
    await hall.ok(organizer, "DELETE", f"/sites/{gone['id']}")


async def conference(hall: Hall) -> None:
    await hall.ok(hall.stage.organizer, "PATCH", "", {"venue": "Hội trường Diên Hồng"})


async def agenda(hall: Hall) -> None:
    organizer = hall.stage.organizer
    body = {"title": "Giải lao", "kind": "break", "duration_minutes": 15}
    made = await hall.ok(organizer, "POST", "/agenda", body)
    await hall.ok(organizer, "PATCH", f"/agenda/{made['id']}", {"duration_minutes": 20})
    order = [hall.item("closing"), made["id"], hall.item("session"), hall.item("opening")]
    await hall.ok(organizer, "POST", "/agenda/order", {"order": order})
    await hall.ok(organizer, "DELETE", f"/agenda/{hall.item('talk2')}")
    await hall.ok(organizer, "PATCH", "/agenda/settings", {"default_speaking_seconds": 240})


async def speaker_list(hall: Hall) -> None:
    chair, item = hall.stage.chair, hall.item("talk1")
    listed = await hall.ok(chair, "GET", f"/agenda/{item}/speakers")
    order = list(reversed(listed["order"]))
    body = {"order": order, "version": listed["version"]}
    await hall.ok(chair, "POST", f"/agenda/{item}/speakers/order", body)
    await hall.ok(chair, "POST", f"/agenda/{item}/speakers/open", {"open": False})


async def roll_call(hall: Hall) -> None:
    await hall.ok(hall.stage.chair, "POST", "/roll-call", {})
    await hall.ok(hall.stage.operators["LCI"], "POST", "/roll-call/answer", {})
    await hall.ok(hall.stage.chair, "POST", "/roll-call/close", {})


async def awards_item(hall: Hall) -> None:
    """A decision with two recipients and an awards item on the agenda."""
    organizer = hall.stage.organizer
    decision = await hall.ok(
        organizer, "POST", "/awards/decisions", DECISION | {"award_kind": "emulation_flag"}
    )
    for name, site in (("Văn phòng Tỉnh ủy Lào Cai", "LCI"), ("Thành ủy Hải Phòng", "HPG")):
        body = {"recipient_kind": "unit", "name": name, "site": site, "citation": "Xuất sắc"}
        await hall.ok(organizer, "POST", f"/awards/decisions/{decision['id']}/awards", body)
    body = {"title": "Trao tặng Cờ thi đua, Bằng khen", "kind": "awards"}
    hall.stage.items["awards"] = (await hall.ok(organizer, "POST", "/agenda", body))["id"]


async def ceremony(hall: Hall) -> None:
    chair = hall.stage.chair
    await hall.ok(chair, "POST", "/agenda/live", {"action": "start", "item": hall.item("awards")})
    first = await hall.ok(chair, "POST", "/awards/announce", {})
    await hall.ok(chair, "POST", "/awards/announce", {})
    await hall.ok(chair, "POST", "/awards/announce", {"award": first["id"]})
    await hall.ok(chair, "POST", "/agenda/live", {"action": "end"})


ACTIONS: dict[str, tuple[Step, Step]] = {
    "sites": (nothing, sites),
    "conference": (nothing, conference),
    "agenda": (nothing, agenda),
    "speaker list": (talk_with_requests, speaker_list),
    "roll call": (nothing, roll_call),
    "ceremony": (awards_item, ceremony),
}


# --- the proof -------------------------------------------------------------------------------


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without its clock, records the snapshot does not order keyed by id."""
    out = copy.deepcopy(snapshot)
    out.pop("server_time", None)
    out["speakers"] = {
        lst["item"]: lst | {"speakers": {s["id"]: s for s in lst["speakers"]}}
        for lst in out.get("speakers", [])
        if lst["speakers"]
    }
    if "presence" in out:
        out["presence"] = {entry["site"]: entry for entry in out["presence"]}
    return out


@pytest.fixture
async def hall(client: Client, organizer: Api) -> AsyncIterator[Hall]:
    made = Hall(client, await make_stage(client, organizer), [])
    yield made
    for session in made.sessions:
        await session.close()


async def prove(hall: Hall, setup: Step, use: Step) -> int:
    """Snapshot, use, apply what came, compare with a fresh snapshot; the events applied."""
    await setup(hall)
    watcher = await hall.socket(hall.stage.chair)
    _, result = await watcher.subscribe(hall.stage.cid)
    held = result["snapshot"]
    await use(hall)
    fresh = await hall.ok(hall.stage.chair, "GET", "/live")
    count = fresh["seq"] - held["seq"]
    for message in await watcher.events(count):
        apply_event(held, message["seq"], message["event"])
    assert comparable(held) == comparable(fresh)
    await watcher.assert_quiet()
    return count


def test_every_command_has_a_case() -> None:
    assert set(COMMANDS) == set(command_registry().types())


def test_the_snapshot_client_applies_or_ignores_every_event() -> None:
    known = set(build_catalogue().names())
    assert not set(APPLY) & IGNORED
    assert set(APPLY) | IGNORED == known


# Commands that change nothing a snapshot holds (reads, a check-in) emit no events or
# only people's; the others at least one.
READS = {"ping", "live/subscribe", "live/unsubscribe", "conference/snapshot", "delegates/get"}


@pytest.mark.parametrize("name", sorted(ACTIONS))
async def test_snapshot_and_the_events_of_an_http_action_are_a_fresh_snapshot(
    hall: Hall, name: str
) -> None:
    setup, use = ACTIONS[name]
    assert await prove(hall, setup, use) >= 1


@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_snapshot_and_the_events_of_a_command_are_a_fresh_snapshot(
    hall: Hall, name: str
) -> None:
    setup, use = COMMANDS[name]
    count = await prove(hall, setup, use)
    if name in READS:
        assert count == 0
    else:
        assert count >= 1
