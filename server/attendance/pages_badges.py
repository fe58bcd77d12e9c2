"""The badge printing page: pick a site and a layout, follow the job, download the PDF."""

from __future__ import annotations

from aiohttp import web

from attendance import badges
from conference import jobs, services
from server.conference.api_documents import DocumentOut
from server.http import transaction
from server.pages_render import login_redirect, page_actor, render

routes = web.RouteTableDef()

RECENT_JOBS = 20


@routes.get("/c/{cid}/badges")
async def badges_page(request: web.Request) -> web.StreamResponse:
    """An organizer prints any site or all; a site operator their own site."""
    async with transaction(request) as session:
        found = await page_actor(request, session, badges.PRINT_ROLES)
        if found is None:
            return login_redirect(request)
        conference, actor = found
        sites = await services.list_sites(session, conference, actor=actor)
        counts = await badges.badge_counts(session, conference)
        recent = [
            DocumentOut.of(job, conference.public_id).model_dump(mode="json")
            for job in await jobs.list_jobs(session, conference, actor=actor, limit=RECENT_JOBS)
            if job.kind == badges.KIND
        ]
    organizer = actor.has("organizer")
    site_rows = [
        {"code": site.code, "name": site.name, "count": counts.get(site.id or 0, 0)}
        for site in sites
    ]
    total = sum(counts.get(site.id or 0, 0) for site in sites) if organizer else None
    return render(
        request,
        "badges.html",
        conference=conference,
        organizer=organizer,
        sites=site_rows,
        total=total,
        page_data={
            "conference": {"id": conference.public_id, "title": conference.title},
            "sites": site_rows,
            "jobs": recent,
        },
    )
