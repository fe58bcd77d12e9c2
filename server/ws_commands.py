"""WebSocket commands: the registry, the frame dispatcher and the handlers.

Each command is registered with its type and a pydantic schema that is checked
before the handler runs (Home Assistant's ``websocket_command``). Handlers are
named ``handle_<verb>``, call one service and answer exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from conference import errors
from conference.actors import resolve_actor
from conference.dbtypes import utcnow
from conference.errors import Conflict, InvalidInput, NotFound, PlenaryError
from conference.services import get_conference
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
CommandHandler = Callable[[Connection, int, M], Awaitable[None]]

# Subscriptions one socket may hold at once.
MAX_SUBSCRIPTIONS = 32

PublicId = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class Schema(BaseModel):
    """Base of command schemas: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Command:
    name: str
    schema: type[BaseModel]
    handler: CommandHandler[Any]


class CommandRegistry:
    """Commands by type; the decorator attaches the type and the schema."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(
        self, type_: str, schema: type[M]
    ) -> Callable[[CommandHandler[M]], CommandHandler[M]]:
        def decorate(handler: CommandHandler[M]) -> CommandHandler[M]:
            assert type_ not in self._commands, f"{type_} registered twice"
            self._commands[type_] = Command(type_, schema, handler)
            return handler

        return decorate

    def get(self, type_: str) -> Command | None:
        return self._commands.get(type_)

    def types(self) -> list[str]:
        return sorted(self._commands)


commands = CommandRegistry()


def parse_frame(raw: str) -> dict[str, Any]:
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
        command = commands.get(type_)
        if command is None:
            raise PlenaryError(f"unknown command {type_!r}", code=errors.UNKNOWN_COMMAND)
        body = {key: value for key, value in message.items() if key not in ("id", "type")}
        await command.handler(conn, msg_id, command.schema.model_validate(body))
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


@commands.register("ping", Ping)
async def handle_ping(conn: Connection, msg_id: int, cmd: Ping) -> None:
    conn.send_result(msg_id, {"pong": True, "server_time": utcnow().isoformat()})


@commands.register("live/subscribe", Subscribe)
async def handle_subscribe(conn: Connection, msg_id: int, cmd: Subscribe) -> None:
    if len(conn.subscriptions) >= MAX_SUBSCRIPTIONS:
        raise Conflict(f"a socket holds at most {MAX_SUBSCRIPTIONS} subscriptions")
    async with conn.db.sessionmaker() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
        only_site = await own_site(session, actor)
    assert conference.id is not None
    subscription = LiveSubscription(
        msg_id,
        conference.id,
        conn.db,
        conn.send,
        only_site=only_site,
        only_site_code=actor.site_code,
        contacts=actor.sees_contacts,
        scope=access_scope(actor),
        public_only=actor.roles == frozenset({"viewer"}),
        on_lost_access=conn.lost_access,
    )
    subscription.attach()
    try:
        async with conn.db.consistent_read() as session:
            resume = await read_resume(
                session,
                conference.id,
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


@commands.register("live/unsubscribe", Unsubscribe)
async def handle_unsubscribe(conn: Connection, msg_id: int, cmd: Unsubscribe) -> None:
    subscription = conn.subscriptions.pop(cmd.subscription, None)
    if subscription is None:
        raise NotFound("no such subscription on this socket", field="subscription")
    subscription.close()
    await subscription.wait_closed()
    conn.send_result(msg_id, None)


@commands.register("conference/snapshot", Snapshot)
async def handle_snapshot(conn: Connection, msg_id: int, cmd: Snapshot) -> None:
    async with conn.db.consistent_read() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
        snapshot = await live_snapshot(session, conference, actor=actor)
    conn.send_result(msg_id, snapshot)
