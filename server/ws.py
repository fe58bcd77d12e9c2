"""The WebSocket endpoint (DESIGN.md section 4; the protocol is in docs/websocket.md).

The handshake checks Origin, then authenticates by session cookie or bearer
header, or else by an ``auth`` first message; after ``auth_ok`` every frame is a
command answered by :func:`server.ws_commands.handle_frame`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Literal

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from attendance import links
from conference import accounts
from conference.actors import ANONYMOUS, Principal, resolve_actor
from conference.errors import Forbidden, InvalidInput, NotFound, PlenaryError, Unauthorized
from conference.models import Conference
from server import ws_commands
from server.access_bell import access_bell_key
from server.agenda import ws_agenda
from server.attendance import ws_checkin
from server.auth import SESSION_COOKIE, client_ip, identify, origin_allowed, session_limits
from server.keys import (
    metrics_key,
    principal_rkey,
    session_token_rkey,
    socket_tasks_key,
    sockets_key,
)
from server.link_guesses import counted_lookup
from server.routes import ApiRoutes
from server.ws_commands import CommandRegistry, handle_frame
from server.ws_connection import (
    ACCESS_CHANGED_REASON,
    CLOSE_ACCESS_CHANGED,
    CLOSE_UNAUTHORIZED,
    Connection,
)
from server.ws_live import access_scope

log = logging.getLogger("plenary.ws")

routes = ApiRoutes("live")


def command_registry() -> CommandRegistry:
    """Every WebSocket command of the application (the app factory keeps it per app)."""
    return CommandRegistry(ws_commands.COMMANDS, ws_agenda.COMMANDS, ws_checkin.COMMANDS)


WEBSOCKET_REQUIRED = "websocket_required"
MAX_FRAME = 64 * 1024
WATCHER_STOP_TIMEOUT = 10.0
HEARTBEAT = 30.0


class AuthMessage(BaseModel):
    """The first message of a client without a cookie; no token means anonymous."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["auth"]
    token: StrictStr | None = Field(default=None, max_length=500)
    # A delegate's phone: the secret of their personal link.
    link: StrictStr | None = Field(default=None, max_length=100)


@routes.get("/api/v1/ws", role="anyone")
async def websocket(request: web.Request) -> web.StreamResponse:
    """The WebSocket (JSON text frames)."""
    if not origin_allowed(request, request.headers.get("Origin")):
        raise Forbidden("WebSocket connections from this origin are not allowed")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, compress=False, max_msg_size=MAX_FRAME)
    if not ws.can_prepare(request).ok:
        raise PlenaryError("this endpoint only speaks WebSocket", code=WEBSOCKET_REQUIRED)
    await ws.prepare(request)
    app = request.app
    app[sockets_key].add(ws)
    app[metrics_key].ws_connections += 1
    conn = Connection(ws, app)
    conn.start()
    watcher: asyncio.Task[None] | None = None
    # Asked, not cancelled: a check cut off inside a database session could hang.
    stop = asyncio.Event()
    try:
        if await authenticate(conn, request):
            app[access_bell_key].connections.add(conn)
            watcher = asyncio.create_task(watch_access(conn, stop), name="plenary-ws-access")
            await serve(conn)
    finally:
        # aiohttp may cancel this handler once the peer is gone: forget the socket
        # before any await, then finish closing in a task that cannot be cancelled.
        app[sockets_key].discard(ws)
        app[access_bell_key].connections.discard(conn)
        conn.drop_subscriptions()
        stop.set()
        conn.recheck.set()
        closing = asyncio.create_task(finish(conn, watcher), name="plenary-ws-finish")
        tasks = app[socket_tasks_key]
        tasks.add(closing)
        closing.add_done_callback(tasks.discard)
        await asyncio.shield(closing)
    return ws


async def finish(conn: Connection, watcher: asyncio.Task[None] | None) -> None:
    if watcher is not None:
        # The watcher stops at its next check point; a check takes milliseconds.
        _, late = await asyncio.wait({watcher}, timeout=WATCHER_STOP_TIMEOUT)
        for task in late:
            task.cancel()
    await conn.shutdown()


async def authenticate(conn: Connection, request: web.Request) -> bool:
    """Settle who is on the socket; False once the socket has been closed."""
    found = request.get(principal_rkey)
    if found is None:
        found, _, _ = await identify(request)
    conn.credential = request_credential(request, found)
    if not found.authenticated:
        conn.send_message({"type": "auth_required"})
        try:
            async with asyncio.timeout(conn.config.ws_auth_timeout):
                msg = await conn.ws.receive()
        except TimeoutError:
            await conn.close(CLOSE_UNAUTHORIZED, b"authentication timed out")
            return False
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return False
        try:
            found = await principal_from_auth(
                conn, msg.data if msg.type == WSMsgType.TEXT else None, client_ip(request)
            )
        except PlenaryError as exc:
            conn.send_message({"type": "auth_invalid", "message": exc.message})
            await conn.close(CLOSE_UNAUTHORIZED, b"authentication failed")
            return False
    conn.principal = found
    conn.send_message({"type": "auth_ok", "user": found.name})
    return True


async def principal_from_auth(conn: Connection, raw: str | None, ip: str) -> Principal:
    """The principal an auth message stands for: an API token or a session cookie value."""
    try:
        message = AuthMessage.model_validate(json.loads(raw) if raw is not None else None)
    except (ValueError, RecursionError, ValidationError):
        raise InvalidInput(
            'the first message must be {"type": "auth", "token": "..."} (no token: anonymous)'
        ) from None
    if message.link is not None:
        conn.credential = ("link", message.link)
        async with conn.db.read() as session:
            try:
                delegate, _, site = await counted_lookup(conn.app, ip, session, message.link)
            except NotFound:
                raise Unauthorized("this personal link is not valid") from None
        return links.delegate_actor(delegate, site, ip).principal
    if message.token is None:
        return ANONYMOUS
    kind = "token" if message.token.startswith(accounts.TOKEN_PREFIX) else "session"
    conn.credential = (kind, message.token)
    found: Principal | None = None
    async with conn.db.transaction() as session:
        if message.token.startswith(accounts.TOKEN_PREFIX):
            found = await accounts.principal_for_token(session, message.token, ip)
        else:
            loaded = await accounts.load_session(session, message.token, session_limits(conn.app))
            if loaded is not None:
                found = accounts.principal_for_account(loaded[1], ip)
    if found is None:
        raise Unauthorized("the token is unknown, revoked or expired")
    return found


def request_credential(request: web.Request, found: Principal) -> tuple[str, str] | None:
    """The secret that authenticated the handshake, to check it again later."""
    if found.kind == "token":
        _, _, token = request.headers.get("Authorization", "").partition(" ")
        return ("token", token.strip())
    cookie = request.get(session_token_rkey) or request.cookies.get(SESSION_COOKIE)
    if found.kind == "account" and cookie:
        return ("session", cookie)
    return None


# Why a socket is closed once its credential ended: (close code, reason), shown by clients.
ENDED = {
    "session": (CLOSE_UNAUTHORIZED, "session_ended: signed out or expired"),
    "token": (CLOSE_UNAUTHORIZED, "token_revoked: this API token was revoked"),
    "screen": (CLOSE_UNAUTHORIZED, "screen_token_revoked: this screen's token was revoked"),
    "link": (CLOSE_UNAUTHORIZED, "link_revoked: this personal link was reissued or removed"),
}


async def credential_ended(conn: Connection) -> str | None:
    """None while the socket's session, token or personal link holds, else its kind
    (session, token, screen, link): a key of ENDED."""
    if conn.credential is None:
        return None
    kind, secret = conn.credential
    # A read: on SQLite it never waits for a writer, and many sockets check at once.
    async with conn.db.read() as session:
        if kind == "token":
            holds = await accounts.principal_for_token(session, secret) is not None
            return None if holds else ("screen" if conn.principal.token_role == "screen" else kind)
        if kind == "link":
            try:
                await links.delegate_by_link(session, secret)
            except NotFound:
                return kind
            return None
        loaded = await accounts.load_session(session, secret, session_limits(conn.app))
        return None if loaded is not None else kind


async def access_unchanged(conn: Connection) -> bool:
    """Whether every subscription may still see what it was scoped to see."""
    async with conn.db.sessionmaker() as session:
        for subscription in list(conn.subscriptions.values()):
            conference = await session.get(Conference, subscription.conference_id)
            if conference is None:
                return False
            try:
                actor = await resolve_actor(session, conn.principal, conference)
            except NotFound:
                return False
            if access_scope(actor) != subscription.scope:
                return False
    return True


async def watch_access(conn: Connection, stop: asyncio.Event) -> None:
    """Close the socket once its session ends (logout, expiry), its token or personal
    link is revoked, or a role, a site binding or the conference's public flag changed
    under it: at once when the access bell rings, else at the periodic check."""
    bell = conn.app[access_bell_key]
    while not conn.closing:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(conn.config.ws_revalidate_seconds):
                await conn.recheck.wait()
        if stop.is_set() or conn.closing:
            return
        # Cleared before the check: a bell ringing during it makes one more.
        conn.recheck.clear()
        try:
            async with bell.checks:
                ended = await credential_ended(conn)
                unchanged = ended is None and await access_unchanged(conn)
        except Exception:
            log.exception("could not check a WebSocket's access; trying again later")
            continue
        if ended is not None:
            code, reason = ENDED[ended]
            conn.send_message({"type": "auth_expired", "message": reason})
            await conn.close(code, reason.encode())
            return
        if not unchanged:
            await conn.close(CLOSE_ACCESS_CHANGED, ACCESS_CHANGED_REASON.encode())
            return


async def serve(conn: Connection) -> None:
    """Read commands until the socket closes; only this task reads the socket."""
    async for msg in conn.ws:
        if msg.type == WSMsgType.TEXT:
            await handle_frame(conn, msg.data)
        elif msg.type == WSMsgType.BINARY:
            conn.send_error(None, InvalidInput("send JSON text frames, not binary ones"))
        else:
            # ERROR: aiohttp has already closed the socket (e.g. 1009 for a frame too big).
            log.debug("WebSocket read ended: %s", msg.data)
            return
