"""Server-rendered pages (web/templates) and static files (web/static)."""

from __future__ import annotations

from aiohttp import web


def setup_pages(app: web.Application) -> None:
    """Register the HTML pages and the static files on app."""
