"""Use cases for the agenda."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.events import ITEM_CREATED, ITEM_DELETED, ITEM_UPDATED, REORDERED, SETTINGS, Settings
from agenda.models import AgendaItem, AgendaState
from agenda.schemas import (
    AgendaItemCreate,
    AgendaItemFields,
    AgendaItemUpdate,
    AgendaReorder,
    AgendaSettings,
    AgendaTree,
    agenda_item_data,
)
from agenda.state import Agenda, agenda_state, load_agenda
from attendance.models import Delegate
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, InvalidInput
from conference.live import append_event, lock_conference
from conference.models import Conference
from conference.queries import conference_row
from conference.schemas import FIRST_YEAR, LAST_YEAR, ConferenceCreate
from conference.services import named_site


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
        speaking_limit_seconds=data.speaking_limit_seconds,
    )


async def _presenter(session: AsyncSession, conference_id: int, public_id: str) -> Delegate:
    found = await conference_row(session, Delegate, conference_id, public_id=public_id)
    if found is None:
        raise InvalidInput("no such delegate in this conference", field="presenter_delegate")
    return found


async def _parent(session: AsyncSession, conference_id: int, public_id: str) -> AgendaItem:
    parent = await conference_row(session, AgendaItem, conference_id, public_id=public_id)
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
    site = await named_site(session, conference.id, data.site)
    parent = await _parent(session, conference.id, data.parent) if data.parent else None
    presenter = (
        await _presenter(session, conference.id, data.presenter_delegate)
        if data.presenter_delegate
        else None
    )
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
    if presenter is not None:
        item.presenter_delegate_id = presenter.id
        item.presenter_name = data.presenter or presenter.full_name
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
        presenter_delegate=presenter.public_id if presenter is not None else None,
    )
    await append_event(session, conference.id, ITEM_CREATED, data_out)
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


async def _given_site(
    session: AsyncSession, conference_id: int, agenda: Agenda, code: str | None
) -> int | None:
    """The id of the site an item is given from (None: none), noted in agenda."""
    site = await named_site(session, conference_id, code)
    if site is None:
        return None
    agenda.site_codes[site.id or 0] = site.code
    return site.id


async def _set_presenter(
    session: AsyncSession,
    conference_id: int,
    agenda: Agenda,
    item: AgendaItem,
    data: AgendaItemUpdate,
    changes: Mapping[str, object],
) -> None:
    """The delegate who presents the item (their name too, unless one is given)."""
    if data.presenter_delegate is None:
        item.presenter_delegate_id = None
        return
    presenter = await _presenter(session, conference_id, data.presenter_delegate)
    assert presenter.id is not None
    item.presenter_delegate_id = presenter.id
    agenda.presenters[presenter.id] = presenter.public_id
    if "presenter" not in changes:
        item.presenter_name = presenter.full_name


async def update_agenda_item(
    session: AsyncSession,
    conference: Conference,
    public_id: str,
    data: AgendaItemUpdate,
    *,
    actor: Actor,
) -> AgendaItem:
    """Change what an item says (not where it is, nor its live state)."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    agenda = await load_agenda(session, conference.id)
    item = agenda.get(public_id)
    changes = data.model_dump(exclude_unset=True)
    if "title" in changes and data.title is None:
        raise InvalidInput("an item needs a title", field="title")
    if "kind" in changes and data.kind is None:
        raise InvalidInput("an item needs a kind", field="kind")
    if "planned_start" in changes:
        problem = planned_start_problem(conference, data.planned_start)
        if problem is not None:
            raise InvalidInput(problem, field="planned_start")
        item.planned_start = data.planned_start
    if "site" in changes:
        item.site_id = await _given_site(session, conference.id, agenda, data.site)
    if "presenter_delegate" in changes:
        await _set_presenter(session, conference.id, agenda, item, data, changes)
    for key, attr in (
        ("title", "title"),
        ("kind", "kind"),
        ("duration_minutes", "duration_minutes"),
        ("presenter", "presenter_name"),
        ("speaking_limit_seconds", "speaking_limit_seconds"),
    ):
        if key in changes:
            value = changes[key]
            setattr(item, attr, value if value is not None else (0 if "minutes" in key else ""))
    session.add(item)
    await session.flush()
    await record(
        session,
        actor,
        "agenda_item.update",
        "agenda_item",
        item.public_id,
        data.model_dump(mode="json", exclude_unset=True),
    )
    await append_event(session, conference.id, ITEM_UPDATED, agenda.data(item))
    return item


async def delete_agenda_item(
    session: AsyncSession, conference: Conference, public_id: str, *, actor: Actor
) -> None:
    """Remove an item (and the items inside it); one that has run stays in the record."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    agenda = await load_agenda(session, conference.id)
    item = agenda.get(public_id)
    inside = [item, *agenda.in_order(item.id)]
    if any(i.status != "planned" for i in inside):
        raise Conflict(
            "this item has started: it stays in the record (skip it instead)", field="item"
        )
    state = await agenda_state(session, conference.id)
    if state.current_item_id in {i.id for i in inside}:
        state.current_item_id = None
        session.add(state)
    # One at a time, the innermost first: flushed together, the parent's row may go first
    # and take its items with it (ON DELETE CASCADE), and SQLite reports rows missing.
    for gone in reversed(inside):
        await session.delete(gone)
        await session.flush()
    await record(session, actor, "agenda_item.delete", "agenda_item", public_id, {})
    await append_event(
        session,
        conference.id,
        ITEM_DELETED,
        {"id": public_id, "items": [i.public_id for i in inside]},
    )


async def reorder_agenda(
    session: AsyncSession, conference: Conference, data: AgendaReorder, *, actor: Actor
) -> list[AgendaItem]:
    """Put the items of one level in a new order (each of them named once)."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    agenda = await load_agenda(session, conference.id)
    parent_id = agenda.get(data.parent, "parent").id if data.parent else None
    level = agenda.children.get(parent_id, [])
    if len(data.order) != len(set(data.order)) or set(data.order) != {i.public_id for i in level}:
        raise Conflict(
            "the order must name each item of this level once, and only those "
            "(the agenda may have changed meanwhile: look again)",
            field="order",
        )
    ordered = [agenda.by_public_id[public_id] for public_id in data.order]
    for n, item in enumerate(ordered, start=1):
        item.position = n
    session.add_all(ordered)
    await session.flush()
    await record(
        session,
        actor,
        "agenda.reorder",
        "agenda_item",
        data.parent or "",
        {"order": data.order},
    )
    await append_event(
        session, conference.id, REORDERED, {"parent": data.parent, "order": data.order}
    )
    return ordered


def settings_data(state: AgendaState) -> Settings:
    return {
        "default_speaking_seconds": state.default_speaking_seconds,
        "kind_limits": dict(state.kind_limits),
        "fair_order": state.fair_order,
    }


async def update_agenda_settings(
    session: AsyncSession, conference: Conference, data: AgendaSettings, *, actor: Actor
) -> AgendaState:
    """Speaking time per kind of item, the default, and whether sites take fair turns."""
    actor.require("organizer", "chair")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    state = await agenda_state(session, conference.id)
    if data.default_speaking_seconds is not None:
        state.default_speaking_seconds = data.default_speaking_seconds
    if data.kind_limits is not None:
        state.kind_limits = {k: v for k, v in data.kind_limits.items() if v > 0}
    if data.fair_order is not None:
        state.fair_order = data.fair_order
    state.updated_at = utcnow()
    session.add(state)
    await session.flush()
    out = settings_data(state)
    await record(session, actor, "agenda.settings", "conference", conference.public_id, dict(out))
    await append_event(session, conference.id, SETTINGS, out)
    return state
