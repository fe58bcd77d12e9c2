"""Personal links: each delegate's page at /d/<secret>, and reissuing a lost badge."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance.events import DELEGATE_REISSUED
from attendance.models import Delegate, new_link_secret
from conference.actors import Actor, Principal
from conference.audit import record
from conference.errors import NotFound
from conference.live import append_events
from conference.models import Conference, Site
from conference.text import is_public_id

SECRET_LENGTH = 32


async def delegate_by_link(session: AsyncSession, secret: str) -> tuple[Delegate, Conference, Site]:
    """The delegate whose personal link this is; NotFound for anything else."""
    missing = NotFound("this personal link is not valid (it may have been reissued)")
    if len(secret) != SECRET_LENGTH or not is_public_id(secret):
        raise missing
    row = (
        await session.exec(
            select(Delegate, Conference, Site)
            .join(Conference, col(Conference.id) == col(Delegate.conference_id))
            .join(Site, col(Site.id) == col(Delegate.site_id))
            .where(col(Delegate.link_secret) == secret)
        )
    ).one_or_none()
    if row is None:
        raise missing
    return row


def delegate_actor(delegate: Delegate, site: Site, ip: str = "") -> Actor:
    """The actor a personal link stands for: this delegate, in their conference only."""
    principal = Principal(kind="delegate", name=delegate.full_name, delegate_id=delegate.id, ip=ip)
    return Actor(
        principal,
        delegate.conference_id,
        frozenset({"delegate"}),
        delegate.site_id,
        site.code,
        delegate.id,
    )


async def reissue(
    session: AsyncSession, conference: Conference, delegate: Delegate, *, actor: Actor
) -> Delegate:
    """A new personal link and badge code; the old link and QR stop working at once."""
    actor.require("organizer")
    assert conference.id is not None
    delegate.credential_version += 1
    delegate.link_secret = new_link_secret()
    session.add(delegate)
    await session.flush()
    site = await session.get(Site, delegate.site_id)
    code = site.code if site is not None else ""
    await record(
        session,
        actor,
        "delegate.reissue",
        "delegate",
        delegate.public_id,
        {"credential_version": delegate.credential_version},
    )
    await append_events(
        session,
        conference.id,
        [(DELEGATE_REISSUED, {"id": delegate.public_id, "site": code})],
    )
    return delegate
