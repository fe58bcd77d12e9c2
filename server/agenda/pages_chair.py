"""The chair's control room: the agenda moving, the speaker list with its timer, and every
site's connection, attendance and roll call at a glance. The page is a shell: its state
comes from the live stream (chair.js) and every change goes through the JSON API."""

from __future__ import annotations

from aiohttp import web

from server.http import transaction
from server.pages_render import login_redirect, page_actor, render

routes = web.RouteTableDef()

CHAIR_ROLES = ("chair", "organizer")


@routes.get("/c/{cid}/chair")
async def chair_page(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        found = await page_actor(request, session, CHAIR_ROLES)
        if found is None:
            return login_redirect(request)
        conference, actor = found
    organizer = actor.has("organizer")
    return render(
        request,
        "chair.html",
        conference=conference,
        organizer=organizer,
        page_data={
            "conference": {"id": conference.public_id, "title": conference.title},
            "timezone": conference.timezone,
            "organizer": organizer,
        },
    )
