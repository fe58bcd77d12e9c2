"""The delegates page: search and page through the list; organizers add, change, remove,
reissue links, export them and import a CSV or XLSX list (all through the JSON API)."""

from __future__ import annotations

from aiohttp import web

from conference import services
from server.http import transaction
from server.pages_render import login_redirect, page_actor, render

routes = web.RouteTableDef()

READ_ROLES = ("organizer", "chair", "secretary", "site_operator")
CATEGORIES = ("official", "alternate", "guest", "staff")
PAGE_SIZE = 50


@routes.get("/c/{cid}/delegates")
async def delegates_page(request: web.Request) -> web.StreamResponse:
    """Staff see every site; a site operator their own (the API scopes the list)."""
    async with transaction(request) as session:
        found = await page_actor(request, session, READ_ROLES)
        if found is None:
            return login_redirect(request)
        conference, actor = found
        sites = await services.list_sites(session, conference, actor=actor)
    organizer = actor.has("organizer")
    site_rows = [{"code": site.code, "name": site.name} for site in sites]
    return render(
        request,
        "delegates.html",
        conference=conference,
        organizer=organizer,
        sites=site_rows,
        categories=CATEGORIES,
        page_data={
            "conference": {"id": conference.public_id, "title": conference.title},
            "organizer": organizer,
            "sites": site_rows,
            "pageSize": PAGE_SIZE,
        },
    )
