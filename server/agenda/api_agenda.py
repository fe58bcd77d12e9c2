"""The agenda over HTTP: building it (organizers), moving through it and running the
speaker lists (the chair), asking to speak (delegates, site operators), roll calls."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from agenda import live, presence, services, speakers
from agenda.schemas import (
    AgendaItemCreate,
    AgendaItemOut,
    AgendaItemUpdate,
    AgendaList,
    AgendaMove,
    AgendaReorder,
    AgendaSettings,
    SpeakerAction,
    SpeakerCreate,
    SpeakersOpen,
    SpeakersReorder,
)
from agenda.state import agenda_state, load_agenda
from conference.errors import InvalidInput
from conference.schemas import Input, SiteCode
from server.auth import conference_actor
from server.http import json_response, parse_body, transaction
from server.routes import ANY_ROLE, CHAIR, HALL, ORGANIZER, STAFF, ApiRoutes, Call

routes = ApiRoutes("agenda")

CONF = "/api/v1/conferences/{cid}"
AGENDA = CONF + "/agenda"
ITEM = AGENDA + "/{iid}"
SPEAKERS = ITEM + "/speakers"


class RollCallAnswerBody(Input):
    """The site answering: an operator's own (may be left out); the chair names one."""

    site: SiteCode | None = None


class LiveChange(BaseModel):
    """The event the change appended (its data), as subscribers receive it."""

    model_config = {"extra": "allow"}


def _item_ref(request: web.Request) -> str | None:
    """The item of the path; ``current`` means the running one."""
    iid = request.match_info["iid"]
    return None if iid == "current" else iid


@routes.conference("GET", AGENDA, ANY_ROLE, response=AgendaList)
async def list_agenda(call: Call[None]) -> object:
    """The agenda in reading order, with each item's live state."""
    agenda = await load_agenda(call.session, call.conference_id)
    items = [agenda.data(item) for item in agenda.in_order()]
    return {"items": items}


@routes.conference(
    "POST", AGENDA, ORGANIZER, body=AgendaItemCreate, response=AgendaItemOut, status=201
)
async def create_item(call: Call[AgendaItemCreate]) -> object:
    """Add an item (inside another if parent is given; at the end unless position is)."""
    item = await services.create_agenda_item(
        call.session, call.conference, call.body, actor=call.actor
    )
    return (await load_agenda(call.session, call.conference_id)).data(item)


# Before the item routes: /agenda/settings is not an item.
@routes.conference("GET", AGENDA + "/settings", ANY_ROLE)
async def read_settings(call: Call[None]) -> object:
    """Speaking time per speaker (default and per kind of item) and fair order."""
    state = await agenda_state(call.session, call.conference_id, create=False)
    return services.settings_data(state)


@routes.conference("PATCH", AGENDA + "/settings", CHAIR, body=AgendaSettings)
async def update_settings(call: Call[AgendaSettings]) -> object:
    """Change speaking times or the fair order of sites."""
    state = await services.update_agenda_settings(
        call.session, call.conference, call.body, actor=call.actor
    )
    return services.settings_data(state)


@routes.conference("PATCH", ITEM, ORGANIZER, body=AgendaItemUpdate, response=AgendaItemOut)
async def update_item(call: Call[AgendaItemUpdate]) -> object:
    """Change an item's title, kind, times, presenter, site or speaking limit."""
    item = await services.update_agenda_item(
        call.session, call.conference, call.path("iid"), call.body, actor=call.actor
    )
    return (await load_agenda(call.session, call.conference_id)).data(item)


@routes.conference("DELETE", ITEM, ORGANIZER, status=204)
async def delete_item(call: Call[None]) -> None:
    """Remove a planned item and the items inside it."""
    await services.delete_agenda_item(
        call.session, call.conference, call.path("iid"), actor=call.actor
    )


@routes.conference("POST", AGENDA + "/order", ORGANIZER, body=AgendaReorder)
async def reorder_items(call: Call[AgendaReorder]) -> object:
    """Put the items of one level in a new order (each named once)."""
    await services.reorder_agenda(call.session, call.conference, call.body, actor=call.actor)
    return {"parent": call.body.parent, "order": call.body.order}


@routes.conference("POST", AGENDA + "/live", CHAIR, body=AgendaMove, response=LiveChange)
async def move(call: Call[AgendaMove]) -> object:
    """Start (the named or the next item), end, skip or go back."""
    return await live.move_agenda(
        call.session, call.conference, call.body.action, item=call.body.item, actor=call.actor
    )


# --- speaker lists ------------------------------------------------------------------------------


@routes.conference("GET", SPEAKERS, ANY_ROLE, response=LiveChange)
async def list_speakers(call: Call[None]) -> object:
    """An item's speaker list (current: the running item)."""
    return await speakers.list_speakers(call.session, call.conference, _item_ref(call.request))


@routes.post(
    SPEAKERS,
    roles=("organizer", "chair", "site_operator"),
    role="chair, organizer, site_operator (own site) or delegate (themself)",
    body=SpeakerCreate,
    response=LiveChange,
    status=201,
)
async def request_to_speak(request: web.Request) -> web.StreamResponse:
    """Ask to speak (a delegate for themself, an operator for their site's delegates) or put
    someone on the list (the chair)."""
    data = await parse_body(request, SpeakerCreate)
    item = _item_ref(request)
    if data.item is not None and item is not None and data.item != item:
        raise InvalidInput("the item of the path and of the body differ", field="item")
    data = data.model_copy(update={"item": item or data.item})
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.request_speaker(session, conference, data, actor=actor)
    return json_response(out, status=201)


@routes.conference("POST", SPEAKERS + "/next", CHAIR, response=LiveChange)
async def call_next(call: Call[None]) -> object:
    """The first of the queue takes the floor; whoever spoke is done."""
    return await speakers.call_next(
        call.session, call.conference, _item_ref(call.request), actor=call.actor
    )


@routes.conference("POST", SPEAKERS + "/order", CHAIR, body=SpeakersReorder, response=LiveChange)
async def reorder_speakers(call: Call[SpeakersReorder]) -> object:
    """Reorder the queue; made on an older version of the list it is a conflict."""
    return await speakers.reorder_speakers(
        call.session,
        call.conference,
        call.path("iid"),
        call.body.order,
        call.body.version,
        actor=call.actor,
    )


@routes.conference("POST", SPEAKERS + "/open", CHAIR, body=SpeakersOpen, response=LiveChange)
async def open_list(call: Call[SpeakersOpen]) -> object:
    """Close the list to new requests, or open it again."""
    return await speakers.set_speakers_open(
        call.session, call.conference, call.path("iid"), call.body.open, actor=call.actor
    )


@routes.conference(
    "POST",
    CONF + "/speakers/{spid}",
    ("organizer", "chair", "site_operator"),
    role="chair or organizer; withdraw also site_operator (own site) or delegate (themself)",
    body=SpeakerAction,
    response=LiveChange,
)
async def act(call: Call[SpeakerAction]) -> object:
    """Approve, reject, call, finish, start or pause the timer (the chair); withdraw (the
    chair, the delegate, or their site's operator)."""
    return await speakers.act_on_speaker(
        call.session,
        call.conference,
        call.path("spid"),
        call.body.action,
        actor=call.actor,
        reason=call.body.reason,
    )


@routes.conference("GET", CONF + "/speaking-stats", STAFF)
async def stats(call: Call[None]) -> object:
    """How often and how long each site and each person has spoken."""
    return await speakers.speaking_stats(call.session, call.conference)


# --- roll call -------------------------------------------------------------------------------


@routes.conference("GET", CONF + "/roll-call", HALL)
async def read_roll_call(call: Call[None]) -> object:
    """The latest roll call of sites: who answered when, who has not."""
    return await presence.roll_call_data(call.session, call.conference_id)


@routes.conference("POST", CONF + "/roll-call", CHAIR, status=201)
async def start_roll_call(call: Call[None]) -> object:
    """Start a roll call: every site is asked to confirm it is ready."""
    return await presence.start_roll_call(call.session, call.conference, actor=call.actor)


@routes.conference(
    "POST",
    CONF + "/roll-call/answer",
    ("organizer", "chair", "site_operator"),
    role="site_operator (own site), chair or organizer",
    body=RollCallAnswerBody,
)
async def answer_roll_call(call: Call[RollCallAnswerBody]) -> object:
    """A site confirms it is ready (its operator; the chair may answer for a site)."""
    return await presence.answer_roll_call(
        call.session, call.conference, site=call.body.site, actor=call.actor
    )


@routes.conference("POST", CONF + "/roll-call/close", CHAIR)
async def close_roll_call(call: Call[None]) -> object:
    """Close the open roll call; the answer lists the sites that did not answer."""
    return await presence.close_roll_call(call.session, call.conference, actor=call.actor)
