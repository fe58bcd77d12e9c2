"""Use cases for the agenda."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.models import AgendaItem
from agenda.schemas import AgendaItemCreate, AgendaItemFields, AgendaTree, agenda_item_data
from conference.actors import Actor
from conference.audit import record
from conference.errors import InvalidInput
from conference.live import append_event
from conference.models import Conference, Site
from conference.schemas import FIRST_YEAR, LAST_YEAR, ConferenceCreate
from conference.services import get_site_by_code


def planned_start_problem(
    conference: Conference | ConferenceCreate, planned_start: datetime | None
) -> str | None:
    """Why planned_start cannot be, or None.

    A time outside the conference's days is allowed: a postponed conference keeps
    its items' times until they are planned again, and its export must import.
    """
    if planned_start is None:
        return None
    try:
        local = planned_start.astimezone(ZoneInfo(conference.timezone))
    except (OverflowError, ValueError):
        return "planned_start is out of range"
    if not FIRST_YEAR <= local.year <= LAST_YEAR:
        return f"planned_start must be between the years {FIRST_YEAR} and {LAST_YEAR}"
    return None


def new_agenda_item(
    conference_id: int,
    data: AgendaItemFields,
    *,
    parent_id: int | None,
    site_id: int | None,
    position: int,
) -> AgendaItem:
    """The row for data (no checks, no audit, no event: the callers do those)."""
    return AgendaItem(
        conference_id=conference_id,
        parent_id=parent_id,
        position=position,
        kind=data.kind,
        title=data.title,
        planned_start=data.planned_start,
        duration_minutes=data.duration_minutes,
        presenter_name=data.presenter,
        site_id=site_id,
    )


async def _parent(session: AsyncSession, conference_id: int, public_id: str) -> AgendaItem:
    query = select(AgendaItem).where(
        col(AgendaItem.conference_id) == conference_id, col(AgendaItem.public_id) == public_id
    )
    parent = (await session.exec(query)).one_or_none()
    if parent is None:
        raise InvalidInput("no such agenda item in this conference", field="parent")
    return parent


async def create_agenda_item(
    session: AsyncSession, conference: Conference, data: AgendaItemCreate, *, actor: Actor
) -> AgendaItem:
    """Add an item to the agenda (at the end of its level unless a position is given)."""
    actor.require("organizer")
    assert conference.id is not None
    problem = planned_start_problem(conference, data.planned_start)
    if problem is not None:
        raise InvalidInput(problem, field="planned_start")
    site: Site | None = None
    if data.site is not None:
        site = await get_site_by_code(session, conference.id, data.site)
        if site is None:
            raise InvalidInput(f"no site with the code {data.site!r}", field="site")
    parent = await _parent(session, conference.id, data.parent) if data.parent else None
    position = data.position
    if position is None:
        parent_id = parent.id if parent is not None else None
        highest = await session.exec(
            select(func.max(AgendaItem.position)).where(
                col(AgendaItem.conference_id) == conference.id,
                col(AgendaItem.parent_id).is_(None)
                if parent_id is None
                else col(AgendaItem.parent_id) == parent_id,
            )
        )
        position = (highest.one() or 0) + 1
    item = new_agenda_item(
        conference.id,
        data,
        parent_id=parent.id if parent is not None else None,
        site_id=site.id if site is not None else None,
        position=position,
    )
    session.add(item)
    await session.flush()
    await record(
        session,
        actor,
        "agenda_item.create",
        "agenda_item",
        item.public_id,
        data.model_dump(mode="json"),
    )
    data_out = agenda_item_data(
        item,
        parent=parent.public_id if parent is not None else None,
        site_code=site.code if site is not None else None,
    )
    await append_event(session, conference.id, "agenda_item/created", data_out)
    return item


async def insert_agenda(
    session: AsyncSession,
    conference_id: int,
    site_ids: Mapping[str, int],
    entries: Sequence[AgendaTree],
    parent_id: int | None = None,
) -> None:
    """Checked items and those inside them, in order, without per-row audit or events."""
    rows = [
        new_agenda_item(
            conference_id,
            entry,
            parent_id=parent_id,
            site_id=site_ids[entry.site] if entry.site else None,
            position=i + 1,
        )
        for i, entry in enumerate(entries)
    ]
    session.add_all(rows)
    await session.flush()
    for row, entry in zip(rows, entries, strict=True):
        if entry.items:
            await insert_agenda(session, conference_id, site_ids, entry.items, row.id)


async def list_agenda(session: AsyncSession, conference_id: int) -> list[AgendaItem]:
    """Every item of the agenda, parents before their children, in order."""
    rows = await session.exec(
        select(AgendaItem)
        .where(col(AgendaItem.conference_id) == conference_id)
        .order_by(col(AgendaItem.parent_id).is_not(None), col(AgendaItem.position))
    )
    return list(rows)
