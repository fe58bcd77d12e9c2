"""The minutes' text, section by section, with every revision kept.

A section is the secretary's text for one agenda item (keyed by the item's public id)
or the minutes' own ``opening`` and ``closing``. A save names the revision it was
made on: if the section has moved on meanwhile (another secretary saved), the save is
refused with ``conflict`` carrying the current revision and text, so that the two can
be merged and nothing is silently overwritten. Every saved text stays readable.

Once the minutes are final (agenda/minutes/book.py) sections are refused: changes
are numbered amendments.

Event ``minutes/updated {"section", "revision", "by", "at", "readers"}`` (no text:
readers fetch it); it goes to whoever may read the minutes (``readers``).
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import NotRequired

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.minutes.events import UPDATED
from agenda.minutes.models import (
    MinutesBook,
    MinutesRevision,
    MinutesSection,
    conference_rows,
)
from agenda.state import iso, load_agenda
from conference.actors import SITE_ROLES, Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference
from conference.queries import conference_record

WRITE_ROLES = ("secretary", "organizer")
READ_ROLES = ("secretary", "organizer", "chair")
OWN_SECTIONS = ("opening", "closing")
MAX_TEXT = 100_000
MAX_DECISIONS = 50
MAX_DECISION = 2_000
# Who reads the minutes besides the staff (READ_ROLES): nobody, the sites' operators and
# screens, or also the delegates (by their personal link).
READERS = ("staff", "sites", "delegates")


class SectionData(TypedDict):
    """A section at its latest revision (section: an item's public id, opening or closing)."""

    section: str
    text: str
    decisions: list[str]
    revision: int
    updated_at: str | None
    updated_by: str


class RevisionData(TypedDict):
    """A saved text of a section; revision 0, the empty text before the first, was never saved."""

    revision: int
    text: str
    decisions: list[str]
    saved_at: NotRequired[str | None]
    saved_by: NotRequired[str]


class Change(TypedDict):
    """A run of lines: equal in both texts, removed from the old or added in the new."""

    op: str
    lines: list[str]


# "from" is a keyword: this shape can only be declared by call.
Comparison = TypedDict(
    "Comparison",
    {"section": str, "from": RevisionData, "to": RevisionData, "changes": list[Change]},
)


def section_data(section: MinutesSection) -> SectionData:
    """A section as its API shows it."""
    return {
        "section": section.key,
        "text": section.text,
        "decisions": list(section.decisions),
        "revision": section.revision,
        "updated_at": iso(section.updated_at),
        "updated_by": section.updated_by,
    }


async def minutes_book(
    session: AsyncSession, conference_id: int, *, create: bool = False
) -> MinutesBook:
    """The conference's minutes book, made on first write (writers hold the lock)."""
    return await conference_record(session, MinutesBook, conference_id, create=create)


def may_read(actor: Actor, book: MinutesBook) -> bool:
    """The staff always; site operators and screens, and delegates, when the book says."""
    if actor.has(*READ_ROLES):
        return True
    if book.readers in ("sites", "delegates") and actor.has(*SITE_ROLES):
        return True
    return book.readers == "delegates" and actor.delegate_id is not None


async def require_reader(
    session: AsyncSession, conference: Conference, actor: Actor
) -> MinutesBook:
    assert conference.id is not None
    book = await minutes_book(session, conference.id)
    if not may_read(actor, book):
        raise Forbidden("the minutes are read by the organizers, the chair and the secretary")
    return book


def clean_decisions(decisions: list[str]) -> list[str]:
    """Decisions as marked, blank ones dropped; too many or too long is refused."""
    out = [d.strip() for d in decisions if d.strip()]
    if len(out) > MAX_DECISIONS:
        raise InvalidInput(f"at most {MAX_DECISIONS} decisions per section", field="decisions")
    if any(len(d) > MAX_DECISION for d in out):
        raise InvalidInput(f"a decision is at most {MAX_DECISION} characters", field="decisions")
    return out


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
    decisions: list[str] | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> MinutesSection:
    """Save a section's text (and decisions) made on base_revision; a stale one is a
    conflict. decisions None keeps the section's decisions."""
    actor.require(*WRITE_ROLES)
    assert conference.id is not None
    marked = clean_decisions(decisions) if decisions is not None else None
    await lock_conference(session, conference.id)
    book = await minutes_book(session, conference.id)
    if book.status == "final":
        raise Conflict(
            "the minutes are final: a change is made as a numbered amendment", field="section"
        )
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
    if marked is not None:
        section.decisions = marked
    section.updated_at = now
    section.updated_by = actor.name
    session.add(section)
    session.add(
        MinutesRevision(
            section_id=section.id,
            revision=section.revision,
            text=text,
            decisions=list(section.decisions),
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
        {"revision": section.revision, "length": len(text), "decisions": len(section.decisions)},
    )
    await append_event(
        session,
        conference.id,
        UPDATED,
        {
            "section": key,
            "revision": section.revision,
            "by": actor.name,
            "at": iso(now),
            "readers": book.readers,
        },
    )
    return section


async def read_minutes(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> list[SectionData]:
    """Every section that has text, at its latest revision."""
    await require_reader(session, conference, actor)
    rows = await conference_rows(session, MinutesSection, conference.id, MinutesSection.id)
    return [section_data(row) for row in rows]


async def section_revisions(
    session: AsyncSession, conference: Conference, key: str, *, actor: Actor
) -> list[RevisionData]:
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
            "decisions": list(row.decisions),
            "saved_at": iso(row.saved_at),
            "saved_by": row.saved_by,
        }
        for row in rows
    ]


def compare_texts(old: str, new: str) -> list[Change]:
    """Line by line what changed from old to new: runs of equal, removed and added lines."""
    a, b = old.splitlines(), new.splitlines()
    out: list[Change] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append({"op": "equal", "lines": a[i1:i2]})
            continue
        if i2 > i1:
            out.append({"op": "removed", "lines": a[i1:i2]})
        if j2 > j1:
            out.append({"op": "added", "lines": b[j1:j2]})
    return out


async def compare_revisions(
    session: AsyncSession, conference: Conference, key: str, old: int, new: int, *, actor: Actor
) -> Comparison:
    """Two saved revisions of a section and the lines that changed between them."""
    revisions = {
        r["revision"]: r for r in await section_revisions(session, conference, key, actor=actor)
    }
    revisions[0] = {"revision": 0, "text": "", "decisions": []}
    for number, name in ((old, "from"), (new, "to")):
        if number not in revisions:
            raise NotFound(f"this section has no revision {number}", field=name)
    return {
        "section": key,
        "from": revisions[old],
        "to": revisions[new],
        "changes": compare_texts(revisions[old]["text"], revisions[new]["text"]),
    }
