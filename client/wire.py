"""What the stream's clients read of the protocol's JSON (docs/websocket.md, docs/events.md).

The shapes name only the fields a client reads, and every one may be missing: the
follower reads them with defaults, and merges partial records into the ones it holds.
The clients speak the protocol only, so these are written from the documents, not
imported from the server's catalogue.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

# Raw JSON from the wire, before anything says what it is: a frame, a snapshot document
# kept in its own shape, an event's data on its way to the handler of its type.
Json = dict[str, Any]


class Conference(TypedDict, total=False):
    id: str
    title: str
    timezone: str


class Site(TypedDict, total=False):
    """A connection point; sites are named by code in events."""

    id: str
    code: str
    name: str
    position: int


class Item(TypedDict, total=False):
    """An agenda item (times are ISO 8601 strings, None before they come)."""

    id: str
    parent: str | None
    position: int
    title: str
    status: str
    started_at: str | None
    speakers_open: bool
    speakers_version: int


class Speaker(TypedDict, total=False):
    """An entry of a speaker list; site is a site's code."""

    id: str
    name: str
    unit: str
    site: str | None
    status: str
    position: int
    requested_at: str | None
    limit_seconds: int
    spoken_seconds: float
    timer_started_at: str | None


class ListHead(TypedDict, total=False):
    """A speaker list's state: its version, whether it is open, who speaks, the queue."""

    item: str
    version: int
    open: bool
    speaking: str | None
    order: list[str]


class ListState(ListHead, total=False):
    """A speaker list as a snapshot carries it: every entry."""

    speakers: list[Speaker]


class ListChange(ListHead, total=False):
    """``speakers/updated``: the list's state and the entries that changed."""

    changed: list[Speaker]


class SiteLink(TypedDict, total=False):
    site: str
    connected: bool
    latency_ms: int | None


class RollCall(TypedDict, total=False):
    """The latest roll call: when each site answered, by code, and the codes still missing."""

    id: str | None
    started_at: str | None
    started_by: str | None
    closed_at: str | None
    answered: dict[str, str | None]
    missing: list[str]


class Agenda(TypedDict, total=False):
    items: list[Item]
    current: str | None


class Snapshot(TypedDict, total=False):
    """What a client starts from; presence and roll_call only for those who may see them."""

    seq: int
    epoch: str
    server_time: str
    conference: Conference
    sites: list[Site]
    agenda: Agenda
    speakers: list[ListState]
    presence: list[SiteLink]
    roll_call: RollCall | None


# --- the data of the events a client shows -------------------------------------------------


class AgendaMove(TypedDict, total=False):
    """``agenda/live``: action is start, end, skip or back; the ceremony after the move is
    put in a snapshot as it comes."""

    action: str
    current: str | None
    items: list[Item]
    ceremony: Json


class ItemsDeleted(TypedDict, total=False):
    id: str
    items: list[str]


class Reordered(TypedDict, total=False):
    parent: str | None
    order: list[str]


class Settings(TypedDict, total=False):
    default_speaking_seconds: int
    fair_order: bool


class Presence(TypedDict, total=False):
    sites: list[SiteLink]


class RollCallStarted(TypedDict, total=False):
    id: str
    started_at: str
    started_by: str
    sites: list[str]


class RollCallAnswered(TypedDict, total=False):
    id: str
    site: str
    at: str


class RollCallClosed(TypedDict, total=False):
    """answered: how many sites answered; missing: the codes of those that did not."""

    id: str
    closed_at: str
    answered: int
    missing: list[str]


class SiteGone(TypedDict, total=False):
    id: str
    code: str


class Reminder(TypedDict, total=False):
    item: str
    minutes_before: int


class TimeUp(TypedDict, total=False):
    item: str
    speaker: str
    limit_seconds: int


class Overrun(TypedDict, total=False):
    item: str
    planned_end: str


class Presented(TypedDict, total=False):
    """An award as the ceremony presents it."""

    kind_label: str
    name: str
    site_name: str


class Announcement(TypedDict, total=False):
    """first: False when the chair presents the same award again."""

    award: Presented
    item: str
    first: bool
