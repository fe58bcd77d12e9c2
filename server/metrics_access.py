"""Who may read /metrics: the bearer token PLENARY_METRICS_TOKEN, or an address in
PLENARY_METRICS_ALLOW (loopback by default). Counters say how busy the server is and
who is connected: not for everyone."""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

from conference.errors import Forbidden, Unauthorized
from runtime.config import Config
from server.proxies import client_ip


def _allowed_address(address: str, allowed: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # a Unix socket, or nothing: never an allowed address
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allowed)


def check_metrics_access(request: web.Request, config: Config) -> None:
    """Return if the caller may read /metrics; else Unauthorized (a token is configured
    and was not given) or Forbidden."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    token = config.metrics_token
    if token and scheme.lower() == "bearer":
        if hmac.compare_digest(given.strip().encode(), token.encode()):
            return
        raise Unauthorized("wrong token for /metrics")
    if _allowed_address(client_ip(request), config.metrics_allow):
        return
    if token:
        raise Unauthorized("/metrics needs its bearer token (PLENARY_METRICS_TOKEN)")
    raise Forbidden("/metrics answers only to the addresses in PLENARY_METRICS_ALLOW")
