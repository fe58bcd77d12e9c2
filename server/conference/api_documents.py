"""Documents over HTTP: one delegate's badge now, badge jobs in the background, their files."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from attendance import badges
from conference import jobs
from conference.errors import InvalidInput
from conference.models import DocumentJob
from conference.schemas import Input, SiteCode
from server.auth import conference_actor
from server.http import json_response, parse_body, transaction
from server.keys import config_key
from server.routes import HALL, SITE, ApiRoutes, Call
from server.runtime import document_runner
from server.signing import ready_keyring

routes = ApiRoutes("documents")

CONF = "/api/v1/conferences/{cid}"
PDF = "application/pdf"


class BadgeOrder(Input):
    """Badges to print: one site's (by code) or, with null, the whole conference's."""

    site: SiteCode | None = None
    layout: Literal["sheet", "single"] = "sheet"


class DocumentOut(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    done: int
    total: int
    site: str | None
    layout: str | None
    filename: str
    size: int
    sha256: str
    error: str
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    download: str | None

    @classmethod
    def of(cls, job: DocumentJob, conference_id: str) -> DocumentOut:
        url = f"/api/v1/conferences/{conference_id}/documents/{job.public_id}/file"
        return cls(
            id=job.public_id,
            kind=job.kind,
            status=job.status,
            done=job.done,
            total=job.total,
            site=job.params.get("site"),
            layout=job.params.get("layout"),
            filename=job.filename,
            size=job.size,
            sha256=job.sha256,
            error=job.error,
            created_by=job.created_by,
            created_at=job.created_at,
            finished_at=job.finished_at,
            download=url if job.status == "done" else None,
        )


class DocumentList(BaseModel):
    items: list[DocumentOut]


def pdf_response(
    content: bytes, filename: str, *, attachment: bool, content_type: str = PDF
) -> web.Response:
    disposition = "attachment" if attachment else "inline"
    return web.Response(
        body=content,
        content_type=content_type,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


@routes.get(
    CONF + "/delegates/{did}/badge.pdf",
    roles=SITE,
    role="organizer, or the site operator of the delegate's site",
    query={"layout": "single (one badge-sized page, the default) or sheet (on an A4 sheet)"},
    content_type=PDF,
)
async def delegate_badge(request: web.Request) -> web.StreamResponse:
    """One delegate's badge as a PDF, rendered now."""
    layout = request.query.get("layout", "single")
    if layout not in badges.PER_PAGE:
        raise InvalidInput("layout must be single or sheet", field="layout")
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        row = await badges.delegate_badge_row(
            session, conference, request.match_info["did"], actor=actor
        )
    keyring = await ready_keyring(request.app)
    valid_days = request.app[config_key].credential_valid_days
    items = await badges.badge_items(keyring, conference, [row], valid_days)
    rendered = await document_runner(request).render_now(
        badges.TEMPLATE, badges.badge_context(conference, layout, items)
    )
    filename = badges.badge_filename(None, layout, delegate_name=row[0].full_name)
    return pdf_response(rendered.pdf, filename, attachment=False)


@routes.post(
    CONF + "/badges",
    roles=SITE,
    role="organizer; a site operator for their own site only",
    body=BadgeOrder,
    response=DocumentOut,
    status=202,
)
async def order_badges(request: web.Request) -> web.StreamResponse:
    """Print badges in the background: one site's or the whole conference's."""
    data = await parse_body(request, BadgeOrder)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        scope = await badges.badge_scope(session, conference, data.site, actor=actor)
        code = scope.site.code if scope.site is not None else None
        job = await jobs.create_job(
            session,
            conference,
            badges.KIND,
            params={
                "site": code,
                "site_id": scope.site.id if scope.site is not None else None,
                "layout": data.layout,
            },
            total=scope.count,
            filename=badges.badge_filename(code, data.layout),
            actor=actor,
        )
        answer = DocumentOut.of(job, conference.public_id)
    document_runner(request).wake()
    return json_response(answer, status=202)


@routes.conference(
    "GET",
    CONF + "/documents",
    HALL,
    role="organizer, chair, secretary; a site operator",
    response=DocumentList,
)
async def list_documents(call: Call[None]) -> object:
    """Documents made in the background, newest first (an operator sees their site's)."""
    found = await jobs.list_jobs(call.session, call.conference, actor=call.actor)
    return DocumentList(items=[DocumentOut.of(job, call.conference.public_id) for job in found])


@routes.conference(
    "GET",
    CONF + "/documents/{jobid}",
    HALL,
    role="organizer, chair, secretary; a site operator for their site's",
    response=DocumentOut,
)
async def read_document(call: Call[None]) -> object:
    """One background document: its status and progress."""
    job = await jobs.get_job(call.session, call.conference, call.path("jobid"), actor=call.actor)
    return DocumentOut.of(job, call.conference.public_id)


@routes.conference(
    "GET",
    CONF + "/documents/{jobid}/file",
    HALL,
    role="organizer, chair, secretary; a site operator for their site's",
    content_type=PDF,
)
async def document_file(call: Call[None]) -> object:
    """The finished document (409 conflict while it is not finished)."""
    job = await jobs.get_job(call.session, call.conference, call.path("jobid"), actor=call.actor)
    content = await jobs.job_file(call.session, job)
    # Badges are a PDF, award documents a ZIP: the job says which.
    return pdf_response(
        content, job.filename, attachment=True, content_type=job.content_type or PDF
    )
