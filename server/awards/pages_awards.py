"""The organizer's awards page: decisions and their recipients (add, correct, revoke,
import from a file), the documents rendered in bulk with their progress, and how the
documents look (place, heading, emblem, kinds of award, templates). A shell: everything
it changes goes through the JSON API (awards.js and its modules) and the live stream."""

from __future__ import annotations

from aiohttp import web

from awards import kinds as award_kinds
from awards import render as award_render
from awards import settings as award_settings
from conference import services
from server.awards.api_awards import award_verify_base
from server.conference.pages_documents import recent_jobs
from server.keys import config_key
from server.pages_render import conference_page, render_page
from server.routes import ORGANIZER, Call

routes = web.RouteTableDef()


@routes.get("/c/{cid}/awards")
@conference_page(ORGANIZER)
async def awards_page(call: Call[None]) -> web.StreamResponse:
    """Organizers only: the chair and the secretary read awards over the API."""
    sites = await services.list_sites(call.session, call.conference, actor=call.actor)
    kinds = await award_kinds.conference_kinds(call.session, call.conference.id)
    settings = await award_settings.settings_of(call.session, call.conference)
    recent = await recent_jobs(call, award_render.KIND)
    site_rows = [{"code": site.code, "name": site.name} for site in sites]
    kind_rows = [kind.as_dict() for kind in kinds.values()]
    return render_page(
        call,
        "awards.html",
        sites=site_rows,
        kinds=kind_rows,
        place=settings.place,
        heading=settings.heading,
        verify_base=award_verify_base(call.request),
        public_url_set=bool(call.request.app[config_key].public_url),
        page_data={
            "timezone": call.conference.timezone,
            "sites": site_rows,
            "kinds": kind_rows,
            "emblem": settings.emblem is not None,
            "jobs": recent,
        },
    )
