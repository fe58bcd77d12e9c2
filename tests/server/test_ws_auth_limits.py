"""The WebSocket keeps the limits HTTP keeps: personal links guessed in an ``auth``
message count against the address's guesses (one bucket with HTTP lookups), sessions
loaded for a socket end at the configured idle time and lifetime, and logging out
everywhere closes every socket of the account's sessions at once."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import update

from attendance import links
from conference.dbtypes import utcnow
from conference.models import BrowserSession
from runtime.config import Config
from server.access_bell import access_bell_key
from server.keys import db_key
from tests.conftest import PASSWORD, Api, add_account
from tests.server.test_api_checkin import Client, Hall, make_hall
from tests.server.test_revocation import AT_ONCE, closed_within
from tests.server.test_ws import WS, connect, expect_close, origin, session_for

LIMIT = 5
ATTEMPTS = 20
NOT_VALID = "this personal link is not valid"
TOO_MANY = "too many unknown personal links from this address"
SESSION_ENDED = (4001, "session_ended")


@pytest.fixture
def config(db_url: str) -> Config:
    """Few link guesses a minute; sessions end after 1 h idle, 2 h in all (defaults 12, 168)."""
    return Config(
        database_url=db_url,
        login_attempts_per_minute=5,
        ws_auth_timeout=10.0,  # twenty sockets authenticate at once on a busy machine
        refused_scans_per_minute=LIMIT,
        session_hours=1,
        session_max_hours=2,
    )


@pytest.fixture
async def bare() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that never sends cookies: it must authenticate in its first message."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The personal links really looked up in the database, in order."""
    seen: list[str] = []
    original = links.delegate_by_link

    async def counted(session: Any, secret: str) -> Any:
        seen.append(secret)
        return await original(session, secret)

    monkeypatch.setattr(links, "delegate_by_link", counted)
    return seen


async def auth_answer(
    client: Client, bare: aiohttp.ClientSession, **auth: str
) -> tuple[dict[str, Any], int | None]:
    """Send one auth message on a new socket: the answer and, unless it is auth_ok, the
    close code that follows it."""
    ws = await bare.ws_connect(client.make_url(WS), origin=origin(client))
    try:
        assert (await ws.receive_json(timeout=5))["type"] == "auth_required"
        await ws.send_json({"type": "auth", **auth})
        answer: dict[str, Any] = await ws.receive_json(timeout=5)
        if answer["type"] == "auth_ok":
            return answer, None
        return answer, await expect_close(ws)
    finally:
        await ws.close()


def unknown_link() -> str:
    return secrets.token_urlsafe(24)


async def http_lookup(client: Client, bare: aiohttp.ClientSession, secret: str) -> int:
    async with bare.get(client.make_url(f"/api/v1/delegate/{secret}")) as resp:
        await resp.read()
        return resp.status


@pytest.fixture
async def hall(client: Client, organizer: Api) -> Hall:
    return await make_hall(client, organizer)


# --- 1. personal links over the WebSocket count against the address -----------------


async def test_link_guesses_over_the_websocket_are_limited_by_address(
    client: Client, hall: Hall, bare: aiohttp.ClientSession, lookups: list[str]
) -> None:
    answers = await asyncio.gather(
        *(auth_answer(client, bare, link=unknown_link()) for _ in range(ATTEMPTS))
    )
    assert len(lookups) == LIMIT  # sent together, yet no more lookups than the limit
    messages = sorted(answer["message"].split(";")[0] for answer, _ in answers)
    assert messages == [NOT_VALID] * LIMIT + [TOO_MANY] * (ATTEMPTS - LIMIT)
    assert {(answer["type"], code) for answer, code in answers} == {("auth_invalid", 4001)}
    # Past the limit even a real link is refused, before any lookup.
    answer, code = await auth_answer(client, bare, link=hall.delegates["Nguyễn Văn An"]["link"])
    assert (answer["type"], code) == ("auth_invalid", 4001)
    assert answer["message"].startswith(TOO_MANY), answer
    assert len(lookups) == LIMIT


async def test_http_and_websocket_link_lookups_share_one_bucket(
    client: Client, hall: Hall, bare: aiohttp.ClientSession, lookups: list[str]
) -> None:
    real = hall.delegates["Nguyễn Văn An"]["link"]
    answer, _ = await auth_answer(client, bare, link=real)
    assert answer["type"] == "auth_ok"  # a real link is not a guess: nothing stays counted
    by_http = [await http_lookup(client, bare, unknown_link()) for _ in range(LIMIT - 2)]
    assert by_http == [404] * (LIMIT - 2)
    for _ in range(2):
        answer, _ = await auth_answer(client, bare, link=unknown_link())
        assert answer["message"] == NOT_VALID, answer
    # The address has used its LIMIT guesses, half by HTTP, half by the socket.
    answer, code = await auth_answer(client, bare, link=unknown_link())
    assert (answer["type"], code) == ("auth_invalid", 4001)
    assert answer["message"].startswith(TOO_MANY), answer
    assert await http_lookup(client, bare, real) == 429
    assert len(lookups) == 1 + LIMIT


# --- 2. the configured session limits hold on the socket ---------------------------


async def age_session(app: web.Application, **ago: timedelta) -> None:
    """Move every session's last use or start this far into the past (no request sent)."""
    now = utcnow()
    async with app[db_key].transaction() as session:
        await session.exec(
            update(BrowserSession).values(**{name: now - delta for name, delta in ago.items()})  # type: ignore[call-overload]
        )


@pytest.mark.parametrize(
    "ago",
    [
        {"last_seen_at": timedelta(hours=1, minutes=5)},  # idle past 1 h (default 12 h)
        {"created_at": timedelta(hours=2, minutes=5)},  # started past 2 h (default 168 h)
    ],
    ids=["idle", "lifetime"],
)
async def test_a_session_past_the_configured_limits_is_refused_at_auth(
    client: Client, app: web.Application, bare: aiohttp.ClientSession, ago: dict[str, timedelta]
) -> None:
    token = await session_for(app, "chair")
    answer, _ = await auth_answer(client, bare, token=token)
    assert answer["type"] == "auth_ok"
    await age_session(app, **ago)
    answer, code = await auth_answer(client, bare, token=token)
    assert (answer["type"], code) == ("auth_invalid", 4001), answer
    assert "unknown, revoked or expired" in answer["message"]


async def test_an_open_socket_closes_once_its_session_is_idle_past_the_configured_time(
    client: Client, app: web.Application, organizer: Api
) -> None:
    socket = await connect(client)  # by the organizer's session cookie
    assert (await socket.result("ping"))["pong"] is True
    await age_session(app, last_seen_at=timedelta(hours=1, minutes=5))
    # The periodic check is 60 s away: the bell makes the socket check now.
    app[access_bell_key].react()
    code, reason = await closed_within(socket)
    assert (code, reason.split(":")[0]) == SESSION_ENDED, reason


# --- 3. logging out everywhere closes every socket of the account -------------------


async def signed_in(client: Client, username: str) -> aiohttp.ClientSession:
    """A browser of its own (cookie jar) signed in as username."""
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with browser.post(
        client.make_url("/api/v1/auth/login"), json={"username": username, "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
    return browser


async def test_logout_everywhere_closes_the_sockets_of_every_session_at_once(
    client: Client, app: web.Application, organizer: Api
) -> None:
    await add_account(app[db_key], "chair")
    laptop, phone = await signed_in(client, "chair"), await signed_in(client, "chair")
    try:
        sockets = [await connect(client, session=browser) for browser in (laptop, phone)]
        other = await connect(client)  # the organizer: another account
        for socket in (*sockets, other):
            assert (await socket.result("ping"))["pong"] is True
        async with laptop.get(client.make_url("/api/v1/me")) as resp:
            csrf = (await resp.json())["csrf_token"]
        async with laptop.post(
            client.make_url("/api/v1/auth/logout-everywhere"), headers={"X-CSRF-Token": csrf}
        ) as resp:
            assert resp.status == 200 and (await resp.json())["sessions_ended"] == 2
        started = time.monotonic()
        closes = await asyncio.gather(*(closed_within(socket) for socket in sockets))
        assert time.monotonic() - started < AT_ONCE
        assert [(code, reason.split(":")[0]) for code, reason in closes] == [SESSION_ENDED] * 2
        assert (await other.result("ping"))["pong"] is True
    finally:
        await laptop.close()
        await phone.close()
