"""Site presence in the server: heartbeats gathered in memory, written every couple of
seconds, and silent sites marked disconnected (agenda/presence.py holds the rules)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from agenda import presence
from conference.db import Database
from runtime.background import Outage, stop_task

log = logging.getLogger("plenary.presence")

# How often gathered heartbeats are written, and silent sites looked for.
FLUSH_SECONDS = 2.0


class PresenceRunner:
    """Writes this process's heartbeats and marks silent sites, until stopped."""

    def __init__(self, db: Database, timeout: float, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.db = db
        self.timeout = timeout
        self.flush_seconds = flush_seconds
        self.book = presence.PresenceBook()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="plenary-presence")

    async def close(self) -> None:
        await stop_task(self._task)
        with contextlib.suppress(Exception):
            await self.flush()

    async def flush(self) -> None:
        beats = self.book.take()
        if beats:
            try:
                async with self.db.transaction() as session:
                    await presence.flush_presence(session, beats)
            except Exception:
                # Not written: keep them (newer beats of the same site win).
                for key, beat in beats.items():
                    self.book.beats.setdefault(key, beat)
                raise
        async with self.db.transaction() as session:
            await presence.mark_silent(session, silent_for=self.timeout)

    async def _run(self) -> None:
        outage = Outage(log, "site presence cannot be written")
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
                outage.succeeded()
            except asyncio.CancelledError:
                raise
            except Exception:
                outage.failed()
