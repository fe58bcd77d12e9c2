"""The live state of a conference as one projection of the database."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from conference.actors import Actor
from conference.dbtypes import utcnow
from conference.models import Conference, Site
from conference.rawjson import JsonObject
from conference.schemas import conference_data, site_data


class ConferenceSnapshot(TypedDict):
    """conference and sites: ConferenceOut's and SiteOut's JSON, as of seq in epoch."""

    seq: int
    epoch: str
    server_time: str
    conference: JsonObject
    sites: list[JsonObject]


async def conference_snapshot(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> ConferenceSnapshot:
    """Conference and sites with the seq and epoch they reflect, and the server clock."""
    assert conference.id is not None
    await session.refresh(conference)
    query = select(Site).where(Site.conference_id == conference.id)
    if not actor.sees_all_sites:
        query = query.where(Site.id == actor.site_id)
    sites = await session.exec(query.order_by(col(Site.position), col(Site.id)))
    return {
        "seq": conference.last_seq,
        "epoch": conference.epoch,
        "server_time": utcnow().isoformat(),
        "conference": conference_data(conference),
        "sites": [site_data(site, contacts=actor.sees_contacts) for site in sites],
    }
