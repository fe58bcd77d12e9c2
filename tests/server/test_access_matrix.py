"""Who may call what: every route of the OpenAPI document and every WebSocket command,
walked with every role against the one access matrix (tests/server/access_matrix.py),
which docs/roles.md repeats word for word."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.app import API_MODULES
from server.keys import openapi_key
from server.ws import command_registry
from tests.conftest import PASSWORD, Api, Public
from tests.server.access_matrix import (
    COMMANDS,
    ROLES,
    ROUTES,
    cells,
    markdown_tables,
)
from tests.server.stage import Stage, make_stage, token_api
from tests.server.test_ws import Socket, connect

Client = TestClient[Any, Any]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
UNKNOWN_SECRET = "Zz" * 16  # shaped like a personal link's secret, held by nobody
# Run last, in this order: they end the session or remove what later routes read.
LAST = (
    "POST /api/v1/conferences/{cid}/delegates/{did}/reissue",
    "POST /api/v1/conferences/{cid}/tokens/{tid}/revoke",
    "DELETE /api/v1/conferences/{cid}/awards/kinds/{key}",
    "DELETE /api/v1/conferences/{cid}/awards/templates/{name}",
    "DELETE /api/v1/conferences/{cid}/awards/emblem",
    "DELETE /api/v1/conferences/{cid}/agenda/{iid}",
    "DELETE /api/v1/conferences/{cid}/delegates/{did}",
    "DELETE /api/v1/conferences/{cid}/sites/{sid}",
    "POST /api/v1/auth/logout-everywhere",
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/login",
)


@pytest.fixture
def app(rendering_app: web.Application) -> web.Application:
    return rendering_app


@dataclass
class World:
    """One conference with a record of every kind, and a client per role."""

    stage: Stage
    params: dict[str, str]
    link: str
    callers: dict[str, Api]
    bodies: dict[str, Any]


def _route_ids(doc: dict[str, Any]) -> list[str]:
    return [f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops]


def _walk_order(routes: list[str]) -> list[str]:
    return [r for r in routes if r not in LAST] + [r for r in LAST if r in routes]


async def _ok(api: Api, method: str, path: str, body: Any = None) -> Any:
    status, answer = await api.call(method, path, body)
    assert status in (200, 201, 202), (method, path, status, answer)
    return answer


async def _world(client: Client, organizer: Api, public: Public) -> World:
    stage = await make_stage(client, organizer)
    url = stage.url()
    screen = await token_api(organizer, client, url, "screen", "LCI")
    spare = await _ok(organizer, "POST", url + "/tokens", {"name": "spare", "role": "chair"})
    sites = await _ok(organizer, "GET", url + "/sites")
    site_ids = {s["code"]: s["id"] for s in sites["items"]}
    pao, binh = stage.delegates["LCI0"], stage.delegates["LCI1"]
    item = stage.items["talk1"]
    speaker = await _ok(
        organizer, "POST", stage.url(f"/agenda/{item}/speakers"), {"delegate": pao["id"]}
    )
    # A conflict to resolve: Bình admitted at Hải Phòng, then scanned offline at Lào Cai.
    await _ok(organizer, "PATCH", url, {"cross_site_checkin": True})
    admitted = {"nonce": "n-hpg-0001", "delegate": binh["id"], "site": "HPG", "override": True}
    await _ok(organizer, "POST", url + "/checkins", admitted)
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    await _ok(
        stage.operators["LCI"],
        "POST",
        url + "/checkins/batch",
        {"items": [{"nonce": "n-lci-0001", "delegate": binh["id"], "happened_at": earlier}]},
    )
    conflicts = await _ok(organizer, "GET", url + "/checkins/conflicts")
    decision = await _ok(
        organizer,
        "POST",
        url + "/awards/decisions",
        {
            "number": "1268-QĐ/VPTW",
            "issued_on": "2026-12-01",
            "issuing_body": "Văn phòng Trung ương Đảng",
            "signer_name": "Nguyễn Văn Thắng",
            "signer_title": "Chánh Văn phòng",
            "award_kind": "certificate_of_merit",
        },
    )
    award = await _ok(
        organizer,
        "POST",
        url + f"/awards/decisions/{decision['id']}/awards",
        {"recipient_kind": "unit", "name": "Văn phòng Tỉnh ủy Lào Cai", "site": "LCI"},
    )
    await _ok(organizer, "POST", url + "/awards/kinds", {"key": "khen", "name": "Khen"})
    job = await _ok(organizer, "POST", url + "/badges", {"site": "LCI"})
    section = {"text": "Khai mạc.", "revision": 0}
    await _ok(organizer, "POST", url + "/minutes/sections/closing", section)
    agenda = await _ok(organizer, "GET", url + "/agenda")
    top_level = [i["id"] for i in agenda["items"] if not i.get("parent")]
    params = {
        "cid": stage.cid,
        "sid": site_ids["LCI"],
        "did": pao["id"],
        "iid": item,
        "spid": speaker["changed"][0]["id"],
        "chid": conflicts["items"][0]["id"],
        "section": "closing",
        "aid": award["id"],
        "key": "khen",
        "name": "certificate.html",
        "code": award["code"],
        "jobid": job["id"],
        "tid": spare["id"],
        "decision": decision["id"],
        "order": " ".join(top_level),
    }
    callers = {
        "organizer": organizer,
        "chair": stage.chair,
        "secretary": stage.secretary,
        "operator": stage.operators["LCI"],
        "other_operator": stage.operators["HPG"],
        "screen": screen,
        "link": public,
        "anonymous": public,
    }
    return World(stage, params, pao["link"], callers, _bodies(params))


def _bodies(p: dict[str, str]) -> dict[str, Any]:
    """Bodies that pass validation, so that a refusal cannot hide behind a 422."""
    now = datetime.now(UTC).isoformat()
    return {
        "POST /api/v1/auth/login": {"username": "organizer", "password": PASSWORD},
        "POST /api/v1/conferences": {
            "title": "Hội nghị khác",
            "starts_on": "2026-12-10",
            "ends_on": "2026-12-11",
        },
        "POST /api/v1/conferences/{cid}/sites": {"code": "QNI", "name": "Quảng Ninh"},
        "POST /api/v1/delegate/{secret}/checkin": {"code": "000000", "nonce": "n-self-0001"},
        "POST /api/v1/conferences/{cid}/delegates": {"name": "Người Mới", "site": "LCI"},
        "POST /api/v1/conferences/{cid}/checkins": {
            "nonce": "n-walk-0001",
            "delegate": p["did"],
            "site": "LCI",
        },
        "POST /api/v1/conferences/{cid}/checkins/batch": {
            "site": "LCI",
            "items": [{"nonce": "n-walk-0002", "delegate": p["did"], "happened_at": now}],
        },
        "POST /api/v1/conferences/{cid}/checkins/conflicts/{chid}/resolve": {"keep": "admitted"},
        "POST /api/v1/conferences/{cid}/agenda": {"title": "Mục mới"},
        "POST /api/v1/conferences/{cid}/agenda/order": {"order": p["order"].split()},
        "POST /api/v1/conferences/{cid}/roll-call/answer": {"site": "LCI"},
        "POST /api/v1/conferences/{cid}/agenda/live": {"action": "start"},
        "POST /api/v1/conferences/{cid}/agenda/{iid}/speakers": {"delegate": p["did"]},
        "POST /api/v1/conferences/{cid}/agenda/{iid}/speakers/order": {"order": [], "version": 0},
        "POST /api/v1/conferences/{cid}/agenda/{iid}/speakers/open": {"open": True},
        "POST /api/v1/conferences/{cid}/speakers/{spid}": {"action": "withdraw"},
        "POST /api/v1/conferences/{cid}/minutes/sections/{section}": {
            "text": "Bế mạc.",
            "revision": 0,
        },
        "POST /api/v1/conferences/{cid}/minutes/amendments": {"text": "Đính chính."},
        "POST /api/v1/conferences/{cid}/awards/decisions": {
            "number": "9-QĐ",
            "issued_on": "2026-12-01",
            "issuing_body": "Văn phòng",
            "signer_name": "Người Ký",
            "signer_title": "Chánh Văn phòng",
            "award_kind": "certificate_of_merit",
        },
        "POST /api/v1/conferences/{cid}/awards/decisions/{did}/awards": {"name": "Một đơn vị"},
        "POST /api/v1/conferences/{cid}/awards/{aid}/revoke": {"reason": "Nhầm"},
        "POST /api/v1/conferences/{cid}/awards/kinds": {"key": "bang", "name": "Bằng"},
        "POST /api/v1/conferences/{cid}/tokens": {"name": "more", "role": "chair"},
        "POST /api/v1/conferences/{cid}/members": {"username": "organizer", "role": "chair"},
        "POST /api/v1/conferences/{cid}/members/revoke": {"username": "organizer", "role": "chair"},
        "POST /api/v1/accounts": {"username": "newcomer", "password": "a long enough password"},
    }


def _fill(route: str, world: World, role: str) -> str:
    """The route's URL for role: real records (the own site's), its own link if any."""
    path = route.split(" ", 1)[1]
    values = dict(world.params, secret=world.link if role == "link" else UNKNOWN_SECRET)
    if "/awards/decisions/{did}" in path:
        values["did"] = world.params["decision"]
    filled = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)
    return filled + QUERIES.get(route, "")


async def _send(api: Api, method: str, url: str, body: Any) -> tuple[int, str]:
    """Status and error code, whatever the answer's type."""
    headers = api._headers()
    if isinstance(api, Public):
        made = api.session.request(method, api.client.make_url(url), json=body, headers=headers)
    else:
        made = api.client.request(method, url, json=body, headers=headers)
    async with made as resp:
        code = ""
        if resp.content_type == "application/json":
            answer = await resp.json()
            error = answer.get("error") if isinstance(answer, dict) else None
            code = str(error.get("code", "")) if isinstance(error, dict) else ""
        else:
            await resp.read()
        return resp.status, code


# Query strings a route needs to get past its own validation.
QUERIES = {"GET /api/v1/conferences/{cid}/minutes/sections/{section}/compare": "?from=0&to=1"}
# Allowed, but what they look up does not exist in this world: not_found is their answer.
NO_RECORD = frozenset(
    {
        "GET /api/v1/verify/minutes/{code}",
        "GET /api/v1/conferences/{cid}/awards/emblem",
        "DELETE /api/v1/conferences/{cid}/awards/templates/{name}",
    }
)


def _verdict(route: str, expected: str, status: int) -> bool:
    """Allowed: anything but a refusal; refused: exactly the documented status."""
    if expected == "ok":
        refusals = (401, 403) if route in NO_RECORD else (401, 403, 404)
        return status not in refusals and status < 500
    return status == int(expected)


def _caller(world: World, role: str, route: str) -> Api:
    # A personal link is a credential only in its own URLs; elsewhere its holder is nobody.
    if role == "link" and "{secret}" not in route:
        return world.callers["anonymous"]
    return world.callers[role]


@pytest.mark.parametrize("role", ROLES)
async def test_every_route_answers_each_role_as_the_matrix_says(
    client: Client, organizer: Api, public: Public, role: str
) -> None:
    world = await _world(client, organizer, public)
    routes = _route_ids(client.app[openapi_key])
    wrong = []
    for route in _walk_order(routes):
        method = route.split(" ", 1)[0]
        expected = cells(ROUTES[route])[ROLES.index(role)]
        url = _fill(route, world, role)
        body = world.bodies.get(route, {} if method in ("POST", "PUT", "PATCH") else None)
        status, code = await _send(_caller(world, role, route), method, url, body)
        if not _verdict(route, expected, status):
            wrong.append(f"{route}: expected {expected}, got {status} {code}")
    assert not wrong, f"{role}: {len(wrong)} answers differ from the matrix:\n" + "\n".join(wrong)


async def test_no_route_is_missing_from_the_matrix(client: Client) -> None:
    routes = set(_route_ids(client.app[openapi_key]))
    assert routes - set(ROUTES) == set(), "routes without a row in tests/server/access_matrix.py"
    assert set(ROUTES) - routes == set(), "rows of routes that no longer exist"
    assert all(len(cells(row)) == len(ROLES) for row in ROUTES.values())


def test_no_command_is_missing_from_the_matrix() -> None:
    assert set(command_registry().types()) == set(COMMANDS)
    assert all(len(cells(row)) == len(ROLES) for row in COMMANDS.values())


# The role each column of the matrix holds in the conference (anonymous: none).
ROLE_OF = {
    "organizer": "organizer",
    "chair": "chair",
    "secretary": "secretary",
    "operator": "site_operator",
    "other_operator": "site_operator",
    "screen": "screen",
    "link": "delegate",
}


def test_each_route_declares_the_roles_the_matrix_admits() -> None:
    """Every route of a conference declares its roles (server.http.ApiRoutes); a role
    it does not declare is refused with 403, whatever record it names."""
    declared = {
        f"{spec.method} {spec.path}": spec.roles for module in API_MODULES for spec in module.specs
    }
    for route, roles in declared.items():
        if "{cid}" not in route:
            assert roles is None, route
            continue
        assert roles is not None, f"{route} declares no roles"
        row = dict(zip(ROLES, cells(ROUTES[route]), strict=True))
        for column, role in ROLE_OF.items():
            if roles and role not in roles and column != "link":
                assert row[column] == "403", (route, column)


def test_each_command_declares_the_roles_the_matrix_admits() -> None:
    """A command's declaration is what refuses a role (403); the matrix agrees with it."""
    for declared in command_registry():
        row = dict(zip(ROLES, cells(COMMANDS[declared.name]), strict=True))
        refused = {column for column, cell in row.items() if cell == "403"}
        if declared.roles is None:
            assert not refused, declared.name
        else:
            expected = {c for c, role in ROLE_OF.items() if role not in declared.roles}
            assert refused == expected, declared.name


def test_the_docs_table_is_the_matrix() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for table in markdown_tables():
        assert table in text, "docs/roles.md differs: python -m tests.server.access_matrix"


# --- WebSocket commands ----------------------------------------------------------------------


def _command_body(name: str, world: World) -> dict[str, Any]:
    cid, p = world.stage.cid, world.params
    bodies: dict[str, dict[str, Any]] = {
        "ping": {},
        "live/subscribe": {"conference": cid},
        "live/unsubscribe": {"subscription": 1},
        "conference/snapshot": {"conference": cid},
        "presence/beat": {"conference": cid},
        "agenda/move": {"conference": cid, "action": "start"},
        "speakers/request": {"conference": cid, "item": p["iid"], "delegate": p["did"]},
        "speakers/act": {"conference": cid, "speaker": p["spid"], "action": "withdraw"},
        "speakers/next": {"conference": cid, "item": p["iid"]},
        "checkin/scan": {
            "conference": cid,
            "nonce": "n-ws-00001",
            "delegate": p["did"],
            "site": "LCI",
        },
        "delegates/get": {"conference": cid, "delegate": p["did"]},
    }
    return bodies[name]


async def _socket(client: Client, world: World, role: str, bare: aiohttp.ClientSession) -> Socket:
    api = world.callers[role]
    if role == "link":
        ws = await bare.ws_connect(client.make_url("/api/v1/ws"), origin=_origin(client))
        assert (await ws.receive_json(timeout=5))["type"] == "auth_required"
        await ws.send_json({"type": "auth", "link": world.link})
        first = await ws.receive_json(timeout=5)
        assert first["type"] == "auth_ok", first
        return Socket(ws, first["user"])
    if role == "organizer":
        return await connect(client)
    return await connect(client, session=bare, token=api.bearer or None)


def _origin(client: Client) -> str:
    return str(client.make_url("/")).rstrip("/")


async def _call(socket: Socket, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The command's result (events of a live subscription may come first)."""
    msg_id = await socket.send(name, **body)
    while True:
        answer = await socket.recv()
        if answer["type"] == "result":
            assert answer["id"] == msg_id, answer
            return answer


# A command's refusal as a result's error code, for each refused status of the matrix.
WS_CODES = {"401": "unauthorized", "403": "forbidden", "404": "not_found"}
WS_REFUSALS = ("unauthorized", "forbidden", "not_found")


@pytest.mark.parametrize("role", ROLES)
async def test_every_command_answers_each_role_as_the_matrix_says(
    client: Client, organizer: Api, public: Public, role: str
) -> None:
    world = await _world(client, organizer, public)
    wrong = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        socket = await _socket(client, world, role, bare)
        subscribed = 0
        for name in sorted(COMMANDS):  # live/unsubscribe right after live/subscribe
            expected = cells(COMMANDS[name])[ROLES.index(role)]
            body = _command_body(name, world)
            if name == "live/unsubscribe":
                body["subscription"] = subscribed
            answer = await _call(socket, name, body)
            code = "" if answer["success"] else answer["error"]["code"]
            if name == "live/subscribe" and answer["success"]:
                subscribed = answer["id"]
            if name == "live/unsubscribe" and not subscribed:
                continue  # nothing of its own to end: not_found is no refusal
            if expected == "ok" and code in WS_REFUSALS:
                wrong.append(f"{name}: expected ok, got {code}")
            if expected != "ok" and code != WS_CODES[expected]:
                wrong.append(f"{name}: expected {WS_CODES[expected]}, got {code or 'success'}")
        await socket.ws.close()
    assert not wrong, f"{role}: {len(wrong)} answers differ from the matrix:\n" + "\n".join(wrong)
