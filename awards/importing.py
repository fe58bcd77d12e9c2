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

from pydantic import ValidationError

from awards.schemas import AwardCreate, RecipientKind
from conference import tables
from conference.tables import (
    Format,
    Row,
    RowProblem,
    SiteLookup,
    Table,
    TableReport,
    TableSpec,
    header_key,
    table_report,
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
    "title": ("Chức vụ", "Chức danh", "title", "position"),
    "unit": (
        "Đơn vị công tác",
        "Đơn vị",
        "Cơ quan",
        "Cơ quan công tác",
        "unit",
        "organisation",
        "organization",
    ),
    "site": ("Điểm cầu", "Mã điểm cầu", "site", "site code"),
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
    checker = _Checker(table, SiteLookup.of(sites), known)
    problems: list[RowProblem] = []
    awards: list[AwardCreate] = []
    for row in table.rows:
        found = checker.check(row)
        if isinstance(found, AwardCreate):
            awards.append(found)
        else:
            problems.extend(found)
    return Checked(table_report(table, problems, len(awards)), awards)


@dataclass
class _Checker:
    """Checks rows one by one, remembering which recipients came before."""

    table: Table
    sites: SiteLookup
    known: Collection[tuple[str, str]]
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    row: Row = field(default_factory=lambda: Row(0, ()))

    def problem(self, name: str, message: str) -> None:
        column = self.table.headers[name]
        self.problems.append(
            RowProblem(row=self.row.number, column=column, field=name, message=message)
        )

    def check(self, row: Row) -> AwardCreate | list[RowProblem]:
        """The row's award, or its problems in column order."""
        self.row, self.problems = row, []
        values = {name: nfc(self.table.value(row, name)) for name in self.table.columns}
        kind = self._kind(values)
        code = self._site(values.get("site", ""))
        name = values["name"]
        if not name:
            self.problem("name", "missing: the name")
        data: dict[str, str | None] = {
            key: value for key, value in values.items() if key not in ("kind", "site")
        }
        data.update(recipient_kind=kind, site=code)
        award: AwardCreate | None = None
        try:
            award = AwardCreate.model_validate(data)
        except ValidationError as exc:
            reported = {p.field for p in self.problems}
            for error in exc.errors(include_url=False, include_input=False):
                loc = str(error["loc"][0]) if error["loc"] else "name"
                column = _COLUMN_OF.get(loc, loc)
                if column not in reported:
                    reported.add(column)
                    self.problem(column, error["msg"].removeprefix("Value error, "))
        if name:
            self._duplicate(kind, name)
        if self.problems or award is None:
            return sorted(self.problems, key=lambda p: FIELDS.index(p.field))
        return award

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

    def _site(self, text: str) -> str | None:
        if not text:
            return None
        code, why = self.sites.find(text)
        if code is None:
            self.problem("site", why)
        return code

    def _duplicate(self, kind: str, name: str) -> None:
        # A row counts even when it has other problems: the recipient is still listed twice.
        key = recipient_key(kind, name)
        if key in self.known:
            self.problem(
                "name", f"{name} is already a recipient of this decision, as {KIND_NAMES[kind]}"
            )
        elif key in self.seen:
            also = self.seen[key]
            self.problem("name", f"{name} is listed twice, as {KIND_NAMES[kind]} (also row {also})")
        else:
            self.seen[key] = self.row.number
