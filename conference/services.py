"""Use cases for conferences and their connection points (sites)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from conference.accounts import grant_role
from conference.actors import Actor
from conference.audit import diff, record
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from conference.events import (
    CONFERENCE_CREATED,
    CONFERENCE_UPDATED,
    SITE_CREATED,
    SITE_DELETED,
    SITE_UPDATED,
)
from conference.live import append_event, lock_conference
from conference.models import Account, Conference, Membership, Site
from conference.queries import flushed_or
from conference.schemas import (
    ConferenceCreate,
    ConferenceUpdate,
    SiteCreate,
    SiteUpdate,
    conference_data,
    site_data,
)
from conference.text import is_public_id

SITE_FIELDS = (
    "code",
    "name",
    "region",
    "kind",
    "expected_attendance",
    "contact_name",
    "contact_phone",
    "contact_email",
    "position",
)
CONFERENCE_FIELDS = (
    "title",
    "starts_on",
    "ends_on",
    "timezone",
    "venue",
    "description",
    "organizing_body",
    "public",
)


async def get_conference(
    session: AsyncSession, public_id: str, *, for_update: bool = False
) -> Conference:
    """The conference with this public id, or NotFound."""
    if not is_public_id(public_id):
        raise NotFound("no such conference", field="conference")
    query = select(Conference).where(Conference.public_id == public_id)
    if for_update:
        query = query.with_for_update()
    conference = (await session.exec(query)).one_or_none()
    if conference is None:
        raise NotFound("no such conference", field="conference")
    return conference


async def list_conferences(session: AsyncSession, actor: Actor) -> list[Conference]:
    """The conferences this principal may see, newest first."""
    principal = actor.principal
    query = select(Conference).order_by(col(Conference.starts_on).desc(), col(Conference.id).desc())
    if principal.is_admin:
        pass
    elif principal.kind == "account":
        member_of = select(Membership.conference_id).where(
            col(Membership.account_id) == principal.account_id
        )
        query = query.where(col(Conference.id).in_(member_of) | col(Conference.public))
    elif principal.kind == "token":
        query = query.where(Conference.id == principal.token_conference_id)
    else:
        query = query.where(Conference.public)
    return list(await session.exec(query))


async def create_conference(
    session: AsyncSession, data: ConferenceCreate, *, actor: Actor
) -> Conference:
    """A new conference; its creator becomes its organizer."""
    principal = actor.principal
    if not (principal.is_admin or principal.can_create_conferences):
        raise Forbidden("this account may not create conferences")
    conference = Conference(**data.model_dump())
    session.add(conference)
    await session.flush()
    assert conference.id is not None
    actor = Actor(principal, conference.id, frozenset({"organizer"}))
    if principal.kind == "account" and principal.account_id is not None:
        account = await session.get(Account, principal.account_id)
        assert account is not None
        await grant_role(session, account, conference, "organizer", actor=actor)
    await record(
        session,
        actor,
        "conference.create",
        "conference",
        conference.public_id,
        data.model_dump(mode="json"),
    )
    await append_event(session, conference.id, CONFERENCE_CREATED, conference_data(conference))
    return conference


async def _write_changes(
    session: AsyncSession, row: Conference | Site, changes: Mapping[str, Any]
) -> None:
    """Set the changed fields on row, mark it updated and flush it."""
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()


async def update_conference(
    session: AsyncSession, conference: Conference, data: ConferenceUpdate, *, actor: Actor
) -> Conference:
    """Change a conference's details (only the fields given)."""
    actor.require("organizer")
    assert conference.id is not None
    changes = data.given()
    before = {key: getattr(conference, key) for key in CONFERENCE_FIELDS}
    after = {**before, **changes}
    if after["ends_on"] < after["starts_on"]:
        raise InvalidInput("ends_on is before starts_on", field="ends_on")
    changed = diff(before, changes)
    if not changed:
        return conference
    await _write_changes(session, conference, changes)
    await record(session, actor, "conference.update", "conference", conference.public_id, changed)
    await append_event(session, conference.id, CONFERENCE_UPDATED, conference_data(conference))
    return conference


# --- sites -----------------------------------------------------------------------


def _visible_sites(conference_id: int, actor: Actor) -> SelectOfScalar[Site]:
    query = select(Site).where(Site.conference_id == conference_id)
    if not actor.sees_all_sites:
        query = query.where(Site.id == actor.site_id)
    return query


async def list_sites(session: AsyncSession, conference: Conference, *, actor: Actor) -> list[Site]:
    """Sites in display order; a site operator sees only their own."""
    assert conference.id is not None
    query = _visible_sites(conference.id, actor).order_by(col(Site.position), col(Site.id))
    return list(await session.exec(query))


async def get_site(
    session: AsyncSession, conference: Conference, public_id: str, *, actor: Actor
) -> Site:
    """One site of this conference the actor may see, else NotFound."""
    assert conference.id is not None
    if not is_public_id(public_id):
        raise NotFound("no such site in this conference", field="site")
    query = _visible_sites(conference.id, actor).where(Site.public_id == public_id)
    site = (await session.exec(query)).one_or_none()
    if site is None:
        raise NotFound("no such site in this conference", field="site")
    return site


async def get_site_by_code(session: AsyncSession, conference_id: int, code: str) -> Site | None:
    result = await session.exec(
        select(Site).where(Site.conference_id == conference_id, col(Site.code) == code.upper())
    )
    return result.one_or_none()


async def named_site(session: AsyncSession, conference_id: int, code: str | None) -> Site | None:
    """The site with this code (None when none is named); InvalidInput on `site` if none has it."""
    if code is None:
        return None
    site = await get_site_by_code(session, conference_id, code)
    if site is None:
        raise InvalidInput(f"no site with the code {code!r}", field="site")
    return site


async def _check_site_rules(
    session: AsyncSession, conference_id: int, values: Mapping[str, Any], site_id: int | None
) -> None:
    # Lock the conference row first (as append_event will): racing writers of its sites
    # then check one after the other instead of both passing and one hitting a 500.
    await lock_conference(session, conference_id)
    other = await get_site_by_code(session, conference_id, values["code"])
    if other is not None and other.id != site_id:
        raise Conflict(f"the site code {values['code']!r} is already used", field="code")
    if values["kind"] == "main":
        query = select(Site).where(
            Site.conference_id == conference_id,
            col(Site.kind) == "main",
        )
        main = (await session.exec(query)).one_or_none()
        if main is not None and main.id != site_id:
            raise Conflict(f"the conference already has a main site ({main.code})", field="kind")


async def create_site(
    session: AsyncSession, conference: Conference, data: SiteCreate, *, actor: Actor
) -> Site:
    """Add a connection point."""
    actor.require("organizer")
    assert conference.id is not None
    values = data.model_dump()
    await _check_site_rules(session, conference.id, values, None)
    if values["position"] is None:
        highest = await session.exec(
            select(func.max(Site.position)).where(Site.conference_id == conference.id)
        )
        values["position"] = (highest.one() or 0) + 1
    site = Site(conference_id=conference.id, **values)
    session.add(site)
    await session.flush()
    await record(
        session, actor, "site.create", "site", site.public_id, data.model_dump(mode="json")
    )
    await append_event(session, conference.id, SITE_CREATED, site_data(site))
    return site


async def update_site(
    session: AsyncSession, conference: Conference, site: Site, data: SiteUpdate, *, actor: Actor
) -> Site:
    """Change a connection point (only the fields given)."""
    actor.require("organizer")
    assert conference.id is not None and site.conference_id == conference.id
    changes = data.given()
    before = {key: getattr(site, key) for key in SITE_FIELDS}
    await _check_site_rules(session, conference.id, {**before, **changes}, site.id)
    changed = diff(before, changes)
    if not changed:
        return site
    await _write_changes(session, site, changes)
    await record(session, actor, "site.update", "site", site.public_id, changed)
    await append_event(session, conference.id, SITE_UPDATED, site_data(site))
    return site


async def delete_site(
    session: AsyncSession, conference: Conference, site: Site, *, actor: Actor
) -> None:
    """Remove a connection point (and what hangs on it)."""
    actor.require("organizer")
    assert conference.id is not None and site.conference_id == conference.id
    await record(session, actor, "site.delete", "site", site.public_id, site_data(site))
    # Delegates (and what else must not vanish) may still point at this site.
    still_used = Conflict(
        f"site {site.code} still has delegates: move or remove them first", field="site"
    )
    async with flushed_or(session, still_used):
        await session.delete(site)
    await append_event(
        session, conference.id, SITE_DELETED, {"id": site.public_id, "code": site.code}
    )
