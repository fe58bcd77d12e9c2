"""The check-in pages: the operator's scanner, the attendance board, a site's self
check-in screen, and a delegate's personal page (its secret link is the credential)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from conference import services
from conference.errors import NotFound
from conference.models import Site
from server.keys import static_versions_key
from server.link_guesses import link_page
from server.pages_render import (
    Translator,
    conference_data,
    conference_page,
    render,
    render_page,
    translator,
)
from server.pages_static import StaticUrl
from server.routes import SITE, STAFF, Call

routes = web.RouteTableDef()

# Organizers pick a site by code from a list; past this many, only by typing it.
MAX_SITE_OPTIONS = 5000


def _static(request: web.Request, path: str) -> str:
    return StaticUrl(request.app[static_versions_key])(path)


def _site_data(site: Site) -> dict[str, object]:
    return {
        "id": site.public_id,
        "code": site.code,
        "name": site.name,
        "expected": site.expected_attendance,
    }


@routes.get("/c/{cid}/checkin")
@conference_page(SITE)
async def checkin_page(call: Call[None]) -> web.StreamResponse:
    """The operator's own site; an organizer picks one with ?site=CODE."""
    sites = await services.list_sites(call.session, call.conference, actor=call.actor)
    organizer = call.actor.has("organizer")
    wanted = call.request.query.get("site", "").strip().upper()
    if organizer:
        site = next((s for s in sites if s.code == wanted), None)
    else:
        site = next((s for s in sites if s.id == call.actor.site_id), None)
        if site is None:
            raise NotFound("no such site in this conference", field="site")
    page_data: dict[str, object] = {"timezone": call.conference.timezone}
    if site is not None:
        page_data |= {
            "site": _site_data(site),
            "jsqr": _static(call.request, "vendor/jsqr/jsQR.js"),
        }
    return render_page(
        call,
        "checkin.html",
        site=site,
        organizer=organizer,
        sites=sites[:MAX_SITE_OPTIONS] if organizer else [],
        wanted=wanted,
        unknown_site=bool(organizer and wanted and site is None),
        page_data=page_data,
    )


@routes.get("/c/{cid}/attendance")
@conference_page(STAFF)
async def attendance_page(call: Call[None]) -> web.StreamResponse:
    return render_page(
        call,
        "attendance.html",
        can_check_in=call.actor.has(*SITE),
        page_data={"timezone": call.conference.timezone},
    )


@routes.get("/c/{cid}/sites/{sid}/checkin-screen")
@conference_page(SITE)
async def checkin_screen(call: Call[None]) -> web.StreamResponse:
    """For the hall's projector: the organizer's, or that site's operator's."""
    site = await services.get_site(
        call.session, call.conference, call.request.match_info["sid"], actor=call.actor
    )
    if not call.actor.has("organizer") and site.id != call.actor.site_id:
        raise NotFound("no such site in this conference", field="site")
    return render_page(
        call,
        "checkin_screen.html",
        site=site,
        page_data={
            "timezone": call.conference.timezone,
            "site": _site_data(site),
        },
    )


@dataclass(frozen=True)
class AgendaLine:
    """One line of the agenda as the delegate's page shows it."""

    id: str
    title: str
    start: str
    minutes: int
    presenter: str
    status: str
    children: list[AgendaLine]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Ho_Chi_Minh")


def _clock(at: datetime | None, zone: ZoneInfo, t: Translator | None = None) -> str:
    """14:05 in the conference's zone; with t, its day first (a conference of several days)."""
    if at is None:
        return ""
    local = at.astimezone(zone)
    return f"{t.day(local.date())} {local:%H:%M}" if t is not None else f"{local:%H:%M}"


@routes.get("/d/{secret}")
async def delegate_page(request: web.Request) -> web.StreamResponse:
    """No login: whoever holds the link is the delegate (NotFound for anything else)."""
    page = await link_page(request)
    delegate, conference, home, where = (
        page.delegate,
        page.conference,
        page.home,
        page.checked_in_at,
    )
    items = page.items
    zone = _zone(conference.timezone)
    days = translator(request) if conference.ends_on != conference.starts_on else None
    lines: dict[int | None, AgendaLine] = {}
    top: list[AgendaLine] = []
    for item in items:  # parents come before their children
        line = AgendaLine(
            item.public_id,
            item.title,
            _clock(item.planned_start, zone, days),
            item.duration_minutes,
            item.presenter_name,
            item.status,
            [],
        )
        lines[item.id] = line
        parent = lines.get(item.parent_id) if item.parent_id is not None else None
        (parent.children if parent is not None else top).append(line)
    secret = request.match_info["secret"]
    names = {home.code: home.name} | ({where.code: where.name} if where is not None else {})
    response = render(
        request,
        "delegate.html",
        delegate=delegate,
        conference=conference,
        site=home,
        where=where,
        checked_in_at=_clock(delegate.checked_in_at, zone),
        agenda=top,
        qr_url=f"/api/v1/delegate/{secret}/qr.svg",
        page_data={
            "secret": secret,
            "conference": conference_data(conference),
            "me": delegate.public_id,
            "timezone": conference.timezone,
            "siteNames": names,
            "jsqr": _static(request, "vendor/jsqr/jsQR.js"),
        },
    )
    # A personal page: never indexed, never cached, never named to another site.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
