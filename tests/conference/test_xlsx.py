"""Hostile workbooks: rows that jump, huge dimensions, a million empty cells, bombs.

Each is refused (or read) in bounded time, with a too_large error naming the limit.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile

import pytest

from conference import tables
from conference.errors import InvalidInput
from conference.tables import read_table
from tests.conference.test_tables import SPEC
from tests.workbooks import rewritten

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats'
        '-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        + "".join(
            f'<Override PartName="/xl/{part}" ContentType="application/vnd.openxmlformats-'
            f'officedocument.spreadsheetml.{kind}+xml"/>'
            for part, kind in (
                ("workbook.xml", "sheet.main"),
                ("worksheets/sheet1.xml", "worksheet"),
                ("sharedStrings.xml", "sharedStrings"),
                ("styles.xml", "styles"),
            )
        )
        + "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0"?><x:workbook xmlns:x="{MAIN}" xmlns:r="{REL}"><x:sheets>'
        '<x:sheet name="Danh sách" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" '
        f'Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{REL}/styles" '
        'Target="/xl/styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'<?xml version="1.0"?><styleSheet xmlns="{MAIN}"><numFmts count="1">'
        '<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellXfs count="2">'
        '<xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>'
    ),
}
HEADER = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
STRINGS = ["Tên hàng", "Số lượng", "Bút bi"]


def workbook(rows: str, *, strings: list[str] | None = None, head: str = "") -> bytes:
    """A workbook written part by part, as Excel does (shared strings, styles, a prefix)."""
    sheet = (
        f'<?xml version="1.0"?>{head}<worksheet xmlns="{MAIN}">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )
    shared = "".join(f"<si><t>{s}</t></si>" for s in (strings or STRINGS))
    parts = dict(PARTS)
    parts["xl/worksheets/sheet1.xml"] = sheet
    parts["xl/sharedStrings.xml"] = f'<?xml version="1.0"?><sst xmlns="{MAIN}">{shared}</sst>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    return out.getvalue()


def hostile() -> bytes:
    """Rows at 1 and 1,048,576, a dimension of the whole grid and 1,100,000 empty cells."""
    empty = '<c s="1"/>' * 1_100_000
    last = '<row r="1048576"><c r="A1048576" t="s"><v>2</v></c></row>'
    rows = f'{HEADER}<row r="2">{empty}</row>{last}'
    return _with_dimension(rows)


def _with_dimension(rows: str) -> bytes:
    raw = workbook(rows)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
    return rewritten(raw, "xl/worksheets/sheet1.xml", sheet)


def refused(raw: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as excinfo:
        read_table(raw, SPEC)
    assert excinfo.value.field == "file"
    return excinfo.value


def test_a_workbook_written_as_excel_does_reads() -> None:
    rows = (
        HEADER + '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3"><v>12</v></c>'
        '<c r="C3" s="1"><v>46000</v></c></row>'
    )
    table = read_table(workbook(rows), SPEC)
    assert table.header_row == 1
    assert [(r.number, r.cells) for r in table.rows] == [(3, ("Bút bi", "12", "2025-12-09"))]


def test_rows_that_jump_are_read_without_the_rows_between() -> None:
    rows = (
        HEADER + '<row r="2"><c r="A2" t="s"><v>2</v></c></row>'
        '<row r="1048576"><c r="A1048576" t="s"><v>2</v></c></row>'
    )
    started = time.monotonic()
    table = read_table(_with_dimension(rows), SPEC)
    took = time.monotonic() - started
    assert [r.number for r in table.rows] == [2, 1_048_576]
    assert took < 5, f"{took:.1f} s"


def test_a_hostile_sheet_is_refused_by_its_cell_count_in_bounded_time() -> None:
    raw = hostile()
    assert len(raw) < 100_000
    started = time.monotonic()
    error = refused(raw)
    took = time.monotonic() - started
    assert error.code == "too_large" and error.details == {"limit": "cells"}
    assert "more than 1,000,000 cells" in error.message
    assert took < 5, f"{took:.1f} s"


def test_every_row_read_counts_blank_ones_too() -> None:
    blank = "".join(f'<row r="{n}"/>' for n in range(2, tables.MAX_ROWS + 20))
    error = refused(workbook(HEADER + blank))
    assert error.code == "too_large" and error.details == {"limit": "rows"}
    csv = "Tên hàng\n" + "\n" * (tables.MAX_ROWS + 20)
    error = refused(csv.encode())
    assert error.code == "too_large" and error.details == {"limit": "rows"}


def test_shared_strings_count_as_cells() -> None:
    many = [""] * 1_100_000
    error = refused(workbook(HEADER, strings=[*STRINGS, *many]))
    assert error.code == "too_large" and error.details == {"limit": "cells"}


def test_reading_stops_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "MAX_SECONDS", 0.0)
    error = refused(workbook(HEADER + '<row r="2"><c r="A2" t="s"><v>2</v></c></row>'))
    assert error.code == "too_large" and error.details == {"limit": "seconds"}


def test_a_zip_bomb_is_refused_whatever_sizes_its_directory_claims() -> None:
    padded = HEADER + " " * 120_000_000
    honest = workbook(padded)
    assert len(honest) < 1_000_000
    error = refused(honest)
    assert error.code == "too_large" and error.details == {"limit": "unpacked_bytes"}
    # The same archive claiming the sheet unpacks to 1,000 bytes: zipfile stops there
    # and the checksum fails, so no more than the claim is ever unpacked.
    lying = bytearray(honest)
    entry = lying.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", lying, entry + 28)[0]
        name = bytes(lying[entry + 46 : entry + 46 + name_length])
        if name == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", lying, entry + 24, 1000)
            break
        entry = lying.index(b"PK\x01\x02", entry + 4)
    started = time.monotonic()
    error = refused(bytes(lying))
    assert "not a readable Excel workbook" in error.message
    assert time.monotonic() - started < 5


def test_document_type_declarations_are_refused() -> None:
    laughs = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    error = refused(workbook(HEADER, head=laughs))
    assert "not a readable Excel workbook" in error.message
