"""Fixtures: a fresh migrated database per test (SQLite and PostgreSQL), apps, clients."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestClient, TestServer
from aiohttp.web_runner import BaseRunner
from argon2 import PasswordHasher
from sqlmodel import col, select

from conference import documents, passwords
from conference.accounts import create_account, grant_role
from conference.actors import CLI, Actor
from conference.catalogue import Audience, EventType
from conference.db import Database
from conference.live import Event, LiveHub
from conference.models import Account, AuditEntry, Conference, Site
from conference.schemas import ConferenceCreate, SiteCreate
from conference.services import create_conference, create_site, get_conference
from runtime.config import Config
from server.app import create_app
from server.events import build_catalogue
from server.migrate import upgrade
from server.runtime import lent_pool_key
from server.serving import JsonErrorRunner
from tests.event_payloads import payload_problems

PG_URL = os.environ.get(
    "PLENARY_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("PLENARY_REQUIRE_POSTGRES") == "1"
PASSWORD = "correct horse battery"


class _GlyphAlarm(logging.Handler):
    """Notes WeasyPrint's missing-glyph warning (rendered here) and the server's note of
    one (rendered in a worker of the pool)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if documents.NOTDEF_MESSAGE in message or "no installed font has" in message:
            self.seen.append(message)


@pytest.fixture(autouse=True)
def no_missing_glyphs(request: pytest.FixtureRequest) -> Iterator[None]:
    """A document printed with empty boxes for some characters fails the test that made it."""
    alarm = _GlyphAlarm()
    root = logging.getLogger()
    root.addHandler(alarm)
    try:
        yield
    finally:
        root.removeHandler(alarm)
    if request.node.get_closest_marker("missing_glyphs") is None:
        assert not alarm.seen, f"characters no font has were printed: {alarm.seen[:3]}"


# Argon2 at its production cost takes ~0.14 s of CPU a hash, and nearly every test makes
# accounts and logs in: thousands of hashes, minutes of the suite. The tests check what is
# hashed and when (counted in Passwords.runs), not how slowly; they hash at the lowest cost.
# A test about the parameters themselves takes `production_passwords`.
PRODUCTION_HASHER = passwords._hasher


class _PayloadAlarm:
    """Checks every event a hub publishes against the event catalogue."""

    def __init__(self) -> None:
        self.catalogue = build_catalogue()
        self.seen: list[str] = []

    def check(self, event: Event) -> None:
        if not event.type.startswith("test/"):
            self.seen.extend(payload_problems(self.catalogue, event.type, event.data))


@pytest.fixture(autouse=True)
def events_as_declared(request: pytest.FixtureRequest) -> Iterator[None]:
    """An event whose data is not what the catalogue declares fails the test that made it."""
    alarm = _PayloadAlarm()
    publish = LiveHub.publish

    def checked(hub: LiveHub, event: Event, *, from_peer: bool = False) -> None:
        alarm.check(event)
        publish(hub, event, from_peer=from_peer)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LiveHub, "publish", checked)
        yield
    assert not alarm.seen, f"events unlike their catalogue entry: {alarm.seen[:5]}"


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        yield


@pytest.fixture
def production_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the parameters plenary ships with, for this test."""
    monkeypatch.setattr(passwords, "_hasher", PRODUCTION_HASHER)


def _pg_dsn(database: str) -> str:
    base = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    return base.rsplit("/", 1)[0] + "/" + database


def _pg_url(database: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + database


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_pg_dsn("postgres"), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    name = f"plenary_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if REQUIRE_PG:
            raise
        print(f"PostgreSQL not reachable ({exc}); PostgreSQL variants skip")
        yield None
        return
    asyncio.run(upgrade(_pg_url(name)))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class PgDatabases:
    """Fresh copies of the migrated template, one made ahead while a test runs and each
    dropped behind it: a copy takes ~0.3 s, and half the tests take one."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="pg-databases")
        self._next = self._worker.submit(self._create)

    def _create(self) -> str:
        name = f"plenary_t_{secrets.token_hex(6)}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    @staticmethod
    def _drop(name: str) -> None:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @contextmanager
    def one(self) -> Iterator[str]:
        """A database of its own for one test, as a URL; dropped after it."""
        name = self._next.result()
        self._next = self._worker.submit(self._create)
        try:
            yield _pg_url(name)
        finally:
            self._worker.submit(self._drop, name)

    def close(self) -> None:
        self._drop(self._next.result())
        self._worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def pg_databases(pg_template: str | None) -> Iterator[PgDatabases | None]:
    if pg_template is None:
        yield None
        return
    databases = PgDatabases(pg_template)
    yield databases
    databases.close()


@pytest.fixture
def pg_url(pg_databases: PgDatabases | None) -> Iterator[str]:
    """A freshly migrated PostgreSQL database of its own (tests that need PostgreSQL
    itself: several processes, advisory locks, Redis between processes)."""
    if pg_databases is None:
        pytest.skip("PostgreSQL is not reachable (set PLENARY_TEST_POSTGRES)")
    with pg_databases.one() as url:
        yield url


@pytest.fixture(scope="session")
def document_pool() -> Iterator[ProcessPoolExecutor]:
    """One spawned rendering worker, lent to the apps of tests that render PDFs (starting
    a worker costs a second; it starts at the first document)."""
    executor = documents.new_pool(1)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A freshly migrated database URL, once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "plenary.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    databases = request.getfixturevalue("pg_databases")
    if databases is None:
        pytest.skip(
            f"PostgreSQL is not reachable at {PG_URL} (set PLENARY_TEST_POSTGRES to run these)"
        )
    with databases.one() as url:
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
def config(db_url: str) -> Config:
    # A socket has 10 s to authenticate, as in production: 2 s failed under a loaded run.
    return Config(database_url=db_url, login_attempts_per_minute=5, ws_auth_timeout=10.0)


def own_event(name: str) -> EventType:
    """An event type of the tests' own ("test/<name>", for everyone, any data)."""
    return EventType(f"test/{name}", Audience.EVERYONE, dict, "an event the tests append")


# The tests' own event types: the servers the tests make know them.
TEST_EVENTS = tuple(
    own_event(name)
    for name in ("before_read", "after_read", "elsewhere", "burst", "a", "b", "concurrent")
)


@pytest.fixture
def app(config: Config) -> web.Application:
    return create_app(config, events=TEST_EVENTS)


@pytest.fixture
def rendering_app(config: Config, document_pool: ProcessPoolExecutor) -> web.Application:
    """The app, rendering its documents in the session's one worker; a module whose tests
    make PDFs takes it as its `app`."""
    made = create_app(config, events=TEST_EVENTS)
    made[lent_pool_key] = document_pool
    return made


class PlenaryTestServer(TestServer):
    """A test server that serves the app as `plenary serve` does (server.serving)."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return JsonErrorRunner(self.app, **kwargs)


@pytest.fixture
async def client(
    aiohttp_client: Callable[[BaseTestServer], Awaitable[TestClient[Any, Any]]],
    app: web.Application,
) -> TestClient[Any, Any]:
    return await aiohttp_client(PlenaryTestServer(app))


async def add_account(
    db: Database, username: str, *, admin: bool = False, can_create: bool = False
) -> Account:
    async with db.transaction() as session:
        return await create_account(
            session,
            username,
            PASSWORD,
            display_name=username.title(),
            is_admin=admin,
            can_create_conferences=can_create,
            actor=Actor(CLI),
        )


async def add_member(db: Database, cid: str, username: str, role: str) -> Account:
    """A new account with role in the conference whose public id is cid."""
    account = await add_account(db, username)
    async with db.transaction() as session:
        conference = await get_conference(session, cid)
        await grant_role(session, account, conference, role, actor=Actor(CLI))
    return account


async def audit_entries(db: Database, *where: Any) -> list[AuditEntry]:
    """The audit log's entries that meet every condition in where, oldest first."""
    async with db.read() as session:
        query = select(AuditEntry).order_by(col(AuditEntry.id))
        return list(await session.exec(query.where(*where) if where else query))


class Api:
    """A logged-in (or anonymous) JSON client that sends the CSRF header."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.csrf = ""
        self.bearer = ""

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        resp = await self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        body = await resp.json()
        assert resp.status == 200, body
        self.csrf = body["csrf_token"]
        return body

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        headers.update(extra or {})
        return headers

    def _request(self, method: str, path: str, **kw: Any) -> Any:
        """The request as an async context manager; through the test client's cookie jar."""
        return self.client.request(method, path, **kw)

    async def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        async with self._request(
            method, path, json=json, data=data, headers=self._headers(headers)
        ) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.call("GET", path)

    async def post(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", path, json, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("PATCH", path, json, **kw)

    async def delete(self, path: str) -> tuple[int, Any]:
        return await self.call("DELETE", path)


def bearer(client: TestClient[Any, Any], token: str) -> Api:
    """A client that sends token as its bearer."""
    api = Api(client)
    api.bearer = token
    return api


class Public(Api):
    """Someone with no account and no cookie (the test client's jar holds the organizer's)."""

    def __init__(self, client: TestClient[Any, Any], session: aiohttp.ClientSession) -> None:
        super().__init__(client)
        self.session = session

    def _request(self, method: str, path: str, **kw: Any) -> Any:
        return self.session.request(method, self.client.make_url(path), **kw)


@pytest.fixture
async def public(client: TestClient[Any, Any]) -> AsyncIterator[Public]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield Public(client, session)


@pytest.fixture
async def organizer(client: TestClient[Any, Any], app: web.Application) -> Api:
    """Logged in as an account that may create conferences."""
    from server.keys import db_key

    await add_account(app[db_key], "organizer", can_create=True)
    api = Api(client)
    await api.login("organizer")
    return api


CONFERENCE = {
    "title": "Hội nghị toàn quốc Văn phòng cấp ủy",
    "starts_on": "2026-12-10",
    "ends_on": "2026-12-11",
    "timezone": "Asia/Ho_Chi_Minh",
    "venue": "Hội trường Trung ương, Hà Nội",
}


def assert_refused(
    status: int, body: Any, want_status: int, code: str, field: str | None = None
) -> None:
    """The request was refused with want_status and the error code (naming field, if given)."""
    assert status == want_status, body
    assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"].get("field") == field, body


def conf_url(conference: dict[str, Any], rest: str = "") -> str:
    """The API address of conference (as the API returned it), with rest after it."""
    return f"/api/v1/conferences/{conference['id']}{rest}"


async def api_token(
    organizer: Api, conference: dict[str, Any], role: str, site: str | None = None
) -> str:
    """A device token for role (at the site of that code) that organizer issues."""
    body: dict[str, Any] = {"name": f"{role} device", "role": role}
    if site is not None:
        body["site"] = site
    status, answer = await organizer.post(conf_url(conference, "/tokens"), body)
    assert status == 201, answer
    token: str = answer["token"]
    return token


@pytest.fixture
async def conference(organizer: Api) -> dict[str, Any]:
    status, body = await organizer.post("/api/v1/conferences", CONFERENCE)
    assert status == 201, body
    return body


async def new_conference(
    db: Database,
    *,
    title: str = "Hội nghị",
    sites: tuple[tuple[str, str], ...] = (("LCI", "Lào Cai"),),
) -> tuple[Conference, Actor, list[Site]]:
    """A conference made by the command line, with sites (code, name), and its organizer."""
    async with db.transaction() as session:
        conference = await create_conference(
            session,
            ConferenceCreate(title=title, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 1)),
            actor=Actor(CLI),
        )
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        made = [
            await create_site(session, conference, SiteCreate(code=code, name=name), actor=actor)
            for code, name in sites
        ]
    return conference, actor, made
