"""Reading a conference file: YAML (JSON is a subset) with the line of every value.

:class:`FileReader` turns the bytes of a file into plain values and collects every
problem with its path and line; :mod:`conference_file.importing` checks what the values mean.
The loader knows only JSON's implicit types, refuses anchors and aliases, and bounds
nesting before composing, so no file can crash or stall the process.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired

import yaml
from typing_extensions import TypedDict

from conference.errors import InvalidInput
from conference.rawjson import JsonObject

Format = Literal["yaml", "json"]
MAX_REPORTED = 500
MAX_NESTING = 32
# A number longer than this is no count or year: refused before int() spends time on it.
MAX_DIGITS = 30
# After a syntax error, a file up to this size is read again section by section to find
# its other problems too; a larger one (made by a program, not by hand) reports the first.
MAX_RECOVERY_BYTES = 1_000_000
# ... and if it has no more top-level keys than this (a conference file has 8 sections).
MAX_RECOVERY_SECTIONS = 20

Path = tuple[str | int, ...]

_STR, _INT, _FLOAT, _BOOL, _NULL = (
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")
)


# libyaml when present (ten times faster); nesting is bounded before composing since
# its composer recurses in C and would crash the process on a deeply nested file.
_FastestLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _Loader(_FastestLoader):  # type: ignore[misc]
    """Only JSON's implicit types: `NO`, `08:30`, `2026-12-10` and `0243...` stay text."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (replaces the inherited table)


for _tag, _pattern, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_NULL, r"^(?:~|null|Null|NULL|)$", "~nN"),
    (_INT, r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (_FLOAT, r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$", "-+0123456789."),
    (_FLOAT, r"^[-+]?[0-9]+[eE][-+]?[0-9]+$", "-+0123456789"),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
_Loader.add_implicit_resolver(_NULL, re.compile(r"^$"), [""])

_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
# JSON writes characters beyond the BMP as escaped surrogate pairs, which YAML refuses.
_SURROGATE_PAIR = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE
)


def _join_pair(match: re.Match[str]) -> str:
    high, low = int(match.group(2), 16), int(match.group(3), 16)
    return match.group(1) + chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def path_text(path: Path) -> str:
    """sites[3].code"""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class Problem(TypedDict):
    """One thing wrong with the file: where (path, line, column) and what."""

    path: str
    line: int | None
    message: str
    column: NotRequired[int]


@dataclass
class FileReader:
    """Parses one file and collects every problem with its path and line."""

    problems: list[Problem] = field(default_factory=list)
    lines: dict[Path, int] = field(default_factory=dict)
    # Top-level sections that could not be read, so their absence is not reported again.
    broken: set[str] = field(default_factory=set)
    syntax_error: bool = False
    # (line, message) of the syntax errors already reported, so each is reported once.
    seen: set[tuple[int, str]] = field(default_factory=set)

    def line(self, path: Path) -> int | None:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def add(
        self, path: Path, message: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        found = line if line is not None else self.line(path)
        problem: Problem = {"path": path_text(path), "line": found, "message": message}
        if column is not None:
            problem["column"] = column
        self.problems.append(problem)

    def error(self) -> InvalidInput:
        ordered = sorted(self.problems, key=lambda p: p["line"] or 0)
        count = len(ordered)
        return InvalidInput(
            f"the file has {count} problem{'s' if count != 1 else ''}",
            details=ordered[:MAX_REPORTED],
        )

    def parse(self, raw: bytes, fmt: Format) -> Any:
        """The file's values (dicts, lists, scalars), or None after recording why not."""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            self.add((), f"the file is not UTF-8 text (byte {exc.start})", line=line)
            return None
        if fmt == "json":
            try:
                # Numbers are checked (with their path) below: int() of thousands of digits
                # raises ValueError and spends time that the length check avoids.
                json.loads(text, parse_int=len)
            except json.JSONDecodeError as exc:
                message = f"JSON syntax: {exc.msg} (line {exc.lineno}, column {exc.colno})"
                self.add((), message, line=exc.lineno, column=exc.colno)
                return None
            except RecursionError:
                self.add((), f"the file nests more than {MAX_NESTING} levels deep", line=1)
                return None
            # Valid JSON has tabs only between tokens, where YAML does not allow them.
            text = _SURROGATE_PAIR.sub(_join_pair, text.replace("\t", " "))
        node = self._compose(text, 0)
        if node is None and self.syntax_error and fmt == "yaml" and len(raw) <= MAX_RECOVERY_BYTES:
            node = self._compose_sections(text)
        if node is None:
            if not self.problems:
                self.add((), "the file is empty", line=1)
            return None
        return self._value(node, ())

    def _compose(self, text: str, first_line: int) -> yaml.Node | None:
        """The node tree of text, which starts at line first_line + 1 of the file."""
        try:
            # libyaml checks the syntax of the whole text in C first (a 5 MB file in a
            # fraction of a second): a broken file fails fast, before any node is made.
            _check_syntax(text)
            depth = 0
            for event in yaml.parse(text, Loader=_Loader):
                if isinstance(event, _OPEN):
                    depth += 1
                    if depth > MAX_NESTING:
                        message = f"the file nests more than {MAX_NESTING} levels deep"
                        self.add((), message, line=first_line + _line(event.start_mark))
                        return None
                elif isinstance(event, _CLOSE):
                    depth -= 1
                elif isinstance(event, yaml.AliasEvent):
                    message = "anchors and aliases (& and *) are not supported"
                    self.add((), message, line=first_line + _line(event.start_mark))
                    return None
            node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            self._syntax_problem(exc, text, first_line)
            return None
        except yaml.YAMLError as exc:
            self.add((), f"YAML: {exc}")
            return None
        if node is not None and first_line:
            _shift(node, first_line)
        return node

    def _syntax_problem(self, exc: yaml.MarkedYAMLError, text: str, first_line: int) -> None:
        self.syntax_error = True
        mark = exc.problem_mark or exc.context_mark
        # An error at the very end is shown on the last line, not one past it.
        last = first_line + text.count("\n") or 1
        line = min(first_line + _line(mark), last)
        column = mark.column + 1 if mark is not None else None
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        message = f"YAML syntax: {what} (line {line}, column {column})"
        if "nesting depth" in what:
            # libyaml stops deep nesting itself, before our count does.
            message = f"the file nests more than {MAX_NESTING} levels deep"
            column = None
        if (line, message) not in self.seen:
            self.seen.add((line, message))
            self.add((), message, line=line, column=column)

    def _compose_sections(self, text: str) -> yaml.Node | None:
        """After a syntax error, read each top-level section alone to find the other problems."""
        lines = text.splitlines(keepends=True)
        starts = [(i, m.group(1)) for i, s in enumerate(lines) if (m := _TOP_KEY.match(s))]
        if len(starts) > MAX_RECOVERY_SECTIONS:
            return None
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        for n, (start, name) in enumerate(starts):
            end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
            node = self._compose("".join(lines[start:end]), start)
            if isinstance(node, yaml.MappingNode):
                pairs.extend(node.value)
            else:
                self.broken.add(name)
        if not pairs:
            return None
        return yaml.MappingNode("tag:yaml.org,2002:map", pairs, pairs[0][0].start_mark)

    def _value(self, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            result: JsonObject = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR):
                    self.add(path, "a key must be text", line=key_line)
                    continue
                key = key_node.value
                if key in result:
                    self.add((*path, key), f"the key {key!r} appears twice", line=key_line)
                    continue
                self.lines[(*path, key)] = key_line
                result[key] = self._value(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path, line)

    def _scalar(self, node: yaml.Node, path: Path, line: int) -> Any:
        value: str = node.value
        if node.tag == _STR:
            if "\x00" in value or not _encodable(value):
                self.add(path, "contains a character that cannot be stored", line=line)
            return value
        if node.tag in (_INT, _FLOAT) and len(value) > MAX_DIGITS:
            self.add(path, f"a number of more than {MAX_DIGITS} digits", line=line)
            return None
        try:
            if node.tag == _INT:
                return int(value)
            if node.tag == _FLOAT:
                return float(value)
        except ValueError:
            self.add(path, f"{value!r} is not a number", line=line)
            return None
        if node.tag == _BOOL and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if node.tag == _NULL:
            return None
        self.add(path, f"unsupported YAML tag {node.tag}", line=line)
        return None


def _line(mark: Any) -> int:
    return mark.line + 1 if mark is not None else 1


def _check_syntax(text: str) -> None:
    """Raise the first syntax error of text (in C with libyaml, without making events)."""
    loader = _Loader(text)
    try:
        if hasattr(loader, "raw_parse"):
            loader.raw_parse()
    finally:
        loader.dispose()


def _shift(root: yaml.Node, lines: int) -> None:
    """Move a section's nodes down by lines, to where the section starts in the file."""
    stack = [root]
    while stack:
        node = stack.pop()
        mark = node.start_mark
        line = mark.line + lines
        node.start_mark = yaml.Mark(mark.name, mark.index, line, mark.column, None, 0)
        if isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
