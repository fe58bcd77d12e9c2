"""The client address of a request: the peer, or what a trusted proxy says it is.

Behind a reverse proxy every request arrives from the proxy's address. The proxy
names the real client in `X-Forwarded-For` (or `Forwarded`, RFC 7239), but anyone can
send those headers, so they are believed only from the addresses in
PLENARY_TRUSTED_PROXIES. The chain is read from the right (the hop nearest to this
server) and trusted hops are skipped: the first address that is not a trusted proxy
is the client. A value that is not an address (garbage, `unknown`, an obfuscated
name) ends the walk at the hop that sent it. `client_ip` is the one function every
rate limit, the audit log and the access log ask.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# The most hops read from a header: a longer chain is someone's padding.
MAX_HOPS = 32


def parse_address(value: str) -> Address | None:
    """An IP address, without port, brackets or quotes; None for anything else."""
    value = value.strip().strip('"').strip()
    if value.startswith("["):  # "[2001:db8::1]:4711"
        end = value.find("]")
        if end < 0 or not (value[end + 1 :] == "" or value[end + 1 :].startswith(":")):
            return None
        value = value[1:end]
    elif value.count(":") == 1:  # "192.0.2.1:8080"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def split_outside_quotes(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def forwarded_for(header: str) -> list[str]:
    """The `for=` values of a Forwarded header, one per element (`` where an element
    has none), left to right."""
    hops = []
    for element in split_outside_quotes(header, ","):
        found = ""
        for pair in split_outside_quotes(element, ";"):
            name, _, value = pair.partition("=")
            if name.strip().lower() == "for":
                found = value
        hops.append(found)
    return hops


class ProxyTrust:
    """Which peers may say who the client is, and what they say."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in networks
        )

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(
            address.version == net.version and address in net for net in self.networks
        )

    def client(self, peer: str, headers: Mapping[str, Any]) -> str:
        """The client's address for a request from peer with these headers."""
        current = parse_address(peer)
        if not self.trusts(current):
            return str(current) if current is not None else peer
        for hop in reversed(self.chain(headers)[-MAX_HOPS:]):
            address = parse_address(hop)
            if address is None:
                break  # not an address: the hop that sent it is all we know
            current = address
            if not self.trusts(address):
                break
        return str(current)

    @staticmethod
    def chain(headers: Mapping[str, Any]) -> list[str]:
        """The hops a proxy reports: X-Forwarded-For if sent, else Forwarded."""
        getall = getattr(headers, "getall", None)

        def values(name: str) -> list[str]:
            if getall is not None:
                return list(getall(name, []))
            value = headers.get(name)
            return [value] if value is not None else []

        forwarded_for_header = values("X-Forwarded-For")
        if forwarded_for_header:
            return ",".join(forwarded_for_header).split(",")
        forwarded = values("Forwarded")
        return forwarded_for(",".join(forwarded)) if forwarded else []


# Created with the app (create_app) from PLENARY_TRUSTED_PROXIES.
proxy_trust_key: web.AppKey[ProxyTrust] = web.AppKey("proxy_trust_key", ProxyTrust)
_client_ip_rkey: web.RequestKey[str] = web.RequestKey("client_ip_rkey", str)


def client_ip(request: web.BaseRequest) -> str:
    """The address of whoever sent this request (see the module's docstring)."""
    known: str | None = request.get(_client_ip_rkey)
    if known is not None:
        return known
    peer = request.remote or ""
    trust = request.app.get(proxy_trust_key) if isinstance(request, web.Request) else None
    address = trust.client(peer, request.headers) if trust is not None else peer
    request[_client_ip_rkey] = address
    return address
