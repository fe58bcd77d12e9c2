"""Server-rendered pages (web/templates) and static files (web/static)."""

from __future__ import annotations

from aiohttp import web

from server.agenda import pages_agenda, pages_chair, pages_screen
from server.attendance import pages_badges, pages_checkin, pages_delegates
from server.awards import pages_awards, pages_verify
from server.conference import pages_auth, pages_conferences
from server.keys import refused_form_page_key, static_versions_key, templates_key
from server.minutes import pages_minutes
from server.pages_render import (
    STATIC_DIR,
    build_environment,
    catalogs_key,
    load_catalogs,
    pages_middleware,
    refused_form_page,
)
from server.pages_static import StaticUrl, file_versions


def setup_pages(app: web.Application) -> None:
    """Register the HTML pages and the static files on app."""
    # Hashed once: the files do not change while the server runs.
    app[static_versions_key] = versions = file_versions(STATIC_DIR)
    templates = build_environment()
    templates.globals["static_url"] = StaticUrl(versions)
    app[templates_key] = templates
    app[catalogs_key] = load_catalogs()
    app[refused_form_page_key] = refused_form_page
    # Innermost, so it sees the principal and turns page 404s into HTML.
    app.middlewares.append(pages_middleware)
    app.router.add_routes(pages_auth.routes)
    app.router.add_routes(pages_conferences.routes)
    app.router.add_routes(pages_checkin.routes)
    app.router.add_routes(pages_badges.routes)
    app.router.add_routes(pages_delegates.routes)
    app.router.add_routes(pages_screen.routes)
    app.router.add_routes(pages_chair.routes)
    app.router.add_routes(pages_agenda.routes)
    app.router.add_routes(pages_minutes.routes)
    app.router.add_routes(pages_awards.routes)
    # After /verify/minutes: any other /verify/<code> is an award's.
    app.router.add_routes(pages_verify.routes)
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=False)
