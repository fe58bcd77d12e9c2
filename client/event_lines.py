"""`plenary follow`'s events: each applied to the live state, with the lines it prints.

The stream's data arrive as raw JSON; each handler names the shape its event carries
(client/wire.py), and :data:`HANDLERS` and :data:`IGNORED` together are the catalogue.
"""

from __future__ import annotations

from client.dispatch import EventTable
from client.events import ATTENDANCE, AWARDS, MAKING, MINUTES
from client.live_state import (
    LiveState,
    SpeakerList,
    clock,
    conference_zone,
    item_label,
    moment,
    site_name,
    speaker_label,
    stamp,
)
from client.wire import (
    AgendaMove,
    Announcement,
    Conference,
    Item,
    ItemsDeleted,
    Json,
    ListChange,
    Overrun,
    Presence,
    Reminder,
    Reordered,
    RollCallAnswered,
    RollCallClosed,
    RollCallStarted,
    Settings,
    Site,
    SiteGone,
    Speaker,
    TimeUp,
)


class NewEpoch(Exception):
    """The conference's log was reset: what the follower holds is void."""


# What each event changes in the state, and the lines it prints.
SHOWN: EventTable[LiveState, list[str]] = EventTable()
HANDLERS = SHOWN.handlers


def apply_event(state: LiveState, frame: Json) -> list[str] | None:
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
    at = moment(event.get("at"))
    handler = HANDLERS.get(str(event.get("type")))
    texts = handler(state, event.get("data") or {}) if handler is not None else []
    state.seq = seq
    if at is not None:
        state.server_time = at
    return [f"{stamp(state, at)} {text}" for text in texts]


@SHOWN.on("agenda/live")
def _agenda_live(state: LiveState, data: AgendaMove) -> list[str]:
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


def _item_changed(state: LiveState, data: Item, verb: str) -> list[str]:
    state.items[data["id"]] = {**state.items.get(data["id"], {}), **data}
    return [f"{verb} {item_label(state, data['id'])}"]


@SHOWN.on("agenda_item/created")
def _item_created(state: LiveState, data: Item) -> list[str]:
    return _item_changed(state, data, "+ added to the agenda:")


@SHOWN.on("agenda_item/updated")
def _item_updated(state: LiveState, data: Item) -> list[str]:
    return _item_changed(state, data, "✎ changed:")


@SHOWN.on("agenda_item/deleted")
def _item_deleted(state: LiveState, data: ItemsDeleted) -> list[str]:
    label = item_label(state, data.get("id"))
    for gone in data.get("items") or []:
        state.items.pop(gone, None)
        state.lists.pop(gone, None)
        if state.current == gone:
            state.current = None
    return [f"− removed from the agenda: {label}"]


@SHOWN.on("agenda/reordered")
def _reordered(state: LiveState, data: Reordered) -> list[str]:
    for n, item_id in enumerate(data.get("order") or [], start=1):
        if item_id in state.items:
            state.items[item_id]["position"] = n
    where = f" inside {item_label(state, data['parent'])}" if data.get("parent") else ""
    return [f"↕ agenda reordered{where}"]


@SHOWN.on("agenda/settings")
def _settings(state: LiveState, data: Settings) -> list[str]:
    fair = ", fair order of sites" if data.get("fair_order") else ""
    return [f"⚙ speaking time {clock(data.get('default_speaking_seconds') or 0)} by default{fair}"]


def _speaker_line(state: LiveState, entries: SpeakerList, new: Speaker) -> str | None:
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


@SHOWN.on("speakers/updated")
def _speakers(state: LiveState, data: ListChange) -> list[str]:
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


@SHOWN.on("sites/presence")
def _presence(state: LiveState, data: Presence) -> list[str]:
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


@SHOWN.on("roll_call/started")
def _roll_call_started(state: LiveState, data: RollCallStarted) -> list[str]:
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


@SHOWN.on("roll_call/answered")
def _roll_call_answered(state: LiveState, data: RollCallAnswered) -> list[str]:
    call = state.roll_call
    if call is None or call.get("id") != data.get("id"):
        return []
    call["answered"][data["site"]] = data.get("at")
    call["missing"] = [code for code in call["missing"] if code != data["site"]]
    total = len(call["answered"]) + len(call["missing"])
    name = site_name(state, data["site"])
    return [f"✅ {name} is ready (roll call: {len(call['answered'])} of {total})"]


@SHOWN.on("roll_call/closed")
def _roll_call_closed(state: LiveState, data: RollCallClosed) -> list[str]:
    if state.roll_call is not None and state.roll_call.get("id") == data.get("id"):
        state.roll_call["closed_at"] = data.get("closed_at")
    missing = [site_name(state, code) for code in data.get("missing") or []]
    gone = f"; not answered: {', '.join(missing)}" if missing else "; every site answered"
    return [f"📣 roll call closed: {data.get('answered', 0)} answered{gone}"]


@SHOWN.on("site/created", "site/updated")
def _site_changed(state: LiveState, data: Site) -> list[str]:
    known = data.get("code") in state.sites
    if data.get("code"):
        state.sites[data["code"]] = {**state.sites.get(data["code"], {}), **data}
    return [] if known else [f"+ site {data.get('name') or data.get('code')} added"]


@SHOWN.on("site/deleted")
def _site_deleted(state: LiveState, data: SiteGone) -> list[str]:
    name = site_name(state, data.get("code"))
    state.sites.pop(data.get("code") or "", None)
    return [f"− site {name} removed"]


@SHOWN.on("conference/updated")
def _conference_updated(state: LiveState, data: Conference) -> list[str]:
    renamed = data.get("title") and data.get("title") != state.conference.get("title")
    state.conference = {**state.conference, **data}
    if "timezone" in data:
        state.tz = conference_zone(data["timezone"])
    return [f"✎ the conference is now called {data['title']}"] if renamed else []


@SHOWN.on("agenda/reminder")
def _reminder(state: LiveState, data: Reminder) -> list[str]:
    label = item_label(state, data.get("item"))
    return [f"⏰ {label} is due in {data.get('minutes_before', '?')} min"]


@SHOWN.on("speaker/time_up")
def _time_up(state: LiveState, data: TimeUp) -> list[str]:
    entries = state.lists.get(data.get("item") or "")
    speaker = entries.speakers.get(data.get("speaker") or "") if entries else None
    who = speaker_label(state, speaker) if speaker else "the speaker"
    return [f"⏱ {who}: time is up ({clock(data.get('limit_seconds') or 0)})"]


@SHOWN.on("agenda/overrun")
def _overrun(state: LiveState, data: Overrun) -> list[str]:
    end = moment(data.get("planned_end"))
    when = f" (planned to end at {stamp(state, end)[:5]})" if end else ""
    return [f"⌛ {item_label(state, data.get('item'))} is running over{when}"]


@SHOWN.on("awards/announced")
def _announced(state: LiveState, data: Announcement) -> list[str]:
    award = data.get("award") or {}
    where = f" ({award['site_name']})" if award.get("site_name") else ""
    again = "" if data.get("first", True) else " (again)"
    return [f"🏅 {award.get('kind_label', '')}: {award.get('name', '')}{where}{again}"]


# The rest of the event catalogue (docs/events.md): nothing a hall's terminal shows. A
# test checks that HANDLERS and IGNORED together are the catalogue, so a new event is
# either shown here or left out on purpose. (The follower speaks only the protocol: it
# does not import the server's catalogue.)
IGNORED = ATTENDANCE | MINUTES | AWARDS | MAKING
