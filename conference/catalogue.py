"""The event catalogue's vocabulary: an event type is declared once, with its payload and audience.

Every live event a service appends is one of the :class:`EventType` constants that
its domain declares in its ``events.py`` (``conference.events``,
``attendance.events``, ``agenda.events``, ``agenda.minutes.events``,
``awards.events``). Each says what its data holds (a TypedDict or a pydantic
model), who may receive it (its :class:`Audience`) and which fields are blanked
for a subscriber who may not see contact details. The live socket asks
:func:`visible`; the follower and the pages take the names from the catalogue
(``server/events.py`` assembles it and writes ``web/static/js/lib/events.js``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from conference.actors import SITE_ROLES
from conference.rawjson import JsonObject


class Audience(StrEnum):
    """Who may receive an event, besides the conference's staff who see everything."""

    #: every subscriber of the conference, anonymous viewers of a public one included.
    EVERYONE = "everyone"
    #: a site's own record: everyone, but a subscriber bound to one site sees only its own.
    SITE_RECORD = "site_record"
    #: people's records: who sees contacts, and an operator for their own site's delegates
    #: (or someone admitted at their site, or moved from it).
    PEOPLE = "people"
    #: badge and certificate jobs: who sees contacts, and an operator for their own site's.
    SITE_DOCUMENTS = "site_documents"
    #: the minutes: the staff, and the sites or the delegates when the minutes' readers say so.
    MINUTES = "minutes"
    #: the staff of the whole conference only (decisions before the ceremony, every site's link).
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class EventType:
    """One kind of live event: its name on the wire, its payload and who may receive it."""

    name: str
    audience: Audience
    #: what ``data`` holds: a TypedDict or a pydantic model, checked against every event the
    #: tests see.
    payload: type
    about: str
    #: fields emptied (set to null) for subscribers who may not see contact details.
    private: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Viewer:
    """What decides which events a subscriber receives."""

    roles: frozenset[str]
    #: the subscriber may see contact details (the staff and operators; not delegates, screens
    #: or viewers).
    contacts: bool
    #: the public id of the one site the subscriber is bound to; None when they see every site.
    site: str | None = None
    #: that site's code (delegate and document events name sites by code).
    site_code: str = ""

    @property
    def whole_conference(self) -> bool:
        return self.contacts and self.site is None


# Where a delegate event names the sites it concerns.
PEOPLE_SITE_FIELDS = ("site", "at_site", "from_site")


def visible(event_type: EventType, data: Mapping[str, Any], viewer: Viewer) -> bool:
    """May viewer receive this event? The one place that says so."""
    audience = event_type.audience
    if audience is Audience.EVERYONE:
        return True
    if audience is Audience.SITE_RECORD:
        return viewer.site is None or data.get("id") == viewer.site
    if audience is Audience.PEOPLE:
        return viewer.contacts and (
            viewer.site is None or viewer.site_code in (data.get(f) for f in PEOPLE_SITE_FIELDS)
        )
    if audience is Audience.SITE_DOCUMENTS:
        return viewer.contacts and (viewer.site is None or data.get("site") == viewer.site_code)
    if audience is Audience.MINUTES:
        if viewer.whole_conference:
            return True
        readers = data.get("readers", "staff")
        if readers in ("sites", "delegates") and viewer.roles & frozenset(SITE_ROLES):
            return True
        return readers == "delegates" and "delegate" in viewer.roles
    return viewer.whole_conference


def without_private(event_type: EventType, data: JsonObject) -> JsonObject | None:
    """The data for a subscriber who may not see contact details; None if nothing to hide."""
    if not any(data.get(f) for f in event_type.private):
        return None
    return {**data, **dict.fromkeys(event_type.private)}


class Catalogue:
    """Every event type of the application by name, each in the domain that emits it;
    built once by the app factory from each domain's declarations."""

    def __init__(self, domains: Mapping[str, Iterable[EventType]]) -> None:
        self._types: dict[str, EventType] = {}
        self._domains: dict[str, str] = {}
        for domain, events in domains.items():
            for event_type in events:
                if event_type.name in self._types:
                    raise ValueError(f"event type {event_type.name!r} is declared twice")
                self._types[event_type.name] = event_type
                self._domains[event_type.name] = domain

    def __getitem__(self, name: str) -> EventType:
        return self._types[name]

    def get(self, name: str) -> EventType | None:
        return self._types.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return sorted(self._types)

    def domain_of(self, name: str) -> str:
        return self._domains[name]

    def domains(self) -> dict[str, list[str]]:
        """The names of each domain's events, sorted."""
        out: dict[str, list[str]] = {}
        for name in self.names():
            out.setdefault(self._domains[name], []).append(name)
        return out
