"""Reading lists from CSV and XLSX files: bytes -> a header row -> numbered data rows.

Generic and pure (no database): each importer describes its columns with a
:class:`TableSpec` (the accepted headers of each field, which fields a header must
name), and :func:`read_table` finds the header among the first rows, numbers the data
rows as the spreadsheet shows them and enforces the limits. Checking the rows is the
importer's business; :func:`table_report` sums up what it found in the shared shape.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from conference import xlsx
from conference.errors import InvalidInput
from conference.text import fold, nfc
from conference.xlsx import too_large

Format = Literal["csv", "xlsx"]

MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = 100
MAX_REPORTED = 1000
MAX_CELL = 10_000
# Bounds what a small, highly compressed workbook may unpack.
MAX_UNPACKED = 100_000_000
# Every cell a workbook holds counts (blank ones too), as does every shared string.
MAX_CELLS = 1_000_000
# What one file may take to read; the limits above keep a real list well within it.
MAX_SECONDS = 60.0
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DELIMITERS = (",", ";", "\t")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# A row-number column ("STT", "No."): expected, neither read nor reported as ignored.
ROW_NUMBER_HEADERS = ("STT", "Số TT", "TT", "No.", "No", "#")

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: str) -> str:
    """How headers and words in cells are compared: `Họ và tên:` is `ho va ten`."""
    if text.strip() == "#":
        return "#"
    return _NOT_WORD.sub(" ", fold(text)).strip()


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, as spreadsheets name columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def file_error(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


@dataclass(frozen=True)
class TableSpec:
    """What one kind of list looks like.

    headers: the accepted headers of each field (compared with header_key);
    required: the fields a row must name to be the header; noun: what the rows are,
    for messages ("delegates"); phone_fields: columns whose 9-digit number cells lost
    the leading 0 of a Vietnamese phone number.
    """

    noun: str
    headers: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    phone_fields: frozenset[str] = frozenset()
    row_number_headers: tuple[str, ...] = ROW_NUMBER_HEADERS
    field_by_key: dict[str, str] = field(init=False, repr=False, compare=False)
    row_number_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key = {header_key(h): name for name, hs in self.headers.items() for h in hs}
        object.__setattr__(self, "field_by_key", by_key)
        keys = frozenset(header_key(h) for h in self.row_number_headers)
        object.__setattr__(self, "row_number_keys", keys)


@dataclass(frozen=True)
class Row:
    """One data row: its number as the spreadsheet shows it and its cells as text."""

    number: int
    cells: tuple[str, ...]


@dataclass
class Table:
    """A file's header (which column holds which field) and its non-blank data rows."""

    format: Format
    header_row: int
    columns: dict[str, int]
    headers: dict[str, str]
    ignored_columns: list[str]
    rows: list[Row] = field(default_factory=list)

    def value(self, row: Row, name: str) -> str:
        index = self.columns.get(name)
        if index is None or index >= len(row.cells):
            return ""
        return row.cells[index]


# The accepted headers of fields that several kinds of list hold.
TITLE_HEADERS = ("Chức vụ", "Chức danh", "title", "position")
UNIT_HEADERS = (
    "Đơn vị",
    "Đơn vị công tác",
    "Cơ quan",
    "Cơ quan công tác",
    "unit",
    "organisation",
    "organization",
)
SITE_HEADERS = ("Điểm cầu", "Mã điểm cầu", "site", "site code")


# --- the header ------------------------------------------------------------------------


@dataclass
class _Header:
    columns: dict[str, int]
    headers: dict[str, str]
    ignored: list[str]


def _match_header(spec: TableSpec, cells: Sequence[str]) -> _Header | None:
    """The columns of a header row, or None when the row is not one (a required field missing)."""
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        text = nfc(cell)
        if not text:
            continue
        key = header_key(text)
        name = spec.field_by_key.get(key)
        if name is None:
            if key not in spec.row_number_keys:
                ignored.append(text)
            continue
        if name in columns:
            first = column_letter(columns[name])
            raise file_error(
                f"two columns hold the {name}: {headers[name]!r} (column {first}) and "
                f"{text!r} (column {column_letter(index)}); keep one of them"
            )
        columns[name] = index
        headers[name] = text
    if not all(name in columns for name in spec.required):
        return None
    return _Header(columns, headers, ignored)


def _wanted(spec: TableSpec, name: str) -> str:
    accepted = spec.headers[name]
    return ", ".join(repr(h) for h in dict.fromkeys(accepted[:2] + accepted[-2:]))


def _no_header_error(spec: TableSpec, *readings: Sequence[Sequence[str]]) -> InvalidInput:
    """Why no header was found in the first rows (of each way of reading them)."""
    for first_rows in readings:
        for number, cells in enumerate(first_rows, start=1):
            keys = {spec.field_by_key.get(header_key(c)) for c in cells} - {None}
            missing = [name for name in spec.required if name not in keys]
            # A header lacking the only required field names none: its other fields tell.
            alone = len(spec.required) == 1 and bool(keys)
            if missing and (len(missing) < len(spec.required) or alone):
                return file_error(
                    f"the header (row {number}) has no {missing[0]} column: "
                    f"name it one of {_wanted(spec, missing[0])}"
                )
    columns = " and ".join(f"the {name} column ({_wanted(spec, name)})" for name in spec.required)
    return file_error(
        f"no header row in the first {HEADER_SEARCH_ROWS} rows: a header names at least {columns}"
    )


# --- reading a file ----------------------------------------------------------------------


def read_table(raw: bytes, spec: TableSpec, declared: Format | None = None) -> Table:
    """The header and data rows of a CSV or XLSX file (the first sheet); InvalidInput if unreadable.

    The content decides the format: an XLSX workbook is a ZIP archive (starting `PK`),
    anything else must be CSV text. declared is what the client said it sends.
    """
    if not raw.strip():
        raise file_error("the file is empty")
    if raw.startswith(b"PK"):
        return _read_xlsx(raw, spec)
    if raw.startswith(OLE_MAGIC):
        raise file_error(
            "this is an old Excel file (.xls): save it as an Excel Workbook (.xlsx) "
            "or as CSV UTF-8 and send that"
        )
    if declared == "xlsx":
        raise file_error("the file was sent as XLSX but is not an Excel workbook (.xlsx)")
    return _read_csv(_decode(raw), spec)


def _decode(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in raw[:4096]:
        encoding = _utf16_without_bom(raw[:4096])
    else:
        encoding = "utf-8"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding.startswith("utf-16"):
            raise file_error("the file is neither CSV text nor an XLSX workbook") from None
        line = raw[: exc.start].count(b"\n") + 1
        raise file_error(
            f"the file is neither an XLSX workbook nor UTF-8 text (line {line} is not UTF-8): "
            "in Excel, save it as 'CSV UTF-8' or as an Excel Workbook (.xlsx)"
        ) from None


def _utf16_without_bom(sample: bytes) -> str:
    # Mostly-ASCII text in UTF-16 has a zero in every other byte; UTF-8 text has none
    # (a stray NUL is refused in its row, as a control character).
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return "utf-8"


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    # A record's number is its row in a spreadsheet, even when a quoted cell spans lines.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise file_error(f"CSV syntax error at row {number}: {exc}") from None
        yield number, record


def _read_csv(text: str, spec: TableSpec) -> Table:
    best: tuple[str, _Header, int] | None = None
    readings: list[list[list[str]]] = []
    for delimiter in DELIMITERS:
        rows = list(itertools.islice(_csv_records(text, delimiter), HEADER_SEARCH_ROWS))
        readings.append([cells for _, cells in rows])
        for number, cells in rows:
            header = _match_header(spec, cells)
            if header is not None:
                if best is None or len(header.columns) > len(best[1].columns):
                    best = (delimiter, header, number)
                break
    if best is None:
        if not any(c.strip() for cells in readings[0] for c in cells):
            raise file_error("the file is empty")
        raise _no_header_error(spec, *readings)
    delimiter, header, header_row = best
    table = Table("csv", header_row, header.columns, header.headers, header.ignored)
    for number, cells in _csv_records(text, delimiter):
        # Blank lines count too: a file of millions of them stops at the limit.
        if number > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise too_large(
                f"the file has more than {MAX_ROWS + HEADER_SEARCH_ROWS:,} rows "
                "(blank rows count): split it into several files",
                "rows",
            )
        if number > header_row:
            _add_row(spec, table, number, [c[:MAX_CELL] for c in cells[:MAX_COLUMNS]])
    return table


def _add_row(spec: TableSpec, table: Table, number: int, cells: list[str]) -> None:
    if not any(cell.strip() for cell in cells):
        return
    if len(table.rows) >= MAX_ROWS:
        raise too_large(
            f"the file has more than {MAX_ROWS:,} rows of {spec.noun}: split it into several files",
            "rows",
        )
    while not cells[-1].strip():
        cells.pop()
    table.rows.append(Row(number, tuple(cells)))


def _read_xlsx(raw: bytes, spec: TableSpec) -> Table:
    not_xlsx = file_error(
        "the file is not a readable Excel workbook (.xlsx): another kind of ZIP archive, "
        "or a damaged workbook"
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_xlsx from None
    # Declared sizes bound what is unpacked: zipfile stops each part at its size.
    if unpacked > MAX_UNPACKED:
        raise too_large(
            f"the workbook unpacks to more than {MAX_UNPACKED // 1_000_000} MB: "
            "split it into several files",
            "unpacked_bytes",
        )
    limits = xlsx.Limits(
        rows=MAX_ROWS + HEADER_SEARCH_ROWS,
        cells=MAX_CELLS,
        columns=MAX_COLUMNS,
        cell_chars=MAX_CELL,
        seconds=MAX_SECONDS,
    )
    # Whatever fails inside the reader means the same to the user: this workbook cannot
    # be read. Only the limits and a missing sheet are told apart.
    try:
        with archive:
            return _xlsx_table(spec, xlsx.sheet_rows(archive, limits))
    except InvalidInput:
        raise
    except xlsx.DamagedSheet:
        raise file_error("the workbook is damaged: its first sheet cannot be read") from None
    except Exception:
        raise not_xlsx from None


def _xlsx_table(spec: TableSpec, values: Iterable[tuple[int, list[Any]]]) -> Table:
    table: Table | None = None
    phones: set[int] = set()
    first_rows: list[list[str]] = []
    for number, row in values:
        if table is None:
            if number > HEADER_SEARCH_ROWS:
                break
            cells = [_cell_text(v) for v in row]
            header = _match_header(spec, cells)
            if header is not None:
                table = Table("xlsx", number, header.columns, header.headers, header.ignored)
                phones = {i for name, i in header.columns.items() if name in spec.phone_fields}
                continue
            first_rows.extend([] for _ in range(number - 1 - len(first_rows)))
            first_rows.append(cells)
            continue
        cells = [_cell_text(v, phone_number=i in phones) for i, v in enumerate(row)]
        _add_row(spec, table, number, cells)
    if table is None:
        if not any(c.strip() for cells in first_rows for c in cells):
            raise file_error("the first sheet of the workbook is empty")
        raise _no_header_error(spec, first_rows)
    return table


def _cell_text(value: Any, *, phone_number: bool = False) -> str:
    """A cell's value as the text a person reads in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        digits = str(int(value))
        # A number cell drops the leading 0 of a Vietnamese number (0912 345 678).
        if phone_number and len(digits) == 9:
            return "0" + digits
        return digits
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)[:MAX_CELL]


# --- sites named in a column -----------------------------------------------------------------


def _site_name_key(name: str) -> str:
    # Lists often write "Điểm cầu Lào Cai" for the site named "Lào Cai" (or the reverse).
    key = fold(name)
    return key.removeprefix("diem cau ") or key


@dataclass
class SiteLookup:
    """A conference's sites as a list names them: by code (any case) or by name."""

    by_code: dict[str, str]
    by_name: dict[str, str | None]

    @classmethod
    def of(cls, sites: Iterable[tuple[str, str]]) -> SiteLookup:
        """From (code, name) pairs."""
        by_code: dict[str, str] = {}
        by_name: dict[str, str | None] = {}
        for code, name in sites:
            by_code[code.upper()] = code
            key = _site_name_key(name)
            # Two sites of one name: that name picks neither (the code must be used).
            by_name[key] = None if key in by_name else code
        return cls(by_code, by_name)

    def find(self, text: str) -> tuple[str | None, str]:
        """(code, "") or (None, why not)."""
        code = self.by_code.get(text.upper())
        if code is not None:
            return code, ""
        key = _site_name_key(text)
        if key in self.by_name:
            named = self.by_name[key]
            if named is None:
                return None, f"several sites are named {text!r}: give the site code"
            return named, ""
        return None, f"unknown site {text!r}: not a site code or site name of this conference"


# --- the report ------------------------------------------------------------------------------


class RowProblem(BaseModel):
    """One thing wrong in one row of an imported file."""

    row: int = Field(description="the row number as the spreadsheet shows it")
    column: str = Field(description="the column's header as written in the file")
    field: str = Field(description="the field the column holds: name, title, unit, site, ...")
    message: str


class TableReport(BaseModel):
    """What an import found in a file, and what it imported."""

    format: Format
    header_row: int
    rows: int = Field(description="data rows in the file (blank rows aside)")
    valid: int
    invalid: int
    problems: list[RowProblem]
    problems_omitted: int = Field(0, description="problems beyond those listed")
    ignored_columns: list[str]
    dry_run: bool = False
    imported: int = 0


def table_report(table: Table, problems: Sequence[RowProblem], valid: int) -> TableReport:
    """The report on table's rows, of which valid passed, listing at most MAX_REPORTED problems."""
    return TableReport(
        format=table.format,
        header_row=table.header_row,
        rows=len(table.rows),
        valid=valid,
        invalid=len(table.rows) - valid,
        problems=list(problems[:MAX_REPORTED]),
        problems_omitted=max(0, len(problems) - MAX_REPORTED),
        ignored_columns=table.ignored_columns,
    )


R = TypeVar("R", bound=BaseModel)


def import_gate(report: R, *, dry_run: bool, skip_invalid: bool) -> tuple[R, bool]:
    """The report, marked a dry run or not, and whether to write the valid rows now.

    Never on a dry run. A file with bad rows imports nothing (InvalidInput on the field
    ``file``, the report in its details) unless skip_invalid asks for the valid rows.
    """
    report = report.model_copy(update={"dry_run": dry_run})
    if dry_run:
        return report, False
    counts = report.model_dump(include={"invalid", "rows"})
    if counts["invalid"] and not skip_invalid:
        raise InvalidInput(
            f"{counts['invalid']} of {counts['rows']} rows have problems; nothing was "
            "imported (fix them, or send skip_invalid=1 to import the valid rows only)",
            field="file",
            details=report.model_dump(mode="json"),
        )
    return report, True
