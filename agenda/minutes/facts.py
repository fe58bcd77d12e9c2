"""The facts of the minutes, drafted from what happened: each agenda item's actual times,
who spoke on it from which site and for how long, the roll call of sites and the
attendance at the opening.

They are read from the same rows the live events describe (``agenda/live``,
``speakers/updated``, ``roll_call/*``, check-ins), at the moment of reading: the
secretary's page reads them again whenever one of those events arrives. A test runs a
conference and checks the facts against the event log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.ceremony import awards_given
from agenda.models import AgendaItem, RollCall, RollCallAnswer, Speaker
from agenda.speakers import elapsed
from agenda.state import Agenda, iso, load_agenda
from attendance.models import Delegate
from conference.models import Conference, Site

# Entries that had the floor: the minutes list them, in the order they spoke.
SPOKE = ("speaking", "done")


@dataclass(frozen=True)
class SiteInfo:
    code: str
    name: str
    expected: int


# Times are ISO 8601 strings with their offset; None where the moment has not come.


class SpokenFacts(TypedDict):
    """One speaker who had the floor (site: the site's code)."""

    id: str
    name: str
    title: str
    unit: str
    site: str | None
    site_name: str
    kind: str
    status: str
    started_at: str | None
    ended_at: str | None
    spoken_seconds: float


class ItemFacts(TypedDict):
    """An agenda item as it went: number as printed (2.1), depth (0 at the top)."""

    item: str
    number: str
    depth: int
    title: str
    kind: str
    presenter: str
    status: str
    planned_start: str | None
    started_at: str | None
    ended_at: str | None
    duration_seconds: int | None
    speakers: list[SpokenFacts]


class SiteNamed(TypedDict):
    site: str
    site_name: str


class SiteAnswered(SiteNamed):
    at: str | None


class RollCallFacts(TypedDict):
    """The roll call of the opening: who answered, in order, and who did not."""

    id: str
    started_at: str | None
    closed_at: str | None
    answered: list[SiteAnswered]
    missing: list[SiteNamed]


class SiteAttendance(TypedDict):
    site: str
    name: str
    expected: int
    present: int


class AttendanceFacts(TypedDict):
    at: str | None
    sites: list[SiteAttendance]
    total_expected: int
    total_present: int


class MinutesFacts(TypedDict):
    """at: when they were read; opened_at: when the first item started."""

    at: str | None
    opened_at: str | None
    items: list[ItemFacts]
    roll_call: RollCallFacts | None
    attendance: AttendanceFacts
    # The awards presented at the ceremony, as its events carry them (agenda.events.Presented).
    awards: Sequence[Mapping[str, Any]]


def numbering(agenda: Agenda) -> dict[int, str]:
    """Items numbered as the minutes print them: 1, 2, 2.1, 2.2, 3 ..."""
    out: dict[int, str] = {}

    def walk(parent: int | None, prefix: str) -> None:
        for n, item in enumerate(agenda.children.get(parent, []), start=1):
            assert item.id is not None
            out[item.id] = f"{prefix}{n}"
            walk(item.id, f"{prefix}{n}.")

    walk(None, "")
    return out


async def _sites(session: AsyncSession, conference_id: int) -> dict[int, SiteInfo]:
    registered = dict(
        (
            await session.exec(
                select(Delegate.site_id, func.count())
                .where(col(Delegate.conference_id) == conference_id)
                .group_by(col(Delegate.site_id))
            )
        ).all()
    )
    rows = await session.exec(
        select(Site)
        .where(col(Site.conference_id) == conference_id)
        .order_by(col(Site.position), col(Site.id))
    )
    return {
        site.id: SiteInfo(
            site.code, site.name, site.expected_attendance or int(registered.get(site.id, 0))
        )
        for site in rows
        if site.id is not None
    }


def _speaker(speaker: Speaker, sites: dict[int, SiteInfo], now: datetime) -> SpokenFacts:
    site = sites.get(speaker.site_id) if speaker.site_id is not None else None
    return {
        "id": speaker.public_id,
        "name": speaker.name,
        "title": speaker.title,
        "unit": speaker.unit,
        "site": site.code if site else None,
        "site_name": site.name if site else "",
        "kind": speaker.kind,
        "status": speaker.status,
        "started_at": iso(speaker.started_at),
        "ended_at": iso(speaker.ended_at),
        "spoken_seconds": round(elapsed(speaker, now), 1),
    }


def _item(
    item: AgendaItem,
    number: str,
    depth: int,
    speakers: list[SpokenFacts],
    now: datetime,
) -> ItemFacts:
    duration = None
    if item.started_at is not None:
        duration = round(((item.ended_at or now) - item.started_at).total_seconds())
    return {
        "item": item.public_id,
        "number": number,
        "depth": depth,
        "title": item.title,
        "kind": item.kind,
        "presenter": item.presenter_name,
        "status": item.status,
        "planned_start": iso(item.planned_start),
        "started_at": iso(item.started_at),
        "ended_at": iso(item.ended_at),
        "duration_seconds": duration,
        "speakers": speakers,
    }


async def _roll_call(
    session: AsyncSession, conference_id: int, until: datetime, sites: dict[int, SiteInfo]
) -> RollCallFacts | None:
    """The roll call of the opening: the last one started by then, else the first."""
    calls = list(
        await session.exec(
            select(RollCall)
            .where(col(RollCall.conference_id) == conference_id)
            .order_by(col(RollCall.started_at), col(RollCall.id))
        )
    )
    if not calls:
        return None
    before = [call for call in calls if call.started_at <= until]
    call = before[-1] if before else calls[0]
    answers = await session.exec(
        select(RollCallAnswer).where(col(RollCallAnswer.roll_call_id) == call.id)
    )
    answered = {a.site_id: a.answered_at for a in answers if a.site_id in sites}
    return {
        "id": call.public_id,
        "started_at": iso(call.started_at),
        "closed_at": iso(call.closed_at),
        "answered": [
            {"site": sites[sid].code, "site_name": sites[sid].name, "at": iso(at)}
            for sid, at in sorted(answered.items(), key=lambda pair: pair[1])
        ],
        "missing": [
            {"site": info.code, "site_name": info.name}
            for sid, info in sites.items()
            if sid not in answered
        ],
    }


async def _attendance(
    session: AsyncSession, conference_id: int, at: datetime, sites: dict[int, SiteInfo]
) -> AttendanceFacts:
    present = dict(
        (
            await session.exec(
                select(Delegate.checkin_site_id, func.count())
                .where(col(Delegate.conference_id) == conference_id)
                .where(col(Delegate.checkin_site_id).is_not(None))
                .where(col(Delegate.checked_in_at) <= at)
                .group_by(col(Delegate.checkin_site_id))
            )
        ).all()
    )
    rows: list[SiteAttendance] = [
        {
            "site": info.code,
            "name": info.name,
            "expected": info.expected,
            "present": int(present.get(sid, 0)),
        }
        for sid, info in sites.items()
    ]
    return {
        "at": iso(at),
        "sites": rows,
        "total_expected": sum(r["expected"] for r in rows),
        "total_present": sum(r["present"] for r in rows),
    }


async def minutes_facts(
    session: AsyncSession, conference: Conference, *, now: datetime
) -> MinutesFacts:
    """What happened, for the minutes: items, speakers, roll call, attendance, awards."""
    assert conference.id is not None
    agenda = await load_agenda(session, conference.id)
    sites = await _sites(session, conference.id)
    numbers = numbering(agenda)
    spoke = await session.exec(
        select(Speaker)
        .where(col(Speaker.conference_id) == conference.id)
        .where(col(Speaker.status).in_(SPOKE))
        .order_by(col(Speaker.started_at), col(Speaker.id))
    )
    by_item: dict[int, list[SpokenFacts]] = {}
    for speaker in spoke:
        by_item.setdefault(speaker.item_id, []).append(_speaker(speaker, sites, now))
    items = []
    for item in agenda.in_order():
        assert item.id is not None
        depth = len(agenda.parents_of(item))
        items.append(_item(item, numbers[item.id], depth, by_item.get(item.id, []), now))
    started = [i.started_at for i in agenda.in_order() if i.started_at is not None]
    opening = min(started) if started else None
    first = next((i for i in agenda.steps() if i.started_at == opening), None)
    until = (first.ended_at if first is not None and first.ended_at else None) or now
    return {
        "at": iso(now),
        "opened_at": iso(opening),
        "items": items,
        "roll_call": await _roll_call(session, conference.id, until, sites),
        "attendance": await _attendance(session, conference.id, opening or now, sites),
        "awards": await awards_given(session, conference.id),
    }
