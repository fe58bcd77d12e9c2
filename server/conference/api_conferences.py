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
from server.http import ANY_ROLE, ApiRoutes, json_response, parse_body, transaction
from server.keys import db_key
from server.snapshot import live_snapshot

routes = ApiRoutes("conferences")

CONF = "/api/v1/conferences/{cid}"


class ConferenceList(BaseModel):
    items: list[ConferenceOut]


class SiteList(BaseModel):
    items: list[SiteOut]


@routes.get(
    "/api/v1/conferences",
    summary="Conferences the caller may see",
    role="anyone",
    response=ConferenceList,
)
async def list_conferences(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        found = await services.list_conferences(session, Actor(principal(request)))
        return json_response(ConferenceList(items=[ConferenceOut.of(c) for c in found]))


@routes.post(
    "/api/v1/conferences",
    summary="Create a conference (the caller becomes organizer)",
    role="account allowed to create conferences",
    body=ConferenceCreate,
    response=ConferenceOut,
    status=201,
)
async def create_conference(request: web.Request) -> web.StreamResponse:
    who = require_login(request)
    data = await parse_body(request, ConferenceCreate)
    async with transaction(request) as session:
        conference = await services.create_conference(session, data, actor=Actor(who))
        return json_response(ConferenceOut.of(conference), status=201)


@routes.get(
    CONF, summary="One conference", role="any role in it", response=ConferenceOut, roles=ANY_ROLE
)
async def read_conference(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        return json_response(ConferenceOut.of(conference))


@routes.patch(
    CONF,
    summary="Change a conference's details",
    role="organizer",
    body=ConferenceUpdate,
    response=ConferenceOut,
    roles=("organizer",),
)
async def update_conference(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, ConferenceUpdate)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        conference = await services.update_conference(session, conference, data, actor=actor)
        return json_response(ConferenceOut.of(conference))


@routes.get(
    CONF + "/sites",
    summary="Connection points (an operator sees their own)",
    role="any role in it",
    response=SiteList,
    roles=ANY_ROLE,
)
async def list_sites(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        sites = await services.list_sites(session, conference, actor=actor)
        return json_response(
            SiteList(items=[SiteOut.of(s, contacts=actor.sees_contacts) for s in sites])
        )


@routes.post(
    CONF + "/sites",
    summary="Add a connection point",
    role="organizer",
    body=SiteCreate,
    response=SiteOut,
    status=201,
    roles=("organizer",),
)
async def create_site(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, SiteCreate)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        site = await services.create_site(session, conference, data, actor=actor)
        return json_response(SiteOut.of(site), status=201)


@routes.get(
    CONF + "/sites/{sid}",
    summary="One connection point",
    role="any role in it",
    response=SiteOut,
    roles=ANY_ROLE,
)
async def read_site(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        site = await services.get_site(session, conference, request.match_info["sid"], actor=actor)
        return json_response(SiteOut.of(site, contacts=actor.sees_contacts))


@routes.patch(
    CONF + "/sites/{sid}",
    summary="Change a connection point",
    role="organizer (a site operator: 404 for another site's, else 403)",
    body=SiteUpdate,
    response=SiteOut,
    roles=("organizer", "site_operator"),
)
async def update_site(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, SiteUpdate)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        site = await services.get_site(session, conference, request.match_info["sid"], actor=actor)
        site = await services.update_site(session, conference, site, data, actor=actor)
        return json_response(SiteOut.of(site))


@routes.delete(
    CONF + "/sites/{sid}",
    summary="Remove a connection point",
    role="organizer (a site operator: 404 for another site's, else 403)",
    status=204,
    roles=("organizer", "site_operator"),
)
async def delete_site(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        site = await services.get_site(session, conference, request.match_info["sid"], actor=actor)
        await services.delete_site(session, conference, site, actor=actor)
    return web.Response(status=204)


@routes.get(
    CONF + "/live",
    summary="The live snapshot with its seq, epoch and server time",
    role="any role in it",
    roles=ANY_ROLE,
)
async def read_live_snapshot(request: web.Request) -> web.StreamResponse:
    # One consistent read: the sites must be exactly the state at the snapshot's seq.
    async with request.app[db_key].consistent_read() as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        return json_response(await live_snapshot(session, conference, actor=actor))
