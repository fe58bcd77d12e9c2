"""Reading delegate lists (CSV, XLSX) and checking their rows: pure functions, no database."""

from __future__ import annotations

import codecs
import io
import zipfile
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from attendance.importing import (
    CATEGORY_WORDS,
    HEADERS,
    MAX_ROWS,
    ROW_NUMBER_HEADERS,
    Table,
    check_table,
    column_letter,
    header_key,
    read_table,
)
from conference.errors import InvalidInput
from tests import workbooks
from tests.workbooks import csv_bytes, problems, rewritten

# A Vietnamese sheet name, as the offices' workbooks have.
xlsx = partial(workbooks.xlsx, title="Danh sách")

SITES = [("HNI", "Hà Nội"), ("LCI", "Lào Cai"), ("HCM", "TP. Hồ Chí Minh")]
VN_HEADER = ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Điểm cầu", "Loại", "Điện thoại", "Email"]


def check(table: Table, people: set[tuple[str, str]] | None = None, **emails: str) -> Any:
    return check_table(table, SITES, people or set(), emails)


refused = partial(workbooks.refused, read_table)


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Họ và tên", "name"),
        ("HỌ VÀ TÊN", "name"),
        ("ho va ten", "name"),
        ("Họ tên:", "name"),
        ("Tên", "name"),
        ("Full name", "name"),
        ("Chức danh", "title"),
        ("Position", "title"),
        ("Cơ quan", "unit"),
        ("Organisation", "unit"),
        ("Mã điểm cầu", "site"),
        ("Site code", "site"),
        ("Thành phần", "category"),
        ("Loại đại biểu", "category"),
        ("SĐT", "phone"),
        ("Số điện thoại", "phone"),
        ("Thư điện tử", "email"),
        ("E-mail", "email"),
    ],
)
def test_header_synonyms(header: str, field: str) -> None:
    cells = {"name": [header, "Điểm cầu"], "site": ["Họ và tên", header]}.get(
        field, ["Họ và tên", "Điểm cầu", header]
    )
    table = read_table(csv_bytes([cells]))
    assert table.headers[field] == header and table.columns[field] == cells.index(header)
    assert table.ignored_columns == [] and table.rows == []


def test_header_key_folds_case_diacritics_and_punctuation() -> None:
    assert header_key("  Họ và TÊN (*): ") == "ho va ten"
    assert header_key("SĐT") == "sdt"
    assert header_key("#") == "#"
    assert [column_letter(i) for i in (0, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


# --- XLSX ----------------------------------------------------------------------------------


def test_xlsx_with_a_title_row_above_the_vietnamese_header() -> None:
    raw = xlsx(
        [
            ["DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ TOÀN QUỐC"],
            [None],
            [*VN_HEADER, "Ghi chú"],
            [1, "Nguyễn Văn A", "Chánh Văn phòng", "Tỉnh ủy Lào Cai", "LCI", "Chính thức",
             "0912 345 678", "a@example.vn", "đến muộn"],
            [2, "Trần Thị B", "Phó Chánh Văn phòng", "Thành ủy Hà Nội", "Hà Nội", "Dự khuyết"],
            [None, None, None],
            [3, "Lê Văn C", None, None, "hcm", "khách mời", 912345678, None],
        ]
    )  # fmt: skip
    table = read_table(raw)
    assert table.format == "xlsx" and table.header_row == 3
    assert table.ignored_columns == ["Ghi chú"]
    assert [row.number for row in table.rows] == [4, 5, 7]
    checked = check(table)
    assert checked.report.problems == []
    assert (checked.report.rows, checked.report.valid, checked.report.invalid) == (3, 3, 0)
    a, b, c = checked.delegates
    assert (a.name, a.site, a.category, a.phone) == (
        "Nguyễn Văn A",
        "LCI",
        "official",
        "0912 345 678",
    )
    assert (b.site, b.category, b.title) == ("HNI", "alternate", "Phó Chánh Văn phòng")
    # A number cell lost the leading 0 of the phone number; it is put back.
    assert (c.site, c.category, c.phone) == ("HCM", "guest", "0912345678")


def test_xlsx_reads_only_the_first_sheet_and_numbers_as_text() -> None:
    raw = xlsx([["Họ và tên", "Điểm cầu", "Chức vụ"], ["Nguyễn Văn A", "LCI", 12.0]], sheets=3)
    table = read_table(raw)
    assert [row.cells for row in table.rows] == [("Nguyễn Văn A", "LCI", "12")]


def test_xlsx_row_numbers_in_the_report() -> None:
    raw = xlsx(
        [
            ["Danh sách"],
            ["Họ và tên", "Điểm cầu", "Email"],
            ["Nguyễn Văn A", "LCI", "a@example.vn"],
            [None, "LCI", None],
            ["Lò Văn Páo", "XYZ", "not-an-email"],
        ]
    )
    checked = check(read_table(raw))
    assert problems(checked) == [
        (4, "name", "Họ và tên"),
        (5, "site", "Điểm cầu"),
        (5, "email", "Email"),
    ]
    messages = [p.message for p in checked.report.problems]
    assert messages[0] == "missing: the name"
    assert "XYZ" in messages[1] and "not an email" in messages[2]
    assert (checked.report.valid, checked.report.invalid) == (1, 2)


def test_xlsx_header_must_be_within_the_first_ten_rows() -> None:
    rows: list[list[Any]] = [[f"dòng {n}"] for n in range(10)]
    error = refused(xlsx([*rows, ["Họ và tên", "Điểm cầu"], ["Nguyễn Văn A", "LCI"]]))
    assert "no header row in the first 10 rows" in error.message
    table = read_table(xlsx([*rows[:9], ["Họ và tên", "Điểm cầu"], ["Nguyễn Văn A", "LCI"]]))
    assert table.header_row == 10 and table.rows[0].number == 11


def test_xlsx_files_that_are_not_workbooks() -> None:
    assert "empty" in refused(xlsx([])).message
    assert "not a readable Excel workbook" in refused(b"PK\x03\x04 this is not a zip").message
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "not a readable Excel workbook" in refused(docx.getvalue()).message
    old = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert ".xls" in refused(old).message
    assert (
        "not an Excel workbook" in refused(csv_bytes([["Họ và tên", "Điểm cầu"]]), "xlsx").message
    )


def test_damaged_and_oversized_workbooks() -> None:
    good = xlsx([["Họ và tên", "Điểm cầu"], ["Nguyễn Văn A", "LCI"]])
    sheet = "xl/worksheets/sheet1.xml"
    broken = rewritten(good, sheet, b"<worksheet><sheetData><row r='1'><c r='A1'><v>")
    assert "not a readable Excel workbook" in refused(broken).message
    main = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    # A cell pointing at shared string 99 of 3.
    lost = main + b'<sheetData><row r="1"><c r="A1" t="s"><v>99</v></c></row></sheetData>'
    error = refused(rewritten(good, sheet, lost + b"</worksheet>"))
    assert "damaged: its first sheet cannot be read" in error.message
    # Unpacks to 120 MB from a few hundred kilobytes.
    padded = main + b" " * 120_000_000 + b"<sheetData/></worksheet>"
    bomb = rewritten(good, sheet, padded)
    assert len(bomb) < 1_000_000
    error = refused(bomb)
    assert error.code == "too_large" and "100 MB" in error.message


# --- CSV -----------------------------------------------------------------------------------


def test_csv_with_bom_and_semicolons() -> None:
    raw = csv_bytes(
        [
            ["STT", "Họ và tên", "Điểm cầu", "Chức vụ", "Đơn vị"],
            ["1", "Nguyễn Văn A", "LCI", "Chánh Văn phòng", "Tỉnh ủy Lào Cai, tỉnh Lào Cai"],
            ["2", "Trần Thị B", "lào cai", "", ""],
        ],
        ";",
        bom=True,
    )
    table = read_table(raw)
    assert table.format == "csv" and table.header_row == 1 and table.ignored_columns == []
    checked = check(table)
    assert problems(checked) == []
    assert [d.name for d in checked.delegates] == ["Nguyễn Văn A", "Trần Thị B"]
    assert checked.delegates[0].unit == "Tỉnh ủy Lào Cai, tỉnh Lào Cai"
    assert [d.site for d in checked.delegates] == ["LCI", "LCI"]


def test_csv_with_commas_and_quotes_and_a_cell_over_two_lines() -> None:
    raw = (
        'name,site,unit,phone\n"Nguyễn Văn A",HNI,"Văn phòng, Thành ủy\nHà Nội",+84 24 3825 0000\n'
        "Trần Thị B,HNI,,abc\n"
    ).encode()
    table = read_table(raw)
    checked = check(table)
    # Rows are counted as a spreadsheet shows them, not as lines of text.
    assert problems(checked) == [(3, "phone", "phone")]
    assert checked.delegates[0].unit == "Văn phòng, Thành ủy\nHà Nội"


def test_csv_tab_separated_utf16_from_excel() -> None:
    text = "Họ và tên\tĐiểm cầu\tThành phần\r\nNguyễn Văn A\tHCM\tPhục vụ\r\n"
    for raw in (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), text.encode("utf-16-le")):
        checked = check(read_table(raw))
        assert problems(checked) == []
        assert checked.delegates[0].category == "staff"


def test_csv_header_below_a_title_line() -> None:
    raw = csv_bytes([["Danh sách đại biểu", "", ""], ["", "", ""], ["Tên", "Site", "Position"],
                     ["Nguyễn Văn A", "HNI", "Chánh Văn phòng"]])  # fmt: skip
    table = read_table(raw)
    assert table.header_row == 3 and table.rows[0].number == 4


def test_csv_files_that_are_refused() -> None:
    assert refused(b"").message == "the file is empty"
    assert refused(b"   \r\n ").message == "the file is empty"
    assert refused(codecs.BOM_UTF8).message == "the file is empty"
    assert refused(b",,,\r\n\t,\r\n").message == "the file is empty"
    error = refused(csv_bytes([["Tên", "Chức vụ"], ["Nguyễn Văn A", "x"]]))
    assert "no site column" in error.message and "row 1" in error.message
    error = refused(csv_bytes([["Tên", "Chức vụ"], ["Nguyễn Văn A", "x"]], ";"))
    assert "no site column" in error.message and "row 1" in error.message
    error = refused(csv_bytes([["Số", "Điểm cầu"], ["1", "x"]], "\t"))
    assert "no name column" in error.message
    error = refused(csv_bytes([["Số", "Ghi chú"], ["1", "x"]]))
    assert "no header row" in error.message
    error = refused(csv_bytes([["Họ và tên", "Điểm cầu", "Tên"], ["a", "b", "c"]]))
    assert "two columns hold the name" in error.message and "column C" in error.message
    # A CSV saved by Excel in a Windows code page, not UTF-8.
    error = refused("name,site\nJosé Ramos,HNI\n".encode("cp1258"))
    assert "UTF-8" in error.message and "line 2" in error.message
    assert "neither" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01").message
    assert "neither" in refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj").message


def test_too_many_rows() -> None:
    lines = ["Họ và tên,Điểm cầu", *(f"Người {n},HNI" for n in range(MAX_ROWS + 1))]
    with pytest.raises(InvalidInput) as excinfo:
        read_table("\n".join(lines).encode())
    assert excinfo.value.code == "too_large" and excinfo.value.field == "file"
    assert "50,000" in excinfo.value.message
    assert len(read_table("\n".join(lines[:-1]).encode()).rows) == MAX_ROWS


# --- checking rows -------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_row_and_column() -> None:
    raw = csv_bytes(
        [
            ["Họ và tên", "Điểm cầu", "Loại", "Điện thoại", "Email", "Chức vụ"],
            ["Nguyễn Văn A", "HNI", "", "", "a@example.vn", ""],  # 2 ok
            ["", "HNI", "", "", "", ""],  # 3 no name
            ["Trần Thị B", "", "", "", "", ""],  # 4 no site
            ["Trần Thị C", "Đà Nẵng", "", "", "", ""],  # 5 unknown site
            ["NGUYỄN VĂN A", "hni", "", "", "", ""],  # 6 twice in the file
            ["Lê Văn D", "HCM", "vip", "", "", ""],  # 7 unknown category
            ["Lê Văn E", "HCM", "", "gọi anh E", "", ""],  # 8 bad phone
            ["Lê Văn F", "HCM", "", "", "f@", ""],  # 9 bad email
            ["Lê Văn G", "HCM", "", "", "A@Example.vn", ""],  # 10 email twice
            ["Lê Văn H", "HCM", "", "", "", "x" * 201],  # 11 title too long
            ["Lê\x00Văn I", "HCM", "", "", "", ""],  # 12 control character
            ["Hoàng Văn K", "LCI", "", "", "", ""],  # 13 already registered
            ["Lý Văn L", "LCI", "", "", "l@example.vn", ""],  # 14 email of someone registered
        ]
    )
    checked = check(read_table(raw), {("LCI", "hoang van k")}, **{"l@example.vn": "Lý L (HNI)"})
    assert problems(checked) == [
        (3, "name", "Họ và tên"),
        (4, "site", "Điểm cầu"),
        (5, "site", "Điểm cầu"),
        (6, "name", "Họ và tên"),
        (7, "category", "Loại"),
        (8, "phone", "Điện thoại"),
        (9, "email", "Email"),
        (10, "email", "Email"),
        (11, "title", "Chức vụ"),
        (12, "name", "Họ và tên"),
        (13, "name", "Họ và tên"),
        (14, "email", "Email"),
    ]
    messages = {p.row: p.message for p in checked.report.problems}
    assert messages[3] == "missing: the name"
    assert messages[4] == "missing: the site code or site name"
    assert "unknown site 'Đà Nẵng'" in messages[5]
    assert messages[6] == "NGUYỄN VĂN A is listed twice at HNI (also row 2)"
    assert "unknown category 'vip'" in messages[7] and "chính thức" in messages[7]
    assert "not a phone number" in messages[8]
    assert "not an email" in messages[9]
    assert messages[10] == "the email a@example.vn is listed twice (also row 2)"
    assert "200" in messages[11]
    assert "control characters" in messages[12]
    assert messages[13] == "Hoàng Văn K is already a delegate at LCI"
    assert messages[14] == "the email l@example.vn is already that of Lý L (HNI)"
    report = checked.report
    assert (report.rows, report.valid, report.invalid) == (13, 1, 12)
    assert [d.name for d in checked.delegates] == ["Nguyễn Văn A"]


def test_a_row_with_several_problems_lists_them_in_column_order() -> None:
    raw = csv_bytes([["Email", "Điểm cầu", "Họ và tên"], ["x", "nowhere", ""]])
    checked = check(read_table(raw))
    assert problems(checked) == [(2, "name", "Họ và tên"), (2, "site", "Điểm cầu"),
                                 (2, "email", "Email")]  # fmt: skip
    assert checked.report.invalid == 1


def test_sites_by_code_or_by_name_and_ambiguous_names() -> None:
    raw = csv_bytes(
        [
            ["name", "site"],
            ["A", "tp. ho chi minh"],
            ["B", "Thái Bình"],
            ["C", "tb2"],
            ["D", "Điểm cầu Lào Cai"],
            ["E", "Trung ương"],
        ]
    )
    table = read_table(raw)
    sites = [*SITES, ("TB1", "Thái Bình"), ("TB2", "Thái Bình"), ("TW", "Điểm cầu Trung ương")]
    checked = check_table(table, sites, set(), {})
    assert [d.site for d in checked.delegates] == ["HCM", "TB2", "LCI", "TW"]
    assert problems(checked) == [(3, "site", "site")]
    assert "give the site code" in checked.report.problems[0].message


@pytest.mark.parametrize(
    ("word", "category"),
    [
        ("Chính thức", "official"),
        ("ĐẠI BIỂU CHÍNH THỨC", "official"),
        ("official", "official"),
        ("dự khuyết", "alternate"),
        ("Alternate", "alternate"),
        ("Khách mời", "guest"),
        ("guest", "guest"),
        ("Phục vụ", "staff"),
        ("nhân viên", "staff"),
        ("STAFF", "staff"),
        ("", "official"),
    ],
)
def test_category_words(word: str, category: str) -> None:
    checked = check(read_table(csv_bytes([["name", "site", "category"], ["A", "HNI", word]])))
    assert [d.category for d in checked.delegates] == [category]


def test_report_lists_at_most_a_thousand_problems() -> None:
    lines = ["name,site", *(f"Người {n},XYZ" for n in range(1200))]
    report = check(read_table("\n".join(lines).encode())).report
    assert len(report.problems) == 1000 and report.problems_omitted == 200
    assert report.invalid == 1200 and report.valid == 0


def test_the_documentation_lists_every_header_and_category_word() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "delegates.md").read_text("utf-8")
    words = [w for group in CATEGORY_WORDS.values() for w in group]
    headers = [h for group in HEADERS.values() for h in group]
    for word in (*headers, *ROW_NUMBER_HEADERS, *words):
        assert word in text, f"docs/delegates.md does not mention {word!r}"
