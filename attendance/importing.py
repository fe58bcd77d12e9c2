"""Reading delegate lists from CSV and XLSX files: bytes -> numbered rows -> a report.

Pure functions, no database: :func:`read_table` finds the header and the data rows
of a file (conference.tables does the reading, given the delegate columns),
:func:`check_table` validates each row against the conference's sites and
the people already registered (which the caller loads) and reports every problem
with the row number the spreadsheet shows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from attendance.schemas import DelegateCreate, ImportReport, delegate_key
from conference import tables
from conference.rows import RowChecker, check_rows
from conference.tables import (
    MAX_ROWS,
    ROW_NUMBER_HEADERS,
    SITE_HEADERS,
    TITLE_HEADERS,
    UNIT_HEADERS,
    XLSX_MEDIA_TYPE,
    Format,
    Row,
    RowProblem,
    SiteLookup,
    Table,
    TableSpec,
    column_letter,
    header_key,
)
from conference.text import nfc

__all__ = [
    "MAX_ROWS",
    "ROW_NUMBER_HEADERS",
    "XLSX_MEDIA_TYPE",
    "Format",
    "Row",
    "Table",
    "check_table",
    "column_letter",
    "header_key",
    "read_table",
]

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
    "title": TITLE_HEADERS,
    "unit": UNIT_HEADERS,
    "site": SITE_HEADERS,
    "category": ("Loại", "Loại đại biểu", "Thành phần", "category"),
    "phone": ("Điện thoại", "Số điện thoại", "SĐT", "phone", "phone number"),
    "email": ("Email", "E-mail", "Thư điện tử", "email address"),
}
SPEC = TableSpec("delegates", HEADERS, REQUIRED, phone_fields=frozenset({"phone"}))

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "official": ("official", "chính thức", "đại biểu chính thức"),
    "alternate": ("alternate", "dự khuyết", "đại biểu dự khuyết"),
    "guest": ("guest", "khách mời", "khách", "đại biểu khách mời"),
    "staff": ("staff", "phục vụ", "nhân viên", "nhân viên phục vụ"),
}
CATEGORY_HELP = "official/chính thức, alternate/dự khuyết, guest/khách mời, staff/phục vụ"

_CATEGORY_BY_WORD = {header_key(w): name for name, words in CATEGORY_WORDS.items() for w in words}


def read_table(raw: bytes, declared: Format | None = None) -> Table:
    """The header and data rows of a delegate list (CSV or XLSX); InvalidInput if unreadable."""
    return tables.read_table(raw, SPEC, declared)


# --- checking the rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """The report, and the delegates of the valid rows in file order."""

    report: ImportReport
    delegates: list[DelegateCreate]


def check_table(
    table: Table,
    sites: Iterable[tuple[str, str]],
    known_people: Collection[tuple[str, str]],
    known_emails: Mapping[str, str],
) -> Checked:
    """Validate every row against the sites, given as (code, name), and the people
    already registered: their delegate_key()s, and whose each folded email is."""
    checker = _Checker(
        table,
        SiteLookup.of(sites),
        FIELDS,
        known_people=known_people,
        known_emails=known_emails,
    )
    report, delegates = check_rows(table, checker.check)
    return Checked(ImportReport(**dict(report)), delegates)


@dataclass(kw_only=True)
class _Checker(RowChecker):
    """Checks rows one by one, remembering who and which emails came before."""

    known_people: Collection[tuple[str, str]]
    known_emails: Mapping[str, str]
    people: dict[tuple[str, str], int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)

    def check(self, row: Row) -> DelegateCreate | list[RowProblem]:
        """The row's delegate, or its problems in column order."""
        self.start(row)
        values = {name: self.table.value(row, name) for name in self.table.columns}
        code = self.site(nfc(values["site"]), missing="missing: the site code or site name")
        category = self._category(nfc(values.get("category", "")))
        if not nfc(values["name"]):
            self.problem("name", "missing: the name")
        data = {key: value for key, value in values.items() if key not in ("site", "category")}
        # A placeholder for a site already reported, so that the other fields are checked.
        data.update(site=code or "X", category=category)
        delegate = self.validate(DelegateCreate, data)
        self._duplicates(code, nfc(values["name"]), nfc(values.get("email", "")).casefold())
        return self.outcome(delegate)

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
            else:
                self.listed_once("name", key, self.people, f"{name} is listed twice at {code}")
        if email:
            if email in self.known_emails:
                whose = self.known_emails[email]
                self.problem("email", f"the email {email} is already that of {whose}")
            else:
                self.listed_once("email", email, self.emails, f"the email {email} is listed twice")
