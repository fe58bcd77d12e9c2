"""Conferences, their sites, and the live snapshot over HTTP."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from conference import services
from conference.actors import Actor
from conference.schemas import (
    ConferenceCreate,
    ConferenceOut,
    ConferenceUpdate,
    SiteCreate,
    SiteOut,
    SiteUpdate,
)
from server.auth import conference_actor, principal, require_login
from server.http import json_response, parse_body, transaction
from server.keys import db_key
from server.routes import ANY_ROLE, ORGANIZER, SITE, ApiRoutes, Call
from server.snapshot import live_snapshot

routes = ApiRoutes("conferences")

CONF = "/api/v1/conferences/{cid}"


class ConferenceList(BaseModel):
    items: list[ConferenceOut]


class SiteList(BaseModel):
    items: list[SiteOut]


@routes.get("/api/v1/conferences", role="anyone", response=ConferenceList)
async def list_conferences(request: web.Request) -> web.StreamResponse:
    """Conferences the caller may see."""
    async with transaction(request) as session:
        found = await services.list_conferences(session, Actor(principal(request)))
        return json_response(ConferenceList(items=[ConferenceOut.of(c) for c in found]))


@routes.post(
    "/api/v1/conferences",
    role="account allowed to create conferences",
    body=ConferenceCreate,
    response=ConferenceOut,
    status=201,
)
async def create_conference(request: web.Request) -> web.StreamResponse:
    """Create a conference (the caller becomes organizer)."""
    who = require_login(request)
    data = await parse_body(request, ConferenceCreate)
    async with transaction(request) as session:
        conference = await services.create_conference(session, data, actor=Actor(who))
        return json_response(ConferenceOut.of(conference), status=201)


@routes.conference("GET", CONF, ANY_ROLE, response=ConferenceOut)
async def read_conference(call: Call[None]) -> object:
    """One conference."""
    return ConferenceOut.of(call.conference)


@routes.patch(CONF, roles=ORGANIZER, body=ConferenceUpdate, response=ConferenceOut)
async def update_conference(request: web.Request) -> web.StreamResponse:
    """Change a conference's details."""
    data = await parse_body(request, ConferenceUpdate)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        conference = await services.update_conference(session, conference, data, actor=actor)
        return json_response(ConferenceOut.of(conference))


@routes.conference("GET", CONF + "/sites", ANY_ROLE, response=SiteList)
async def list_sites(call: Call[None]) -> object:
    """Connection points (an operator sees their own)."""
    sites = await services.list_sites(call.session, call.conference, actor=call.actor)
    return SiteList(items=[SiteOut.of(s, contacts=call.actor.sees_contacts) for s in sites])


@routes.conference(
    "POST", CONF + "/sites", ORGANIZER, body=SiteCreate, response=SiteOut, status=201
)
async def create_site(call: Call[SiteCreate]) -> object:
    """Add a connection point."""
    site = await services.create_site(call.session, call.conference, call.body, actor=call.actor)
    return SiteOut.of(site)


@routes.conference("GET", CONF + "/sites/{sid}", ANY_ROLE, response=SiteOut)
async def read_site(call: Call[None]) -> object:
    """One connection point."""
    site = await services.get_site(
        call.session, call.conference, call.path("sid"), actor=call.actor
    )
    return SiteOut.of(site, contacts=call.actor.sees_contacts)


@routes.conference(
    "PATCH",
    CONF + "/sites/{sid}",
    SITE,
    role="organizer (a site operator: 404 for another site's, else 403)",
    body=SiteUpdate,
    response=SiteOut,
)
async def update_site(call: Call[SiteUpdate]) -> object:
    """Change a connection point."""
    site = await services.get_site(
        call.session, call.conference, call.path("sid"), actor=call.actor
    )
    site = await services.update_site(
        call.session, call.conference, site, call.body, actor=call.actor
    )
    return SiteOut.of(site)


@routes.conference(
    "DELETE",
    CONF + "/sites/{sid}",
    SITE,
    role="organizer (a site operator: 404 for another site's, else 403)",
    status=204,
)
async def delete_site(call: Call[None]) -> None:
    """Remove a connection point."""
    site = await services.get_site(
        call.session, call.conference, call.path("sid"), actor=call.actor
    )
    await services.delete_site(call.session, call.conference, site, actor=call.actor)


@routes.get(CONF + "/live", roles=ANY_ROLE)
async def read_live_snapshot(request: web.Request) -> web.StreamResponse:
    """The live snapshot with its seq, epoch and server time."""
    # One consistent read: the sites must be exactly the state at the snapshot's seq.
    async with request.app[db_key].consistent_read() as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        return json_response(await live_snapshot(session, conference, actor=actor))
