"""Personal links cannot be tried in bulk: a lookup of a link that does not exist
counts against the caller's address (PLENARY_REFUSED_SCAN_RATE a minute). The count is
reserved before the lookup, so guesses sent together cannot overshoot the limit."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.models import AgendaItem
from agenda.services import list_agenda
from attendance import links
from attendance.models import Delegate
from conference.models import Conference, Site
from server.keys import db_key, refused_limiter_key
from server.proxies import client_ip
from server.ratelimit import failures_counted


def guesses_key(request: web.Request) -> str:
    return f"link-guess:{client_ip(request)}"


async def delegate_by_link(
    request: web.Request, session: AsyncSession, secret: str
) -> tuple[Delegate, Conference, Site]:
    """The link's delegate, conference and home site; NotFound (counted) or RateLimited."""
    return await counted_lookup(request.app, client_ip(request), session, secret)


async def counted_lookup(
    app: web.Application, ip: str, session: AsyncSession, secret: str
) -> tuple[Delegate, Conference, Site]:
    """delegate_by_link for a caller known by its address (a WebSocket's auth message)."""
    with failures_counted(
        app[refused_limiter_key],
        {f"link-guess:{ip}": 1},
        "too many unknown personal links from this address",
    ):
        return await links.delegate_by_link(session, secret)


@dataclass(frozen=True)
class LinkPage:
    """What a delegate's personal page shows: who, where they belong and checked in, the
    agenda."""

    delegate: Delegate
    conference: Conference
    home: Site
    checked_in_at: Site | None
    items: list[AgendaItem]


async def link_page(request: web.Request) -> LinkPage:
    """The personal page of the link in the path (``{secret}``), read in one session."""
    async with request.app[db_key].read() as session:
        delegate, conference, home = await delegate_by_link(
            request, session, request.match_info["secret"]
        )
        assert conference.id is not None
        where = (
            await session.get(Site, delegate.checkin_site_id)
            if delegate.checkin_site_id is not None
            else None
        )
        items = list(await list_agenda(session, conference.id))
    return LinkPage(delegate, conference, home, where, items)
