"""The organizer's agenda page: the items in reading order, nested in sessions; adding,
editing, removing and reordering them, and the speaking-time settings. The page is a
shell: its state comes from the live stream (agenda.js) and every change goes through the
JSON API (server/agenda/api_agenda.py)."""

from __future__ import annotations

from aiohttp import web

from agenda.models import ITEM_KINDS
from conference import services
from server.http import transaction
from server.pages_render import login_redirect, page_actor, render

routes = web.RouteTableDef()

AGENDA_ROLES = ("organizer",)


@routes.get("/c/{cid}/agenda")
async def agenda_page(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        found = await page_actor(request, session, AGENDA_ROLES)
        if found is None:
            return login_redirect(request)
        conference, actor = found
        sites = await services.list_sites(session, conference, actor=actor)
    site_rows = [{"code": site.code, "name": site.name} for site in sites]
    return render(
        request,
        "agenda.html",
        conference=conference,
        sites=site_rows,
        kinds=ITEM_KINDS,
        page_data={
            "conference": {
                "id": conference.public_id,
                "title": conference.title,
                "starts_on": conference.starts_on.isoformat(),
                "ends_on": conference.ends_on.isoformat(),
            },
            "timezone": conference.timezone,
            "sites": site_rows,
            "kinds": list(ITEM_KINDS),
        },
    )
