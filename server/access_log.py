"""The access log without secrets: screen tokens in query strings and the secrets of
delegates' personal links in paths are written as ``***``."""

from __future__ import annotations

import logging
import re
import traceback
from urllib.parse import quote

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from server.proxies import client_ip

# Query parameters that carry a credential (a screen's token in its URL).
SECRET_PARAMS = frozenset({"token", "link"})
# Paths that carry a personal link's secret: /d/<secret>..., /api/v1/delegate/<secret>...
SECRET_PATH = re.compile(r"^(/d/|/api/v1/delegate/)[^/]+")
# Path parameters that are credentials (a personal link's secret, a screen's token).
SECRET_MATCHES = frozenset({"secret", "token", "link"})
# Shorter values are left alone: "***" for every "1" in a traceback helps nobody.
MIN_REDACTED = 4


def redacted_target(request: web.BaseRequest) -> str:
    """The request's path and query as they may be written down."""
    path = SECRET_PATH.sub(r"\1***", request.rel_url.path)
    query = "&".join(
        f"{quote(key)}={'***' if key in SECRET_PARAMS else quote(value)}"
        for key, value in request.rel_url.query.items()
    )
    return f"{path}?{query}" if query else path


def route_name(request: web.BaseRequest) -> str:
    """The route's pattern (/d/{secret}), never the path it was called with."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "(no route)"


def request_secrets(request: web.BaseRequest) -> list[str]:
    """What a log line about this request must not contain: the credentials in its path,
    and every value of its query string."""
    match_info = getattr(request, "match_info", None) or {}
    found = [value for key, value in match_info.items() if key in SECRET_MATCHES]
    found += list(request.rel_url.query.values())
    found.append(request.rel_url.query_string)
    # Longest first, so that a secret inside a longer one leaves nothing behind.
    return sorted({v for v in found if len(v) >= MIN_REDACTED}, key=len, reverse=True)


def redacted_traceback(request: web.BaseRequest, exc: BaseException) -> str:
    """exc's traceback with the request's secrets and query values written as ***."""
    text = "".join(traceback.format_exception(exc))
    for secret in request_secrets(request):
        text = text.replace(secret, "***")
        text = text.replace(quote(secret, safe=""), "***")
    return text


class AccessLogger(AbstractAccessLogger):
    """One line per request: client address (as `client_ip` finds it, so behind a trusted
    proxy the real client's), method, path (secrets hidden), status, size, time."""

    @property
    def enabled(self) -> bool:
        """Build no line when INFO is not logged (the check-in path counts microseconds)."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.1fms',
            client_ip(request),
            request.method,
            redacted_target(request),
            response.status,
            response.body_length,
            time * 1000,
        )
