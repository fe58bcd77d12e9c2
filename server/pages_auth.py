"""The home redirect, the login form (works without JavaScript) and logout."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from conference import accounts
from conference.errors import Unauthorized
from server.auth import clear_session_cookie, client_ip, principal, set_session_cookie
from server.http import transaction
from server.keys import config_key, login_limiter_key, session_token_rkey
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
    form = await request.post()
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
    limiter = request.app[login_limiter_key]
    key = f"{client_ip(request)}|{username.casefold()}"
    wait = limiter.blocked(key)
    if wait:
        response = again(t("login.error.rate_limited", seconds=int(wait) + 1), 429)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        limiter.hit(key)
        return again(t("login.error.wrong"), 401)
    config = request.app[config_key]
    try:
        async with transaction(request) as session:
            account = await accounts.authenticate(session, username, password)
            token, _ = await accounts.start_session(
                session,
                account,
                ttl=timedelta(hours=config.session_hours),
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
                replaces=request.get(session_token_rkey),
            )
    except Unauthorized:
        limiter.hit(key)
        return again(t("login.error.wrong"), 401)
    limiter.reset(key)
    response = redirect(target)
    set_session_cookie(request, response, token)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    token = request.get(session_token_rkey)
    if token:
        async with transaction(request) as session:
            await accounts.end_session(session, token)
    response = redirect("/login")
    clear_session_cookie(response)
    return response
