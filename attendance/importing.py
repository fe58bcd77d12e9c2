"""Reading delegate lists from CSV and XLSX files: bytes -> numbered rows -> a report.

Pure functions, no database: :func:`read_table` finds the header and the data rows
of a file, :func:`check_table` validates each row against the conference's sites and
the people already registered (which the caller loads) and reports every problem
with the row number the spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import ValidationError

from attendance.schemas import DelegateCreate, ImportProblem, ImportReport, delegate_key
from conference.errors import TOO_LARGE, InvalidInput
from conference.text import fold, nfc

Format = Literal["csv", "xlsx"]

MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = 100
MAX_REPORTED = 1000
MAX_CELL = 10_000
# Bounds what a small, highly compressed workbook may unpack into memory.
MAX_UNPACKED = 100_000_000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DELIMITERS = (",", ";", "\t")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

FIELDS = ("name", "title", "unit", "site", "category", "phone", "email")
REQUIRED = ("name", "site")

# Accepted headers per field, compared folded (case, diacritics and punctuation aside).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "Họ và tên",
        "Họ tên",
        "Tên",
        "Họ và tên đại biểu",
        "Tên đại biểu",
        "name",
        "full name",
    ),
    "title": ("Chức vụ", "Chức danh", "title", "position"),
    "unit": (
        "Đơn vị",
        "Đơn vị công tác",
        "Cơ quan",
        "Cơ quan công tác",
        "unit",
        "organisation",
        "organization",
    ),
    "site": ("Điểm cầu", "Mã điểm cầu", "site", "site code"),
    "category": ("Loại", "Loại đại biểu", "Thành phần", "category"),
    "phone": ("Điện thoại", "Số điện thoại", "SĐT", "phone", "phone number"),
    "email": ("Email", "E-mail", "Thư điện tử", "email address"),
}
# A row-number column ("STT", "No."): expected, neither read nor reported as ignored.
ROW_NUMBER_HEADERS = ("STT", "Số TT", "TT", "No.", "No", "#")

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "official": ("official", "chính thức", "đại biểu chính thức"),
    "alternate": ("alternate", "dự khuyết", "đại biểu dự khuyết"),
    "guest": ("guest", "khách mời", "khách", "đại biểu khách mời"),
    "staff": ("staff", "phục vụ", "nhân viên", "nhân viên phục vụ"),
}
CATEGORY_HELP = "official/chính thức, alternate/dự khuyết, guest/khách mời, staff/phục vụ"

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: str) -> str:
    """How headers and category words are compared: `Họ và tên:` is `ho va ten`."""
    if text.strip() == "#":
        return "#"
    return _NOT_WORD.sub(" ", fold(text)).strip()


_FIELD_BY_HEADER = {header_key(h): name for name, headers in HEADERS.items() for h in headers}
_ROW_NUMBER_KEYS = frozenset(header_key(h) for h in ROW_NUMBER_HEADERS)
_CATEGORY_BY_WORD = {header_key(w): name for name, words in CATEGORY_WORDS.items() for w in words}


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


# --- the header ------------------------------------------------------------------------


@dataclass
class _Header:
    columns: dict[str, int]
    headers: dict[str, str]
    ignored: list[str]


def _match_header(cells: Sequence[str]) -> _Header | None:
    """The columns of a header row, or None when the row is not one (no name or no site)."""
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        text = nfc(cell)
        if not text:
            continue
        key = header_key(text)
        name = _FIELD_BY_HEADER.get(key)
        if name is None:
            if key not in _ROW_NUMBER_KEYS:
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
    if not all(name in columns for name in REQUIRED):
        return None
    return _Header(columns, headers, ignored)


def _no_header_error(*readings: Sequence[Sequence[str]]) -> InvalidInput:
    """Why no header was found in the first rows (of each way of reading them)."""
    wanted = {
        name: ", ".join(repr(h) for h in HEADERS[name][:2] + HEADERS[name][-2:])
        for name in REQUIRED
    }
    for first_rows in readings:
        for number, cells in enumerate(first_rows, start=1):
            keys = {_FIELD_BY_HEADER.get(header_key(c)) for c in cells}
            missing = [name for name in REQUIRED if name not in keys]
            if len(missing) < len(REQUIRED):
                return file_error(
                    f"the header (row {number}) has no {missing[0]} column: "
                    f"name it one of {wanted[missing[0]]}"
                )
    return file_error(
        f"no header row in the first {HEADER_SEARCH_ROWS} rows: a header names at least "
        f"the name column ({wanted['name']}) and the site column ({wanted['site']})"
    )


# --- reading a file ----------------------------------------------------------------------


def read_table(raw: bytes, declared: Format | None = None) -> Table:
    """The header and data rows of a CSV or XLSX file (the first sheet); InvalidInput if unreadable.

    The content decides the format: an XLSX workbook is a ZIP archive (starting `PK`),
    anything else must be CSV text. declared is what the client said it sends.
    """
    if not raw.strip():
        raise file_error("the file is empty")
    if raw.startswith(b"PK"):
        return _read_xlsx(raw)
    if raw.startswith(OLE_MAGIC):
        raise file_error(
            "this is an old Excel file (.xls): save it as an Excel Workbook (.xlsx) "
            "or as CSV UTF-8 and send that"
        )
    if declared == "xlsx":
        raise file_error("the file was sent as XLSX but is not an Excel workbook (.xlsx)")
    return _read_csv(_decode(raw))


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


def _read_csv(text: str) -> Table:
    best: tuple[str, _Header, int] | None = None
    readings: list[list[list[str]]] = []
    for delimiter in DELIMITERS:
        rows = list(itertools.islice(_csv_records(text, delimiter), HEADER_SEARCH_ROWS))
        readings.append([cells for _, cells in rows])
        for number, cells in rows:
            header = _match_header(cells)
            if header is not None:
                if best is None or len(header.columns) > len(best[1].columns):
                    best = (delimiter, header, number)
                break
    if best is None:
        if not any(c.strip() for cells in readings[0] for c in cells):
            raise file_error("the file is empty")
        raise _no_header_error(*readings)
    delimiter, header, header_row = best
    table = Table("csv", header_row, header.columns, header.headers, header.ignored)
    for number, cells in _csv_records(text, delimiter):
        if number > header_row:
            _add_row(table, number, [c[:MAX_CELL] for c in cells[:MAX_COLUMNS]])
    return table


def _add_row(table: Table, number: int, cells: list[str]) -> None:
    if not any(cell.strip() for cell in cells):
        return
    if len(table.rows) >= MAX_ROWS:
        raise InvalidInput(
            f"the file has more than {MAX_ROWS:,} rows of delegates: split it into several files",
            field="file",
            code=TOO_LARGE,
        )
    while not cells[-1].strip():
        cells.pop()
    table.rows.append(Row(number, tuple(cells)))


def _read_xlsx(raw: bytes) -> Table:
    import openpyxl

    not_xlsx = file_error(
        "the file is not a readable Excel workbook (.xlsx): another kind of ZIP archive, "
        "or a damaged workbook"
    )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_xlsx from None
    if unpacked > MAX_UNPACKED:
        raise InvalidInput(
            f"the workbook unpacks to more than {MAX_UNPACKED // 1_000_000} MB: "
            "split it into several files",
            field="file",
            code=TOO_LARGE,
        )
    # openpyxl warns about features it drops (data validation, styles): not the user's concern.
    # Whatever fails inside it means the same to the user: this workbook cannot be read.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception:
            raise not_xlsx from None
        try:
            if not book.worksheets:
                raise file_error("the workbook has no sheet")
            sheet = book.worksheets[0]
            return _xlsx_table(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
        except InvalidInput:
            raise
        except Exception:
            raise file_error("the workbook is damaged: its first sheet cannot be read") from None
        finally:
            book.close()


def _xlsx_table(values: Iterable[tuple[Any, ...]]) -> Table:
    table: Table | None = None
    phone = -1
    first_rows: list[list[str]] = []
    for number, row in enumerate(values, start=1):
        if table is None:
            cells = [_cell_text(v) for v in row]
            header = _match_header(cells)
            if header is not None:
                table = Table("xlsx", number, header.columns, header.headers, header.ignored)
                phone = header.columns.get("phone", -1)
                continue
            first_rows.append(cells)
            if number >= HEADER_SEARCH_ROWS:
                break
            continue
        cells = [_cell_text(v, phone_number=i == phone) for i, v in enumerate(row)]
        _add_row(table, number, cells)
    if table is None:
        if not any(c.strip() for cells in first_rows for c in cells):
            raise file_error("the first sheet of the workbook is empty")
        raise _no_header_error(first_rows)
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


# --- checking the rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """The report, and the delegates of the valid rows in file order."""

    report: ImportReport
    delegates: list[DelegateCreate]


def _site_name_key(name: str) -> str:
    # Lists often write "Điểm cầu Lào Cai" for the site named "Lào Cai" (or the reverse).
    key = fold(name)
    return key.removeprefix("diem cau ") or key


@dataclass
class _Sites:
    by_code: dict[str, str]
    by_name: dict[str, str | None]

    @classmethod
    def of(cls, sites: Iterable[tuple[str, str]]) -> _Sites:
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


def check_table(
    table: Table,
    sites: Iterable[tuple[str, str]],
    known_people: Collection[tuple[str, str]],
    known_emails: Mapping[str, str],
) -> Checked:
    """Validate every row against the sites, given as (code, name), and the people
    already registered: their delegate_key()s, and whose each folded email is."""
    checker = _Checker(table, _Sites.of(sites), known_people, known_emails)
    problems: list[ImportProblem] = []
    delegates: list[DelegateCreate] = []
    for row in table.rows:
        found = checker.check(row)
        if isinstance(found, DelegateCreate):
            delegates.append(found)
        else:
            problems.extend(found)
    report = ImportReport(
        format=table.format,
        header_row=table.header_row,
        rows=len(table.rows),
        valid=len(delegates),
        invalid=len(table.rows) - len(delegates),
        problems=problems[:MAX_REPORTED],
        problems_omitted=max(0, len(problems) - MAX_REPORTED),
        ignored_columns=table.ignored_columns,
    )
    return Checked(report, delegates)


@dataclass
class _Checker:
    """Checks rows one by one, remembering who and which emails came before."""

    table: Table
    sites: _Sites
    known_people: Collection[tuple[str, str]]
    known_emails: Mapping[str, str]
    people: dict[tuple[str, str], int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    row: Row = Row(0, ())

    def problem(self, name: str, message: str) -> None:
        column = self.table.headers[name]
        self.problems.append(
            ImportProblem(row=self.row.number, column=column, field=name, message=message)
        )

    def check(self, row: Row) -> DelegateCreate | list[ImportProblem]:
        """The row's delegate, or its problems in column order."""
        self.row, self.problems = row, []
        values = {name: self.table.value(row, name) for name in self.table.columns}
        code = self._site(nfc(values["site"]))
        category = self._category(nfc(values.get("category", "")))
        if not nfc(values["name"]):
            self.problem("name", "missing: the name")
        data = {key: value for key, value in values.items() if key not in ("site", "category")}
        # A placeholder for a site already reported, so that the other fields are checked.
        data.update(site=code or "X", category=category)
        delegate: DelegateCreate | None = None
        try:
            delegate = DelegateCreate.model_validate(data)
        except ValidationError as exc:
            reported = {p.field for p in self.problems}
            for error in exc.errors(include_url=False, include_input=False):
                name = str(error["loc"][0]) if error["loc"] else "name"
                if name not in reported:
                    self.problem(name, error["msg"].removeprefix("Value error, "))
        self._duplicates(code, nfc(values["name"]), nfc(values.get("email", "")).casefold())
        if self.problems or delegate is None:
            return sorted(self.problems, key=lambda p: FIELDS.index(p.field))
        return delegate

    def _site(self, text: str) -> str | None:
        if not text:
            self.problem("site", "missing: the site code or site name")
            return None
        code, why = self.sites.find(text)
        if code is None:
            self.problem("site", why)
        return code

    def _category(self, text: str) -> str:
        if not text:
            return "official"
        category = _CATEGORY_BY_WORD.get(header_key(text))
        if category is None:
            self.problem("category", f"unknown category {text!r} (use {CATEGORY_HELP})")
            return "official"
        return category

    def _duplicates(self, code: str | None, name: str, email: str) -> None:
        # A row counts even when it has other problems: the person is still listed twice.
        if code is not None and name:
            key = delegate_key(code, name)
            if key in self.known_people:
                self.problem("name", f"{name} is already a delegate at {code}")
            elif key in self.people:
                also = self.people[key]
                self.problem("name", f"{name} is listed twice at {code} (also row {also})")
            else:
                self.people[key] = self.row.number
        if email:
            if email in self.known_emails:
                whose = self.known_emails[email]
                self.problem("email", f"the email {email} is already that of {whose}")
            elif email in self.emails:
                also = self.emails[email]
                self.problem("email", f"the email {email} is listed twice (also row {also})")
            else:
                self.emails[email] = self.row.number
