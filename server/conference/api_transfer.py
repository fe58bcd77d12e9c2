"""Import and export of whole conferences (YAML or JSON files)."""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel

from conference.actors import Actor
from conference.errors import PlenaryError
from conference.schemas import ConferenceOut
from conference.text import fold
from conference_file import exporting, importing
from conference_file.reader import Format
from server.auth import conference_actor, require_login
from server.http import UNSUPPORTED_MEDIA_TYPE, json_response, read_body, transaction
from server.keys import config_key, db_key
from server.routes import ORGANIZER, ApiRoutes
from server.runtime import in_parse_pool

routes = ApiRoutes("transfer")

FORMAT_BY_MEDIA_TYPE: dict[str, Format] = {
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
}
TRUE = ("1", "true", "yes")


class ImportCheck(BaseModel):
    """What a dry run found: the file is valid and would create this much."""

    valid: bool
    title: str
    counts: importing.ImportCounts


@routes.post(
    "/api/v1/conferences/import",
    role="account allowed to create conferences (it becomes organizer)",
    body=importing.ConferenceFile,
    response=ConferenceOut,
    status=201,
    query={"dry_run": "1: check the file and report what it holds, create nothing (200)"},
    content_type="application/yaml",
)
async def import_conference(request: web.Request) -> web.StreamResponse:
    """Create a conference from a conference file (YAML or JSON); ?dry_run=1 only checks it."""
    actor = Actor(require_login(request))
    importing.require_may_create(actor)
    fmt = FORMAT_BY_MEDIA_TYPE.get(request.content_type)
    if fmt is None:
        kinds = ", ".join(FORMAT_BY_MEDIA_TYPE)
        raise PlenaryError(f"send the file with Content-Type {kinds}", code=UNSUPPORTED_MEDIA_TYPE)
    raw = await read_body(request, limit=request.app[config_key].max_upload_bytes)
    # The whole file is read and checked before any lock is taken: on SQLite the write
    # transaction is the database's only writer, and a large or broken file would hold
    # up every check-in for as long as it takes to read.
    file = await in_parse_pool(request.app, importing.read_conference_file, raw, fmt)
    db = request.app[db_key]
    if request.query.get("dry_run", "").lower() in TRUE:
        async with db.read() as session:
            await importing.check_against_database(session, file)
        counts = importing.ImportCounts.of(file.plan)
        title = file.plan.conference.title
        return json_response(ImportCheck(valid=True, title=title, counts=counts))
    async with db.transaction() as session:
        conference = await importing.import_conference(session, file, actor=actor)
    return json_response(ConferenceOut.of(conference), status=201)


@routes.get(
    "/api/v1/conferences/{cid}/export", roles=ORGANIZER, query={"format": "yaml (default) or json"}
)
async def export_conference(request: web.Request) -> web.StreamResponse:
    """The conference as a conference file (a download)."""
    fmt = importing.parse_format(request.query.get("format", "yaml"))
    async with transaction(request) as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        document = await exporting.export_conference(session, conference)
    text = exporting.dump(document, fmt)
    name = re.sub(r"[^a-z0-9]+", "-", fold(conference.title)).strip("-")[:60] or "conference"
    filename = f"{name}-{conference.starts_on.isoformat()}.{fmt}"
    return web.Response(
        text=text,
        content_type=importing.MEDIA_TYPES[fmt],
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
