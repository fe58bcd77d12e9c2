"""Speaker lists: requests from phones and operators, the chair's queue, the speaking timer.

An entry goes ``requested -> queued -> speaking -> done``; a request may be rejected,
and withdrawn while it waits. The queue of an item is its ``queued`` entries by
position: points of order first, then planned speeches (*tham luận*) in their order,
then requests from the floor in the order approved, or, with the conference's fair
order on, after those of sites that have spoken less. The chair may reorder the
queue; a reorder names the list version it was made on and a stale one is refused.

Every change holds the conference lock, so concurrent requests from many sites end
in one total order, and appends one ``speakers/updated`` event:

    {"item": <item id>, "version": n, "open": bool, "speaking": <speaker id or null>,
     "order": [<queued speaker ids, in order>], "changed": [<speaker>, ...]}

The timer: ``spoken_seconds`` already spoken plus, while ``timer_started_at`` is set,
the time since. ``limit_seconds`` is fixed when the speaker is called.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.events import SPEAKERS_UPDATED, SpeakerList
from agenda.events import Speaker as SpeakerData
from agenda.models import AgendaItem, AgendaState, Speaker
from agenda.schemas import SpeakerCreate
from agenda.state import Agenda, agenda_state, iso, load_agenda, site_codes, speaking_limit
from attendance.models import Delegate
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference
from conference.queries import conference_row
from conference.services import named_site

CHAIR_ROLES = ("chair", "organizer")
# Who may ask to speak (for themself, their site, or anyone) and act on a request.
ASKING_ROLES = (*CHAIR_ROLES, "site_operator", "delegate")
WAITING = ("requested", "queued")
ON_LIST = ("requested", "queued", "speaking")
SpeakerAction = Literal["approve", "reject", "withdraw", "call", "finish", "start", "pause"]


class ItemSpeakers(TypedDict):
    """An item's whole list, as the live view shows it (the event's shape, every entry)."""

    item: str
    version: int
    open: bool
    speaking: str | None
    order: list[str]
    speakers: list[SpeakerData]


class NoList(TypedDict):
    """The answer for the running item's list when nothing runs."""

    item: None
    speakers: list[SpeakerData]
    order: list[str]


class SiteSpoken(TypedDict):
    site: str | None
    count: int
    seconds: float


class PersonSpoken(TypedDict):
    delegate: str | None
    name: str
    site: str | None
    count: int
    seconds: float


class SpeakingStats(TypedDict):
    """How often and how long each site and each person spoke, most first."""

    sites: list[SiteSpoken]
    people: list[PersonSpoken]


def elapsed(speaker: Speaker, now: datetime) -> float:
    """Seconds spoken so far, the running stretch included."""
    running = (now - speaker.timer_started_at).total_seconds() if speaker.timer_started_at else 0
    return speaker.spoken_seconds + max(0.0, running)


def speaker_data(
    speaker: Speaker, item: AgendaItem, site_codes: dict[int, str], delegates: dict[int, str]
) -> SpeakerData:
    return {
        "id": speaker.public_id,
        "item": item.public_id,
        "delegate": delegates.get(speaker.delegate_id) if speaker.delegate_id else None,
        "name": speaker.name,
        "title": speaker.title,
        "unit": speaker.unit,
        "site": site_codes.get(speaker.site_id) if speaker.site_id else None,
        "kind": speaker.kind,
        "status": speaker.status,
        "position": speaker.position,
        "topic": speaker.topic,
        "requested_at": iso(speaker.requested_at),
        "limit_seconds": speaker.limit_seconds,
        "spoken_seconds": round(speaker.spoken_seconds, 1),
        "timer_started_at": iso(speaker.timer_started_at),
        "timer_generation": speaker.timer_generation,
        "started_at": iso(speaker.started_at),
        "ended_at": iso(speaker.ended_at),
    }


async def delegate_ids(session: AsyncSession, speakers: Iterable[Speaker]) -> dict[int, str]:
    """Public ids of the delegates behind speakers."""
    wanted = {s.delegate_id for s in speakers if s.delegate_id is not None}
    if not wanted:
        return {}
    rows = await session.exec(
        select(Delegate.id, Delegate.public_id).where(col(Delegate.id).in_(wanted))
    )
    return {delegate_id: public_id for delegate_id, public_id in rows if delegate_id is not None}


async def item_speakers(session: AsyncSession, item_ids: Iterable[int]) -> list[Speaker]:
    ids = list(item_ids)
    if not ids:
        return []
    rows = await session.exec(
        select(Speaker)
        .where(col(Speaker.item_id).in_(ids))
        .order_by(col(Speaker.position), col(Speaker.id))
        .execution_options(populate_existing=True)
    )
    return list(rows)


def queue_of(speakers: Iterable[Speaker]) -> list[Speaker]:
    return sorted(
        (s for s in speakers if s.status == "queued"), key=lambda s: (s.position, s.id or 0)
    )


@dataclass
class _List:
    """One item's speaker list, loaded under the conference lock."""

    conference: Conference
    state: AgendaState
    agenda: Agenda
    item: AgendaItem
    speakers: list[Speaker]

    def queue(self) -> list[Speaker]:
        return queue_of(self.speakers)

    def speaking(self) -> Speaker | None:
        return next((s for s in self.speakers if s.status == "speaking"), None)

    def find(self, public_id: str) -> Speaker:
        found = next((s for s in self.speakers if s.public_id == public_id), None)
        if found is None:
            raise NotFound("no such speaker on this item's list", field="speaker")
        return found


async def _open_list(
    session: AsyncSession, conference: Conference, item_public_id: str | None
) -> _List:
    assert conference.id is not None
    await lock_conference(session, conference.id)
    state = await agenda_state(session, conference.id)
    agenda = await load_agenda(session, conference.id)
    if item_public_id:
        item = agenda.get(item_public_id)
    else:
        current = agenda.by_id.get(state.current_item_id) if state.current_item_id else None
        if current is None:
            raise Conflict("no item is running: name the item", field="item")
        item = current
    assert item.id is not None
    return _List(conference, state, agenda, item, await item_speakers(session, [item.id]))


async def _list_of_speaker(
    session: AsyncSession, conference: Conference, speaker_public_id: str
) -> tuple[_List, Speaker]:
    assert conference.id is not None
    # The lock first: whatever is read before it may be stale by the time it is held.
    await lock_conference(session, conference.id)
    found = (
        await session.exec(
            select(AgendaItem.public_id)
            .join(Speaker, col(Speaker.item_id) == col(AgendaItem.id))
            .where(
                col(Speaker.public_id) == speaker_public_id,
                col(Speaker.conference_id) == conference.id,
            )
        )
    ).first()
    if found is None:
        raise NotFound("no such speaker in this conference", field="speaker")
    spl = await _open_list(session, conference, found)
    return spl, spl.find(speaker_public_id)


async def _spoken_by_site(session: AsyncSession, conference_id: int) -> dict[int, int]:
    """How many times each site has spoken (or is speaking) in the conference."""
    rows = await session.exec(
        select(Speaker.site_id).where(
            col(Speaker.conference_id) == conference_id,
            col(Speaker.status).in_(("speaking", "done")),
        )
    )
    counts: dict[int, int] = {}
    for site_id in rows:
        if site_id is not None:
            counts[site_id] = counts.get(site_id, 0) + 1
    return counts


async def _enqueue(session: AsyncSession, spl: _List, speaker: Speaker) -> None:
    """Put speaker in the queue where its kind (and the fair order) says."""
    queue = spl.queue()
    if speaker.kind == "point_of_order":
        index = sum(1 for s in queue if s.kind == "point_of_order")
    elif speaker.kind == "registered":
        last = max((n for n, s in enumerate(queue) if s.kind != "request"), default=-1)
        index = last + 1
    else:
        index = len(queue)
        if spl.state.fair_order:
            assert spl.conference.id is not None
            spoken = await _spoken_by_site(session, spl.conference.id)
            mine = spoken.get(speaker.site_id or 0, 0)
            for n, other in enumerate(queue):
                if other.kind == "request" and spoken.get(other.site_id or 0, 0) > mine:
                    index = n
                    break
    queue.insert(index, speaker)
    speaker.status = "queued"
    _renumber(queue)


def _renumber(queue: list[Speaker]) -> None:
    for n, entry in enumerate(queue, start=1):
        entry.position = n


def _stop_timer(speaker: Speaker, now: datetime) -> None:
    speaker.spoken_seconds = elapsed(speaker, now)
    speaker.timer_started_at = None


async def _publish(
    session: AsyncSession,
    spl: _List,
    changed: list[Speaker],
    *,
    actor: Actor,
    action: str,
    target: str,
    details: Mapping[str, object] | None = None,
) -> SpeakerList:
    """Store the changes, bump the list's version, audit and append the one event."""
    spl.item.speakers_version += 1
    session.add(spl.item)
    session.add_all(changed)
    await session.flush()
    assert spl.conference.id is not None
    delegates = await delegate_ids(session, changed)
    data: SpeakerList = {
        "item": spl.item.public_id,
        "version": spl.item.speakers_version,
        "open": spl.item.speakers_open,
        "speaking": (s.public_id if (s := spl.speaking()) is not None else None),
        "order": [s.public_id for s in spl.queue()],
        "changed": [speaker_data(s, spl.item, spl.agenda.site_codes, delegates) for s in changed],
    }
    await record(session, actor, f"speaker.{action}", "speaker", target, details or {})
    await append_event(session, spl.conference.id, SPEAKERS_UPDATED, data)
    return data


async def request_speaker(
    session: AsyncSession,
    conference: Conference,
    data: SpeakerCreate,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> SpeakerList:
    """Put a person on an item's list (the running item unless one is named).

    A delegate asks for themself, a site operator for their site's delegates; both
    wait for the chair's approval. The chair (or an organizer) may add anyone, also a
    person who is not a delegate, and planned speeches; what they add is queued at once.
    """
    actor.require(*ASKING_ROLES)
    chair = actor.has(*CHAIR_ROLES)
    if data.kind == "registered" and not chair:
        raise Forbidden("only the chair or an organizer plans speeches", field="kind")
    now = now or utcnow()
    spl = await _open_list(session, conference, data.item)
    assert conference.id is not None
    _check_open_to(spl, chair)
    delegate = await _asking_delegate(session, conference, data, actor, chair)
    if delegate is not None:
        if any(s.delegate_id == delegate.id and s.status in ON_LIST for s in spl.speakers):
            raise Conflict("this delegate is already on the item's list", field="delegate")
        site_id: int | None = delegate.site_id
        name, title, unit = delegate.full_name, delegate.title, delegate.unit
    else:
        site_id = await _named_speakers_site(session, conference, data)
        name, title, unit = data.name, data.title, data.unit
    assert spl.item.id is not None
    speaker = Speaker(
        conference_id=conference.id,
        item_id=spl.item.id,
        delegate_id=delegate.id if delegate is not None else None,
        name=name,
        title=title,
        unit=unit,
        site_id=site_id,
        kind=data.kind,
        status="requested",
        topic=data.topic,
        requested_at=now,
        requested_by=actor.name,
    )
    session.add(speaker)
    spl.speakers.append(speaker)
    if chair:
        await _enqueue(session, spl, speaker)
    changed = [speaker] + [s for s in spl.queue() if s is not speaker]
    return await _publish(
        session,
        spl,
        changed,
        actor=actor,
        action="request",
        target=speaker.public_id,
        details={"item": spl.item.public_id, "name": name, "kind": data.kind},
    )


def _check_open_to(spl: _List, chair: bool) -> None:
    """Whether the item's list takes requests from this caller (the chair: always)."""
    if spl.item.id in spl.agenda.children:
        raise InvalidInput("this item holds other items: ask on one of those", field="item")
    if chair:
        return
    if not spl.item.speakers_open:
        raise Conflict("the speaker list of this item is closed", field="item")
    if spl.item.status in ("done", "skipped"):
        raise Conflict(f"this item is {spl.item.status}", field="item")


async def _asking_delegate(
    session: AsyncSession, conference: Conference, data: SpeakerCreate, actor: Actor, chair: bool
) -> Delegate | None:
    """The delegate a request names (or the delegate asking for themself), checked against
    who asks; None where the chair adds a person who is not a delegate."""
    delegate: Delegate | None = None
    if data.delegate is not None:
        delegate = await conference_row(session, Delegate, conference.id, public_id=data.delegate)
        if delegate is None:
            raise NotFound("no such delegate in this conference", field="delegate")
    elif actor.has("delegate") and not chair and actor.delegate_id is not None:
        delegate = await session.get(Delegate, actor.delegate_id)
    if chair:
        return delegate
    if delegate is None:
        raise InvalidInput("name the delegate who asks to speak", field="delegate")
    if actor.has("site_operator"):
        if delegate.site_id != actor.site_id:
            raise NotFound("no such delegate in this conference", field="delegate")
    elif delegate.id != actor.delegate_id:
        raise Forbidden("a delegate asks to speak only for themself", field="delegate")
    return delegate


async def _named_speakers_site(
    session: AsyncSession, conference: Conference, data: SpeakerCreate
) -> int | None:
    """The site of a speaker the chair names who is not a delegate (None: no site)."""
    if not data.name:
        raise InvalidInput("name the speaker (a delegate or a name)", field="name")
    assert conference.id is not None
    site = await named_site(session, conference.id, data.site)
    return site.id if site is not None else None


async def act_on_speaker(
    session: AsyncSession,
    conference: Conference,
    speaker_public_id: str,
    action: SpeakerAction,
    *,
    actor: Actor,
    reason: str = "",
    now: datetime | None = None,
) -> SpeakerList:
    """Approve, reject, withdraw, call, finish, or start/pause the speaker's timer."""
    now = now or utcnow()
    actor.require(*ASKING_ROLES)
    spl, speaker = await _list_of_speaker(session, conference, speaker_public_id)
    _check_may_act(actor, speaker, action)
    changed = await _TRANSITIONS[action](session, spl, speaker, now)
    details = {"item": spl.item.public_id, "reason": reason} if reason else None
    return await _publish(
        session,
        spl,
        _unique(changed),
        actor=actor,
        action=action,
        target=speaker.public_id,
        details=details,
    )


def _check_may_act(actor: Actor, speaker: Speaker, action: SpeakerAction) -> None:
    """The chair and organizers run the list; a site operator or a delegate may only
    withdraw a request of their site, or their own."""
    if actor.has(*CHAIR_ROLES):
        return
    if action != "withdraw":
        raise Forbidden("only the chair or an organizer runs the speaker list")
    if actor.has("site_operator"):
        if speaker.site_id != actor.site_id:
            raise NotFound("no such speaker in this conference", field="speaker")
    elif speaker.delegate_id is None or speaker.delegate_id != actor.delegate_id:
        raise Forbidden("a delegate withdraws only their own request", field="speaker")


# Each action on a speaker: checks the speaker's state, changes it, and returns the
# speakers whose entries changed (the first is the speaker acted on).
Transition = Callable[[AsyncSession, _List, Speaker, datetime], Awaitable[list[Speaker]]]


async def _approve(
    session: AsyncSession, spl: _List, speaker: Speaker, now: datetime
) -> list[Speaker]:
    if speaker.status != "requested":
        raise Conflict(f"this entry is {speaker.status}, not waiting for approval")
    await _enqueue(session, spl, speaker)
    return [speaker, *spl.queue()]


async def _take_off(
    status: str, session: AsyncSession, spl: _List, speaker: Speaker, now: datetime
) -> list[Speaker]:
    if speaker.status not in WAITING:
        raise Conflict(f"this entry is {speaker.status}: only a waiting one is taken off")
    speaker.status = status
    speaker.ended_at = now
    queue = spl.queue()
    _renumber(queue)
    return [speaker, *queue]


async def _call_speaker(
    session: AsyncSession, spl: _List, speaker: Speaker, now: datetime
) -> list[Speaker]:
    if speaker.status != "queued":
        raise Conflict(f"this entry is {speaker.status}: only a queued speaker is called")
    return _call(spl, speaker, now)


async def _finish(
    session: AsyncSession, spl: _List, speaker: Speaker, now: datetime
) -> list[Speaker]:
    if speaker.status != "speaking":
        raise Conflict(f"this entry is {speaker.status}, not speaking")
    _stop_timer(speaker, now)
    speaker.status, speaker.ended_at = "done", now
    return [speaker]


async def _start_timer(
    session: AsyncSession, spl: _List, speaker: Speaker, now: datetime
) -> list[Speaker]:
    if speaker.status != "speaking":
        raise Conflict(f"this entry is {speaker.status}, not speaking")
    if speaker.timer_started_at is not None:
        raise Conflict("the timer is already running")
    speaker.timer_started_at = now
    speaker.timer_generation += 1
    return [speaker]


async def _pause_timer(
    session: AsyncSession, spl: _List, speaker: Speaker, now: datetime
) -> list[Speaker]:
    if speaker.status != "speaking" or speaker.timer_started_at is None:
        raise Conflict("the timer is not running")
    _stop_timer(speaker, now)
    return [speaker]


_TRANSITIONS: dict[str, Transition] = {
    "approve": _approve,
    "reject": partial(_take_off, "rejected"),
    "withdraw": partial(_take_off, "withdrawn"),
    "call": _call_speaker,
    "finish": _finish,
    "start": _start_timer,
    "pause": _pause_timer,
}


def _unique(speakers: list[Speaker]) -> list[Speaker]:
    seen: set[int] = set()
    out = []
    for s in speakers:
        if id(s) not in seen:
            seen.add(id(s))
            out.append(s)
    return out


def _call(spl: _List, speaker: Speaker, now: datetime) -> list[Speaker]:
    """speaker takes the floor (and its timer starts); whoever spoke is done."""
    changed = []
    current = spl.speaking()
    if current is not None:
        _stop_timer(current, now)
        current.status, current.ended_at = "done", now
        changed.append(current)
    speaker.status = "speaking"
    speaker.started_at = now
    speaker.timer_started_at = now
    speaker.timer_generation += 1
    speaker.limit_seconds = speaking_limit(spl.state, spl.item)
    queue = spl.queue()
    _renumber(queue)
    return [speaker, *changed, *queue]


async def call_next(
    session: AsyncSession,
    conference: Conference,
    item_public_id: str | None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> SpeakerList:
    """The first of the queue takes the floor; the one speaking is done."""
    actor.require(*CHAIR_ROLES)
    now = now or utcnow()
    spl = await _open_list(session, conference, item_public_id)
    queue = spl.queue()
    if not queue:
        raise Conflict("nobody is waiting on this item's list", field="item")
    changed = _call(spl, queue[0], now)
    return await _publish(
        session, spl, changed, actor=actor, action="call", target=queue[0].public_id
    )


async def reorder_speakers(
    session: AsyncSession,
    conference: Conference,
    item_public_id: str,
    order: list[str],
    version: int,
    *,
    actor: Actor,
) -> SpeakerList:
    """Set the queue's order; refused as a conflict if made on another version of the list."""
    actor.require(*CHAIR_ROLES)
    spl = await _open_list(session, conference, item_public_id)
    if version != spl.item.speakers_version:
        raise Conflict(
            f"the list changed meanwhile (version {spl.item.speakers_version}, "
            f"not {version}): look again and reorder",
            field="version",
            details={"version": spl.item.speakers_version},
        )
    queue = spl.queue()
    if len(order) != len(set(order)) or set(order) != {s.public_id for s in queue}:
        raise Conflict(
            "the order must name each queued speaker once, and only those",
            field="order",
            details={"version": spl.item.speakers_version},
        )
    by_id = {s.public_id: s for s in queue}
    queue = [by_id[public_id] for public_id in order]
    _renumber(queue)
    return await _publish(
        session,
        spl,
        queue,
        actor=actor,
        action="reorder",
        target=spl.item.public_id,
        details={"order": order},
    )


async def set_speakers_open(
    session: AsyncSession,
    conference: Conference,
    item_public_id: str,
    is_open: bool,
    *,
    actor: Actor,
) -> SpeakerList:
    """Close the list to new requests, or open it again."""
    actor.require(*CHAIR_ROLES)
    spl = await _open_list(session, conference, item_public_id)
    if spl.item.speakers_open == is_open:
        raise Conflict(f"the list is already {'open' if is_open else 'closed'}", field="open")
    spl.item.speakers_open = is_open
    return await _publish(
        session,
        spl,
        [],
        actor=actor,
        action="open" if is_open else "close",
        target=spl.item.public_id,
    )


async def list_speakers(
    session: AsyncSession, conference: Conference, item_public_id: str | None
) -> ItemSpeakers | NoList:
    """An item's list as the live view shows it (the same shape as the event); None:
    the running item's, or an empty answer when nothing runs."""
    assert conference.id is not None
    agenda = await load_agenda(session, conference.id)
    if item_public_id is None:
        state = await agenda_state(session, conference.id, create=False)
        running = agenda.by_id.get(state.current_item_id) if state.current_item_id else None
        if running is None:
            return {"item": None, "speakers": [], "order": []}
        item = running
    else:
        item = agenda.get(item_public_id)
    assert item.id is not None
    speakers = await item_speakers(session, [item.id])
    return lists_data(agenda, {item.id: speakers}, await delegate_ids(session, speakers))[0]


def lists_data(
    agenda: Agenda, by_item: dict[int, list[Speaker]], delegates: dict[int, str]
) -> list[ItemSpeakers]:
    out: list[ItemSpeakers] = []
    for item_id, speakers in by_item.items():
        item = agenda.by_id[item_id]
        speaking = next((s for s in speakers if s.status == "speaking"), None)
        out.append(
            {
                "item": item.public_id,
                "version": item.speakers_version,
                "open": item.speakers_open,
                "speaking": speaking.public_id if speaking is not None else None,
                "order": [s.public_id for s in queue_of(speakers)],
                "speakers": [speaker_data(s, item, agenda.site_codes, delegates) for s in speakers],
            }
        )
    return out


async def speaking_stats(
    session: AsyncSession, conference: Conference, *, now: datetime | None = None
) -> SpeakingStats:
    """How often and how long each site and each person has spoken."""
    assert conference.id is not None
    now = now or utcnow()
    rows = list(
        await session.exec(
            select(Speaker).where(
                col(Speaker.conference_id) == conference.id,
                col(Speaker.status).in_(("speaking", "done")),
            )
        )
    )
    codes = await site_codes(session, conference.id)
    delegates = await delegate_ids(session, rows)
    sites: dict[str, SiteSpoken] = {}
    people: dict[tuple[str | None, str], PersonSpoken] = {}
    for s in rows:
        seconds = elapsed(s, now)
        code = codes.get(s.site_id) if s.site_id else None
        site = sites.setdefault(code or "", {"site": code, "count": 0, "seconds": 0.0})
        site["count"] += 1
        site["seconds"] += seconds
        delegate = delegates.get(s.delegate_id) if s.delegate_id else None
        person = people.setdefault(
            (delegate, s.name),
            {"delegate": delegate, "name": s.name, "site": code, "count": 0, "seconds": 0.0},
        )
        person["count"] += 1
        person["seconds"] += seconds
    for site in sites.values():
        site["seconds"] = round(site["seconds"], 1)
    for person in people.values():
        person["seconds"] = round(person["seconds"], 1)
    return {
        "sites": sorted(sites.values(), key=lambda e: (-e["seconds"], e["site"] or "")),
        "people": sorted(people.values(), key=lambda e: (-e["seconds"], e["name"])),
    }
