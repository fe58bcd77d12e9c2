"""Server-rendered pages (web/templates) and static files (web/static)."""

from __future__ import annotations

from aiohttp import web

from server import pages_auth, pages_conferences
from server.keys import templates_key
from server.pages_render import (
    STATIC_DIR,
    build_environment,
    catalogs_key,
    load_catalogs,
    pages_middleware,
)


def setup_pages(app: web.Application) -> None:
    """Register the HTML pages and the static files on app."""
    app[templates_key] = build_environment()
    app[catalogs_key] = load_catalogs()
    # Innermost, so it sees the principal and turns page 404s into HTML.
    app.middlewares.append(pages_middleware)
    app.router.add_routes(pages_auth.routes)
    app.router.add_routes(pages_conferences.routes)
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=False)
