"""What `plenary follow` holds and prints at start: the live state loaded from a snapshot,
agenda items, sites and speakers named as people read them, and the start-up summary.

Plain functions, testable without a network (client/event_lines.py applies the events,
client/follow.py holds the connection).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from client.wire import Conference, Item, RollCall, Site, SiteLink, Snapshot, Speaker

MARKS = {"done": "✓", "running": "▶", "planned": "·", "skipped": "–"}


@dataclass
class SpeakerList:
    """One item's speaker list: its entries by id and the queue's order."""

    item: str
    version: int = 0
    open: bool = True
    speaking: str | None = None
    order: list[str] = field(default_factory=list)
    speakers: dict[str, Speaker] = field(default_factory=dict)


@dataclass
class LiveState:
    """What the follower holds: the snapshot with every event up to seq applied."""

    seq: int
    epoch: str
    conference: Conference
    sites: dict[str, Site]
    items: dict[str, Item]
    current: str | None
    lists: dict[str, SpeakerList]
    presence: dict[str, SiteLink]
    roll_call: RollCall | None
    server_time: datetime | None
    tz: tzinfo


def conference_zone(name: object) -> tzinfo:
    """The zone of that name; where it cannot be read, the local one."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local


def moment(value: object) -> datetime | None:
    """An ISO 8601 time as a datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def load_snapshot(snapshot: Snapshot) -> LiveState:
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
        server_time=moment(snapshot.get("server_time")),
        tz=conference_zone(conference.get("timezone", "")),
    )


# --- names as people read them ---------------------------------------------------------------


def clock(seconds: float) -> str:
    """4:05, or -0:12 for time past a limit."""
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    return f"{sign}{whole // 60}:{whole % 60:02d}"


def _children(state: LiveState, parent: str | None) -> list[Item]:
    level = [item for item in state.items.values() if item.get("parent") == parent]
    return sorted(level, key=lambda item: item.get("position", 0))


def items_in_order(state: LiveState) -> list[Item]:
    """Reading order: each item followed by the items inside it."""
    out: list[Item] = []

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
        parent = item.get("parent")
        level = [i["id"] for i in _children(state, parent)]
        parts.append(str(level.index(item["id"]) + 1))
        item = state.items.get(parent) if parent else None
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


def speaker_label(state: LiveState, speaker: Speaker) -> str:
    where = site_name(state, speaker.get("site")) or speaker.get("unit") or ""
    name = speaker.get("name") or "?"
    return f"{name} ({where})" if where else str(name)


def stamp(state: LiveState, at: datetime | None) -> str:
    """The time of a line, on the conference's clock."""
    return (at or datetime.now().astimezone()).astimezone(state.tz).strftime("%H:%M:%S")


def _elapsed(speaker: Speaker, now: datetime | None) -> float:
    seconds = float(speaker.get("spoken_seconds") or 0)
    started = moment(speaker.get("timer_started_at"))
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
        since = moment(state.items[current].get("started_at"))
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
