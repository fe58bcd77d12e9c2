"""The badge printing page: pick a site and a layout, follow the job, download the PDF."""

from __future__ import annotations

from aiohttp import web

from attendance import badges
from conference import services
from server.conference.pages_documents import recent_jobs
from server.pages_render import conference_page, render_page
from server.routes import Call

routes = web.RouteTableDef()


@routes.get("/c/{cid}/badges")
@conference_page(badges.PRINT_ROLES)
async def badges_page(call: Call[None]) -> web.StreamResponse:
    """An organizer prints any site or all; a site operator their own site."""
    sites = await services.list_sites(call.session, call.conference, actor=call.actor)
    counts = await badges.badge_counts(call.session, call.conference)
    recent = await recent_jobs(call, badges.KIND)
    organizer = call.actor.has("organizer")
    site_rows = [
        {"code": site.code, "name": site.name, "count": counts.get(site.id or 0, 0)}
        for site in sites
    ]
    total = sum(counts.get(site.id or 0, 0) for site in sites) if organizer else None
    return render_page(
        call,
        "badges.html",
        organizer=organizer,
        sites=site_rows,
        total=total,
        page_data={
            "sites": site_rows,
            "jobs": recent,
        },
    )
