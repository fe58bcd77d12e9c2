"""`plenary follow`: a conference's live agenda and speaker lists in a terminal.

A client of the WebSocket API (docs/websocket.md) on the ``websockets`` library. It
subscribes to the conference, starts from the snapshot, applies the events in seq order
and prints a line per change. On a dropped connection it reconnects with backoff and
subscribes again with the last seq and the epoch it holds, so the server replays what it
missed: nothing is lost, nothing printed twice (docs/follow.md).

The state logic is plain functions, testable without a network:
:func:`load_snapshot`, :func:`apply_event` (returns the lines to print),
:func:`summary_lines`.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from client.events import ATTENDANCE, AWARDS, MAKING, MINUTES
from client.stop import GRACE, run_until_stopped, take_stop_signals

WS_PATH = "/api/v1/ws"
CLOSE_UNAUTHORIZED = 4001
SUBSCRIBE_ID = 1
# The snapshot of a conference with thousands of sites is far beyond websockets' 1 MiB.
MAX_FRAME = 64 * 1024 * 1024
FIRST_DELAY = 1.0
# What the close handshake may take when the follower stops (within stop.GRACE).
CLOSE_TIMEOUT = 1.0
MAX_DELAY = 30.0

MARKS = {"done": "✓", "running": "▶", "planned": "·", "skipped": "–"}

Write = Callable[[str], None]


class FollowError(Exception):
    """Following cannot go on (a wrong URL, refused authentication, no such conference)."""


# --- the state -------------------------------------------------------------------------------


@dataclass
class SpeakerList:
    """One item's speaker list: its entries by id and the queue's order."""

    item: str
    version: int = 0
    open: bool = True
    speaking: str | None = None
    order: list[str] = field(default_factory=list)
    speakers: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class LiveState:
    """What the follower holds: the snapshot with every event up to seq applied."""

    seq: int
    epoch: str
    conference: dict[str, Any]
    sites: dict[str, dict[str, Any]]
    items: dict[str, dict[str, Any]]
    current: str | None
    lists: dict[str, SpeakerList]
    presence: dict[str, dict[str, Any]]
    roll_call: dict[str, Any] | None
    server_time: datetime | None
    tz: tzinfo


def _timezone(name: Any) -> tzinfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def load_snapshot(snapshot: dict[str, Any]) -> LiveState:
    """A fresh state from a snapshot (``live/subscribe``'s or ``GET .../live``)."""
    agenda = snapshot.get("agenda") or {}
    conference = snapshot.get("conference") or {}
    lists = {}
    for entry in snapshot.get("speakers") or []:
        lists[entry["item"]] = SpeakerList(
            item=entry["item"],
            version=entry.get("version", 0),
            open=entry.get("open", True),
            speaking=entry.get("speaking"),
            order=list(entry.get("order") or []),
            speakers={s["id"]: s for s in entry.get("speakers") or []},
        )
    return LiveState(
        seq=int(snapshot["seq"]),
        epoch=str(snapshot["epoch"]),
        conference=conference,
        sites={site["code"]: site for site in snapshot.get("sites") or []},
        items={item["id"]: item for item in agenda.get("items") or []},
        current=agenda.get("current"),
        lists=lists,
        presence={p["site"]: p for p in snapshot.get("presence") or []},
        roll_call=snapshot.get("roll_call"),
        server_time=_moment(snapshot.get("server_time")),
        tz=_timezone(conference.get("timezone", "")),
    )


# --- names as people read them ---------------------------------------------------------------


def clock(seconds: float) -> str:
    """4:05, or -0:12 for time past a limit."""
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    return f"{sign}{whole // 60}:{whole % 60:02d}"


def _children(state: LiveState, parent: str | None) -> list[dict[str, Any]]:
    level = [item for item in state.items.values() if item.get("parent") == parent]
    return sorted(level, key=lambda item: item.get("position", 0))


def items_in_order(state: LiveState) -> list[dict[str, Any]]:
    """Reading order: each item followed by the items inside it."""
    out: list[dict[str, Any]] = []

    def walk(parent: str | None) -> None:
        for item in _children(state, parent):
            out.append(item)
            walk(item["id"])

    walk(None)
    return out


def item_number(state: LiveState, item_id: str) -> str:
    """The item's number in the agenda as printed: 3, or 2.1 inside item 2."""
    parts = []
    item = state.items.get(item_id)
    while item is not None:
        level = [i["id"] for i in _children(state, item.get("parent"))]
        parts.append(str(level.index(item["id"]) + 1))
        item = state.items.get(item["parent"]) if item.get("parent") else None
    return ".".join(reversed(parts))


def item_label(state: LiveState, item_id: str | None) -> str:
    if item_id is None or item_id not in state.items:
        return "(an item no longer on the agenda)"
    number = item_number(state, item_id)
    dot = "." if "." not in number else ""
    return f"{number}{dot} {state.items[item_id].get('title', '')}"


def site_name(state: LiveState, code: str | None) -> str:
    if not code:
        return ""
    site = state.sites.get(code)
    return str(site.get("name") or code) if site else code


def speaker_label(state: LiveState, speaker: dict[str, Any]) -> str:
    where = site_name(state, speaker.get("site")) or speaker.get("unit") or ""
    name = speaker.get("name") or "?"
    return f"{name} ({where})" if where else str(name)


def stamp(state: LiveState, at: datetime | None) -> str:
    """The time of a line, on the conference's clock."""
    return (at or datetime.now().astimezone()).astimezone(state.tz).strftime("%H:%M:%S")


def _elapsed(speaker: dict[str, Any], now: datetime | None) -> float:
    seconds = float(speaker.get("spoken_seconds") or 0)
    started = _moment(speaker.get("timer_started_at"))
    if started is not None and now is not None:
        seconds += max(0.0, (now - started).total_seconds())
    return seconds


# --- the start-up summary --------------------------------------------------------------------


def summary_lines(state: LiveState) -> list[str]:
    """What is going on: the conference, the running item, the agenda, the speaker list."""
    title = state.conference.get("title") or state.conference.get("id") or "?"
    lines = [f"{title} (conference {state.conference.get('id', '?')}, seq {state.seq})"]
    current = state.current if state.current in state.items else None
    if current is not None:
        since = _moment(state.items[current].get("started_at"))
        when = f", since {stamp(state, since)}" if since else ""
        lines.append(f"Now: {item_label(state, current)} (running{when})")
    else:
        lines.append("Now: no item is running")
    agenda = items_in_order(state)
    lines.append("Agenda:" if agenda else "Agenda: empty")
    for item in agenda:
        depth = item_number(state, item["id"]).count(".")
        mark = MARKS.get(item.get("status", ""), "?")
        lines.append(f"  {'  ' * depth}{mark} {item_label(state, item['id'])}")
    if current is not None:
        lines.append(f"Speakers on {item_label(state, current)}:")
        lines.extend(_list_lines(state, state.lists.get(current)))
    if state.presence:
        connected = sum(1 for p in state.presence.values() if p.get("connected"))
        lines.append(f"Sites connected: {connected} of {len(state.sites)}")
    call = state.roll_call
    if call and not call.get("closed_at"):
        answered = len(call.get("answered") or {})
        total = answered + len(call.get("missing") or [])
        lines.append(f"Roll call open: {answered} of {total} sites answered")
    return lines


def _list_lines(state: LiveState, entries: SpeakerList | None) -> list[str]:
    if entries is None:
        return ["  nobody on the list"]
    lines = []
    speaking = entries.speakers.get(entries.speaking or "")
    if speaking is not None:
        spoken = clock(_elapsed(speaking, state.server_time))
        limit = clock(speaking.get("limit_seconds") or 0)
        lines.append(f"  🎤 {speaker_label(state, speaking)} speaking, {spoken} of {limit}")
    for n, sid in enumerate(entries.order, start=1):
        if sid in entries.speakers:
            lines.append(f"  {n}. {speaker_label(state, entries.speakers[sid])}")
    asking = [s for s in entries.speakers.values() if s.get("status") == "requested"]
    asking.sort(key=lambda s: s.get("requested_at") or "")
    for speaker in asking:
        lines.append(f"  ✋ {speaker_label(state, speaker)} asks to speak")
    return lines or ["  nobody on the list"]


# --- events ----------------------------------------------------------------------------------


class NewEpoch(Exception):
    """The conference's log was reset: what the follower holds is void."""


def apply_event(state: LiveState, frame: dict[str, Any]) -> list[str] | None:
    """Apply one event frame and return its lines; None when it was applied already.

    Raises :class:`NewEpoch` for an event of another log. A seq more than one ahead is
    not a gap: the server leaves out events the caller may not see (docs/websocket.md)
    and fills real holes itself before sending.
    """
    if frame.get("epoch") != state.epoch:
        raise NewEpoch(str(frame.get("epoch")))
    seq = int(frame["seq"])
    if seq <= state.seq:
        return None
    event = frame.get("event") or {}
    at = _moment(event.get("at"))
    handler = HANDLERS.get(str(event.get("type")))
    texts = handler(state, event.get("data") or {}) if handler is not None else []
    state.seq = seq
    if at is not None:
        state.server_time = at
    return [f"{stamp(state, at)} {text}" for text in texts]


def _agenda_live(state: LiveState, data: dict[str, Any]) -> list[str]:
    ended, started = [], []
    for item in data.get("items") or []:
        before = state.items.get(item["id"], {}).get("status")
        state.items[item["id"]] = item
        status = item.get("status")
        if status == before:
            continue
        label = item_label(state, item["id"])
        if status == "running":
            again = " again" if data.get("action") == "back" else ""
            started.append(f"▶ {label} (started{again})")
        elif status == "done":
            ended.append(f"■ {label} (ended)")
        elif status == "skipped":
            ended.append(f"– {label} (skipped)")
        else:
            ended.append(f"↩ {label} (planned again)")
    state.current = data.get("current")
    return ended + started


def _item_changed(state: LiveState, data: dict[str, Any], verb: str) -> list[str]:
    state.items[data["id"]] = {**state.items.get(data["id"], {}), **data}
    return [f"{verb} {item_label(state, data['id'])}"]


def _item_created(state: LiveState, data: dict[str, Any]) -> list[str]:
    return _item_changed(state, data, "+ added to the agenda:")


def _item_updated(state: LiveState, data: dict[str, Any]) -> list[str]:
    return _item_changed(state, data, "✎ changed:")


def _item_deleted(state: LiveState, data: dict[str, Any]) -> list[str]:
    label = item_label(state, data.get("id"))
    for gone in data.get("items") or []:
        state.items.pop(gone, None)
        state.lists.pop(gone, None)
        if state.current == gone:
            state.current = None
    return [f"− removed from the agenda: {label}"]


def _reordered(state: LiveState, data: dict[str, Any]) -> list[str]:
    for n, item_id in enumerate(data.get("order") or [], start=1):
        if item_id in state.items:
            state.items[item_id]["position"] = n
    where = f" inside {item_label(state, data['parent'])}" if data.get("parent") else ""
    return [f"↕ agenda reordered{where}"]


def _settings(state: LiveState, data: dict[str, Any]) -> list[str]:
    fair = ", fair order of sites" if data.get("fair_order") else ""
    return [f"⚙ speaking time {clock(data.get('default_speaking_seconds') or 0)} by default{fair}"]


def _speaker_line(state: LiveState, entries: SpeakerList, new: dict[str, Any]) -> str | None:
    old = entries.speakers.get(new["id"], {})
    who = speaker_label(state, new)
    status = new.get("status")
    if status == old.get("status"):
        if status != "speaking" or bool(old.get("timer_started_at")) == bool(
            new.get("timer_started_at")
        ):
            return None
        if new.get("timer_started_at"):
            left = (new.get("limit_seconds") or 0) - float(new.get("spoken_seconds") or 0)
            return f"⏵ {who}: timer running, {clock(left)} left"
        return f"⏸ {who}: timer paused at {clock(float(new.get('spoken_seconds') or 0))}"
    item = item_label(state, entries.item)
    if status == "requested":
        return f"✋ {who} asks to speak on {item}"
    if status == "queued":
        place = entries.order.index(new["id"]) + 1 if new["id"] in entries.order else 0
        return f"… queued: {who} on {item}, {place} of {len(entries.order)}"
    if status == "speaking":
        return f"🎤 {who} speaking, {clock(new.get('limit_seconds') or 0)}"
    if status == "done":
        return f"✔ {who} finished after {clock(float(new.get('spoken_seconds') or 0))}"
    if status == "rejected":
        return f"✗ {who}: request declined"
    if status == "withdrawn":
        return f"✗ {who} withdrew"
    return None


def _speakers(state: LiveState, data: dict[str, Any]) -> list[str]:
    entries = state.lists.setdefault(data["item"], SpeakerList(item=data["item"]))
    old_order, old_open = entries.order, entries.open
    entries.version = data.get("version", entries.version)
    entries.open = data.get("open", entries.open)
    entries.speaking = data.get("speaking")
    entries.order = list(data.get("order") or [])
    first: list[str] = []
    then: list[str] = []
    for speaker in data.get("changed") or []:
        line = _speaker_line(state, entries, speaker)
        entries.speakers[speaker["id"]] = speaker
        if line is not None:
            # Whoever leaves the floor is told before whoever takes it.
            (first if speaker.get("status") == "done" else then).append(line)
    lines = first + then
    item = item_label(state, data["item"])
    if not lines and entries.order != old_order and entries.order:
        names = [speaker_label(state, entries.speakers[s]) for s in entries.order]
        lines.append(f"↕ queue on {item}: {', '.join(names)}")
    if entries.open != old_open:
        lines.append(
            f"{'🔓' if entries.open else '🔒'} speaker list of {item} "
            f"{'open' if entries.open else 'closed'}"
        )
    if data["item"] in state.items:
        state.items[data["item"]]["speakers_open"] = entries.open
        state.items[data["item"]]["speakers_version"] = entries.version
    return lines


def _presence(state: LiveState, data: dict[str, Any]) -> list[str]:
    lines = []
    for entry in data.get("sites") or []:
        before = state.presence.get(entry["site"])
        state.presence[entry["site"]] = entry
        if before is not None and bool(before.get("connected")) == bool(entry.get("connected")):
            continue  # only the latency moved
        name = site_name(state, entry["site"])
        if entry.get("connected"):
            latency = f", {entry['latency_ms']} ms" if entry.get("latency_ms") is not None else ""
            lines.append(f"🟢 {name} connected{latency}")
        else:
            lines.append(f"🔴 {name} disconnected")
    return lines


def _roll_call_started(state: LiveState, data: dict[str, Any]) -> list[str]:
    sites = list(data.get("sites") or [])
    state.roll_call = {
        "id": data.get("id"),
        "started_at": data.get("started_at"),
        "started_by": data.get("started_by"),
        "closed_at": None,
        "answered": {},
        "missing": sites,
    }
    return [f"📣 roll call of {len(sites)} sites started by {data.get('started_by', '?')}"]


def _roll_call_answered(state: LiveState, data: dict[str, Any]) -> list[str]:
    call = state.roll_call
    if call is None or call.get("id") != data.get("id"):
        return []
    call["answered"][data["site"]] = data.get("at")
    call["missing"] = [code for code in call["missing"] if code != data["site"]]
    total = len(call["answered"]) + len(call["missing"])
    name = site_name(state, data["site"])
    return [f"✅ {name} is ready (roll call: {len(call['answered'])} of {total})"]


def _roll_call_closed(state: LiveState, data: dict[str, Any]) -> list[str]:
    if state.roll_call is not None and state.roll_call.get("id") == data.get("id"):
        state.roll_call["closed_at"] = data.get("closed_at")
    missing = [site_name(state, code) for code in data.get("missing") or []]
    gone = f"; not answered: {', '.join(missing)}" if missing else "; every site answered"
    return [f"📣 roll call closed: {data.get('answered', 0)} answered{gone}"]


def _site_changed(state: LiveState, data: dict[str, Any]) -> list[str]:
    known = data.get("code") in state.sites
    if data.get("code"):
        state.sites[data["code"]] = {**state.sites.get(data["code"], {}), **data}
    return [] if known else [f"+ site {data.get('name') or data.get('code')} added"]


def _site_deleted(state: LiveState, data: dict[str, Any]) -> list[str]:
    name = site_name(state, data.get("code"))
    state.sites.pop(data.get("code") or "", None)
    return [f"− site {name} removed"]


def _conference_updated(state: LiveState, data: dict[str, Any]) -> list[str]:
    renamed = data.get("title") and data.get("title") != state.conference.get("title")
    state.conference = {**state.conference, **data}
    if "timezone" in data:
        state.tz = _timezone(data["timezone"])
    return [f"✎ the conference is now called {data['title']}"] if renamed else []


def _reminder(state: LiveState, data: dict[str, Any]) -> list[str]:
    label = item_label(state, data.get("item"))
    return [f"⏰ {label} is due in {data.get('minutes_before', '?')} min"]


def _time_up(state: LiveState, data: dict[str, Any]) -> list[str]:
    entries = state.lists.get(data.get("item") or "")
    speaker = entries.speakers.get(data.get("speaker") or "") if entries else None
    who = speaker_label(state, speaker) if speaker else "the speaker"
    return [f"⏱ {who}: time is up ({clock(data.get('limit_seconds') or 0)})"]


def _overrun(state: LiveState, data: dict[str, Any]) -> list[str]:
    end = _moment(data.get("planned_end"))
    when = f" (planned to end at {stamp(state, end)[:5]})" if end else ""
    return [f"⌛ {item_label(state, data.get('item'))} is running over{when}"]


def _announced(state: LiveState, data: dict[str, Any]) -> list[str]:
    award = data.get("award") or {}
    where = f" ({award['site_name']})" if award.get("site_name") else ""
    again = "" if data.get("first", True) else " (again)"
    return [f"🏅 {award.get('kind_label', '')}: {award.get('name', '')}{where}{again}"]


HANDLERS: dict[str, Callable[[LiveState, dict[str, Any]], list[str]]] = {
    "agenda/live": _agenda_live,
    "agenda_item/created": _item_created,
    "agenda_item/updated": _item_updated,
    "agenda_item/deleted": _item_deleted,
    "agenda/reordered": _reordered,
    "agenda/settings": _settings,
    "speakers/updated": _speakers,
    "sites/presence": _presence,
    "roll_call/started": _roll_call_started,
    "roll_call/answered": _roll_call_answered,
    "roll_call/closed": _roll_call_closed,
    "site/created": _site_changed,
    "site/updated": _site_changed,
    "site/deleted": _site_deleted,
    "conference/updated": _conference_updated,
    "agenda/reminder": _reminder,
    "speaker/time_up": _time_up,
    "agenda/overrun": _overrun,
    "awards/announced": _announced,
}
# The rest of the event catalogue (docs/events.md): nothing a hall's terminal shows. A
# test checks that HANDLERS and IGNORED together are the catalogue, so a new event is
# either shown here or left out on purpose. (The follower speaks only the protocol: it
# does not import the server's catalogue.)
IGNORED = ATTENDANCE | MINUTES | AWARDS | MAKING


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

    async def _receive(self, ws: ClientConnection) -> dict[str, Any]:
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
        request: dict[str, Any] = {
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

    def _refusal(self, error: dict[str, Any]) -> str:
        if error.get("code") == "not_found":
            who = (
                "that this token may see"
                if self.token
                else "that is public (a private one needs --token or PLENARY_TOKEN)"
            )
            return f"no conference {self.conference!r} on {self.url} {who}"
        return f"the server refused to subscribe: {error.get('message')} ({error.get('code')})"

    def _subscribed(self, result: dict[str, Any]) -> None:
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

    def _event(self, message: dict[str, Any]) -> None:
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


def _printer(stream: Any) -> Write:
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
