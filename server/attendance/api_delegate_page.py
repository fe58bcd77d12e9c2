"""A delegate's personal link (/api/v1/delegate/<secret>), its QR, self check-in;
and the organizer's side: reissuing a link and exporting the links of a site."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import qrcode
import qrcode.util
from aiohttp import web
from qrcode.image.svg import SvgPathImage
from sqlmodel import col, select

from attendance import credentials, links, selfcheckin
from attendance.checkin_self import self_check_in
from attendance.models import Delegate
from attendance.reports import cell_text
from attendance.scans import Outcome, delegate_card
from attendance.schemas_checkin import (
    DelegatePage,
    PageCheckin,
    PageConference,
    PageItem,
    SelfCheckin,
)
from conference.dbtypes import utcnow
from conference.errors import NotFound
from conference.models import Conference, Site
from conference.services import get_site_by_code
from conference.text import is_public_id
from server.attendance.api_checkin import answer, check_rate, count_refusals
from server.auth import conference_actor
from server.http import json_response, parse_body, public_base, transaction
from server.keys import config_key, refused_limiter_key
from server.link_guesses import delegate_by_link, link_page
from server.proxies import client_ip
from server.routes import ORGANIZER, ApiRoutes, Call
from server.signing import ready_keyring

routes = ApiRoutes("delegate page")

LINK = "/api/v1/delegate/{secret}"
CONF = "/api/v1/conferences/{cid}"


async def credential_of(request: web.Request, conference: Conference, delegate: Delegate) -> str:
    return credentials.credential_for(
        await ready_keyring(request.app),
        conference.public_id,
        conference.ends_on,
        delegate.public_id,
        delegate.credential_version,
        request.app[config_key].credential_valid_days,
    )


def qr_svg(text: str) -> bytes:
    """A QR code of text as one SVG path (alphanumeric mode, level M)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(qrcode.util.QRData(text, mode=2))  # 2: alphanumeric mode
    code.make(fit=True)
    image = code.make_image(image_factory=SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@routes.get(LINK, role="the holder of the personal link", response=DelegatePage)
async def read_delegate_page(request: web.Request) -> web.StreamResponse:
    """A delegate's personal page data: badge code, site, agenda, check-in state."""
    page = await link_page(request)
    delegate, conference, site = page.delegate, page.conference, page.home
    where, items = page.checked_in_at, page.items
    parents = {item.id: item.public_id for item in items}
    checkin: PageCheckin | None = (
        None
        if where is None
        else {"at": _iso(delegate.checked_in_at), "site": where.code, "site_name": where.name}
    )
    agenda: list[PageItem] = [
        {
            "id": item.public_id,
            "parent": parents.get(item.parent_id) if item.parent_id else None,
            "title": item.title,
            "kind": item.kind,
            "planned_start": _iso(item.planned_start),
            "duration_minutes": item.duration_minutes,
            "presenter": item.presenter_name,
        }
        for item in items
    ]
    conference_part: PageConference = {
        "id": conference.public_id,
        "title": conference.title,
        "starts_on": conference.starts_on.isoformat(),
        "ends_on": conference.ends_on.isoformat(),
        "venue": conference.venue,
        "timezone": conference.timezone,
    }
    data = {
        "delegate": delegate_card(delegate, site.code),
        "conference": conference_part,
        "site": {"code": site.code, "name": site.name},
        "credential": await credential_of(request, conference, delegate),
        "checkin": checkin,
        "agenda": agenda,
    }
    return json_response(data)


@routes.get(LINK + "/qr.svg", role="the holder of the personal link", content_type="image/svg+xml")
async def delegate_qr(request: web.Request) -> web.StreamResponse:
    """The delegate's badge QR code as SVG."""
    async with transaction(request) as session:
        delegate, conference, _ = await delegate_by_link(
            request, session, request.match_info["secret"]
        )
    body = qr_svg(await credential_of(request, conference, delegate))
    return web.Response(
        body=body, content_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@routes.post(LINK + "/checkin", role="the holder of the personal link", body=SelfCheckin)
async def self_checkin(request: web.Request) -> web.StreamResponse:
    """Self check-in: the delegate's phone sends the code shown on the site's screen."""
    data = await parse_body(request, SelfCheckin)
    # Limits per link (a hall's phones may share one address), and per address for
    # links that do not exist (someone guessing).
    key = f"link:{request.match_info['secret']}"
    check_rate(request, key)
    try:
        outcome = await _self_checkin(request, data, utcnow())
    except selfcheckin.CodeRefused:
        request.app[refused_limiter_key].hit(key)
        raise
    count_refusals(request, key, [outcome])
    return answer(outcome)


async def _self_checkin(request: web.Request, data: SelfCheckin, now: datetime) -> Outcome:
    async with transaction(request) as session:
        delegate, conference, home = await delegate_by_link(
            request, session, request.match_info["secret"]
        )
        return await self_check_in(
            session,
            conference,
            delegate,
            home,
            data.code,
            data.nonce,
            keyring=await ready_keyring(request.app),
            period=request.app[config_key].self_checkin_seconds,
            now=now,
            ip=client_ip(request),
        )


@routes.conference("POST", CONF + "/delegates/{did}/reissue", ORGANIZER)
async def reissue(call: Call[None]) -> object:
    """New personal link and badge code; the old ones stop working at once."""
    delegate = await _delegate(call.session, call.conference, call.path("did"))
    delegate = await links.reissue(call.session, call.conference, delegate, actor=call.actor)
    return {
        "id": delegate.public_id,
        "credential_version": delegate.credential_version,
        "link": personal_link(call.request, delegate),
    }


@routes.get(
    CONF + "/delegates/links.csv",
    roles=ORGANIZER,
    query={"site": "site code (default: every site)"},
    content_type="text/csv",
)
async def export_links(request: web.Request) -> web.StreamResponse:
    """Personal links of the delegates (of one site with ?site=CODE), as CSV."""
    async with transaction(request) as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        assert conference.id is not None
        query = (
            select(Delegate, Site)
            .join(Site, col(Site.id) == col(Delegate.site_id))
            .where(col(Delegate.conference_id) == conference.id)
        )
        suffix = ""
        if "site" in request.query:
            site = await get_site_by_code(session, conference.id, request.query["site"])
            if site is None:
                raise NotFound("no such site in this conference", field="site")
            query = query.where(col(Delegate.site_id) == site.id)
            suffix = f"-{site.code}"
        rows = list(
            await session.exec(
                query.order_by(col(Site.position), col(Site.id), col(Delegate.name_folded))
            )
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "title", "unit", "site", "site_name", "phone", "email", "link"])
    for delegate, site in rows:
        writer.writerow(
            cell_text(value)
            for value in (
                delegate.full_name,
                delegate.title,
                delegate.unit,
                site.code,
                site.name,
                delegate.phone,
                delegate.email,
                personal_link(request, delegate),
            )
        )
    return web.Response(
        # A BOM so that Excel opens the Vietnamese names as UTF-8.
        body=("\ufeff" + out.getvalue()).encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="links{suffix}.csv"'},
    )


def personal_link(request: web.Request, delegate: Delegate) -> str:
    return f"{public_base(request)}/d/{delegate.link_secret}"


async def _delegate(session: Any, conference: Conference, public_id: str) -> Delegate:
    missing = NotFound("no such delegate in this conference", field="delegate")
    if not is_public_id(public_id):
        raise missing
    found = (
        await session.exec(
            select(Delegate).where(
                col(Delegate.conference_id) == conference.id,
                col(Delegate.public_id) == public_id,
            )
        )
    ).one_or_none()
    if found is None:
        raise missing
    assert isinstance(found, Delegate)
    return found
