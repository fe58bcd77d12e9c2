"""The application's event catalogue: every domain's live events in one table.

Built by the app factory under :data:`catalogue_key`. The live socket asks it who may
receive an event (``conference.catalogue.visible``). ``python -m server.events`` writes
the pages' copy, ``web/static/js/lib/events.js``, and ``docs/events.md``; a test fails
when either is stale.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable

from aiohttp import web
from pydantic import BaseModel

from agenda import events as agenda_events
from agenda.minutes import events as minutes_events
from attendance import events as attendance_events
from awards import events as awards_events
from conference import events as conference_events
from conference.catalogue import Audience, Catalogue, EventType

catalogue_key = web.AppKey("catalogue_key", Catalogue)
PAGES_FILE = "web/static/js/lib/events.js"
DOCS_FILE = "docs/events.md"


def build_catalogue(extra: Iterable[EventType] = ()) -> Catalogue:
    """Every event type of every domain (and extra, the tests'); a name declared twice is
    refused."""
    return Catalogue(
        {
            "conference": conference_events.EVENTS,
            "attendance": attendance_events.EVENTS,
            "agenda": agenda_events.EVENTS,
            "minutes": minutes_events.EVENTS,
            "awards": awards_events.EVENTS,
            "tests": extra,
        }
    )


def events_module(catalogue: Catalogue) -> str:
    """The pages' copy of the catalogue: each event's domain, audience and meaning."""
    table = {
        e.name: {
            "domain": catalogue.domain_of(e.name),
            "audience": e.audience.value,
            "about": e.about,
        }
        for e in sorted(catalogue, key=lambda e: e.name)
    }
    body = json.dumps(table, ensure_ascii=False, indent=2)
    return (
        "// The event catalogue, generated from the server's (server/events.py):\n"
        "// do not edit; run `python -m server.events` after changing an event type.\n"
        "// Each page that follows the stream names what it ignores (IGNORED, given to its\n"
        "// LiveFeed); tests/web/test_event_tables.py checks that it handles all the rest.\n"
        f"export const EVENTS = Object.freeze({body});\n\n"
        "export const EVENT_NAMES = Object.freeze(Object.keys(EVENTS));\n\n"
        "/** A set of event names; a name the catalogue does not have is a mistake. */\n"
        "export function eventSet(...names) {\n"
        "  for (const name of names) {\n"
        "    if (!(name in EVENTS)) throw new Error(`no such event: ${name}`);\n"
        "  }\n"
        "  return new Set(names);\n"
        "}\n\n"
        "/** Every event of the domains named (conference, attendance, agenda, minutes,\n"
        " * awards): a page that ignores a whole domain also ignores its new events. */\n"
        "export function eventsOf(...domains) {\n"
        "  const known = new Set(Object.values(EVENTS).map((event) => event.domain));\n"
        "  for (const domain of domains) {\n"
        "    if (!known.has(domain)) throw new Error(`no such domain: ${domain}`);\n"
        "  }\n"
        "  return EVENT_NAMES.filter((name) => domains.includes(EVENTS[name].domain));\n"
        "}\n"
    )


def payload_fields(payload: type) -> list[str]:
    """The top-level keys of an event's data, as its payload type declares them."""
    if isinstance(payload, type) and issubclass(payload, BaseModel):
        return list(payload.model_fields)
    return list(getattr(payload, "__annotations__", {}))


AUDIENCES = {
    Audience.EVERYONE: "everyone following the conference",
    Audience.SITE_RECORD: "everyone; a site's operator and screen only for their own site",
    Audience.PEOPLE: "the staff; an operator for the delegates of their site",
    Audience.SITE_DOCUMENTS: "the staff; an operator for their own site's jobs",
    Audience.MINUTES: "the staff; sites or delegates as the minutes' readers say",
    Audience.STAFF: "the staff of the whole conference",
}


def events_doc(catalogue: Catalogue) -> str:
    """docs/events.md: every event, who receives it and what its data holds."""
    lines = [
        "# Live events",
        "",
        "Generated from the event catalogue (`server/events.py`; run",
        "`python -m server.events` after changing an event type). Each domain declares its",
        "events in its `events.py` with the type of their data; `conference/catalogue.py`",
        "says who receives each audience (`visible`). The staff are the organizer, chair and",
        "secretary. Fields in *italics* are emptied for subscribers who may not see contact",
        "details. The frames that carry events are described in docs/websocket.md.",
        "",
        "| event | domain | received by | data | meaning |",
        "|---|---|---|---|---|",
    ]
    for event in sorted(catalogue, key=lambda e: e.name):
        fields = ", ".join(
            f"*{f}*" if f in event.private else f for f in payload_fields(event.payload)
        )
        about = event.about.replace("|", "\\|")
        lines.append(
            f"| `{event.name}` | {catalogue.domain_of(event.name)} | {AUDIENCES[event.audience]}"
            f" | {fields} | {about} |"
        )
    return "\n".join(lines) + "\n"


GENERATED = {PAGES_FILE: events_module, DOCS_FILE: events_doc}


def main(argv: list[str]) -> int:
    """Write the pages' copy and docs/events.md (from the checkout's root)."""
    catalogue = build_catalogue()
    for path, make in GENERATED.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(make(catalogue))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
