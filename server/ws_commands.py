"""WebSocket commands: their declaration, the registry, the frame dispatcher, the stream's.

Each command is declared with its type, a pydantic schema and the roles that may send
it (``@command``, like Home Assistant's ``websocket_command``); the dispatcher checks the
schema and resolves and admits the caller before the handler runs. Each module lists its
commands in ``COMMANDS`` and the app factory builds one registry per application
(``server.ws.command_registry``). Handlers are named ``handle_<verb>``, call one service
and answer exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sqlmodel.ext.asyncio.session import AsyncSession

from conference import errors
from conference.actors import Actor, resolve_actor
from conference.catalogue import Viewer
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound, PlenaryError
from conference.models import Conference
from conference.rawjson import JsonObject
from conference.services import get_conference
from server.events import catalogue_key
from server.snapshot import live_snapshot
from server.ws_connection import Connection
from server.ws_live import (
    LiveSubscription,
    access_scope,
    own_site,
    read_resume,
)

log = logging.getLogger("plenary.ws")

M = TypeVar("M", bound=BaseModel)
# A command's handler: the socket, the message id, the checked command and the caller as
# resolved in the command's conference (for a command without one: no conference, no roles).
CommandHandler = Callable[[Connection, int, M, Actor], Awaitable[None]]

# Subscriptions one socket may hold at once.
MAX_SUBSCRIPTIONS = 32

PublicId = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class Schema(BaseModel):
    """Base of command schemas: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Command:
    """A WebSocket command as declared: its type, its schema and who may send it.

    roles: the roles one of which the caller needs in the command's conference; None when
    anyone who may see the conference may send it. A command whose schema has a
    ``conference`` field gets the caller resolved in it before the handler runs (an
    invisible conference is not_found, a missing role forbidden); what a role may do
    with which record (an operator and another site's delegate) the services decide.
    site_bound: the caller must be bound to a site (a site's operator or screen).
    gate: run before the caller is resolved (a rate limit that also counts the refused).
    """

    name: str
    schema: type[BaseModel]
    handler: CommandHandler[Any]
    roles: tuple[str, ...] | None = None
    site_bound: bool = False
    gate: Callable[[Connection], None] | None = None

    @property
    def in_conference(self) -> bool:
        return "conference" in self.schema.model_fields

    def check(self, actor: Actor) -> None:
        """Refuse a caller the declaration does not admit."""
        if self.roles is not None:
            actor.require(*self.roles)
        if self.site_bound and actor.site_id is None:
            raise Forbidden(f"{self.name} is sent by a site's operator or screen")


def command(
    name: str,
    schema: type[M],
    *,
    roles: tuple[str, ...] | None = None,
    site_bound: bool = False,
    gate: Callable[[Connection], None] | None = None,
) -> Callable[[CommandHandler[M]], Command]:
    """Declare a handler as the command name (nothing is registered: see CommandRegistry)."""

    def declare(handler: CommandHandler[M]) -> Command:
        return Command(name, schema, handler, roles, site_bound, gate)

    return declare


class CommandRegistry:
    """An application's commands by type, from the modules' declarations (app factory)."""

    def __init__(self, *groups: Iterable[Command]) -> None:
        self._commands: dict[str, Command] = {}
        for group in groups:
            for declared in group:
                if declared.name in self._commands:
                    raise ValueError(f"command {declared.name!r} is declared twice")
                self._commands[declared.name] = declared

    def get(self, type_: str) -> Command | None:
        return self._commands.get(type_)

    def types(self) -> list[str]:
        return sorted(self._commands)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())


commands_key = web.AppKey("commands_key", CommandRegistry)


async def caller(conn: Connection, declared: Command, cmd: BaseModel) -> Actor:
    """The caller as the command's declaration admits them, or the error that refuses."""
    if declared.gate is not None:
        declared.gate(conn)
    if not declared.in_conference:
        return Actor(conn.principal)
    async with conn.db.read() as session:
        named = cmd.model_dump(include={"conference"})["conference"]
        conference = await get_conference(session, str(named))
        actor = await resolve_actor(session, conn.principal, conference)
    declared.check(actor)
    return actor


async def conference_of(session: AsyncSession, actor: Actor) -> Conference:
    """The caller's conference, read again in the handler's own transaction."""
    conference = await session.get(Conference, actor.conference_id or 0)
    if conference is None:
        raise NotFound("no such conference", field="conference")
    return conference


def parse_frame(raw: str) -> JsonObject:
    """A text frame as a JSON object, or InvalidInput."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput("the message is not valid JSON") from None
    if not isinstance(message, dict):
        raise InvalidInput("a message must be a JSON object")
    return message


async def handle_frame(conn: Connection, raw: str) -> None:
    """Answer one client frame: exactly one result, successful or not."""
    msg_id: int | None = None
    answers = conn.answers
    try:
        message = parse_frame(raw)
        given_id = message.get("id")
        # bool is an int in Python, never in the protocol.
        if type(given_id) is not int:
            raise InvalidInput("id must be an integer", field="id")
        msg_id = given_id
        if msg_id <= conn.last_id:
            raise InvalidInput(f"id must be greater than {conn.last_id}", field="id")
        conn.last_id = msg_id
        type_ = message.get("type")
        if not isinstance(type_, str):
            raise InvalidInput("type must be a string like live/subscribe", field="type")
        declared = conn.app[commands_key].get(type_)
        if declared is None:
            raise PlenaryError(f"unknown command {type_!r}", code=errors.UNKNOWN_COMMAND)
        body = {key: value for key, value in message.items() if key not in ("id", "type")}
        cmd = declared.schema.model_validate(body)
        await declared.handler(conn, msg_id, cmd, await caller(conn, declared, cmd))
    except Exception as exc:
        if conn.answers > answers:
            log.error("WebSocket command %s failed after its answer", msg_id, exc_info=exc)
        else:
            conn.send_error(msg_id, exc)


# --- commands ------------------------------------------------------------------


class Ping(Schema):
    pass


class Subscribe(Schema):
    conference: PublicId
    since: Annotated[StrictInt, Field(ge=0)] | None = None
    epoch: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None


class Unsubscribe(Schema):
    subscription: StrictInt


class Snapshot(Schema):
    conference: PublicId


@command("ping", Ping)
async def handle_ping(conn: Connection, msg_id: int, cmd: Ping, actor: Actor) -> None:
    conn.send_result(msg_id, {"pong": True, "server_time": utcnow().isoformat()})


@command("live/subscribe", Subscribe)
async def handle_subscribe(conn: Connection, msg_id: int, cmd: Subscribe, actor: Actor) -> None:
    if len(conn.subscriptions) >= MAX_SUBSCRIPTIONS:
        raise Conflict(f"a socket holds at most {MAX_SUBSCRIPTIONS} subscriptions")
    async with conn.db.sessionmaker() as session:
        only_site = await own_site(session, actor)
    conference_id = actor.conference_id
    assert conference_id is not None
    subscription = LiveSubscription(
        msg_id,
        conference_id,
        conn.db,
        conn.send,
        catalogue=conn.app[catalogue_key],
        viewer=Viewer(actor.roles, actor.sees_contacts, only_site, actor.site_code),
        scope=access_scope(actor),
        public_only=actor.roles == frozenset({"viewer"}),
        on_lost_access=conn.lost_access,
    )
    subscription.attach()
    try:
        async with conn.db.consistent_read() as session:
            resume = await read_resume(
                session,
                conference_id,
                actor,
                since=cmd.since,
                epoch=cmd.epoch,
                replay_limit=conn.config.replay_limit,
            )
    except BaseException:
        subscription.close()
        raise
    conn.subscriptions[msg_id] = subscription
    conn.send_result(msg_id, resume.result())
    subscription.start(resume)


@command("live/unsubscribe", Unsubscribe)
async def handle_unsubscribe(conn: Connection, msg_id: int, cmd: Unsubscribe, actor: Actor) -> None:
    subscription = conn.subscriptions.pop(cmd.subscription, None)
    if subscription is None:
        raise NotFound("no such subscription on this socket", field="subscription")
    subscription.close()
    await subscription.wait_closed()
    conn.send_result(msg_id, None)


@command("conference/snapshot", Snapshot)
async def handle_snapshot(conn: Connection, msg_id: int, cmd: Snapshot, actor: Actor) -> None:
    async with conn.db.consistent_read() as session:
        conference = await conference_of(session, actor)
        snapshot = await live_snapshot(session, conference, actor=actor)
    conn.send_result(msg_id, snapshot)


COMMANDS = (handle_ping, handle_subscribe, handle_unsubscribe, handle_snapshot)
