"""A small HTML inspector for page tests (stdlib parser, no extra dependency)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any


class Tag:
    def __init__(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
        self.name = name
        self.attrs = {k: (v if v is not None else "") for k, v in attrs}
        self.text = ""

    def __getitem__(self, key: str) -> str:
        return self.attrs[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.attrs.get(key, default)


class Page(HTMLParser):
    """Every tag with its attributes, and the text of <script> and <title> elements."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []
        self._open: list[Tag] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = Tag(tag, attrs)
        self.tags.append(found)
        if tag in ("script", "title", "label", "h1", "h2", "p", "th", "td", "button", "a"):
            self._open.append(found)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].name == tag:
                del self._open[index]
                break

    def handle_data(self, data: str) -> None:
        for tag in self._open:
            tag.text += data

    def find_all(self, element: str, /, **attrs: str) -> list[Tag]:
        wanted = {key.rstrip("_").replace("_", "-"): v for key, v in attrs.items()}
        return [
            tag
            for tag in self.tags
            if tag.name == element and all(tag.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, element: str, /, **attrs: str) -> Tag | None:
        found = self.find_all(element, **attrs)
        return found[0] if found else None

    def by_id(self, ident: str) -> Tag | None:
        return next((tag for tag in self.tags if tag.attrs.get("id") == ident), None)

    @property
    def lang(self) -> str:
        html = self.find("html")
        assert html is not None
        return html["lang"]

    def page_data(self) -> dict[str, Any]:
        script = self.by_id("page-data")
        assert script is not None and script["type"] == "application/json"
        data: dict[str, Any] = json.loads(script.text)
        return data
