"""Health, metrics and the OpenAPI document."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text

from conference.errors import PlenaryError
from server.http import error_response, json_response
from server.keys import config_key, db_key, metrics_key, openapi_key, sockets_key
from server.metrics_access import check_metrics_access
from server.routes import ApiRoutes

log = logging.getLogger("plenary.health")

routes = ApiRoutes("meta")


@routes.get("/healthz", role="anyone")
async def healthz(request: web.Request) -> web.StreamResponse:
    """Liveness and database reachability."""
    db = request.app[db_key]
    try:
        async with db.sessionmaker() as session:
            await (await session.connection()).execute(text("SELECT 1"))
    except Exception:
        # Driver messages name hosts, roles and databases: they go to the log only.
        log.exception("health check: the database does not answer")
        return json_response({"status": "error", "database": "unavailable"}, status=503)
    return json_response({"status": "ok", "database": db.dialect})


@routes.get(
    "/metrics",
    role="its bearer token (PLENARY_METRICS_TOKEN) or an address in PLENARY_METRICS_ALLOW",
)
async def metrics(request: web.Request) -> web.StreamResponse:
    """Prometheus metrics."""
    try:
        check_metrics_access(request, request.app[config_key])
    except PlenaryError as exc:
        # Answered here: outside /api/ the pages would turn a refusal into an HTML page.
        return error_response(exc)
    body = request.app[metrics_key].render(request.app[db_key], len(request.app[sockets_key]))
    return web.Response(
        text=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


@routes.get("/api/v1/openapi.json", role="anyone")
async def openapi(request: web.Request) -> web.StreamResponse:
    """This document."""
    return json_response(request.app[openapi_key])
