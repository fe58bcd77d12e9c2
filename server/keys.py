"""Typed keys for the state the app factory creates. The runners' keys are in
server/runtime.py: this module imports none of the modules that import it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from weakref import WeakSet

from aiohttp import web

from conference.db import Database
from conference.rawjson import JsonObject
from runtime.config import Config

if TYPE_CHECKING:
    from jinja2 import Environment

    from conference.actors import Principal
    from conference.models import BrowserSession
    from conference.signing import Keyring
    from runtime.redis_bridge import RedisBridge
    from server.metrics import Metrics
    from server.ratelimit import RateLimiter

config_key = web.AppKey("config_key", Config)
db_key = web.AppKey("db_key", Database)
metrics_key: web.AppKey[Metrics] = web.AppKey("metrics_key")
login_limiter_key: web.AppKey[RateLimiter] = web.AppKey("login_limiter_key")
checkin_limiter_key: web.AppKey[RateLimiter] = web.AppKey("checkin_limiter_key")
refused_limiter_key: web.AppKey[RateLimiter] = web.AppKey("refused_limiter_key")
verify_limiter_key: web.AppKey[RateLimiter] = web.AppKey("verify_limiter_key")
sockets_key: web.AppKey[WeakSet[web.WebSocketResponse]] = web.AppKey("sockets_key")
# Work that outlives a WebSocket handler (closing it down); done before the database goes.
socket_tasks_key: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("socket_tasks_key")
openapi_key: web.AppKey[JsonObject] = web.AppKey("openapi_key")
templates_key: web.AppKey[Environment] = web.AppKey("templates_key")
# The version (start of the SHA-256) of each file under web/static, by its relative path.
static_versions_key: web.AppKey[Mapping[str, str]] = web.AppKey("static_versions_key")
bridge_key: web.AppKey[RedisBridge | None] = web.AppKey("bridge_key")
# The server's signing keys (credentials, documents), loaded from the database at start.
keyring_key: web.AppKey[Keyring] = web.AppKey("keyring_key")
# What a form outside the API gets when the CSRF or origin check refuses it (set with the pages).
refused_form_page_key: web.AppKey[Callable[[web.Request], web.Response]] = web.AppKey(
    "refused_form_page_key"
)

# Per-request state, set by the auth middleware.
principal_rkey: web.RequestKey[Principal] = web.RequestKey("principal_rkey")
browser_session_rkey: web.RequestKey[BrowserSession | None] = web.RequestKey("browser_session_rkey")
session_token_rkey: web.RequestKey[str | None] = web.RequestKey("session_token_rkey")
# The roles the route declares (server.http.ApiRoutes), which conference_actor enforces,
# and whether it did: a route that declares roles must resolve its caller.
roles_rkey: web.RequestKey[tuple[str, ...]] = web.RequestKey("roles_rkey")
admitted_rkey: web.RequestKey[bool] = web.RequestKey("admitted_rkey")
