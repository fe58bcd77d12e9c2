"""Use cases for delegates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from pydantic_core import PydanticUndefined
from sqlalchemy import func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select
from typing_extensions import TypedDict

from attendance.events import (
    DELEGATE_CREATED,
    DELEGATE_REMOVED,
    DELEGATE_UPDATED,
    DELEGATES_IMPORTED,
)
from attendance.importing import Table, check_table
from attendance.models import CheckIn, Delegate
from attendance.schemas import (
    DelegateCreate,
    DelegateQuery,
    DelegateUpdate,
    ImportReport,
    delegate_data,
)
from attendance.schemas import delegate_key as delegate_key  # re-exported for conference_file
from conference.actors import STAFF_ROLES, Actor
from conference.audit import diff, record
from conference.dbtypes import utcnow
from conference.errors import Conflict, InvalidInput, NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference, Site
from conference.queries import flushed_or
from conference.services import get_site_by_code, list_sites
from conference.tables import import_gate
from conference.text import fold, is_public_id

# Who may read delegates: the staff, and an operator for their own site.
READ_ROLES = (*sorted(STAFF_ROLES), "site_operator")
DelegateRow = tuple[Delegate, Site]


class DelegateValues(TypedDict):
    """The columns of a delegate row that a DelegateCreate gives."""

    conference_id: int
    site_id: int
    full_name: str
    name_folded: str
    title: str
    unit: str
    category: str
    phone: str
    email: str


def _delegate_values(conference_id: int, site_id: int, data: DelegateCreate) -> DelegateValues:
    """The columns of a delegate row that data gives."""
    return {
        "conference_id": conference_id,
        "site_id": site_id,
        "full_name": data.name,
        "name_folded": fold(data.name),
        "title": data.title,
        "unit": data.unit,
        "category": data.category,
        "phone": data.phone,
        "email": data.email,
    }


def new_delegate(conference_id: int, site_id: int, data: DelegateCreate) -> Delegate:
    """The row for data (no checks, no audit, no event: the callers do those)."""
    return Delegate(**_delegate_values(conference_id, site_id, data))


async def require_site(session: AsyncSession, conference_id: int, code: str) -> Site:
    """The site with this code, or InvalidInput naming the field `site`."""
    site = await get_site_by_code(session, conference_id, code)
    if site is None:
        raise InvalidInput(f"no site with the code {code!r} in this conference", field="site")
    return site


async def _check_unique(
    session: AsyncSession, conference_id: int, site: Site, name: str, delegate_id: int | None
) -> None:
    query = select(Delegate.id).where(
        col(Delegate.conference_id) == conference_id,
        col(Delegate.site_id) == site.id,
        col(Delegate.name_folded) == fold(name),
    )
    if delegate_id is not None:
        query = query.where(col(Delegate.id) != delegate_id)
    if (await session.exec(query)).first() is not None:
        raise Conflict(f"{name} is already a delegate at {site.code}", field="name")


async def create_delegate(
    session: AsyncSession, conference: Conference, data: DelegateCreate, *, actor: Actor
) -> Delegate:
    """Add a delegate at one site; the same name twice at one site is refused."""
    actor.require("organizer")
    assert conference.id is not None
    site = await require_site(session, conference.id, data.site)
    assert site.id is not None
    # Racing creators of one name check one after the other (see lock_conference).
    await lock_conference(session, conference.id)
    await _check_unique(session, conference.id, site, data.name, None)
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
    await append_event(session, conference.id, DELEGATE_CREATED, delegate_data(delegate, site.code))
    return delegate


def _column_defaults() -> tuple[dict[str, object], dict[str, Callable[[], object]]]:
    """Delegate's constant defaults, and the factories to call once per row."""
    fields = {name: f for name, f in Delegate.model_fields.items() if name != "id"}
    factories = {name: f.default_factory for name, f in fields.items() if f.default_factory}
    constants = {
        name: f.default
        for name, f in fields.items()
        if f.default_factory is None and f.default is not PydanticUndefined
    }
    return constants, factories  # type: ignore[return-value]


async def insert_delegates(
    session: AsyncSession,
    conference_id: int,
    site_ids: Mapping[str, int],
    delegates: Sequence[DelegateCreate],
) -> None:
    """Many checked delegates at once, with no audit or event per row (an import announces them)."""
    if not delegates:
        return
    # Plain rows in one statement: building ORM objects costs ten times more (5 s for
    # 50,000 delegates), and the ORM would insert row by row on SQLite to read the ids back.
    constants, factories = _column_defaults()
    rows = []
    for d in delegates:
        row = {**constants, **{name: make() for name, make in factories.items()}}
        row.update(_delegate_values(conference_id, site_ids[d.site], d))
        rows.append(row)
    await session.exec(insert(Delegate), params=rows)


# --- reading -------------------------------------------------------------------------------


def _visible(conference_id: int, actor: Actor) -> Select[Delegate, Site]:
    actor.require(*READ_ROLES)
    query = (
        select(Delegate, Site)
        .join(Site, col(Site.id) == col(Delegate.site_id))
        .where(col(Delegate.conference_id) == conference_id)
    )
    if not actor.sees_all_sites:
        query = query.where(col(Delegate.site_id) == actor.site_id)
    return query


async def list_delegates(
    session: AsyncSession, conference: Conference, query: DelegateQuery, *, actor: Actor
) -> tuple[list[DelegateRow], int]:
    """One page of the delegates the actor may see, by site then name, and how many in all.

    Every word of q must start a word of the name, case and diacritics aside.
    """
    assert conference.id is not None
    select_rows = _visible(conference.id, actor)
    if query.site is not None:
        site = await get_site_by_code(session, conference.id, query.site)
        # An operator asking for another site learns nothing, not even that it exists.
        if site is None or not (actor.sees_all_sites or site.id == actor.site_id):
            raise NotFound(f"no site {query.site} in this conference", field="site")
        select_rows = select_rows.where(col(Delegate.site_id) == site.id)
    if query.category is not None:
        select_rows = select_rows.where(col(Delegate.category) == query.category)
    name = col(Delegate.name_folded)
    for word in fold(query.q).split():
        # A word of the query starts a word of the name: `van a` finds Văn Anh, not Hoàng.
        select_rows = select_rows.where(
            name.startswith(word, autoescape=True) | name.contains(" " + word, autoescape=True)
        )
    total = (await session.exec(select(func.count()).select_from(select_rows.subquery()))).one()
    page = select_rows.order_by(
        col(Site.position), col(Site.id), col(Delegate.name_folded), col(Delegate.id)
    )
    rows = await session.exec(page.limit(query.limit).offset(query.offset))
    return [(delegate, site) for delegate, site in rows], total


async def get_delegate(
    session: AsyncSession, conference: Conference, public_id: str, *, actor: Actor
) -> DelegateRow:
    """One delegate the actor may see, with their site; else NotFound."""
    assert conference.id is not None
    query = _visible(conference.id, actor)
    if not is_public_id(public_id):
        raise NotFound("no such delegate in this conference", field="delegate")
    found = (await session.exec(query.where(col(Delegate.public_id) == public_id))).first()
    if found is None:
        raise NotFound("no such delegate in this conference", field="delegate")
    delegate, site = found
    return delegate, site


# --- changing ------------------------------------------------------------------------------


def _fields(delegate: Delegate, site: Site) -> dict[str, str]:
    return {
        "name": delegate.full_name,
        "title": delegate.title,
        "unit": delegate.unit,
        "site": site.code,
        "category": delegate.category,
        "phone": delegate.phone,
        "email": delegate.email,
    }


async def update_delegate(
    session: AsyncSession,
    conference: Conference,
    found: DelegateRow,
    data: DelegateUpdate,
    *,
    actor: Actor,
) -> DelegateRow:
    """Change a delegate (only the fields given); the same name twice at one site is refused."""
    actor.require("organizer")
    delegate, site = found
    assert conference.id is not None and delegate.conference_id == conference.id
    changed = diff(_fields(delegate, site), data.given())
    if not changed:
        return delegate, site
    await lock_conference(session, conference.id)
    if "site" in changed:
        site = await require_site(session, conference.id, changed["site"][1])
    if "site" in changed or "name" in changed:
        name = data.name if data.name is not None else delegate.full_name
        await _check_unique(session, conference.id, site, name, delegate.id)
    for key, (_, value) in changed.items():
        if key == "name":
            delegate.full_name = value
            delegate.name_folded = fold(value)
        elif key == "site":
            assert site.id is not None
            delegate.site_id = site.id
        else:
            setattr(delegate, key, value)
    delegate.updated_at = utcnow()
    session.add(delegate)
    await session.flush()
    await record(session, actor, "delegate.update", "delegate", delegate.public_id, changed)
    data_out = delegate_data(delegate, site.code)
    if "site" in changed:
        # The site they left hears of it too (its operator's list drops them).
        data_out["from_site"] = changed["site"][0]
    await append_event(session, conference.id, DELEGATE_UPDATED, data_out)
    return delegate, site


async def delete_delegate(
    session: AsyncSession, conference: Conference, found: DelegateRow, *, actor: Actor
) -> None:
    """Remove a delegate who has never been checked in (the ledger keeps who came)."""
    actor.require("organizer")
    delegate, site = found
    assert conference.id is not None and delegate.conference_id == conference.id
    refused = Conflict(
        f"{delegate.full_name} has check-ins on record and cannot be removed", field="delegate"
    )
    checked = await session.exec(
        select(CheckIn.id).where(col(CheckIn.delegate_id) == delegate.id).limit(1)
    )
    if checked.first() is not None:
        raise refused
    await record(
        session,
        actor,
        "delegate.delete",
        "delegate",
        delegate.public_id,
        delegate_data(delegate, site.code),
    )
    # A check-in (or another record of this person) may have arrived in the meantime.
    async with flushed_or(session, refused):
        await session.delete(delegate)
    await append_event(
        session, conference.id, DELEGATE_REMOVED, {"id": delegate.public_id, "site": site.code}
    )


# --- importing -----------------------------------------------------------------------------


async def import_delegates(
    session: AsyncSession,
    conference: Conference,
    table: Table,
    *,
    actor: Actor,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportReport:
    """Check a read file's rows and, unless dry_run, insert the valid ones in one go.

    A file with a bad row imports nothing (InvalidInput with the report in details)
    unless skip_invalid.
    """
    actor.require("organizer")
    assert conference.id is not None
    if not dry_run:
        await lock_conference(session, conference.id)
    sites = await list_sites(session, conference, actor=actor)
    existing = await session.exec(
        select(Delegate.full_name, Delegate.name_folded, Delegate.email, Site.code)
        .join(Site, col(Site.id) == col(Delegate.site_id))
        .where(col(Delegate.conference_id) == conference.id)
    )
    people: set[tuple[str, str]] = set()
    emails: dict[str, str] = {}
    for full_name, name_folded, email, code in existing:
        people.add((code.upper(), name_folded))
        if email:
            emails.setdefault(email.casefold(), f"{full_name} ({code})")
    checked = check_table(table, [(s.code, s.name) for s in sites], people, emails)
    report, write = import_gate(checked.report, dry_run=dry_run, skip_invalid=skip_invalid)
    if not write:
        return report
    count = len(checked.delegates)
    if not count:
        return report
    site_ids = {s.code: s.id for s in sites if s.id is not None}
    await insert_delegates(session, conference.id, site_ids, checked.delegates)
    per_site = Counter(d.site for d in checked.delegates)
    codes = [s.code for s in sites if s.code in per_site]
    await record(
        session,
        actor,
        "delegate.import",
        "delegate",
        "",
        {
            "format": report.format,
            "rows": report.rows,
            "imported": count,
            "skipped": report.invalid,
            "sites": {code: per_site[code] for code in codes},
        },
    )
    await append_event(session, conference.id, DELEGATES_IMPORTED, {"count": count, "sites": codes})
    return report.model_copy(update={"imported": count})
