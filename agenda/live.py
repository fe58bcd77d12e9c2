"""Moving through the agenda: start, end, skip and go back, as the chair does.

The chair moves through the *steps* of the agenda: the items with no items inside
them, in reading order. A session (an item holding others) runs while one of its
items runs and is done when all of them are done or skipped. Exactly one step runs
at a time; starting one ends the one running. Each move is one transaction, one
audit entry and one ``agenda/live`` event carrying every item it changed:

    {"action": "start" | "end" | "skip" | "back", "current": <item id or null>,
     "items": [<item>, ...], "at": <time>}
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.ceremony import ceremony_snapshot
from agenda.events import AGENDA_LIVE, Ceremony
from agenda.models import AgendaItem
from agenda.state import Agenda, agenda_state, iso, load_agenda
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, InvalidInput
from conference.live import append_event, lock_conference
from conference.models import Conference
from conference.rawjson import JsonObject

LIVE_ROLES = ("chair", "organizer")
Action = Literal["start", "end", "skip", "back"]
FINISHED = ("done", "skipped")


class Moved(TypedDict):
    """The ``agenda/live`` event's data (agenda.events.AgendaMove): items are AgendaItemOut's
    JSON, every item whose state changed."""

    action: str
    current: str | None
    items: list[JsonObject]
    at: str
    ceremony: Ceremony


class _Changes:
    def __init__(self) -> None:
        self.items: dict[int, AgendaItem] = {}

    def note(self, item: AgendaItem) -> None:
        assert item.id is not None
        self.items[item.id] = item


def _next_planned(agenda: Agenda) -> AgendaItem | None:
    return next((step for step in agenda.steps() if step.status == "planned"), None)


def _step(agenda: Agenda, public_id: str) -> AgendaItem:
    item = agenda.get(public_id)
    if item.id in agenda.children:
        raise InvalidInput(
            "this item holds other items: start, skip or go back to one of those", field="item"
        )
    return item


def _target(agenda: Agenda, item: str | None, none_left: str) -> AgendaItem:
    """The item named, else the next planned one; Conflict saying none_left if there is none."""
    target = _step(agenda, item) if item else _next_planned(agenda)
    if target is None:
        raise Conflict(none_left, field="item")
    return target


def _run(item: AgendaItem, now: datetime, changes: _Changes) -> None:
    item.status = "running"
    item.started_at = item.started_at or now
    item.ended_at = None
    changes.note(item)


def _finish(item: AgendaItem, status: str, now: datetime, changes: _Changes) -> None:
    item.status = status
    item.ended_at = now
    changes.note(item)


def _settle_parents(agenda: Agenda, now: datetime, changes: _Changes) -> None:
    """A session runs while it is under way and is finished when all its items are."""
    for parent in reversed(agenda.in_order()):
        kids = agenda.children.get(parent.id)
        if not kids:
            continue
        statuses = {kid.status for kid in kids}
        finished = statuses & set(FINISHED)
        if "running" in statuses or (finished and "planned" in statuses):
            wanted = "running"
        elif statuses <= set(FINISHED):
            wanted = "skipped" if statuses == {"skipped"} else "done"
        else:
            wanted = "planned"
        if wanted == parent.status:
            continue
        if wanted == "running":
            _run(parent, now, changes)
        elif wanted == "planned":
            parent.status, parent.started_at, parent.ended_at = "planned", None, None
            changes.note(parent)
        else:
            _finish(parent, wanted, now, changes)


async def move_agenda(
    session: AsyncSession,
    conference: Conference,
    action: Action,
    *,
    item: str | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> Moved:
    """Start, end, skip or go back; returns the ``agenda/live`` event's data."""
    actor.require(*LIVE_ROLES)
    assert conference.id is not None
    await lock_conference(session, conference.id)
    now = now or utcnow()
    state = await agenda_state(session, conference.id)
    agenda = await load_agenda(session, conference.id)
    current = agenda.by_id.get(state.current_item_id) if state.current_item_id else None
    if current is not None and current.status != "running":
        current = None
    changes = _Changes()
    current = _MOVES[action](agenda, current, item, now, changes)
    _settle_parents(agenda, now, changes)
    state.current_item_id = current.id if current is not None else None
    state.updated_at = now
    session.add(state)
    session.add_all(changes.items.values())
    await session.flush()
    data: Moved = {
        "action": action,
        "current": current.public_id if current is not None else None,
        "items": [agenda.data(i) for i in agenda.in_order() if i.id in changes.items],
        "at": iso(now),
        # The awards ceremony as the move leaves it (started, ended, or none running).
        "ceremony": await ceremony_snapshot(session, conference.id),
    }
    target_id = current.public_id if current is not None else (item or "")
    await record(session, actor, f"agenda.{action}", "agenda_item", target_id, {"item": item})
    await append_event(session, conference.id, AGENDA_LIVE, data)
    return data


# Each move of the agenda: from the running item (or None), the item named (or None),
# notes what changed and returns the item running afterwards (or None).
Move = Callable[[Agenda, AgendaItem | None, str | None, datetime, _Changes], AgendaItem | None]


def _start(
    agenda: Agenda, current: AgendaItem | None, item: str | None, now: datetime, changes: _Changes
) -> AgendaItem | None:
    target = _target(agenda, item, "every item has been taken: there is none left to start")
    if target is current:
        raise Conflict("this item is already running", field="item")
    if current is not None:
        _finish(current, "done", now, changes)
    _run(target, now, changes)
    return target


def _end(
    agenda: Agenda, current: AgendaItem | None, item: str | None, now: datetime, changes: _Changes
) -> AgendaItem | None:
    if current is None:
        raise Conflict("no item is running", field="item")
    _finish(current, "done", now, changes)
    return None


def _skip(
    agenda: Agenda, current: AgendaItem | None, item: str | None, now: datetime, changes: _Changes
) -> AgendaItem | None:
    target = _target(agenda, item, "there is no planned item to skip")
    if target.status not in ("planned", "running"):
        raise Conflict(f"this item is {target.status}: only a planned item is skipped")
    _finish(target, "skipped", now, changes)
    return None if target is current else current


def _back(
    agenda: Agenda, current: AgendaItem | None, item: str | None, now: datetime, changes: _Changes
) -> AgendaItem | None:
    steps = agenda.steps()
    if current is not None:
        before = steps[: steps.index(current)]
    else:
        nxt = _next_planned(agenda)
        before = steps[: steps.index(nxt)] if nxt is not None else steps
    previous = next((s for s in reversed(before) if s.status in FINISHED), None)
    if previous is None:
        raise Conflict("there is no earlier item to go back to", field="item")
    if current is not None:
        # Undo its start: it is planned again.
        current.status, current.started_at, current.ended_at = "planned", None, None
        changes.note(current)
    _run(previous, now, changes)
    return previous


_MOVES: dict[str, Move] = {"start": _start, "end": _end, "skip": _skip, "back": _back}
