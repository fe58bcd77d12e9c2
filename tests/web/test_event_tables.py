"""Every client of the stream handles each event of the catalogue or ignores it on purpose.

The pages: each page module that follows the stream (``new LiveFeed`` or ``followPage``)
gives its feed an ``ignored`` set; every other event of the catalogue must be named by the
page's code (a ``case``, a comparison, an ``eventSet``) in the module or in the modules it
imports. The follower (``plenary follow``): its HANDLERS and IGNORED together are the catalogue.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from client import event_lines
from server.events import DOCS_FILE, GENERATED, PAGES_FILE, build_catalogue
from server.ws import command_registry

COMMANDS = command_registry()

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "web" / "static" / "js"
IMPORT = re.compile(r"""^\s*import\b[^;]*?from\s+["'](\.{1,2}/[^"']+)["']""", re.M | re.S)
NAME = re.compile(r'"([a-z_]+/[a-z_]+)"')
IGNORED = re.compile(r"const IGNORED = eventSet\((.*?)\);\n", re.S)


def module_graph(entry: Path) -> list[Path]:
    """entry and every module it imports, directly or not (the catalogue and its groups,
    lib/, aside: the names there are not handled by anyone)."""
    seen: list[Path] = []
    todo = [entry.resolve()]
    while todo:
        path = todo.pop()
        if path in seen or path.parent == (JS / "lib").resolve():
            continue
        seen.append(path)
        todo.extend((path.parent / m).resolve() for m in IMPORT.findall(path.read_text()))
    return seen


def names_in(path: Path) -> set[str]:
    """Event names a module's code mentions (the commands it sends are not events)."""
    text = IGNORED.sub("", path.read_text())
    return {n for n in NAME.findall(text) if COMMANDS.get(n) is None}


GROUPS_FILE = JS / "lib" / "event-groups.js"
GROUP = re.compile(r"^export const ([A-Z_]+) = \[([^\]]*)\];", re.M)
SPREAD_DOMAINS = re.compile(r"\.\.\.eventsOf\(([^)]*)\)")
SPREAD_GROUP = re.compile(r"\.\.\.([A-Z_]+)\b")


def groups() -> dict[str, set[str]]:
    """The named groups of lib/event-groups.js, each with the groups it takes in (named
    before it) spelled out."""
    found: dict[str, set[str]] = {}
    for name, body in GROUP.findall(GROUPS_FILE.read_text()):
        found[name] = set(NAME.findall(body)).union(*(found[g] for g in SPREAD_GROUP.findall(body)))
    return found


def ignored_by(text: str) -> set[str]:
    """The events an IGNORED declaration names: single names, groups and whole domains."""
    domains = build_catalogue().domains()
    named = set(NAME.findall(SPREAD_DOMAINS.sub("", text)))
    for found in SPREAD_DOMAINS.findall(text):
        for domain in re.findall(r'"([a-z_]+)"', found):
            named |= set(domains[domain])
    for group in SPREAD_GROUP.findall(text):
        named |= groups()[group]
    return named


def pages_that_follow() -> list[Path]:
    """The page modules that open a LiveFeed, themselves or through live.js's followPage."""
    return sorted(
        p
        for p in JS.glob("*.js")
        if p.name != "live.js"
        and ("new LiveFeed(" in p.read_text() or "followPage(" in p.read_text())
    )


def test_the_generated_copies_of_the_catalogue_are_current() -> None:
    catalogue = build_catalogue()
    for path, make in GENERATED.items():
        assert (ROOT / path).read_text(encoding="utf-8") == make(catalogue), (
            f"{path} is stale: run `python -m server.events`"
        )
    assert {PAGES_FILE, DOCS_FILE} <= set(GENERATED)


def test_the_groups_name_only_events_the_catalogue_has() -> None:
    known = set(build_catalogue().names())
    assert groups() and all(names and names <= known for names in groups().values())


def test_the_pages_name_only_events_the_catalogue_has() -> None:
    known = set(build_catalogue().names())
    for path in sorted(JS.glob("*.js")):
        unknown = names_in(path) - known
        # "application/json" and the like are not events: only names of an event's domain.
        prefixes = {n.split("/")[0] for n in known}
        unknown = {n for n in unknown if n.split("/")[0] in prefixes}
        assert not unknown, f"{path.name} names events the server never sends: {unknown}"


@pytest.mark.parametrize("page", pages_that_follow(), ids=lambda p: p.name)
def test_each_page_handles_or_ignores_every_event(page: Path) -> None:
    known = set(build_catalogue().names())
    found = IGNORED.search(page.read_text())
    assert found, f"{page.name} follows the stream but declares no IGNORED = eventSet(...)"
    assert "ignored: IGNORED" in page.read_text(), f"{page.name} does not give its feed IGNORED"
    ignored = ignored_by(found.group(1))
    handled = set().union(*(names_in(m) for m in module_graph(page))) & known
    assert not handled & ignored, f"{page.name} both handles and ignores {handled & ignored}"
    missing = known - handled - ignored
    assert not missing, f"{page.name} neither handles nor ignores {sorted(missing)}"


def test_the_follower_handles_or_ignores_every_event() -> None:
    known = set(build_catalogue().names())
    handled, ignored = set(event_lines.HANDLERS), set(event_lines.IGNORED)
    assert not handled & ignored
    assert handled | ignored == known, (
        f"unknown to the follower: {sorted(known - handled - ignored)}; "
        f"not events: {sorted((handled | ignored) - known)}"
    )
