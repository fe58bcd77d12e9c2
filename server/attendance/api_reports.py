"""Attendance exports: CSV, XLSX and PDF of the figures per site and who came."""

from __future__ import annotations

import asyncio

from aiohttp import web

from attendance import reports
from conference import documents
from server.auth import conference_actor
from server.http import transaction
from server.routes import ApiRoutes

routes = ApiRoutes("attendance reports")

CONF = "/api/v1/conferences/{cid}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _report(request: web.Request) -> reports.Report:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        return await reports.build_report(session, conference, actor=actor)


@routes.get(
    CONF + "/attendance/export.csv",
    summary="Attendance per site as CSV (?people=1: who came, site by site)",
    role="organizer, chair, secretary, site operator (own site)",
    content_type="text/csv",
    query={"people": "1: one row per delegate instead of one per site"},
    roles=("organizer", "chair", "secretary", "site_operator"),
)
async def export_csv(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    people = request.query.get("people", "") in ("1", "true", "yes")
    name = "attendance-people.csv" if people else "attendance.csv"
    response = _download(reports.as_csv(report, people=people), "text/csv", name)
    response.charset = "utf-8"
    return response


@routes.get(
    CONF + "/attendance/export.xlsx",
    summary="Attendance per site and who came, as an Excel workbook",
    role="organizer, chair, secretary, site operator (own site)",
    content_type=XLSX,
    roles=("organizer", "chair", "secretary", "site_operator"),
)
async def export_xlsx(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    return _download(reports.as_xlsx(report), XLSX, "attendance.xlsx")


@routes.get(
    CONF + "/attendance/export.pdf",
    summary="Attendance per site and who came, as a printable PDF (A4)",
    role="organizer, chair, secretary, site operator (own site)",
    content_type="application/pdf",
    roles=("organizer", "chair", "secretary", "site_operator"),
)
async def export_pdf(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    # WeasyPrint is synchronous: keep the event loop free while it lays out the pages.
    rendered = await asyncio.to_thread(
        documents.render_template, "attendance.html", reports.pdf_context(report)
    )
    return _download(rendered.pdf, "application/pdf", "attendance.pdf")
