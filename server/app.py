"""The application factory."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Iterable
from importlib.metadata import PackageNotFoundError, version
from weakref import WeakSet

from aiohttp import WSCloseCode, web

from conference.catalogue import EventType
from conference.db import Database
from conference.passwords import Passwords
from conference.rawjson import JsonObject
from conference.signing import Keyring
from runtime.config import Config
from runtime.redis_bridge import running_bridge
from server import meta, ws
from server.access_bell import AccessBell, access_bell_ctx, access_bell_key
from server.agenda import api_agenda, api_delegate_live
from server.attendance import api_checkin, api_delegate_page, api_delegates, api_reports
from server.auth import TokenCache, auth_middleware, passwords_key, token_cache_key
from server.awards import api_award_settings, api_awards, api_awards_import, api_verify
from server.conference import api_admin, api_auth, api_conferences, api_documents, api_transfer
from server.events import build_catalogue, catalogue_key
from server.http import Handler, error_middleware
from server.keys import (
    bridge_key,
    checkin_limiter_key,
    config_key,
    db_key,
    keyring_key,
    login_limiter_key,
    metrics_key,
    openapi_key,
    refused_limiter_key,
    socket_tasks_key,
    sockets_key,
    verify_limiter_key,
)
from server.metrics import Metrics
from server.migrate import ensure_current
from server.minutes import api_minutes
from server.openapi import build_openapi
from server.pages import setup_pages
from server.proxies import ProxyTrust, proxy_trust_key
from server.ratelimit import RateLimiter
from server.routes import ApiRoutes
from server.runtime import (
    documents_ctx,
    group_commit_ctx,
    parse_pool_ctx,
    presence_ctx,
    scheduler_ctx,
)
from server.signing import ready_keyring
from server.ws_commands import commands_key

log = logging.getLogger("plenary")

API_MODULES: tuple[ApiRoutes, ...] = (
    meta.routes,
    api_auth.routes,
    api_conferences.routes,
    # Before api_delegates: /delegates/links.csv must not be taken for a delegate id.
    api_delegate_page.routes,
    api_delegate_live.routes,
    api_delegates.routes,
    api_checkin.routes,
    api_reports.routes,
    api_agenda.routes,
    api_minutes.routes,
    api_awards.routes,
    api_awards_import.routes,
    api_award_settings.routes,
    api_verify.routes,
    api_documents.routes,
    api_admin.routes,
    api_transfer.routes,
    ws.routes,
)


def plenary_version() -> str:
    try:
        return version("plenary")
    except PackageNotFoundError:
        return "0.0.0"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    request.app[metrics_key].requests[(request.method, response.status)] += 1
    return response


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@functools.cache
def _openapi() -> JsonObject:
    """The API's OpenAPI document: the same routes in every app, so built once a process
    (it takes a tenth of a second, and the tests make an app each)."""
    return build_openapi(
        [spec for module in API_MODULES for spec in module.specs], plenary_version()
    )


async def _open_database(url: str, check_schema: bool) -> Database:
    """The deployment's database; refused (StaleSchema) when it is not migrated."""
    db = Database(url)
    if check_schema:
        try:
            await ensure_current(url, db.engine)
        except BaseException:
            await db.dispose()
            raise
    return db


def create_app(
    config: Config, *, check_schema: bool = True, events: Iterable[EventType] = ()
) -> web.Application:
    """A plenary server for config; the database must be migrated (`plenary migrate`).

    events: event types beyond the domains' catalogue (the tests add their own).
    """
    app = web.Application(
        middlewares=[metrics_middleware, headers_middleware, error_middleware, auth_middleware],
        client_max_size=config.max_upload_bytes,
    )
    app[config_key] = config
    app[catalogue_key] = build_catalogue(events)
    app[commands_key] = ws.command_registry()
    app[metrics_key] = Metrics()
    app[passwords_key] = app[metrics_key].passwords = Passwords(config.password_workers)
    app[proxy_trust_key] = ProxyTrust(config.trusted_proxies)
    app[token_cache_key] = TokenCache()
    app[access_bell_key] = AccessBell(app)
    _add_limiters(app, config)
    app[sockets_key] = WeakSet[web.WebSocketResponse]()
    app[socket_tasks_key] = set()
    for module in API_MODULES:
        app.router.add_routes(module.table)
    app[openapi_key] = _openapi()
    setup_pages(app)

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        db = await _open_database(config.database_url, check_schema)
        app[db_key] = db
        # The signing keys load now when the schema was checked (the database answers),
        # else on first use (see server.signing.ready_keyring).
        app[keyring_key] = Keyring(current_kid=0)
        if check_schema:
            await ready_keyring(app)
        app[bridge_key] = None
        if config.redis_url:
            async with running_bridge(config.redis_url, db, channel=config.redis_channel) as bridge:
                app[bridge_key] = bridge
                yield
        else:
            yield
        # Sockets still closing use the database: let them finish before it goes.
        closing: set[asyncio.Task[None]] = app[socket_tasks_key]
        pending = set(closing)
        if pending:
            await asyncio.wait(pending, timeout=10)
        await db.dispose()

    async def close_sockets(app: web.Application) -> None:
        sockets: WeakSet[web.WebSocketResponse] = app[sockets_key]
        for socket in list(sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(parse_pool_ctx)
    app.cleanup_ctx.append(group_commit_ctx)
    app.cleanup_ctx.append(access_bell_ctx)
    app.cleanup_ctx.append(documents_ctx)
    app.cleanup_ctx.append(presence_ctx)
    app.cleanup_ctx.append(scheduler_ctx)
    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(close_passwords)
    return app


def _add_limiters(app: web.Application, config: Config) -> None:
    """The rate limits of one application: logins, check-ins, refused scans, verifications."""
    app[login_limiter_key] = RateLimiter(config.login_attempts_per_minute)
    app[checkin_limiter_key] = RateLimiter(config.checkins_per_minute)
    app[refused_limiter_key] = RateLimiter(config.refused_scans_per_minute)
    app[verify_limiter_key] = RateLimiter(config.verifications_per_minute)


async def close_passwords(app: web.Application) -> None:
    app[passwords_key].close()
