"""Importing the recipients of a decision from a CSV or XLSX file (organizers), as the
delegates' import does: ?dry_run=1 reports every problem and imports nothing."""

from __future__ import annotations

from aiohttp import web

from awards import services
from awards.import_service import import_awards
from awards.importing import read_recipients
from conference.tables import TableReport
from server.auth import conference_actor
from server.http import json_response
from server.keys import db_key
from server.routes import ORGANIZER, ApiRoutes
from server.runtime import in_parse_pool
from server.uploads import query_flag, read_upload

routes = ApiRoutes("awards")

IMPORT = "/api/v1/conferences/{cid}/awards/decisions/{did}/import"


@routes.post(
    IMPORT,
    roles=ORGANIZER,
    response=TableReport,
    query={
        "dry_run": "1: check the file and report every problem, import nothing",
        "skip_invalid": "1: import the valid rows even if others have problems",
    },
    content_type="text/csv",
)
async def import_recipients(request: web.Request) -> web.StreamResponse:
    """Import a decision's recipients from a CSV or XLSX file (raw body or multipart), after those
    it names; ?dry_run=1 only checks it."""
    dry_run, skip_invalid = query_flag(request, "dry_run"), query_flag(request, "skip_invalid")
    cid, did = request.match_info["cid"], request.match_info["did"]
    db = request.app[db_key]
    # Only an organizer's file, for a decision of this conference, is read at all.
    async with db.read() as session:
        conference, actor = await conference_actor(request, session, cid)
        await services.get_decision(session, conference, did)
    raw, declared = await read_upload(request)
    # A large workbook takes seconds to read: not on the event loop, nor in the
    # executor that hashes passwords.
    table = await in_parse_pool(request.app, read_recipients, raw, declared)
    async with db.read() if dry_run else db.transaction() as session:
        conference, actor = await conference_actor(request, session, cid)
        decision = await services.get_decision(session, conference, did)
        report = await import_awards(
            session,
            conference,
            decision,
            table,
            actor=actor,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
    return json_response(report)
