"""`plenary follow`: a conference's live agenda and speaker lists in a terminal.

A client of the WebSocket API (docs/websocket.md) on the ``websockets`` library. It
subscribes to the conference, starts from the snapshot, applies the events in seq order
and prints a line per change. On a dropped connection it reconnects with backoff and
subscribes again with the last seq and the epoch it holds, so the server replays what it
missed: nothing is lost, nothing printed twice (docs/follow.md).

This module is the connection. What the follower holds and prints is plain functions,
testable without a network: :func:`client.live_state.load_snapshot` and
:func:`client.live_state.summary_lines`, :func:`client.event_lines.apply_event` (returns
the lines to print).
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from typing_extensions import TypedDict
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from client.event_lines import NewEpoch, apply_event
from client.live_state import LiveState, load_snapshot, stamp, summary_lines
from client.stop import GRACE, run_until_stopped, take_stop_signals
from client.wire import Json, Snapshot

WS_PATH = "/api/v1/ws"
CLOSE_UNAUTHORIZED = 4001
SUBSCRIBE_ID = 1
# The snapshot of a conference with thousands of sites is far beyond websockets' 1 MiB.
MAX_FRAME = 64 * 1024 * 1024
FIRST_DELAY = 1.0
# What the close handshake may take when the follower stops (within stop.GRACE).
CLOSE_TIMEOUT = 1.0
MAX_DELAY = 30.0

Write = Callable[[str], None]


class FollowError(Exception):
    """Following cannot go on (a wrong URL, refused authentication, no such conference)."""


class Subscribe(TypedDict, total=False):
    """``live/subscribe``; since and epoch when resuming."""

    id: int
    type: str
    conference: str
    since: int
    epoch: str


class Subscribed(TypedDict, total=False):
    """What the follower reads of the subscription's result: no snapshot when resuming."""

    snapshot: Snapshot | None


class Refusal(TypedDict, total=False):
    code: str
    message: str


# --- the connection --------------------------------------------------------------------------


def websocket_url(base: str) -> str:
    """The WebSocket endpoint of a server's base URL: http(s)://host/x -> ws(s)://host/x/api/v1/ws."""
    parts = urlsplit(base.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise FollowError(f"{base!r} is not a server URL: give http://HOST:PORT or https://HOST")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + WS_PATH, "", ""))


def backoff_delay(
    attempt: int, rng: random.Random, *, first: float = FIRST_DELAY, most: float = MAX_DELAY
) -> float:
    """Seconds before reconnection attempt n (from 0): doubling from first up to most, then
    jittered to between half and all of that, so that many followers do not come back at once."""
    delay = min(most, first * 2.0 ** min(attempt, 32))
    return float(delay * (0.5 + rng.random() / 2))


CLOSE_REASONS = {
    1000: "closed by the server",
    1001: "the server is going away",
    1006: "the connection dropped",
    1011: "a server error",
    1012: "the server is restarting",
    4003: "what this client may see changed",
    4008: "this client fell behind",
}


def _closed_reason(exc: ConnectionClosed) -> str:
    code = exc.rcvd.code if exc.rcvd is not None else 1006
    return CLOSE_REASONS.get(code, f"closed with code {code}")


def _connect_problem(url: str, exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        hint = ": is it a plenary server?" if status == 404 else ""
        return f"{url} refused the WebSocket ({WS_PATH}) with HTTP {status}{hint}"
    if isinstance(exc, TimeoutError):
        return f"no answer from {url} in time"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to {url}: connection refused"
    if isinstance(exc, OSError):
        return f"cannot connect to {url}: {exc.strerror or exc}"
    if isinstance(exc, ConnectionClosed):
        return f"{url} closed the connection ({_closed_reason(exc)})"
    return f"{url} did not complete the WebSocket handshake: {exc}"


@dataclass
class Follower:
    """Follows one conference until stopped; reconnects and resumes after a drop."""

    url: str
    conference: str
    out: Write
    note: Write
    token: str | None = None
    as_json: bool = False
    first_delay: float = FIRST_DELAY
    max_delay: float = MAX_DELAY
    rng: random.Random = field(default_factory=random.Random)
    state: LiveState | None = None
    # Set once a subscription was answered: from then on a lost connection is retried.
    subscribed: bool = False
    # Set by each answered subscription: the next loss starts the backoff again.
    _resumed: bool = False

    def _now(self) -> str:
        return stamp(self.state, None) if self.state else datetime.now().strftime("%H:%M:%S")

    async def run(self) -> None:
        """Follow until cancelled; raises FollowError when following cannot go on."""
        ws_url = websocket_url(self.url)
        attempt = 0
        while True:
            problem = ""
            try:
                async with connect(
                    ws_url, max_size=MAX_FRAME, compression=None, close_timeout=CLOSE_TIMEOUT
                ) as ws:
                    await self._session(ws)
            except NewEpoch:
                self.note(f"{self._now()} ↻ the conference's log was reset: reloading")
                continue
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code == CLOSE_UNAUTHORIZED:
                    raise FollowError(f"the server ended the authentication ({exc.rcvd})") from None
                if not self.subscribed:
                    raise FollowError(_connect_problem(self.url, exc)) from None
                problem = _closed_reason(exc)
            except InvalidURI as exc:
                raise FollowError(f"{self.url!r} is not a usable URL: {exc}") from None
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                fatal = isinstance(exc, InvalidStatus) and exc.response.status_code < 500
                if fatal or not self.subscribed:
                    raise FollowError(_connect_problem(self.url, exc)) from None
                problem = _connect_problem(self.url, exc)
            lost = self._resumed
            if self._resumed:
                attempt, self._resumed = 0, False
            delay = backoff_delay(attempt, self.rng, first=self.first_delay, most=self.max_delay)
            attempt += 1
            if lost:
                self.note(
                    f"{self._now()} ⚡ connection lost ({problem}); reconnecting in {delay:.1f} s"
                )
            else:
                self.note(
                    f"{self._now()} ⚡ still no connection ({problem}); next try in {delay:.1f} s"
                )
            await asyncio.sleep(delay)

    async def _receive(self, ws: ClientConnection) -> Json:
        raw = await ws.recv()
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise FollowError(f"{self.url} sent something that is not plenary's protocol")
        return message

    async def _authenticate(self, ws: ClientConnection) -> None:
        first = await self._receive(ws)
        if first.get("type") == "auth_ok":
            return
        if first.get("type") != "auth_required":
            raise FollowError(f"{self.url} sent something that is not plenary's protocol")
        await ws.send(
            json.dumps({"type": "auth", "token": self.token} if self.token else {"type": "auth"})
        )
        answer = await self._receive(ws)
        if answer.get("type") == "auth_invalid":
            raise FollowError(f"authentication refused: {answer.get('message', 'no reason given')}")
        if answer.get("type") != "auth_ok":
            raise FollowError(f"{self.url} did not accept the authentication")

    async def _session(self, ws: ClientConnection) -> None:
        await self._authenticate(ws)
        request: Subscribe = {
            "id": SUBSCRIBE_ID,
            "type": "live/subscribe",
            "conference": self.conference,
        }
        if self.state is not None:
            request |= {"since": self.state.seq, "epoch": self.state.epoch}
        await ws.send(json.dumps(request))
        answer = await self._receive(ws)
        while not (answer.get("type") == "result" and answer.get("id") == SUBSCRIBE_ID):
            answer = await self._receive(ws)
        if not answer.get("success"):
            raise FollowError(self._refusal(answer.get("error") or {}))
        self._subscribed(answer.get("result") or {})
        while True:
            message = await self._receive(ws)
            if message.get("type") == "event" and message.get("id") == SUBSCRIBE_ID:
                self._event(message)
            elif message.get("type") == "auth_expired":
                raise FollowError(f"the server ended the session: {message.get('message', '')}")

    def _refusal(self, error: Refusal) -> str:
        if error.get("code") == "not_found":
            who = (
                "that this token may see"
                if self.token
                else "that is public (a private one needs --token or PLENARY_TOKEN)"
            )
            return f"no conference {self.conference!r} on {self.url} {who}"
        return f"the server refused to subscribe: {error.get('message')} ({error.get('code')})"

    def _subscribed(self, result: Subscribed) -> None:
        snapshot = result.get("snapshot")
        if snapshot is None:
            if self.state is None:
                raise FollowError(f"{self.url} answered the subscription without a snapshot")
            self.note(f"{self._now()} ↻ reconnected; resuming after event {self.state.seq}")
        else:
            again = self.state is not None
            self.state = load_snapshot(snapshot)
            if self.as_json:
                frame = {"type": "snapshot", "seq": self.state.seq, "epoch": self.state.epoch}
                self.out(json.dumps(frame | {"snapshot": snapshot}, ensure_ascii=False))
            else:
                if again:
                    self.out(f"{self._now()} ↻ reconnected; too much to replay, the state anew:")
                for line in summary_lines(self.state):
                    self.out(line)
        self.subscribed = self._resumed = True

    def _event(self, message: Json) -> None:
        assert self.state is not None
        lines = apply_event(self.state, message)
        if lines is None:
            return
        if self.as_json:
            frame = {key: message.get(key) for key in ("seq", "epoch", "event")}
            self.out(json.dumps(frame, ensure_ascii=False))
        else:
            for line in lines:
                self.out(line)


def _printer(stream: TextIO) -> Write:
    def write(line: str) -> None:
        print(line, file=stream, flush=True)

    return write


def run_follow(
    url: str, conference: str, *, token: str | None, as_json: bool, grace: float = GRACE
) -> int:
    """The `plenary follow` command: 0 after Ctrl-C or SIGTERM (within grace seconds,
    client/stop.py), 1 when following cannot go on."""
    take_stop_signals()
    if isinstance(sys.stdout, io.TextIOWrapper) and sys.stdout.encoding.lower() != "utf-8":
        # Vietnamese names as they are, even where the locale says ASCII.
        sys.stdout.reconfigure(encoding="utf-8")
    follower = Follower(
        url,
        conference,
        out=_printer(sys.stdout),
        note=_printer(sys.stderr if as_json else sys.stdout),
        token=token or None,
        as_json=as_json,
    )
    try:
        asyncio.run(run_until_stopped(follower.run, grace))
    except FollowError as exc:
        print(f"plenary: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
