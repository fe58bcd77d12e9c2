"""Revocation in one server process takes effect in the others at once: two apps on
one PostgreSQL and one Redis, as several `plenary serve` processes run."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from runtime.config import Config
from server.access_bell import access_bell_key
from server.app import create_app
from server.keys import bridge_key, db_key
from tests.conftest import Api, add_account
from tests.runtime.test_redis_bridge import REDIS_URL, REQUIRE_REDIS, _redis_reachable
from tests.server.test_api_checkin import Hall, make_hall, nonce
from tests.server.test_checkin_paths import link_socket
from tests.server.test_revocation import closed_within, member_session, new_token
from tests.server.test_ws import connect

pytestmark = pytest.mark.xdist_group("redis")

# Between processes the bell crosses Redis. The periodic check runs every 60 s here, so a
# close within this bound is the bell's: the bound tells the bell from the periodic check
# without failing when a busy machine delays it by a second (a full parallel run once
# took more than 1 s).
BY_THE_BELL = 10.0

ClientFactory = Any


@pytest.fixture
async def two(aiohttp_client: ClientFactory, pg_url: str) -> tuple[Any, Any]:
    if not await _redis_reachable(REDIS_URL):
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    # The periodic check at its default (60 s): only the bell can close a socket in time.
    channel = f"test-{uuid.uuid4().hex}"  # this test's own: other tests share the server
    config = Config(
        database_url=pg_url,
        redis_url=REDIS_URL,
        redis_channel=channel,
        ws_auth_timeout=10.0,
    )
    a = await aiohttp_client(create_app(config))
    b = await aiohttp_client(create_app(config))
    for client in (a, b):
        bridge = client.app[bridge_key]
        assert bridge is not None
        assert bridge.access_channel == f"{channel}:access"
        async with asyncio.timeout(10):
            await bridge.connected.wait()
    return a, b


@dataclass
class Pair:
    """Process A, where the organizer works, and process B, where the sockets are."""

    a: Any
    b: Any
    organizer: Api
    hall: Hall


@pytest.fixture
async def hall_on_a(two: tuple[Any, Any]) -> Pair:
    a, b = two
    await add_account(a.app[db_key], "organizer", can_create=True)
    organizer = Api(a)
    await organizer.login("organizer")
    return Pair(a, b, organizer, await make_hall(a, organizer))


async def test_a_revocation_on_one_process_closes_sockets_on_the_other(hall_on_a: Pair) -> None:
    b, organizer, hall = hall_on_a.b, hall_on_a.organizer, hall_on_a.hall
    an = hall.delegates["Nguyễn Văn An"]
    token = await new_token(hall, "chair")
    screen = await new_token(hall, "screen", "HNI")
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare,
        await member_session(b, organizer, hall.cid, "chair_b", "chair") as browser,
    ):
        sockets = {
            "token": await connect(b, session=bare, token=token["token"]),
            "screen": await connect(b, session=bare, token=screen["token"]),
            "link": await link_socket(b, bare, an["link"]),
            "role": await connect(b, session=browser),
        }
        for socket in sockets.values():
            await socket.subscribe(hall.cid)
        revocations = {
            "token": ("POST", f"/tokens/{token['id']}/revoke", None),
            "screen": ("POST", f"/tokens/{screen['id']}/revoke", None),
            "link": ("POST", f"/delegates/{an['id']}/reissue", None),
            "role": ("POST", "/members/revoke", {"username": "chair_b", "role": "chair"}),
        }
        expected = {
            "token": (4001, "token_revoked"),
            "screen": (4001, "screen_token_revoked"),
            "link": (4001, "link_revoked"),
            "role": (4003, "access_changed"),
        }
        for kind, (method, path, body) in revocations.items():
            status, answer = await organizer.call(method, hall.url(path), body)
            assert status in (200, 204), answer
            started = time.monotonic()
            code, reason = await closed_within(sockets[kind], BY_THE_BELL)
            assert (code, reason.split(":")[0]) == expected[kind], (kind, reason)
            assert time.monotonic() - started < BY_THE_BELL


async def test_http_and_check_in_on_the_other_process_follow_the_bell(hall_on_a: Pair) -> None:
    b, organizer, hall = hall_on_a.b, hall_on_a.organizer, hall_on_a.hall
    token = await new_token(hall, "chair")
    chair_b = Api(b)
    chair_b.bearer = token["token"]
    status, _ = await chair_b.get(hall.url(""))
    assert status == 200  # B has looked the token up and keeps it a second
    operator_b = Api(b)
    operator_b.bearer = hall.operators["LCI"].bearer
    status, body = await operator_b.post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Nguyễn Văn An")}
    )
    assert (status, body["error"]["code"]) == (422, "delegate_other_site")
    bell_b = b.app[access_bell_key]

    async def heard(change: Any) -> None:
        rung = bell_b.rung
        await change
        async with asyncio.timeout(BY_THE_BELL):
            await bell_b.wait_rung(rung + 1)

    await heard(organizer.post(hall.url(f"/tokens/{token['id']}/revoke")))
    status, body = await chair_b.get(hall.url(""))
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    await heard(organizer.patch(hall.url(""), {"cross_site_checkin": True}))
    status, body = await operator_b.post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Trần Thị Bình")}
    )
    assert status == 200, body
