"""Reading the check-in ledger, undoing an admission, resolving offline conflicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance.events import (
    CHECKED_IN,
    CHECKIN_CONFLICT_RESOLVED,
    CHECKIN_UNDONE,
    SiteCount,
)
from attendance.models import CheckIn, Delegate
from attendance.scans import checked_in_at, delegate_card, expected_at, server_nonce
from conference.actors import Actor
from conference.audit import record
from conference.catalogue import EventType
from conference.errors import Conflict, NotFound
from conference.live import append_events, lock_conference
from conference.models import Conference, Site
from conference.queries import conference_row
from conference.text import is_public_id


@dataclass
class LedgerRow:
    row: CheckIn
    delegate: Delegate
    site: Site
    home: Site

    def data(self) -> dict[str, object]:
        """The row as its API lists it: the fields of schemas_checkin.LedgerItem, in
        plain JSON types (times ISO 8601; the delegate as delegate_card gives it)."""
        return {
            "id": self.row.public_id,
            "delegate": delegate_card(self.delegate, self.home.code),
            "site": self.site.code,
            "at": self.row.happened_at.isoformat(),
            "recorded_at": self.row.recorded_at.isoformat(),
            "action": self.row.action,
            "method": self.row.method,
            "outcome": self.row.outcome,
            "offline": self.row.offline,
            "by": self.row.actor_name,
            "note": self.row.note,
        }


async def _sites(session: AsyncSession, conference_id: int) -> dict[int, Site]:
    rows = await session.exec(select(Site).where(col(Site.conference_id) == conference_id))
    return {s.id: s for s in rows if s.id is not None}


async def list_checkins(
    session: AsyncSession,
    conference: Conference,
    *,
    actor: Actor,
    site: Site | None = None,
    outcome: str | None = None,
    limit: int = 50,
) -> list[LedgerRow]:
    """Newest ledger rows first; an operator sees those at their site or of their delegates."""
    actor.require("organizer", "chair", "secretary", "site_operator")
    assert conference.id is not None
    query = (
        select(CheckIn, Delegate)
        .join(Delegate, col(Delegate.id) == col(CheckIn.delegate_id))
        .where(col(CheckIn.conference_id) == conference.id)
    )
    if not actor.sees_all_sites:
        query = query.where(
            (col(CheckIn.site_id) == actor.site_id) | (col(Delegate.site_id) == actor.site_id)
        )
    if site is not None:
        query = query.where(col(CheckIn.site_id) == site.id)
    if outcome is not None:
        query = query.where(col(CheckIn.outcome) == outcome)
    rows = list(await session.exec(query.order_by(col(CheckIn.id).desc()).limit(limit)))
    sites = await _sites(session, conference.id)
    return [LedgerRow(row, d, sites[row.site_id], sites[d.site_id]) for row, d in rows]


async def visible_delegate(
    session: AsyncSession, conference: Conference, public_id: str, actor: Actor
) -> Delegate:
    """A delegate the actor may act on: an operator only their site's, or one admitted there."""
    missing = NotFound("no such delegate in this conference", field="delegate")
    if not is_public_id(public_id):
        raise missing
    delegate = await conference_row(session, Delegate, conference.id, public_id=public_id)
    if delegate is None:
        raise missing
    if not actor.sees_all_sites and actor.site_id not in (
        delegate.site_id,
        delegate.checkin_site_id,
    ):
        raise missing
    return delegate


async def undo_checkin(
    session: AsyncSession, conference: Conference, delegate_id: str, reason: str, *, actor: Actor
) -> tuple[Delegate, Site, SiteCount]:
    """Take back an admission (a wrong person scanned); the ledger keeps both rows."""
    actor.require("organizer", "site_operator")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    delegate = await visible_delegate(session, conference, delegate_id, actor)
    site_id = delegate.checkin_site_id
    if site_id is None:
        raise Conflict(f"{delegate.full_name} is not checked in", field="delegate")
    if not actor.has("organizer") and site_id != actor.site_id:
        # An operator may undo only what happened at their own site.
        raise NotFound("no such check-in at your site", field="delegate")
    # Only the admission read above: if it moved meanwhile, nothing is undone.
    undone = (
        await session.exec(
            update(Delegate)
            .where(col(Delegate.id) == delegate.id)
            .where(col(Delegate.checkin_site_id) == site_id)
            .values(checked_in_at=None, checkin_site_id=None)
            .returning(col(Delegate.id))
            .execution_options(synchronize_session=False)
        )
    ).first()
    if undone is None:
        raise Conflict(f"{delegate.full_name}'s check-in changed meanwhile", field="delegate")
    sites = await _sites(session, conference.id)
    site, home = sites[site_id], sites[delegate.site_id]
    admission = (
        await session.exec(
            select(CheckIn.id)
            .where(col(CheckIn.delegate_id) == delegate.id, col(CheckIn.outcome) == "ok")
            .where(col(CheckIn.action) == "checkin")
            .order_by(col(CheckIn.id).desc())
            .limit(1)
        )
    ).first()
    session.add(
        CheckIn(
            conference_id=conference.id,
            delegate_id=delegate.id or 0,
            site_id=site_id,
            nonce=server_nonce(),
            action="undo",
            method="manual",
            ref_id=admission,
            actor_name=actor.name,
            actor_role=actor.role,
            actor_account_id=actor.principal.account_id,
            note=reason,
        )
    )
    delegate.checked_in_at = None
    delegate.checkin_site_id = None
    present: SiteCount = {
        "site": site.code,
        "checked_in": await checked_in_at(session, site_id),
        "expected": await expected_at(session, site),
    }
    await record(
        session,
        actor,
        "checkin.undo",
        "delegate",
        delegate.public_id,
        {"site": site.code, "reason": reason},
    )
    # attendance.events.AdmissionUndone, whose delegate is the API's DelegateCard model.
    data = {
        "delegate": delegate_card(delegate, home.code),
        "site": home.code,
        "at_site": site.code,
        "present": present,
    }
    await append_events(session, conference.id, [(CHECKIN_UNDONE, data)])
    return delegate, site, present


async def open_conflicts(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> list[LedgerRow]:
    """Offline admissions of someone already admitted elsewhere, not yet resolved."""
    actor.require("organizer", "chair")
    rows = await list_checkins(session, conference, actor=actor, outcome="conflict", limit=10_000)
    resolved = set(
        await session.exec(
            select(CheckIn.ref_id).where(
                col(CheckIn.conference_id) == conference.id, col(CheckIn.action) == "resolve"
            )
        )
    )
    return [r for r in rows if r.row.id not in resolved]


async def _move_admission(
    session: AsyncSession, conference_id: int, found: LedgerRow
) -> list[tuple[EventType, Mapping[str, Any]]]:
    """Admit the delegate where the conflicting scan was (undoing the first site's
    admission); the events that say so."""
    delegate, row = found.delegate, found.row
    events: list[tuple[EventType, Mapping[str, Any]]] = []
    sites = await _sites(session, conference_id)
    before = sites.get(delegate.checkin_site_id or 0)
    await session.exec(
        update(Delegate)
        .where(col(Delegate.id) == delegate.id)
        .values(checked_in_at=row.happened_at, checkin_site_id=row.site_id)
        .execution_options(synchronize_session=False)
    )
    delegate.checked_in_at, delegate.checkin_site_id = row.happened_at, row.site_id
    card = delegate_card(delegate, found.home.code)
    if before is not None:
        events.append(
            (
                CHECKIN_UNDONE,
                {
                    "delegate": card,
                    "site": found.home.code,
                    "at_site": before.code,
                    "present": {
                        "site": before.code,
                        "checked_in": await checked_in_at(session, before.id or 0),
                    },
                },
            )
        )
    events.append(
        (
            CHECKED_IN,
            {
                "delegate": card,
                "site": found.home.code,
                "at_site": found.site.code,
                "at": _iso(row.happened_at),
                "method": row.method,
                "offline": True,
                "present": {
                    "site": found.site.code,
                    "checked_in": await checked_in_at(session, row.site_id),
                },
            },
        )
    )
    return events


async def resolve_conflict(
    session: AsyncSession,
    conference: Conference,
    checkin_id: str,
    keep: str,
    note: str,
    *,
    actor: Actor,
) -> LedgerRow:
    """Settle a conflict: keep the admission as it is, or move it to the conflicting site."""
    actor.require("organizer")
    assert conference.id is not None
    # Two organizers resolving at once: the second sees it resolved (not found).
    await lock_conference(session, conference.id)
    conflicts = {r.row.public_id: r for r in await open_conflicts(session, conference, actor=actor)}
    found = conflicts.get(checkin_id)
    if found is None:
        raise NotFound("no open conflict with this id", field="checkin")
    delegate, row = found.delegate, found.row
    events = await _move_admission(session, conference.id, found) if keep == "conflicting" else []
    session.add(
        CheckIn(
            conference_id=conference.id,
            delegate_id=delegate.id or 0,
            site_id=row.site_id,
            nonce=server_nonce(),
            action="resolve",
            method="manual",
            ref_id=row.id,
            actor_name=actor.name,
            actor_role=actor.role,
            actor_account_id=actor.principal.account_id,
            note=f"kept the {keep} admission. {note}".strip(),
        )
    )
    await record(
        session,
        actor,
        "checkin.resolve",
        "delegate",
        delegate.public_id,
        {"conflict": checkin_id, "keep": keep, "note": note},
    )
    events.append((CHECKIN_CONFLICT_RESOLVED, {"id": checkin_id, "site": found.home.code}))
    await append_events(session, conference.id, events)
    return found


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
