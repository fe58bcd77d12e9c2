"""The append-only audit log: who changed what, when, from which site."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.access import note_action
from conference.actors import Actor
from conference.bulk import insert_rows
from conference.dbtypes import utcnow
from conference.models import AuditEntry


def jsonable(value: Any) -> Any:
    """Dates become ISO strings so that changes fit a JSON column."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed (each field's own type)."""
    return {
        key: [jsonable(before.get(key)), jsonable(after[key])]
        for key in after
        if before.get(key) != after[key]
    }


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str = "",
    changes: Mapping[str, object] | None = None,
    *,
    conference_id: int | None = None,
) -> AuditEntry:
    """Append one audit entry in the caller's transaction."""
    note_action(session, action)
    principal = actor.principal
    entry = AuditEntry(
        conference_id=conference_id if conference_id is not None else actor.conference_id,
        actor_account_id=principal.account_id,
        actor_name=principal.name,
        actor_role=actor.role,
        actor_site_code=actor.site_code,
        via=principal.kind,
        ip=principal.ip,
        action=action,
        target_type=target_type,
        target_id=target_id,
        changes=jsonable(dict(changes or {})),
    )
    session.add(entry)
    return entry


async def record_many(
    session: AsyncSession,
    actor: Actor,
    items: Sequence[tuple[str, str, str, Mapping[str, object]]],
) -> None:
    """Append several entries (action, target type, target id, changes) in one statement."""
    if not items:
        return
    for action, *_ in items:
        note_action(session, action)
    principal, at = actor.principal, utcnow()
    # Plain rows: a table model per entry costs more than the insert.
    rows = [
        {
            "conference_id": actor.conference_id,
            "at": at,
            "actor_account_id": principal.account_id,
            "actor_name": principal.name,
            "actor_role": actor.role,
            "actor_site_code": actor.site_code,
            "via": principal.kind,
            "ip": principal.ip,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "changes": jsonable(dict(changes)),
        }
        for action, target_type, target_id, changes in items
    ]
    await insert_rows(session, AuditEntry, rows)


async def list_entries(
    session: AsyncSession, conference_id: int, *, limit: int = 200, before_id: int | None = None
) -> list[AuditEntry]:
    """Newest first, paged by id."""
    query = select(AuditEntry).where(AuditEntry.conference_id == conference_id)
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    query = query.order_by(col(AuditEntry.id).desc()).limit(limit)
    return list(await session.exec(query))
