"""Behind a reverse proxy: the client address comes from X-Forwarded-For or Forwarded,
but only when the direct peer is a trusted proxy (PLENARY_TRUSTED_PROXIES); it is what
the rate limits, the audit log and the access log use."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from runtime.config import Config, parse_networks
from server.access_log import AccessLogger
from server.app import create_app
from server.keys import db_key
from server.proxies import ProxyTrust
from tests.conftest import CONFERENCE, PASSWORD, add_account

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
LIMIT = 5

TRUST = ProxyTrust(parse_networks("127.0.0.1, 10.0.0.0/8, fd00::/8"))


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        # Not a trusted peer: its headers change nothing.
        ("198.51.100.7", {"X-Forwarded-For": "203.0.113.5"}, "198.51.100.7"),
        ("198.51.100.7", {"Forwarded": "for=203.0.113.5"}, "198.51.100.7"),
        # A trusted proxy names the client; chains are read from the right.
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}, "203.0.113.5"),
        ("127.0.0.1", {"X-Forwarded-For": "1.1.1.1, 203.0.113.5, 10.0.0.2"}, "203.0.113.5"),
        ("127.0.0.1", {"X-Forwarded-For": "10.0.0.3, 10.0.0.2"}, "10.0.0.3"),
        ("127.0.0.1", {"X-Forwarded-For": "2001:db8::7"}, "2001:db8::7"),
        ("::ffff:127.0.0.1", {"X-Forwarded-For": "fd00::5, 203.0.113.9"}, "203.0.113.9"),
        ("127.0.0.1", {"Forwarded": 'for="[2001:db8::1]:4711";proto=https'}, "2001:db8::1"),
        ("127.0.0.1", {"Forwarded": "for=192.0.2.60;by=10.0.0.1, for=10.0.0.9"}, "192.0.2.60"),
        ("127.0.0.1", {"Forwarded": 'for="192.0.2.61:8080"'}, "192.0.2.61"),
        # X-Forwarded-For wins when both are sent.
        (
            "127.0.0.1",
            {"X-Forwarded-For": "203.0.113.5", "Forwarded": "for=192.0.2.1"},
            "203.0.113.5",
        ),
        # Malformed values: the walk stops at the hop that sent them.
        ("127.0.0.1", {"X-Forwarded-For": "garbage"}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": ""}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": ",,,"}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5, unknown"}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5, garbage, 10.0.0.2"}, "10.0.0.2"),
        ("127.0.0.1", {"X-Forwarded-For": "999.1.1.1"}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": "[2001:db8::1"}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": "[2001:db8::1]x"}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": "1.2.3.4/8"}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": "Nguyễn\u0000"}, "127.0.0.1"),
        ("127.0.0.1", {"Forwarded": "for=unknown"}, "127.0.0.1"),
        ("127.0.0.1", {"Forwarded": "for=_hidden, for=203.0.113.5"}, "203.0.113.5"),
        ("127.0.0.1", {"Forwarded": 'for="[2001:db8::1'}, "127.0.0.1"),
        ("127.0.0.1", {"Forwarded": "proto=https"}, "127.0.0.1"),
        ("127.0.0.1", {"Forwarded": '"""";;;,,=='}, "127.0.0.1"),
        ("127.0.0.1", {"X-Forwarded-For": ", ".join(["10.0.0.1"] * 5000)}, "10.0.0.1"),
        # No peer address at all (a Unix socket).
        ("", {"X-Forwarded-For": "203.0.113.5"}, ""),
    ],
)
def test_the_client_address(peer: str, headers: dict[str, str], client: str) -> None:
    assert TRUST.client(peer, headers) == client


def test_the_setting_takes_addresses_and_cidrs_and_refuses_anything_else() -> None:
    config = Config.from_env({"PLENARY_TRUSTED_PROXIES": " 10.1.2.3/8, ::1 ,172.16.0.1"})
    assert config.trusted_proxies == ("10.0.0.0/8", "::1/128", "172.16.0.1/32")
    with pytest.raises(ValueError, match=r"PLENARY_TRUSTED_PROXIES: .*'nginx'"):
        Config.from_env({"PLENARY_TRUSTED_PROXIES": "10.0.0.1, nginx"})


def proxied_app(db_url: str, trusted: tuple[str, ...]) -> web.Application:
    config = Config(database_url=db_url, login_attempts_per_minute=LIMIT, trusted_proxies=trusted)
    return create_app(config)


async def proxied_client(
    aiohttp_client: ClientFactory,
    db_url: str,
    trusted: tuple[str, ...],
    *,
    can_create: bool = False,
) -> Client:
    """A client of the app trusting those proxies, which has an organizer's account."""
    app = proxied_app(db_url, trusted)
    client = await aiohttp_client(app)
    await add_account(app[db_key], "organizer", can_create=can_create)
    return client


async def login(client: Client, headers: dict[str, str], password: str = "wrong!") -> int:
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        http.post(
            client.make_url("/api/v1/auth/login"),
            json={"username": "organizer", "password": password},
            headers=headers,
        ) as resp,
    ):
        await resp.read()
        return resp.status


async def test_two_clients_behind_a_trusted_proxy_have_their_own_limits(
    aiohttp_client: ClientFactory, db_url: str
) -> None:
    client = await proxied_client(aiohttp_client, db_url, ("127.0.0.1", "::1"))
    first = {"X-Forwarded-For": "203.0.113.1"}
    second = {"Forwarded": 'for="[2001:db8::2]:5000"'}
    assert [await login(client, first) for _ in range(LIMIT)] == [401] * LIMIT
    assert await login(client, first) == 429
    assert await login(client, second) == 401
    assert await login(client, second, PASSWORD) == 200


async def test_a_forged_header_from_an_untrusted_peer_changes_nothing(
    aiohttp_client: ClientFactory, db_url: str
) -> None:
    # The test client (127.0.0.1) is not one of the trusted proxies.
    client = await proxied_client(aiohttp_client, db_url, ("10.0.0.0/8",))
    statuses = [await login(client, {"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(LIMIT)]
    assert statuses == [401] * LIMIT
    # Another forged address, another header: still the same bucket, the peer's.
    assert await login(client, {"Forwarded": "for=192.0.2.99"}) == 429
    assert await login(client, {"X-Forwarded-For": "192.0.2.100"}) == 429


async def test_malformed_headers_from_the_proxy_count_as_the_proxy(
    aiohttp_client: ClientFactory, db_url: str
) -> None:
    client = await proxied_client(aiohttp_client, db_url, ("127.0.0.1", "::1"))
    bad = [
        {"X-Forwarded-For": "garbage"},
        {"X-Forwarded-For": "203.0.113.5, unknown"},
        {"Forwarded": 'for="[2001:db8::1'},
        {"Forwarded": "for=_hidden"},
        {"X-Forwarded-For": "999.999.999.999"},
    ]
    assert [await login(client, headers) for headers in bad] == [401] * LIMIT
    assert await login(client, {"X-Forwarded-For": ";;"}) == 429  # the proxy's own bucket
    assert await login(client, {"X-Forwarded-For": "203.0.113.5"}) == 401  # a real client


async def audit_ips(client: Client, headers: dict[str, str]) -> list[str]:
    """Log in and create a conference with these headers; the audit log's addresses."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        url = client.make_url
        async with http.post(
            url("/api/v1/auth/login"),
            json={"username": "organizer", "password": PASSWORD},
            headers=headers,
        ) as resp:
            csrf = (await resp.json())["csrf_token"]
        async with http.post(
            url("/api/v1/conferences"),
            json=CONFERENCE,
            headers=headers | {"X-CSRF-Token": csrf},
        ) as resp:
            assert resp.status == 201, await resp.text()
            cid = (await resp.json())["id"]
        async with http.get(url(f"/api/v1/conferences/{cid}/audit"), headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            return [item["ip"] for item in (await resp.json())["items"]]


@pytest.mark.parametrize(
    ("trusted", "ip"), [(("127.0.0.1", "::1"), "203.0.113.44"), ((), "127.0.0.1")]
)
async def test_the_audit_log_shows_the_client_only_through_a_trusted_proxy(
    aiohttp_client: ClientFactory, db_url: str, trusted: tuple[str, ...], ip: str
) -> None:
    client = await proxied_client(aiohttp_client, db_url, trusted, can_create=True)
    ips = await audit_ips(client, {"X-Forwarded-For": "198.51.100.1, 203.0.113.44"})
    assert ips and set(ips) == {ip}


class LineSeen(logging.Handler):
    """Sets an event when a line containing `needle` is logged (in the loop's thread)."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.INFO)
        self.needle = needle
        self.lines: list[str] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.needle in message:
            self.lines.append(message)
            self.seen.set()


async def test_the_access_log_shows_the_client_behind_a_trusted_proxy(
    aiohttp_client: ClientFactory, db_url: str
) -> None:
    app = proxied_app(db_url, ("127.0.0.1", "::1"))
    server = TestServer(app)
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    logger = logging.getLogger("aiohttp.access")
    handler = LineSeen("/healthz")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        resp = await client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.77"})
        await resp.read()
        # The line is written after the answer is sent: wait for it.
        async with asyncio.timeout(10):
            await handler.seen.wait()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = handler.lines
    assert line.startswith("203.0.113.77 ")
