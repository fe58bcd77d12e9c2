"""A remote site's screen (the hall's projector): the live agenda, the current speaker
and the countdown, the next speakers. No login: a screen token (``?token=``, kept by
the page and sent over the WebSocket only) or a public conference (docs/screen.md)."""

from __future__ import annotations

from aiohttp import web

from conference.errors import NotFound
from server.auth import conference_actor
from server.http import transaction
from server.pages_render import render

routes = web.RouteTableDef()

# Query parameters that never reach a rendered link (the language switch keeps the rest).
SECRET_PARAMS = ("token",)


@routes.get("/c/{cid}/screen")
async def screen_page(request: web.Request) -> web.StreamResponse:
    """The same page for every conference id: what it shows comes over the WebSocket, for
    the screen's token. A public conference (or a signed-in member) gets its title at once;
    any other id gets the bare page, so the page never tells which ids exist."""
    cid = request.match_info["cid"]
    title = ""
    async with transaction(request) as session:
        try:
            conference, _ = await conference_actor(request, session, cid)
        except NotFound:
            pass
        else:
            title = conference.title
            cid = conference.public_id
    query = {k: v for k, v in request.query.items() if k not in SECRET_PARAMS}
    clean = request.clone(rel_url=request.rel_url.with_query(query))
    response = render(
        clean,
        "screen.html",
        title=title,
        page_data={"conference": {"id": cid, "title": title}},
    )
    # The token may be in this page's URL: never sent on, never indexed.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
