"""The agenda as the live services see it: every item of a conference, in order, with
what an event about an item needs (its parent's and its site's public names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.models import AgendaItem, AgendaState
from agenda.schemas import agenda_item_data
from attendance.models import Delegate
from conference.errors import NotFound
from conference.models import Site
from conference.queries import conference_record
from conference.rawjson import JsonObject


@dataclass
class Agenda:
    """A conference's items (parents before children, each level in order) and sites."""

    items: list[AgendaItem]
    site_codes: dict[int, str]
    # Public ids of the delegates who present items.
    presenters: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {item.id: item for item in self.items}
        self.by_public_id = {item.public_id: item for item in self.items}
        self.children: dict[int | None, list[AgendaItem]] = {}
        for item in self.items:
            self.children.setdefault(item.parent_id, []).append(item)
        for level in self.children.values():
            level.sort(key=lambda item: (item.position, item.id or 0))

    def get(self, public_id: str, field: str = "item") -> AgendaItem:
        item = self.by_public_id.get(public_id)
        if item is None:
            raise NotFound("no such agenda item in this conference", field=field)
        return item

    def in_order(self, parent_id: int | None = None) -> list[AgendaItem]:
        """Every item in reading order: each parent followed by its items."""
        out: list[AgendaItem] = []
        for item in self.children.get(parent_id, []):
            out.append(item)
            out.extend(self.in_order(item.id))
        return out

    def steps(self) -> list[AgendaItem]:
        """The items the chair moves through: those with no items inside them."""
        return [item for item in self.in_order() if item.id not in self.children]

    def parents_of(self, item: AgendaItem) -> list[AgendaItem]:
        out = []
        while item.parent_id is not None:
            item = self.by_id[item.parent_id]
            out.append(item)
        return out

    def data(self, item: AgendaItem) -> JsonObject:
        parent = self.by_id.get(item.parent_id) if item.parent_id is not None else None
        return agenda_item_data(
            item,
            parent=parent.public_id if parent is not None else None,
            site_code=self.site_codes.get(item.site_id) if item.site_id is not None else None,
            presenter_delegate=self.presenters.get(item.presenter_delegate_id)
            if item.presenter_delegate_id is not None
            else None,
        )


async def load_agenda(session: AsyncSession, conference_id: int) -> Agenda:
    # populate_existing: rows read again under the conference lock replace what the
    # session may hold from before it.
    items = await session.exec(
        select(AgendaItem)
        .where(col(AgendaItem.conference_id) == conference_id)
        .execution_options(populate_existing=True)
    )
    rows = list(items)
    presenters: dict[int, str] = {}
    wanted = {i.presenter_delegate_id for i in rows if i.presenter_delegate_id is not None}
    if wanted:
        found = await session.exec(
            select(Delegate.id, Delegate.public_id).where(col(Delegate.id).in_(wanted))
        )
        presenters = {d: p for d, p in found if d is not None}
    return Agenda(rows, await site_codes(session, conference_id), presenters)


async def site_codes(session: AsyncSession, conference_id: int) -> dict[int, str]:
    """The conference's site codes by site id, in the sites' order."""
    rows = await session.exec(
        select(Site.id, Site.code)
        .where(col(Site.conference_id) == conference_id)
        .order_by(col(Site.position), col(Site.id))
    )
    return {site_id: code for site_id, code in rows if site_id is not None}


async def agenda_state(
    session: AsyncSession, conference_id: int, *, create: bool = True
) -> AgendaState:
    """The conference's agenda state, made on first use (writers hold the conference lock).

    With create=False (a read) a missing state is the defaults, not stored.
    """
    return await conference_record(session, AgendaState, conference_id, create=create)


def speaking_limit(state: AgendaState, item: AgendaItem) -> int:
    """Seconds a speaker has on item: its own limit, else its kind's, else the default."""
    if item.speaking_limit_seconds > 0:
        return item.speaking_limit_seconds
    return int(state.kind_limits.get(item.kind, 0)) or state.default_speaking_seconds


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: datetime | None) -> str | None: ...


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
