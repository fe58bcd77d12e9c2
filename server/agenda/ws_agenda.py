"""The live agenda over the WebSocket: heartbeats of site screens and operator pages,
and the chair's and delegates' actions (the same services as over HTTP)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from agenda import live, speakers
from agenda.schemas import PublicRef, SpeakerActionName, SpeakerCreate
from conference.actors import Actor, resolve_actor
from conference.dbtypes import utcnow
from conference.errors import Forbidden
from conference.services import get_conference
from server.runtime import presence_key
from server.ws_commands import PublicId, Schema, commands
from server.ws_connection import Connection


class BeatCommand(Schema):
    """A heartbeat of a site's screen or operator page, with the round trip it measured."""

    conference: PublicId
    latency_ms: Annotated[StrictInt, Field(ge=0, le=600_000)] | None = None


class MoveCommand(Schema):
    conference: PublicId
    action: Literal["start", "end", "skip", "back"]
    item: PublicRef | None = None


class RequestCommand(SpeakerCreate):
    conference: PublicId


class ActCommand(Schema):
    conference: PublicId
    speaker: PublicRef
    action: SpeakerActionName


class NextCommand(Schema):
    conference: PublicId
    item: PublicRef | None = None


async def _actor(conn: Connection, conference_id: str) -> Actor:
    async with conn.db.read() as session:
        conference = await get_conference(session, conference_id)
        return await resolve_actor(session, conn.principal, conference)


@commands.register("presence/beat", BeatCommand)
async def handle_beat(conn: Connection, msg_id: int, cmd: BeatCommand) -> None:
    """The site of the caller (an operator's or a screen token's) is connected."""
    actor = await _actor(conn, cmd.conference)
    if actor.site_id is None or not actor.has("site_operator", "screen"):
        raise Forbidden("only a site's operator or screen reports the site's presence")
    assert actor.conference_id is not None
    conn.app[presence_key].book.beat(actor.conference_id, actor.site_id, cmd.latency_ms)
    conn.send_result(msg_id, {"server_time": utcnow().isoformat(), "site": actor.site_code})


@commands.register("agenda/move", MoveCommand)
async def handle_move(conn: Connection, msg_id: int, cmd: MoveCommand) -> None:
    async with conn.db.transaction() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
        out = await live.move_agenda(session, conference, cmd.action, item=cmd.item, actor=actor)
    conn.send_result(msg_id, out)


@commands.register("speakers/request", RequestCommand)
async def handle_request(conn: Connection, msg_id: int, cmd: RequestCommand) -> None:
    data = SpeakerCreate.model_validate(cmd.model_dump(exclude={"conference"}))
    async with conn.db.transaction() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
        out = await speakers.request_speaker(session, conference, data, actor=actor)
    conn.send_result(msg_id, out)


@commands.register("speakers/act", ActCommand)
async def handle_act(conn: Connection, msg_id: int, cmd: ActCommand) -> None:
    async with conn.db.transaction() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
        out = await speakers.act_on_speaker(
            session, conference, cmd.speaker, cmd.action, actor=actor
        )
    conn.send_result(msg_id, out)


@commands.register("speakers/next", NextCommand)
async def handle_next(conn: Connection, msg_id: int, cmd: NextCommand) -> None:
    async with conn.db.transaction() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
        out = await speakers.call_next(session, conference, cmd.item, actor=actor)
    conn.send_result(msg_id, out)
