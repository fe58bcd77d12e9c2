"""The WebSocket endpoint (DESIGN.md section 4). Filled in by the WebSocket work."""

from __future__ import annotations

from aiohttp import web

from server.http import ApiRoutes

routes = ApiRoutes("live")


@routes.get("/api/v1/ws", summary="The WebSocket (JSON text frames)", role="anyone")
async def websocket(request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotImplemented()
