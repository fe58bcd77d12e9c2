"""The awards ceremony, a part of the live agenda: on the running awards item the chair
calls each recipient (a named one, or the next in the list); every screen shows who is
honoured, with the award and the decision; the minutes list the awards given.

Event ``awards/announced {"award": {...}, "item", "at", "first"}`` (first: not called
before); the snapshot's ``ceremony``
holds the award now being presented (the last one called while the awards item runs).
It lives with the agenda, which reads the awards (awards never read the agenda).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.events import AWARD_ANNOUNCED, Announcement, Ceremony, Presented
from agenda.models import AgendaItem
from agenda.state import agenda_state
from awards.kinds import Kind, conference_kinds, kind_of
from awards.models import Award, Decision
from awards.services import get_award
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict
from conference.live import append_event, lock_conference
from conference.models import Conference, Site

CHAIR_ROLES = ("chair", "organizer")
CEREMONY_KIND = "awards"


def announced_data(
    award: Award,
    decision: Decision,
    site_code: str | None,
    site_name: str,
    kinds: dict[str, Kind],
) -> Presented:
    """What screens show of an award being presented (nothing private)."""
    return {
        "id": award.public_id,
        "kind": decision.award_kind,
        "kind_label": kind_of(kinds, decision.award_kind).name,
        "recipient_kind": award.recipient_kind,
        "name": award.recipient_name,
        "title": award.recipient_title,
        "unit": award.recipient_unit,
        "site": site_code,
        "site_name": site_name,
        "citation": award.citation,
        "decision": decision.number,
        "decision_title": decision.title,
        "issued_on": decision.issued_on.isoformat(),
        "issuing_body": decision.issuing_body,
        "signer_name": decision.signer_name,
        "signer_title": decision.signer_title,
        "announced_at": award.announced_at.isoformat() if award.announced_at else None,
    }


async def _running_ceremony(session: AsyncSession, conference_id: int) -> AgendaItem | None:
    state = await agenda_state(session, conference_id, create=False)
    if state.current_item_id is None:
        return None
    item = await session.get(AgendaItem, state.current_item_id)
    return item if item is not None and item.kind == CEREMONY_KIND else None


async def _in_order(session: AsyncSession, conference_id: int) -> list[tuple[Award, Decision]]:
    rows = await session.exec(
        select(Award, Decision)
        .join(Decision, col(Decision.id) == col(Award.decision_id))
        .where(col(Decision.conference_id) == conference_id)
        .order_by(col(Decision.issued_on), col(Decision.id), col(Award.position), col(Award.id))
        .execution_options(populate_existing=True)
    )
    return [(award, decision) for award, decision in rows]


async def _site(session: AsyncSession, award: Award) -> tuple[str | None, str]:
    site = await session.get(Site, award.site_id) if award.site_id is not None else None
    return (site.code, site.name) if site is not None else (None, "")


async def announce_award(
    session: AsyncSession,
    conference: Conference,
    award_id: str | None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> Presented:
    """Call a recipient (award_id None: the next not yet called) on the running awards item."""
    actor.require(*CHAIR_ROLES)
    assert conference.id is not None
    await lock_conference(session, conference.id)
    item = await _running_ceremony(session, conference.id)
    if item is None:
        raise Conflict(
            "the awards ceremony is not running: start the awards item of the agenda first",
            field="item",
        )
    if award_id is not None:
        award, decision = await get_award(session, conference, award_id)
    else:
        waiting = [
            (a, d)
            for a, d in await _in_order(session, conference.id)
            if a.announced_at is None and a.revoked_at is None
        ]
        if not waiting:
            raise Conflict("every award has been presented", field="award")
        award, decision = waiting[0]
    if award.revoked_at is not None:
        raise Conflict("this award is revoked: it is not presented", field="award")
    first = award.announced_at is None
    award.announced_at = now or utcnow()
    session.add(award)
    await session.flush()
    code, name = await _site(session, award)
    kinds = await conference_kinds(session, conference.id)
    data = announced_data(award, decision, code, name, kinds)
    await record(
        session, actor, "award.announce", "award", award.public_id, {"item": item.public_id}
    )
    announcement: Announcement = {
        "award": data,
        "item": item.public_id,
        "at": data["announced_at"],
        "first": first,
    }
    await append_event(session, conference.id, AWARD_ANNOUNCED, announcement)
    return data


async def ceremony_snapshot(session: AsyncSession, conference_id: int) -> Ceremony:
    """The award being presented now (while the awards item runs) and how many remain."""
    item = await _running_ceremony(session, conference_id)
    if item is None:
        return {"item": None, "current": None, "remaining": 0}
    awards = await _in_order(session, conference_id)
    called = [
        (a, d)
        for a, d in awards
        if a.announced_at is not None
        and a.revoked_at is None
        and item.started_at
        and a.announced_at >= item.started_at
    ]
    current = None
    if called:
        award, decision = max(called, key=lambda pair: pair[0].announced_at or utcnow())
        code, name = await _site(session, award)
        kinds = await conference_kinds(session, conference_id)
        current = announced_data(award, decision, code, name, kinds)
    remaining = sum(1 for a, _ in awards if a.announced_at is None and a.revoked_at is None)
    return {"item": item.public_id, "current": current, "remaining": remaining}


async def awards_given(session: AsyncSession, conference_id: int) -> list[Presented]:
    """The awards presented at the ceremony, in the order they were called (for the minutes)."""
    given = [
        (a, d)
        for a, d in await _in_order(session, conference_id)
        if a.announced_at is not None and a.revoked_at is None
    ]
    given.sort(key=lambda pair: (pair[0].announced_at, pair[0].id or 0))
    out: list[Presented] = []
    kinds = await conference_kinds(session, conference_id)
    for award, decision in given:
        code, name = await _site(session, award)
        out.append(announced_data(award, decision, code, name, kinds))
    return out
