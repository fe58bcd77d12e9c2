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
from server.http import ApiRoutes, json_response, parse_body, transaction

routes = ApiRoutes("administration")

CONF = "/api/v1/conferences/{cid}"


@routes.get(
    CONF + "/tokens",
    summary="The conference's API tokens (never their secrets)",
    role="organizer",
    response=TokenList,
    roles=("organizer",),
)
async def list_tokens(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        found = await admin.list_tokens(session, conference, actor=actor)
        return json_response(TokenList(items=[TokenOut.of(t, code) for t, code in found]))


@routes.post(
    CONF + "/tokens",
    summary="Issue an API token; its secret is shown in this answer only",
    role="organizer",
    body=TokenCreate,
    response=TokenIssued,
    status=201,
    roles=("organizer",),
)
async def issue_token(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, TokenCreate)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        plaintext, token, code = await admin.issue_token(
            session, conference, data.name, data.role, data.site, actor=actor
        )
        out = TokenIssued(**TokenOut.of(token, code).model_dump(), token=plaintext)
    return json_response(out, status=201)


@routes.post(
    CONF + "/tokens/{tid}/revoke",
    summary="Revoke an API token",
    role="organizer",
    response=TokenOut,
    roles=("organizer",),
)
async def revoke_token(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        token, code = await admin.revoke_token(
            session, conference, request.match_info["tid"], actor=actor
        )
        return json_response(TokenOut.of(token, code))


@routes.get(
    CONF + "/members",
    summary="Who holds which role in the conference",
    role="organizer",
    response=MemberList,
    roles=("organizer",),
)
async def list_members(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        members = await admin.list_members(session, conference, actor=actor)
        return json_response(MemberList(items=[MemberOut.of(m) for m in members]))


@routes.post(
    CONF + "/members",
    summary="Give an account a role (a site operator also a site)",
    role="organizer",
    body=MemberGrant,
    response=MemberOut,
    status=201,
    roles=("organizer",),
)
async def grant_role(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, MemberGrant)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        member = await admin.grant_member_role(
            session, conference, data.username, data.role, data.site, actor=actor
        )
        out = MemberOut.of(member)
    return json_response(out, status=201)


@routes.post(
    CONF + "/members/revoke",
    summary="Take a role away from an account",
    role="organizer",
    body=MemberRevoke,
    status=204,
    roles=("organizer",),
)
async def revoke_role(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, MemberRevoke)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        await admin.revoke_member_role(session, conference, data.username, data.role, actor=actor)
    return web.Response(status=204)


@routes.get(
    CONF + "/audit",
    summary="The audit log, newest first",
    role="organizer",
    response=AuditPage,
    query={
        "before": "only entries older than this entry id (next_before of the previous page)",
        "limit": "entries per page, 1-500 (default 100)",
    },
    roles=("organizer",),
)
async def audit_log(request: web.Request) -> web.StreamResponse:
    query = AuditQuery.model_validate(dict(request.query))
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        entries = await admin.audit_log(
            session, conference, actor=actor, before=query.before, limit=query.limit
        )
        items = [AuditEntryOut.of(e) for e in entries]
    next_before = items[-1].id if len(items) == query.limit else None
    return json_response(AuditPage(items=items, next_before=next_before))


@routes.get("/api/v1/accounts", summary="Every account", role="administrator", response=AccountList)
async def list_accounts(request: web.Request) -> web.StreamResponse:
    who = require_login(request)
    async with transaction(request) as session:
        found = await admin.list_accounts(session, actor=Actor(who))
        return json_response(AccountList(items=[AccountOut.of(a) for a in found]))


@routes.post(
    "/api/v1/accounts",
    summary="Create an account",
    role="administrator",
    body=AccountCreate,
    response=AccountOut,
    status=201,
)
async def create_account(request: web.Request) -> web.StreamResponse:
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
