"""The live snapshot a subscriber starts from: the conference and its sites (the core)
with the live agenda, speaker lists and site presence (the agenda domain)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.snapshot import AgendaSnapshot, agenda_snapshot
from conference.actors import Actor
from conference.models import Conference
from conference.snapshot import ConferenceSnapshot, conference_snapshot


class LiveSnapshot(ConferenceSnapshot, AgendaSnapshot):
    """The core's snapshot and the agenda's, side by side (docs/websocket.md)."""


async def live_snapshot(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> LiveSnapshot:
    """Read in one consistent transaction, so that it is exactly the state at its seq."""
    core = await conference_snapshot(session, conference, actor=actor)
    snapshot: LiveSnapshot = {**core, **await agenda_snapshot(session, conference, actor=actor)}
    return snapshot
