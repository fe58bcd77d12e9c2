"""The agenda routes over HTTP: what each answers, in what shape, and how refusals come out.

What the agenda does (moves, speaker lists, roll calls) is tested against the services in
tests/agenda/; who may call each route is the access matrix's (test_access_matrix.py)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import Api, assert_refused
from tests.server.stage import Stage

Client = TestClient[Any, Any]
ITEM_FIELDS = {
    "id",
    "parent",
    "position",
    "title",
    "kind",
    "planned_start",
    "duration_minutes",
    "presenter",
    "presenter_delegate",
    "site",
    "speaking_limit_seconds",
    "status",
    "started_at",
    "ended_at",
    "speakers_open",
    "speakers_version",
}
LIST_FIELDS = {"item", "version", "open", "speaking", "order"}


async def test_the_agenda_is_built_over_http(stage: Stage) -> None:
    status, body = await stage.chair.get(stage.url("/agenda"))
    assert status == 200
    assert [i["id"] for i in body["items"]] == [
        stage.items[key] for key in ("opening", "session", "talk1", "talk2", "closing")
    ]
    assert all(set(i) == ITEM_FIELDS for i in body["items"])
    lci = stage.delegates["LCI0"]
    status, item = await stage.organizer.post(
        stage.url("/agenda"),
        {
            "title": "Tham luận Lào Cai",
            "kind": "speech",
            "presenter_delegate": lci["id"],
            "parent": stage.items["session"],
        },
    )
    assert status == 201 and set(item) == ITEM_FIELDS
    assert (item["parent"], item["position"]) == (stage.items["session"], 3)
    assert (item["presenter"], item["presenter_delegate"]) == (lci["name"], lci["id"])
    url = stage.url(f"/agenda/{stage.items['opening']}")
    status, item = await stage.organizer.patch(
        url, {"title": "Khai mạc hội nghị", "speaking_limit_seconds": 120, "site": "HNI"}
    )
    assert status == 200 and set(item) == ITEM_FIELDS
    assert (item["title"], item["speaking_limit_seconds"], item["site"]) == (
        "Khai mạc hội nghị",
        120,
        "HNI",
    )
    # A body the schema refuses, and one the service refuses, name the field.
    status, err = await stage.organizer.patch(url, {"duration_minutes": "ten"})
    assert_refused(status, err, 422, "invalid_format")
    status, err = await stage.organizer.patch(url, {"presenter_delegate": "nobody"})
    assert_refused(status, err, 422, "invalid_format", "presenter_delegate")
    order = [stage.items["closing"], stage.items["session"], stage.items["opening"]]
    status, body = await stage.organizer.post(stage.url("/agenda/order"), {"order": order})
    assert status == 200 and body == {"parent": None, "order": order}
    status, err = await stage.organizer.post(stage.url("/agenda/order"), {"order": order[:2]})
    assert_refused(status, err, 409, "conflict", "order")
    status, settings = await stage.chair.patch(
        stage.url("/agenda/settings"), {"fair_order": True, "kind_limits": {"speech": 420}}
    )
    assert status == 200
    assert settings == {
        "default_speaking_seconds": 300,
        "kind_limits": {"speech": 420},
        "fair_order": True,
    }
    status, again = await stage.secretary.get(stage.url("/agenda/settings"))
    assert (status, again) == (200, settings)
    status, _ = await stage.organizer.delete(stage.url(f"/agenda/{stage.items['closing']}"))
    assert status == 204
    status, err = await stage.organizer.delete(stage.url("/agenda/nosuchitem"))
    assert_refused(status, err, 404, "not_found")


async def test_the_chair_moves_the_agenda_over_http(stage: Stage) -> None:
    status, move = await stage.chair.post(stage.url("/agenda/live"), {"action": "start"})
    assert status == 200, move
    assert set(move) == {"action", "current", "items", "at", "ceremony"}
    assert move["current"] == stage.items["opening"]
    assert [(i["id"], i["status"]) for i in move["items"]] == [(stage.items["opening"], "running")]
    status, err = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "start", "item": stage.items["opening"]}
    )
    assert_refused(status, err, 409, "conflict", "item")
    status, err = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "start", "item": stage.items["session"]}
    )
    assert_refused(status, err, 422, "invalid_format", "item")
    status, err = await stage.chair.post(stage.url("/agenda/live"), {"action": "jump"})
    assert_refused(status, err, 422, "invalid_format")
    # A started item stays in the record.
    status, err = await stage.organizer.delete(stage.url(f"/agenda/{stage.items['opening']}"))
    assert_refused(status, err, 409, "conflict", "item")
    # The snapshot holds the move, at the seq of its event.
    status, snap = await stage.chair.get(stage.url("/live"))
    assert status == 200 and snap["agenda"]["current"] == stage.items["opening"]
    assert isinstance(snap["seq"], int) and snap["seq"] > 0


async def test_speaker_lists_over_http(client: Client, stage: Stage) -> None:
    status, _ = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "start", "item": stage.items["talk1"]}
    )
    assert status == 200
    item = stage.items["talk1"]
    url = stage.url(f"/agenda/{item}/speakers")
    lci, hpg = stage.delegates["LCI0"], stage.delegates["HPG0"]
    # An operator asks on the running item ("current").
    status, ev = await stage.operators["LCI"].post(
        stage.url("/agenda/current/speakers"), {"delegate": lci["id"], "topic": "Chuyển đổi số"}
    )
    assert status == 201, ev
    assert LIST_FIELDS | {"changed"} == set(ev) and ev["item"] == item
    asked = ev["changed"][0]
    assert (asked["status"], asked["site"], asked["delegate"]) == ("requested", "LCI", lci["id"])
    status, err = await stage.operators["HPG"].post(url, {"delegate": lci["id"]})
    assert_refused(status, err, 404, "not_found", "delegate")
    status, err = await stage.operators["LCI"].post(url, {"name": "Khách mời"})
    assert_refused(status, err, 422, "invalid_format", "delegate")
    status, err = await stage.operators["LCI"].post(url, {"item": stage.items["talk2"]})
    assert_refused(status, err, 422, "invalid_format", "item")
    # The delegate asks from their phone (their personal link), once.
    status, ev = await Api(client).post(f"/api/v1/delegate/{hpg['link']}/speakers", {})
    assert status == 201, ev
    mine = ev["changed"][0]["id"]
    status, err = await Api(client).post(f"/api/v1/delegate/{hpg['link']}/speakers", {})
    assert_refused(status, err, 409, "conflict", "delegate")
    status, err = await Api(client).post(
        f"/api/v1/delegate/{stage.delegates['LCI1']['link']}/speakers/{asked['id']}/withdraw", {}
    )
    assert_refused(status, err, 403, "forbidden", "speaker")
    status, err = await Api(client).post("/api/v1/delegate/" + "x" * 32 + "/speakers", {})
    assert status == 404
    # The chair approves, calls, pauses and finishes.
    status, ev = await stage.chair.post(stage.url(f"/speakers/{mine}"), {"action": "approve"})
    assert status == 200 and ev["order"] == [mine]
    status, err = await stage.chair.post(stage.url(f"/speakers/{mine}"), {"action": "shout"})
    assert_refused(status, err, 422, "invalid_format")
    status, ev = await stage.chair.post(
        stage.url(f"/speakers/{asked['id']}"), {"action": "approve"}
    )
    version = ev["version"]
    status, ev = await stage.chair.post(
        url + "/order", {"order": [asked["id"], mine], "version": version}
    )
    assert status == 200 and ev["order"] == [asked["id"], mine]
    status, err = await stage.chair.post(
        url + "/order", {"order": [mine, asked["id"]], "version": version}
    )
    assert_refused(status, err, 409, "conflict", "version")
    assert err["error"]["details"] == {"version": version + 1}
    status, ev = await stage.chair.post(url + "/next")
    assert status == 200 and ev["speaking"] == asked["id"]
    speaking = ev["changed"][0]
    assert speaking["timer_started_at"] and speaking["limit_seconds"] == 300
    status, ev = await stage.chair.post(stage.url(f"/speakers/{asked['id']}"), {"action": "pause"})
    assert status == 200 and ev["changed"][0]["timer_started_at"] is None
    status, err = await stage.chair.post(stage.url(f"/speakers/{asked['id']}"), {"action": "pause"})
    assert_refused(status, err, 409, "conflict")
    status, ev = await stage.chair.post(url + "/open", {"open": False})
    assert status == 200 and ev["open"] is False
    status, err = await Api(client).post(f"/api/v1/delegate/{lci['link']}/speakers", {"item": item})
    assert_refused(status, err, 409, "conflict", "item")
    status, lst = await stage.secretary.get(url)
    assert status == 200 and set(lst) == LIST_FIELDS | {"speakers"}
    assert lst["speaking"] == asked["id"] and lst["order"] == [mine]
    status, stats = await stage.chair.get(stage.url("/speaking-stats"))
    assert status == 200
    assert [(s["site"], s["count"]) for s in stats["sites"]] == [("LCI", 1)]
    assert [(p["delegate"], p["count"]) for p in stats["people"]] == [(lci["id"], 1)]


async def test_roll_calls_over_http(stage: Stage) -> None:
    status, err = await stage.operators["LCI"].post(stage.url("/roll-call/answer"), {})
    assert_refused(status, err, 409, "conflict")
    status, none = await stage.chair.get(stage.url("/roll-call"))
    assert (status, none) == (200, None)
    status, call = await stage.chair.post(stage.url("/roll-call"))
    assert status == 201 and call["sites"] == ["HNI", "LCI", "HPG"]
    status, ans = await stage.operators["LCI"].post(stage.url("/roll-call/answer"), {})
    assert status == 200 and (ans["id"], ans["site"]) == (call["id"], "LCI")
    status, err = await stage.operators["LCI"].post(stage.url("/roll-call/answer"), {"site": "HPG"})
    assert_refused(status, err, 404, "not_found", "site")
    status, state = await stage.operators["HPG"].get(stage.url("/roll-call"))
    assert status == 200 and list(state["answered"]) == ["LCI"]
    assert state["missing"] == ["HNI", "HPG"] and state["closed_at"] is None
    status, closed = await stage.chair.post(stage.url("/roll-call/close"))
    assert status == 200 and (closed["answered"], closed["missing"]) == (1, ["HNI", "HPG"])
