"""Workbooks for the import tests: real ones written by openpyxl, and one member of an
archive swapped for a damaged or hostile part."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl


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
