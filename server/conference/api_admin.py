"""API tokens, members (roles) and the audit log of a conference; accounts."""

from __future__ import annotations

from aiohttp import web

from conference import admin
from conference.actors import Actor
from conference.schemas_admin import (
    AccountCreate,
    AccountList,
    AccountOut,
    AuditEntryOut,
    AuditPage,
    AuditQuery,
    MemberGrant,
    MemberList,
    MemberOut,
    MemberRevoke,
    TokenCreate,
    TokenIssued,
    TokenList,
    TokenOut,
)
from server.auth import conference_actor, require_login
from server.http import json_response, parse_body, transaction
from server.routes import ORGANIZER, ApiRoutes, Call

routes = ApiRoutes("administration")

CONF = "/api/v1/conferences/{cid}"


@routes.conference("GET", CONF + "/tokens", ORGANIZER, response=TokenList)
async def list_tokens(call: Call[None]) -> object:
    """The conference's API tokens (never their secrets)."""
    found = await admin.list_tokens(call.session, call.conference, actor=call.actor)
    return TokenList(items=[TokenOut.of(t, code) for t, code in found])


@routes.conference(
    "POST", CONF + "/tokens", ORGANIZER, body=TokenCreate, response=TokenIssued, status=201
)
async def issue_token(call: Call[TokenCreate]) -> object:
    """Issue an API token; its secret is shown in this answer only."""
    plaintext, token, code = await admin.issue_token(
        call.session,
        call.conference,
        call.body.name,
        call.body.role,
        call.body.site,
        actor=call.actor,
    )
    return TokenIssued(**TokenOut.of(token, code).model_dump(), token=plaintext)


@routes.conference("POST", CONF + "/tokens/{tid}/revoke", ORGANIZER, response=TokenOut)
async def revoke_token(call: Call[None]) -> object:
    """Revoke an API token."""
    token, code = await admin.revoke_token(
        call.session, call.conference, call.path("tid"), actor=call.actor
    )
    return TokenOut.of(token, code)


@routes.conference("GET", CONF + "/members", ORGANIZER, response=MemberList)
async def list_members(call: Call[None]) -> object:
    """Who holds which role in the conference."""
    members = await admin.list_members(call.session, call.conference, actor=call.actor)
    return MemberList(items=[MemberOut.of(m) for m in members])


@routes.conference(
    "POST", CONF + "/members", ORGANIZER, body=MemberGrant, response=MemberOut, status=201
)
async def grant_role(call: Call[MemberGrant]) -> object:
    """Give an account a role (a site operator also a site)."""
    member = await admin.grant_member_role(
        call.session,
        call.conference,
        call.body.username,
        call.body.role,
        call.body.site,
        actor=call.actor,
    )
    return MemberOut.of(member)


@routes.conference("POST", CONF + "/members/revoke", ORGANIZER, body=MemberRevoke, status=204)
async def revoke_role(call: Call[MemberRevoke]) -> None:
    """Take a role away from an account."""
    await admin.revoke_member_role(
        call.session, call.conference, call.body.username, call.body.role, actor=call.actor
    )


@routes.get(
    CONF + "/audit",
    roles=ORGANIZER,
    response=AuditPage,
    query={
        "before": "only entries older than this entry id (next_before of the previous page)",
        "limit": "entries per page, 1-500 (default 100)",
    },
)
async def audit_log(request: web.Request) -> web.StreamResponse:
    """The audit log, newest first."""
    query = AuditQuery.model_validate(dict(request.query))
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        entries = await admin.audit_log(
            session, conference, actor=actor, before=query.before, limit=query.limit
        )
        items = [AuditEntryOut.of(e) for e in entries]
    next_before = items[-1].id if len(items) == query.limit else None
    return json_response(AuditPage(items=items, next_before=next_before))


@routes.get("/api/v1/accounts", role="administrator", response=AccountList)
async def list_accounts(request: web.Request) -> web.StreamResponse:
    """Every account."""
    who = require_login(request)
    async with transaction(request) as session:
        found = await admin.list_accounts(session, actor=Actor(who))
        return json_response(AccountList(items=[AccountOut.of(a) for a in found]))


@routes.post(
    "/api/v1/accounts", role="administrator", body=AccountCreate, response=AccountOut, status=201
)
async def create_account(request: web.Request) -> web.StreamResponse:
    """Create an account."""
    who = require_login(request)
    data = await parse_body(request, AccountCreate)
    async with transaction(request) as session:
        account = await admin.create_account(
            session,
            data.username,
            data.password,
            display_name=data.display_name,
            can_create_conferences=data.can_create_conferences,
            actor=Actor(who),
        )
        out = AccountOut.of(account)
    return json_response(out, status=201)
