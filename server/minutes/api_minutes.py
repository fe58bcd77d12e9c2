"""The minutes over HTTP: the sections' text and decisions (a save names the revision it
was made on; a stale one is a conflict carrying the current text), every revision and
their comparison, the facts drafted from the live log, the book's settings, finalising
and amendments (each a signed PDF version), and the exports (PDF, DOCX)."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import AfterValidator, Field, StrictInt, StrictStr

from agenda.minutes import book as minutes_book
from agenda.minutes import services as minutes
from agenda.minutes.document import MinutesContent, minutes_content
from agenda.minutes.facts import minutes_facts
from agenda.minutes.word import build_docx
from conference.actors import Actor
from conference.dbtypes import utcnow
from conference.errors import Conflict, InvalidInput
from conference.models import Conference
from conference.schemas import CLEAN, Input
from conference.text import clean_prose
from server.auth import conference_actor
from server.http import json_response, parse_body, public_base
from server.keys import db_key
from server.routes import STAFF, ApiRoutes, Call
from server.runtime import documents_key
from server.signing import ready_keyring

routes = ApiRoutes("minutes")
# Who may ask; minutes.require_reader decides by the readers the minutes name.
MINUTES_READERS = ("organizer", "chair", "secretary", "site_operator", "screen")

MINUTES = "/api/v1/conferences/{cid}/minutes"
SECTION = MINUTES + "/sections/{section}"
TEMPLATE = "minutes.html"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXPORT_ROLES = ("organizer", "secretary")
# Finalising renders while the minutes may still change; a few tries, then the conflict.
ATTEMPTS = 3

PROSE = AfterValidator(clean_prose)
Text = Annotated[StrictStr, PROSE, Field(max_length=minutes.MAX_TEXT)]
Line = Annotated[StrictStr, PROSE, Field(max_length=minutes.MAX_DECISION)]


class SectionSave(Input):
    """A section's whole text (and, if sent, its decisions), and the revision it was made
    on (0 for a new section)."""

    text: Text
    revision: Annotated[StrictInt, Field(ge=0)]
    # Blank ones are dropped before the limit of MAX_DECISIONS is checked.
    decisions: Annotated[list[Line], Field(max_length=4 * minutes.MAX_DECISIONS)] | None = None


class BookChange(Input):
    """The minutes' heading, signatories and readers (any subset)."""

    issuing_body: Annotated[StrictStr, PROSE, Field(max_length=600)] | None = None
    document_number: Annotated[StrictStr, CLEAN, Field(max_length=100)] | None = None
    heading: Annotated[StrictStr, PROSE, Field(max_length=300)] | None = None
    place: Annotated[StrictStr, CLEAN, Field(max_length=100)] | None = None
    title: Annotated[StrictStr, CLEAN, Field(min_length=1, max_length=200)] | None = None
    chair_name: Annotated[StrictStr, CLEAN, Field(max_length=200)] | None = None
    secretary_name: Annotated[StrictStr, CLEAN, Field(max_length=200)] | None = None
    readers: Literal["staff", "sites", "delegates"] | None = None


class Finalise(Input):
    """Finalise the minutes: no fields."""


class Amendment(Input):
    """A numbered change to final minutes: its text (simple formatting as in sections)."""

    text: Annotated[StrictStr, PROSE, Field(min_length=1, max_length=minutes_book.MAX_AMENDMENT)]


def _section_key(request: web.Request) -> str:
    key = request.match_info["section"]
    if not 1 <= len(key) <= 32:
        raise InvalidInput("a section is an agenda item's id, opening or closing", field="section")
    return key


def _int_query(request: web.Request, name: str, *, required: bool) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidInput(f"give {name}", field=name)
        return None
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidInput(f"{name} is a whole number", field=name)
    return int(raw)


def verify_base(request: web.Request) -> str:
    """The public verification page's address, without the code."""
    return f"{public_base(request)}/verify/minutes"


@routes.conference(
    "GET",
    MINUTES,
    MINUTES_READERS,
    role="secretary, organizer or chair; site operators and screens (and delegates) when "
    "the minutes' readers allow",
)
async def read(call: Call[None]) -> object:
    """The minutes' settings and sections at their latest revision."""
    sections = await minutes.read_minutes(call.session, call.conference, actor=call.actor)
    book = await minutes_book.read_book(call.session, call.conference, actor=call.actor)
    return {"book": book, "sections": sections}


@routes.conference(
    "GET", MINUTES + "/facts", MINUTES_READERS, role="as reading the minutes", consistent=True
)
async def facts(call: Call[None]) -> object:
    """What happened, drafted from the live log: each item's times, its speakers (title,
    unit, site, time spoken), the roll call and the attendance at the opening."""
    await minutes.require_reader(call.session, call.conference, call.actor)
    return await minutes_facts(call.session, call.conference, now=utcnow())


@routes.conference(
    "POST", SECTION, minutes.WRITE_ROLES, role="secretary or organizer", body=SectionSave
)
async def save(call: Call[SectionSave]) -> object:
    """Save a section's text (and decisions) made on a revision; a stale save is 409 with
    the current text."""
    section = await minutes.save_section(
        call.session,
        call.conference,
        _section_key(call.request),
        call.body.text,
        call.body.revision,
        decisions=call.body.decisions,
        actor=call.actor,
    )
    return minutes.section_data(section)


@routes.conference("GET", SECTION + "/revisions", STAFF)
async def revisions(call: Call[None]) -> object:
    """Every saved text of a section, oldest first."""
    key = _section_key(call.request)
    out = await minutes.section_revisions(call.session, call.conference, key, actor=call.actor)
    return {"section": key, "revisions": out}


@routes.conference(
    "GET",
    SECTION + "/compare",
    STAFF,
    query={"from": "the older revision (0: empty)", "to": "the newer revision"},
)
async def compare(call: Call[None]) -> object:
    """Two revisions of a section and the lines that changed between them."""
    key = _section_key(call.request)
    old = _int_query(call.request, "from", required=True)
    new = _int_query(call.request, "to", required=True)
    assert old is not None and new is not None
    return await minutes.compare_revisions(
        call.session, call.conference, key, old, new, actor=call.actor
    )


@routes.conference(
    "PATCH",
    MINUTES + "/settings",
    minutes.WRITE_ROLES,
    role="secretary or organizer",
    body=BookChange,
)
async def update_settings(call: Call[BookChange]) -> object:
    """The heading (issuing body, document number, heading, place, title), the signatories
    and who reads; after finalising only the readers."""
    changes = call.body.model_dump(exclude_none=True)
    book = await minutes_book.update_book(call.session, call.conference, changes, actor=call.actor)
    return minutes_book.book_data(book)


class MadeVersion(minutes_book.VersionData):
    """A version just made, with the characters its PDF drew as empty boxes."""

    missing_characters: list[str]


async def _make_version(request: web.Request, amendment: str | None) -> MadeVersion:
    """Prepare, render (outside any transaction) and commit a signed version."""
    db, runner = request.app[db_key], request.app[documents_key]
    keyring = await ready_keyring(request.app)
    for attempt in range(ATTEMPTS):
        async with db.consistent_read() as session:
            conference, actor = await conference_actor(request, session, request.match_info["cid"])
            prepared = await minutes_book.prepare_version(
                session,
                conference,
                actor=actor,
                verify_base=verify_base(request),
                amendment=amendment,
            )
        rendered = await runner.render_now(TEMPLATE, prepared.content)
        try:
            async with db.transaction() as session:
                conference, actor = await conference_actor(
                    request, session, request.match_info["cid"]
                )
                row = await minutes_book.commit_version(
                    session,
                    conference,
                    prepared,
                    rendered.pdf,
                    rendered.pages,
                    keyring,
                    actor=actor,
                )
                out = minutes_book.version_data(row)
        except Conflict:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return {**out, "missing_characters": list(rendered.missing)}
    raise AssertionError("unreachable")


@routes.post(
    MINUTES + "/finalise",
    roles=minutes.WRITE_ROLES,
    role="secretary or organizer",
    body=Finalise,
    status=201,
)
async def finalise(request: web.Request) -> web.StreamResponse:
    """Finalise the minutes: they lock, version 1 is rendered, hashed and signed."""
    await parse_body(request, Finalise)
    return json_response(await _make_version(request, None), status=201)


@routes.post(
    MINUTES + "/amendments",
    roles=minutes.WRITE_ROLES,
    role="secretary or organizer",
    body=Amendment,
    status=201,
)
async def amend(request: web.Request) -> web.StreamResponse:
    """A numbered amendment to final minutes; it makes the next signed version."""
    data = await parse_body(request, Amendment)
    return json_response(await _make_version(request, data.text), status=201)


@routes.conference("GET", MINUTES + "/versions", MINUTES_READERS, role="as reading the minutes")
async def versions(call: Call[None]) -> object:
    """The finalised versions: number, verification code, SHA-256, who and when."""
    rows = await minutes_book.list_versions(call.session, call.conference, actor=call.actor)
    out = [minutes_book.version_data(row) for row in rows]
    return {"versions": out}


async def _export(
    request: web.Request,
) -> tuple[Conference, Actor, MinutesContent, bytes | None, int | None]:
    """The content (and stored PDF) of a finalised version, or of the draft."""
    version = _int_query(request, "version", required=False)
    async with request.app[db_key].consistent_read() as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        assert conference.id is not None
        book = await minutes.minutes_book(session, conference.id)
        if book.status == "final" or version is not None:
            row = await minutes_book.get_version(session, conference, version, actor=actor)
            return conference, actor, minutes_book.stored_content(row), row.pdf, row.version
        content = await minutes_content(
            session, conference, book, now=utcnow(), status="draft", version=0, verification=None
        )
        return conference, actor, content, None, None


def _attachment(conference: Conference, version: int | None, ext: str) -> dict[str, str]:
    suffix = f"v{version}" if version else "draft"
    name = f"minutes-{conference.public_id}-{suffix}.{ext}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@routes.get(
    MINUTES + "/export.pdf",
    roles=EXPORT_ROLES,
    role="organizer or secretary",
    query={"version": "a finalised version (default: the latest)"},
    content_type="application/pdf",
)
async def export_pdf(request: web.Request) -> web.StreamResponse:
    """The minutes as PDF: a finalised version (the latest unless ?version=), or a draft while they
    are not final."""
    conference, _, content, pdf, version = await _export(request)
    if pdf is None:
        pdf = (await request.app[documents_key].render_now(TEMPLATE, content)).pdf
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers=_attachment(conference, version, "pdf"),
    )


@routes.get(
    MINUTES + "/export.docx",
    roles=EXPORT_ROLES,
    role="organizer or secretary",
    query={"version": "a finalised version (default: the latest)"},
    content_type=DOCX_TYPE,
)
async def export_docx(request: web.Request) -> web.StreamResponse:
    """The minutes as DOCX (Word, LibreOffice): the same content as the PDF."""
    conference, _, content, _pdf, version = await _export(request)
    return web.Response(
        body=build_docx(content),
        content_type=DOCX_TYPE,
        headers=_attachment(conference, version, "docx"),
    )
