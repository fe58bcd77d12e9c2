"""Files for the import tests: CSV as Excel writes it, real workbooks written by openpyxl,
one member of an archive swapped for a damaged or hostile part; and what the tests read
back (the problems a check found, the refusal of a file)."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from conference.errors import InvalidInput


def xlsx(rows: list[list[Any]], *, title: str | None = None, sheets: int = 1) -> bytes:
    """A real workbook built with openpyxl: `rows` on the first sheet, then `sheets - 1`
    more sheets holding a header only (a reader must look at the first one alone)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if title is not None:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    for n in range(1, sheets):
        book.create_sheet(f"Sheet{n + 1}").append(["Họ và tên", "Điểm cầu"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(raw: bytes, name: str, content: bytes) -> bytes:
    """The workbook `raw` with its archive member `name` replaced by `content`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = content if item.filename == name else source.read(item.filename)
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], delimiter: str = ",", *, bom: bool = False) -> bytes:
    """CSV as Excel writes it (cells holding the delimiter quoted)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return (codecs.BOM_UTF8 if bom else b"") + out.getvalue().encode("utf-8")


def problems(checked: Any) -> list[tuple[int, str, str]]:
    """The problems a check of rows found, in its report: (row, field, column) each."""
    return [(p.row, p.field, p.column) for p in checked.report.problems]


def refused(read: Callable[[bytes, Any], object], raw: bytes, declared: Any = None) -> InvalidInput:
    """The error with which read refuses raw as a file (declared as a media type or not)."""
    with pytest.raises(InvalidInput) as excinfo:
        read(raw, declared)
    assert excinfo.value.field == "file", excinfo.value.message
    return excinfo.value
