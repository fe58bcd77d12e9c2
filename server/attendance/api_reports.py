"""Attendance exports: CSV, XLSX and PDF of the figures per site and who came."""

from __future__ import annotations

import asyncio

from aiohttp import web

from attendance import reports
from conference import documents
from server.routes import HALL, ApiRoutes, Call

routes = ApiRoutes("attendance reports")

CONF = "/api/v1/conferences/{cid}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _report(call: Call[None]) -> reports.Report:
    return await reports.build_report(call.session, call.conference, actor=call.actor)


@routes.conference(
    "GET",
    CONF + "/attendance/export.csv",
    HALL,
    role="organizer, chair, secretary, site operator (own site)",
    query={"people": "1: one row per delegate instead of one per site"},
    content_type="text/csv",
)
async def export_csv(call: Call[None]) -> object:
    """Attendance per site as CSV (?people=1: who came, site by site)."""
    report = await _report(call)
    people = call.request.query.get("people", "") in ("1", "true", "yes")
    name = "attendance-people.csv" if people else "attendance.csv"
    response = _download(reports.as_csv(report, people=people), "text/csv", name)
    response.charset = "utf-8"
    return response


@routes.conference(
    "GET",
    CONF + "/attendance/export.xlsx",
    HALL,
    role="organizer, chair, secretary, site operator (own site)",
    content_type=XLSX,
)
async def export_xlsx(call: Call[None]) -> object:
    """Attendance per site and who came, as an Excel workbook."""
    report = await _report(call)
    return _download(reports.as_xlsx(report), XLSX, "attendance.xlsx")


@routes.conference(
    "GET",
    CONF + "/attendance/export.pdf",
    HALL,
    role="organizer, chair, secretary, site operator (own site)",
    content_type="application/pdf",
)
async def export_pdf(call: Call[None]) -> object:
    """Attendance per site and who came, as a printable PDF (A4)."""
    report = await _report(call)
    # WeasyPrint is synchronous: keep the event loop free while it lays out the pages.
    rendered = await asyncio.to_thread(
        documents.render_template, "attendance.html", reports.pdf_context(report)
    )
    return _download(rendered.pdf, "application/pdf", "attendance.pdf")
