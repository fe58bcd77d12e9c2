"""The minutes' text, section by section, with every revision kept.

A section is the secretary's text for one agenda item (keyed by the item's public id)
or the minutes' own ``opening`` and ``closing``. A save names the revision it was
made on: if the section has moved on meanwhile (another secretary saved), the save is
refused with ``conflict`` carrying the current revision and text, so that the two can
be merged and nothing is silently overwritten. Every saved text stays readable.

Event ``minutes/updated {"section", "revision", "by", "at"}`` (no text: readers fetch
it); it goes to the staff only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.models import MinutesRevision, MinutesSection
from agenda.state import iso, load_agenda
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference

WRITE_ROLES = ("secretary", "organizer")
READ_ROLES = ("secretary", "organizer", "chair")
OWN_SECTIONS = ("opening", "closing")
EVENT = "minutes/updated"
MAX_TEXT = 100_000


def section_data(section: MinutesSection) -> dict[str, Any]:
    return {
        "section": section.key,
        "text": section.text,
        "revision": section.revision,
        "updated_at": iso(section.updated_at),
        "updated_by": section.updated_by,
    }


async def _section(
    session: AsyncSession, conference: Conference, key: str, *, create: bool
) -> MinutesSection | None:
    assert conference.id is not None
    found = (
        await session.exec(
            select(MinutesSection)
            .where(
                col(MinutesSection.conference_id) == conference.id,
                col(MinutesSection.key) == key,
            )
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is not None or not create:
        return found
    item_id = None
    if key not in OWN_SECTIONS:
        agenda = await load_agenda(session, conference.id)
        item_id = agenda.get(key, "section").id
    section = MinutesSection(conference_id=conference.id, key=key, item_id=item_id)
    session.add(section)
    await session.flush()
    return section


async def save_section(
    session: AsyncSession,
    conference: Conference,
    key: str,
    text: str,
    base_revision: int,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> MinutesSection:
    """Save a section's text made on base_revision; a stale one is a conflict."""
    actor.require(*WRITE_ROLES)
    assert conference.id is not None
    await lock_conference(session, conference.id)
    now = now or utcnow()
    section = await _section(session, conference, key, create=True)
    assert section is not None and section.id is not None
    if base_revision != section.revision:
        raise Conflict(
            f"this section was saved meanwhile (revision {section.revision}, by "
            f"{section.updated_by or 'someone'}): merge your text with it and save again",
            field="revision",
            details=section_data(section),
        )
    section.revision += 1
    section.text = text
    section.updated_at = now
    section.updated_by = actor.name
    session.add(section)
    session.add(
        MinutesRevision(
            section_id=section.id,
            revision=section.revision,
            text=text,
            saved_at=now,
            saved_by=actor.name,
        )
    )
    await session.flush()
    await record(
        session,
        actor,
        "minutes.save",
        "minutes_section",
        key,
        {"revision": section.revision, "length": len(text)},
    )
    await append_event(
        session,
        conference.id,
        EVENT,
        {"section": key, "revision": section.revision, "by": actor.name, "at": iso(now)},
    )
    return section


async def read_minutes(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> list[dict[str, Any]]:
    """Every section that has text, at its latest revision."""
    actor.require(*READ_ROLES)
    rows = await session.exec(
        select(MinutesSection)
        .where(col(MinutesSection.conference_id) == conference.id)
        .order_by(col(MinutesSection.id))
    )
    return [section_data(row) for row in rows]


async def section_revisions(
    session: AsyncSession, conference: Conference, key: str, *, actor: Actor
) -> list[dict[str, Any]]:
    """Every saved text of a section, oldest first."""
    actor.require(*READ_ROLES)
    section = await _section(session, conference, key, create=False)
    if section is None:
        raise NotFound("this section has no saved text", field="section")
    rows = await session.exec(
        select(MinutesRevision)
        .where(col(MinutesRevision.section_id) == section.id)
        .order_by(col(MinutesRevision.revision))
    )
    return [
        {
            "revision": row.revision,
            "text": row.text,
            "saved_at": iso(row.saved_at),
            "saved_by": row.saved_by,
        }
        for row in rows
    ]
