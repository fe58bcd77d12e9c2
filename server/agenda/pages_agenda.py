"""The organizer's agenda page: the items in reading order, nested in sessions; adding,
editing, removing and reordering them, and the speaking-time settings. The page is a
shell: its state comes from the live stream (agenda.js) and every change goes through the
JSON API (server/agenda/api_agenda.py)."""

from __future__ import annotations

from aiohttp import web

from agenda.models import ITEM_KINDS
from conference import services
from server.pages_render import conference_page, render_page
from server.routes import ORGANIZER, Call

routes = web.RouteTableDef()


@routes.get("/c/{cid}/agenda")
@conference_page(ORGANIZER)
async def agenda_page(call: Call[None]) -> web.StreamResponse:
    sites = await services.list_sites(call.session, call.conference, actor=call.actor)
    site_rows = [{"code": site.code, "name": site.name} for site in sites]
    return render_page(
        call,
        "agenda.html",
        sites=site_rows,
        kinds=ITEM_KINDS,
        page_data={
            "conference": {
                "id": call.conference.public_id,
                "title": call.conference.title,
                "starts_on": call.conference.starts_on.isoformat(),
                "ends_on": call.conference.ends_on.isoformat(),
            },
            "timezone": call.conference.timezone,
            "sites": site_rows,
            "kinds": list(ITEM_KINDS),
        },
    )
