"""The shared reading of CSV and XLSX lists, for any kind of list: pure functions."""

from __future__ import annotations

import pytest

from conference.errors import InvalidInput
from conference.tables import (
    MAX_REPORTED,
    MAX_ROWS,
    RowProblem,
    SiteLookup,
    TableSpec,
    read_table,
    table_report,
)
from tests.workbooks import xlsx

# A made-up kind of list: only the item column is required.
SPEC = TableSpec(
    "items",
    {"item": ("Tên hàng", "item"), "count": ("Số lượng", "count"), "phone": ("SĐT", "phone")},
    ("item",),
    phone_fields=frozenset({"phone"}),
)


def refused(raw: bytes, spec: TableSpec = SPEC) -> InvalidInput:
    with pytest.raises(InvalidInput) as excinfo:
        read_table(raw, spec)
    assert excinfo.value.field == "file"
    return excinfo.value


def test_a_spec_names_its_own_columns_and_required_fields() -> None:
    table = read_table("STT;TEN HANG;Ghi chú\n1;Bút;x\n\n2;Giấy\n".encode(), SPEC)
    assert (table.format, table.header_row) == ("csv", 1)
    assert table.columns == {"item": 1} and table.headers == {"item": "TEN HANG"}
    assert table.ignored_columns == ["Ghi chú"]
    assert [(r.number, table.value(r, "item"), table.value(r, "count")) for r in table.rows] == [
        (2, "Bút", ""),
        (4, "Giấy", ""),
    ]
    error = refused("Số lượng,SĐT\n1,2\n".encode())
    assert "the header (row 1) has no item column" in error.message
    assert "'Tên hàng', 'item'" in error.message
    error = refused(b"a,b\n1,2\n")
    assert "a header names at least the item column ('Tên hàng', 'item')" in error.message


def test_phone_columns_get_their_leading_zero_back_only_where_the_spec_says() -> None:
    table = read_table(xlsx([["item", "count", "phone"], ["Bút", 912345678, 912345678]]), SPEC)
    assert table.rows[0].cells == ("Bút", "912345678", "0912345678")


def test_the_row_limit_names_what_the_rows_are() -> None:
    raw = "\n".join(["item", *(f"x{n}" for n in range(MAX_ROWS + 1))]).encode()
    error = refused(raw)
    assert error.code == "too_large" and "rows of items" in error.message


def test_sites_by_code_or_name() -> None:
    sites = SiteLookup.of([("HNI", "Hà Nội"), ("TB1", "Thái Bình"), ("TB2", "Điểm cầu Thái Bình")])
    assert sites.find("hni") == ("HNI", "")
    assert sites.find("điểm cầu HÀ NỘI") == ("HNI", "")
    code, why = sites.find("Thái Bình")
    assert code is None and "give the site code" in why
    code, why = sites.find("XYZ")
    assert code is None and "unknown site 'XYZ'" in why


def test_the_report_lists_at_most_a_thousand_problems() -> None:
    table = read_table("\n".join(["item", *(f"x{n}" for n in range(1200))]).encode(), SPEC)
    problems = [
        RowProblem(row=r.number, column="item", field="item", message="bad") for r in table.rows
    ]
    report = table_report(table, problems, 0)
    assert len(report.problems) == MAX_REPORTED and report.problems_omitted == 200
    assert (report.rows, report.valid, report.invalid) == (1200, 0, 1200)
    assert report.dry_run is False and report.imported == 0
