"""The database: async engine, sessions, and the three kinds of transaction.

Live events committed by a transaction reach the hub through the session itself
(conference/live.py, ``LiveSession``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from traceback import walk_tb
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.access import ACCESS_CHANGED
from conference.errors import DatabaseUnavailable
from conference.live import LiveHub, live_sessions

DEFAULT_URL = "sqlite+aiosqlite:///plenary.db"
# Set on the connection of a writing transaction (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "plenary_write"


def normalise_url(url: str) -> str:
    """Accept the plain driver names people type and pick the async drivers."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, synchronous=FULL and BEGIN IMMEDIATE.

    Migrations pass foreign_keys=False: SQLite rebuilds a table to alter it, and
    dropping the old table would otherwise cascade into every table that refers to it.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Writers queue at BEGIN instead of failing on lock upgrade mid-transaction;
            # readers take a plain BEGIN: one WAL snapshot, never waiting for a writer.
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class Database:
    """Engine, session factory and the live hub of one deployment."""

    def __init__(self, url: str = DEFAULT_URL, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = create_engine(self.url, **engine_kwargs)
        self.hub = LiveHub()
        self.sessionmaker = live_sessions(self.engine, self.hub)
        # Called after the commit of a transaction that may have taken access away.
        self.access_listeners: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One writing transaction (its live events reach the hub when it commits)."""
        async with self.sessionmaker() as session:
            async with session.begin():
                await session.connection(execution_options={WRITE_OPTION: True})
                yield session
            access_changed = session.info.pop(ACCESS_CHANGED, False)
        if access_changed:
            for listener in self.access_listeners:
                listener()

    @asynccontextmanager
    async def consistent_read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session that sees one state of the database throughout.

        A SQLite read transaction is one WAL snapshot already; PostgreSQL needs
        REPEATABLE READ so that a log counter and rows agree.
        """
        async with self.sessionmaker() as session:
            if self.dialect == "postgresql":
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only: on SQLite it never waits for a writer."""
        async with self.sessionmaker() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


# SQLSTATE classes of a lost server: 08 connection exceptions, 57P operator intervention
# (shutdown, crash, "cannot connect now" while starting).
_LOST_STATES = ("08", "57P")
_DRIVERS = ("sqlalchemy.", "asyncpg", "aiosqlite", "sqlite3")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """exc, what SQLAlchemy wrapped in it, and what caused it, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        link = todo.pop()
        if link is None or id(link) in seen or len(seen) > 20:
            continue
        seen.add(id(link))
        yield link
        orig = getattr(link, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None]
        todo += [link.__cause__, link.__context__]


def _from_driver(exc: BaseException) -> bool:
    """Raised inside the database driver (an OSError elsewhere is not an outage)."""
    return any(
        str(frame.f_globals.get("__name__", "")).startswith(_DRIVERS)
        for frame, _ in walk_tb(exc.__traceback__)
    )


def is_unavailable(exc: BaseException) -> bool:
    """Whether exc means the database cannot be reached now (not a bad query or a bug).

    A connection that broke, a server shutting down or refusing connections
    (PostgreSQL's ``ALLOW_CONNECTIONS false``), a refused or reset socket. SQLAlchemy
    drops a broken connection from its pool and ``pool_pre_ping`` tests the others
    before use, so the next request after the outage finds a working connection.
    """
    for link in _chain(exc):
        if isinstance(link, DBAPIError) and link.connection_invalidated:
            return True
        state = getattr(link, "sqlstate", None)
        if isinstance(state, str) and (
            state.startswith(_LOST_STATES)
            or (state == "55000" and "not currently accepting connections" in str(link))
        ):
            return True
        if isinstance(link, OSError) and _from_driver(link):
            return True
    return False


def unavailable_error(exc: BaseException) -> DatabaseUnavailable | None:
    """The domain error for a database outage, or None when exc is something else."""
    if not is_unavailable(exc):
        return None
    return DatabaseUnavailable("the database is unavailable for a moment; try again shortly")
