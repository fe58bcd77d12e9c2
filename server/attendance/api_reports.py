"""Attendance exports: CSV, XLSX and PDF of the figures per site and who came."""

from __future__ import annotations

import asyncio

from aiohttp import web

from attendance import reports
from conference import documents
from server.auth import conference_actor
from server.http import transaction
from server.routes import HALL, ApiRoutes

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
    roles=HALL,
    role="organizer, chair, secretary, site operator (own site)",
    query={"people": "1: one row per delegate instead of one per site"},
    content_type="text/csv",
)
async def export_csv(request: web.Request) -> web.StreamResponse:
    """Attendance per site as CSV (?people=1: who came, site by site)."""
    report = await _report(request)
    people = request.query.get("people", "") in ("1", "true", "yes")
    name = "attendance-people.csv" if people else "attendance.csv"
    response = _download(reports.as_csv(report, people=people), "text/csv", name)
    response.charset = "utf-8"
    return response


@routes.get(
    CONF + "/attendance/export.xlsx",
    roles=HALL,
    role="organizer, chair, secretary, site operator (own site)",
    content_type=XLSX,
)
async def export_xlsx(request: web.Request) -> web.StreamResponse:
    """Attendance per site and who came, as an Excel workbook."""
    report = await _report(request)
    return _download(reports.as_xlsx(report), XLSX, "attendance.xlsx")


@routes.get(
    CONF + "/attendance/export.pdf",
    roles=HALL,
    role="organizer, chair, secretary, site operator (own site)",
    content_type="application/pdf",
)
async def export_pdf(request: web.Request) -> web.StreamResponse:
    """Attendance per site and who came, as a printable PDF (A4)."""
    report = await _report(request)
    # WeasyPrint is synchronous: keep the event loop free while it lays out the pages.
    rendered = await asyncio.to_thread(
        documents.render_template, "attendance.html", reports.pdf_context(report)
    )
    return _download(rendered.pdf, "application/pdf", "attendance.pdf")
