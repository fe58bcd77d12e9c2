"""The WebSocket endpoint: handshake, commands, live subscriptions, resume, scope, pressure."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, ValidationError

from conference import errors
from conference.accounts import grant_role, issue_token, start_session
from conference.actors import CLI, Actor
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from conference.live import PENDING_EVENTS, Event, append_event
from conference.services import get_conference, get_site_by_code
from runtime.config import Config
from server import ws_commands
from server.app import create_app
from server.keys import db_key, metrics_key, sockets_key
from server.ws_commands import MAX_SUBSCRIPTIONS
from server.ws_connection import error_for
from server.ws_live import Resume
from tests.conftest import CONFERENCE, TEST_EVENTS, Api, add_account, own_event

WS = "/api/v1/ws"
Client = TestClient[Any, Any]
ClientFactory = Callable[[web.Application], Awaitable[Client]]


# --- helpers -----------------------------------------------------------------------


def origin(client: Client) -> str:
    return str(client.make_url("/")).rstrip("/")


class Socket:
    """A connected, authenticated socket that numbers its commands."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, user: str) -> None:
        self.ws = ws
        self.user = user
        self.last_id = 0

    async def send(self, type_: str, **fields: Any) -> int:
        self.last_id += 1
        await self.ws.send_json({"id": self.last_id, "type": type_, **fields})
        return self.last_id

    async def recv(self, wait: float = 5.0) -> dict[str, Any]:
        message: dict[str, Any] = await self.ws.receive_json(timeout=wait)
        return message

    async def call(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a command; its answer must be the next message."""
        msg_id = await self.send(type_, **fields)
        answer = await self.recv()
        assert answer["id"] == msg_id and answer["type"] == "result", answer
        return answer

    async def result(self, type_: str, **fields: Any) -> Any:
        answer = await self.call(type_, **fields)
        assert answer["success"] is True, answer
        return answer["result"]

    async def error(self, type_: str, **fields: Any) -> dict[str, Any]:
        answer = await self.call(type_, **fields)
        assert answer["success"] is False, answer
        error: dict[str, Any] = answer["error"]
        return error

    async def subscribe(self, conference: str, **fields: Any) -> tuple[int, dict[str, Any]]:
        answer = await self.call("live/subscribe", conference=conference, **fields)
        assert answer["success"] is True, answer
        return answer["id"], answer["result"]

    async def events(self, count: int, wait: float = 5.0) -> list[dict[str, Any]]:
        received = []
        for _ in range(count):
            message = await self.recv(wait)
            assert message["type"] == "event", message
            received.append(message)
        return received

    async def assert_quiet(self) -> None:
        """Nothing is queued for this socket: a ping's answer comes next."""
        answer = await self.call("ping")
        assert answer["success"] is True

    async def close_quiet(self) -> None:
        """Nothing more came for this socket; then it closes."""
        await self.assert_quiet()
        await self.ws.close()


async def connect(
    client: Client,
    *,
    session: aiohttp.ClientSession | None = None,
    token: str | None = None,
) -> Socket:
    """A socket past auth_ok: by the cookie in session (or client), else by token or anonymous."""
    if session is None:
        ws = await client.ws_connect(WS, origin=origin(client))
    else:
        ws = await session.ws_connect(client.make_url(WS), origin=origin(client))
    first = await ws.receive_json(timeout=5)
    if first["type"] == "auth_required":
        await ws.send_json({"type": "auth", "token": token} if token else {"type": "auth"})
        first = await ws.receive_json(timeout=5)
    assert first["type"] == "auth_ok", first
    return Socket(ws, first["user"])


async def expect_close(ws: aiohttp.ClientWebSocketResponse, wait: float = 5.0) -> int | None:
    """Read until the server closes; the close code it sent."""
    while True:
        message = await ws.receive(timeout=wait)
        if message.type == WSMsgType.CLOSE:
            # The code in the frame: ws.close_code turns 1006 when the server drops the
            # connection before the client's reply to its close frame is written.
            return int(message.data)
        if message.type in (WSMsgType.CLOSED, WSMsgType.CLOSING):
            return ws.close_code
        assert message.type in (WSMsgType.TEXT, WSMsgType.ERROR), message


def organizer_actor(conference_id: int) -> Actor:
    return Actor(CLI, conference_id, frozenset({"organizer"}))


async def issue(app: web.Application, cid: str, role: str, site_code: str = "") -> str:
    """An API token with role in the conference."""
    async with app[db_key].transaction() as session:
        conference = await get_conference(session, cid)
        assert conference.id is not None
        site = await get_site_by_code(session, conference.id, site_code) if site_code else None
        plaintext, _ = await issue_token(
            session, conference, "screen", role, site=site, actor=organizer_actor(conference.id)
        )
    return plaintext


async def session_for(
    app: web.Application, username: str, cid: str = "", role: str = "", site_code: str = ""
) -> str:
    """A session cookie value for a new account, with role in cid if given."""
    db = app[db_key]
    account = await add_account(db, username)
    async with db.transaction() as session:
        if role:
            conference = await get_conference(session, cid)
            assert conference.id is not None
            site = await get_site_by_code(session, conference.id, site_code) if site_code else None
            await grant_role(
                session, account, conference, role, site=site, actor=organizer_actor(conference.id)
            )
        token, _ = await start_session(session, account, ttl=timedelta(hours=1))
    return token


async def add_site(organizer: Api, cid: str, code: str, name: str) -> dict[str, Any]:
    status, site = await organizer.post(
        f"/api/v1/conferences/{cid}/sites", {"code": code, "name": name, "kind": "remote"}
    )
    assert status == 201, site
    return site


async def rename(organizer: Api, cid: str, sid: str, name: str) -> None:
    status, body = await organizer.patch(f"/api/v1/conferences/{cid}/sites/{sid}", {"name": name})
    assert status == 200, body


async def look(client: Client, cid: str) -> dict[str, Any]:
    """What a subscriber to the conference is told (its seq, epoch and snapshot), on a
    socket closed after it."""
    socket = await connect(client)
    _, result = await socket.subscribe(cid)
    await socket.ws.close()
    return result


async def new_client(
    aiohttp_client: ClientFactory, config: Config, **changes: Any
) -> tuple[Client, Api, str]:
    """A server with changed settings, a logged-in organizer and a conference."""
    client = await aiohttp_client(
        create_app(dataclasses.replace(config, **changes), events=TEST_EVENTS)
    )
    await add_account(client.app[db_key], "organizer", can_create=True)
    organizer = Api(client)
    await organizer.login("organizer")
    status, body = await organizer.post("/api/v1/conferences", CONFERENCE)
    assert status == 201, body
    return client, organizer, body["id"]


@pytest.fixture
async def bare() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session that never sends cookies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@pytest.fixture
async def sites(organizer: Api, conference: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cid = conference["id"]
    return {
        "HNI": await add_site(organizer, cid, "HNI", "Hà Nội"),
        "HCM": await add_site(organizer, cid, "HCM", "TP. Hồ Chí Minh"),
    }


# --- handshake and authentication -------------------------------------------------


async def test_foreign_origin_is_refused(client: Client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as excinfo:
        await client.ws_connect(WS, origin="https://evil.example")
    assert excinfo.value.status == 403
    resp = await client.get(WS, headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"
    assert client.app[metrics_key].ws_connections == 0


async def test_plain_http_request_is_refused(client: Client) -> None:
    resp = await client.get(WS)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "websocket_required"


async def test_cookie_session_is_authenticated_at_once(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    ws = await client.ws_connect(WS, origin=origin(client))
    first = await ws.receive_json(timeout=5)
    assert first == {"type": "auth_ok", "user": "Organizer"}
    socket = Socket(ws, first["user"])
    _, result = await socket.subscribe(conference["id"])
    assert result["snapshot"]["conference"]["id"] == conference["id"]
    assert client.app[metrics_key].ws_connections == 1
    assert len(client.app[sockets_key]) == 1
    await ws.close()


async def test_api_token_in_first_message(
    client: Client,
    app: web.Application,
    conference: dict[str, Any],
    bare: aiohttp.ClientSession,
) -> None:
    token = await issue(app, conference["id"], "secretary")
    socket = await connect(client, session=bare, token=token)
    assert socket.user == "token screen"
    _, result = await socket.subscribe(conference["id"])
    assert result["snapshot"]["conference"]["title"] == CONFERENCE["title"]
    await socket.ws.close()


async def test_bearer_header_is_authenticated_at_once(
    client: Client, app: web.Application, conference: dict[str, Any], bare: aiohttp.ClientSession
) -> None:
    token = await issue(app, conference["id"], "secretary")
    url, headers = client.make_url(WS), {"Authorization": f"Bearer {token}"}
    ws = await bare.ws_connect(url, origin=origin(client), headers=headers)
    assert (await ws.receive_json(timeout=5)) == {"type": "auth_ok", "user": "token screen"}
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as excinfo:
        await bare.ws_connect(url, headers={"Authorization": "Bearer plnr_revoked"})
    assert excinfo.value.status == 401


async def test_session_cookie_value_in_first_message(
    client: Client, app: web.Application, conference: dict[str, Any], bare: aiohttp.ClientSession
) -> None:
    cookie = await session_for(app, "chairwoman", conference["id"], "chair")
    socket = await connect(client, session=bare, token=cookie)
    assert socket.user == "Chairwoman"
    _, result = await socket.subscribe(conference["id"])
    assert result["seq"] == result["snapshot"]["seq"]
    await socket.ws.close()


# The timer is the adapter's, not the database's: one backend, and a short timeout (the
# suite's 10 s is for sockets that do authenticate on a loaded machine).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_no_auth_message_closes_the_socket(
    aiohttp_client: ClientFactory, bare: aiohttp.ClientSession, config: Config
) -> None:
    timeout = 2.0
    client = await aiohttp_client(create_app(dataclasses.replace(config, ws_auth_timeout=timeout)))
    ws = await bare.ws_connect(client.make_url(WS), origin=origin(client))
    assert (await ws.receive_json(timeout=5)) == {"type": "auth_required"}
    started = asyncio.get_running_loop().time()
    assert await expect_close(ws, wait=timeout + 10) == 4001
    assert asyncio.get_running_loop().time() - started >= timeout - 0.1


BAD_AUTH = [
    '{"type": "auth", "token": "plnr_not-a-real-token"}',
    '{"type": "auth", "token": "not-a-session-either"}',
    '{"type": "auth", "token": 42}',
    '{"type": "auth", "token": "x", "user": "admin"}',
    '{"id": 1, "type": "ping"}',
    "not json",
]


async def test_bad_auth_message_gets_auth_invalid(
    client: Client, bare: aiohttp.ClientSession
) -> None:
    for first in BAD_AUTH:
        ws = await bare.ws_connect(client.make_url(WS), origin=origin(client))
        assert (await ws.receive_json(timeout=5))["type"] == "auth_required"
        await ws.send_str(first)
        answer = await ws.receive_json(timeout=5)
        assert answer["type"] == "auth_invalid" and answer["message"], first
        assert await expect_close(ws) == 4001, first


async def test_revoked_session_is_asked_to_authenticate(
    client: Client, organizer: Api, bare: aiohttp.ClientSession
) -> None:
    status, _ = await organizer.post("/api/v1/auth/logout")
    assert status in (200, 204)
    ws = await client.ws_connect(WS, origin=origin(client))
    assert (await ws.receive_json(timeout=5)) == {"type": "auth_required"}
    await ws.close()


async def test_anonymous_sees_only_public_conferences(
    client: Client, organizer: Api, conference: dict[str, Any], bare: aiohttp.ClientSession
) -> None:
    cid = conference["id"]
    socket = await connect(client, session=bare)
    assert socket.user == "anonymous"
    assert (await socket.error("live/subscribe", conference=cid))["code"] == "not_found"
    status, body = await organizer.patch(f"/api/v1/conferences/{cid}", {"public": True})
    assert status == 200, body
    _, result = await socket.subscribe(cid)
    assert result["snapshot"]["conference"]["public"] is True
    await socket.ws.close()


# --- frames and commands -------------------------------------------------------------


# (frame, the id answered, error code, field named)
BAD_FRAMES: list[tuple[str, int | None, str, str | None]] = [
    ("{not json", None, "invalid_format", None),
    ("[1, 2]", None, "invalid_format", None),
    ('"ping"', None, "invalid_format", None),
    ("[" * 5000 + "]" * 5000, None, "invalid_format", None),
    ('{"type": "ping"}', None, "invalid_format", "id"),
    ('{"id": "1", "type": "ping"}', None, "invalid_format", "id"),
    ('{"id": true, "type": "ping"}', None, "invalid_format", "id"),
    ('{"id": 1.5, "type": "ping"}', None, "invalid_format", "id"),
    ('{"id": 0, "type": "ping"}', 0, "invalid_format", "id"),
    ('{"id": 1}', 1, "invalid_format", "type"),
    ('{"id": 1, "type": "live/explode"}', 1, "unknown_command", None),
    ('{"id": 1, "type": "ping", "extra": 1}', 1, "invalid_format", "extra"),
    ('{"id": 1, "type": "live/subscribe"}', 1, "invalid_format", "conference"),
    ('{"id": 1, "type": "live/subscribe", "conference": 7}', 1, "invalid_format", "conference"),
    (
        '{"id": 1, "type": "live/subscribe", "conference": "x", "since": "3"}',
        1,
        "invalid_format",
        "since",
    ),
    (
        '{"id": 1, "type": "live/subscribe", "conference": "x", "since": -1}',
        1,
        "invalid_format",
        "since",
    ),
    (
        '{"id": 1, "type": "live/unsubscribe", "subscription": "a"}',
        1,
        "invalid_format",
        "subscription",
    ),
    ('{"id": 1, "type": "live/subscribe", "conference": "nope"}', 1, "not_found", None),
    ('{"id": 1, "type": "conference/snapshot", "conference": "nope"}', 1, "not_found", None),
    ('{"id": 1, "type": "live/unsubscribe", "subscription": 1}', 1, "not_found", None),
]


async def test_bad_frames_get_one_error_each(client: Client, organizer: Api) -> None:
    for frame, answer_id, code, field in BAD_FRAMES:
        socket = await connect(client)
        await socket.ws.send_str(frame)
        answer = await socket.recv()
        assert answer["id"] == answer_id, frame
        assert answer["type"] == "result" and answer["success"] is False, frame
        assert answer["error"]["code"] == code, frame
        assert answer["error"]["message"], frame
        if field is not None:
            assert answer["error"]["field"] == field, frame
        # The socket stays usable and nothing else was queued.
        socket.last_id = max(socket.last_id, answer_id or 0)
        await socket.close_quiet()


async def test_ids_must_increase(client: Client, organizer: Api) -> None:
    socket = await connect(client)
    await socket.ws.send_json({"id": 5, "type": "ping"})
    assert (await socket.recv())["success"] is True
    for repeated in (5, 3):
        await socket.ws.send_json({"id": repeated, "type": "ping"})
        answer = await socket.recv()
        assert answer["id"] == repeated and answer["success"] is False
        assert answer["error"]["code"] == "invalid_format"
        assert answer["error"]["field"] == "id"
    await socket.ws.send_json({"id": 6, "type": "ping"})
    answer = await socket.recv()
    assert answer["id"] == 6 and answer["success"] is True
    await socket.ws.close()


async def test_binary_frame_is_refused(client: Client, organizer: Api) -> None:
    socket = await connect(client)
    await socket.ws.send_bytes(b'{"id": 1, "type": "ping"}')
    answer = await socket.recv()
    assert answer["id"] is None and answer["error"]["code"] == "invalid_format"
    await socket.ws.close()


async def test_oversized_frame_closes_the_socket(client: Client, organizer: Api) -> None:
    socket = await connect(client)
    await socket.ws.send_str('{"id": 1, "type": "ping", "x": "' + "a" * 70_000 + '"}')
    assert await expect_close(socket.ws) == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_ping(client: Client, organizer: Api) -> None:
    socket = await connect(client)
    result = await socket.result("ping")
    assert result["pong"] is True
    sent = datetime.fromisoformat(result["server_time"])
    assert abs((datetime.now(sent.tzinfo) - sent).total_seconds()) < 5
    await socket.ws.close()


async def test_conference_snapshot_command(
    client: Client, organizer: Api, conference: dict[str, Any], sites: dict[str, Any]
) -> None:
    socket = await connect(client)
    snapshot = await socket.result("conference/snapshot", conference=conference["id"])
    assert [site["code"] for site in snapshot["sites"]] == ["HNI", "HCM"]
    status, over_http = await organizer.get(f"/api/v1/conferences/{conference['id']}/live")
    assert status == 200
    assert snapshot["seq"] == over_http["seq"] and snapshot["epoch"] == over_http["epoch"]
    await socket.ws.close()


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InvalidInput("bad"), errors.INVALID_FORMAT),
        (Unauthorized("who"), errors.UNAUTHORIZED),
        (Forbidden("no"), errors.FORBIDDEN),
        (NotFound("gone"), errors.NOT_FOUND),
        (Conflict("taken"), errors.CONFLICT),
    ],
)
def test_domain_errors_keep_their_code(exc: Exception, code: str) -> None:
    assert error_for(exc).code == code


def test_validation_error_is_invalid_format() -> None:
    class Model(BaseModel):
        since: int

    with pytest.raises(ValidationError) as excinfo:
        Model.model_validate({"since": "soon"})
    error = error_for(excinfo.value)
    assert error.code == errors.INVALID_FORMAT and error.field == "since"


def test_unknown_exception_is_logged_and_hidden(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("secret detail")
    except RuntimeError as exc:
        with caplog.at_level(logging.ERROR, logger="plenary.ws"):
            error = error_for(exc)
    assert error.code == errors.UNKNOWN_ERROR
    assert "secret" not in error.message
    assert caplog.records and caplog.records[0].exc_info is not None


# --- live subscriptions -----------------------------------------------------------------


async def test_subscribe_without_since_sends_a_snapshot(
    client: Client, organizer: Api, conference: dict[str, Any], sites: dict[str, Any]
) -> None:
    socket = await connect(client)
    _, result = await socket.subscribe(conference["id"])
    snapshot = result["snapshot"]
    assert result["seq"] == snapshot["seq"] == 3  # created + two sites
    assert result["epoch"] == snapshot["epoch"] == conference["epoch"]
    assert {site["name"] for site in snapshot["sites"]} == {"Hà Nội", "TP. Hồ Chí Minh"}
    datetime.fromisoformat(result["server_time"])
    await socket.close_quiet()


async def test_site_rename_arrives_as_an_event(
    client: Client, organizer: Api, conference: dict[str, Any], sites: dict[str, Any]
) -> None:
    cid = conference["id"]
    first = await connect(client)
    second = await connect(client)
    await first.subscribe(cid)
    await second.result("ping")
    sub_id, result = await second.subscribe(cid)
    await rename(organizer, cid, sites["HNI"]["id"], "Thủ đô Hà Nội")
    for socket, expected_id in ((first, 1), (second, sub_id)):
        (event,) = await socket.events(1)
        assert event["id"] == expected_id
        assert event["seq"] == result["seq"] + 1
        assert event["epoch"] == result["epoch"]
        assert event["event"]["type"] == "site/updated"
        assert event["event"]["data"]["id"] == sites["HNI"]["id"]
        assert event["event"]["data"]["name"] == "Thủ đô Hà Nội"
        datetime.fromisoformat(event["event"]["at"])
        await socket.close_quiet()


async def test_resubscribe_replays_exactly_the_missed_events(
    client: Client, organizer: Api, conference: dict[str, Any], sites: dict[str, Any]
) -> None:
    cid, sid = conference["id"], sites["HCM"]["id"]
    result = await look(client, cid)
    since, epoch = result["seq"], result["epoch"]
    for n in range(20):
        await rename(organizer, cid, sid, f"Điểm cầu {n}")
    socket = await connect(client)
    sub_id, result = await socket.subscribe(cid, since=since, epoch=epoch)
    assert result["snapshot"] is None
    assert result["seq"] == since + 20
    events = await socket.events(20)
    assert [e["seq"] for e in events] == list(range(since + 1, since + 21))
    assert [e["event"]["data"]["name"] for e in events] == [f"Điểm cầu {n}" for n in range(20)]
    assert {e["id"] for e in events} == {sub_id}
    await socket.assert_quiet()
    # Live events continue right after the replay.
    await rename(organizer, cid, sid, "Sau cùng")
    (event,) = await socket.events(1)
    assert event["seq"] == since + 21
    await socket.ws.close()


async def test_resume_at_the_head_replays_nothing(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    socket = await connect(client)
    _, result = await socket.subscribe(conference["id"])
    _, again = await socket.subscribe(conference["id"], since=result["seq"], epoch=result["epoch"])
    assert again["snapshot"] is None and again["seq"] == result["seq"]
    await socket.close_quiet()


async def test_resume_beyond_the_replay_limit_gets_a_snapshot(
    aiohttp_client: ClientFactory, config: Config
) -> None:
    client, organizer, cid = await new_client(aiohttp_client, config, replay_limit=5)
    site = await add_site(organizer, cid, "DNG", "Đà Nẵng")
    start = await look(client, cid)
    for n in range(5):
        await rename(organizer, cid, site["id"], f"Đà Nẵng {n}")
    socket = await connect(client)
    _, within = await socket.subscribe(cid, since=start["seq"], epoch=start["epoch"])
    assert within["snapshot"] is None
    assert [e["seq"] for e in await socket.events(5)] == list(
        range(start["seq"] + 1, start["seq"] + 6)
    )
    await rename(organizer, cid, site["id"], "Đà Nẵng 5")
    await socket.events(1)
    _, beyond = await socket.subscribe(cid, since=start["seq"], epoch=start["epoch"])
    assert beyond["snapshot"] is not None
    assert beyond["seq"] == beyond["snapshot"]["seq"] == start["seq"] + 6
    assert beyond["snapshot"]["sites"][0]["name"] == "Đà Nẵng 5"
    await socket.close_quiet()


@pytest.mark.parametrize("resume", ["wrong_epoch", "ahead", "epoch_only"])
async def test_unusable_resume_point_gets_a_snapshot(
    client: Client, organizer: Api, conference: dict[str, Any], resume: str
) -> None:
    socket = await connect(client)
    _, head = await socket.subscribe(conference["id"])
    fields: dict[str, Any] = {
        "wrong_epoch": {"since": 0, "epoch": "another-log"},
        "ahead": {"since": head["seq"] + 10, "epoch": head["epoch"]},
        "epoch_only": {"epoch": head["epoch"]},
    }[resume]
    _, result = await socket.subscribe(conference["id"], **fields)
    assert result["snapshot"] is not None
    assert result["snapshot"]["conference"]["id"] == conference["id"]
    assert result["epoch"] == head["epoch"] and result["seq"] == head["seq"]
    await socket.close_quiet()


async def test_private_conference_is_not_found_without_a_role(
    client: Client,
    app: web.Application,
    conference: dict[str, Any],
    bare: aiohttp.ClientSession,
) -> None:
    cookie = await session_for(app, "stranger")
    socket = await connect(client, session=bare, token=cookie)
    assert socket.user == "Stranger"
    error = await socket.error("live/subscribe", conference=conference["id"])
    assert error["code"] == "not_found"
    error = await socket.error("conference/snapshot", conference=conference["id"])
    assert error["code"] == "not_found"
    assert app[db_key].hub.subscriber_count() == 0
    await socket.ws.close()


async def test_token_for_another_conference_is_not_found(
    client: Client,
    app: web.Application,
    organizer: Api,
    conference: dict[str, Any],
    bare: aiohttp.ClientSession,
) -> None:
    status, other = await organizer.post("/api/v1/conferences", CONFERENCE)
    assert status == 201
    token = await issue(app, other["id"], "secretary")
    socket = await connect(client, session=bare, token=token)
    assert (await socket.error("live/subscribe", conference=conference["id"]))["code"] == (
        "not_found"
    )
    _, result = await socket.subscribe(other["id"])
    assert result["snapshot"]["conference"]["id"] == other["id"]
    await socket.ws.close()


async def test_site_operator_sees_only_their_site(
    client: Client,
    app: web.Application,
    organizer: Api,
    conference: dict[str, Any],
    sites: dict[str, Any],
    bare: aiohttp.ClientSession,
) -> None:
    cid, own, other = conference["id"], sites["HNI"]["id"], sites["HCM"]["id"]
    cookie = await session_for(app, "operator", cid, "site_operator", "HNI")
    socket = await connect(client, session=bare, token=cookie)
    _, result = await socket.subscribe(cid)
    assert [site["id"] for site in result["snapshot"]["sites"]] == [own]
    start = result["seq"]
    await rename(organizer, cid, other, "Khác 1")
    await rename(organizer, cid, own, "Của tôi")
    await rename(organizer, cid, other, "Khác 2")
    status, _ = await organizer.patch(f"/api/v1/conferences/{cid}", {"venue": "Hội trường"})
    assert status == 200
    events = await socket.events(2)
    assert [(e["seq"], e["event"]["type"]) for e in events] == [
        (start + 2, "site/updated"),
        (start + 4, "conference/updated"),
    ]
    assert events[0]["event"]["data"]["id"] == own
    await socket.assert_quiet()
    # The replay is scoped the same way.
    _, again = await socket.subscribe(cid, since=start, epoch=result["epoch"])
    assert again["snapshot"] is None
    replayed = await socket.events(2)
    assert [e["seq"] for e in replayed] == [start + 2, start + 4]
    await socket.close_quiet()


async def test_unsubscribe_stops_events(
    client: Client, app: web.Application, organizer: Api, conference: dict[str, Any], sites: Any
) -> None:
    cid = conference["id"]
    socket = await connect(client)
    sub_id, _ = await socket.subscribe(cid)
    assert app[db_key].hub.subscriber_count() == 1
    assert await socket.result("live/unsubscribe", subscription=sub_id) is None
    assert app[db_key].hub.subscriber_count() == 0
    await rename(organizer, cid, sites["HNI"]["id"], "Không ai nghe")
    await socket.assert_quiet()
    error = await socket.error("live/unsubscribe", subscription=sub_id)
    assert error["code"] == "not_found"
    await socket.ws.close()


async def test_subscriptions_per_socket_are_capped(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    socket = await connect(client)
    for _ in range(MAX_SUBSCRIPTIONS):
        await socket.subscribe(conference["id"])
    error = await socket.error("live/subscribe", conference=conference["id"])
    assert error["code"] == "conflict"
    await socket.ws.close()


async def test_closing_the_socket_drops_its_subscriptions(
    client: Client, app: web.Application, organizer: Api, conference: dict[str, Any]
) -> None:
    socket = await connect(client)
    await socket.subscribe(conference["id"])
    await socket.subscribe(conference["id"])
    assert app[db_key].hub.subscriber_count() == 2
    await socket.ws.close()
    # The hub has no event for this: look until it holds (the timeout ends a failed wait).
    async with asyncio.timeout(30):
        while app[db_key].hub.subscriber_count():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_concurrent_updates_arrive_gapless(
    client: Client, organizer: Api, conference: dict[str, Any], sites: dict[str, Any]
) -> None:
    cid = conference["id"]
    socket = await connect(client)
    _, result = await socket.subscribe(cid)
    ids = [sites["HNI"]["id"], sites["HCM"]["id"]]
    await asyncio.gather(*(rename(organizer, cid, ids[n % 2], f"Tên {n}") for n in range(30)))
    events = await socket.events(30, wait=10)
    assert [e["seq"] for e in events] == list(range(result["seq"] + 1, result["seq"] + 31))
    assert {e["event"]["data"]["name"] for e in events} == {f"Tên {n}" for n in range(30)}
    await socket.close_quiet()


async def test_subscribing_amid_updates_loses_and_repeats_nothing(
    client: Client, organizer: Api, conference: dict[str, Any], sites: dict[str, Any]
) -> None:
    cid, sid = conference["id"], sites["HNI"]["id"]
    first = await look(client, cid)
    since = first["seq"]
    writers = asyncio.gather(*(rename(organizer, cid, sid, f"Lần {n}") for n in range(30)))
    await asyncio.sleep(0.05)
    socket = await connect(client)
    _, result = await socket.subscribe(cid, since=since, epoch=first["epoch"])
    await writers
    assert result["snapshot"] is None
    events = await socket.events(30, wait=10)
    assert [e["seq"] for e in events] == list(range(since + 1, since + 31))
    await socket.close_quiet()


@pytest.mark.parametrize("resume", ["snapshot", "replay"])
async def test_events_around_the_state_read_are_neither_lost_nor_repeated(
    client: Client,
    app: web.Application,
    organizer: Api,
    conference: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    resume: str,
) -> None:
    cid = conference["id"]
    db = app[db_key]
    socket = await connect(client)
    _, head = await socket.subscribe(cid)
    assert await socket.result("live/unsubscribe", subscription=1) is None
    original = ws_commands.read_resume

    async def racing_read(session: Any, conference_id: int, *args: Any, **kw: Any) -> Resume:
        # Committed after the listener is attached, before the state is read: in both.
        async with db.transaction() as other:
            await append_event(other, conference_id, own_event("before_read"), {})
        result = await original(session, conference_id, *args, **kw)
        # Delivered after the read, before the answer went out: only in the buffer.
        db.hub.publish(
            Event(conference_id, result.epoch, result.seq + 1, "test/after_read", {}, utcnow())
        )
        return result

    monkeypatch.setattr(ws_commands, "read_resume", racing_read)
    since = {"snapshot": {}, "replay": {"since": head["seq"], "epoch": head["epoch"]}}[resume]
    _, result = await socket.subscribe(cid, **since)
    assert result["seq"] == head["seq"] + 1
    if resume == "replay":
        assert result["snapshot"] is None
        (replayed,) = await socket.events(1)
        assert (replayed["seq"], replayed["event"]["type"]) == (head["seq"] + 1, "test/before_read")
    else:
        assert result["snapshot"]["seq"] == head["seq"] + 1
    (live,) = await socket.events(1)
    assert (live["seq"], live["event"]["type"]) == (head["seq"] + 2, "test/after_read")
    await socket.close_quiet()


async def test_gap_is_filled_from_the_log(
    client: Client, app: web.Application, organizer: Api, conference: dict[str, Any], sites: Any
) -> None:
    cid = conference["id"]
    socket = await connect(client)
    _, result = await socket.subscribe(cid)
    db = app[db_key]
    async with db.transaction() as session:
        row = await get_conference(session, cid)
        assert row.id is not None
        await append_event(
            session, row.id, own_event("elsewhere"), {"note": "only in the database"}
        )
        # As if committed by another process whose doorbell never rang here.
        session.info.pop(PENDING_EVENTS)
    await rename(organizer, cid, sites["HNI"]["id"], "Sau khoảng trống")
    events = await socket.events(2, wait=3)
    assert [(e["seq"], e["event"]["type"]) for e in events] == [
        (result["seq"] + 1, "test/elsewhere"),
        (result["seq"] + 2, "site/updated"),
    ]
    assert events[0]["event"]["data"] == {"note": "only in the database"}
    await socket.close_quiet()


async def test_slow_socket_is_closed(aiohttp_client: ClientFactory, config: Config) -> None:
    client, _, cid = await new_client(aiohttp_client, config, ws_max_pending=4)
    socket = await connect(client)
    _, result = await socket.subscribe(cid)
    db = client.app[db_key]
    async with db.transaction() as session:
        row = await get_conference(session, cid)
        assert row.id is not None
        for n in range(20):
            await append_event(session, row.id, own_event("burst"), {"n": n})
    assert await expect_close(socket.ws) == 4008
    assert client.app[metrics_key].ws_closed_slow == 1
    # The client resumes where it was and gets every event back.
    socket = await connect(client)
    _, resumed = await socket.subscribe(cid, since=result["seq"], epoch=result["epoch"])
    assert resumed["snapshot"] is None
    assert [e["event"]["data"]["n"] for e in await socket.events(20)] == list(range(20))
    await socket.ws.close()


async def test_server_shutdown_closes_sockets(client: Client, organizer: Api) -> None:
    socket = await connect(client)
    await client.app.shutdown()
    assert await expect_close(socket.ws) == aiohttp.WSCloseCode.GOING_AWAY
