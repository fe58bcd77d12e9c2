"""The public verification page of awards: `/verify/<code>` (the QR printed on every
certificate opens it) says what the award is, to whom, under which decision, and whether
it is valid or revoked (when and why). `/verify` asks for a code typed by hand.
Phone-friendly, no login, rate-limited like the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from awards.verification import AwardVerification
from conference.errors import NotFound, RateLimited
from server.awards.api_verify import verify_award_code
from server.pages_render import render, translator

routes = web.RouteTableDef()

VERIFY = "/verify"


def _revoked_text(request: web.Request, found: AwardVerification) -> str:
    if not found["revoked_at"]:
        return ""
    t = translator(request)
    try:
        zone = ZoneInfo(found["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Asia/Ho_Chi_Minh")
    moment = datetime.fromisoformat(found["revoked_at"]).astimezone(zone)
    return t("award_verify.revoked_on", day=t.day(moment.date()), time=moment.strftime("%H:%M"))


def _page(request: web.Request, *, status: int = 200, **context: Any) -> web.Response:
    response = render(request, "verify_award.html", status=status, **context)
    # Not "no-referrer": a form posted from it would carry Origin: null.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@routes.get(VERIFY)
async def verify_form(request: web.Request) -> web.StreamResponse:
    """The form; a code given as ?code= goes to its page."""
    typed = request.query.get("code", "").strip()
    if typed:
        raise web.HTTPSeeOther(f"{VERIFY}/{quote(typed[:64], safe='')}")
    return _page(request, mode="form")


@routes.get(VERIFY + "/{code}")
async def verify_award_page(request: web.Request) -> web.StreamResponse:
    try:
        found = await verify_award_code(request, request.match_info["code"])
    except RateLimited as exc:
        seconds = int(exc.retry_after) + 1
        response = _page(request, status=429, mode="busy", seconds=seconds)
        response.headers["Retry-After"] = str(seconds)
        return response
    except NotFound:
        return _page(request, status=404, mode="unknown")
    if found["code"] != request.match_info["code"]:
        # Typed by hand (lower case, no hyphens): the page's own address is the code printed.
        where = f"{VERIFY}/{found['code']}"
        raise web.HTTPSeeOther(where + (f"?{request.query_string}" if request.query_string else ""))
    t = translator(request)
    issued = t.day(date.fromisoformat(found["decision"]["issued_on"]))
    return _page(
        request,
        mode="award",
        award=found,
        issued_on=issued,
        revoked_text=_revoked_text(request, found),
    )
