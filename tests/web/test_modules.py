"""The pages' modules: one HTTP client and the formatting in lib/, and only the pages that
use the camera load the scanner."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.test_event_tables import IMPORT, JS

ROOT = Path(__file__).resolve().parents[2]


def graph(entry: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend((path.parent / m).resolve() for m in IMPORT.findall(path.read_text()))
    return seen


def entries() -> list[Path]:
    """The modules the templates load."""
    named = set()
    for template in (ROOT / "web" / "templates").rglob("*.html"):
        named |= set(re.findall(r"static_url\(['\"](js/[a-z-]+\.js)['\"]\)", template.read_text()))
    return sorted(ROOT / "web" / "static" / name for name in named)


def test_only_the_pages_with_a_camera_load_the_scanner() -> None:
    scanner = (JS / "scanner.js").resolve()
    assert len(entries()) >= 10
    loading = {entry.name for entry in entries() if scanner in graph(entry)}
    assert loading == {"checkin.js", "delegate.js"}


def test_one_http_client() -> None:
    fetching = {p.name for p in JS.rglob("*.js") if "fetch(" in p.read_text()}
    assert fetching == {"http.js"}, fetching
