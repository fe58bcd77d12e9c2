"""Importing the recipients of one decision from a checked file, in one transaction."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from awards.events import AWARDS_IMPORTED
from awards.importing import check_recipients, recipient_key
from awards.models import Award, Decision
from awards.services import new_award
from conference.actors import Actor
from conference.audit import record
from conference.errors import NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference
from conference.services import list_sites
from conference.tables import Table, TableReport, import_gate


async def import_awards(
    session: AsyncSession,
    conference: Conference,
    decision: Decision,
    table: Table,
    *,
    actor: Actor,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> TableReport:
    """Check a read file's recipients and, unless dry_run, append the valid ones after the
    decision's awards, in file order.

    A file with a bad row imports nothing (InvalidInput with the report in details)
    unless skip_invalid.
    """
    actor.require("organizer")
    assert conference.id is not None and decision.id is not None
    if decision.conference_id != conference.id:
        raise NotFound("no such decision in this conference", field="decision")
    if not dry_run:
        # The recipients so far and the positions are read under the conference's lock.
        await lock_conference(session, conference.id)
    sites = await list_sites(session, conference, actor=actor)
    existing = await session.exec(
        select(Award.recipient_kind, Award.recipient_name).where(
            col(Award.decision_id) == decision.id, col(Award.revoked_at).is_(None)
        )
    )
    known = {recipient_key(kind, name) for kind, name in existing}
    checked = check_recipients(table, [(s.code, s.name) for s in sites], known)
    report, write = import_gate(checked.report, dry_run=dry_run, skip_invalid=skip_invalid)
    if not write:
        return report
    count = len(checked.awards)
    if not count:
        return report
    highest = await session.exec(
        select(func.max(Award.position)).where(col(Award.decision_id) == decision.id)
    )
    first = (highest.one() or 0) + 1
    site_ids = {s.code: s.id for s in sites}
    awards = [
        new_award(
            decision.id,
            data,
            site_id=site_ids[data.site] if data.site is not None else None,
            position=first + n,
        )
        for n, data in enumerate(checked.awards)
    ]
    session.add_all(awards)
    await session.flush()
    await record(
        session,
        actor,
        "award.import",
        "decision",
        decision.public_id,
        {
            "decision": decision.number,
            "format": report.format,
            "rows": report.rows,
            "imported": count,
            "skipped": report.invalid,
            "positions": [first, first + count - 1],
        },
    )
    await append_event(
        session,
        conference.id,
        AWARDS_IMPORTED,
        {"decision": decision.public_id, "count": count, "positions": [first, first + count - 1]},
    )
    return report.model_copy(update={"imported": count})
