"""The delegates page: search and page through the list; organizers add, change, remove,
reissue links, export them and import a CSV or XLSX list (all through the JSON API)."""

from __future__ import annotations

from aiohttp import web

from conference import services
from server.pages_render import conference_page, render_page
from server.routes import HALL, Call

routes = web.RouteTableDef()

CATEGORIES = ("official", "alternate", "guest", "staff")
PAGE_SIZE = 50


@routes.get("/c/{cid}/delegates")
@conference_page(HALL)
async def delegates_page(call: Call[None]) -> web.StreamResponse:
    """Staff see every site; a site operator their own (the API scopes the list)."""
    sites = await services.list_sites(call.session, call.conference, actor=call.actor)
    organizer = call.actor.has("organizer")
    site_rows = [{"code": site.code, "name": site.name} for site in sites]
    return render_page(
        call,
        "delegates.html",
        organizer=organizer,
        sites=site_rows,
        categories=CATEGORIES,
        page_data={
            "organizer": organizer,
            "sites": site_rows,
            "pageSize": PAGE_SIZE,
        },
    )
