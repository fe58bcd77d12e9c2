"""A live snapshot kept current by the stream's events, in the snapshot's own shape.

A client that subscribes gets a snapshot (``live/subscribe``, ``GET .../live``) and then
the events that change it. :func:`apply_event` applies one event to the snapshot
document as the server would project it afresh: after the events a command emitted,
the snapshot held here equals a new one read from the server, up to the order of
records the snapshot does not order (tests/server/test_stream_proof.py checks this for
every command). One thing it cannot follow: when the staff add or revoke an award
while the ceremony runs, the ceremony's count of awards remaining (their pages read the
awards again). It speaks only the protocol (docs/websocket.md, docs/events.md): no
server code.
"""

from __future__ import annotations

from client import wire
from client.dispatch import EventTable
from client.events import ATTENDANCE, AWARDS, MAKING, MINUTES

# The snapshot is kept in its own shape, whatever the server puts in it, so that it can be
# compared with a fresh one: its records are raw JSON, and the event data are put in whole.
Snapshot = wire.Json
Data = wire.Json


# What each event changes in the snapshot.
APPLIED: EventTable[Snapshot, None] = EventTable()
APPLY = APPLIED.handlers


def _reading_order(items: list[Data]) -> list[Data]:
    """Each parent followed by its items, each level by position (the agenda's order)."""
    children: dict[str | None, list[Data]] = {}
    for item in items:
        children.setdefault(item.get("parent"), []).append(item)
    out: list[Data] = []

    def walk(parent: str | None) -> None:
        for item in sorted(children.get(parent, []), key=lambda i: i["position"]):
            out.append(item)
            walk(item["id"])

    walk(None)
    return out


def _agenda_items(snapshot: Snapshot) -> list[Data]:
    items: list[Data] = snapshot.setdefault("agenda", {}).setdefault("items", [])
    return items


def _put_items(snapshot: Snapshot, changed: list[wire.Item]) -> None:
    by_id = {item["id"]: item for item in _agenda_items(snapshot)}
    for item in changed:
        by_id[item["id"]] = {**by_id.get(item["id"], {}), **item}
    snapshot["agenda"]["items"] = _reading_order(list(by_id.values()))


@APPLIED.on("agenda/live")
def _agenda_live(snapshot: Snapshot, data: wire.AgendaMove) -> None:
    _put_items(snapshot, data["items"])
    snapshot["agenda"]["current"] = data["current"]
    if "ceremony" in data:
        snapshot["ceremony"] = data["ceremony"]


@APPLIED.on("agenda_item/created", "agenda_item/updated")
def _item_changed(snapshot: Snapshot, data: wire.Item) -> None:
    _put_items(snapshot, [data])


@APPLIED.on("agenda_item/deleted")
def _item_deleted(snapshot: Snapshot, data: wire.ItemsDeleted) -> None:
    gone = set(data["items"])
    snapshot["agenda"]["items"] = [i for i in _agenda_items(snapshot) if i["id"] not in gone]
    if snapshot["agenda"].get("current") in gone:
        snapshot["agenda"]["current"] = None
    snapshot["speakers"] = [s for s in snapshot.get("speakers", []) if s["item"] not in gone]


@APPLIED.on("agenda/reordered")
def _reordered(snapshot: Snapshot, data: wire.Reordered) -> None:
    positions = {item_id: n for n, item_id in enumerate(data["order"], start=1)}
    for item in _agenda_items(snapshot):
        if item["id"] in positions:
            item["position"] = positions[item["id"]]
    snapshot["agenda"]["items"] = _reading_order(_agenda_items(snapshot))


@APPLIED.on("agenda/settings")
def _settings(snapshot: Snapshot, data: wire.Settings) -> None:
    snapshot["agenda"]["settings"] = data


@APPLIED.on("speakers/updated")
def _speakers(snapshot: Snapshot, data: wire.ListChange) -> None:
    lists: list[Data] = snapshot.setdefault("speakers", [])
    found = next((s for s in lists if s["item"] == data["item"]), None)
    if found is None:
        found = {"item": data["item"], "speakers": []}
        lists.append(found)
    found.update(
        version=data["version"], open=data["open"], speaking=data["speaking"], order=data["order"]
    )
    by_id = {s["id"]: s for s in found["speakers"]}
    for speaker in data["changed"]:
        by_id[speaker["id"]] = speaker
    found["speakers"] = sorted(by_id.values(), key=lambda s: s["position"])
    for item in _agenda_items(snapshot):
        if item["id"] == data["item"]:
            item["speakers_open"], item["speakers_version"] = data["open"], data["version"]


@APPLIED.on("sites/presence")
def _presence(snapshot: Snapshot, data: wire.Presence) -> None:
    if "presence" not in snapshot:
        return  # this subscriber's snapshot has no sites' connections
    by_site = {entry["site"]: entry for entry in snapshot["presence"]}
    for entry in data["sites"]:
        by_site[entry["site"]] = entry
    snapshot["presence"] = list(by_site.values())


@APPLIED.on("roll_call/started")
def _roll_call_started(snapshot: Snapshot, data: wire.RollCallStarted) -> None:
    if "roll_call" in snapshot:
        snapshot["roll_call"] = {
            "id": data["id"],
            "started_at": data["started_at"],
            "started_by": data["started_by"],
            "closed_at": None,
            "answered": {},
            "missing": list(data["sites"]),
        }


@APPLIED.on("roll_call/answered")
def _roll_call_answered(snapshot: Snapshot, data: wire.RollCallAnswered) -> None:
    call = snapshot.get("roll_call")
    if call and call["id"] == data["id"]:
        call["answered"][data["site"]] = data["at"]
        call["missing"] = [code for code in call["missing"] if code != data["site"]]


@APPLIED.on("roll_call/closed")
def _roll_call_closed(snapshot: Snapshot, data: wire.RollCallClosed) -> None:
    call = snapshot.get("roll_call")
    if call and call["id"] == data["id"]:
        call["closed_at"] = data["closed_at"]


@APPLIED.on("awards/announced")
def _announced(snapshot: Snapshot, data: wire.Announcement) -> None:
    ceremony = snapshot.get("ceremony") or {}
    remaining = ceremony.get("remaining", 0) - (1 if data["first"] else 0)
    snapshot["ceremony"] = {"item": data["item"], "current": data["award"], "remaining": remaining}


@APPLIED.on("conference/updated")
def _conference_updated(snapshot: Snapshot, data: wire.Conference) -> None:
    snapshot["conference"] = data


@APPLIED.on("site/created", "site/updated")
def _site_changed(snapshot: Snapshot, data: wire.Site) -> None:
    sites = [s for s in snapshot.get("sites", []) if s["id"] != data["id"]]
    snapshot["sites"] = sorted([*sites, data], key=lambda s: s["position"])


@APPLIED.on("site/deleted")
def _site_deleted(snapshot: Snapshot, data: wire.SiteGone) -> None:
    snapshot["sites"] = [s for s in snapshot.get("sites", []) if s["id"] != data["id"]]
    if "presence" in snapshot:
        snapshot["presence"] = [p for p in snapshot["presence"] if p["site"] != data["code"]]
    call = snapshot.get("roll_call")
    if call:
        call["missing"] = [code for code in call["missing"] if code != data["code"]]
        call["answered"].pop(data["code"], None)


# Events that change nothing a snapshot holds (people, documents, minutes, the staff's
# award records, the scheduler's notices). A test checks APPLY and IGNORED against the
# catalogue, as for every client.
IGNORED = (
    ATTENDANCE
    | MINUTES
    | AWARDS
    | MAKING
    | {"agenda/reminder", "agenda/overrun", "speaker/time_up"}
)


def apply_event(snapshot: Snapshot, seq: int, event: Data) -> None:
    """Apply one event frame's event (``{"type", "data", "at"}``) of seq to snapshot."""
    handler = APPLY.get(str(event.get("type")))
    if handler is not None:
        handler(snapshot, event.get("data") or {})
    snapshot["seq"] = seq
