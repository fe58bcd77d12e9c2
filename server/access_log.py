"""The access log without secrets: screen tokens in query strings and the secrets of
delegates' personal links in paths are written as ``***``."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from server.proxies import client_ip

# Query parameters that carry a credential (a screen's token in its URL).
SECRET_PARAMS = frozenset({"token", "link"})
# Paths that carry a personal link's secret: /d/<secret>..., /api/v1/delegate/<secret>...
SECRET_PATH = re.compile(r"^(/d/|/api/v1/delegate/)[^/]+")


def redacted_target(request: web.BaseRequest) -> str:
    """The request's path and query as they may be written down."""
    path = SECRET_PATH.sub(r"\1***", request.rel_url.path)
    query = "&".join(
        f"{quote(key)}={'***' if key in SECRET_PARAMS else quote(value)}"
        for key, value in request.rel_url.query.items()
    )
    return f"{path}?{query}" if query else path


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
