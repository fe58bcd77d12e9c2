"""Reading the recipients of one decision from a CSV or XLSX file: bytes -> rows -> a report.

Pure functions, no database: :func:`read_recipients` finds the header and the data rows
(conference.tables does the reading, given the recipient columns), :func:`check_recipients`
validates each row against the conference's sites and the decision's recipients so far
(which the caller loads) and reports every problem with the row number the spreadsheet
shows. The use case that writes them is awards.import_service.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from awards.schemas import AwardCreate, RecipientKind
from conference import tables
from conference.rows import RowChecker, check_rows
from conference.tables import (
    SITE_HEADERS,
    TITLE_HEADERS,
    UNIT_HEADERS,
    Format,
    Row,
    RowProblem,
    SiteLookup,
    Table,
    TableReport,
    TableSpec,
    header_key,
)
from conference.text import fold, nfc

FIELDS = ("kind", "name", "title", "unit", "site", "citation")
REQUIRED = ("name",)

# Accepted headers per field, compared folded (case, diacritics and punctuation aside).
HEADERS: dict[str, tuple[str, ...]] = {
    "kind": ("Loại", "Đối tượng", "Tập thể / cá nhân", "kind", "recipient kind", "type"),
    "name": (
        "Tên tập thể / cá nhân",
        "Tên tập thể, cá nhân",
        "Họ và tên",
        "Họ tên",
        "Tên",
        "Tên tập thể",
        "Tên đơn vị",
        "Tên cá nhân",
        "name",
        "full name",
        "recipient",
    ),
    "title": TITLE_HEADERS,
    "unit": UNIT_HEADERS,
    "site": SITE_HEADERS,
    "citation": (
        "Thành tích",
        "Lý do khen thưởng",
        "Lý do",
        "Nội dung khen thưởng",
        "citation",
        "reason",
    ),
}
SPEC = TableSpec("recipients", HEADERS, REQUIRED)

# A name column whose header says whose names it holds gives the kind of an unmarked row.
NAME_HEADER_KINDS: dict[str, RecipientKind] = {
    **dict.fromkeys(("Họ và tên", "Họ tên", "Tên cá nhân", "full name"), "person"),
    **dict.fromkeys(("Tên tập thể", "Tên đơn vị"), "unit"),
}
KIND_WORDS: dict[RecipientKind, tuple[str, ...]] = {
    "unit": ("tập thể", "đơn vị", "unit", "collective", "organisation", "organization"),
    "person": ("cá nhân", "person", "individual"),
}
KIND_HELP = "tập thể/unit or cá nhân/person"
KIND_NAMES = {"unit": "a unit", "person": "a person"}

_KIND_BY_WORD = {header_key(w): kind for kind, words in KIND_WORDS.items() for w in words}
_KIND_BY_NAME_HEADER = {header_key(h): kind for h, kind in NAME_HEADER_KINDS.items()}
# AwardCreate's field names, as the columns name them.
_COLUMN_OF = {"recipient_kind": "kind"}


def read_recipients(raw: bytes, declared: Format | None = None) -> Table:
    """The header and data rows of a list of recipients (CSV or XLSX); InvalidInput if
    unreadable."""
    return tables.read_table(raw, SPEC, declared)


def recipient_key(kind: str, name: str) -> tuple[str, str]:
    """Who a recipient is, for finding the same one twice: kind and folded name."""
    return kind, fold(name)


@dataclass(frozen=True)
class Checked:
    """The report, and the awards of the valid rows in file order."""

    report: TableReport
    awards: list[AwardCreate]


def check_recipients(
    table: Table, sites: Iterable[tuple[str, str]], known: Collection[tuple[str, str]]
) -> Checked:
    """Validate every row against the sites, given as (code, name), and the recipients the
    decision already names (their recipient_key()s, revoked awards aside)."""
    checker = _Checker(table, SiteLookup.of(sites), FIELDS, known=known)
    report, awards = check_rows(table, checker.check)
    return Checked(report, awards)


@dataclass(kw_only=True)
class _Checker(RowChecker):
    """Checks rows one by one, remembering which recipients came before."""

    known: Collection[tuple[str, str]]
    seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def check(self, row: Row) -> AwardCreate | list[RowProblem]:
        """The row's award, or its problems in column order."""
        self.start(row)
        values = {name: nfc(self.table.value(row, name)) for name in self.table.columns}
        kind = self._kind(values)
        code = self.site(values.get("site", ""), missing=None)
        name = values["name"]
        if not name:
            self.problem("name", "missing: the name")
        data: dict[str, str | None] = {
            key: value for key, value in values.items() if key not in ("kind", "site")
        }
        data.update(recipient_kind=kind, site=code)
        award = self.validate(AwardCreate, data, _COLUMN_OF)
        if name:
            self._duplicate(kind, name)
        return self.outcome(award)

    def _kind(self, values: dict[str, str]) -> RecipientKind:
        text = values.get("kind", "")
        if text:
            kind = _KIND_BY_WORD.get(header_key(text))
            if kind is not None:
                return kind
            self.problem("kind", f"unknown kind of recipient {text!r} (use {KIND_HELP})")
        by_header = _KIND_BY_NAME_HEADER.get(header_key(self.table.headers["name"]))
        if by_header is not None:
            return by_header
        # A row that says where someone works or what post they hold is about a person.
        return "person" if values.get("title") or values.get("unit") else "unit"

    def _duplicate(self, kind: str, name: str) -> None:
        # A row counts even when it has other problems: the recipient is still listed twice.
        key = recipient_key(kind, name)
        if key in self.known:
            self.problem(
                "name", f"{name} is already a recipient of this decision, as {KIND_NAMES[kind]}"
            )
        else:
            self.listed_once(
                "name", key, self.seen, f"{name} is listed twice, as {KIND_NAMES[kind]}"
            )
