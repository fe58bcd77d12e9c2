"""The minutes over HTTP: the sections' text, saving with the revision a text was made
on (a stale save is a conflict carrying the current text), and every revision."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field, StrictInt, StrictStr

from agenda import minutes
from conference.errors import InvalidInput
from conference.schemas import Input
from server.auth import conference_actor
from server.http import ApiRoutes, json_response, parse_body, transaction
from server.keys import db_key

routes = ApiRoutes("minutes")

MINUTES = "/api/v1/conferences/{cid}/minutes"
SECTION = MINUTES + "/{section}"


class SectionSave(Input):
    """A section's whole text, and the revision it was made on (0 for a new section)."""

    text: Annotated[StrictStr, Field(max_length=minutes.MAX_TEXT)]
    revision: Annotated[StrictInt, Field(ge=0)]


def _section_key(request: web.Request) -> str:
    key = request.match_info["section"]
    if not 1 <= len(key) <= 32:
        raise InvalidInput("a section is an agenda item's id, opening or closing", field="section")
    return key


@routes.get(
    MINUTES,
    summary="The minutes' sections at their latest revision",
    role="secretary, organizer or chair",
)
async def read(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].read() as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        sections = await minutes.read_minutes(session, conference, actor=actor)
    return json_response({"sections": sections})


@routes.post(
    SECTION,
    summary="Save a section's text made on a revision; a stale save is 409 with the current text",
    role="secretary or organizer",
    body=SectionSave,
)
async def save(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, SectionSave)
    key = _section_key(request)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        section = await minutes.save_section(
            session, conference, key, data.text, data.revision, actor=actor
        )
        out = minutes.section_data(section)
    return json_response(out)


@routes.get(
    SECTION + "/revisions",
    summary="Every saved text of a section, oldest first",
    role="secretary, organizer or chair",
)
async def revisions(request: web.Request) -> web.StreamResponse:
    key = _section_key(request)
    async with request.app[db_key].read() as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await minutes.section_revisions(session, conference, key, actor=actor)
    return json_response({"section": key, "revisions": out})
