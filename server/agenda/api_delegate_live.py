"""The live conference from a delegate's personal link: the live state, asking to
speak and withdrawing (the link's secret is the credential, as for the rest of it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda import speakers
from agenda.minutes import book as minutes_book
from agenda.minutes import services as minutes
from agenda.minutes.facts import minutes_facts
from agenda.schemas import PublicRef, SpeakerCreate, Topic
from attendance import links
from attendance.models import Delegate
from conference.actors import Actor
from conference.dbtypes import utcnow
from conference.models import Conference
from conference.schemas import Input
from server.attendance.api_checkin import check_rate
from server.http import json_response, parse_body, transaction
from server.keys import db_key
from server.link_guesses import delegate_by_link
from server.proxies import client_ip
from server.routes import ApiRoutes
from server.snapshot import live_snapshot

routes = ApiRoutes("delegate page")

LINK = "/api/v1/delegate/{secret}"


class AskToSpeak(Input):
    """Ask to speak on an item (the running one unless named), or raise a point of order."""

    item: PublicRef | None = None
    topic: Topic = ""
    kind: Literal["request", "point_of_order"] = "request"


class Withdrawal(Input):
    reason: Annotated[str, Field(max_length=300)] = ""


async def _as_delegate(request: web.Request, session: AsyncSession) -> tuple[Conference, Actor]:
    """The link's conference and delegate; a wrong link counts as a guess."""
    secret = request.match_info["secret"]
    delegate, conference, site = await delegate_by_link(request, session, secret)
    check_rate(request, f"link:{secret}")
    return conference, links.delegate_actor(delegate, site, client_ip(request))


@routes.get(
    LINK + "/live",
    summary="The live conference as the delegate sees it (agenda, current item, speaker "
    "lists), with the delegate's own id to find their place",
    role="the holder of the personal link",
)
async def read_live(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].consistent_read() as session:
        conference, actor = await _as_delegate(request, session)
        snapshot: dict[str, Any] = await live_snapshot(session, conference, actor=actor)
        assert actor.delegate_id is not None
        me = await session.get(Delegate, actor.delegate_id)
        assert me is not None
    return json_response(snapshot | {"me": me.public_id})


@routes.post(
    LINK + "/speakers",
    summary="Ask to speak (or raise a point of order); the chair approves",
    role="the holder of the personal link",
    body=AskToSpeak,
    status=201,
)
async def ask_to_speak(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, AskToSpeak)
    async with transaction(request) as session:
        conference, actor = await _as_delegate(request, session)
        out = await speakers.request_speaker(
            session,
            conference,
            SpeakerCreate(item=data.item, topic=data.topic, kind=data.kind),
            actor=actor,
        )
    return json_response(out, status=201)


@routes.post(
    LINK + "/speakers/{spid}/withdraw",
    summary="Withdraw one's own request to speak (while it waits)",
    role="the holder of the personal link",
    body=Withdrawal,
)
async def withdraw(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, Withdrawal)
    async with transaction(request) as session:
        conference, actor = await _as_delegate(request, session)
        out = await speakers.act_on_speaker(
            session,
            conference,
            request.match_info["spid"],
            "withdraw",
            actor=actor,
            reason=data.reason,
        )
    return json_response(out)


@routes.get(
    LINK + "/minutes",
    summary="The minutes (settings, sections and the facts drafted from the live log) when "
    "their readers include the delegates",
    role="the holder of the personal link",
)
async def read_minutes(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].consistent_read() as session:
        conference, actor = await _as_delegate(request, session)
        sections = await minutes.read_minutes(session, conference, actor=actor)
        book = await minutes_book.read_book(session, conference, actor=actor)
        facts = await minutes_facts(session, conference, now=utcnow())
    return json_response({"book": book, "sections": sections, "facts": facts})
