"""Revoking a token, a screen token, a personal link or a role, or ending a session,
takes effect at once: open sockets close within a second with a named reason (the
periodic check is left at its default of 60 s, so only the access bell can do it),
and HTTP requests and check-ins are refused from the next one on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from server.keys import db_key
from tests.conftest import PASSWORD, Api, add_account
from tests.server.test_api_checkin import Client, Hall, make_hall, nonce
from tests.server.test_checkin_paths import link_socket
from tests.server.test_ws import Socket, connect

# The bound of the issue; the wait ends on the close frame, this only fails it.
AT_ONCE = 1.0


async def closed_within(socket: Socket, bound: float = AT_ONCE) -> tuple[int | None, str]:
    """The close code and reason the server sends, which must come within bound."""
    async with asyncio.timeout(bound):
        while True:
            message = await socket.ws.receive()
            if message.type == WSMsgType.CLOSE:
                return message.data, str(message.extra or "")
            if message.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                return socket.ws.close_code, ""
            assert message.type == WSMsgType.TEXT, message


async def member_session(
    client: Client, organizer: Api, cid: str, username: str, role: str, site: str = ""
) -> aiohttp.ClientSession:
    """A browser (its own cookie jar) signed in as a new account holding role in cid."""
    await add_account(client.app[db_key], username)
    grant = {"username": username, "role": role} | ({"site": site} if site else {})
    status, body = await organizer.post(f"/api/v1/conferences/{cid}/members", grant)
    assert status == 201, body
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with browser.post(
        client.make_url("/api/v1/auth/login"), json={"username": username, "password": PASSWORD}
    ) as resp:
        assert resp.status == 200
    return browser


async def new_token(hall: Hall, role: str, site: str = "") -> dict[str, Any]:
    body = {"name": f"{role} {site}", "role": role} | ({"site": site} if site else {})
    status, token = await hall.organizer.post(hall.url("/tokens"), body)
    assert status == 201, token
    return dict(token)


Revoke = Callable[[], Awaitable[None]]


async def _token_case(client: Client, hall: Hall, role: str) -> tuple[Socket, Revoke, Any]:
    token = await new_token(hall, role, "HNI" if role == "screen" else "")
    bare = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    socket = await connect(client, session=bare, token=token["token"])

    async def revoke() -> None:
        status, body = await hall.organizer.post(hall.url(f"/tokens/{token['id']}/revoke"))
        assert status == 200, body

    return socket, revoke, bare


async def open_case(client: Client, hall: Hall, kind: str) -> tuple[Socket, Revoke, Any]:
    """A subscribed socket relying on one credential, and how to revoke that credential."""
    if kind in ("token", "screen"):
        socket, revoke, owner = await _token_case(
            client, hall, "chair" if kind == "token" else kind
        )
    elif kind == "link":
        an = hall.delegates["Nguyễn Văn An"]
        owner = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        socket = await link_socket(client, owner, an["link"])

        async def revoke() -> None:
            status, body = await hall.organizer.post(hall.url(f"/delegates/{an['id']}/reissue"))
            assert status == 200, body
    else:
        owner = await member_session(client, hall.organizer, hall.cid, f"u_{kind}", "chair")
        socket = await connect(client, session=owner)

        async def revoke() -> None:
            if kind == "role":
                status, body = await hall.organizer.post(
                    hall.url("/members/revoke"), {"username": "u_role", "role": "chair"}
                )
                assert status == 204, body
            else:
                token = (await (await owner.get(client.make_url("/api/v1/me"))).json())[
                    "csrf_token"
                ]
                async with owner.post(
                    client.make_url("/api/v1/auth/logout"), headers={"X-CSRF-Token": token}
                ) as resp:
                    assert resp.status == 200

    await socket.subscribe(hall.cid)
    return socket, revoke, owner


EXPECTED = {
    "token": (4001, "token_revoked"),
    "screen": (4001, "screen_token_revoked"),
    "link": (4001, "link_revoked"),
    "role": (4003, "access_changed"),
    "session": (4001, "session_ended"),
}


@pytest.fixture
async def hall(client: Client, organizer: Api) -> Hall:
    return await make_hall(client, organizer)


@pytest.mark.parametrize("kind", list(EXPECTED))
async def test_a_revoked_credential_closes_its_socket_at_once(
    client: Client, hall: Hall, kind: str
) -> None:
    socket, revoke, owner = await open_case(client, hall, kind)
    try:
        assert (await socket.result("ping"))["pong"] is True
        await revoke()
        started = time.monotonic()
        code, reason = await closed_within(socket)
        assert (code, reason.split(":")[0]) == EXPECTED[kind], reason
        assert time.monotonic() - started < AT_ONCE
    finally:
        await owner.close()


async def test_http_with_a_revoked_token_is_refused_at_once(client: Client, hall: Hall) -> None:
    token = await new_token(hall, "chair")
    chair = Api(client)
    chair.bearer = token["token"]
    status, _ = await chair.get(hall.url(""))
    assert status == 200  # looked up, and kept for a second
    status, body = await hall.organizer.post(hall.url(f"/tokens/{token['id']}/revoke"))
    assert status == 200, body
    status, body = await chair.get(hall.url(""))
    assert (status, body["error"]["code"]) == (401, "unauthorized")


async def test_a_revoked_operator_cannot_scan_the_next_moment(client: Client, hall: Hall) -> None:
    """The check-in writer keeps each caller's roles a second; a revocation forgets them."""
    browser = await member_session(
        client, hall.organizer, hall.cid, "op_hni", "site_operator", "HNI"
    )
    try:
        csrf = (await (await browser.get(client.make_url("/api/v1/me"))).json())["csrf_token"]

        async def scan(name: str) -> int:
            async with browser.post(
                client.make_url(hall.url("/checkins")),
                json={"nonce": nonce(), "credential": hall.badge(name)},
                headers={"X-CSRF-Token": csrf},
            ) as resp:
                return resp.status

        assert await scan("Nguyễn Văn An") == 200
        status, body = await hall.organizer.post(
            hall.url("/members/revoke"), {"username": "op_hni", "role": "site_operator"}
        )
        assert status == 204, body
        assert await scan("Trần Thị Bình") in (403, 404)
    finally:
        await browser.close()


async def test_a_conference_setting_applies_to_the_next_scan(hall: Hall) -> None:
    """Cross-site check-in switched on: the very next scan follows it (no cached settings)."""
    lci = hall.operators["LCI"]
    status, body = await lci.post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Nguyễn Văn An")}
    )
    assert (status, body["error"]["code"]) == (422, "delegate_other_site")
    status, body = await hall.organizer.patch(hall.url(""), {"cross_site_checkin": True})
    assert status == 200, body
    status, body = await lci.post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Trần Thị Bình")}
    )
    assert status == 200, body
