"""One WebSocket connection: its bounded send queue, its writer task, its answers.

Only the handler task reads the socket; everything written goes through one
bounded queue drained by one writer task (Home Assistant's websocket_api
``http.py``). A client that lets the queue fill is closed and resumes with
``since``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web
from pydantic import ValidationError

from conference import errors
from conference.actors import ANONYMOUS, Principal
from conference.db import Database, unavailable_error
from conference.errors import PlenaryError
from conference.rawjson import JsonObject
from runtime.config import Config
from server.http import dump, validation_error
from server.keys import config_key, db_key, metrics_key

if TYPE_CHECKING:
    from server.ws_live import LiveSubscription

log = logging.getLogger("plenary.ws")

CLOSE_UNAUTHORIZED = 4001
CLOSE_ACCESS_CHANGED = 4003
CLOSE_TOO_SLOW = 4008
# The reason sent with CLOSE_ACCESS_CHANGED (docs/websocket.md, "Close codes").
ACCESS_CHANGED_REASON = "access_changed: a role or what it may see changed"
# How long a closing handshake may take before the transport is simply dropped.
CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    message: bytes


def to_json(value: Any) -> str:
    return json.dumps(dump(value), ensure_ascii=False, separators=(",", ":"))


def error_for(exc: Exception) -> PlenaryError:
    """The one place an exception becomes a WebSocket error code."""
    if isinstance(exc, PlenaryError):
        return exc
    if isinstance(exc, ValidationError):
        return validation_error(exc)
    if (outage := unavailable_error(exc)) is not None:
        return outage
    log.error("unhandled error in a WebSocket command", exc_info=exc)
    return PlenaryError("internal error", code=errors.UNKNOWN_ERROR)


class Connection:
    """A socket after its handshake: who is on it, what it subscribed to, how to write."""

    def __init__(self, ws: web.WebSocketResponse, app: web.Application) -> None:
        self.ws = ws
        self.app = app
        self.config: Config = app[config_key]
        self.db: Database = app[db_key]
        self.principal: Principal = ANONYMOUS
        # ("session", cookie value), ("token", API token) or ("link", personal link):
        # checked again while open.
        self.credential: tuple[str, str] | None = None
        self.last_id = 0
        # Set when access may have been withdrawn (server.access_bell): check it now.
        self.recheck = asyncio.Event()
        self.subscriptions: dict[int, LiveSubscription] = {}
        self._dropped: list[LiveSubscription] = []
        self._queue: asyncio.Queue[str | list[str] | _Close] = asyncio.Queue(
            maxsize=self.config.ws_max_pending
        )
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._closing = False
        self.answers = 0

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write(), name="plenary-ws-writer")

    @property
    def closing(self) -> bool:
        return self._closing

    # --- writing --------------------------------------------------------------

    def send(self, item: str | list[str]) -> None:
        """Queue one frame (or a batch counted as one); close the socket if it lags."""
        if self._closing:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._too_slow()

    def send_message(self, message: JsonObject) -> None:
        """A frame as it goes on the wire."""
        self.send(to_json(message))

    def send_result(self, msg_id: int, result: Any) -> None:
        self.answers += 1
        self.send_message({"id": msg_id, "type": "result", "success": True, "result": result})

    def send_error(self, msg_id: int | None, exc: Exception) -> None:
        """Answer msg_id with the error exc maps to."""
        self.answers += 1
        error = error_for(exc)
        self.send_message(
            {"id": msg_id, "type": "result", "success": False, "error": error.as_dict()}
        )

    async def _write(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Close):
                    await self.ws.close(code=item.code, message=item.message)
                    return
                if isinstance(item, str):
                    await self.ws.send_str(item)
                else:
                    for frame in item:
                        await self.ws.send_str(frame)
        except ConnectionResetError:
            # The peer is gone; the handler's receive() notices and cleans up.
            self._closing = True

    def _too_slow(self) -> None:
        self._closing = True
        self.app[metrics_key].ws_closed_slow += 1
        log.info("closing a WebSocket that fell %d messages behind", self._queue.qsize())
        self._closer = asyncio.create_task(self._close_now(CLOSE_TOO_SLOW, b"too slow"))

    def lost_access(self) -> None:
        """Close soon: what a subscription may see changed; the client resubscribes."""
        if self._closing or self._closer is not None:
            return
        self._closer = asyncio.create_task(
            self.close(CLOSE_ACCESS_CHANGED, ACCESS_CHANGED_REASON.encode())
        )

    # --- closing --------------------------------------------------------------

    async def close(self, code: int = WSCloseCode.OK, message: bytes = b"") -> None:
        """Send what is queued, then close with code."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_Close(code, message))
        if self._writer is not None:
            await asyncio.wait({self._writer}, timeout=CLOSE_TIMEOUT)
        await self._close_now(code, message)

    async def _close_now(self, code: int, message: bytes) -> None:
        await self._stop_writer()
        if not self.ws.closed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self.ws.close(code=code, message=message)

    async def _stop_writer(self) -> None:
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            await asyncio.wait({self._writer})

    def drop_subscriptions(self) -> None:
        """Detach every subscription from the hub at once (no await: cannot be cut short)."""
        self._closing = True
        dropped = list(self.subscriptions.values())
        self.subscriptions.clear()
        for subscription in dropped:
            subscription.close()
        self._dropped.extend(dropped)

    async def shutdown(self) -> None:
        """Drop every subscription, stop the writer and make sure the socket is closed."""
        self.drop_subscriptions()
        for subscription in self._dropped:
            await subscription.wait_closed()
        self._dropped.clear()
        if self._closer is not None:
            await asyncio.wait({self._closer})
        await self._close_now(WSCloseCode.OK, b"")
