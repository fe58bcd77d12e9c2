"""The live agenda over the WebSocket: heartbeats of site screens and operator pages,
and the chair's and delegates' actions (the same services as over HTTP)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from agenda import live, speakers
from agenda.schemas import PublicRef, SpeakerActionName, SpeakerCreate
from conference.actors import Actor
from conference.dbtypes import utcnow
from server.runtime import presence_key
from server.ws_commands import PublicId, Schema, command, conference_of
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


@command("presence/beat", BeatCommand, roles=("site_operator", "screen"), site_bound=True)
async def handle_beat(conn: Connection, msg_id: int, cmd: BeatCommand, actor: Actor) -> None:
    """The site of the caller (an operator's or a screen token's) is connected."""
    assert actor.conference_id is not None and actor.site_id is not None
    conn.app[presence_key].book.beat(actor.conference_id, actor.site_id, cmd.latency_ms)
    conn.send_result(msg_id, {"server_time": utcnow().isoformat(), "site": actor.site_code})


@command("agenda/move", MoveCommand, roles=live.LIVE_ROLES)
async def handle_move(conn: Connection, msg_id: int, cmd: MoveCommand, actor: Actor) -> None:
    async with conn.db.transaction() as session:
        conference = await conference_of(session, actor)
        out = await live.move_agenda(session, conference, cmd.action, item=cmd.item, actor=actor)
    conn.send_result(msg_id, out)


@command("speakers/request", RequestCommand, roles=speakers.ASKING_ROLES)
async def handle_request(conn: Connection, msg_id: int, cmd: RequestCommand, actor: Actor) -> None:
    data = SpeakerCreate.model_validate(cmd.model_dump(exclude={"conference"}))
    async with conn.db.transaction() as session:
        conference = await conference_of(session, actor)
        out = await speakers.request_speaker(session, conference, data, actor=actor)
    conn.send_result(msg_id, out)


@command("speakers/act", ActCommand, roles=speakers.ASKING_ROLES)
async def handle_act(conn: Connection, msg_id: int, cmd: ActCommand, actor: Actor) -> None:
    async with conn.db.transaction() as session:
        conference = await conference_of(session, actor)
        out = await speakers.act_on_speaker(
            session, conference, cmd.speaker, cmd.action, actor=actor
        )
    conn.send_result(msg_id, out)


@command("speakers/next", NextCommand, roles=speakers.CHAIR_ROLES)
async def handle_next(conn: Connection, msg_id: int, cmd: NextCommand, actor: Actor) -> None:
    async with conn.db.transaction() as session:
        conference = await conference_of(session, actor)
        out = await speakers.call_next(session, conference, cmd.item, actor=actor)
    conn.send_result(msg_id, out)


COMMANDS = (handle_beat, handle_move, handle_request, handle_act, handle_next)
