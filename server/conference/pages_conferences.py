"""The organizer's pages: the list of conferences and one conference with its sites."""

from __future__ import annotations

from aiohttp import web

from conference import services
from conference.actors import Actor
from conference.errors import NotFound
from conference.schemas import ConferenceOut, SiteOut
from server.auth import conference_actor, principal
from server.http import transaction
from server.pages_render import login_redirect, render

routes = web.RouteTableDef()

# Offered in the time zone field; any IANA name is accepted.
TIMEZONES = (
    "Asia/Ho_Chi_Minh",
    "Asia/Bangkok",
    "Asia/Vientiane",
    "Asia/Phnom_Penh",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Europe/Paris",
    "Europe/Moscow",
    "America/New_York",
    "UTC",
)


@routes.get("/conferences")
async def conferences_page(request: web.Request) -> web.StreamResponse:
    who = principal(request)
    if not who.authenticated:
        return login_redirect(request)
    async with transaction(request) as session:
        found = await services.list_conferences(session, Actor(who))
        conferences = [ConferenceOut.of(c) for c in found]
    return render(
        request,
        "conferences.html",
        conferences=conferences,
        can_create=who.is_admin or who.can_create_conferences,
        timezones=TIMEZONES,
    )


@routes.get("/conferences/{cid}")
async def conference_page(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        try:
            found, actor = await conference_actor(request, session, request.match_info["cid"])
        except NotFound:
            # Anonymous callers log in first; that reveals nothing about which ids exist.
            if not principal(request).authenticated:
                return login_redirect(request)
            raise
        conference = ConferenceOut.of(found)
        sites = [
            SiteOut.of(s, contacts=actor.sees_contacts)
            for s in await services.list_sites(session, found, actor=actor)
        ]
    can_edit = actor.has("organizer")
    return render(
        request,
        "conference.html",
        conference=conference,
        sites=sites,
        role=actor.role,
        can_edit=can_edit,
        timezones=TIMEZONES,
        page_data={
            "conference": conference.model_dump(mode="json"),
            "sites": [s.model_dump(mode="json") for s in sites],
            "canEdit": can_edit,
        },
    )
