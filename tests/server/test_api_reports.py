"""Attendance exports: CSV, XLSX and PDF hold the real figures, Vietnamese intact."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
from typing import Any

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from tests.conftest import Api
from tests.server.test_api_checkin import Hall, make_hall, nonce

Client = TestClient[Any, Any]


async def checked_in_hall(client: Client, organizer: Api) -> Hall:
    hall = await make_hall(client, organizer)
    for name, site in (("Nguyễn Văn An", "HNI"), ("Lê Văn Cường", "LCI")):
        status, body = await hall.operators[site].post(
            hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge(name)}
        )
        assert status == 200, body
    return hall


async def download(api: Api, path: str) -> tuple[int, bytes, str]:
    resp = await api.client.get(path, headers=api._headers())
    return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


async def test_csv_has_one_row_per_site_and_a_total(client: Client, organizer: Api) -> None:
    hall = await checked_in_hall(client, organizer)
    status, body, kind = await download(organizer, hall.url("/attendance/export.csv"))
    assert status == 200 and kind.startswith("text/csv")
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Mã điểm cầu", "Điểm cầu"]
    assert rows[1:] == [
        ["HNI", "Hà Nội", "2", "2", "1", "50.0"],
        ["LCI", "Lào Cai", "2", "2", "1", "50.0"],
        ["HPG", "Hải Phòng", "1", "1", "0", "0.0"],
        ["", "Tổng cộng", "5", "5", "2", "40.0"],
    ]
    status, body, _ = await download(organizer, hall.url("/attendance/export.csv?people=1"))
    people = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    came = {row[1]: row[6] for row in people[1:]}
    assert came["Nguyễn Văn An"] == "Hà Nội" and came["Trần Thị Bình"] == ""
    assert len(people) == 6


async def test_an_operator_exports_only_their_site(client: Client, organizer: Api) -> None:
    hall = await checked_in_hall(client, organizer)
    status, body, _ = await download(hall.operators["LCI"], hall.url("/attendance/export.csv"))
    assert status == 200
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["LCI", ""]
    status, body, _ = await download(
        hall.operators["LCI"], hall.url("/attendance/export.csv?people=1")
    )
    assert "Nguyễn Văn An" not in body.decode("utf-8-sig")


async def test_xlsx_has_the_figures_and_the_people(client: Client, organizer: Api) -> None:
    hall = await checked_in_hall(client, organizer)
    status, body, kind = await download(organizer, hall.url("/attendance/export.xlsx"))
    assert status == 200 and "spreadsheetml" in kind
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Tổng hợp", "Đại biểu"]
    summary = [list(r) for r in book["Tổng hợp"].iter_rows(min_row=5, values_only=True)]
    assert summary[0] == ["HNI", "Hà Nội", 2, 2, 1, 50.0]
    assert summary[-1][1:] == ["Tổng cộng", 5, 5, 2, 40.0]
    names = [r[1] for r in book["Đại biểu"].iter_rows(min_row=2, values_only=True)]
    assert "Phạm Thị Dung" in names and len(names) == 5


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


async def test_pdf_reads_back_with_its_diacritics(client: Client, organizer: Api) -> None:
    hall = await checked_in_hall(client, organizer)
    status, body, kind = await download(organizer, hall.url("/attendance/export.pdf"))
    assert status == 200 and kind == "application/pdf"
    text = " ".join((await asyncio.to_thread(pdf_text, body)).split())
    for words in ("BÁO CÁO ĐIỂM DANH", "Hội nghị toàn quốc", "Nguyễn Văn An", "Hải Phòng"):
        assert words in text, words
    assert "Tổng cộng" in text and "40.0" in text


def test_the_report_template_has_every_glyph() -> None:
    from conference.documents import render_template

    rendered = render_template(
        "attendance.html",
        {
            "title": "Hội nghị toàn quốc Văn phòng cấp ủy",
            "organizing_body": "Văn phòng Trung ương Đảng",
            "made_at": "08:00 10/12/2026",
            "header": ["Mã điểm cầu", "Điểm cầu", "Dự kiến", "Đăng ký", "Đã điểm danh", "Tỷ lệ"],
            "rows": [["ĐTP", "Đồng Tháp", 10, 10, 9, 90.0], ["", "Tổng cộng", 10, 10, 9, 90.0]],
            "people_header": ["Điểm cầu", "Họ và tên"],
            "people": [["Đồng Tháp", "Lê Thị Ngọc Ẩn"]],
        },
        strict=True,
    )
    assert rendered.pages == 1 and rendered.missing == ()


async def test_names_that_look_like_formulas_stay_text(client: Client, organizer: Api) -> None:
    hall = await make_hall(client, organizer)
    status, body = await organizer.post(
        hall.url("/delegates"),
        {"name": "=1+1", "site": "HNI", "unit": '=HYPERLINK("http://x","y")'},
    )
    assert status == 201, body
    status, raw, _ = await download(organizer, hall.url("/attendance/export.xlsx"))
    sheet = load_workbook(io.BytesIO(raw))["Đại biểu"]
    cells = {c.value: c.data_type for row in sheet.iter_rows(min_row=2) for c in row if c.value}
    assert cells["=1+1"] == "s" and cells['=HYPERLINK("http://x","y")'] == "s"
    status, raw, _ = await download(organizer, hall.url("/attendance/export.csv?people=1"))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r[1] for r in rows if "1+1" in r[1]] == ["'=1+1"]
    status, raw, _ = await download(organizer, hall.url("/delegates/links.csv"))
    assert "'=1+1" in raw.decode("utf-8-sig")
