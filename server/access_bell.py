"""Revocation takes effect at once, in every server process.

A committed change that may take access away (a token, a role or a personal link
revoked, a session ended, a conference's or a site's settings changed: see
:mod:`conference.access`) rings this bell. The process that made the change
forgets what it keeps in memory (bearer token lookups, the check-in writer's
callers) and asks every open WebSocket to check its access now; through the
Redis bridge the other processes do the same within milliseconds. The database
stays the record: a process that misses the bell (Redis away) still finds the
change at each socket's periodic check (``PLENARY_WS_REVALIDATE_SECONDS``), and a
token lookup is never kept longer than a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from weakref import WeakSet

from aiohttp import web

from server.auth import token_cache_key
from server.keys import bridge_key, db_key
from server.runtime import group_commit_key

if TYPE_CHECKING:
    from server.ws_connection import Connection

# Sockets checking their access at once after a bell (each check is a query or two).
CONCURRENT_CHECKS = 8


class AccessBell:
    """The sockets to wake and the caches to forget when access may have been withdrawn."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.connections: WeakSet[Connection] = WeakSet()
        self.checks = asyncio.Semaphore(CONCURRENT_CHECKS)
        # How often this process reacted (its own changes and its peers'), for tests.
        self.rung = 0
        self._rang = asyncio.Event()

    def withdrawn(self) -> None:
        """A change committed here: react, and tell the other processes."""
        self.react()
        bridge = self.app.get(bridge_key)
        if bridge is not None:
            bridge.ring_access()

    def react(self) -> None:
        """Forget the lookups kept in memory and have every open socket check again."""
        self.rung += 1
        self.app[token_cache_key].clear()
        writer = self.app.get(group_commit_key)
        if writer is not None:
            writer.forget()
        for conn in list(self.connections):
            conn.recheck.set()
        rang, self._rang = self._rang, asyncio.Event()
        rang.set()

    async def wait_rung(self, count: int) -> None:
        """Until this process has reacted count times (tests wait on it)."""
        while self.rung < count:
            await self._rang.wait()


access_bell_key: web.AppKey[AccessBell] = web.AppKey("access_bell_key", AccessBell)


async def access_bell_ctx(app: web.Application) -> AsyncIterator[None]:
    """Ring the bell after every commit of this app's database that may withdraw access,
    and whenever a peer process rings it."""
    bell = app[access_bell_key]
    db = app[db_key]
    db.access_listeners.append(bell.withdrawn)
    bridge = app.get(bridge_key)
    if bridge is not None:
        bridge.on_access = bell.react
    yield
    db.access_listeners.remove(bell.withdrawn)
