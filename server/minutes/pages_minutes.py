"""The minutes: the secretary's page (one document by agenda item: the facts drafted from
the live log beside the secretary's text and decisions, autosaved, merged on a conflict,
finalised and amended) and the public pages that verify a finalised PDF.

The secretary's page is a shell: its content comes from the JSON API (minutes.js) and
the live stream. The verification pages work without JavaScript: a form posts the PDF
(or its SHA-256) and the answer is a page. An anonymous form needs no CSRF token (the
origin check still applies); a signed-in user's form carries the session's token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from agenda.minutes import services as minutes
from agenda.minutes.book import MinutesVerification
from conference.actors import SITE_ROLES
from conference.errors import InvalidInput, NotFound, RateLimited
from server.awards.api_verify import check_verify_rate, uploaded_hash, verify_code, verify_hash
from server.http import InvalidForm
from server.pages_render import Translator, conference_page, render, render_page, translator
from server.routes import Call

routes = web.RouteTableDef()

PAGE_ROLES = (*minutes.READ_ROLES, *SITE_ROLES)
VERIFY = "/verify/minutes"
# Where a verification page shows times when the conference's zone cannot be read.
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


@routes.get("/c/{cid}/minutes")
@conference_page(PAGE_ROLES)
async def minutes_page(call: Call[None]) -> web.StreamResponse:
    """The secretary and organizers write; the chair and the readers the book allows read."""
    await minutes.require_reader(call.session, call.conference, call.actor)
    can_edit = call.actor.has(*minutes.WRITE_ROLES)
    staff = call.actor.has(*minutes.READ_ROLES)
    base = f"/api/v1/conferences/{call.conference.public_id}/minutes"
    return render_page(
        call,
        "minutes.html",
        can_edit=can_edit,
        staff=staff,
        chair=call.actor.has("chair", "organizer"),
        exports={"pdf": base + "/export.pdf", "docx": base + "/export.docx"},
        page_data={
            "timezone": call.conference.timezone,
            "canEdit": can_edit,
            "staff": staff,
            "verify": VERIFY,
        },
    )


# --- public verification -----------------------------------------------------------------


def _when(t: Translator, value: str | None, zone: str) -> str:
    """An ISO time from the API as the conference's clock shows it, naming the zone."""
    if not value:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo(DEFAULT_ZONE), DEFAULT_ZONE
    moment = datetime.fromisoformat(value).astimezone(tz)
    return t("verify.when", time=moment.strftime("%H:%M"), day=t.day(moment.date()), zone=zone)


class Described(MinutesVerification):
    """A verification answer with its times written for people."""

    made_at_text: str
    finalised_at_text: str


def _described(request: web.Request, found: MinutesVerification) -> Described:
    """found (and whatever else it says, such as match) with its times written for people."""
    t = translator(request)
    zone = found["timezone"] or DEFAULT_ZONE
    return {
        **found,
        "made_at_text": _when(t, found["made_at"], zone),
        "finalised_at_text": _when(t, found["finalised_at"], zone),
    }


def _page(
    request: web.Request,
    *,
    status: int = 200,
    mode: str = "form",
    action: str = VERIFY,
    document: Described | None = None,
    answer: Mapping[str, object] | None = None,
    error: str = "",
    headers: dict[str, str] | None = None,
) -> web.Response:
    """verify_minutes.html in one of its modes: form, answer, code, unknown, busy."""
    response = render(
        request,
        "verify_minutes.html",
        status=status,
        mode=mode,
        action=action,
        document=document,
        answer=answer,
        error=error,
    )
    # Not "no-referrer": the browser would then send its forms with Origin: null, refused.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.update(headers or {})
    return response


def _busy(request: web.Request, exc: RateLimited, action: str) -> web.Response:
    seconds = int(exc.retry_after) + 1
    return _page(
        request,
        status=429,
        mode="busy",
        action=action,
        error=translator(request)("verify.error.busy", seconds=seconds),
        headers={"Retry-After": str(seconds)},
    )


Refused = InvalidInput | web.HTTPRequestEntityTooLarge


async def _refusal(request: web.Request, exc: Refused) -> tuple[int, str]:
    """The status and, in the page's words, why the form's input was refused."""
    t = translator(request)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return 413, t("verify.error.too_large")
    if isinstance(exc, InvalidForm):
        return 400, t("verify.error.missing")
    # The form was read (and kept) by uploaded_hash: which part was wrong?
    form = await request.post() if request.content_type.startswith("multipart/") else {}
    upload = form.get("file")
    if isinstance(upload, web.FileField) and upload.filename:
        return 422, t("verify.error.not_pdf")
    if exc.field == "sha256":
        return 422, t("verify.error.sha256")
    return 422, t("verify.error.missing")


async def _asked_hash(request: web.Request) -> str | Refused:
    try:
        return await uploaded_hash(request)
    except (InvalidInput, web.HTTPRequestEntityTooLarge) as exc:
        return exc


@routes.get(VERIFY)
async def verify_form(request: web.Request) -> web.StreamResponse:
    return _page(request)


@routes.post(VERIFY)
async def verify_document(request: web.Request) -> web.StreamResponse:
    """Is the uploaded PDF (or the pasted SHA-256) a finalised version of any minutes?"""
    try:
        check_verify_rate(request)
    except RateLimited as exc:
        return _busy(request, exc, VERIFY)
    asked = await _asked_hash(request)
    if not isinstance(asked, str):
        status, error = await _refusal(request, asked)
        return _page(request, status=status, error=error)
    found = await verify_hash(request, asked)
    answer = _described(request, found) if found["match"] else found
    return _page(request, mode="answer", answer=answer)


async def _coded(request: web.Request) -> tuple[str, Described | web.Response]:
    """The code's form action and its version described, or the page refusing it."""
    code = request.match_info["code"]
    action = f"{VERIFY}/{quote(code, safe='')}"
    try:
        found = await verify_code(request, code)
    except RateLimited as exc:
        return action, _busy(request, exc, action)
    except NotFound:
        return action, _page(request, status=404, mode="unknown", action=VERIFY)
    return action, _described(request, found)


@routes.get(VERIFY + "/{code}")
async def verify_by_code(request: web.Request) -> web.StreamResponse:
    """The version printed with this code, and the form to check a file against it."""
    action, document = await _coded(request)
    if isinstance(document, web.Response):
        return document
    return _page(request, mode="code", action=action, document=document)


@routes.post(VERIFY + "/{code}")
async def verify_against_code(request: web.Request) -> web.StreamResponse:
    """Is this file the version printed with the code? If not, which version it is."""
    action, document = await _coded(request)
    if isinstance(document, web.Response):
        return document
    asked = await _asked_hash(request)
    if not isinstance(asked, str):
        status, error = await _refusal(request, asked)
        return _page(
            request, status=status, mode="code", action=action, document=document, error=error
        )
    answer: dict[str, object]
    if asked == document["sha256"]:
        answer = {**document, "match": True}
    else:
        found = await verify_hash(request, asked)
        answer = {**(_described(request, found) if found["match"] else found), "other": True}
    return _page(request, mode="code", action=action, document=document, answer=answer)
