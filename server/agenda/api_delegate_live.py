"""The live conference from a delegate's personal link: the live state, asking to
speak and withdrawing (the link's secret is the credential, as for the rest of it)."""

from __future__ import annotations

from typing import Annotated, Literal

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
from server.link_guesses import delegate_by_link
from server.proxies import client_ip
from server.routes import ApiRoutes, Call
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


async def as_delegate(request: web.Request, session: AsyncSession) -> tuple[Conference, Actor]:
    """The link's conference and delegate; a wrong link counts as a guess."""
    secret = request.match_info["secret"]
    delegate, conference, site = await delegate_by_link(request, session, secret)
    check_rate(request, f"link:{secret}")
    return conference, links.delegate_actor(delegate, site, client_ip(request))


LINK_HOLDER = "the holder of the personal link"


@routes.conference(
    "GET", LINK + "/live", None, caller=as_delegate, role=LINK_HOLDER, consistent=True
)
async def read_live(call: Call[None]) -> object:
    """The live conference as the delegate sees it (agenda, current item, speaker lists),
    with the delegate's own id to find their place."""
    snapshot = await live_snapshot(call.session, call.conference, actor=call.actor)
    assert call.actor.delegate_id is not None
    me = await call.session.get(Delegate, call.actor.delegate_id)
    assert me is not None
    return {**snapshot, "me": me.public_id}


@routes.conference(
    "POST",
    LINK + "/speakers",
    None,
    caller=as_delegate,
    role=LINK_HOLDER,
    body=AskToSpeak,
    status=201,
)
async def ask_to_speak(call: Call[AskToSpeak]) -> object:
    """Ask to speak (or raise a point of order); the chair approves."""
    asked = SpeakerCreate(item=call.body.item, topic=call.body.topic, kind=call.body.kind)
    return await speakers.request_speaker(call.session, call.conference, asked, actor=call.actor)


@routes.conference(
    "POST",
    LINK + "/speakers/{spid}/withdraw",
    None,
    caller=as_delegate,
    role=LINK_HOLDER,
    body=Withdrawal,
)
async def withdraw(call: Call[Withdrawal]) -> object:
    """Withdraw one's own request to speak (while it waits)."""
    return await speakers.act_on_speaker(
        call.session,
        call.conference,
        call.path("spid"),
        "withdraw",
        actor=call.actor,
        reason=call.body.reason,
    )


@routes.conference(
    "GET", LINK + "/minutes", None, caller=as_delegate, role=LINK_HOLDER, consistent=True
)
async def read_minutes(call: Call[None]) -> object:
    """The minutes (settings, sections and the facts drafted from the live log) when their
    readers include the delegates."""
    sections = await minutes.read_minutes(call.session, call.conference, actor=call.actor)
    book = await minutes_book.read_book(call.session, call.conference, actor=call.actor)
    facts = await minutes_facts(call.session, call.conference, now=utcnow())
    return {"book": book, "sections": sections, "facts": facts}
