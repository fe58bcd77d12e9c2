"""How a conference's award documents look, over HTTP: the kinds of award its decisions
grant, the place and heading printed, the emblem, and the organizer's replacements of
template files (each checked by rendering samples before it is kept)."""

from __future__ import annotations

import logging

from aiohttp import web
from pydantic import BaseModel

from awards import documents as award_documents
from awards import flag as award_flag
from awards import kinds as award_kinds
from awards import render as award_render
from awards import settings as award_settings
from awards.models import AwardSettings, AwardTemplate
from awards.render import AwardItem
from awards.schemas import DocumentSettings, DocumentSettingsOut, KindChange, KindCreate
from conference import documents
from conference.errors import InvalidInput, NotFound
from server.auth import conference_actor
from server.awards.api_awards import AWARDS, award_verify_base, template_seconds, with_templates
from server.conference.api_documents import pdf_response
from server.http import json_response, read_body, transaction
from server.keys import config_key, db_key
from server.routes import ORGANIZER, ApiRoutes, Call
from server.runtime import document_runner, in_parse_pool

log = logging.getLogger("plenary.awards")
routes = ApiRoutes("awards")

KINDS = AWARDS + "/kinds"
KIND = KINDS + "/{key}"
SETTINGS = AWARDS + "/settings"
EMBLEM = AWARDS + "/emblem"
TEMPLATES = AWARDS + "/templates"
TEMPLATE = TEMPLATES + "/{name}"
READERS = ("organizer", "chair", "secretary")


class KindOut(BaseModel):
    key: str
    name: str
    label: str
    layout: str
    builtin: bool


class TemplateOut(BaseModel):
    name: str
    replaced: bool
    updated_by: str = ""
    updated_at: str | None = None


# --- kinds of award ---------------------------------------------------------------------------


@routes.conference(
    "GET", KINDS, READERS, role="organizer, chair or secretary", response=list[KindOut]
)
async def list_kinds(call: Call[None]) -> object:
    """The kinds of award the conference's decisions may grant (built-in, then its own)."""
    kinds = await award_kinds.conference_kinds(call.session, call.conference_id)
    return {"kinds": [kind.as_dict() for kind in kinds.values()]}


@routes.conference("POST", KINDS, ORGANIZER, body=KindCreate, response=KindOut, status=201)
async def create_kind(call: Call[KindCreate]) -> object:
    """Define a kind of award (key, name, printed heading, layout)."""
    kind = await award_kinds.create_kind(call.session, call.conference, call.body, actor=call.actor)
    return kind.as_dict()


@routes.conference("PATCH", KIND, ORGANIZER, body=KindChange, response=KindOut)
async def update_kind(call: Call[KindChange]) -> object:
    """Rename a kind the conference defined, or change its heading or layout."""
    kind = await award_kinds.update_kind(
        call.session, call.conference, call.path("key"), call.body, actor=call.actor
    )
    return kind.as_dict()


@routes.conference("DELETE", KIND, ORGANIZER, status=204)
async def delete_kind(call: Call[None]) -> None:
    """Remove a kind no decision grants."""
    await award_kinds.delete_kind(call.session, call.conference, call.path("key"), actor=call.actor)


# --- place, heading, emblem -------------------------------------------------------------------


def _settings_out(
    request: web.Request, row: AwardSettings, replaced: list[str]
) -> DocumentSettingsOut:
    return DocumentSettingsOut(
        place=row.place,
        heading=row.heading,
        emblem=row.emblem is not None,
        emblem_type=row.emblem_type,
        templates=sorted(replaced),
        verify_base=award_verify_base(request),
        public_url_set=bool(request.app[config_key].public_url),
    )


@routes.conference(
    "GET", SETTINGS, READERS, role="organizer, chair or secretary", response=DocumentSettingsOut
)
async def read_settings(call: Call[None]) -> object:
    """What the award documents print beside each decision: place, heading, emblem; and
    which template files are replaced."""
    row = await award_settings.settings_of(call.session, call.conference)
    replaced = await award_settings.overrides_of(call.session, call.conference)
    return _settings_out(call.request, row, list(replaced))


@routes.conference("PUT", SETTINGS, ORGANIZER, body=DocumentSettings, response=DocumentSettingsOut)
async def update_settings(call: Call[DocumentSettings]) -> object:
    """Set the place printed before the date and the heading lines at the top."""
    row = await award_settings.update_settings(
        call.session, call.conference, call.body, actor=call.actor
    )
    replaced = await award_settings.overrides_of(call.session, call.conference)
    return _settings_out(call.request, row, list(replaced))


@routes.put(EMBLEM, roles=ORGANIZER, response=DocumentSettingsOut, content_type="image/png")
async def put_emblem(request: web.Request) -> web.StreamResponse:
    """Upload the emblem printed on the certificates (PNG, JPEG, WebP or GIF as the request body;
    kept as a PNG of at most 500 px a side)."""
    cid = request.match_info["cid"]
    async with request.app[db_key].read() as session:
        _, actor = await conference_actor(request, session, cid)
    raw = await read_body(request, limit=award_settings.MAX_EMBLEM + 1)
    # Decoding and scaling a picture takes a moment: not on the event loop, nor in the
    # executor that hashes passwords.
    png = await in_parse_pool(request.app, award_settings.emblem_png, raw)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, cid)
        row = await award_settings.set_emblem(session, conference, png, actor=actor)
        replaced = await award_settings.overrides_of(session, conference)
        out = _settings_out(request, row, list(replaced))
    return json_response(out)


@routes.get(EMBLEM, roles=READERS, role="organizer, chair or secretary", content_type="image/png")
async def get_emblem(request: web.Request) -> web.StreamResponse:
    """The emblem printed on the certificates (PNG); 404 while none is uploaded."""
    async with transaction(request) as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        row = await award_settings.settings_of(session, conference)
    if not row.emblem:
        raise NotFound("no emblem is uploaded", field="emblem")
    return web.Response(
        body=row.emblem, content_type=row.emblem_type, headers={"Cache-Control": "no-store"}
    )


@routes.conference("DELETE", EMBLEM, ORGANIZER, response=DocumentSettingsOut)
async def delete_emblem(call: Call[None]) -> object:
    """Remove the uploaded emblem (the documents draw a gold star on red again)."""
    row = await award_settings.remove_emblem(call.session, call.conference, actor=call.actor)
    replaced = await award_settings.overrides_of(call.session, call.conference)
    return _settings_out(call.request, row, list(replaced))


# --- templates --------------------------------------------------------------------------------


def _template_name(request: web.Request) -> str:
    return f"{award_settings.TEMPLATE_FOLDER}/{request.match_info['name']}"


@routes.get(TEMPLATES, roles=ORGANIZER, response=list[TemplateOut])
async def list_templates(request: web.Request) -> web.StreamResponse:
    """The award template files and which of them the conference replaces."""
    async with transaction(request) as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        rows = {row.name: row for row in await award_settings.template_rows(session, conference)}
    out = []
    for name in award_settings.template_names():
        row = rows.get(name)
        out.append(
            TemplateOut(
                name=name.removeprefix(award_settings.TEMPLATE_FOLDER + "/"),
                replaced=row is not None,
                updated_by=row.updated_by if row is not None else "",
                updated_at=row.updated_at.isoformat() if row is not None else None,
            ).model_dump()
        )
    return json_response({"templates": out})


@routes.get(
    TEMPLATE,
    roles=ORGANIZER,
    query={"default": "1: the file shipped with plenary, even where it is replaced"},
    content_type="text/plain",
)
async def read_template(request: web.Request) -> web.StreamResponse:
    """A template's source: the conference's replacement, else the shipped file (?default=1: always
    the shipped file)."""
    name = _template_name(request)
    async with transaction(request) as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        source = award_settings.default_source(name)
        if request.query.get("default") != "1":
            source = (await award_settings.overrides_of(session, conference)).get(name, source)
    return web.Response(text=source, content_type="text/plain", charset="utf-8")


def _try_flag_proof(item: AwardItem, templates: dict[str, str]) -> None:
    award_flag.render_flag_proof_pdf(item, templates=templates, strict=True)
    award_flag.flag_proof_svg(item, templates=templates)


@routes.put(TEMPLATE, roles=ORGANIZER, response=TemplateOut, content_type="text/plain")
async def put_template(request: web.Request) -> web.StreamResponse:
    """Replace a template file for this conference (its source as the request body); it is kept
    only if a sample certificate, flag award document and flag proof render."""
    name = _template_name(request)
    cid = request.match_info["cid"]
    async with request.app[db_key].read() as session:
        conference, actor = await conference_actor(request, session, cid)
        look = await award_render.document_look(session, conference)
    raw = await read_body(request, limit=award_settings.MAX_TEMPLATE + 1)
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("a template is UTF-8 text", field="source") from None
    award_settings.check_template(name, source)
    templates = dict(look.templates) | {name: source}
    items = award_render.sample_items(look, award_verify_base(request))
    pool = document_runner(request).pool()
    seconds = template_seconds(request)
    try:
        await with_templates(
            request,
            award_documents.render_awards(
                pool, items, workers=1, templates=templates, strict=True, seconds=seconds
            ),
            templates,
        )
        limit = documents.template_seconds(templates, base=seconds)
        flag = documents.run_in_pool(pool, _try_flag_proof, items[1], templates, seconds=limit)
        await with_templates(request, flag, templates)
    except InvalidInput as exc:
        log.info("template %s refused: %s", name, exc.message)
        message = exc.message.replace("the conference's award templates do not", "it does not")
        raise InvalidInput(
            f"the template is refused: {message}", field="source", code=exc.code
        ) from None
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, cid)
        row: AwardTemplate = await award_settings.save_template(
            session, conference, name, source, actor=actor
        )
        out = TemplateOut(
            name=request.match_info["name"],
            replaced=True,
            updated_by=row.updated_by,
            updated_at=row.updated_at.isoformat(),
        ).model_dump()
    return json_response(out)


@routes.conference("DELETE", TEMPLATE, ORGANIZER, status=204)
async def reset_template(call: Call[None]) -> None:
    """Go back to the shipped template file."""
    await award_settings.reset_template(
        call.session, call.conference, _template_name(call.request), actor=call.actor
    )


@routes.get(AWARDS + "/sample.pdf", roles=ORGANIZER, content_type="application/pdf")
async def sample_pdf(request: web.Request) -> web.StreamResponse:
    """A sample certificate and flag award document as the conference's settings and templates
    print them (before any award is recorded)."""
    async with transaction(request) as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        look = await award_render.document_look(session, conference)
    items = award_render.sample_items(look, award_verify_base(request))
    templates = look.template_overrides()
    work = award_documents.render_awards(
        document_runner(request).pool(),
        items,
        workers=1,
        templates=templates,
        seconds=template_seconds(request),
    )
    _pdfs, combined, _missing = await with_templates(request, work, templates)
    return pdf_response(combined, "mau-khen-thuong.pdf", attachment=False)
