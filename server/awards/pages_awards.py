"""The organizer's awards page: decisions and their recipients (add, correct, revoke,
import from a file), the documents rendered in bulk with their progress, and how the
documents look (place, heading, emblem, kinds of award, templates). A shell: everything
it changes goes through the JSON API (awards.js and its modules) and the live stream."""

from __future__ import annotations

from aiohttp import web

from awards import kinds as award_kinds
from awards import render as award_render
from awards import settings as award_settings
from conference import jobs, services
from server.awards.api_awards import award_verify_base
from server.conference.api_documents import DocumentOut
from server.http import transaction
from server.keys import config_key
from server.pages_render import login_redirect, page_actor, render

routes = web.RouteTableDef()

PAGE_ROLES = ("organizer",)
RECENT_JOBS = 20


@routes.get("/c/{cid}/awards")
async def awards_page(request: web.Request) -> web.StreamResponse:
    """Organizers only: the chair and the secretary read awards over the API."""
    async with transaction(request) as session:
        found = await page_actor(request, session, PAGE_ROLES)
        if found is None:
            return login_redirect(request)
        conference, actor = found
        sites = await services.list_sites(session, conference, actor=actor)
        kinds = await award_kinds.conference_kinds(session, conference.id)
        settings = await award_settings.settings_of(session, conference)
        recent = [
            DocumentOut.of(job, conference.public_id).model_dump(mode="json")
            for job in await jobs.list_jobs(session, conference, actor=actor, limit=RECENT_JOBS)
            if job.kind == award_render.KIND
        ]
    site_rows = [{"code": site.code, "name": site.name} for site in sites]
    kind_rows = [kind.as_dict() for kind in kinds.values()]
    return render(
        request,
        "awards.html",
        conference=conference,
        sites=site_rows,
        kinds=kind_rows,
        place=settings.place,
        heading=settings.heading,
        verify_base=award_verify_base(request),
        public_url_set=bool(request.app[config_key].public_url),
        page_data={
            "conference": {"id": conference.public_id, "title": conference.title},
            "timezone": conference.timezone,
            "sites": site_rows,
            "kinds": kind_rows,
            "emblem": settings.emblem is not None,
            "jobs": recent,
        },
    )
