"""The chair's control room: the agenda moving, the speaker list with its timer, and every
site's connection, attendance and roll call at a glance. The page is a shell: its state
comes from the live stream (chair.js) and every change goes through the JSON API."""

from __future__ import annotations

from aiohttp import web

from server.pages_render import conference_page, render_page
from server.routes import Call

routes = web.RouteTableDef()

CHAIR_ROLES = ("chair", "organizer")


@routes.get("/c/{cid}/chair")
@conference_page(CHAIR_ROLES)
async def chair_page(call: Call[None]) -> web.StreamResponse:
    organizer = call.actor.has("organizer")
    return render_page(
        call,
        "chair.html",
        organizer=organizer,
        page_data={
            "timezone": call.conference.timezone,
            "organizer": organizer,
        },
    )
