"""Login, logout and the caller's own account."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StrictStr
from sqlmodel import col, select

from conference.models import Account, Conference, Membership, Site
from conference.schemas import Input
from server.auth import (
    browser_session,
    clear_session_cookie,
    log_in,
    log_out,
    principal,
    set_session_cookie,
)
from server.http import json_response, parse_body, transaction
from server.routes import ApiRoutes

routes = ApiRoutes("auth")


class LoginIn(Input):
    username: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=1000)]


class RoleOut(BaseModel):
    conference: str
    conference_title: str
    role: str
    site: str | None = None


class MeOut(BaseModel):
    authenticated: bool
    kind: str
    name: str
    username: str | None = None
    is_admin: bool = False
    can_create_conferences: bool = False
    csrf_token: str | None = None
    roles: list[RoleOut] = []


@routes.post("/api/v1/auth/login", role="anyone", body=LoginIn, response=MeOut)
async def login(request: web.Request) -> web.StreamResponse:
    """Log in; sets the session cookie."""
    data = await parse_body(request, LoginIn)
    token, account, row = await log_in(request, data.username, data.password)
    me = MeOut(
        authenticated=True,
        kind="account",
        name=account.display_name,
        username=account.username,
        is_admin=account.is_admin,
        can_create_conferences=account.can_create_conferences,
        csrf_token=row.csrf_token,
    )
    response = json_response(me)
    set_session_cookie(request, response, token)
    return response


class LogoutOut(BaseModel):
    ok: bool
    sessions_ended: int


@routes.post("/api/v1/auth/logout", role="anyone", response=LogoutOut)
async def logout(request: web.Request) -> web.StreamResponse:
    """End the browser session."""
    ended = await log_out(request)
    response = json_response(LogoutOut(ok=True, sessions_ended=ended))
    clear_session_cookie(response)
    return response


@routes.post(
    "/api/v1/auth/logout-everywhere",
    role="anyone (a logged-in browser; nothing to end otherwise)",
    response=LogoutOut,
)
async def logout_everywhere(request: web.Request) -> web.StreamResponse:
    """End every browser session of the caller's account (other browsers, phones)."""
    ended = await log_out(request, everywhere=True)
    response = json_response(LogoutOut(ok=True, sessions_ended=ended))
    clear_session_cookie(response)
    return response


@routes.get("/api/v1/me", role="anyone", response=MeOut)
async def me(request: web.Request) -> web.StreamResponse:
    """The caller, their roles and CSRF token."""
    who = principal(request)
    row = browser_session(request)
    out = MeOut(
        authenticated=who.authenticated,
        kind=who.kind,
        name=who.name,
        is_admin=who.is_admin,
        can_create_conferences=who.can_create_conferences,
        csrf_token=row.csrf_token if row else None,
    )
    if who.kind == "account" and who.account_id is not None:
        async with transaction(request) as session:
            account = await session.get(Account, who.account_id)
            out.username = account.username if account else None
            rows = await session.exec(
                select(Membership, Conference, Site)
                .join(Conference, col(Conference.id) == col(Membership.conference_id))
                .outerjoin(Site, col(Site.id) == col(Membership.site_id))
                .where(Membership.account_id == who.account_id)
                .order_by(col(Conference.id), col(Membership.role))
            )
            out.roles = [
                RoleOut(
                    conference=c.public_id,
                    conference_title=c.title,
                    role=m.role,
                    site=s.code if s else None,
                )
                for m, c, s in rows
            ]
    return json_response(out)
