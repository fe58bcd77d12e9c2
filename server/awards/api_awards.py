"""Awards over HTTP: decisions (quyết định) and their recipients, corrections (the
verification code stays), revocation with a reason. Organizers write; the chair and
the secretary read. Verification by code is public (server/awards/api_verify.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda import ceremony
from agenda.schemas import PublicRef
from awards import documents as award_documents
from awards import flag as award_flag
from awards import render as award_render
from awards import services
from awards.models import Award, Decision
from awards.render import AwardItem
from awards.schemas import (
    AwardChange,
    AwardCreate,
    AwardOut,
    DecisionCreate,
    DecisionOut,
    Revocation,
    award_data,
    decision_data,
)
from conference import documents, jobs
from conference.documents import MissingGlyphs, Overrides
from conference.errors import InvalidInput, PlenaryError
from conference.models import Conference, Site
from conference.rawjson import JsonObject
from conference.schemas import Input
from server.auth import conference_actor
from server.conference.api_documents import DocumentOut, pdf_response
from server.http import json_response, parse_body, public_base, transaction
from server.keys import config_key, db_key
from server.routes import CHAIR, ORGANIZER, STAFF, ApiRoutes, Call
from server.runtime import document_runner

routes = ApiRoutes("awards")
log = logging.getLogger("plenary.awards")
T = TypeVar("T")

AWARDS = "/api/v1/conferences/{cid}/awards"
DECISIONS = AWARDS + "/decisions"
DECISION = DECISIONS + "/{did}"
AWARD = AWARDS + "/{aid}"


class DecisionWithAwardsOut(DecisionOut):
    awards: list[AwardOut]


async def _site_codes(session: AsyncSession, conference: Conference) -> dict[int, str]:
    rows = await session.exec(
        select(Site.id, Site.code).where(col(Site.conference_id) == conference.id)
    )
    return {site_id: code for site_id, code in rows if site_id is not None}


def _with_awards(decision: Decision, awards: list[Award], codes: dict[int, str]) -> JsonObject:
    """DecisionWithAwardsOut as JSON, from the JSON its events carry."""
    return decision_data(decision) | {
        "awards": [
            award_data(a, decision=decision, site_code=codes.get(a.site_id or 0)) for a in awards
        ]
    }


@routes.conference("GET", AWARDS, STAFF, response=list[DecisionWithAwardsOut])
async def list_all(call: Call[None]) -> object:
    """Every decision of the conference with its awards, in order."""
    found = await services.list_decisions(call.session, call.conference, actor=call.actor)
    codes = await _site_codes(call.session, call.conference)
    out = [_with_awards(d, awards, codes) for d, awards in found]
    return {"decisions": out}


@routes.conference(
    "POST", DECISIONS, ORGANIZER, body=DecisionCreate, response=DecisionOut, status=201
)
async def create(call: Call[DecisionCreate]) -> object:
    """Record a decision; its number is unique per issuing body and never reused."""
    decision = await services.create_decision(
        call.session, call.conference, call.body, actor=call.actor
    )
    return decision_data(decision)


@routes.conference("GET", DECISION, STAFF, response=DecisionWithAwardsOut)
async def read(call: Call[None]) -> object:
    """A decision with its awards."""
    decision = await services.get_decision(call.session, call.conference, call.path("did"))
    found = await services.list_decisions(call.session, call.conference, actor=call.actor)
    awards = next(a for d, a in found if d.id == decision.id)
    return _with_awards(decision, awards, await _site_codes(call.session, call.conference))


@routes.conference(
    "POST", DECISION + "/awards", ORGANIZER, body=AwardCreate, response=AwardOut, status=201
)
async def add(call: Call[AwardCreate]) -> object:
    """Name one more recipient of a decision (a unit or a person, with the citation)."""
    decision = await services.get_decision(call.session, call.conference, call.path("did"))
    award = await services.add_award(
        call.session, call.conference, decision, call.body, actor=call.actor
    )
    return award_data(award, decision=decision, site_code=call.body.site)


@routes.conference("PATCH", AWARD, ORGANIZER, body=AwardChange, response=AwardOut)
async def update(call: Call[AwardChange]) -> object:
    """Correct a recipient (name, title, unit, site, citation); the code stays."""
    award, decision, code = await services.update_award(
        call.session, call.conference, call.path("aid"), call.body, actor=call.actor
    )
    return award_data(award, decision=decision, site_code=code)


@routes.conference("POST", AWARD + "/revoke", ORGANIZER, body=Revocation, response=AwardOut)
async def revoke(call: Call[Revocation]) -> object:
    """Revoke an award with a reason; its verification says so at once."""
    award, decision = await services.revoke_award(
        call.session, call.conference, call.path("aid"), call.body.reason, actor=call.actor
    )
    codes = await _site_codes(call.session, call.conference)
    return award_data(award, decision=decision, site_code=codes.get(award.site_id or 0))


class Announcement(Input):
    """The recipient to call; none: the next in the list not yet called."""

    award: PublicRef | None = None


@routes.conference("POST", AWARDS + "/announce", CHAIR, body=Announcement)
async def announce(call: Call[Announcement]) -> object:
    """At the ceremony (the awards item running): call a recipient, or the next; every
    screen shows who is honoured, with the award and the decision."""
    return await ceremony.announce_award(
        call.session, call.conference, call.body.award, actor=call.actor
    )


class RenderOrder(Input):
    """Which awards to render: one decision's, or (none) the conference's."""

    decision: PublicRef | None = None


def award_verify_base(request: web.Request) -> str:
    """Where the QR on each award points, without the code."""
    return f"{public_base(request)}/verify"


@routes.post(
    AWARDS + "/render", roles=ORGANIZER, body=RenderOrder, response=DocumentOut, status=202
)
async def render_awards(request: web.Request) -> web.StreamResponse:
    """Render award documents in the background: a ZIP of one PDF per award (each with its QR) and
    the combined print-ready PDF; progress as for every document."""
    data = await parse_body(request, RenderOrder)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        found = await award_render.awards_to_render(
            session, conference, decision_id=data.decision, actor=actor
        )
        name = f"awards-{data.decision or conference.public_id}.zip"
        job = await jobs.create_job(
            session,
            conference,
            award_render.KIND,
            params={"decision": data.decision, "verify_base": award_verify_base(request)},
            total=len(found),
            filename=name,
            content_type=award_render.ZIP_TYPE,
            actor=actor,
        )
        answer = DocumentOut.of(job, conference.public_id)
    document_runner(request).wake()
    return json_response(answer, status=202)


async def _award_item(request: web.Request) -> tuple[Award, AwardItem, Overrides | None]:
    async with request.app[db_key].read() as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        award, decision = await services.get_award(session, conference, request.match_info["aid"])
        look = await award_render.document_look(session, conference)
        item = award_render.award_item(award, decision, look, award_verify_base(request))
    return award, item, look.template_overrides()


def template_failure(exc: Exception) -> InvalidInput:
    """What the organizer is told when the conference's own templates fail to render."""
    if isinstance(exc, MissingGlyphs):
        return InvalidInput(f"the award templates print characters no font has: {exc}",
                            field="templates")  # fmt: skip
    return InvalidInput(
        f"the conference's award templates do not render: {type(exc).__name__}: {exc}",
        field="templates",
    )


async def with_templates(request: web.Request, work: Awaitable[T], templates: Any) -> T:
    """work's result, in the document pool; a failure of the conference's own templates
    (any error, a timeout, a worker killed) is the organizer's to fix: 422 saying what."""
    try:
        return await document_runner(request).in_pool(work)
    except PlenaryError:
        raise
    except Exception as exc:  # an organizer's template may fail in any way Jinja or CSS can
        if not templates:
            raise
        log.info("award templates failed: %r", exc)
        raise template_failure(exc) from None


def template_seconds(request: web.Request) -> float:
    return request.app[config_key].template_seconds


def _in_pool(
    request: web.Request, work: Callable[[], T], templates: Overrides | None
) -> Awaitable[T]:
    """work in the document pool, within the time an organizer's templates get."""
    limit = documents.template_seconds(templates, base=template_seconds(request))
    return documents.run_in_pool(document_runner(request).pool(), work, seconds=limit)


@routes.get(AWARD + "/document.pdf", roles=ORGANIZER, content_type="application/pdf")
async def award_document(request: web.Request) -> web.StreamResponse:
    """One award's document (certificate or flag award document), rendered now."""
    award, item, templates = await _award_item(request)
    pool = document_runner(request).pool()
    work = award_documents.render_awards(
        pool, [item], workers=1, templates=templates, seconds=template_seconds(request)
    )
    pdfs, _combined, _missing = await with_templates(request, work, templates)
    return pdf_response(pdfs[0], award_render.file_name(1, award), attachment=False)


async def _flag_item(request: web.Request) -> tuple[Award, AwardItem, Overrides | None]:
    award, item, templates = await _award_item(request)
    if item["layout"] != "flag_award":
        raise InvalidInput("only an emulation flag has a flag to make", field="award")
    return award, item, templates


async def _flag_proof(request: web.Request, make: Callable[..., T]) -> tuple[Award, T]:
    """The award of the path and its flag's print proof, made by make in the pool."""
    award, item, templates = await _flag_item(request)
    work = partial(make, item, templates=templates)
    return award, await with_templates(request, _in_pool(request, work, templates), templates)


@routes.get(AWARD + "/flag.pdf", roles=ORGANIZER, content_type="application/pdf")
async def flag_pdf(request: web.Request) -> web.StreamResponse:
    """The print proof of an emulation flag (850 x 650 mm) for its maker, as PDF."""
    award, pdf = await _flag_proof(request, award_flag.render_flag_proof_pdf)
    name = award_render.file_name(1, award).replace(".pdf", "-co.pdf")
    return pdf_response(pdf, name, attachment=False)


@routes.get(AWARD + "/flag.svg", roles=ORGANIZER, content_type="image/svg+xml")
async def flag_svg(request: web.Request) -> web.StreamResponse:
    """The same print proof of the flag as an SVG drawing."""
    award, svg = await _flag_proof(request, award_flag.flag_proof_svg)
    name = award_render.file_name(1, award).replace(".pdf", "-co.svg")
    # A download, never a page of this site: a drawing is opened by the maker's tools.
    return pdf_response(svg.encode(), name, attachment=True, content_type="image/svg+xml")
