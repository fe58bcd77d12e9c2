"""The live snapshot a subscriber starts from: the conference and its sites (the core)
with the live agenda, speaker lists and site presence (the agenda domain)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.snapshot import agenda_snapshot
from conference.actors import Actor
from conference.models import Conference
from conference.snapshot import conference_snapshot


async def live_snapshot(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> dict[str, Any]:
    """Read in one consistent transaction, so that it is exactly the state at its seq."""
    snapshot = await conference_snapshot(session, conference, actor=actor)
    return snapshot | await agenda_snapshot(session, conference, actor=actor)
