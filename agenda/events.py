"""The live meeting's events: the agenda, the speaker lists, presence, roll calls, the ceremony."""

from __future__ import annotations

from typing_extensions import TypedDict

from agenda.schemas import AgendaItemOut
from conference.catalogue import Audience, EventType

# Times are ISO 8601 strings with their offset; None where the moment has not come.


class Presented(TypedDict):
    """An award as screens show it when it is presented: nothing private."""

    id: str
    kind: str
    kind_label: str
    recipient_kind: str
    name: str
    title: str
    unit: str
    site: str | None
    site_name: str
    citation: str
    decision: str
    decision_title: str
    issued_on: str
    issuing_body: str
    signer_name: str
    signer_title: str
    announced_at: str | None


class Ceremony(TypedDict):
    """The awards item running (item), the award presented last (current), how many remain."""

    item: str | None
    current: Presented | None
    remaining: int


class AgendaMove(TypedDict):
    """action: start, end, skip or back; items: every item whose state changed; ceremony:
    the awards ceremony after the move."""

    action: str
    current: str | None
    items: list[AgendaItemOut]
    at: str
    ceremony: Ceremony


class ItemsDeleted(TypedDict):
    """id: the item removed; items: it and every item under it."""

    id: str
    items: list[str]


class Reordered(TypedDict):
    parent: str | None
    order: list[str]


class Settings(TypedDict):
    default_speaking_seconds: int
    kind_limits: dict[str, int]
    fair_order: bool


class Reminder(TypedDict):
    item: str
    planned_start: str
    minutes_before: int


class Overrun(TypedDict):
    item: str
    planned_end: str
    started_at: str | None


class Speaker(TypedDict):
    """One entry of a speaker list (site: a site code; delegate: a delegate's public id)."""

    id: str
    item: str
    delegate: str | None
    name: str
    title: str
    unit: str
    site: str | None
    kind: str
    status: str
    position: int
    topic: str
    requested_at: str | None
    limit_seconds: int
    spoken_seconds: float
    timer_started_at: str | None
    timer_generation: int
    started_at: str | None
    ended_at: str | None


class SpeakerList(TypedDict):
    """version: the list's version (one more per change); order: the queue's entry ids."""

    item: str
    version: int
    open: bool
    speaking: str | None
    order: list[str]
    changed: list[Speaker]


class TimeUp(TypedDict):
    item: str
    speaker: str
    limit_seconds: int
    generation: int


class SiteLink(TypedDict):
    site: str
    connected: bool
    since: str | None
    latency_ms: int | None
    last_seen_at: str | None


class Presence(TypedDict):
    sites: list[SiteLink]


class RollCallStarted(TypedDict):
    """sites: the codes of every site asked; replaces: the roll call this one replaces."""

    id: str
    started_at: str
    started_by: str
    sites: list[str]
    replaces: str | None


class RollCallAnswered(TypedDict):
    id: str
    site: str
    at: str
    by: str


class RollCallClosed(TypedDict):
    id: str
    closed_at: str
    answered: int
    missing: list[str]


class Announcement(TypedDict):
    """first: False when the chair presents the same award again."""

    award: Presented
    item: str
    at: str | None
    first: bool


AGENDA_LIVE = EventType(
    "agenda/live",
    Audience.EVERYONE,
    AgendaMove,
    "the chair started, ended, skipped or went back: the running item and the items changed",
)
ITEM_CREATED = EventType(
    "agenda_item/created", Audience.EVERYONE, AgendaItemOut, "an agenda item was added"
)
ITEM_UPDATED = EventType(
    "agenda_item/updated", Audience.EVERYONE, AgendaItemOut, "an agenda item changed"
)
ITEM_DELETED = EventType(
    "agenda_item/deleted",
    Audience.EVERYONE,
    ItemsDeleted,
    "an agenda item and its sub-items were removed",
)
REORDERED = EventType(
    "agenda/reordered",
    Audience.EVERYONE,
    Reordered,
    "the items under one parent were put in a new order",
)
SETTINGS = EventType(
    "agenda/settings",
    Audience.EVERYONE,
    Settings,
    "speaking times per kind of item and the fair order of sites changed",
)
REMINDER = EventType(
    "agenda/reminder", Audience.EVERYONE, Reminder, "a planned item is due in a few minutes"
)
OVERRUN = EventType(
    "agenda/overrun", Audience.EVERYONE, Overrun, "the running item has passed its planned end"
)
SPEAKERS_UPDATED = EventType(
    "speakers/updated",
    Audience.EVERYONE,
    SpeakerList,
    "an item's speaker list changed: its version, who speaks, the queue and the entries changed",
)
TIME_UP = EventType("speaker/time_up", Audience.EVERYONE, TimeUp, "the speaker's time is up")
PRESENCE = EventType(
    "sites/presence",
    Audience.STAFF,
    Presence,
    "sites connected or lost their link (every site's state is the staff's view)",
)
ROLL_CALL_STARTED = EventType(
    "roll_call/started",
    Audience.EVERYONE,
    RollCallStarted,
    "the chair asked every site to say it is ready",
)
ROLL_CALL_ANSWERED = EventType(
    "roll_call/answered", Audience.EVERYONE, RollCallAnswered, "a site answered the roll call"
)
ROLL_CALL_CLOSED = EventType(
    "roll_call/closed",
    Audience.EVERYONE,
    RollCallClosed,
    "the roll call was closed: who answered, who not",
)
AWARD_ANNOUNCED = EventType(
    "awards/announced",
    Audience.EVERYONE,
    Announcement,
    "the ceremony presented an award: every screen shows the recipient",
)

EVENTS = (
    AGENDA_LIVE,
    ITEM_CREATED,
    ITEM_UPDATED,
    ITEM_DELETED,
    REORDERED,
    SETTINGS,
    REMINDER,
    OVERRUN,
    SPEAKERS_UPDATED,
    TIME_UP,
    PRESENCE,
    ROLL_CALL_STARTED,
    ROLL_CALL_ANSWERED,
    ROLL_CALL_CLOSED,
    AWARD_ANNOUNCED,
)
