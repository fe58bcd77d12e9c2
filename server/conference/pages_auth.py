"""The home redirect, the login form (works without JavaScript) and logout."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from conference.errors import RateLimited, Unauthorized
from server.auth import clear_session_cookie, log_in, log_out, principal, set_session_cookie
from server.http import read_form
from server.pages_render import local_path, redirect, render, translator

routes = web.RouteTableDef()

# The same bounds as the JSON login: no Argon2 work on absurd input.
MAX_USERNAME = 100
MAX_PASSWORD = 1000


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    return redirect("/conferences" if principal(request).authenticated else "/login")


@routes.get("/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    target = local_path(request.query.get("next"))
    if principal(request).authenticated:
        return redirect(target)
    return render(request, "login.html", next=target, username="", error=None)


def _field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


@routes.post("/login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    username = _field(form, "username").strip()
    password = _field(form, "password")
    target = local_path(_field(form, "next"))
    t = translator(request)

    def again(error: str, status: int) -> web.Response:
        return render(
            request, "login.html", status=status, next=target, username=username, error=error
        )

    if not username or not password:
        return again(t("login.error.missing"), 400)
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        return again(t("login.error.wrong"), 401)
    try:
        token, _, _ = await log_in(request, username, password)
    except RateLimited as exc:
        response = again(t("login.error.rate_limited", seconds=int(exc.retry_after) + 1), 429)
        response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return response
    except Unauthorized:
        return again(t("login.error.wrong"), 401)
    response = redirect(target)
    set_session_cookie(request, response, token)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """Log out; with the form's `everywhere` field, every session of the account."""
    form = await request.post()
    await log_out(request, everywhere=bool(_field(form, "everywhere")))
    response = redirect("/login")
    clear_session_cookie(response)
    return response
