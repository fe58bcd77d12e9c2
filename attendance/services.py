"""Use cases for delegates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance.models import Delegate
from attendance.schemas import DelegateCreate, delegate_data
from conference.actors import Actor
from conference.audit import record
from conference.errors import Conflict, InvalidInput
from conference.live import append_event
from conference.models import Conference, Site
from conference.services import get_site_by_code
from conference.text import fold


def delegate_key(site_code: str, name: str) -> tuple[str, str]:
    """Two delegates with the same key are taken to be the same person."""
    return site_code.upper(), fold(name)


def new_delegate(conference_id: int, site_id: int, data: DelegateCreate) -> Delegate:
    """The row for data (no checks, no audit, no event: the callers do those)."""
    return Delegate(
        conference_id=conference_id,
        site_id=site_id,
        full_name=data.name,
        name_folded=fold(data.name),
        title=data.title,
        unit=data.unit,
        category=data.category,
        phone=data.phone,
        email=data.email,
    )


async def require_site(session: AsyncSession, conference_id: int, code: str) -> Site:
    """The site with this code, or InvalidInput naming the field `site`."""
    site = await get_site_by_code(session, conference_id, code)
    if site is None:
        raise InvalidInput(f"no site with the code {code!r} in this conference", field="site")
    return site


async def create_delegate(
    session: AsyncSession, conference: Conference, data: DelegateCreate, *, actor: Actor
) -> Delegate:
    """Add a delegate at one site; the same name twice at one site is refused."""
    actor.require("organizer")
    assert conference.id is not None
    site = await require_site(session, conference.id, data.site)
    assert site.id is not None
    same = await session.exec(
        select(Delegate.id).where(
            col(Delegate.conference_id) == conference.id,
            col(Delegate.site_id) == site.id,
            col(Delegate.name_folded) == fold(data.name),
        )
    )
    if same.first() is not None:
        raise Conflict(f"{data.name} is already a delegate at {site.code}", field="name")
    delegate = new_delegate(conference.id, site.id, data)
    session.add(delegate)
    await session.flush()
    await record(
        session,
        actor,
        "delegate.create",
        "delegate",
        delegate.public_id,
        data.model_dump(mode="json"),
    )
    await append_event(
        session, conference.id, "delegate/created", delegate_data(delegate, site.code)
    )
    return delegate


async def insert_delegates(
    session: AsyncSession,
    conference_id: int,
    site_ids: Mapping[str, int],
    delegates: Sequence[DelegateCreate],
) -> None:
    """Many checked delegates at once, with no audit or event per row (an import announces them)."""
    if not delegates:
        return
    # One multi-row statement: the ORM would insert row by row on SQLite to read the ids back.
    rows = [
        new_delegate(conference_id, site_ids[d.site], d).model_dump(exclude={"id"})
        for d in delegates
    ]
    await session.exec(insert(Delegate), params=rows)
