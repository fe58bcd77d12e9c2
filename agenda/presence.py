"""Which sites are connected, since when and how well; roll calls of sites.

Site screens and operator pages send a heartbeat every few seconds with the round
trip they measured. Heartbeats are not written one by one (3,300 sites beating every
10 s would be hundreds of writes a second): each server process gathers them in a
:class:`PresenceBook` and :func:`flush_presence` writes them together, every couple
of seconds. A site that stops beating for ``timeout`` seconds is marked
disconnected by :func:`mark_silent`, whichever process runs it first (a conditional
update: one of them changes the row, and only that one tells).

Events: ``sites/presence {"sites": [{"site", "connected", "since", "latency_ms",
"last_seen_at"}]}`` with the sites whose connection changed (or whose latency moved
noticeably) in one flush; ``roll_call/started``, ``roll_call/answered``,
``roll_call/closed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.events import (
    PRESENCE,
    ROLL_CALL_ANSWERED,
    ROLL_CALL_CLOSED,
    ROLL_CALL_STARTED,
    RollCallAnswered,
    RollCallClosed,
    RollCallStarted,
    SiteLink,
)
from agenda.models import RollCall, RollCallAnswer, SitePresence
from agenda.state import iso, site_codes
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference, Site
from conference.services import get_site_by_code

CHAIR_ROLES = ("chair", "organizer")
# A latency change is news when it moves by this much (ms) and this fraction.
LATENCY_STEP_MS = 50
LATENCY_STEP_RATIO = 0.25


@dataclass
class Beat:
    at: datetime
    latency_ms: int | None


@dataclass
class PresenceBook:
    """Heartbeats gathered in one process since its last flush: (conference, site) -> beat."""

    beats: dict[tuple[int, int], Beat] = field(default_factory=dict)

    def beat(
        self, conference_id: int, site_id: int, latency_ms: int | None, at: datetime | None = None
    ) -> None:
        previous = self.beats.get((conference_id, site_id))
        if latency_ms is None and previous is not None:
            latency_ms = previous.latency_ms
        self.beats[(conference_id, site_id)] = Beat(at or utcnow(), latency_ms)

    def take(self) -> dict[tuple[int, int], Beat]:
        taken, self.beats = self.beats, {}
        return taken


class RollCallState(TypedDict):
    """A roll call: answered maps each site's code to when it answered; missing: the rest."""

    id: str
    started_at: str
    started_by: str
    closed_at: str | None
    answered: dict[str, str]
    missing: list[str]


def presence_data(row: SitePresence, code: str) -> SiteLink:
    return {
        "site": code,
        "connected": row.connected,
        "since": iso(row.since),
        "latency_ms": row.latency_ms,
        "last_seen_at": iso(row.last_seen_at),
    }


def _latency_news(old: int | None, new: int | None) -> bool:
    if new is None:
        return False
    if old is None:
        return True
    moved = abs(new - old)
    return moved >= LATENCY_STEP_MS and moved >= LATENCY_STEP_RATIO * max(old, 1)


async def flush_presence(session: AsyncSession, beats: dict[tuple[int, int], Beat]) -> int:
    """Write gathered heartbeats; returns how many events were appended."""
    by_conference: dict[int, dict[int, Beat]] = {}
    for (conference_id, site_id), beat in beats.items():
        by_conference.setdefault(conference_id, {})[site_id] = beat
    events = 0
    for conference_id, sites in sorted(by_conference.items()):
        await lock_conference(session, conference_id)
        rows = {
            row.site_id: row
            for row in await session.exec(
                select(SitePresence).where(col(SitePresence.site_id).in_(sites))
            )
        }
        codes = dict(
            (
                await session.exec(
                    select(Site.id, Site.code).where(
                        col(Site.id).in_(sites), col(Site.conference_id) == conference_id
                    )
                )
            ).all()
        )
        news = []
        for site_id, beat in sorted(sites.items()):
            if site_id not in codes:
                continue  # removed meanwhile
            row = rows.get(site_id)
            if row is None:
                row = SitePresence(
                    site_id=site_id, conference_id=conference_id, connected=False, since=beat.at
                )
            told = not row.connected or _latency_news(row.latency_ms, beat.latency_ms)
            if not row.connected:
                row.connected, row.since = True, beat.at
            row.last_seen_at = max(row.last_seen_at, beat.at) if row.last_seen_at else beat.at
            if beat.latency_ms is not None:
                row.latency_ms = beat.latency_ms
            session.add(row)
            if told:
                news.append(presence_data(row, codes[site_id]))
        await session.flush()
        if news:
            await append_event(session, conference_id, PRESENCE, {"sites": news})
            events += 1
    return events


async def mark_silent(
    session: AsyncSession, *, silent_for: float, now: datetime | None = None
) -> int:
    """Mark disconnected every site silent for longer than silent_for seconds."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=silent_for)
    silent = list(
        await session.exec(
            select(SitePresence.conference_id)
            .where(col(SitePresence.connected), col(SitePresence.last_seen_at) < cutoff)
            .distinct()
        )
    )
    events = 0
    for conference_id in sorted(silent):
        await lock_conference(session, conference_id)
        gone = list(
            await session.exec(
                update(SitePresence)
                .where(
                    col(SitePresence.conference_id) == conference_id,
                    col(SitePresence.connected),
                    col(SitePresence.last_seen_at) < cutoff,
                )
                .values(connected=False, since=now)
                .returning(col(SitePresence.site_id), col(SitePresence.last_seen_at))
                .execution_options(synchronize_session=False)
            )
        )
        if not gone:
            continue
        codes = dict(
            (
                await session.exec(
                    select(Site.id, Site.code).where(col(Site.id).in_([g[0] for g in gone]))
                )
            ).all()
        )
        news = [
            {
                "site": codes.get(site_id, ""),
                "connected": False,
                "since": iso(now),
                "latency_ms": None,
                "last_seen_at": iso(last_seen),
            }
            for site_id, last_seen in sorted(gone, key=lambda g: codes.get(g[0], ""))
        ]
        await append_event(session, conference_id, PRESENCE, {"sites": news})
        events += 1
    return events


async def presence_of(session: AsyncSession, conference_id: int) -> dict[int, SitePresence]:
    rows = await session.exec(
        select(SitePresence).where(col(SitePresence.conference_id) == conference_id)
    )
    return {row.site_id: row for row in rows}


# --- roll call --------------------------------------------------------------------------------


async def _open_roll_call(session: AsyncSession, conference_id: int) -> RollCall | None:
    return (
        await session.exec(
            select(RollCall)
            .where(col(RollCall.conference_id) == conference_id, col(RollCall.closed_at).is_(None))
            .order_by(col(RollCall.id).desc())
        )
    ).first()


async def _chair_locks(
    session: AsyncSession, conference: Conference, actor: Actor, now: datetime | None
) -> tuple[int, datetime, RollCall | None]:
    """For the chair: the conference's id, the time and the open roll call, read under the
    conference's lock."""
    actor.require(*CHAIR_ROLES)
    assert conference.id is not None
    await lock_conference(session, conference.id)
    return conference.id, now or utcnow(), await _open_roll_call(session, conference.id)


async def start_roll_call(
    session: AsyncSession, conference: Conference, *, actor: Actor, now: datetime | None = None
) -> RollCallStarted:
    """Ask every site to confirm it is ready (a roll call still open is closed first)."""
    cid, now, previous = await _chair_locks(session, conference, actor, now)
    if previous is not None:
        previous.closed_at = now
        session.add(previous)
    call = RollCall(conference_id=cid, started_at=now, started_by=actor.name)
    session.add(call)
    await session.flush()
    codes = await site_codes(session, cid)
    data: RollCallStarted = {
        "id": call.public_id,
        "started_at": iso(now),
        "started_by": actor.name,
        "sites": list(codes.values()),
        "replaces": previous.public_id if previous is not None else None,
    }
    await record(session, actor, "roll_call.start", "roll_call", call.public_id, {})
    await append_event(session, cid, ROLL_CALL_STARTED, data)
    return data


async def answer_roll_call(
    session: AsyncSession,
    conference: Conference,
    *,
    site: str | None,
    actor: Actor,
    now: datetime | None = None,
) -> RollCallAnswered:
    """A site says it is ready: its operator for their own site, or the chair for any."""
    actor.require(*CHAIR_ROLES, "site_operator")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    now = now or utcnow()
    if actor.has(*CHAIR_ROLES):
        if site is None:
            raise InvalidInput("name the site that answers", field="site")
        found = await get_site_by_code(session, conference.id, site)
        if found is None:
            raise NotFound("no such site in this conference", field="site")
    else:
        if site is not None and site.upper() != actor.site_code.upper():
            raise NotFound("no such site in this conference", field="site")
        if actor.site_id is None:
            raise Forbidden("this operator has no site")
        found = await session.get(Site, actor.site_id)
        assert found is not None
    # Scope first: another site's operator learns nothing, not even whether a call is open.
    call = await _open_roll_call(session, conference.id)
    if call is None:
        raise Conflict("no roll call is open")
    assert found.id is not None and call.id is not None
    already = (
        await session.exec(
            select(RollCallAnswer).where(
                col(RollCallAnswer.roll_call_id) == call.id,
                col(RollCallAnswer.site_id) == found.id,
            )
        )
    ).first()
    if already is not None:
        raise Conflict(f"{found.code} has already answered this roll call", field="site")
    session.add(
        RollCallAnswer(
            roll_call_id=call.id, site_id=found.id, answered_at=now, answered_by=actor.name
        )
    )
    await session.flush()
    data: RollCallAnswered = {
        "id": call.public_id,
        "site": found.code,
        "at": iso(now),
        "by": actor.name,
    }
    await record(
        session, actor, "roll_call.answer", "roll_call", call.public_id, {"site": found.code}
    )
    await append_event(session, conference.id, ROLL_CALL_ANSWERED, data)
    return data


async def close_roll_call(
    session: AsyncSession, conference: Conference, *, actor: Actor, now: datetime | None = None
) -> RollCallClosed:
    cid, now, call = await _chair_locks(session, conference, actor, now)
    if call is None:
        raise Conflict("no roll call is open")
    call.closed_at = now
    session.add(call)
    await session.flush()
    state = await roll_call_data(session, cid, call)
    assert state is not None
    data: RollCallClosed = {
        "id": call.public_id,
        "closed_at": iso(now),
        "answered": len(state["answered"]),
        "missing": state["missing"],
    }
    await record(session, actor, "roll_call.close", "roll_call", call.public_id, data)
    await append_event(session, cid, ROLL_CALL_CLOSED, data)
    return data


async def roll_call_data(
    session: AsyncSession, conference_id: int, call: RollCall | None = None
) -> RollCallState | None:
    """The latest roll call (or call): who answered when, who has not; None if there was none."""
    if call is None:
        call = (
            await session.exec(
                select(RollCall)
                .where(col(RollCall.conference_id) == conference_id)
                .order_by(col(RollCall.id).desc())
            )
        ).first()
    if call is None:
        return None
    codes = await site_codes(session, conference_id)
    answers = await session.exec(
        select(RollCallAnswer).where(col(RollCallAnswer.roll_call_id) == call.id)
    )
    answered = {codes[a.site_id]: iso(a.answered_at) for a in answers if a.site_id in codes}
    return {
        "id": call.public_id,
        "started_at": iso(call.started_at),
        "started_by": call.started_by,
        "closed_at": iso(call.closed_at),
        "answered": answered,
        "missing": [code for code in codes.values() if code not in answered],
    }
