"""Delegates over HTTP: list and search, read, add, change, remove, import a CSV or XLSX list."""

from __future__ import annotations

from aiohttp import web

from attendance import services
from attendance.importing import read_table
from attendance.schemas import (
    DelegateCreate,
    DelegateList,
    DelegateOut,
    DelegateQuery,
    DelegateUpdate,
    ImportReport,
)
from server.auth import conference_actor
from server.http import json_response, transaction
from server.keys import db_key
from server.routes import HALL, ORGANIZER, SITE, ApiRoutes, Call
from server.runtime import in_parse_pool
from server.uploads import query_flag, read_upload

routes = ApiRoutes("delegates")

DELEGATES = "/api/v1/conferences/{cid}/delegates"
ONE = DELEGATES + "/{did}"


@routes.get(
    DELEGATES,
    roles=HALL,
    role="organizer, chair, secretary, or site_operator (their site)",
    response=DelegateList,
    query={
        "q": "words that must all appear in the name (case and diacritics aside)",
        "site": "only this site (its code); another site's code is 404 for an operator",
        "category": "official, alternate, guest or staff",
        "limit": "delegates per page, 1-1000 (default 100)",
        "offset": "delegates to skip (default 0)",
    },
)
async def list_delegates(request: web.Request) -> web.StreamResponse:
    """Delegates by site then name (an operator sees their own site's)."""
    query = DelegateQuery.model_validate(dict(request.query))
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        rows, total = await services.list_delegates(session, conference, query, actor=actor)
        items = [DelegateOut.of(d, s.code, contacts=actor.sees_contacts) for d, s in rows]
    return json_response(
        DelegateList(items=items, total=total, limit=query.limit, offset=query.offset)
    )


@routes.conference(
    "POST", DELEGATES, ORGANIZER, body=DelegateCreate, response=DelegateOut, status=201
)
async def create_delegate(call: Call[DelegateCreate]) -> object:
    """Add a delegate at a site."""
    delegate = await services.create_delegate(
        call.session, call.conference, call.body, actor=call.actor
    )
    return DelegateOut.of(delegate, call.body.site)


@routes.post(
    DELEGATES + "/import",
    roles=ORGANIZER,
    response=ImportReport,
    query={
        "dry_run": "1: check the file and report every problem, import nothing",
        "skip_invalid": "1: import the valid rows even if others have problems",
    },
    content_type="text/csv",
)
async def import_delegates(request: web.Request) -> web.StreamResponse:
    """Import delegates from a CSV or XLSX file (raw body or multipart); ?dry_run=1 only
    checks it."""
    dry_run, skip_invalid = query_flag(request, "dry_run"), query_flag(request, "skip_invalid")
    cid = request.match_info["cid"]
    db = request.app[db_key]
    # Only an organizer's file is read at all.
    async with db.read() as session:
        _, actor = await conference_actor(request, session, cid)
    raw, declared = await read_upload(request)
    # A large workbook takes seconds to read: not on the event loop, nor in the
    # executor that hashes passwords.
    table = await in_parse_pool(request.app, read_table, raw, declared)
    async with db.read() if dry_run else db.transaction() as session:
        conference, actor = await conference_actor(request, session, cid)
        report = await services.import_delegates(
            session, conference, table, actor=actor, dry_run=dry_run, skip_invalid=skip_invalid
        )
    return json_response(report)


@routes.conference(
    "GET",
    ONE,
    HALL,
    role="organizer, chair, secretary, or site_operator (their site)",
    response=DelegateOut,
)
async def read_delegate(call: Call[None]) -> object:
    """One delegate."""
    delegate, site = await services.get_delegate(
        call.session, call.conference, call.path("did"), actor=call.actor
    )
    return DelegateOut.of(delegate, site.code, contacts=call.actor.sees_contacts)


@routes.conference(
    "PATCH",
    ONE,
    SITE,
    role="organizer (a site operator: 404 for another site's delegate, else 403)",
    body=DelegateUpdate,
    response=DelegateOut,
)
async def update_delegate(call: Call[DelegateUpdate]) -> object:
    """Change a delegate."""
    found = await services.get_delegate(
        call.session, call.conference, call.path("did"), actor=call.actor
    )
    delegate, site = await services.update_delegate(
        call.session, call.conference, found, call.body, actor=call.actor
    )
    return DelegateOut.of(delegate, site.code)


@routes.conference(
    "DELETE",
    ONE,
    SITE,
    role="organizer (a site operator: 404 for another site's delegate, else 403)",
    status=204,
)
async def delete_delegate(call: Call[None]) -> None:
    """Remove a delegate (refused once they have been checked in)."""
    found = await services.get_delegate(
        call.session, call.conference, call.path("did"), actor=call.actor
    )
    await services.delete_delegate(call.session, call.conference, found, actor=call.actor)
