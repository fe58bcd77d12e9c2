"""Login limits cannot be side-stepped; health answers reveal nothing."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from runtime.config import Config
from server.app import create_app
from server.ratelimit import RateLimiter
from tests.conftest import Api


async def test_spaces_around_a_name_count_as_the_same_name(
    client: TestClient[Any, Any], organizer: Api
) -> None:
    # The config fixture allows 5 failures a minute per address and name.
    for n in range(5):
        resp = await client.post(
            "/api/v1/auth/login", json={"username": "organizer" + " " * n, "password": "wrong!"}
        )
        assert resp.status == 401
    for name in ("organizer", " organizer", "ORGANIZER  "):
        resp = await client.post(
            "/api/v1/auth/login", json={"username": name, "password": "wrong!"}
        )
        body = await resp.json()
        assert resp.status == 429, body
        assert body["error"]["code"] == "rate_limited"


def test_one_address_may_not_spray_many_names() -> None:
    limiter = RateLimiter(limit=2)
    for n in range(19):
        limiter.hit("10.0.0.1")
        assert limiter.blocked(f"10.0.0.1|user{n}") == 0
    assert limiter.blocked_many("10.0.0.1") == 0
    limiter.hit("10.0.0.1")
    assert limiter.blocked_many("10.0.0.1") > 0
    assert limiter.blocked_many("10.0.0.2") == 0


def test_a_full_limiter_forgets_the_oldest_keys_not_everyone() -> None:
    limiter = RateLimiter(limit=1, max_keys=3)
    for key in ("a", "b", "c", "d"):
        limiter.hit(key)
    assert limiter.blocked("a") == 0  # the oldest was forgotten to make room
    assert limiter.blocked("b") > 0 and limiter.blocked("d") > 0


async def test_health_does_not_show_driver_messages(aiohttp_client: Any) -> None:
    config = Config(database_url="sqlite+aiosqlite:////nonexistent-dir/secret-name.db")
    client = await aiohttp_client(create_app(config, check_schema=False))
    resp = await client.get("/healthz")
    body = await resp.json()
    assert resp.status == 503
    assert body == {"status": "error", "database": "unavailable"}
