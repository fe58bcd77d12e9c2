"""Browser sessions end after an idle time and an absolute lifetime, their last use is
written at most once a minute, and logout can end every session of an account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from sqlalchemy import update
from sqlmodel import col, select

from conference.dbtypes import utcnow
from conference.models import Account, AuditEntry, BrowserSession
from server.keys import db_key
from tests.conftest import PASSWORD, Api, add_account, audit_entries

Client = TestClient[Any, Any]
Opener = Callable[[str], Awaitable["Browser"]]


class Browser:
    """One browser: its own cookie jar, logged in as one account."""

    def __init__(self, client: Client, http: aiohttp.ClientSession) -> None:
        self.client = client
        self.http = http
        self.csrf = ""

    async def login(self, username: str) -> None:
        body = await self.call(
            "POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD}
        )
        self.csrf = body["csrf_token"]

    async def call(self, method: str, path: str, json: Any = None) -> Any:
        async with self.http.request(
            method, self.client.make_url(path), json=json, headers={"X-CSRF-Token": self.csrf}
        ) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def logged_in(self) -> bool:
        return bool((await self.call("GET", "/api/v1/me"))["authenticated"])


@pytest.fixture
async def browser(client: Client) -> AsyncIterator[Callable[[str], Awaitable[Browser]]]:
    """Opens browsers logged in as an account; closes them after the test."""
    opened: list[aiohttp.ClientSession] = []

    async def open_one(username: str) -> Browser:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        opened.append(http)
        found = Browser(client, http)
        await found.login(username)
        return found

    yield open_one
    for http in opened:
        await http.close()


async def sessions(app: web.Application) -> list[BrowserSession]:
    async with app[db_key].read() as session:
        return list(await session.exec(select(BrowserSession).order_by(col(BrowserSession.id))))


async def set_times(app: web.Application, **times: datetime) -> None:
    async with app[db_key].transaction() as session:
        await session.exec(update(BrowserSession).values(**times))  # type: ignore[call-overload]


async def test_a_session_idle_past_its_limit_ends(
    client: Client, app: web.Application, organizer: Api
) -> None:
    # The default idle time is 12 hours.
    await set_times(app, last_seen_at=utcnow() - timedelta(hours=11, minutes=50))
    assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is True
    await set_times(app, last_seen_at=utcnow() - timedelta(hours=12, minutes=1))
    status, me = await organizer.get("/api/v1/me")
    assert status == 200 and me["authenticated"] is False
    status, _ = await organizer.post("/api/v1/conferences", {})
    assert status == 401


async def test_a_used_session_still_ends_at_its_lifetime(
    client: Client, app: web.Application, organizer: Api
) -> None:
    # Used a minute ago, but logged in more than the lifetime (default 168 h) ago; the
    # row's own expiry is still ahead: a shortened lifetime applies to sessions at once.
    [row] = await sessions(app)
    assert row.expires_at - row.created_at == timedelta(hours=168)
    now = utcnow()
    await set_times(app, created_at=now - timedelta(hours=167), last_seen_at=now)
    assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is True
    await set_times(app, created_at=now - timedelta(hours=169), last_seen_at=now)
    assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is False
    await set_times(app, created_at=now, expires_at=now - timedelta(seconds=1))
    assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is False


async def test_the_last_use_is_written_at_most_once_a_minute(
    client: Client, app: web.Application, organizer: Api
) -> None:
    [row] = await sessions(app)
    for _ in range(5):
        assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is True
    [same] = await sessions(app)
    assert same.last_seen_at == row.last_seen_at  # five requests, no write
    earlier = utcnow() - timedelta(seconds=61)
    await set_times(app, last_seen_at=earlier)
    before = utcnow()
    assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is True
    [touched] = await sessions(app)
    assert touched.last_seen_at >= before


async def test_logout_everywhere_ends_every_session_of_the_account(
    client: Client, app: web.Application, organizer: Api, browser: Opener
) -> None:
    await add_account(app[db_key], "chair")
    laptop = await browser("organizer")
    phone = await browser("organizer")
    other = await browser("chair")
    assert [await b.logged_in() for b in (laptop, phone, other)] == [True] * 3
    answer = await laptop.call("POST", "/api/v1/auth/logout-everywhere")
    assert answer == {"ok": True, "sessions_ended": 3}  # laptop, phone, the fixture's
    assert await laptop.logged_in() is False
    assert await phone.logged_in() is False
    assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is False
    assert await other.logged_in() is True  # another account keeps its session
    entries = await audit_entries(
        app[db_key], col(AuditEntry.action) == "account.logout_everywhere"
    )
    assert [e.changes for e in entries] == [{"sessions": 3}]


async def test_a_plain_logout_ends_only_its_own_session(
    client: Client, app: web.Application, organizer: Api, browser: Opener
) -> None:
    phone = await browser("organizer")
    answer = await phone.call("POST", "/api/v1/auth/logout")
    assert answer == {"ok": True, "sessions_ended": 1}
    assert await phone.logged_in() is False
    assert (await organizer.get("/api/v1/me"))[1]["authenticated"] is True


async def test_logout_everywhere_without_a_session_ends_nothing(
    client: Client, app: web.Application, organizer: Api
) -> None:
    url = client.make_url("/api/v1/auth/logout-everywhere")
    async with aiohttp.ClientSession() as http, http.post(url) as resp:
        assert resp.status == 200
        assert await resp.json() == {"ok": True, "sessions_ended": 0}
    assert len(await sessions(app)) == 1


async def test_the_page_logs_out_everywhere(
    client: Client, app: web.Application, organizer: Api, browser: Opener
) -> None:
    phone = await browser("organizer")
    page = await client.get("/conferences")
    assert 'name="everywhere"' in await page.text()
    resp = await client.post(
        "/logout", data={"csrf_token": organizer.csrf, "everywhere": "1"}, allow_redirects=False
    )
    assert resp.status in (302, 303)
    assert await phone.logged_in() is False
    assert await sessions(app) == []


@pytest.mark.usefixtures("production_passwords")
async def test_a_login_replaces_a_hash_made_with_older_parameters(
    client: Client, app: web.Application
) -> None:
    account = await add_account(app[db_key], "chair")
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    async with app[db_key].transaction() as session:
        await session.exec(
            update(Account).where(col(Account.id) == account.id).values(password_hash=weak)  # type: ignore[call-overload]
        )
    await Api(client).login("chair")
    async with app[db_key].read() as session:
        row = await session.get(Account, account.id)
    assert row is not None and row.password_hash != weak
    assert PasswordHasher().verify(row.password_hash, PASSWORD)
    assert not PasswordHasher().check_needs_rehash(row.password_hash)
