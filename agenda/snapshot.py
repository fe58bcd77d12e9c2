"""The live agenda as one projection of the database: what a screen, a phone or the
chair's page needs to draw the whole state, to which the live events then apply."""

from __future__ import annotations

from typing import NotRequired

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.ceremony import ceremony_snapshot
from agenda.events import Ceremony, Settings, SiteLink
from agenda.models import Speaker
from agenda.presence import RollCallState, presence_data, presence_of, roll_call_data
from agenda.services import settings_data
from agenda.speakers import ItemSpeakers, delegate_ids, lists_data
from agenda.state import agenda_state, load_agenda
from conference.actors import STAFF_ROLES, Actor
from conference.models import Conference
from conference.rawjson import JsonObject


class AgendaView(TypedDict):
    """items: every item as AgendaItemOut's JSON, in order; current: the running one."""

    items: list[JsonObject]
    current: str | None
    settings: Settings


class AgendaSnapshot(TypedDict):
    """The live agenda; presence and roll_call (None: there was none) for the staff and
    site operators only."""

    agenda: AgendaView
    speakers: list[ItemSpeakers]
    ceremony: Ceremony
    presence: NotRequired[list[SiteLink]]
    roll_call: NotRequired[RollCallState | None]


async def agenda_snapshot(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> AgendaSnapshot:
    """Items with their live state, the current item, every speaker list, and for the
    staff and site operators the sites' connections and the latest roll call."""
    assert conference.id is not None
    state = await agenda_state(session, conference.id, create=False)
    agenda = await load_agenda(session, conference.id)
    speakers = list(
        await session.exec(
            select(Speaker)
            .where(col(Speaker.conference_id) == conference.id)
            .order_by(col(Speaker.item_id), col(Speaker.position), col(Speaker.id))
        )
    )
    by_item: dict[int, list[Speaker]] = {}
    for speaker in speakers:
        by_item.setdefault(speaker.item_id, []).append(speaker)
    current = agenda.by_id.get(state.current_item_id) if state.current_item_id else None
    out: AgendaSnapshot = {
        "agenda": {
            "items": [agenda.data(item) for item in agenda.in_order()],
            "current": current.public_id if current is not None else None,
            "settings": settings_data(state),
        },
        "speakers": lists_data(agenda, by_item, await delegate_ids(session, speakers)),
        "ceremony": await ceremony_snapshot(session, conference.id),
    }
    if actor.has(*STAFF_ROLES, "site_operator"):
        presence = await presence_of(session, conference.id)
        out["presence"] = [
            presence_data(row, agenda.site_codes[site_id])
            for site_id, row in presence.items()
            if site_id in agenda.site_codes and (actor.sees_all_sites or site_id == actor.site_id)
        ]
        out["roll_call"] = await roll_call_data(session, conference.id)
    return out
