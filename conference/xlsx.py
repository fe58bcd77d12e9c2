"""The rows of an XLSX workbook's first sheet, read as a stream with bounded work.

A workbook is a ZIP of XML parts. Each part is streamed through expat (no document
type declarations, so no entities), and everything read counts against limits: the
bytes each part unpacks to, every row and every cell present in the sheet (blank ones
too), every shared string, and the time. Only the rows the file holds are produced:
a sheet with cells at row 1 and row 1,048,576 is two rows, and its declared
dimension (`<dimension ref="A1:XFD1048576">`) is never looked at.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from posixpath import dirname, join, normpath
from typing import Any
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from conference.errors import TOO_LARGE, InvalidInput

CHUNK = 65_536
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d*)$")
_TEXT_KINDS = frozenset({"inlineStr", "str", "e"})
# Element names without their namespace prefix (x:row -> row); filled as met.
_LOCAL: dict[str, str] = {}


@dataclass(frozen=True)
class Limits:
    """What one workbook may make the reader do."""

    rows: int
    cells: int
    columns: int
    cell_chars: int
    seconds: float


class Damaged(Exception):
    """The workbook's structure is not what an XLSX file holds."""


class DamagedSheet(Damaged):
    """The sheet's XML reads, but a value in it is impossible (a shared string not there)."""


def too_large(message: str, limit: str) -> InvalidInput:
    return InvalidInput(message, field="file", code=TOO_LARGE, details={"limit": limit})


@dataclass
class _Budget:
    limits: Limits
    deadline: float
    rows: int = 0
    cells: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise too_large(
                f"the workbook takes more than {self.limits.seconds:g} s to read: "
                "save it again as a plain list (one sheet, values only) or send it as CSV",
                "seconds",
            )

    def check(self) -> None:
        """Refuse past the cell limit."""
        if self.cells > self.limits.cells:
            raise too_large(
                f"the workbook has more than {self.limits.cells:,} cells: "
                "remove empty formatted cells and other sheets, or split it",
                "cells",
            )

    def row(self) -> None:
        self.rows += 1
        if self.rows > self.limits.rows:
            raise too_large(
                f"the sheet has more than {self.limits.rows:,} rows (blank rows count): "
                "split it into several files",
                "rows",
            )


def _local(name: str) -> str:
    local = name.rpartition(":")[2]
    if len(_LOCAL) < 1000:
        _LOCAL[name] = local
    return local


def _parse(archive: zipfile.ZipFile, name: str, budget: _Budget, handlers: _Handlers) -> None:
    for _ in _stream(archive, name, budget, handlers):
        pass


class _Handlers:
    def start(self, name: str, attrs: dict[str, str]) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


@dataclass
class _Relations(_Handlers):
    base: str
    targets: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (type, path)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else join(self.base, target)
            self.targets[attrs.get("Id", "")] = (attrs.get("Type", ""), normpath(path))

    def of_type(self, suffix: str) -> str | None:
        return next((p for t, p in self.targets.values() if t.endswith(suffix)), None)


@dataclass
class _Workbook(_Handlers):
    first_sheet: str | None = None
    date1904: bool = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "sheet" and self.first_sheet is None:
            self.first_sheet = next((v for k, v in attrs.items() if _local(k) == "id"), None)
        elif local == "workbookPr":
            self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")


@dataclass
class _Styles(_Handlers):
    formats: dict[int, str] = field(default_factory=dict)
    cell_formats: list[int] = field(default_factory=list)
    in_cell_xfs: bool = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "numFmt":
            self.formats[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            self.in_cell_xfs = True
        elif local == "xf" and self.in_cell_xfs:
            self.cell_formats.append(_int(attrs.get("numFmtId")))

    def end(self, name: str) -> None:
        if _local(name) == "cellXfs":
            self.in_cell_xfs = False

    def dates(self) -> set[int]:
        """The style indexes whose number format shows a date or time."""
        found = set()
        for index, number_format in enumerate(self.cell_formats):
            code = self.formats.get(number_format) or BUILTIN_FORMATS.get(number_format, "")
            if code and is_date_format(code):
                found.add(index)
        return found


@dataclass
class _Strings(_Handlers):
    budget: _Budget
    strings: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    depth_phonetic: int = 0
    in_text: bool = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "si":
            self.parts = []
        elif local == "rPh":
            self.depth_phonetic += 1
        elif local == "t" and not self.depth_phonetic:
            self.in_text = True

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "si":
            self.strings.append("".join(self.parts)[: self.budget.limits.cell_chars])
        elif local == "rPh":
            self.depth_phonetic -= 1
        elif local == "t":
            self.in_text = False

    def text(self, data: str) -> None:
        if self.in_text and sum(map(len, self.parts)) < self.budget.limits.cell_chars:
            self.parts.append(data)


@dataclass
class _Sheet(_Handlers):
    budget: _Budget
    strings: list[str]
    dates: set[int]
    epoch: datetime
    emit: Callable[[tuple[int, list[Any]]], None]
    number: int = 0
    cells: list[Any] = field(default_factory=list)
    position: int = -1
    ref: str | None = None
    kind: str | None = None
    style: str | None = None
    value: list[str] = field(default_factory=list)
    in_value: bool = False
    chars: int = 0

    # The handlers run once per element of a sheet of up to a million cells: kept lean.
    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _LOCAL.get(name) or _local(name)
        if local == "c":
            # Counted (and refused past the limit) before parsing, see _count.
            self.position += 1
            self.ref, self.kind, self.style = attrs.get("r"), attrs.get("t"), attrs.get("s")
            self.value = []
            self.chars = 0
        elif local == "v" or local == "t":
            self.in_value = True
        elif local == "row":
            self.budget.row()
            given = _int(attrs.get("r"), 0)
            self.number = given if given > self.number else self.number + 1
            self.cells, self.position = [], -1

    def text(self, data: str) -> None:
        if self.in_value and self.chars < self.budget.limits.cell_chars:
            self.value.append(data)
            self.chars += len(data)

    def end(self, name: str) -> None:
        local = _LOCAL.get(name) or _local(name)
        if local == "c":
            if self.value or self.kind in _TEXT_KINDS:
                self._keep()
        elif local == "v" or local == "t":
            self.in_value = False
        elif local == "row":
            self.emit((self.number, self.cells))

    def _keep(self) -> None:
        match = _CELL_REF.match(self.ref or "")
        column = _column_index(match.group(1)) if match else self.position
        self.position = column
        if column >= self.budget.limits.columns:
            return
        value = self._value("".join(self.value))
        if value is not None:
            self.cells.extend([None] * (column + 1 - len(self.cells)))
            self.cells[column] = value

    def _value(self, text: str) -> Any:
        kind = self.kind or "n"
        if kind in _TEXT_KINDS:
            return text
        if not text:
            return None
        if kind == "s":
            index = _int(text, -1)
            if not 0 <= index < len(self.strings):
                raise DamagedSheet(f"shared string {text} does not exist")
            return self.strings[index]
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d" or len(text) > 40:
            return text  # an ISO date, or digits no count or phone number has
        try:
            number = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise DamagedSheet(f"{text[:20]!r} is not a number") from None
        if _int(self.style) in self.dates:
            try:
                return from_excel(number, self.epoch)
            except (ValueError, OverflowError):
                return number
        return number


def _element_starts(local: str) -> tuple[bytes, ...]:
    """How an element's start tag begins, with or without a namespace prefix."""
    name = local.encode()
    return tuple(start + name + end for start in (b"<", b":") for end in (b" ", b">", b"/"))


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def sheet_rows(archive: zipfile.ZipFile, limits: Limits) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of each row the first sheet holds; raises InvalidInput on
    a limit, Damaged if the workbook's parts are missing or broken."""
    budget = _Budget(limits, time.monotonic() + limits.seconds)
    names = set(archive.namelist())
    package = _Relations("")
    _parse(archive, "_rels/.rels", budget, package)
    book_path = package.of_type("/officeDocument")
    if book_path not in names:
        raise Damaged("no workbook")
    assert book_path is not None
    book = _Workbook()
    _parse(archive, book_path, budget, book)
    base = dirname(book_path)
    relations = _Relations(base)
    rels_path = join(base, "_rels", book_path.rpartition("/")[2] + ".rels")
    if rels_path in names:
        _parse(archive, rels_path, budget, relations)
    sheet = relations.targets.get(book.first_sheet or "", ("", ""))[1]
    if sheet not in names:
        raise InvalidInput("the workbook has no sheet", field="file")
    strings = _Strings(budget)
    if (shared := relations.of_type("/sharedStrings")) in names and shared is not None:
        budget.cells += _count(archive, shared, budget, "si")
        budget.check()
        _parse(archive, shared, budget, strings)
    styles = _Styles()
    if (style_path := relations.of_type("/styles")) in names and style_path is not None:
        _parse(archive, style_path, budget, styles)
    rows: list[tuple[int, list[Any]]] = []
    epoch = CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900
    reader = _Sheet(budget, strings.strings, styles.dates(), epoch, rows.append)
    # Rows are handed on in batches as expat produces them, so that a caller that stops
    # early (no header in the first rows) stops the reading too.
    budget.cells += _count(archive, sheet, budget, "c")
    budget.check()
    if _count(archive, sheet, budget, "row") > limits.rows:
        budget.rows = limits.rows
        budget.row()
    for _ in _stream(archive, sheet, budget, reader):
        yield from rows
        rows.clear()
    yield from rows


def _count(archive: zipfile.ZipFile, name: str, budget: _Budget, local: str) -> int:
    """How many elements named local a part holds, counted in its bytes before parsing.

    bytes.count runs at the speed of unpacking: a sheet of a million empty cells (or
    shared strings) is refused before a single Python call is spent on them.
    """
    patterns = _element_starts(local)
    found, tail = 0, b""
    with archive.open(name) as part:
        while chunk := part.read(CHUNK):
            budget.tick()
            # Two bytes carried over catch a three-byte start split between chunks.
            seen = tail + chunk
            found += sum(seen.count(pattern) for pattern in patterns)
            tail = chunk[-2:]
    return found


def _stream(
    archive: zipfile.ZipFile, name: str, budget: _Budget, handlers: _Handlers
) -> Iterator[None]:
    """Feed one part to expat chunk by chunk, refusing document type declarations."""
    # Names keep their prefix (x:row); namespaces are not resolved, which is faster.
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def no_doctype(*_: Any) -> None:
        raise Damaged("a document type declaration")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.StartElementHandler = handlers.start
    parser.EndElementHandler = handlers.end
    parser.CharacterDataHandler = handlers.text
    try:
        with archive.open(name) as part:
            while chunk := part.read(CHUNK):
                budget.tick()
                parser.Parse(chunk, False)
                yield
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Damaged(str(exc)) from None
