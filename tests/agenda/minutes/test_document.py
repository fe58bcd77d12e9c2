"""The minutes as documents: the secretary's markup, the A4 PDF record and the DOCX."""

from __future__ import annotations

import copy
import io
import subprocess
import unicodedata
from functools import cache
from typing import Any

import docx
import pytest

from agenda.minutes.text import blocks, plain
from agenda.minutes.word import build_docx
from conference.documents import Rendered, render_template
from tests.conference.test_documents import PRINT_DPIS, scan_pages

URL = "https://hoinghi.example.vn/xac-minh/BB12-7KQ4-M2XD"
LONG_UNIT = (
    "Ban Tuyên giáo và Dân vận Tỉnh ủy Thừa Thiên Huế kiêm Trường Chính trị Nguyễn Chí Thanh"
)
AMENDMENT = "Bổ sung ý kiến của đồng chí **Đặng Quốc Việt** về tiến độ triển khai."
OPENING = 'Đồng chí **Chủ trì** tuyên bố lý do (chỉ tiêu <b>5%</b> & "đạt").'
DECISIONS = (
    "Thông qua Chương trình hành động thực hiện Nghị quyết năm 2027.",
    "Giao Văn phòng Trung ương tổng hợp ý kiến trước ngày 31/12/2026.",
)


# --- blocks() and plain() ----------------------------------------------------------------------


def run(text: str, bold: bool = False) -> dict[str, Any]:
    return {"text": text, "bold": bold}


def test_paragraphs_split_on_blank_lines_and_keep_line_breaks() -> None:
    text = "Hội nghị khai mạc.\nĐồng chí chủ trì phát biểu.\n\n  \nPhần hai."
    assert blocks(text) == [
        {"type": "p", "lines": [[run("Hội nghị khai mạc.")], [run("Đồng chí chủ trì phát biểu.")]]},
        {"type": "p", "lines": [[run("Phần hai.")]]},
    ]


def test_bold_runs() -> None:
    assert blocks("Hội nghị **thống nhất** cao, **100%**.") == [
        {
            "type": "p",
            "lines": [
                [
                    run("Hội nghị "),
                    run("thống nhất", True),
                    run(" cao, "),
                    run("100%", True),
                    run("."),
                ]
            ],
        }
    ]


def test_unbalanced_markers_stay_literal() -> None:
    assert blocks("a **b** c **d") == [
        {"type": "p", "lines": [[run("a "), run("b", True), run(" c **d")]]}
    ]
    assert blocks("****") == [{"type": "p", "lines": [[run("****")]]}]
    # bold does not run across a line break
    assert blocks("**a\nb**") == [{"type": "p", "lines": [[run("**a")], [run("b**")]]}]


def test_bulleted_and_numbered_lists() -> None:
    text = (
        "Hội nghị thống nhất:\n- Điểm cầu **Đắk Lắk**\n* Điểm cầu Huế\n  (trực tuyến)\n"
        "\n1. Thông qua\n2. Giao nhiệm vụ\n\n3. Tiếp tục"
    )
    assert blocks(text) == [
        {"type": "p", "lines": [[run("Hội nghị thống nhất:")]]},
        {
            "type": "ul",
            "items": [[run("Điểm cầu "), run("Đắk Lắk", True)], [run("Điểm cầu Huế (trực tuyến)")]],
        },
        {"type": "ol", "start": 1, "items": [[run("Thông qua")], [run("Giao nhiệm vụ")]]},
        {"type": "ol", "start": 3, "items": [[run("Tiếp tục")]]},
    ]


def test_crlf_decomposed_text_and_empty_text() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    assert blocks(f"{decomposed}\r\n\r\n- một\r- hai\r\n") == [
        {"type": "p", "lines": [[run("Nguyễn Thị Hồng Nhung")]]},
        {"type": "ul", "items": [[run("một")], [run("hai")]]},
    ]
    assert blocks("") == []
    assert blocks(" \n\r\n\t") == []


def test_plain_strips_paired_markers_only() -> None:
    assert plain("Hội nghị **thống nhất** cao **x") == "Hội nghị thống nhất cao **x"
    assert plain("") == ""


# --- the content: a realistic example -------------------------------------------------------


def speaker(number: int, name: str, site: str, item: str, start: str, end: str) -> dict[str, Any]:
    return {
        "number": number,
        "name": name,
        "title": "Phó Bí thư Tỉnh ủy",
        "unit": LONG_UNIT if number == 1 else f"Tỉnh ủy {site}",
        "site_name": site,
        "item_number": item,
        "item_title": "Quán triệt Nghị quyết" if item == "1" else "Thảo luận tổ",
        "time_label": f"{start}–{end}",
        "duration_label": "7 phút",
    }


def content(status: str = "final") -> dict[str, Any]:
    """The minutes' template data, as the minutes service would make it."""
    speakers = [
        speaker(1, "Nguyễn Thị Hồng Nhung", "Thừa Thiên Huế", "1", "08:05", "08:12"),
        speaker(2, "Đặng Quốc Việt", "Đắk Lắk", "2.1", "09:20", "09:27"),
        speaker(3, "Trịnh Ưng Ỷ", "TP. Hồ Chí Minh", "2.1", "09:28", "09:35"),
    ]

    def item_speaker(s: dict[str, Any]) -> dict[str, Any]:
        start, end = s["time_label"].split("–")
        return {
            "name": s["name"],
            "title": s["title"],
            "unit": s["unit"],
            "site_name": s["site_name"],
            "started_label": start,
            "ended_label": end,
            "duration_label": s["duration_label"],
            "kind": "speech",
        }

    return {
        "status": status,
        "version": 3,
        "lang": "vi",
        "header": {
            "issuing_body": ["BAN CHẤP HÀNH TRUNG ƯƠNG", "VĂN PHÒNG"],
            "document_number": "Số: 12-BB/VPTW",
            "heading": "ĐẢNG CỘNG SẢN VIỆT NAM",
            "place_date": "Hà Nội, ngày 15 tháng 12 năm 2026",
            "title": "BIÊN BẢN",
            "subtitle": "Hội nghị toàn quốc quán triệt Nghị quyết Trung ương",
        },
        "intro": [
            "Thời gian: 08 giờ 00, ngày 15 tháng 12 năm 2026.",
            "Địa điểm: Hội trường Văn phòng Trung ương, kết nối trực tuyến 3 điểm cầu.",
        ],
        "attendance": {
            "at_label": "08:30 ngày 15/12/2026",
            "sites": [
                {"code": "HUE", "name": "Thừa Thiên Huế", "expected": 120, "present": 118},
                {"code": "DLK", "name": "Đắk Lắk", "expected": 95, "present": 90},
                {"code": "HCM", "name": "TP. Hồ Chí Minh", "expected": 210, "present": 207},
            ],
            "total_expected": 425,
            "total_present": 415,
        },
        "roll_call": {"started_label": "07:55", "answered": 2, "total": 3, "missing": ["Đắk Lắk"]},
        "opening": {"blocks": blocks(OPENING)},
        "closing": {"blocks": blocks("Hội nghị kết thúc lúc 11 giờ 30 cùng ngày.")},
        "items": [
            {
                "number": "1",
                "depth": 0,
                "title": "Quán triệt Nghị quyết",
                "presenter": "Nguyễn Thị Hồng Nhung",
                "status": "done",
                "status_label": "Đã xong",
                "started_label": "08:05",
                "ended_label": "09:10",
                "duration_label": "65 phút",
                "speakers": [item_speaker(speakers[0])],
                "blocks": blocks("Các đại biểu nhất trí:\n- nội dung **cốt lõi**\n- lộ trình"),
                "decisions": [DECISIONS[0]],
            },
            {
                "number": "2",
                "depth": 0,
                "title": "Thảo luận",
                "presenter": "",
                "status": "done",
                "status_label": "Đã xong",
                "started_label": "09:15",
                "ended_label": "10:30",
                "duration_label": "75 phút",
                "speakers": [],
                "blocks": [],
                "decisions": [],
            },
            {
                "number": "2.1",
                "depth": 1,
                "title": "Thảo luận tổ",
                "presenter": "",
                "status": "done",
                "status_label": "Đã xong",
                "started_label": "09:20",
                "ended_label": "09:40",
                "duration_label": "20 phút",
                "speakers": [item_speaker(speakers[1]), item_speaker(speakers[2])],
                "blocks": blocks("1. Ý kiến thứ nhất\n2. Ý kiến thứ hai"),
                "decisions": [DECISIONS[1]],
            },
            {
                "number": "3",
                "depth": 0,
                "title": "Bế mạc",
                "presenter": "",
                "status": "skipped",
                "status_label": "Không thực hiện",
                "started_label": "",
                "ended_label": "",
                "duration_label": "",
                "speakers": [],
                "blocks": [],
                "decisions": [],
            },
        ],
        "speakers": speakers,
        "decisions": [
            {
                "number": 1,
                "item_number": "1",
                "item_title": "Quán triệt Nghị quyết",
                "text": DECISIONS[0],
            },
            {"number": 2, "item_number": "2.1", "item_title": "Thảo luận tổ", "text": DECISIONS[1]},
        ],
        "awards": [
            {
                "kind_label": "Bằng khen",
                "recipient": "Văn phòng Tỉnh ủy Đắk Lắk",
                "decision_number": "QĐ 45-QĐ/TW",
            }
        ],
        "amendments": [
            {
                "number": 1,
                "at_label": "14:00 ngày 15/12/2026",
                "by": "Lê Thị Ngọc Ẩn",
                "blocks": blocks(AMENDMENT),
            }
        ],
        "signatures": {
            "chair": {"role_label": "Chủ trì", "name": "Đặng Quốc Việt"},
            "secretary": {"role_label": "Thư ký", "name": "Lê Thị Ngọc Ẩn"},
        },
        "verification": ({"code": "BB12-7KQ4-M2XD", "url": URL} if status == "final" else None),
    }


# --- the PDF ------------------------------------------------------------------------------------


@cache
def final_pdf() -> Rendered:
    return render_template("minutes.html", content(), strict=True)


def pdf_text(pdf: bytes, *pages: int) -> str:
    """pdftotext -layout's reading of pdf (or of one page), in NFC."""
    first_last = ["-f", str(pages[0]), "-l", str(pages[0])] if pages else []
    done = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", *first_last, "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    )
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8"))


def flat(text: str) -> str:
    """Whitespace collapsed, so that a phrase found does not depend on where lines wrap."""
    return " ".join(text.split())


def test_final_pdf_holds_the_record() -> None:
    rendered = final_pdf()
    text = pdf_text(rendered.pdf)
    assert rendered.missing == ()
    for expected in (
        "BIÊN BẢN",
        "Số: 12-BB/VPTW",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Hà Nội, ngày 15 tháng 12 năm 2026",
        "Hội nghị toàn quốc quán triệt Nghị quyết Trung ương",
        "Nguyễn Thị Hồng Nhung",
        "Đặng Quốc Việt",
        "Trịnh Ưng Ỷ",
        "Thừa Thiên Huế",
        "Đắk Lắk",
        "TP. Hồ Chí Minh",
        "08:05–08:12",
        "09:28–09:35",
        "Số liệu lúc 08:30 ngày 15/12/2026",
        "Sửa đổi số 1",
        "Mã xác minh BB12-7KQ4-M2XD",
        "Trang 1/",
    ):
        assert expected in text, expected
    words = flat(text)
    for expected in (
        *DECISIONS,
        plain(AMENDMENT),
        plain(OPENING),  # markup-like text is printed as typed
        "Bắt đầu 08:05, kết thúc 09:10 (65 phút)",
    ):
        assert expected in words, expected
    assert "**" not in text
    assert "DỰ THẢO" not in text
    assert "Không thực hiện" in text  # the skipped item shows its status, not empty times


def test_draft_pdf_is_marked_and_not_verifiable() -> None:
    rendered = render_template("minutes.html", content("draft"), strict=True)
    text = pdf_text(rendered.pdf)
    assert "DỰ THẢO" in text
    assert "Mã xác minh" not in text and "Xác minh tại" not in text
    assert "BIÊN BẢN" in text


@pytest.mark.parametrize("dpi", PRINT_DPIS)
def test_qr_on_the_last_page_scans_to_the_verification_url(dpi: int) -> None:
    rendered = final_pdf()
    last = rendered.pages
    assert flat(URL) in flat(pdf_text(rendered.pdf, last).replace("-\n", "-"))
    # Every page read: the one code, on the last page only.
    assert scan_pages(rendered.pdf, dpi) == [[]] * (last - 1) + [[URL]]


def test_a_long_speaker_list_paginates_with_its_header_repeated() -> None:
    data = content()
    sites = ["Thừa Thiên Huế", "Đắk Lắk", "TP. Hồ Chí Minh"]
    data["speakers"] = [
        speaker(n, f"Đặng Quốc Việt {n}", sites[n % 3], "2.1", "09:20", "09:27")
        for n in range(1, 61)
    ]
    rendered = render_template("minutes.html", data, strict=True)
    assert rendered.pages >= 3
    with_header = [
        p for p in range(1, rendered.pages + 1) if "Họ và tên" in pdf_text(rendered.pdf, p)
    ]
    assert len(with_header) >= 2
    assert "Đặng Quốc Việt 60" in pdf_text(rendered.pdf)


def test_optional_sections_and_empty_labels() -> None:
    data = content()
    data.update(awards=[], amendments=[], decisions=[], roll_call=None)
    data["opening"] = {"blocks": []}
    rendered = render_template("minutes.html", data, strict=True)
    text = pdf_text(rendered.pdf)
    assert "KHEN THƯỞNG" not in text and "ĐÍNH CHÍNH" not in text
    assert "IV. KẾT LUẬN VÀ QUYẾT ĐỊNH" in text and "Không có" in text
    assert "Điểm danh" not in text


# --- the DOCX -----------------------------------------------------------------------------------


def docx_text(document: Any) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return unicodedata.normalize("NFC", "\n".join(parts))


def test_docx_holds_the_record_with_bold_runs() -> None:
    data = build_docx(content())
    document = docx.Document(io.BytesIO(data))
    text = docx_text(document)
    for expected in (
        "BIÊN BẢN",
        "Số: 12-BB/VPTW",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Nguyễn Thị Hồng Nhung",
        "Đặng Quốc Việt",
        "Đắk Lắk",
        "TP. Hồ Chí Minh",
        "08:05–08:12",
        *DECISIONS,
        plain(AMENDMENT),
        plain(OPENING),
        "Mã xác minh BB12-7KQ4-M2XD",
    ):
        assert expected in text, expected
    assert "DỰ THẢO" not in text
    assert "**" not in text
    bold = {r.text for p in document.paragraphs for r in p.runs if r.bold}
    assert {"cốt lõi", "Đặng Quốc Việt", "BIÊN BẢN"} <= bold
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert round(section.left_margin.mm) == 30 and round(section.right_margin.mm) == 15


def test_draft_docx_is_marked() -> None:
    data = copy.deepcopy(content("draft"))
    text = docx_text(docx.Document(io.BytesIO(build_docx(data))))
    assert "DỰ THẢO" in text and "Mã xác minh" not in text
