"""An open WebSocket ends with its session or token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from runtime.config import Config
from server.keys import db_key
from tests.conftest import PASSWORD, Api, add_account
from tests.server.test_ws import Client, Socket, connect, expect_close, issue, new_client

ClientFactory = Any


@pytest.fixture
async def fast(aiohttp_client: ClientFactory, config: Config) -> tuple[Client, Api, str]:
    """A server that checks its sockets' sessions every 0.2 s, an organizer, a conference."""
    return await new_client(aiohttp_client, config, ws_revalidate_seconds=0.2)


@asynccontextmanager
async def viewer(
    client: Client, organizer: Api, cid: str
) -> AsyncIterator[tuple[Socket, aiohttp.ClientSession]]:
    """The conference made public, and an anonymous socket subscribed to it (with the
    cookieless session it came through)."""
    status, body = await organizer.patch(f"/api/v1/conferences/{cid}", {"public": True})
    assert status == 200, body
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        socket = await connect(client, session=bare)
        await socket.subscribe(cid)
        yield socket, bare


async def test_logout_closes_the_sessions_socket(fast: tuple[Client, Api, str]) -> None:
    client, organizer, cid = fast
    socket = await connect(client)
    await socket.subscribe(cid)
    await asyncio.sleep(0.5)
    assert (await socket.result("ping"))["pong"] is True  # still open while the session holds
    status, _ = await organizer.post("/api/v1/auth/logout")
    assert status == 200
    message = await socket.recv(wait=5)
    assert message["type"] == "auth_expired"
    assert await expect_close(socket.ws) == 4001


async def test_revoking_a_token_closes_its_socket(fast: tuple[Client, Api, str]) -> None:
    client, organizer, cid = fast
    token = await issue(client.app, cid, "chair")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        socket = await connect(client, session=bare, token=token)
        await socket.subscribe(cid)
        status, tokens = await organizer.get(f"/api/v1/conferences/{cid}/tokens")
        assert status == 200, tokens
        (listed,) = tokens["items"]
        status, body = await organizer.post(
            f"/api/v1/conferences/{cid}/tokens/{listed['id']}/revoke"
        )
        assert status == 200, body
        message = await socket.recv(wait=5)
        assert message["type"] == "auth_expired"
        assert await expect_close(socket.ws) == 4001


async def test_anonymous_sockets_are_not_closed(fast: tuple[Client, Api, str]) -> None:
    client, organizer, cid = fast
    async with viewer(client, organizer, cid) as (socket, _):
        await asyncio.sleep(0.6)
        assert (await socket.result("ping"))["pong"] is True
        await socket.ws.close()


async def test_a_viewer_is_cut_off_when_the_conference_turns_private(
    fast: tuple[Client, Api, str],
) -> None:
    client, organizer, cid = fast
    async with viewer(client, organizer, cid) as (socket, bare):
        status, body = await organizer.patch(
            f"/api/v1/conferences/{cid}", {"public": False, "title": "Hội nghị nội bộ"}
        )
        assert status == 200, body
        # The change itself is not shown to the viewer; the socket closes at once.
        assert await expect_close(socket.ws) == 4003
        again = await connect(client, session=bare)
        assert (await again.error("live/subscribe", conference=cid))["code"] == "not_found"
        await again.ws.close()


async def test_an_operator_moved_to_another_site_must_resubscribe(
    fast: tuple[Client, Api, str],
) -> None:
    client, organizer, cid = fast
    for code, name in (("HNI", "Hà Nội"), ("HPG", "Hải Phòng")):
        status, body = await organizer.post(
            f"/api/v1/conferences/{cid}/sites", {"code": code, "name": name}
        )
        assert status == 201, body
    await add_account(client.app[db_key], "operator")
    grant = {"username": "operator", "role": "site_operator", "site": "HNI"}
    status, body = await organizer.post(f"/api/v1/conferences/{cid}/members", grant)
    assert status == 201, body
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as own:
        operator = Api(client)
        operator.client = client  # same server; the login below sets its own cookie
        async with own.post(
            client.make_url("/api/v1/auth/login"),
            json={"username": "operator", "password": PASSWORD},
        ) as resp:
            assert resp.status == 200
        socket = await connect(client, session=own)
        _, result = await socket.subscribe(cid)
        assert [s["code"] for s in result["snapshot"]["sites"]] == ["HNI"]
        status, body = await organizer.post(
            f"/api/v1/conferences/{cid}/members", {**grant, "site": "HPG"}
        )
        assert status in (200, 201), body
        assert await expect_close(socket.ws) == 4003
        socket = await connect(client, session=own)
        _, result = await socket.subscribe(cid)
        assert [s["code"] for s in result["snapshot"]["sites"]] == ["HPG"]
        await socket.ws.close()
