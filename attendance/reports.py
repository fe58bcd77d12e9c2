"""Attendance reports: the figures per site and who came, as CSV, XLSX and PDF."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from attendance.figures import SiteFigures, attendance, totals
from attendance.models import Delegate
from conference.actors import Actor
from conference.dbtypes import utcnow
from conference.models import Conference, Site

CATEGORY_VI = {
    "official": "Chính thức",
    "alternate": "Dự khuyết",
    "guest": "Khách mời",
    "staff": "Phục vụ",
}
SUMMARY_HEADER = ["Mã điểm cầu", "Điểm cầu", "Dự kiến", "Đăng ký", "Đã điểm danh", "Tỷ lệ (%)"]
PEOPLE_HEADER = [
    "Điểm cầu",
    "Họ và tên",
    "Chức vụ",
    "Đơn vị",
    "Thành phần",
    "Điểm danh lúc",
    "Điểm danh tại",
]


@dataclass
class Report:
    """Everything an attendance report shows, in the conference's time zone."""

    conference: Conference
    sites: list[SiteFigures]
    people: list[list[str]]
    made_at: datetime

    @property
    def total(self) -> dict[str, int]:
        return totals(self.sites)

    def summary_rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = [
            [f.site.code, f.site.name, f.expected, f.registered, f.checked_in, percent(f)]
            for f in self.sites
        ]
        total = self.total
        share = round(100 * total["checked_in"] / total["expected"], 1) if total["expected"] else 0
        rows.append(
            ["", "Tổng cộng", total["expected"], total["registered"], total["checked_in"], share]
        )
        return rows


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def percent(figures: SiteFigures) -> float:
    return round(100 * figures.checked_in / figures.expected, 1) if figures.expected else 0.0


async def build_report(session: AsyncSession, conference: Conference, *, actor: Actor) -> Report:
    """The report of the sites the actor may see."""
    actor.require("organizer", "chair", "secretary", "site_operator")
    assert conference.id is not None
    sites, _ = await attendance(session, conference, actor=actor)
    zone = ZoneInfo(conference.timezone)
    by_id = {f.site.id: f.site for f in sites}
    every_site = {
        s.id: s
        for s in await session.exec(select(Site).where(col(Site.conference_id) == conference.id))
    }
    rows = await session.exec(
        select(Delegate)
        .where(col(Delegate.conference_id) == conference.id)
        .where(col(Delegate.site_id).in_(list(by_id)))
    )
    order = {site_id: n for n, site_id in enumerate(by_id)}
    people = sorted(rows, key=lambda d: (order[d.site_id], d.name_folded))
    lines = []
    for d in people:
        where = every_site.get(d.checkin_site_id) if d.checkin_site_id is not None else None
        when = (
            d.checked_in_at.astimezone(zone).strftime("%d/%m/%Y %H:%M") if d.checked_in_at else ""
        )
        lines.append(
            [
                by_id[d.site_id].name,
                d.full_name,
                d.title,
                d.unit,
                CATEGORY_VI.get(d.category, d.category),
                when,
                where.name if where is not None else "",
            ]
        )
    return Report(conference, sites, lines, utcnow().astimezone(zone))


def as_csv(report: Report, *, people: bool = False) -> bytes:
    """The figures per site (or, with people, who came), UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    rows = report.people if people else report.summary_rows()
    writer.writerow(PEOPLE_HEADER if people else SUMMARY_HEADER)
    writer.writerows([cell_text(value) for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(report: Report) -> bytes:
    """Two sheets: the figures per site, and who came."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Tổng hợp"
    summary.append([report.conference.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([f"Lập lúc {report.made_at:%d/%m/%Y %H:%M}"])
    summary.append([])
    summary.append(SUMMARY_HEADER)
    for cell in summary[4]:
        cell.font = Font(bold=True)
    for row in report.summary_rows():
        summary.append(row)
    summary[summary.max_row][1].font = Font(bold=True)
    sheet = book.create_sheet("Đại biểu")
    sheet.append(PEOPLE_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in report.people:
        sheet.append(line)
    for ws in (summary, sheet):
        # Names and units are text as typed, never formulas ("=1+1" stays "=1+1").
        for row_cells in ws.iter_rows():
            for cell in row_cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    for ws, widths in ((summary, (14, 34, 10, 10, 14, 10)), (sheet, (24, 28, 28, 34, 14, 18, 24))):
        for n, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + n)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ReportContext(TypedDict):
    """The context of web/templates/documents/attendance.html."""

    title: str
    organizing_body: str
    made_at: str
    header: list[str]
    rows: list[list[Any]]
    people_header: list[str]
    people: list[list[str]]


def pdf_context(report: Report) -> ReportContext:
    """Plain data for web/templates/documents/attendance.html."""
    return {
        "title": report.conference.title,
        "organizing_body": report.conference.organizing_body,
        "made_at": f"{report.made_at:%H:%M %d/%m/%Y}",
        "header": SUMMARY_HEADER,
        "rows": report.summary_rows(),
        "people_header": PEOPLE_HEADER,
        "people": report.people,
    }
