"""The secretary's plain-text markup for the minutes, parsed into blocks for the documents.

Paragraphs are separated by blank lines; inside one, a single newline is a line break.
Lines starting with ``- `` or ``* `` form a bulleted list, ``1. `` ``2. `` a numbered one
(an indented line after an item continues it). ``**bold**`` marks bold text within a line;
an unpaired ``**`` stays as typed. The result is plain data (no HTML): a template escapes.

    [{"type": "p", "lines": [[run, ...], ...]},
     {"type": "ul", "items": [[run, ...], ...]},
     {"type": "ol", "start": 1, "items": [[run, ...], ...]}]

where a run is ``{"text": str, "bold": bool}``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from typing_extensions import TypedDict

BOLD = re.compile(r"\*\*(.+?)\*\*")
BULLET = re.compile(r"[-*] +(.*)")
NUMBERED = re.compile(r"(\d{1,4})\. +(.*)")


class Run(TypedDict):
    text: str
    bold: bool


class Block(TypedDict, total=False):
    """type: p (with lines), ul or ol (with items; an ol with the number it starts at)."""

    type: str
    lines: list[list[Run]]
    items: list[list[Run]]
    start: int


def runs(line: str) -> list[Run]:
    """line's text as runs, bold where it is between a pair of ``**``."""
    out: list[Run] = []
    at = 0
    for match in BOLD.finditer(line):
        if match.start() > at:
            out.append({"text": line[at : match.start()], "bold": False})
        out.append({"text": match.group(1), "bold": True})
        at = match.end()
    if at < len(line):
        out.append({"text": line[at:], "bold": False})
    return out


def _list_item(line: str) -> tuple[str, int | None, str] | None:
    """("ul", None, text) or ("ol", number, text) when line starts a list item."""
    stripped = line.lstrip()
    if bullet := BULLET.fullmatch(stripped):
        return "ul", None, bullet.group(1)
    if numbered := NUMBERED.fullmatch(stripped):
        return "ol", int(numbered.group(1)), numbered.group(2)
    return None


@dataclass
class _Draft:
    """A block while its lines are gathered: a paragraph's lines or a list's items."""

    type: str
    start: int | None = None
    texts: list[str] = field(default_factory=list)

    def block(self) -> Block:
        texts = [runs(text) for text in self.texts]
        if self.type == "p":
            return {"type": "p", "lines": texts}
        block: Block = {"type": self.type, "items": texts}
        if self.type == "ol":
            assert self.start is not None
            block["start"] = self.start
        return block


def _chunk(lines: list[str]) -> list[Block]:
    """One blank-line-separated chunk as paragraphs and lists, in order."""
    out: list[_Draft] = []
    for line in lines:
        item = _list_item(line)
        last = out[-1] if out else None
        if item is not None:
            kind, number, text = item
            if last is None or last.type != kind:
                last = _Draft(kind, number if kind == "ol" else None)
                out.append(last)
            last.texts.append(text.strip())
        elif last is not None and last.type != "p" and line[:1].isspace():
            last.texts[-1] = f"{last.texts[-1]} {line.strip()}".strip()
        elif last is not None and last.type == "p":
            last.texts.append(line.strip())
        else:
            out.append(_Draft("p", texts=[line.strip()]))
    return [draft.block() for draft in out]


def blocks(text: str) -> list[Block]:
    """The secretary's text as paragraphs and lists of bold/plain runs."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    out: list[Block] = []
    chunk: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line.strip():
            chunk.append(line.rstrip())
        elif chunk:
            out.extend(_chunk(chunk))
            chunk = []
    return out


def plain(text: str) -> str:
    """text without the ``**`` bold markers (those that pair up), for search and compare."""
    return BOLD.sub(r"\1", text)
