"""Limits hold when the attempts arrive all at once: fifty real HTTP requests sent
together run at most the limit's worth of costly work (Argon2 hashes, link lookups,
award-code lookups); the rest are 429 with Retry-After before any of it."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import awards.verification
from attendance import links
from conference.errors import RateLimited
from runtime.config import Config
from server.app import create_app
from server.auth import passwords_key
from server.awards import api_verify
from server.keys import db_key, metrics_key
from server.ratelimit import RateLimiter, Reservation, failures_counted
from tests.conftest import Api, add_account

Client = TestClient[Any, Any]
ClientFactory = Callable[[web.Application], Awaitable[Client]]
LIMIT = 5
ATTEMPTS = 50


async def send_together(
    client: Client, method: str, paths: list[str], json: Any = None
) -> list[tuple[int, str | None]]:
    """Each request on its own connection, all started at once: (status, Retry-After)."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(path: str) -> tuple[int, str | None]:
            async with http.request(method, client.make_url(path), json=json) as resp:
                await resp.read()
                return resp.status, resp.headers.get("Retry-After")

        return await asyncio.gather(*(one(path) for path in paths))


async def logins_together(
    client: Client, username: str, password: str, times: int
) -> list[tuple[int, str | None]]:
    """times logins as username with password, all started at once: (status, Retry-After)."""
    body = {"username": username, "password": password}
    return await send_together(client, "POST", ["/api/v1/auth/login"] * times, body)


def assert_rest_refused(answers: list[tuple[int, str | None]], done: int, status: int) -> None:
    counts = Counter(s for s, _ in answers)
    assert counts == {status: done, 429: ATTEMPTS - done}, counts
    for got, retry_after in answers:
        if got == 429:
            assert retry_after is not None and int(retry_after) >= 1


async def test_fifty_wrong_passwords_at_once_run_at_most_the_limit_of_hashes(
    client: Client, app: web.Application, organizer: Api
) -> None:
    # The config fixture allows LIMIT failed logins a minute per address and name.
    passwords = app[passwords_key]
    before = passwords.runs
    answers = await logins_together(client, "organizer", "wrong password", ATTEMPTS)
    hashed = passwords.runs - before
    assert hashed == LIMIT  # at most the limit; none of them succeeds, so exactly it
    assert_rest_refused(answers, hashed, 401)
    metrics = app[metrics_key].render(app[db_key], 0)
    assert f"plenary_password_hashes_total {passwords.runs}" in metrics


async def test_the_right_password_after_a_refused_burst_waits_too(
    client: Client, app: web.Application, organizer: Api
) -> None:
    await logins_together(client, "organizer", "wrong password", ATTEMPTS)
    before = app[passwords_key].runs
    [(status, retry_after)] = await logins_together(client, "organizer", "correct horse battery", 1)
    assert status == 429 and retry_after is not None
    assert app[passwords_key].runs == before


async def test_logins_that_succeed_together_do_not_use_up_the_limit(
    client: Client, app: web.Application
) -> None:
    await add_account(app[db_key], "chair")
    ok = await logins_together(client, "chair", "correct horse battery", LIMIT)
    assert [s for s, _ in ok] == [200] * LIMIT
    # Successes were taken back: the name still has its whole allowance of failures.
    wrong = await logins_together(client, "chair", "wrong password", LIMIT)
    assert [s for s, _ in wrong] == [401] * LIMIT


@pytest.fixture
def guarded(db_url: str) -> web.Application:
    return create_app(
        Config(database_url=db_url, refused_scans_per_minute=LIMIT, verifications_per_minute=LIMIT)
    )


async def test_fifty_link_guesses_at_once_look_up_at_most_the_limit(
    aiohttp_client: ClientFactory, guarded: web.Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await aiohttp_client(guarded)
    lookups = 0
    original = links.delegate_by_link

    async def counted(*args: Any) -> Any:
        nonlocal lookups
        lookups += 1
        return await original(*args)

    monkeypatch.setattr(links, "delegate_by_link", counted)
    # Every place a link is read counts against the same guesses of one address.
    tails = ["", "/live", "/qr.svg"]
    paths = [f"/api/v1/delegate/{secrets.token_urlsafe(24)}{tails[n % 3]}" for n in range(ATTEMPTS)]
    answers = await send_together(client, "GET", paths)
    assert lookups == LIMIT
    assert_rest_refused(answers, lookups, 404)
    # The page and the self check-in are refused before any lookup as well.
    [(page, _)] = await send_together(client, "GET", [f"/d/{secrets.token_urlsafe(24)}"])
    [(checkin, _)] = await send_together(
        client,
        "POST",
        [f"/api/v1/delegate/{secrets.token_urlsafe(24)}/checkin"],
        {"code": "PLS1", "nonce": secrets.token_urlsafe(12)},
    )
    assert (page, checkin) == (429, 429)
    assert lookups <= LIMIT


async def test_fifty_award_codes_at_once_look_up_at_most_the_limit(
    aiohttp_client: ClientFactory, guarded: web.Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await aiohttp_client(guarded)
    lookups = 0
    original = awards.verification.verify_award

    async def counted(*args: Any) -> Any:
        nonlocal lookups
        lookups += 1
        return await original(*args)

    monkeypatch.setattr(api_verify, "verify_award", counted)
    paths = [f"/api/v1/verify/{secrets.token_urlsafe(12)}" for _ in range(ATTEMPTS)]
    answers = await send_together(client, "GET", paths)
    assert lookups == LIMIT
    assert_rest_refused(answers, lookups, 404)


def test_a_reservation_counts_at_once_and_a_success_takes_it_back() -> None:
    limiter = RateLimiter(limit=2)
    first = limiter.reserve({"a": 1})
    second = limiter.reserve({"a": 1})
    assert isinstance(first, Reservation) and isinstance(second, Reservation)
    full = limiter.reserve({"a": 1})
    assert isinstance(full, float) and full > 0  # two in flight: the third must wait
    first.cancel()
    assert limiter.blocked("a") == 0
    # A key at factor x the limit (an address over all names) blocks the whole attempt.
    for _ in range(4):
        limiter.hit("ip")
    assert isinstance(limiter.reserve({"b": 1, "ip": 2}), float)
    assert limiter.blocked("b") == 0  # nothing was counted for the refused attempt


@pytest.mark.parametrize("error", [ValueError, asyncio.CancelledError])
def test_an_attempt_that_fails_in_any_way_stays_counted(error: type[BaseException]) -> None:
    limiter = RateLimiter(limit=1)
    with pytest.raises(error), failures_counted(limiter, {"a": 1}, "too many"):
        raise error()  # a wrong password, or a client that left while its hash ran
    with pytest.raises(RateLimited) as refused, failures_counted(limiter, {"a": 1}, "too many"):
        pass
    assert refused.value.code == "rate_limited" and refused.value.retry_after > 0
    limiter.reset("a")
    with failures_counted(limiter, {"a": 1}, "too many"):
        pass  # a success
    assert limiter.blocked("a") == 0
