"""Who is calling: session cookies, bearer tokens, CSRF, and per-conference actors."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from conference import accounts
from conference.actors import ANONYMOUS, Actor, Principal, resolve_actor
from conference.dbtypes import utcnow
from conference.errors import PlenaryError, Unauthorized
from conference.models import Account, BrowserSession, Conference
from conference.passwords import Passwords
from conference.services import get_conference
from conference.text import nfc
from server.http import CSRF_FAILED, Handler, error_response, read_form
from server.keys import (
    admitted_rkey,
    browser_session_rkey,
    config_key,
    db_key,
    login_limiter_key,
    principal_rkey,
    refused_form_page_key,
    roles_rkey,
    session_token_rkey,
)

# Re-exported: callers that import it from here get the same one function.
from server.proxies import client_ip as client_ip
from server.ratelimit import failures_counted

SESSION_COOKIE = "plenary_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT = ("/api/v1/auth/login", "/api/v1/delegate/")
# Forms a page may post without JavaScript; their csrf_token field stands for the header.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class TokenCache:
    """Bearer tokens checked in the last moment, so that a device sending many requests
    (a scanner at the door) costs one database lookup a second, not one per request;
    requests arriving while a token is being looked up wait for that one lookup.

    Any change to a conference's tokens made through this process (issue, revoke)
    empties it; another process's revocation empties it when the access bell rings
    (server/access_bell.py), and within `seconds` if this process missed the bell.
    """

    def __init__(self, seconds: float = 1.0, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._seen: dict[str, tuple[float, Principal]] = {}
        self._loading: dict[str, asyncio.Task[Principal | None]] = {}
        self._generation = 0

    async def get(
        self, token: str, load: Callable[[], Awaitable[Principal | None]]
    ) -> Principal | None:
        """The token's principal (None: unknown or revoked), from load when not fresh."""
        hit = self._seen.get(token)
        if hit is not None and time.monotonic() - hit[0] <= self.seconds:
            return hit[1]
        loading = self._loading.get(token)
        if loading is None:
            # A task of its own: the request that started it may go away meanwhile.
            loading = self._loading[token] = asyncio.create_task(self._load(token, load))
            loading.add_done_callback(_seen_error)
        return await asyncio.shield(loading)

    async def _load(
        self, token: str, load: Callable[[], Awaitable[Principal | None]]
    ) -> Principal | None:
        generation = self._generation
        try:
            found = await load()
        finally:
            if self._loading.get(token) is asyncio.current_task():
                del self._loading[token]
        if generation != self._generation:
            return found  # tokens changed meanwhile: answer this request, remember nothing
        if found is None:
            self._seen.pop(token, None)
        else:
            if len(self._seen) >= self.max_entries:
                self._seen.clear()
            self._seen[token] = (time.monotonic(), found)
        return found

    def clear(self) -> None:
        self._generation += 1
        self._seen.clear()
        self._loading.clear()


def _seen_error(task: asyncio.Task[Principal | None]) -> None:
    """A failed lookup whose requests all went away: nobody else will read its error."""
    if not task.cancelled():
        task.exception()


# Created with the app (create_app); read by identify.
token_cache_key: web.AppKey[TokenCache] = web.AppKey("token_cache_key", TokenCache)
# Argon2 on its own threads (conference.passwords); created and shut down with the app.
passwords_key: web.AppKey[Passwords] = web.AppKey("passwords_key", Passwords)


def principal(request: web.Request) -> Principal:
    return request.get(principal_rkey) or ANONYMOUS


def browser_session(request: web.Request) -> BrowserSession | None:
    return request.get(browser_session_rkey)


def origin_allowed(request: web.Request, origin: str | None) -> bool:
    """Same host as the request, or one configured; no Origin means not a browser."""
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in request.app[config_key].origins:
        return True
    parts = urlsplit(origin)
    # Scheme is not compared: behind a TLS proxy the request itself arrives as http.
    return parts.scheme in ("http", "https") and parts.netloc == request.host


async def identify(request: web.Request) -> tuple[Principal, BrowserSession | None, str | None]:
    """Resolve the caller from the Authorization header or the session cookie."""
    db = request.app[db_key]
    header = request.headers.get("Authorization")
    ip = client_ip(request)
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        token = token.strip()

        async def load() -> Principal | None:
            # A read (on SQLite it never waits for writers); a write transaction only when
            # the token's last use is old enough to be recorded again (once a minute).
            async with db.read() as session:
                found = await accounts.principal_for_token(session, token, ip)
                touched = bool(session.dirty)
            if touched:
                async with db.transaction() as session:
                    found = await accounts.principal_for_token(session, token, ip)
            return found

        found = await request.app[token_cache_key].get(token, load)
        if found is None:
            raise Unauthorized("the API token is unknown or revoked")
        return (found if found.ip == ip else replace(found, ip=ip)), None, None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        limits = session_limits(request.app)
        async with db.read() as session:
            loaded = await accounts.load_session(session, cookie, limits)
        if loaded is not None:
            row, account = loaded
            if limits.due_touch(row, utcnow()):
                # Not on every request: the last use is written once a minute at most.
                assert row.id is not None
                async with db.transaction() as session:
                    await accounts.touch_session(session, row.id, limits)
            return accounts.principal_for_account(account, ip), row, cookie
    return ANONYMOUS, None, None


def session_limits(app: web.Application) -> accounts.SessionLimits:
    config = app[config_key]
    return accounts.SessionLimits(
        idle=timedelta(hours=config.session_hours),
        lifetime=timedelta(hours=config.session_max_hours),
        touch=timedelta(seconds=config.session_touch_seconds),
    )


def refuse_form(request: web.Request, error: PlenaryError) -> web.Response:
    """JSON for the API; a page's form (an old tab, another site) gets the HTML error page."""
    page = request.app.get(refused_form_page_key)
    if page is None or request.path.startswith("/api/"):
        return error_response(error)
    return page(request)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the principal; enforce CSRF on cookie-authenticated mutations."""
    # /metrics checks its own token (server/metrics_access.py), not an API token.
    if request.path.startswith("/static/") or request.path == "/metrics":
        return await handler(request)
    try:
        found, row, cookie = await identify(request)
    except PlenaryError as exc:
        return error_response(exc)
    request[principal_rkey] = found
    request[browser_session_rkey] = row
    request[session_token_rkey] = cookie
    if request.method not in SAFE_METHODS and request.headers.get("Authorization") is None:
        if not origin_allowed(request, request.headers.get("Origin")):
            return refuse_form(
                request, PlenaryError("the request comes from another site", code=CSRF_FAILED)
            )
        # A personal link's secret is in its URL, which another site cannot know: those
        # requests do not act through the session, so they need no CSRF token.
        if row is not None and not request.path.startswith(CSRF_EXEMPT):
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent and request.content_type in FORM_TYPES:
                sent = str((await read_form(request)).get("csrf_token", ""))
            if not hmac.compare_digest(sent.encode(), row.csrf_token.encode()):
                return refuse_form(
                    request,
                    PlenaryError(
                        f"missing or wrong {CSRF_HEADER} header (get it from /api/v1/me)",
                        code=CSRF_FAILED,
                    ),
                )
    try:
        return await handler(request)
    finally:
        if request.method not in SAFE_METHODS and "/tokens" in request.path:
            # Issued or revoked a token: the next request of every device checks again.
            request.app[token_cache_key].clear()


async def conference_actor(
    request: web.Request, session: AsyncSession, conference_id: str
) -> tuple[Conference, Actor]:
    """The conference named in the URL and the caller in it: 404 if they may not see it,
    403 without a role the route declares (server.http.ApiRoutes ``roles``)."""
    conference = await get_conference(session, conference_id)
    actor = await resolve_actor(session, principal(request), conference)
    roles = request.get(roles_rkey)
    if roles:
        actor.require(*roles)
    request[admitted_rkey] = True
    return conference, actor


async def log_in(
    request: web.Request, username: str, password: str
) -> tuple[str, Account, BrowserSession]:
    """Check the password and start a new session (rate-limited per address and name).

    Shared by the login page and the JSON API; raises RateLimited or Unauthorized.
    The attempt is counted before the password is hashed and taken back if it succeeds,
    so attempts sent together cannot all pass the limit (at most the limit are hashed).
    """
    limiter = request.app[login_limiter_key]
    ip = client_ip(request)
    # The name as the account lookup sees it: "victim " must count as "victim".
    key = f"{ip}|{nfc(username).casefold()}"
    # One address may not spray many names either: ten times the per-name limit.
    with failures_counted(limiter, {key: 1, ip: 10}, "too many failed logins"):
        account, new_hash = await _checked_account(request, username, password)
    limiter.reset(key)
    async with request.app[db_key].transaction() as session:
        assert account.id is not None
        if new_hash is not None:
            await accounts.store_password_hash(session, account.id, new_hash)
        token, row = await accounts.start_session(
            session,
            account,
            ttl=timedelta(hours=request.app[config_key].session_max_hours),
            ip=ip,
            user_agent=request.headers.get("User-Agent", ""),
            replaces=request.get(session_token_rkey),
        )
    return token, account, row


async def _checked_account(
    request: web.Request, username: str, password: str
) -> tuple[Account, str | None]:
    """The account these credentials open and, if its hash is outdated, a new one.

    Read, then hash with no transaction open: the hash takes tens of milliseconds and
    must not hold a connection (on SQLite, the write lock) meanwhile."""
    async with request.app[db_key].read() as session:
        found = await accounts.get_account_by_username(session, username)
    passwords = request.app[passwords_key]
    account = await accounts.check_password(found, password, passwords)
    return account, await passwords.rehashed(account.password_hash, password)


async def log_out(request: web.Request, *, everywhere: bool = False) -> int:
    """End the caller's browser session, or (everywhere) every session of their
    account; how many sessions ended."""
    token = request.get(session_token_rkey)
    row = browser_session(request)
    if not token or row is None:
        return 0
    async with request.app[db_key].transaction() as session:
        if everywhere:
            return await accounts.end_all_sessions(
                session, row.account_id, actor=Actor(principal(request))
            )
        await accounts.end_session(session, token)
    return 1


def require_login(request: web.Request) -> Principal:
    found = principal(request)
    if not found.authenticated:
        raise Unauthorized("log in first")
    return found


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    config = request.app[config_key]
    response.set_cookie(
        SESSION_COOKIE,
        token,
        # The browser may keep it for the lifetime; the server ends it sooner when idle.
        max_age=config.session_max_hours * 3600,
        httponly=True,
        samesite="Lax",
        secure=config.secure_cookies or request.secure,
        path="/",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
