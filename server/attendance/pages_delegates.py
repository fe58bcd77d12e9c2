"""The delegates page: search and page through the list; organizers add, change, remove,
reissue links, export them and import a CSV or XLSX list (all through the JSON API)."""

from __future__ import annotations

from aiohttp import web

from conference import services
from server.pages_render import conference_page, render
from server.routes import Call

routes = web.RouteTableDef()

READ_ROLES = ("organizer", "chair", "secretary", "site_operator")
CATEGORIES = ("official", "alternate", "guest", "staff")
PAGE_SIZE = 50


@routes.get("/c/{cid}/delegates")
@conference_page(READ_ROLES)
async def delegates_page(call: Call[None]) -> web.StreamResponse:
    """Staff see every site; a site operator their own (the API scopes the list)."""
    sites = await services.list_sites(call.session, call.conference, actor=call.actor)
    organizer = call.actor.has("organizer")
    site_rows = [{"code": site.code, "name": site.name} for site in sites]
    return render(
        call.request,
        "delegates.html",
        conference=call.conference,
        organizer=organizer,
        sites=site_rows,
        categories=CATEGORIES,
        page_data={
            "conference": {"id": call.conference.public_id, "title": call.conference.title},
            "organizer": organizer,
            "sites": site_rows,
            "pageSize": PAGE_SIZE,
        },
    )
