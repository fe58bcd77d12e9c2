"""The agenda over HTTP: building it (organizers), moving through it and running the
speaker lists (the chair), asking to speak (delegates, site operators), roll calls."""

from __future__ import annotations

from typing import Any

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
from server.http import ANY_ROLE, ApiRoutes, json_response, parse_body, transaction
from server.keys import db_key

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


@routes.get(
    AGENDA,
    summary="The agenda in reading order, with each item's live state",
    role="any role in it",
    response=AgendaList,
    roles=ANY_ROLE,
)
async def list_agenda(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].read() as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        assert conference.id is not None
        agenda = await load_agenda(session, conference.id)
        items = [agenda.data(item) for item in agenda.in_order()]
    return json_response({"items": items})


@routes.post(
    AGENDA,
    summary="Add an item (inside another if parent is given; at the end unless position is)",
    role="organizer",
    body=AgendaItemCreate,
    response=AgendaItemOut,
    status=201,
    roles=("organizer",),
)
async def create_item(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, AgendaItemCreate)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        item = await services.create_agenda_item(session, conference, data, actor=actor)
        assert conference.id is not None
        out = (await load_agenda(session, conference.id)).data(item)
    return json_response(out, status=201)


# Before the item routes: /agenda/settings is not an item.
@routes.get(
    AGENDA + "/settings",
    summary="Speaking time per speaker (default and per kind of item) and fair order",
    role="any role in it",
    roles=ANY_ROLE,
)
async def read_settings(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].read() as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        assert conference.id is not None
        state = await agenda_state(session, conference.id, create=False)
    return json_response(services.settings_data(state))


@routes.patch(
    AGENDA + "/settings",
    summary="Change speaking times or the fair order of sites",
    role="chair or organizer",
    body=AgendaSettings,
    roles=("organizer", "chair"),
)
async def update_settings(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, AgendaSettings)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        state = await services.update_agenda_settings(session, conference, data, actor=actor)
    return json_response(services.settings_data(state))


@routes.patch(
    ITEM,
    summary="Change an item's title, kind, times, presenter, site or speaking limit",
    role="organizer",
    body=AgendaItemUpdate,
    response=AgendaItemOut,
    roles=("organizer",),
)
async def update_item(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, AgendaItemUpdate)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        item = await services.update_agenda_item(
            session, conference, request.match_info["iid"], data, actor=actor
        )
        assert conference.id is not None
        out = (await load_agenda(session, conference.id)).data(item)
    return json_response(out)


@routes.delete(
    ITEM,
    summary="Remove a planned item and the items inside it",
    role="organizer",
    status=204,
    roles=("organizer",),
)
async def delete_item(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        await services.delete_agenda_item(
            session, conference, request.match_info["iid"], actor=actor
        )
    return web.Response(status=204)


@routes.post(
    AGENDA + "/order",
    summary="Put the items of one level in a new order (each named once)",
    role="organizer",
    body=AgendaReorder,
    roles=("organizer",),
)
async def reorder_items(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, AgendaReorder)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        await services.reorder_agenda(session, conference, data, actor=actor)
    return json_response({"parent": data.parent, "order": data.order})


@routes.post(
    AGENDA + "/live",
    summary="Start (the named or the next item), end, skip or go back",
    role="chair or organizer",
    body=AgendaMove,
    response=LiveChange,
    roles=("organizer", "chair"),
)
async def move(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, AgendaMove)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await live.move_agenda(session, conference, data.action, item=data.item, actor=actor)
    return json_response(out)


# --- speaker lists ------------------------------------------------------------------------------


@routes.get(
    SPEAKERS,
    summary="An item's speaker list (current: the running item)",
    role="any role in it",
    response=LiveChange,
    roles=ANY_ROLE,
)
async def list_speakers(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].read() as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.list_speakers(session, conference, _item_ref(request))
    return json_response(out)


@routes.post(
    SPEAKERS,
    summary="Ask to speak (a delegate for themself, an operator for their site's "
    "delegates) or put someone on the list (the chair)",
    role="chair, organizer, site_operator (own site) or delegate (themself)",
    body=SpeakerCreate,
    response=LiveChange,
    status=201,
    roles=("organizer", "chair", "site_operator"),
)
async def request_to_speak(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, SpeakerCreate)
    item = _item_ref(request)
    if data.item is not None and item is not None and data.item != item:
        raise InvalidInput("the item of the path and of the body differ", field="item")
    data = data.model_copy(update={"item": item or data.item})
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.request_speaker(session, conference, data, actor=actor)
    return json_response(out, status=201)


@routes.post(
    SPEAKERS + "/next",
    summary="The first of the queue takes the floor; whoever spoke is done",
    role="chair or organizer",
    response=LiveChange,
    roles=("organizer", "chair"),
)
async def call_next(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.call_next(session, conference, _item_ref(request), actor=actor)
    return json_response(out)


@routes.post(
    SPEAKERS + "/order",
    summary="Reorder the queue; made on an older version of the list it is a conflict",
    role="chair or organizer",
    body=SpeakersReorder,
    response=LiveChange,
    roles=("organizer", "chair"),
)
async def reorder_speakers(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, SpeakersReorder)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.reorder_speakers(
            session,
            conference,
            request.match_info["iid"],
            data.order,
            data.version,
            actor=actor,
        )
    return json_response(out)


@routes.post(
    SPEAKERS + "/open",
    summary="Close the list to new requests, or open it again",
    role="chair or organizer",
    body=SpeakersOpen,
    response=LiveChange,
    roles=("organizer", "chair"),
)
async def open_list(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, SpeakersOpen)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.set_speakers_open(
            session, conference, request.match_info["iid"], data.open, actor=actor
        )
    return json_response(out)


@routes.post(
    CONF + "/speakers/{spid}",
    summary="approve, reject, call, finish, start or pause the timer (the chair); "
    "withdraw (the chair, the delegate, or their site's operator)",
    role="chair or organizer; withdraw also site_operator (own site) or delegate (themself)",
    body=SpeakerAction,
    response=LiveChange,
    roles=("organizer", "chair", "site_operator"),
)
async def act(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, SpeakerAction)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.act_on_speaker(
            session,
            conference,
            request.match_info["spid"],
            data.action,
            actor=actor,
            reason=data.reason,
        )
    return json_response(out)


@routes.get(
    CONF + "/speaking-stats",
    summary="How often and how long each site and each person has spoken",
    role="chair, organizer or secretary",
    roles=("organizer", "chair", "secretary"),
)
async def stats(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].read() as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        out = await speakers.speaking_stats(session, conference)
    return json_response(out)


# --- roll call -------------------------------------------------------------------------------


@routes.get(
    CONF + "/roll-call",
    summary="The latest roll call of sites: who answered when, who has not",
    role="chair, organizer, secretary or site_operator",
    roles=("organizer", "chair", "secretary", "site_operator"),
)
async def read_roll_call(request: web.Request) -> web.StreamResponse:
    async with request.app[db_key].read() as session:
        conference, _ = await conference_actor(request, session, request.match_info["cid"])
        assert conference.id is not None
        out: dict[str, Any] = await presence.roll_call_data(session, conference.id)
    return json_response(out or None)


@routes.post(
    CONF + "/roll-call",
    summary="Start a roll call: every site is asked to confirm it is ready",
    role="chair or organizer",
    status=201,
    roles=("organizer", "chair"),
)
async def start_roll_call(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await presence.start_roll_call(session, conference, actor=actor)
    return json_response(out, status=201)


@routes.post(
    CONF + "/roll-call/answer",
    summary="A site confirms it is ready (its operator; the chair may answer for a site)",
    role="site_operator (own site), chair or organizer",
    body=RollCallAnswerBody,
    roles=("organizer", "chair", "site_operator"),
)
async def answer_roll_call(request: web.Request) -> web.StreamResponse:
    data = await parse_body(request, RollCallAnswerBody)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await presence.answer_roll_call(session, conference, site=data.site, actor=actor)
    return json_response(out)


@routes.post(
    CONF + "/roll-call/close",
    summary="Close the open roll call; the answer lists the sites that did not answer",
    role="chair or organizer",
    roles=("organizer", "chair"),
)
async def close_roll_call(request: web.Request) -> web.StreamResponse:
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        out = await presence.close_roll_call(session, conference, actor=actor)
    return json_response(out)
